// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
//
// A table moved out of a field before the field gets a new one: a walk of the
// old table whose callback (or loop body) inserts into the field changes the
// new table, not the walked one (an independent tester's rebuild pattern).
// The field stored after the walk, or before the local took it, keeps them
// one table.

#include "reentrant-glib.h"

typedef struct { GHashTable *table; } Registry;

/* Keyed by value in the new table (storing under the walked key itself would
 * only replace a value: tsmap-reentrant-callback-own-key.c). */
static void move_one(gpointer key, gpointer value, gpointer user_data) {
  Registry *r = user_data;
  g_hash_table_insert(r->table, value, key);
}

// Quiet: `old` no longer is `r->table` when the walk runs.
void rebuild(Registry *r) {
  GHashTable *old = r->table;
  r->table = g_hash_table_new(0, 0);
  g_hash_table_foreach(old, move_one, r);
}

void rebuild_loop(Registry *r) {
  GHashTable *old = r->table;
  r->table = g_hash_table_new(0, 0);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, old);
  while (g_hash_table_iter_next(&it, &k, &v))
    g_hash_table_insert(r->table, v, k); /* a key of its own: it may add one */
}

// Reported: the field is stored only after the walk.
void rebuild_late(Registry *r) {
  GHashTable *old = r->table;
  g_hash_table_foreach(old, move_one, r);
  // CHECK-MESSAGES: :[[@LINE-1]]:29: warning: callback 'move_one' passed to 'g_hash_table_foreach' re-enters the same map
  r->table = g_hash_table_new(0, 0);
}

void rebuild_loop_late(Registry *r) {
  GHashTable *old = r->table;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, old);
  while (g_hash_table_iter_next(&it, &k, &v))
    g_hash_table_insert(r->table, v, k);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_insert' changes 'r->table' while a loop iterates it
  r->table = g_hash_table_new(0, 0);
}

// Reported: another field was stored, not the one `old` came from.
typedef struct { GHashTable *table; GHashTable *spare; } Pair;
static void move_pair(gpointer key, gpointer value, gpointer user_data) {
  Pair *p = user_data;
  g_hash_table_insert(p->table, value, key);
}
void rebuild_other_field(Pair *p) {
  GHashTable *old = p->table;
  p->spare = g_hash_table_new(0, 0);
  g_hash_table_foreach(old, move_pair, p);
  // CHECK-MESSAGES: :[[@LINE-1]]:29: warning: callback 'move_pair' passed to 'g_hash_table_foreach' re-enters the same map
}

// ---- a global swapped out before the walk (goffice's pending_plot_types_load,
// bench/realworld R26): `tmp = pending; pending = NULL;` and then a walk of
// `tmp` whose callback reaches the same function again, which sees only what
// `pending` holds by then. The walked table is no longer the global's. Without
// the store, or with it after the walk, `tmp` is the global: reported.

void g_hash_table_destroy(GHashTable *hash_table);
static GHashTable *pending;
static GHashTable *pending_late;
static GHashTable *pending_kept;
static void load_pending(void);
static void load_pending_late(void);
static void load_pending_kept(void);
static void cb_load(gpointer path, gpointer value, gpointer user_data) { load_pending(); }
static void cb_load_late(gpointer path, gpointer value, gpointer user_data) { load_pending_late(); }
static void cb_load_kept(gpointer path, gpointer value, gpointer user_data) { load_pending_kept(); }

static void load_pending(void) {
  if (pending != 0) {
    GHashTable *tmp = pending;
    pending = 0;
    g_hash_table_foreach(tmp, cb_load, 0); /* quiet */
    g_hash_table_destroy(tmp);
  }
}
static void load_pending_late(void) {
  if (pending_late != 0) {
    GHashTable *tmp = pending_late;
    g_hash_table_foreach(tmp, cb_load_late, 0);
    // CHECK-MESSAGES: :[[@LINE-1]]:31: warning: callback 'cb_load_late' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_destroy' on 'tmp'
    pending_late = 0;
    g_hash_table_destroy(tmp);
  }
}
static void load_pending_kept(void) {
  if (pending_kept != 0) {
    GHashTable *tmp = pending_kept;
    g_hash_table_foreach(tmp, cb_load_kept, 0);
    // CHECK-MESSAGES: :[[@LINE-1]]:31: warning: callback 'cb_load_kept' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_destroy' on 'tmp'
    g_hash_table_destroy(tmp);
    pending_kept = 0;
  }
}
void load_all(void) { load_pending(); load_pending_late(); load_pending_kept(); }

// The loop form: a global table rebuilt while the old one is walked.
static GHashTable *registry_table;
void rebuild_global_loop(void) {
  GHashTable *old = registry_table;
  GHashTableIter it;
  gpointer k, v;
  registry_table = g_hash_table_new(0, 0);
  g_hash_table_iter_init(&it, old);
  while (g_hash_table_iter_next(&it, &k, &v))
    g_hash_table_insert(registry_table, v, k); /* quiet: the new table */
}
void rebuild_global_loop_late(void) {
  GHashTable *old = registry_table;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, old);
  while (g_hash_table_iter_next(&it, &k, &v))
    g_hash_table_insert(registry_table, v, k);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_insert' changes 'registry_table' while a loop iterates it
  registry_table = g_hash_table_new(0, 0);
}
