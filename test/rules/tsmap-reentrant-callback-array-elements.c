// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
//
// Elements of one array are two objects when the code names two indexes:
// `foreach (src->items, put, dst)` with `src = stores[0]` and `dst =
// stores[1]` copies one store into another, as with two parameters, also
// when the callback hands the context to a helper. The same index, as a
// constant (`*stores` is `stores[0]`) or as the same expression, is the
// same object.

#include "reentrant-glib.h"

gpointer g_strdup(gconstpointer s);

typedef struct { GHashTable *items; } Store;

static void store_put(Store *s, gpointer k, gpointer v) {
  g_hash_table_replace(s->items, g_strdup(k), v); /* a copy: another key */
}
static void put_cb(gpointer k, gpointer v, gpointer ud) { store_put(ud, k, v); }
static void put_copy(gpointer k, gpointer v, gpointer ud) {
  Store *dst = ud;
  g_hash_table_insert(dst->items, g_strdup(k), v); /* another key */
}

// Quiet: two elements, through a helper or directly.
void sync_pair(Store **stores) {
  Store *src = stores[0];
  Store *dst = stores[1];
  g_hash_table_foreach(src->items, put_cb, dst);
  g_hash_table_foreach(src->items, put_copy, dst);
  g_hash_table_foreach(stores[1]->items, put_cb, *stores);
}
void sync_chain(Store **stores, int n) {
  for (int i = 0; i + 1 < n; i++) {
    Store *src = stores[i];
    Store *dst = stores[i + 1];
    g_hash_table_foreach(src->items, put_cb, dst);
  }
}
void sync_chain_loop(Store **stores, int n) {
  for (int i = 0; i + 1 < n; i++) {
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, stores[i]->items);
    while (g_hash_table_iter_next(&it, &k, &v))
      store_put(stores[i + 1], k, v);
  }
}
void sync_fields(Store *banks[2]) {
  g_hash_table_foreach(banks[0]->items, put_copy, banks[1]);
}

// Reported: the same element.
void sync_same(Store **stores, int i) {
  Store *src = stores[0];
  Store *dst = *stores;
  g_hash_table_foreach(src->items, put_cb, dst);
  // CHECK-MESSAGES: :[[@LINE-1]]:36: warning: callback 'put_cb' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_replace' on 'src->items'
  g_hash_table_foreach(stores[i]->items, put_copy, stores[i]);
  // CHECK-MESSAGES: :[[@LINE-1]]:42: warning: callback 'put_copy' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_insert' on 'stores[i]->items'
}
void sync_same_loop(Store **stores, int i) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, stores[i]->items);
  while (g_hash_table_iter_next(&it, &k, &v))
    store_put(stores[i], g_strdup(k), v);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'store_put' changes 'stores[i]->items' while a loop iterates it with 'g_hash_table_iter_next': it calls 'g_hash_table_replace' on it; the change invalidates the iterator
}
