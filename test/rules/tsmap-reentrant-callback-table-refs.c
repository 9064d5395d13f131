// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=STRICT %s tsmap-reentrant-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-reentrant-callback.StrictMapIdentity: true}}" -- -I%S/Inputs
//
// g_hash_table_ref returns its argument: a local that holds only references
// to one table (`t = g_hash_table_ref (self->items)`, initialized, under
// g_autoptr's cleanup, or assigned) is that table, as a local initialized
// with `self->items` is, in both modes. The unref of a reference the same
// code took gives back only that reference; a reference to another object's
// table, or one taken before the field is given a new table, is another map.

#include "reentrant-glib.h"

GHashTable *g_hash_table_ref(GHashTable *hash_table);
void g_hash_table_unref(GHashTable *hash_table);
static void unref_table(GHashTable **t) { g_hash_table_unref(*t); }
#define autoptr_table __attribute__((cleanup(unref_table))) GHashTable *

typedef struct { GHashTable *items; } Obj;

// ---- Reported ---------------------------------------------------------------

void prune_ref(Obj *self) {
  GHashTable *t = g_hash_table_ref(self->items);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, &k, &v))
    if (!v)
      g_hash_table_remove(self->items, k);
  // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: 'g_hash_table_remove' changes 'self->items' while a loop iterates it with 'g_hash_table_iter_next'; the change invalidates the iterator [tsmap-reentrant-callback]
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:7: warning: 'g_hash_table_remove' changes 'self->items' while a loop iterates it with 'g_hash_table_iter_next'; the change invalidates the iterator [tsmap-reentrant-callback]
  g_hash_table_unref(t);
}
// Under a cleanup attribute (what g_autoptr expands to), through a helper.
static void add_alias(Obj *o, gpointer k) { g_hash_table_insert(o->items, "alias", k); }
void alias_all(Obj *self) {
  autoptr_table t = g_hash_table_ref(self->items);
  GHashTableIter it;
  for (g_hash_table_iter_init(&it, t); g_hash_table_iter_next(&it, 0, 0);)
    add_alias(self, t);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'add_alias' changes 't' while a loop iterates it with 'g_hash_table_iter_next': it calls 'g_hash_table_insert' on it
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:5: warning: call to 'add_alias' changes 't' while a loop iterates it with 'g_hash_table_iter_next': it calls 'g_hash_table_insert' on it
}
// Assigned after the declaration; the removal is the walk's last statement.
void prune_assigned(Obj *self, gpointer key) {
  GHashTable *t = 0;
  GHashTableIter it;
  t = g_hash_table_ref(self->items);
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, 0, 0)) {
    g_hash_table_size(t);
    g_hash_table_remove(self->items, key);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_remove' changes 'self->items'
    // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:5: warning: 'g_hash_table_remove' changes 'self->items'
  }
  g_hash_table_unref(t);
}
// The loop walks the table itself and removes through a reference to it.
void prune_through_ref(Obj *self) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, self->items);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    GHashTable *r = g_hash_table_ref(self->items);
    g_hash_table_remove(r, k);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_remove' changes 'r'
    // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:5: warning: 'g_hash_table_remove' changes 'r'
    g_hash_table_unref(r);
  }
}
static void drop(gpointer k, gpointer v, gpointer ud) {
  g_hash_table_remove(((Obj *)ud)->items, k);
}
void prune_foreach(Obj *self) {
  GHashTable *t = g_hash_table_ref(self->items);
  g_hash_table_foreach(t, drop, self);
  // CHECK-MESSAGES: :[[@LINE-1]]:27: warning: callback 'drop' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 't'
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:27: warning: callback 'drop' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 't'
  g_hash_table_unref(t);
}
// The loop's own reference dropped in the loop.
void walk_dropping_ref(Obj *self) {
  GHashTable *t = g_hash_table_ref(self->items);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, &k, &v))
    g_hash_table_unref(t);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_unref' changes 't'
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:5: warning: 'g_hash_table_unref' changes 't'
}

// ---- Quiet ------------------------------------------------------------------

// A rebuild: the reference is to the old table, the inserts go to the new one.
void rebuild(Obj *self) {
  GHashTable *old = g_hash_table_ref(self->items);
  GHashTableIter it;
  gpointer k, v;
  self->items = g_hash_table_new(0, 0);
  g_hash_table_iter_init(&it, old);
  while (g_hash_table_iter_next(&it, &k, &v))
    g_hash_table_insert(self->items, k, v);
  g_hash_table_unref(old);
}
// Another object's table.
void copy_from(Obj *self, Obj *other) {
  GHashTable *t = g_hash_table_ref(other->items);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, &k, &v))
    g_hash_table_remove(self->items, k);
  g_hash_table_unref(t);
}
// A reference taken and given back in the body, or in a callback's helper.
static guint count(Obj *o) {
  GHashTable *r = g_hash_table_ref(o->items);
  guint n = g_hash_table_size(r);
  g_hash_table_unref(r);
  return n;
}
static void count_cb(gpointer k, gpointer v, gpointer ud) { (void)count(ud); }
guint count_all(Obj *self) {
  GHashTableIter it;
  gpointer k, v;
  guint n = 0;
  g_hash_table_iter_init(&it, self->items);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    GHashTable *r = g_hash_table_ref(self->items);
    n += g_hash_table_size(r);
    g_hash_table_unref(r);
    n += count(self);
  }
  g_hash_table_foreach(self->items, count_cb, self);
  return n;
}
