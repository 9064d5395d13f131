// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
//
// A wrapper that passes its own function-pointer parameter, unchanged, to a
// map's TSMAP_CALLBACK_LOCKED parameter (black-box round 10): the wrapper's
// parameter has the same contract. The map is the one the wrapper walks, in
// its caller's terms (`r->table` with `r` the wrapper's parameter), and the
// context is the argument for the wrapper's parameter the map operation's
// context comes from. Wrappers of wrappers are followed (a few levels).

#include "reentrant-glib.h"

typedef struct Registry {
  GHashTable *table;
  GHashTable *names;
} Registry;

void registry_foreach(Registry *r, GHFunc fn, gpointer data) {
  g_hash_table_foreach(r->table, fn, data);
}

// A wrapper of the wrapper.
void registry_each(Registry *r, GHFunc visit, gpointer user_data) {
  registry_foreach(r, visit, user_data);
}

// A wrapper over a table passed as its own parameter.
void table_foreach(GHashTable *t, GHFunc fn, gpointer data) {
  g_hash_table_foreach(t, fn, data);
}

static void drop(gpointer k, gpointer v, gpointer d) {
  g_hash_table_remove(((Registry *)d)->table, k);
}

// ---- Reported.

void clear(Registry *r) {
  registry_foreach(r, drop, r);
  // CHECK-MESSAGES: :[[@LINE-1]]:23: warning: callback 'drop' passed to 'registry_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'r->table' while 'g_hash_table_foreach' runs it with the map locked or mid-iteration [tsmap-reentrant-callback]
  // CHECK-MESSAGES: :18:3: note: 'registry_foreach' passes 'fn' to 'g_hash_table_foreach' here
  // CHECK-MESSAGES: :[[@LINE-3]]:29: note: the map reaches 'drop' through its parameter 'd' here, as 'd->table'
  // CHECK-MESSAGES: :32:3: note: 'drop' calls 'g_hash_table_remove' here
}

void clear_twice_wrapped(Registry *r) {
  registry_each(r, drop, r);
  // CHECK-MESSAGES: :[[@LINE-1]]:20: warning: callback 'drop' passed to 'registry_each' re-enters the same map: it calls 'g_hash_table_remove' on 'r->table' while 'g_hash_table_foreach' runs it
  // CHECK-MESSAGES: :23:3: note: 'registry_each' passes 'visit' to 'registry_foreach' here
  // CHECK-MESSAGES: :18:3: note: 'registry_foreach' passes 'fn' to 'g_hash_table_foreach' here
}

void clear_table(Registry *r) {
  table_foreach(r->table, drop, r);
  // CHECK-MESSAGES: :[[@LINE-1]]:27: warning: callback 'drop' passed to 'table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'r->table' while 'g_hash_table_foreach' runs it
  // CHECK-MESSAGES: :28:3: note: 'table_foreach' passes 'fn' to 'g_hash_table_foreach' here
}

static GHashTable *g_sessions;
static void expire(gpointer k, gpointer v, gpointer d) {
  g_hash_table_remove(g_sessions, k);
}

void sweep(void) {
  table_foreach(g_sessions, expire, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:29: warning: callback 'expire' passed to 'table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'g_sessions' while 'g_hash_table_foreach' runs it
}

// The wrapper gives the map its own parameter as the context.
void registry_walk(Registry *r, GHFunc fn) { g_hash_table_foreach(r->table, fn, r); }
void clear_walk(Registry *r) {
  registry_walk(r, drop);
  // CHECK-MESSAGES: :[[@LINE-1]]:20: warning: callback 'drop' passed to 'registry_walk' re-enters the same map: it calls 'g_hash_table_remove' on 'r->table'
  // CHECK-MESSAGES: :[[@LINE-4]]:46: note: 'registry_walk' passes 'fn' to 'g_hash_table_foreach' here
}

// ---- Quiet.

// The callback changes another table of the registry.
static void drop_name(gpointer k, gpointer v, gpointer d) {
  g_hash_table_remove(((Registry *)d)->names, k);
}
void clear_names(Registry *r) { registry_foreach(r, drop_name, r); }

// Another registry than the walked one.
void move_all(Registry *from, Registry *to) { registry_foreach(from, drop, to); }

// Another global than the walked one.
static GHashTable *g_other;
void sweep_other(void) { table_foreach(g_other, expire, 0); }

// A wrapper that calls the function pointer itself: not a map callback.
void registry_call(Registry *r, GHFunc fn, gpointer data) { fn(r, r, data); }
void call_drop(Registry *r) { registry_call(r, drop, r); }

// A wrapper that passes a function of its own, not its parameter.
static void noop(gpointer k, gpointer v, gpointer d) {}
void registry_noop(Registry *r, GHFunc fn, gpointer data) {
  g_hash_table_foreach(r->table, noop, data);
}
void noop_drop(Registry *r) { registry_noop(r, drop, r); }

// The wrapper walks a table of its own, not one its caller can name.
void scratch_foreach(Registry *r, GHFunc fn, gpointer data) {
  GHashTable *mine = g_hash_table_new(0, 0);
  g_hash_table_foreach(mine, fn, data);
}
void scratch_drop(Registry *r) { scratch_foreach(r, drop, r); }

// ---- A local copy of the parameter (a function pointer whose one value is
// the parameter, in its initializer or one assignment) is the parameter.

void registry_foreach_copy(Registry *r, GHFunc fn, gpointer data) {
  GHFunc visit = fn;
  g_hash_table_foreach(r->table, visit, data);
}
void clear_copy(Registry *r) {
  registry_foreach_copy(r, drop, r);
  // CHECK-MESSAGES: :[[@LINE-1]]:28: warning: callback 'drop' passed to 'registry_foreach_copy' re-enters the same map: it calls 'g_hash_table_remove' on 'r->table'
  // CHECK-MESSAGES: :[[@LINE-5]]:3: note: 'registry_foreach_copy' passes 'fn' to 'g_hash_table_foreach' here
}

void registry_each_assigned(Registry *r, GHFunc fn, gpointer data) {
  GHFunc visit;
  visit = fn;
  registry_foreach(r, visit, data);
}
void clear_assigned(Registry *r) {
  registry_each_assigned(r, drop, r);
  // CHECK-MESSAGES: :[[@LINE-1]]:29: warning: callback 'drop' passed to 'registry_each_assigned' re-enters the same map: it calls 'g_hash_table_remove' on 'r->table'
  // CHECK-MESSAGES: :[[@LINE-5]]:3: note: 'registry_each_assigned' passes 'fn' to 'registry_foreach' here
  // CHECK-MESSAGES: :18:3: note: 'registry_foreach' passes 'fn' to 'g_hash_table_foreach' here
}

// Quiet: a copy given another function too, or whose address is taken.
void registry_foreach_or_noop(Registry *r, GHFunc fn, gpointer data, int quiet) {
  GHFunc visit = fn;
  if (quiet)
    visit = noop;
  g_hash_table_foreach(r->table, visit, data);
}
void clear_or_noop(Registry *r) { registry_foreach_or_noop(r, drop, r, 1); }

void pick_visitor(GHFunc *out);
void registry_foreach_picked(Registry *r, GHFunc fn, gpointer data) {
  GHFunc visit = fn;
  pick_visitor(&visit);
  g_hash_table_foreach(r->table, visit, data);
}
void clear_picked(Registry *r) { registry_foreach_picked(r, drop, r); }
