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
