// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
//
// A loop body that takes the visited entry out through the iterator
// (`g_hash_table_iter_remove (&it)`) and then removes it again by key
// (tracker-miners' LRU, bench/realworld R29: `free_node (node, lru)`, shared
// with the eviction path, begins with `g_hash_table_remove (lru->items,
// node->element)`). When every entry is stored under its own key field
// (each insert stores `e` under `k` in a function that writes `e->element =
// k`, and the file writes the field nowhere else) and the table's creation
// runs no destroy function, the second removal finds nothing and GLib changes
// nothing: quiet. Reported: no iterator removal, one on some paths only, a
// call between the two, another entry's field or another field, a table
// whose creation is unseen or frees keys or values.

#include "reentrant-glib.h"

typedef void (*GDestroyNotify)(gpointer data);
GHashTable *g_hash_table_new_full(void *hash_func, void *key_equal_func,
                                  GDestroyNotify key_destroy,
                                  GDestroyNotify value_destroy);
gboolean g_hash_table_steal(GHashTable *hash_table, gconstpointer key);
void g_hash_table_iter_steal(GHashTableIter *iter);
guint g_direct_hash(gconstpointer v);
gboolean g_direct_equal(gconstpointer a, gconstpointer b);

typedef struct Elem { gpointer element; gpointer data; struct Elem *peer; } Elem;
typedef struct { GHashTable *items; } Lru;
typedef struct Item { gpointer element; } Item; // the entries of the tables below
typedef struct { GHashTable *owned; } Cache;   // frees its values
typedef struct { GHashTable *unseen; } Remote; // created in another file

Lru *lru_new(void) {
  Lru *lru = g_malloc0(sizeof *lru);
  lru->items = g_hash_table_new(g_direct_hash, g_direct_equal);
  return lru;
}
void lru_add(Lru *lru, gpointer elem) {
  Elem *node = g_malloc0(sizeof *node);
  node->element = elem;
  g_hash_table_insert(lru->items, elem, node);
}
static void free_node(Elem *node, Lru *lru) {
  g_hash_table_remove(lru->items, node->element);
  g_free(node);
}
static void steal_node(Elem *node, Lru *lru) {
  g_hash_table_steal(lru->items, node->element);
}
static void free_data(Elem *node, Lru *lru) {
  g_hash_table_remove(lru->items, node->data); // not the key field
}
static void free_peer(Elem *node, Lru *lru) {
  g_hash_table_remove(lru->items, node->peer->element); // another entry's key
}
void touch(Lru *lru);

// ---- quiet: the entry is gone already ----------------------------------------

void lru_free_all(Lru *lru) {
  GHashTableIter iter;
  Elem *node;
  g_hash_table_iter_init(&iter, lru->items);
  while (g_hash_table_iter_next(&iter, 0, (gpointer *)&node)) {
    g_hash_table_iter_remove(&iter);
    free_node(node, lru); /* quiet */
  }
}
void lru_free_all_direct(Lru *lru) {
  GHashTableIter iter;
  gpointer k;
  Elem *node;
  g_hash_table_iter_init(&iter, lru->items);
  while (g_hash_table_iter_next(&iter, &k, (gpointer *)&node)) {
    Elem *same = node;
    g_hash_table_iter_steal(&iter);
    g_hash_table_remove(lru->items, same->element); /* quiet */
  }
  g_hash_table_iter_init(&iter, lru->items);
  while (g_hash_table_iter_next(&iter, &k, (gpointer *)&node)) {
    g_hash_table_iter_steal(&iter);
    steal_node(node, lru); /* quiet */
    g_free(node);
  }
}

// ---- reported ------------------------------------------------------------------

void lru_free_all_no_iter_remove(Lru *lru) {
  GHashTableIter iter;
  Elem *node;
  g_hash_table_iter_init(&iter, lru->items);
  while (g_hash_table_iter_next(&iter, 0, (gpointer *)&node))
    free_node(node, lru);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'free_node' changes 'lru->items' while a loop iterates it with 'g_hash_table_iter_next': it calls 'g_hash_table_remove' on it; the change invalidates the iterator [tsmap-reentrant-callback]
}
void lru_free_some(Lru *lru, int all) {
  GHashTableIter iter;
  Elem *node;
  g_hash_table_iter_init(&iter, lru->items);
  while (g_hash_table_iter_next(&iter, 0, (gpointer *)&node)) {
    if (all)
      g_hash_table_iter_remove(&iter);
    free_node(node, lru); // on the other path the key is still there
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'free_node' changes 'lru->items' while a loop iterates it
  }
}
void lru_free_touched(Lru *lru) {
  GHashTableIter iter;
  Elem *node;
  g_hash_table_iter_init(&iter, lru->items);
  while (g_hash_table_iter_next(&iter, 0, (gpointer *)&node)) {
    g_hash_table_iter_remove(&iter);
    touch(lru); // may put the key back
    free_node(node, lru);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'free_node' changes 'lru->items' while a loop iterates it
  }
}
void lru_free_other_keys(Lru *lru) {
  GHashTableIter iter;
  Elem *node;
  g_hash_table_iter_init(&iter, lru->items);
  while (g_hash_table_iter_next(&iter, 0, (gpointer *)&node)) {
    g_hash_table_iter_remove(&iter);
    free_data(node, lru);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'free_data' changes 'lru->items' while a loop iterates it
    free_peer(node, lru);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'free_peer' changes 'lru->items' while a loop iterates it
  }
}
void lru_free_reassigned(Lru *lru, Elem *other) {
  GHashTableIter iter;
  Elem *node;
  g_hash_table_iter_init(&iter, lru->items);
  while (g_hash_table_iter_next(&iter, 0, (gpointer *)&node)) {
    g_hash_table_iter_remove(&iter);
    node = other;
    g_hash_table_remove(lru->items, node->element);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_remove' changes 'lru->items' while a loop iterates it with 'g_hash_table_iter_next'; the change invalidates the iterator [tsmap-reentrant-callback]
  }
}

// A table that frees its values: the iterator's removal freed `node`.
Cache *cache_new(void) {
  Cache *c = g_malloc0(sizeof *c);
  c->owned = g_hash_table_new_full(g_direct_hash, g_direct_equal, 0, g_free);
  return c;
}
void cache_add(Cache *c, gpointer elem) {
  Item *node = g_malloc0(sizeof *node);
  node->element = elem;
  g_hash_table_insert(c->owned, elem, node);
}
void cache_clear(Cache *c) {
  GHashTableIter iter;
  Item *node;
  g_hash_table_iter_init(&iter, c->owned);
  while (g_hash_table_iter_next(&iter, 0, (gpointer *)&node)) {
    g_hash_table_iter_remove(&iter);
    g_hash_table_remove(c->owned, node->element);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_remove' changes 'c->owned' while a loop iterates it
  }
}

// A table created in another file: its destroy functions are not known.
void remote_add(Remote *r, gpointer elem) {
  Item *node = g_malloc0(sizeof *node);
  node->element = elem;
  g_hash_table_insert(r->unseen, elem, node);
}
void remote_clear(Remote *r) {
  GHashTableIter iter;
  Item *node;
  g_hash_table_iter_init(&iter, r->unseen);
  while (g_hash_table_iter_next(&iter, 0, (gpointer *)&node)) {
    g_hash_table_iter_remove(&iter);
    g_hash_table_remove(r->unseen, node->element);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_remove' changes 'r->unseen' while a loop iterates it
  }
}
