// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=STRICT %s tsmap-reentrant-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-reentrant-callback.StrictMapIdentity: true}}" -- -I%S/Inputs
//
// Map identity by access path and type (the default): the same field of the
// same struct type, reached through any chain of pointers (a value's
// back-pointer to its manager, a GObject cast macro, a private struct), is
// the same map. Another field, a table held by the entry itself, a table the
// callback creates, and two objects the code names are other maps. Under
// StrictMapIdentity the field is not compared: every map that cannot be
// traced "may" be the same one (the mode before field identity).

#include "reentrant-glib.h"

typedef struct { GHashTable *cache; GHashTable *by_name; } Manager;
typedef struct { Manager *manager; guint handle; } Entry;

// The GLib/GObject shape: each value points back to its manager.
static void drop(gpointer k, gpointer v, gpointer u) {
  Entry *e = v;
  g_hash_table_remove(e->manager->cache, (gpointer)(unsigned long)e->handle);
}
void dispose(Manager *m) {
  g_hash_table_foreach(m->cache, drop, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:34: warning: callback 'drop' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'm->cache' while 'g_hash_table_foreach' runs it with the map locked or mid-iteration [tsmap-reentrant-callback]
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:34: warning: callback 'drop' passed to 'g_hash_table_foreach' may re-enter the same map: it calls 'g_hash_table_remove' on what may be 'm->cache'
}

// Quiet twin: another field of the manager.
static void rename_(gpointer k, gpointer v, gpointer u) {
  Entry *e = v;
  g_hash_table_remove(e->manager->by_name, k);
}
void rename_all(Manager *m) {
  g_hash_table_foreach(m->cache, rename_, 0);
  // CHECK-MESSAGES-STRICT: :[[@LINE-1]]:34: warning: callback 'rename_' passed to 'g_hash_table_foreach' may re-enter the same map
}

// GObject: the cast macro and the private struct.
typedef struct _FooManagerPrivate { GHashTable *cache; GHashTable *pending; } FooManagerPrivate;
typedef struct _FooManager { void *parent_instance; FooManagerPrivate *priv; } FooManager;
typedef struct { FooManager *owner; int id; } FooItem;
void *g_type_check_instance_cast(void *instance, unsigned long type);
unsigned long foo_manager_get_type(void);
#define FOO_TYPE_MANAGER (foo_manager_get_type())
#define FOO_MANAGER(obj) ((FooManager *)g_type_check_instance_cast((void *)(obj), FOO_TYPE_MANAGER))
FooManagerPrivate *foo_manager_get_instance_private(FooManager *self);

static void forget_item(FooManager *owner, int id) {
  FooManagerPrivate *priv = foo_manager_get_instance_private(owner);
  g_hash_table_remove(priv->cache, &id);
}
static void item_gone(gpointer key, gpointer value, gpointer user_data) {
  FooItem *item = value;
  forget_item(item->owner, item->id);
}
void foo_manager_clear(void *obj) {
  g_hash_table_foreach(FOO_MANAGER(obj)->priv->cache, item_gone, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:55: warning: callback 'item_gone' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'FOO_MANAGER(obj)->priv->cache'
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:55: warning: callback 'item_gone' passed to 'g_hash_table_foreach' may re-enter the same map
}
static void drop_via_helper_arg(GHashTable *t, gpointer k) { g_hash_table_remove(t, k); }
static void item_gone_cast(gpointer key, gpointer value, gpointer user_data) {
  drop_via_helper_arg(FOO_MANAGER(user_data)->priv->pending, key);
}
void foo_manager_flush(FooManager *self) {
  g_hash_table_foreach(self->priv->pending, item_gone_cast, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:45: warning: callback 'item_gone_cast' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'self->priv->pending'
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:45: warning: callback 'item_gone_cast' passed to 'g_hash_table_foreach' may re-enter the same map
  g_hash_table_foreach(self->priv->cache, item_gone_cast, 0); // removes from 'pending'
  // CHECK-MESSAGES-STRICT: :[[@LINE-1]]:43: warning: callback 'item_gone_cast' passed to 'g_hash_table_foreach' may re-enter the same map
}

// Quiet: a tree. Each node's children are a table of nodes; the callback
// empties the child's own table, not the one being iterated.
typedef struct node { GHashTable *children; struct node *parent; } node;
static void clear_child(gpointer key, gpointer value, gpointer user_data) {
  node *child = value;
  g_hash_table_remove(child->children, key);
}
// ... but through the child's back-pointer it is the parent's table again.
static void unlink_child(gpointer key, gpointer value, gpointer user_data) {
  node *child = value;
  g_hash_table_remove(child->parent->children, key);
}
void prune(node *n) {
  g_hash_table_foreach(n->children, clear_child, 0);
  // CHECK-MESSAGES-STRICT: :[[@LINE-1]]:37: warning: callback 'clear_child' passed to 'g_hash_table_foreach' may re-enter the same map
  g_hash_table_foreach(n->children, unlink_child, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:37: warning: callback 'unlink_child' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'n->children'
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:37: warning: callback 'unlink_child' passed to 'g_hash_table_foreach' may re-enter the same map
}

// Quiet: a table stored as a value, a table made in the callback, a local
// struct's table, and two managers the code names.
static void drop_value_table(gpointer key, gpointer value, gpointer user_data) {
  g_hash_table_remove((GHashTable *)value, key);
}
static void fresh_manager(gpointer key, gpointer value, gpointer user_data) {
  Manager tmp;
  tmp.cache = g_hash_table_new(0, 0);
  g_hash_table_insert(tmp.cache, value, key);
}
static void copy_into(gpointer key, gpointer value, gpointer user_data) {
  Manager *dst = user_data;
  g_hash_table_insert(dst->cache, key, value);
}
void quiet(Manager *src, Manager *dst) {
  g_hash_table_foreach(src->cache, drop_value_table, 0);
  // CHECK-MESSAGES-STRICT: :[[@LINE-1]]:36: warning: callback 'drop_value_table' passed to 'g_hash_table_foreach' may re-enter the same map
  g_hash_table_foreach(src->cache, fresh_manager, 0);
  // CHECK-MESSAGES-STRICT: :[[@LINE-1]]:36: warning: callback 'fresh_manager' passed to 'g_hash_table_foreach' may re-enter the same map
  g_hash_table_foreach(src->cache, copy_into, dst); // two managers: a copy
}

// NOTES-realworld R10: the same field of another object the code names (the
// user data is a new action, not the iterated one) is another map; copying
// one object's table into another's is a common GLib idiom.
typedef struct action { GHashTable *meta; } action;
action *new_action(const char *key);
static void copy_meta(gpointer k, gpointer v, gpointer ud) {
  action *to = ud;
  if (!g_hash_table_lookup(to->meta, v)) /* indexed by value: a new key */
    g_hash_table_insert(to->meta, v, k);
}
void notify(action *op) {
  action *n = new_action("notify");
  g_hash_table_foreach(op->meta, copy_meta, n);
  g_hash_table_foreach(op->meta, copy_meta, op);
  // CHECK-MESSAGES: :[[@LINE-1]]:34: warning: callback 'copy_meta' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_insert' on 'op->meta'
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:34: warning: callback 'copy_meta' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_insert' on 'op->meta'
}

// telepathy-gabble's vcard-manager.c (issue 16's bug still open upstream,
// TelepathyIM/telepathy-gabble#24): dispose completes each cache entry's pending
// requests from a foreach over the cache; deleting the last request frees the entry,
// which removes it from the cache through the entry's back-pointer to its manager,
// four calls down, while the foreach runs.
typedef struct _VCardManagerPrivate { GHashTable *cache; GHashTable *edits; } VCardManagerPrivate;
typedef struct _VCardManager { void *parent; VCardManagerPrivate *priv; } VCardManager;
typedef struct _VCardEntry { VCardManager *manager; guint handle; void *pending; } VCardEntry;
typedef struct _VCardRequest { VCardManager *manager; VCardEntry *entry; } VCardRequest;
static void cache_entry_attempt_to_free(VCardEntry *entry) {
  VCardManagerPrivate *priv = entry->manager->priv;
  if (entry->pending != 0)
    return;
  g_hash_table_remove(priv->cache, (gpointer)(unsigned long)entry->handle);
}
static void delete_request(VCardRequest *request) {
  request->manager = 0;
  cache_entry_attempt_to_free(request->entry);
}
static void complete_one_request(VCardRequest *request) { delete_request(request); }
static void cache_entry_complete_requests(VCardEntry *entry) {
  complete_one_request((VCardRequest *)entry->pending);
}
static void disconnect_entry_foreach(gpointer handle, gpointer value, gpointer unused) {
  cache_entry_complete_requests(value);
}
void vcard_manager_dispose(VCardManager *self) {
  VCardManagerPrivate *priv = self->priv;
  g_hash_table_foreach(priv->cache, disconnect_entry_foreach, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:37: warning: callback 'disconnect_entry_foreach' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'priv->cache'
  // CHECK-MESSAGES: :[[@LINE-17]]:3: note: 'cache_entry_attempt_to_free' calls 'g_hash_table_remove' here
  // CHECK-MESSAGES: :[[@LINE-18]]:23: note: 'priv->cache' is taken to be the same map: both are field 'cache' of '_VCardManagerPrivate'
  // CHECK-MESSAGES-STRICT: :[[@LINE-4]]:37: warning: callback 'disconnect_entry_foreach' passed to 'g_hash_table_foreach' may re-enter the same map
}
// Quiet twin: the same walk over another table of the manager (reported only by
// StrictMapIdentity, which does not compare fields).
void vcard_manager_flush_edits(VCardManager *self) {
  g_hash_table_foreach(self->priv->edits, disconnect_entry_foreach, 0);
  // CHECK-MESSAGES-STRICT: :[[@LINE-1]]:43: warning: callback 'disconnect_entry_foreach' passed to 'g_hash_table_foreach' may re-enter the same map
}

// A map operation given a null map works on no map (network-manager's
// `nm_connection_normalize (connection, NULL, NULL, NULL)`, whose second parameter is a
// `GHashTable *`): quiet, also under StrictMapIdentity. Its twin passes a table.
typedef struct _Connection Connection;
gboolean connection_normalize(Connection *c, GHashTable *parameters);
static void normalize_conn(gpointer key, gpointer value, gpointer user_data) {
  connection_normalize(value, 0);
}
void normalize_all(GHashTable *connections) {
  g_hash_table_foreach(connections, normalize_conn, 0);
}
static void normalize_conn_with(gpointer key, gpointer value, gpointer user_data) {
  connection_normalize(value, ((Manager *)value)->cache);
}
void normalize_all_with(GHashTable *connections) {
  g_hash_table_foreach(connections, normalize_conn_with, 0);
  // CHECK-MESSAGES-STRICT: :[[@LINE-1]]:37: warning: callback 'normalize_conn_with' passed to 'g_hash_table_foreach' may re-enter the same map
}
