// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffix=STRICT %s tsmap-reentrant-callback %t -- \
// RUN:   -config='{CheckOptions: {tsmap-reentrant-callback.StrictMapIdentity: true}}' -- -I%S/Inputs
//
// A callee that swaps a table out of a field of its parameter (`old =
// r->table; r->table = g_hash_table_new (...)`): `old` is the table the field
// held when the callee was called, the one a caller walking `r->table` walks,
// so destroying it is a re-entry of that very map (also under
// StrictMapIdentity); `r->table` after the swap is the new table, which no
// caller walks. A store of the new table that may not have run (under an
// `if`, after the use in a loop), another object's table, and a walk of the
// old table after the walker's own swap keep them apart.

#include "reentrant-glib.h"

void g_hash_table_destroy(GHashTable *hash_table);
void g_hash_table_unref(GHashTable *hash_table);

typedef struct { GHashTable *table; int full; } Registry;

static void reset(Registry *r) {
  GHashTable *old = r->table;
  r->table = g_hash_table_new(0, 0);
  g_hash_table_destroy(old);
}

static void reset_unref(Registry *r) {
  GHashTable *old = r->table;
  r->table = g_hash_table_new(0, 0);
  g_hash_table_unref(old);
}

static void cb_reset(gpointer key, gpointer value, gpointer user_data) { reset(user_data); }
static void cb_reset_unref(gpointer key, gpointer value, gpointer user_data) {
  reset_unref(user_data);
}

// Reported: the callee destroys the walked table.
void walk_reset(Registry *r) {
  g_hash_table_foreach(r->table, cb_reset, r);
  // CHECK-MESSAGES: :[[@LINE-1]]:34: warning: callback 'cb_reset' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_destroy' on 'r->table'
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:34: warning: callback 'cb_reset' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_destroy' on 'r->table'
}

void walk_reset_unref(Registry *r) {
  g_hash_table_foreach(r->table, cb_reset_unref, r);
  // CHECK-MESSAGES: :[[@LINE-1]]:34: warning: callback 'cb_reset_unref' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_unref' on 'r->table'
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:34: warning: callback 'cb_reset_unref' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_unref' on 'r->table'
}

void loop_reset(Registry *r) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, r->table);
  while (g_hash_table_iter_next(&it, &k, &v))
    reset(r);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'reset' changes 'r->table' while a loop iterates it with 'g_hash_table_iter_next'
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:5: warning: call to 'reset' changes 'r->table' while a loop iterates it with 'g_hash_table_iter_next'
}

// Quiet: the insert goes into the table the callee just made.
static void refill(Registry *r, gpointer k) {
  r->table = g_hash_table_new(0, 0);
  g_hash_table_insert(r->table, k, k);
}
static void cb_refill(gpointer key, gpointer value, gpointer user_data) {
  refill(user_data, value);
}
void walk_refill(Registry *r) { g_hash_table_foreach(r->table, cb_refill, r); }

void loop_refill(Registry *r) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, r->table);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    r->table = g_hash_table_new(0, 0);
    g_hash_table_insert(r->table, v, k);
  }
}

// Reported: the table made before the loop is the walked one.
void loop_new_table(Registry *r) {
  GHashTableIter it;
  gpointer k, v;
  r->table = g_hash_table_new(0, 0);
  g_hash_table_iter_init(&it, r->table);
  while (g_hash_table_iter_next(&it, &k, &v))
    g_hash_table_insert(r->table, v, k);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_insert' changes 'r->table' while a loop iterates it
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:5: warning: 'g_hash_table_insert' changes 'r->table' while a loop iterates it
}

// Reported: the new table may not have been made.
static void maybe_refill(Registry *r, gpointer k) {
  if (r->full)
    r->table = g_hash_table_new(0, 0);
  g_hash_table_insert(r->table, k, k);
}
static void cb_maybe_refill(gpointer key, gpointer value, gpointer user_data) {
  maybe_refill(user_data, value);
}
void walk_maybe_refill(Registry *r) {
  g_hash_table_foreach(r->table, cb_maybe_refill, r);
  // CHECK-MESSAGES: :[[@LINE-1]]:34: warning: callback 'cb_maybe_refill' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_insert' on 'r->table'
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:34: warning: callback 'cb_maybe_refill' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_insert' on 'r->table'
}

// Reported: the first round inserts before the loop makes a new table.
static void refill_late(Registry *r, gpointer k) {
  for (int i = 0; i < 2; i++) {
    g_hash_table_insert(r->table, k, k);
    r->table = g_hash_table_new(0, 0);
  }
}
static void cb_refill_late(gpointer key, gpointer value, gpointer user_data) {
  refill_late(user_data, value);
}
void walk_refill_late(Registry *r) {
  g_hash_table_foreach(r->table, cb_refill_late, r);
  // CHECK-MESSAGES: :[[@LINE-1]]:34: warning: callback 'cb_refill_late' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_insert' on 'r->table'
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:34: warning: callback 'cb_refill_late' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_insert' on 'r->table'
}

// Quiet: another registry's table (the visited value's).
static void cb_reset_value(gpointer key, gpointer value, gpointer user_data) {
  Registry *other = value;
  reset(other);
}
void walk_reset_value(Registry *r) {
  g_hash_table_foreach(r->table, cb_reset_value, r);
  // CHECK-MESSAGES-STRICT: :[[@LINE-1]]:34: warning: callback 'cb_reset_value' passed to 'g_hash_table_foreach' may re-enter the same map
}

// Quiet: the walker swapped the table out first; the callee's swap destroys
// the table the walker put in, not the walked one.
void walk_old(Registry *r) {
  GHashTable *old = r->table;
  r->table = g_hash_table_new(0, 0);
  g_hash_table_foreach(old, cb_reset, r);
  g_hash_table_destroy(old);
}

// Quiet: the swap runs after the walk returned.
static void cb_count(gpointer key, gpointer value, gpointer user_data) {
  ((Registry *)user_data)->full++;
}
void walk_then_reset(Registry *r) {
  g_hash_table_foreach(r->table, cb_count, r);
  reset(r);
}
