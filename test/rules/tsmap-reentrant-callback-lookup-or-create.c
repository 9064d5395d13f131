// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
//
// Lookup-or-create on the walked table. GLib invalidates a walk only when a
// key is added (or removed): a store that runs only after a lookup of the
// key being visited, in the same table, found nothing never runs while that
// key is in the table, so it adds no key (pacemaker's attrd_peer_update_one
// calling attrd_lookup_or_create_value). Nor does a helper's store under the
// visited key it was handed. Reported still: a lookup of another key or in
// another table, a store on the found side, a lookup result given another
// value before its test, a key the body or a helper rewrites, a key of
// another walk, and a body that may take the visited key out first
// (g_hash_table_iter_remove, a removal).

#include "reentrant-glib.h"

gboolean g_hash_table_contains(GHashTable *hash_table, gconstpointer key);
gboolean g_hash_table_lookup_extended(GHashTable *hash_table, gconstpointer lookup_key,
                                      gpointer *orig_key, gpointer *value);
char *g_strdup(const char *s);

typedef struct { char *nodename; int seen; } Value;
typedef struct { GHashTable *values; GHashTable *other; } Attr;

// ---- pacemaker's shape: the helper looks the key up, creates when absent ----

static Value *lookup_or_create(GHashTable *values, const char *host) {
  Value *v = g_hash_table_lookup(values, host);
  if (v == 0) {
    v = g_malloc0(sizeof(Value));
    v->nodename = g_strdup(host);
    g_hash_table_replace(values, v->nodename, v);
  }
  return v;
}
static void update_on_host(Attr *a, const char *host, int seen) {
  Value *v = lookup_or_create(a->values, host);
  v->seen = seen;
}

void update_all(Attr *a) {
  GHashTableIter it;
  const char *host = 0;
  g_hash_table_iter_init(&it, a->values);
  while (g_hash_table_iter_next(&it, (gpointer *)&host, 0))
    update_on_host(a, host, 1); /* quiet: the visited key is there */
}

// The lookup spelled other ways: contains, lookup_extended, a thin wrapper.
static void ensure_contains(GHashTable *t, const char *k) {
  if (!g_hash_table_contains(t, k))
    g_hash_table_insert(t, g_strdup(k), g_malloc0(4));
}
static void ensure_extended(GHashTable *t, const char *k) {
  gpointer orig, val;
  if (g_hash_table_lookup_extended(t, k, &orig, &val))
    return;
  g_hash_table_insert(t, g_strdup(k), g_malloc0(4));
}
static inline gpointer table_lookup(GHashTable *hash, gconstpointer key) {
  if (hash) {
    return g_hash_table_lookup(hash, key);
  }
  return 0;
}
static void ensure_wrapped(GHashTable *t, const char *k) {
  Value *v = table_lookup(t, k);
  if (!v)
    g_hash_table_insert(t, g_strdup(k), g_malloc0(4));
}
void ensure_all(GHashTable *t) {
  GHashTableIter it;
  gpointer k;
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, &k, 0)) {
    ensure_contains(t, k); /* quiet */
    ensure_extended(t, k); /* quiet */
    ensure_wrapped(t, k);  /* quiet */
    if (!g_hash_table_lookup(t, k))
      g_hash_table_insert(t, g_strdup(k), 0); /* quiet: in the body itself */
    if (!g_hash_table_lookup(t, "x") && !g_hash_table_lookup(t, k))
      g_hash_table_insert(t, "x", 0); /* quiet: one of the two lookups is of k */
    if (!g_hash_table_lookup(t, "x") || !g_hash_table_lookup(t, k))
      g_hash_table_insert(t, "x", 0);
    // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: 'g_hash_table_insert' changes 't' while a loop iterates it with 'g_hash_table_iter_next'; the change invalidates the iterator [tsmap-reentrant-callback]
  }
}

// A helper's store under the key it was handed (no lookup needed).
static void set_value(GHashTable *t, gpointer key, gpointer value) {
  g_hash_table_replace(t, key, value);
}
void set_all(GHashTable *t, gpointer other) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    set_value(t, k, 0); /* quiet: the visited key */
    set_value(t, other, v);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'set_value' changes 't' while a loop iterates it with 'g_hash_table_iter_next': it calls 'g_hash_table_replace' on it; the change invalidates the iterator [tsmap-reentrant-callback]
  }
}

// ---- the traps: each of these may add a key --------------------------------

// A wrapper that returns NULL for another reason than a null table.
static int busy;
static gpointer lookup_unless_busy(GHashTable *hash, gconstpointer key) {
  if (busy)
    return 0;
  return g_hash_table_lookup(hash, key);
}
static void ensure_unless_busy(GHashTable *t, const char *k) {
  if (!lookup_unless_busy(t, k))
    g_hash_table_insert(t, g_strdup(k), g_malloc0(4));
}
// Another table looked up, the store on the found side, the result
// overwritten, a key the helper rewrites, a lookup on one path only.
static void ensure_other_table(Attr *a, const char *k) {
  if (!g_hash_table_lookup(a->other, k))
    g_hash_table_insert(a->values, g_strdup(k), g_malloc0(4));
}
static void refresh_found(GHashTable *t, const char *k) {
  Value *v = g_hash_table_lookup(t, k);
  if (v != 0)
    g_hash_table_insert(t, g_strdup(k), g_malloc0(4));
}
static void ensure_reassigned(GHashTable *t, const char *k) {
  Value *v = g_hash_table_lookup(t, k);
  v = 0;
  if (!v)
    g_hash_table_insert(t, g_strdup(k), g_malloc0(4));
}
static void ensure_rewritten(GHashTable *t, const char *k) {
  k = "default";
  if (!g_hash_table_lookup(t, k))
    g_hash_table_insert(t, g_strdup(k), g_malloc0(4));
}
static void ensure_sometimes(GHashTable *t, const char *k, int check) {
  Value *v = 0;
  if (check)
    v = g_hash_table_lookup(t, k);
  if (!v)
    g_hash_table_insert(t, g_strdup(k), g_malloc0(4));
}

void traps(Attr *a, const char *fixed) {
  GHashTableIter it;
  gpointer k;
  g_hash_table_iter_init(&it, a->values);
  while (g_hash_table_iter_next(&it, &k, 0)) {
    ensure_unless_busy(a->values, k);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'ensure_unless_busy' changes 'a->values' while a loop iterates it with 'g_hash_table_iter_next': it calls 'g_hash_table_insert' on it; the change invalidates the iterator [tsmap-reentrant-callback]
    ensure_other_table(a, k);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'ensure_other_table' changes 'a->values'
    refresh_found(a->values, k);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'refresh_found' changes 'a->values'
    ensure_reassigned(a->values, k);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'ensure_reassigned' changes 'a->values'
    ensure_rewritten(a->values, k);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'ensure_rewritten' changes 'a->values'
    ensure_sometimes(a->values, k, 1);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'ensure_sometimes' changes 'a->values'
    update_on_host(a, fixed, 1); // another key
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'update_on_host' changes 'a->values'
  }
}

// The key variable given another value in the body.
void rewritten_key(Attr *a) {
  GHashTableIter it;
  const char *host = 0;
  g_hash_table_iter_init(&it, a->values);
  while (g_hash_table_iter_next(&it, (gpointer *)&host, 0)) {
    if (!host)
      host = "localhost";
    update_on_host(a, host, 1);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'update_on_host' changes 'a->values'
  }
}

// The key of another walk: the outer loop's key, in the inner loop.
void nested(Attr *a, Attr *b) {
  GHashTableIter outer, inner;
  const char *name = 0, *host = 0;
  g_hash_table_iter_init(&outer, a->other);
  while (g_hash_table_iter_next(&outer, (gpointer *)&name, 0)) {
    g_hash_table_iter_init(&inner, b->values);
    while (g_hash_table_iter_next(&inner, (gpointer *)&host, 0)) {
      update_on_host(b, host, 1); /* quiet: the inner walk's own key */
      update_on_host(b, name, 1);
      // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: call to 'update_on_host' changes 'b->values'
    }
  }
}

// The visited key taken out first: through the iterator, or by a removal.
void remove_then_create(Attr *a, int drop) {
  GHashTableIter it;
  const char *host = 0;
  g_hash_table_iter_init(&it, a->values);
  while (g_hash_table_iter_next(&it, (gpointer *)&host, 0)) {
    if (drop)
      g_hash_table_iter_remove(&it);
    update_on_host(a, host, 1);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'update_on_host' changes 'a->values'
  }
  g_hash_table_iter_init(&it, a->values);
  while (g_hash_table_iter_next(&it, (gpointer *)&host, 0)) {
    g_hash_table_remove(a->values, host);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_remove' changes 'a->values' while a loop iterates it with 'g_hash_table_iter_next'; the change invalidates the iterator [tsmap-reentrant-callback]
    update_on_host(a, host, 1);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'update_on_host' changes 'a->values'
  }
}
static void drop_current(GHashTableIter *iter) { g_hash_table_iter_remove(iter); }
void remove_through_helper(Attr *a) {
  GHashTableIter it;
  const char *host = 0;
  g_hash_table_iter_init(&it, a->values);
  while (g_hash_table_iter_next(&it, (gpointer *)&host, 0)) {
    drop_current(&it); /* a helper given the iterator may remove the entry */
    update_on_host(a, host, 1);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'update_on_host' changes 'a->values'
  }
}
static void drop_and_create(GHashTable *t, const char *k) {
  g_hash_table_remove(t, k);
  if (!g_hash_table_lookup(t, k))
    g_hash_table_insert(t, g_strdup(k), g_malloc0(4));
}
void drop_all(GHashTable *t) {
  GHashTableIter it;
  gpointer k;
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, &k, 0))
    drop_and_create(t, k);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'drop_and_create' changes 't'
}

// ---- foreach, foreach_remove and find callbacks: the key parameter is the
// ---- visited key ------------------------------------------------------------

static void touch(gpointer key, gpointer value, gpointer user_data) {
  Attr *a = user_data;
  update_on_host(a, key, 2); /* quiet */
}
static void touch_set(gpointer key, gpointer value, gpointer user_data) {
  set_value(user_data, key, 0); /* quiet */
}
static void touch_value(gpointer key, gpointer value, gpointer user_data) {
  Attr *a = user_data;
  update_on_host(a, value, 2); // the value, not the key
}
static void touch_rewritten(gpointer key, gpointer value, gpointer user_data) {
  Attr *a = user_data;
  key = value;
  update_on_host(a, key, 2);
}
static void touch_after_drop(gpointer key, gpointer value, gpointer user_data) {
  drop_and_create(user_data, key);
}
static gboolean touch_find(gpointer key, gpointer value, gpointer user_data) {
  ensure_contains(user_data, key); /* quiet */
  return 0;
}
static gboolean touch_then_keep(gpointer key, gpointer value, gpointer user_data) {
  ensure_wrapped(user_data, key); /* quiet: the entry is removed after the call */
  return value == 0;
}
static gboolean touch_other(gpointer key, gpointer value, gpointer user_data) {
  ensure_wrapped(user_data, value);
  return 0;
}
void find_all(GHashTable *t) {
  g_hash_table_find(t, touch_find, t);
  g_hash_table_foreach_remove(t, touch_then_keep, t);
  g_hash_table_find(t, touch_other, t);
  // CHECK-MESSAGES: :[[@LINE-1]]:24: warning: callback 'touch_other' passed to 'g_hash_table_find' re-enters the same map: it calls 'g_hash_table_insert' on 't'
}
void touch_all(Attr *a) {
  g_hash_table_foreach(a->values, touch, a);
  g_hash_table_foreach(a->values, touch_set, a->values);
  g_hash_table_foreach(a->values, touch_value, a);
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: callback 'touch_value' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_replace' on 'a->values' while 'g_hash_table_foreach' runs it with the map locked or mid-iteration [tsmap-reentrant-callback]
  g_hash_table_foreach(a->values, touch_rewritten, a);
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: callback 'touch_rewritten' passed to 'g_hash_table_foreach' re-enters the same map
  g_hash_table_foreach(a->values, touch_after_drop, a->values);
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: callback 'touch_after_drop' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'a->values'
}

// ---- kept reported: a key taken from the visited value ---------------------
// pacemaker's resource_location: the lookup's key is a field path of the
// visited value, which is in the table only if every entry is stored under
// its own `details->id` and none changes later; the translation unit cannot
// show that (other files fill the table), so the store may add a key.

typedef struct { const char *id; } NodeShared;
typedef struct { NodeShared *details; int weight; } Node;
typedef struct { GHashTable *allowed_nodes; } Resource;

static Node *copy_node(const Node *n) {
  Node *c = g_malloc0(sizeof *c);
  c->details = n->details;
  return c;
}
static void node_score(Resource *rsc, Node *node, int score) {
  Node *match = table_lookup(rsc->allowed_nodes, node->details->id);
  if (match == 0) {
    match = copy_node(node);
    g_hash_table_insert(rsc->allowed_nodes, (gpointer)match->details->id, match);
  }
  match->weight += score;
}
void location(Resource *rsc, int score) {
  GHashTableIter iter;
  Node *node_iter = 0;
  g_hash_table_iter_init(&iter, rsc->allowed_nodes);
  while (g_hash_table_iter_next(&iter, 0, (void **)&node_iter))
    node_score(rsc, node_iter, score);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'node_score' changes 'rsc->allowed_nodes' while a loop iterates it with 'g_hash_table_iter_next': it calls 'g_hash_table_insert' on it; the change invalidates the iterator [tsmap-reentrant-callback]
}
