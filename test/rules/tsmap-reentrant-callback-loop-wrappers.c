// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
//
// A function that walks a table with a GHashTableIter loop and calls its own
// function-pointer parameter once per entry (gnumeric's
// cell_foreach_range_dep, bench/realworld R31) runs the callback
// mid-iteration, as a wrapper of g_hash_table_foreach does: a caller's
// callback that changes the walked table is reported at the caller, with a
// note at the wrapper's call. The map is the loop's, in the caller's terms;
// the context is what the wrapper's call passes for the callback's context
// parameter. A callback that changes another table, a call outside the loop,
// or a parameter the wrapper reassigns is not read so.

#include "reentrant-glib.h"

typedef struct { GHashTable *bucket; GHashTable *other; } Deps;
typedef void (*DepFunc)(gpointer dep, gpointer user);

static void walk_bucket(Deps *d, DepFunc func, gpointer user) {
  GHashTableIter it;
  gpointer k;
  g_hash_table_iter_init(&it, d->bucket);
  while (g_hash_table_iter_next(&it, &k, 0))
    func(k, user);
}
static void walk_twice(Deps *d, DepFunc fn, gpointer user) { walk_bucket(d, fn, user); }
static void call_once(Deps *d, DepFunc func, gpointer user) {
  GHashTableIter it;
  gpointer k = 0;
  g_hash_table_iter_init(&it, d->bucket);
  while (g_hash_table_iter_next(&it, &k, 0))
    ;
  func(k, user); // after the loop
}
static void walk_reassigned(Deps *d, DepFunc func, gpointer user, DepFunc other) {
  GHashTableIter it;
  gpointer k;
  func = other;
  g_hash_table_iter_init(&it, d->bucket);
  while (g_hash_table_iter_next(&it, &k, 0))
    func(k, user);
}

static void cb_drop(gpointer dep, gpointer user) {
  Deps *d = user;
  g_hash_table_remove(d->bucket, dep);
}
static void cb_drop_other(gpointer dep, gpointer user) {
  Deps *d = user;
  g_hash_table_remove(d->other, dep);
}
static void cb_read(gpointer dep, gpointer user) {
  Deps *d = user;
  (void)g_hash_table_lookup(d->bucket, dep);
}

void drop_all(Deps *d) {
  walk_bucket(d, cb_drop, d);
  // CHECK-MESSAGES: :[[@LINE-1]]:18: warning: callback 'cb_drop' passed to 'walk_bucket' re-enters the same map: it calls 'g_hash_table_remove' on 'd->bucket' while 'g_hash_table_iter_next' runs it with the map locked or mid-iteration [tsmap-reentrant-callback]
  // CHECK-MESSAGES: :23:5: note: 'walk_bucket' calls 'func' here, for each entry of a loop with 'g_hash_table_iter_next'
  // CHECK-MESSAGES: :[[@LINE-3]]:27: note: the map reaches 'cb_drop' through its parameter 'user' here, as 'user->bucket'
  // CHECK-MESSAGES: :45:3: note: 'cb_drop' calls 'g_hash_table_remove' here
  // CHECK-MESSAGES: :21:3: note: 'walk_bucket' iterates the map with this iterator while it calls 'func'; collect what to change and change the map after the call
  walk_twice(d, cb_drop, d);
  // CHECK-MESSAGES: :[[@LINE-1]]:17: warning: callback 'cb_drop' passed to 'walk_twice' re-enters the same map
  // CHECK-MESSAGES: :25:62: note: 'walk_twice' passes 'fn' to 'walk_bucket' here
  // CHECK-MESSAGES: :23:5: note: 'walk_bucket' calls 'func' here, for each entry of a loop with 'g_hash_table_iter_next'
}

// Quiet: another table, a reader, another object, a call after the loop, a
// parameter given another function.
void drop_quiet(Deps *d, Deps *e) {
  walk_bucket(d, cb_drop_other, d);
  walk_bucket(d, cb_read, d);
  walk_bucket(d, cb_drop, e);
  call_once(d, cb_drop, d);
  walk_reassigned(d, cb_drop, d, cb_read);
}

// A wrapper that sets its iterator up anew right after the callback, or
// leaves the loop, never steps a stale iterator: quiet (gnome-shell's gvc
// remove_all_items, bench/realworld R45). Without the restart: reported.
static void drop_restart(Deps *d, DepFunc func, gpointer user) {
  GHashTableIter it;
  gpointer k;
  g_hash_table_iter_init(&it, d->bucket);
  while (g_hash_table_iter_next(&it, &k, 0)) {
    if (func) {
      func(k, user);
      g_hash_table_remove(d->bucket, k);
      g_hash_table_iter_init(&it, d->bucket);
    } else {
      g_hash_table_iter_remove(&it);
    }
  }
}
static void drop_first(Deps *d, DepFunc func, gpointer user) {
  GHashTableIter it;
  gpointer k;
  g_hash_table_iter_init(&it, d->bucket);
  while (g_hash_table_iter_next(&it, &k, 0)) {
    func(k, user);
    break;
  }
}
static void drop_then_continue(Deps *d, DepFunc func, gpointer user) {
  GHashTableIter it;
  gpointer k;
  g_hash_table_iter_init(&it, d->bucket);
  while (g_hash_table_iter_next(&it, &k, 0)) {
    func(k, user);
    continue;
    g_hash_table_iter_init(&it, d->bucket);
  }
}

void restarts(Deps *d) {
  drop_restart(d, cb_drop, d);
  drop_first(d, cb_drop, d);
  drop_then_continue(d, cb_drop, d);
  // CHECK-MESSAGES: :[[@LINE-1]]:25: warning: callback 'cb_drop' passed to 'drop_then_continue' re-enters the same map
}
