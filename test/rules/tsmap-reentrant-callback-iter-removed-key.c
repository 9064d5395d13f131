// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
//
// A loop body that takes the visited entry out through the iterator and then
// removes the loop's own key variable from the table (in the body, or in a
// helper handed the key: libsoup3's cleanup with a drop helper that also
// forgets the key, bench/realworld R35): the key is gone, the removal finds
// nothing and GLib changes nothing, in a table whose creation runs no destroy
// function. Reported: no iterator removal before, a call between the two,
// another key, a key variable given another value, a table that frees keys.

#include <stddef.h>
#include "reentrant-glib.h"

typedef void (*GDestroyNotify)(gpointer data);
GHashTable *g_hash_table_new_full(void *hash_func, void *key_equal_func,
                                  GDestroyNotify key_destroy,
                                  GDestroyNotify value_destroy);
guint g_direct_hash(gconstpointer v);
gboolean g_direct_equal(gconstpointer a, gconstpointer b);
void g_free(gpointer p);
void note_closed(gpointer conn);

typedef struct { GHashTable *conns; int num_conns; } Manager;
typedef struct { GHashTable *names; } Owned; // frees its keys

Manager *manager_new(void) {
  Manager *m = g_malloc0(sizeof *m);
  m->conns = g_hash_table_new(g_direct_hash, g_direct_equal);
  return m;
}
Owned *owned_new(void) {
  Owned *o = g_malloc0(sizeof *o);
  o->names = g_hash_table_new_full(g_direct_hash, g_direct_equal, g_free, NULL);
  return o;
}
static void drop_connection(Manager *m, gpointer conn) {
  g_hash_table_remove(m->conns, conn);
  m->num_conns--;
}

// Quiet: the helper's removal, and the body's own, of the key just removed.
void cleanup_helper(Manager *m) {
  GHashTableIter iter;
  gpointer conn, host;
  g_hash_table_iter_init(&iter, m->conns);
  while (g_hash_table_iter_next(&iter, &conn, &host)) {
    g_hash_table_iter_remove(&iter);
    drop_connection(m, conn);
  }
}
void cleanup_body(Manager *m) {
  GHashTableIter iter;
  gpointer conn, host;
  g_hash_table_iter_init(&iter, m->conns);
  while (g_hash_table_iter_next(&iter, &conn, &host)) {
    g_hash_table_iter_remove(&iter);
    g_hash_table_remove(m->conns, conn);
    m->num_conns--;
  }
}

// Reported: no iterator removal first.
void cleanup_no_iter_remove(Manager *m) {
  GHashTableIter iter;
  gpointer conn, host;
  g_hash_table_iter_init(&iter, m->conns);
  while (g_hash_table_iter_next(&iter, &conn, &host))
    drop_connection(m, conn);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'drop_connection' changes 'm->conns' while a loop iterates it
}

// Reported: a call between the iterator's removal and the removal by key.
void cleanup_call_between(Manager *m) {
  GHashTableIter iter;
  gpointer conn, host;
  g_hash_table_iter_init(&iter, m->conns);
  while (g_hash_table_iter_next(&iter, &conn, &host)) {
    g_hash_table_iter_remove(&iter);
    note_closed(conn);
    drop_connection(m, conn);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'drop_connection' changes 'm->conns' while a loop iterates it
  }
}

// Reported: another key (the value), and a key variable given another value.
void cleanup_other_key(Manager *m) {
  GHashTableIter iter;
  gpointer conn, host;
  g_hash_table_iter_init(&iter, m->conns);
  while (g_hash_table_iter_next(&iter, &conn, &host)) {
    g_hash_table_iter_remove(&iter);
    drop_connection(m, host);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'drop_connection' changes 'm->conns' while a loop iterates it
  }
}
void cleanup_key_reassigned(Manager *m, gpointer spare) {
  GHashTableIter iter;
  gpointer conn, host;
  g_hash_table_iter_init(&iter, m->conns);
  while (g_hash_table_iter_next(&iter, &conn, &host)) {
    g_hash_table_iter_remove(&iter);
    conn = spare;
    g_hash_table_remove(m->conns, conn);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_remove' changes 'm->conns' while a loop iterates it
  }
}

// Reported: the table frees its keys, so the second removal hashes a freed key.
void forget_names(Owned *o) {
  GHashTableIter iter;
  gpointer name, v;
  g_hash_table_iter_init(&iter, o->names);
  while (g_hash_table_iter_next(&iter, &name, &v)) {
    g_hash_table_iter_remove(&iter);
    g_hash_table_remove(o->names, name);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_remove' changes 'o->names' while a loop iterates it
  }
}
