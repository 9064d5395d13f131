// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=STRICT %s tsmap-reentrant-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-reentrant-callback.StrictMapIdentity: true}}" -- -I%S/Inputs
//
// Tables that StrictMapIdentity can tell apart from the iterated one although
// it cannot trace them (bench/realworld R17-R19, tracker, gstreamer, gvfs):
//   R17: a callee's g_hash_table_unref of a reference it took itself
//        (g_hash_table_ref, or a helper that returns a new reference);
//   R18: a table a callee made fresh through an out-parameter
//        (`make_table (&t)` stores `g_hash_table_new (...)` into `*out`);
//   R19: the table of the entry a foreach callback visits, a field of a
//        struct that has no field chain back to the iterated table's owner
//        and that the file fills with nothing but new tables.
// Each twin below keeps one of those facts out and is still reported under
// StrictMapIdentity (and, where the field matches, by default).

#include "reentrant-glib.h"

void g_hash_table_destroy(GHashTable *hash_table);
void g_hash_table_unref(GHashTable *hash_table);
GHashTable *g_hash_table_ref(GHashTable *hash_table);
GHashTable *g_hash_table_new_full(void *hash_func, void *key_equal_func,
                                  void *key_destroy, void *value_destroy);

typedef struct { GHashTable *graphs; GHashTable *filtered; int policy; } Manager;

// ---- R17: balanced ref/unref ------------------------------------------------

static GHashTable *get_graphs(Manager *m) { /* returns a new reference */
  GHashTable *t = g_hash_table_ref(m->graphs);
  return t;
}
static guint count_graphs(Manager *m) {
  GHashTable *t = get_graphs(m);
  guint n = g_hash_table_size(t);
  g_hash_table_unref(t); /* drops only the reference it took */
  return n;
}
static guint count_direct(Manager *m) {
  GHashTable *t = g_hash_table_ref(m->graphs);
  guint n = g_hash_table_size(t);
  g_hash_table_unref(t);
  return n;
}
static void drop_ref(GHashTable *t) { g_hash_table_unref(t); }
static guint count_via_helper(Manager *m) {
  GHashTable *t = get_graphs(m);
  guint n = g_hash_table_size(t);
  drop_ref(t);
  return n;
}
// tracker's tracker_sparql_get_effective_graphs: a new reference on every
// path, one of them the result of a function in another file, released on
// the path that returns another table.
GHashTable *graphs_of(Manager *m, int in_transaction); /* another file */
static GHashTable *effective_graphs(Manager *m) {
  GHashTable *graphs = graphs_of(m, 0);
  if (graphs && m->policy) {
    g_hash_table_unref(graphs);
    return g_hash_table_ref(m->filtered);
  }
  return graphs;
}
static guint count_effective(Manager *m) {
  GHashTable *graphs = effective_graphs(m);
  guint n = g_hash_table_size(graphs);
  g_hash_table_unref(graphs);
  return n;
}

guint sum(Manager *m) {
  GHashTableIter it;
  gpointer k, v;
  guint n = 0;
  GHashTable *t = get_graphs(m); /* the loop's own reference */
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    n += count_graphs(m);
    n += count_direct(m);
    n += count_via_helper(m);
    n += count_effective(m);
  }
  g_hash_table_unref(t);
  return n;
}
static void count_each(gpointer key, gpointer value, gpointer user_data) {
  count_graphs((Manager *)user_data);
  count_effective((Manager *)user_data);
}
void sum_foreach(Manager *m, GHashTable *t) {
  g_hash_table_foreach(t, count_each, m);
}

// Twins. A reference the callee did not take: the unref may drop the last one.
static GHashTable *borrow_graphs(Manager *m) { return m->graphs; }
static guint count_borrowed(Manager *m) {
  GHashTable *t = borrow_graphs(m);
  guint n = g_hash_table_size(t);
  g_hash_table_unref(t);
  return n;
}
static guint count_unknown(Manager *m) {
  GHashTable *t = graphs_of(m, 1); /* no body, not returned: not known */
  g_hash_table_unref(t);
  return 0;
}
guint sum_twins(Manager *m, GHashTable *t) {
  GHashTableIter it;
  gpointer k, v;
  guint n = 0;
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    n += count_borrowed(m);
    // CHECK-MESSAGES-STRICT: :[[@LINE-1]]:10: warning: call to 'count_borrowed' may change 't' while a loop iterates it with 'g_hash_table_iter_next': it calls 'g_hash_table_unref' on it; the change invalidates the iterator [tsmap-reentrant-callback]
    n += count_unknown(m);
    // CHECK-MESSAGES-STRICT: :[[@LINE-1]]:10: warning: call to 'count_unknown' may change 't' while a loop iterates it with 'g_hash_table_iter_next': it calls 'g_hash_table_unref' on it; the change invalidates the iterator [tsmap-reentrant-callback]
  }
  return n;
}
// The loop's own reference dropped in the loop: the same table, traced.
void sum_dropping_own(Manager *m) {
  GHashTableIter it;
  gpointer k, v;
  GHashTable *t = get_graphs(m);
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, &k, &v))
    drop_ref(t);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'drop_ref' changes 't' while a loop iterates it with 'g_hash_table_iter_next': it calls 'g_hash_table_unref' on it; the change invalidates the iterator [tsmap-reentrant-callback]
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:5: warning: call to 'drop_ref' changes 't' while a loop iterates it with 'g_hash_table_iter_next': it calls 'g_hash_table_unref' on it; the change invalidates the iterator [tsmap-reentrant-callback]
}

// ---- R18: a table made through an out-parameter -----------------------------

gboolean db_fts_init(const char *db, GHashTable *props); /* another file */
static void get_props(GHashTable **props, GHashTable **multi) {
  *props = g_hash_table_new(0, 0); /* fresh, before anything can return */
  *multi = g_hash_table_new_full(0, 0, 0, 0);
  g_hash_table_insert(*props, "title", "title");
  if (!*multi)
    return;
  g_hash_table_insert(*multi, "title", "title");
}
static gboolean init_fts(const char *db) {
  GHashTable *props, *multi;
  get_props(&props, &multi);
  gboolean ok = db_fts_init(db, props) && db_fts_init(db, multi);
  g_hash_table_unref(props);
  g_hash_table_destroy(multi);
  return ok;
}
static GHashTable *new_props(void) { return g_hash_table_new(0, 0); }
static gboolean init_fts_returned(const char *db) {
  GHashTable *props = new_props();
  gboolean ok = db_fts_init(db, props);
  g_hash_table_destroy(props);
  return ok;
}
gboolean init_all(Manager *m) {
  GHashTableIter it;
  gpointer name;
  g_hash_table_iter_init(&it, m->graphs);
  while (g_hash_table_iter_next(&it, &name, 0)) {
    if (!init_fts(name))
      return 0;
    init_fts_returned(name);
  }
  return 1;
}

// Twins: the out-parameter gets an existing table, on every path or on one,
// or from a function with no body.
static void get_props_existing(Manager *m, GHashTable **out) { *out = m->graphs; }
static void get_props_maybe(Manager *m, GHashTable **out) {
  if (m->policy)
    *out = g_hash_table_new(0, 0);
  else
    *out = m->filtered;
}
void lookup_props(Manager *m, GHashTable **out); /* another file */
static gboolean init_fts_existing(Manager *m, const char *db) {
  GHashTable *props;
  get_props_existing(m, &props);
  return db_fts_init(db, props);
}
static gboolean init_fts_maybe(Manager *m, const char *db) {
  GHashTable *props;
  get_props_maybe(m, &props);
  return db_fts_init(db, props);
}
static gboolean init_fts_unknown(Manager *m, const char *db) {
  GHashTable *props;
  lookup_props(m, &props);
  return db_fts_init(db, props);
}
void init_all_twins(Manager *m) {
  GHashTableIter it;
  gpointer name;
  g_hash_table_iter_init(&it, m->graphs);
  while (g_hash_table_iter_next(&it, &name, 0)) {
    init_fts_existing(m, name);
    // CHECK-MESSAGES-STRICT: :[[@LINE-1]]:5: warning: call to 'init_fts_existing' may change 'm->graphs' while a loop iterates it with 'g_hash_table_iter_next': it calls 'db_fts_init' on it; the change invalidates the iterator [tsmap-reentrant-callback]
    init_fts_maybe(m, name);
    // CHECK-MESSAGES-STRICT: :[[@LINE-1]]:5: warning: call to 'init_fts_maybe' may change 'm->graphs' while a loop iterates it with 'g_hash_table_iter_next': it calls 'db_fts_init' on it; the change invalidates the iterator [tsmap-reentrant-callback]
    init_fts_unknown(m, name);
    // CHECK-MESSAGES-STRICT: :[[@LINE-1]]:5: warning: call to 'init_fts_unknown' may change 'm->graphs' while a loop iterates it with 'g_hash_table_iter_next': it calls 'db_fts_init' on it; the change invalidates the iterator [tsmap-reentrant-callback]
  }
}

// ---- R19: the table of the entry itself -------------------------------------

typedef struct { int id; GHashTable *formats; } Id; /* each value owns a table */
typedef struct { GHashTable *ids; } Index;
typedef struct {
  char *path;
  GHashTable *skeletons;
} RegisteredPath; /* gvfs */
typedef struct { GHashTable *paths; } Daemon;

Id *id_new(int n) {
  Id *id = g_malloc0(sizeof(Id));
  id->id = n;
  id->formats = g_hash_table_new(0, 0);
  return id;
}
static void free_id(gpointer key, gpointer value, gpointer data) {
  Id *id = value;
  g_hash_table_destroy(id->formats); /* the value's table */
  id->formats = 0;
  g_free(id);
}
void index_finalize(Index *ix) {
  g_hash_table_foreach(ix->ids, free_id, 0);
}
static void unregister_path(const char *path, RegisteredPath *reg, void *conn) {
  g_hash_table_remove(reg->skeletons, conn);
}
static void register_path(const char *path, RegisteredPath *reg, void *conn) {
  if (!g_hash_table_lookup(reg->skeletons, conn))
    g_hash_table_insert(reg->skeletons, conn, conn);
}
void peer_closed(Daemon *d, void *conn) {
  g_hash_table_foreach(d->paths, (GHFunc)unregister_path, conn);
  g_hash_table_foreach(d->paths, (GHFunc)register_path, conn);
}
// Twins. An entry that points back to its index: its table may be shared.
typedef struct Index2 Index2;
typedef struct { Index2 *owner; GHashTable *formats; } Id2;
struct Index2 { GHashTable *ids; };
static void free_id2(gpointer key, gpointer value, gpointer data) {
  Id2 *id = value;
  g_hash_table_destroy(id->formats);
}
static void forget_id2(gpointer key, gpointer value, gpointer data) {
  Id2 *id = value;
  g_hash_table_remove(id->owner->ids, key);
}
void index2_finalize(Index2 *ix) {
  g_hash_table_foreach(ix->ids, free_id2, 0);
  // CHECK-MESSAGES-STRICT: :[[@LINE-1]]:33: warning: callback 'free_id2' passed to 'g_hash_table_foreach' may re-enter the same map: it calls 'g_hash_table_destroy' on what may be 'ix->ids' while 'g_hash_table_foreach' runs it with the map locked or mid-iteration [tsmap-reentrant-callback]
  g_hash_table_foreach(ix->ids, forget_id2, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:33: warning: callback 'forget_id2' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'ix->ids' while 'g_hash_table_foreach' runs it with the map locked or mid-iteration [tsmap-reentrant-callback]
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:33: warning: callback 'forget_id2' passed to 'g_hash_table_foreach' may re-enter the same map: it calls 'g_hash_table_remove' on what may be 'ix->ids' while 'g_hash_table_foreach' runs it with the map locked or mid-iteration [tsmap-reentrant-callback]
}
// An entry that holds the table it is in: the file stores the iterated table
// into the field, so it is not the entry's own.
typedef struct { GHashTable *container; int n; } Item;
typedef struct { GHashTable *items; } Shelf;
void shelf_add(Shelf *s, Item *item) {
  item->container = s->items;
  g_hash_table_insert(s->items, item, item);
}
static void drop_item(gpointer key, gpointer value, gpointer data) {
  Item *item = value;
  g_hash_table_remove(item->container, key);
}
void shelf_clear(Shelf *s) {
  g_hash_table_foreach(s->items, drop_item, 0);
  // CHECK-MESSAGES-STRICT: :[[@LINE-1]]:34: warning: callback 'drop_item' passed to 'g_hash_table_foreach' may re-enter the same map: it calls 'g_hash_table_remove' on what may be 's->items' while 'g_hash_table_foreach' runs it with the map locked or mid-iteration [tsmap-reentrant-callback]
}

// ---- R30 (wireshark's rtp_dyn_payloads): the walked table is a global, so it
// has no owner the entry could reach; the entry's own table is still another
// one when the file gives the global only new tables too. A global that is
// also given an entry's table may be one: "may" under StrictMapIdentity.

typedef struct { GHashTable *table; } Payload;
typedef struct { GHashTable *table2; } Payload2;
static GHashTable *payloads;
static GHashTable *payloads2;
static void payload_drop_cb(gpointer key, gpointer value, gpointer user_data) {
  Payload *p = value;
  g_hash_table_destroy(p->table);
}
static void payload2_drop_cb(gpointer key, gpointer value, gpointer user_data) {
  Payload2 *p = value;
  g_hash_table_destroy(p->table2);
}
void payloads_init(void) {
  payloads = g_hash_table_new(0, 0);
  payloads2 = g_hash_table_new(0, 0);
}
Payload *payload_new(gpointer k) {
  Payload *p = g_malloc0(sizeof *p);
  p->table = g_hash_table_new(0, 0);
  g_hash_table_insert(payloads, k, p);
  return p;
}
Payload2 *payload2_new(gpointer k) {
  Payload2 *p = g_malloc0(sizeof *p);
  p->table2 = g_hash_table_new(0, 0);
  g_hash_table_insert(payloads2, k, p);
  return p;
}
void payloads2_adopt(Payload2 *p) { payloads2 = p->table2; } // the global may be an entry's table
void payloads_destroy(void) {
  g_hash_table_foreach(payloads, payload_drop_cb, 0); /* quiet */
  g_hash_table_foreach(payloads2, payload2_drop_cb, 0);
  // CHECK-MESSAGES-STRICT: :[[@LINE-1]]:35: warning: callback 'payload2_drop_cb' passed to 'g_hash_table_foreach' may re-enter the same map
}
