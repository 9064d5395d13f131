// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
//
// Inside a GHashTableIter walk, a second iterator over the same table that
// removes entries (g_hash_table_iter_remove of the inner iterator) changes the
// table: GLib bumps its version, and the walk's own iterator is invalid at its
// next step (bench/realworld R51). The walk's own iterator's removal, a second
// iterator over another table, or one that only reads, is fine.

#include "reentrant-glib.h"

typedef struct { GHashTable *globs; GHashTable *seen; } Parser;
int same(gpointer a, gpointer b);

void dedup(Parser *p) {
  GHashTableIter outer;
  gpointer key;
  g_hash_table_iter_init(&outer, p->globs);
  while (g_hash_table_iter_next(&outer, &key, 0)) {
    GHashTableIter inner;
    gpointer other;
    g_hash_table_iter_init(&inner, p->globs);
    while (g_hash_table_iter_next(&inner, &other, 0))
      if (other != key && same(other, key))
        g_hash_table_iter_remove(&inner);
    // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: 'g_hash_table_iter_remove' changes 'p->globs' through iterator 'inner' while a loop iterates it with 'g_hash_table_iter_next'; the change invalidates the iterator [tsmap-reentrant-callback]
    // CHECK-MESSAGES: :[[@LINE-8]]:10: note: the loop iterates 'p->globs' here; change it through the iterator ('g_hash_table_iter_remove', 'g_hash_table_iter_replace') or after the loop
  }
}

void prune_own(Parser *p) {
  GHashTableIter iter;
  gpointer key;
  g_hash_table_iter_init(&iter, p->globs);
  while (g_hash_table_iter_next(&iter, &key, 0))
    if (same(key, 0))
      g_hash_table_iter_remove(&iter);
}

void prune_other_table(Parser *p) {
  GHashTableIter outer;
  gpointer key;
  g_hash_table_iter_init(&outer, p->globs);
  while (g_hash_table_iter_next(&outer, &key, 0)) {
    GHashTableIter inner;
    gpointer other;
    g_hash_table_iter_init(&inner, p->seen);
    while (g_hash_table_iter_next(&inner, &other, 0))
      if (same(other, key))
        g_hash_table_iter_remove(&inner);
  }
}

int count_pairs(Parser *p) {
  GHashTableIter outer;
  gpointer key;
  int n = 0;
  g_hash_table_iter_init(&outer, p->globs);
  while (g_hash_table_iter_next(&outer, &key, 0)) {
    GHashTableIter inner;
    gpointer other;
    g_hash_table_iter_init(&inner, p->globs);
    while (g_hash_table_iter_next(&inner, &other, 0))
      n += same(other, key);
  }
  return n;
}
