// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
//
// A callback passed to a TSMAP_CALLBACK_LOCKED parameter (GLib's foreach and
// find through the shipped model; store_each through its header's
// annotation) must not run an operation on the map it is called for. Every
// resolution form, calls through helpers and recursion, maps named by
// globals, fields, locals, parameters and the context pointer. The second
// half is quiet: cases a naive check gets wrong.

#include "reentrant-glib.h"
#include "reentrant-store.h"
#include "fake_urcu.h"

static GHashTable *g_sessions;
static GHashTable *g_other;
struct registry { GHashTable *by_id; GHashTable *by_name; };
static struct registry g_reg;
static store *g_store;

// ---- Callbacks ----------------------------------------------------------

static void drop_global(gpointer key, gpointer value, gpointer user_data) {
  g_hash_table_remove(g_sessions, key);
}
static void drop_ud(gpointer key, gpointer value, gpointer user_data) {
  g_hash_table_remove((GHashTable *)user_data, key);
}
static void drop_other(gpointer key, gpointer value, gpointer user_data) {
  g_hash_table_remove(g_other, key);
}
static void touch_helper(GHashTable *t, gpointer key) {
  g_hash_table_replace(t, key, key);
}
static void touch_via_helper(gpointer key, gpointer value, gpointer user_data) {
  touch_helper(user_data, value); /* the value as a key: may be a new key */
}
static void reinsert_level2(gpointer key) { g_hash_table_insert(g_sessions, key, key); }
static void reinsert_level1(gpointer key) { reinsert_level2(key); }
static void reinsert_deep(gpointer key, gpointer value, gpointer user_data) {
  reinsert_level1(value);
}
static void by_id_drop(gpointer key, gpointer value, gpointer user_data) {
  struct registry *r = user_data;
  g_hash_table_remove(r->by_id, key);
}
static void by_name_drop(gpointer key, gpointer value, gpointer user_data) {
  struct registry *r = user_data;
  g_hash_table_remove(r->by_name, key);
}
static gboolean find_and_add(gpointer key, gpointer value, gpointer user_data) {
  return g_hash_table_insert(g_sessions, value, key);
}
static gboolean purge_and_refill(gpointer key, gpointer value, gpointer user_data) {
  g_hash_table_insert(user_data, value, key);
  return 1;
}
static int walk_b(gpointer key, int n);
static int walk_a(gpointer key, int n) {
  if (n == 0)
    return g_hash_table_remove(g_sessions, key);
  return walk_b(key, n - 1);
}
static int walk_b(gpointer key, int n) { return walk_a(key, n); }
static void drop_recursive(gpointer key, gpointer value, gpointer user_data) {
  walk_a(key, 3);
}
static int evict(const char *key, void *value, void *ctx) {
  store *s = ctx;
  return store_del(s, key);
}
static int evict_global(const char *key, void *value, void *ctx) {
  return store_put(g_store, key, 0);
}
static void typed_drop(int *key, void *value, GHashTable *t) {
  g_hash_table_remove(t, key);
}
TSMAP_IDEMPOTENT static void idempotent_drop(gpointer key, gpointer value,
                                             gpointer user_data) {
  g_hash_table_remove(g_sessions, key);
}

struct sweep { struct registry *reg; long cutoff; GHashTable *elsewhere; };
static void sweep_forget(struct registry *r, gpointer key) {
  g_hash_table_remove(r->by_id, key);
}
static void sweep_one(gpointer key, gpointer value, gpointer user_data) {
  struct sweep *sw = user_data;
  sweep_forget(sw->reg, key);
}
static void sweep_elsewhere(gpointer key, gpointer value, gpointer user_data) {
  struct sweep *sw = user_data;
  g_hash_table_remove(sw->elsewhere, key);
}

// Quiet callbacks.
static void count(gpointer key, gpointer value, gpointer user_data) {
  ++*(int *)user_data;
}
static void lookup_only(gpointer key, gpointer value, gpointer user_data) {
  if (g_hash_table_lookup(g_sessions, key) != value)
    ++*(int *)user_data;
}
static int read_value(gpointer value) { return *(int *)value; }
static void read_via_helper(gpointer key, gpointer value, gpointer user_data) {
  *(int *)user_data += read_value(value);
}
static void never_called(gpointer key) { g_hash_table_remove(g_sessions, key); }
static void dead_helper_owner(gpointer key, gpointer value, gpointer user_data) {
  if (0 && value == 0)
    ++*(int *)user_data;
}
static void drop_from_key(gpointer key, gpointer value, gpointer user_data) {
  g_hash_table_remove((GHashTable *)key, value); // a map of maps: not the outer one
}
static void fresh_map(gpointer key, gpointer value, gpointer user_data) {
  GHashTable *mine = g_hash_table_new(0, 0);
  g_hash_table_insert(mine, key, value);
}
static void nested_reader(gpointer key, gpointer value, gpointer user_data) {
  g_hash_table_foreach(g_sessions, count, user_data);
}
GHashTable *open_table(const char *name);
static int match_counting(struct cds_lfht_node *node, const void *key) {
  struct cds_lfht_iter iter;
  cds_lfht_lookup(0, 1, match_counting, key, &iter);
  return node != 0;
}

// ---- Reported ----------------------------------------------------------

static const GHFunc kDrop = drop_global;

void resolution_forms(int cond, gpointer key) {
  g_hash_table_foreach(g_sessions, drop_global, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:36: warning: callback 'drop_global' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'g_sessions' while 'g_hash_table_foreach' runs it with the map locked or mid-iteration [tsmap-reentrant-callback]
  g_hash_table_foreach(g_sessions, &drop_global, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:36: warning: callback 'drop_global' passed to 'g_hash_table_foreach' re-enters the same map
  g_hash_table_foreach(g_sessions, (GHFunc)typed_drop, g_sessions);
  // CHECK-MESSAGES: :[[@LINE-1]]:36: warning: callback 'typed_drop' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'g_sessions'
  GHFunc once = drop_ud;
  g_hash_table_foreach(g_sessions, once, g_sessions);
  // CHECK-MESSAGES: :[[@LINE-1]]:36: warning: callback 'drop_ud' passed to 'g_hash_table_foreach' re-enters the same map
  g_hash_table_foreach(g_sessions, kDrop, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:36: warning: callback 'drop_global' passed to 'g_hash_table_foreach' re-enters the same map
  g_hash_table_foreach(g_sessions, cond ? drop_global : count, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:36: warning: callback 'drop_global' passed to 'g_hash_table_foreach' re-enters the same map
}

void through_calls(void) {
  g_hash_table_foreach(g_sessions, touch_via_helper, g_sessions);
  // CHECK-MESSAGES: :[[@LINE-1]]:36: warning: callback 'touch_via_helper' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_replace' on 'g_sessions'
  g_hash_table_foreach(g_sessions, reinsert_deep, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:36: warning: callback 'reinsert_deep' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_insert' on 'g_sessions'
  g_hash_table_foreach(g_sessions, drop_recursive, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:36: warning: callback 'drop_recursive' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'g_sessions'
}

void other_operations(void) {
  g_hash_table_find(g_sessions, find_and_add, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:33: warning: callback 'find_and_add' passed to 'g_hash_table_find' re-enters the same map: it calls 'g_hash_table_insert' on 'g_sessions' while 'g_hash_table_find' runs it with the map locked or mid-iteration
  g_hash_table_foreach_remove(g_sessions, purge_and_refill, g_sessions);
  // CHECK-MESSAGES: :[[@LINE-1]]:43: warning: callback 'purge_and_refill' passed to 'g_hash_table_foreach_remove' re-enters the same map
}

void fields(struct registry *r) {
  g_hash_table_foreach(r->by_id, by_id_drop, r);
  // CHECK-MESSAGES: :[[@LINE-1]]:34: warning: callback 'by_id_drop' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'r->by_id'
  g_hash_table_foreach(g_reg.by_name, by_name_drop, &g_reg);
  // CHECK-MESSAGES: :[[@LINE-1]]:39: warning: callback 'by_name_drop' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'g_reg.by_name'
}

void locals_and_params(GHashTable *param_table) {
  GHashTable *t = g_hash_table_new(0, 0);
  g_hash_table_foreach(t, drop_ud, t);
  // CHECK-MESSAGES: :[[@LINE-1]]:27: warning: callback 'drop_ud' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 't'
  g_hash_table_foreach(param_table, drop_ud, param_table);
  // CHECK-MESSAGES: :[[@LINE-1]]:37: warning: callback 'drop_ud' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'param_table'
  GHashTable *alias = g_sessions;
  g_hash_table_foreach(alias, drop_global, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:31: warning: callback 'drop_global' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'alias'
}

void context_struct_on_stack(struct registry *r) {
  struct sweep sw = {r, 30, g_other};
  g_hash_table_foreach(r->by_id, sweep_one, &sw);
  // CHECK-MESSAGES: :[[@LINE-1]]:34: warning: callback 'sweep_one' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'r->by_id'
  g_hash_table_foreach(r->by_id, sweep_elsewhere, &sw); // sw.elsewhere is g_other
}

void annotated_header_api(store *s) {
  store_each(s, evict, s);
  // CHECK-MESSAGES: :[[@LINE-1]]:17: warning: callback 'evict' passed to 'store_each' re-enters the same map: it calls 'store_del' on 's' while 'store_each' runs it with the map locked or mid-iteration
  store_each(g_store, evict_global, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:23: warning: callback 'evict_global' passed to 'store_each' re-enters the same map: it calls 'store_put' on 'g_store'
}

// ---- Quiet -------------------------------------------------------------

void different_maps(void) {
  g_hash_table_foreach(g_sessions, drop_other, 0);     // removes from g_other
  g_hash_table_foreach(g_other, drop_global, 0);       // iterates g_other, removes from g_sessions
  g_hash_table_foreach(g_sessions, drop_ud, g_other);  // user_data is another map
  g_hash_table_foreach(g_reg.by_id, by_name_drop, &g_reg); // another field of the same object
  g_hash_table_foreach(g_sessions, touch_via_helper, g_other);
}

void not_locked(store *s) {
  store_each_unlocked(s, evict, s);                    // no lock held
  struct cds_lfht_iter iter;
  cds_lfht_lookup(0, 1, match_counting, 0, &iter);      // TSMAP_CALLBACK only
}

void reads_only(int *n) {
  g_hash_table_foreach(g_sessions, lookup_only, n);    // lookups are allowed by default
  g_hash_table_foreach(g_sessions, read_via_helper, n);
  g_hash_table_foreach(g_sessions, nested_reader, n);  // nested iteration reads
  g_hash_table_foreach(g_sessions, count, n);
}

void dead_code(int *n, gpointer key) {
  g_hash_table_foreach(g_sessions, dead_helper_owner, n);
  never_called(key);                                   // not from the callback
  g_hash_table_foreach(g_sessions, count, n);
  g_hash_table_remove(g_sessions, key);                // after the iteration
}

void unknown_maps(gpointer key, GHFunc given) {
  g_hash_table_foreach(g_sessions, drop_from_key, 0);  // the key is a map: which one?
  g_hash_table_foreach(g_sessions, fresh_map, 0);      // its own new map
  g_hash_table_foreach(open_table("s"), drop_global, 0); // a table from elsewhere
  g_hash_table_foreach(g_sessions, given, 0);          // unresolved callback
}

void known_misses(void) {
  // FIXME: TSMAP_IDEMPOTENT functions are trusted and not looked into (SPEC
  // section 2), so their re-entry is not seen either.
  g_hash_table_foreach(g_sessions, idempotent_drop, 0);
}

void suppressed(void) {
  g_hash_table_foreach(g_sessions, drop_global, 0); // NOLINT(tsmap-reentrant-callback)
}
