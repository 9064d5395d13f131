// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
//
// GLib invalidates a walk only when a key is added: a foreach (or find)
// callback that stores a new value under the key the walk handed it
// replaces a value, as a GHashTableIter loop may for its own key. Another
// key, a removal, or a store under a key the callback computed still
// re-enters the table.

#include "reentrant-glib.h"

static void bump(gpointer key, gpointer value, gpointer user_data) {
  g_hash_table_insert(user_data, key, (gpointer)((long)value + 1)); /* quiet */
}
static void bump_replace(gpointer k, gpointer v, gpointer ud) {
  g_hash_table_replace((GHashTable *)ud, k, v); /* quiet */
}
static void add_twin(gpointer key, gpointer value, gpointer user_data) {
  g_hash_table_insert(user_data, value, key);
}
static void drop_self(gpointer key, gpointer value, gpointer user_data) {
  g_hash_table_remove(user_data, key);
}

void walk(GHashTable *t) {
  g_hash_table_foreach(t, bump, t);
  g_hash_table_foreach(t, bump_replace, t);
  g_hash_table_foreach(t, add_twin, t);
  // CHECK-MESSAGES: :[[@LINE-1]]:27: warning: callback 'add_twin' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_insert' on 't' while 'g_hash_table_foreach' runs it with the map locked or mid-iteration [tsmap-reentrant-callback]
  g_hash_table_foreach(t, drop_self, t);
  // CHECK-MESSAGES: :[[@LINE-1]]:27: warning: callback 'drop_self' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 't' while 'g_hash_table_foreach' runs it with the map locked or mid-iteration [tsmap-reentrant-callback]
}
