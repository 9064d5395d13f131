// RUN: %check_tsmap_tidy -check-suffixes=DEFAULT %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=STRICT %s tsmap-reentrant-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-reentrant-callback.StrictMapIdentity: true}}" -- -I%S/Inputs
//
// A table reached through a getter of the translation unit (black-box round
// bb-ck10, qemu's qom/object.c: `g_hash_table_foreach (type_table_get (),
// ...)`, where `type_table_get` lazily creates and returns a static local).
// A call of a function whose every return (NULL aside) names one static or
// global table is that table, on both sides of the comparison: a callback
// or loop body that changes `type_table_get ()` while `type_table_get ()`
// is walked re-enters it. Two getters of two tables are two maps; a getter
// whose returns name different tables, and a getter of an object rather
// than of a table (`obj_get_default ()`, which may be the walked object),
// are read as before.

#include "reentrant-glib.h"

static GHashTable *type_table_get(void) {
  static GHashTable *type_table;
  if (type_table == 0)
    type_table = g_hash_table_new(0, 0);
  return type_table;
}

static GHashTable *g_registry;
static int registry_ready;
static GHashTable *registry_get(void) {
  if (!registry_ready)
    return 0;
  return g_registry;
}

static GHashTable *g_other;
static GHashTable *other_get(void) { return g_other; }

// Its returns name two tables: not one map.
static GHashTable *pick(int which) { return which ? g_registry : g_other; }

// ---- Reported: the getter's table, walked and changed.

static void drop_type(gpointer key, gpointer value, gpointer user_data) {
  g_hash_table_remove(type_table_get(), key);
}
void types_purge(void) {
  g_hash_table_foreach(type_table_get(), drop_type, 0);
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:42: warning: callback 'drop_type' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'type_table_get()'
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:42: warning: callback 'drop_type' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'type_table_get()'
}

// The getter on one side, the global it returns on the other; a local
// initialized from the getter; a getter that may return NULL.
static void registry_drop(gpointer key) { g_hash_table_remove(g_registry, key); }
void registry_sweep(void) {
  GHashTableIter it;
  gpointer k, v;
  GHashTable *t = registry_get();
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, &k, &v))
    if (v == 0)
      registry_drop(k);
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:7: warning: call to 'registry_drop' changes 't' while a loop iterates it with 'g_hash_table_iter_next': it calls 'g_hash_table_remove' on it
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:7: warning: call to 'registry_drop' changes 't' while a loop iterates it with 'g_hash_table_iter_next': it calls 'g_hash_table_remove' on it
}

static void add_to_registry(gpointer key, gpointer value, gpointer user_data) {
  g_hash_table_add(registry_get(), value);
}
void registry_grow(void) {
  g_hash_table_foreach(g_registry, add_to_registry, 0);
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:36: warning: callback 'add_to_registry' passed to 'g_hash_table_foreach' re-enters the same map
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:36: warning: callback 'add_to_registry' passed to 'g_hash_table_foreach' re-enters the same map
}

// ---- Quiet: two getters of two tables are two maps (also under
// StrictMapIdentity, which took each call for any table before).

static void drop_other(gpointer key, gpointer value, gpointer user_data) {
  g_hash_table_remove(other_get(), key);
}
void types_drop_others(void) {
  g_hash_table_foreach(type_table_get(), drop_other, 0);
}

void others_copy(void) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, other_get());
  while (g_hash_table_iter_next(&it, &k, &v))
    g_hash_table_insert(type_table_get(), k, v);
}

// ---- A getter whose returns disagree is untraced, as before: quiet by
// default, "may" under StrictMapIdentity.

static void drop_picked(gpointer key, gpointer value, gpointer user_data) {
  g_hash_table_remove(pick(1), key);
}
void registry_drop_picked(void) {
  g_hash_table_foreach(g_registry, drop_picked, 0);
  // CHECK-MESSAGES-STRICT: :[[@LINE-1]]:36: warning: callback 'drop_picked' passed to 'g_hash_table_foreach' may re-enter the same map
}

// ---- A getter of an object, not of a table: the object may be the walked
// one, compared by field and type as before.

typedef struct Obj { GHashTable *items; } Obj;
static Obj *the_default;
static Obj *obj_get_default(void) { return the_default; }
static void drop_from_default(gpointer key, gpointer value, gpointer user_data) {
  g_hash_table_remove(obj_get_default()->items, key);
}
void obj_purge(Obj *self) {
  g_hash_table_foreach(self->items, drop_from_default, 0);
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:37: warning: callback 'drop_from_default' passed to 'g_hash_table_foreach' re-enters the same map
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:37: warning: callback 'drop_from_default' passed to 'g_hash_table_foreach' may re-enter the same map
}

// A getter of a table held by a global object is untraced too: the object
// may be the walked one.
static Obj *g_state;
static GHashTable *state_items(void) { return g_state->items; }
static void drop_from_state(gpointer key, gpointer value, gpointer user_data) {
  g_hash_table_remove(state_items(), key);
}
void obj_purge_state(Obj *self) {
  g_hash_table_foreach(self->items, drop_from_state, 0);
  // CHECK-MESSAGES-STRICT: :[[@LINE-1]]:37: warning: callback 'drop_from_state' passed to 'g_hash_table_foreach' may re-enter the same map
}
