// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=STRICT %s tsmap-reentrant-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-reentrant-callback.StrictMapIdentity: true}}" -- -I%S/Inputs
//
// Under StrictMapIdentity, a table in a field that the file fills only with
// new tables is not the walked one. GLib's idiomatic dispose clears such a
// field through its address, `g_clear_pointer (&child->f, g_hash_table_unref)`
// (a macro that stores NULL through the address, or the function of the same
// name), as `g_clear_object` does: a NULL store, which keeps the field's fact
// (bench/realworld R40, gtk4's gtkconstraintlayout.c). A field whose address
// goes anywhere else may be given any table. The same for a callee's local
// table: cleared through its address, it is still one the callee made.

#include "reentrant-glib.h"

void g_hash_table_unref(GHashTable *hash_table);
void g_object_unref(gpointer object);
typedef void (*GDestroyNotify)(gpointer data);
void (g_clear_pointer)(gpointer *pp, GDestroyNotify destroy);
// As GLib 2.74's gmem.h writes it for GCC-compatible compilers.
#define g_clear_pointer(pp, destroy)                                           \
  do {                                                                         \
    _Static_assert(sizeof *(pp) == sizeof(gpointer), "");                      \
    __typeof__((pp)) _pp = (pp);                                               \
    __typeof__(*(pp)) _ptr = *_pp;                                             \
    *_pp = 0;                                                                  \
    if (_ptr)                                                                  \
      (destroy)(_ptr);                                                         \
  } while (0)
#define g_clear_object(object_ptr) g_clear_pointer((object_ptr), g_object_unref)

typedef struct { GHashTable *bound; GHashTable *cache; GHashTable *named; GHashTable *any; } Child;
typedef struct { GHashTable *constraints; } Layout;
Child *layout_get_child(Layout *layout, gpointer widget); // another file
void fill_table(GHashTable **out);                         // another file

void child_init(Child *c) {
  c->bound = g_hash_table_new(0, 0);
  c->cache = g_hash_table_new(0, 0);
  c->named = g_hash_table_new(0, 0);
  c->any = g_hash_table_new(0, 0);
}

void child_finalize(Child *c) {
  g_clear_pointer(&c->bound, g_hash_table_unref);            // the macro
  (g_clear_pointer)((gpointer *)&c->cache, (GDestroyNotify)g_hash_table_unref); // the function
  g_clear_object(&c->named);                                 // a macro around it
  fill_table(&c->any);                                       // anything
}

static void get_attribute(GHashTable *t, const char *name) {
  if (!g_hash_table_lookup(t, name))
    g_hash_table_insert(t, (gpointer)name, (gpointer)name);
}

static void add_bound(Layout *l, gpointer k) { get_attribute(layout_get_child(l, k)->bound, "w"); }
static void add_cache(Layout *l, gpointer k) { get_attribute(layout_get_child(l, k)->cache, "w"); }
static void add_named(Layout *l, gpointer k) { get_attribute(layout_get_child(l, k)->named, "w"); }
static void add_any(Layout *l, gpointer k) { get_attribute(layout_get_child(l, k)->any, "w"); }

void layout_root(Layout *self) {
  GHashTableIter iter;
  gpointer key;
  g_hash_table_iter_init(&iter, self->constraints);
  while (g_hash_table_iter_next(&iter, &key, 0)) {
    add_bound(self, key);
    add_cache(self, key);
    add_named(self, key);
    add_any(self, key);
    // CHECK-MESSAGES-STRICT: :[[@LINE-1]]:5: warning: call to 'add_any' may change 'self->constraints'
  }
}

// ---- a callee's own new table, cleared through its address -----------------

void scratch_insert(gpointer k) {
  GHashTable *t = g_hash_table_new(0, 0);
  g_hash_table_insert(t, k, k);
  g_clear_pointer(&t, g_hash_table_unref);
}

void scratch_function(gpointer k) {
  GHashTable *t = g_hash_table_new(0, 0);
  g_hash_table_insert(t, k, k);
  (g_clear_pointer)((gpointer *)&t, (GDestroyNotify)g_hash_table_unref);
}

void scratch_filled(gpointer k) {
  GHashTable *t = g_hash_table_new(0, 0);
  fill_table(&t);
  g_hash_table_insert(t, k, k);
  g_clear_pointer(&t, g_hash_table_unref);
}

void layout_scratch(Layout *self) {
  GHashTableIter iter;
  gpointer key;
  g_hash_table_iter_init(&iter, self->constraints);
  while (g_hash_table_iter_next(&iter, &key, 0)) {
    scratch_insert(key);
    scratch_function(key);
    scratch_filled(key);
    // CHECK-MESSAGES-STRICT: :[[@LINE-1]]:5: warning: call to 'scratch_filled' may change 'self->constraints'
  }
}
