// RUN: %check_tsmap_tidy -check-suffixes=DEFAULT %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=STRICT %s tsmap-reentrant-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-reentrant-callback.StrictMapIdentity: true}}" -- -I%S/Inputs
//
// A loop body's call whose every map change is followed by `return TRUE`,
// tested by `if (f (...)) return/break/goto`: when the call changed a map the
// loop is left, so the iterator is not used after the change (black-box
// round bb-ck10, epiphany's src/webextension/api/menus.c:301, a recursive
// `insert_menu_item` reported "may change 'menus'" under StrictMapIdentity).
// A change followed by anything else, a result the loop does not leave on,
// or a callee whose result says nothing, is reported as before.

#include "reentrant-glib.h"

#define TRUE 1
#define FALSE 0
#define NULL ((void *)0)

typedef struct MenuItem {
  char *id;
  char *parent_id;
  GHashTable *children;
} MenuItem;

// ---- Quiet: the reduced menus.c.

static gboolean insert_menu_item(GHashTable *menus, MenuItem *item) {
  MenuItem *parent;
  MenuItem *next_item;
  GHashTableIter iter;

  if (!item->parent_id) {
    g_hash_table_replace(menus, item->id, item);
    return TRUE;
  }
  parent = g_hash_table_lookup(menus, item->parent_id);
  if (parent) {
    g_hash_table_replace(parent->children, item->id, item);
    return TRUE;
  }
  g_hash_table_iter_init(&iter, menus);
  while (g_hash_table_iter_next(&iter, NULL, (gpointer *)&next_item)) {
    if (insert_menu_item(next_item->children, item))
      return TRUE;
  }
  return FALSE;
}

// A helper of the walked table itself, through a helper that returns its
// helper's TRUE; the loop leaves with `break`.
static gboolean add_if_missing(GHashTable *t, gpointer k) {
  if (g_hash_table_lookup(t, k))
    return FALSE;
  g_hash_table_insert(t, k, k);
  return TRUE;
}
static gboolean add_twice(GHashTable *t, gpointer k) {
  if (add_if_missing(t, k))
    return TRUE;
  return FALSE;
}
void add_first_missing(GHashTable *t, gpointer *keys) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    if (add_twice(t, v)) {
      keys[0] = v;
      break;
    }
  }
}

// ---- Reported: the loop goes on after a change.

void add_all_missing(GHashTable *t) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, &k, &v))
    add_if_missing(t, v);
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:5: warning: call to 'add_if_missing' changes 't' while a loop iterates it with 'g_hash_table_iter_next'
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:5: warning: call to 'add_if_missing' changes 't' while a loop iterates it with 'g_hash_table_iter_next'
}

// The change is followed by `return FALSE` on one path.
static gboolean add_quietly(GHashTable *t, gpointer k, int quiet) {
  g_hash_table_insert(t, k, k);
  if (quiet)
    return FALSE;
  return TRUE;
}
void add_first_quietly(GHashTable *t) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, &k, &v))
    if (add_quietly(t, v, 1))
      break;
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-2]]:9: warning: call to 'add_quietly' changes 't' while a loop iterates it with 'g_hash_table_iter_next'
  // CHECK-MESSAGES-STRICT: :[[@LINE-3]]:9: warning: call to 'add_quietly' changes 't' while a loop iterates it with 'g_hash_table_iter_next'
}

// The result of the map operation itself decides: not read.
static gboolean drop_key(GHashTable *t, gpointer k) {
  if (g_hash_table_remove(t, k))
    return TRUE;
  return FALSE;
}
void drop_first(GHashTable *t) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, &k, &v))
    if (drop_key(t, v))
      break;
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-2]]:9: warning: call to 'drop_key' changes 't' while a loop iterates it with 'g_hash_table_iter_next'
  // CHECK-MESSAGES-STRICT: :[[@LINE-3]]:9: warning: call to 'drop_key' changes 't' while a loop iterates it with 'g_hash_table_iter_next'
}

// The change is inside a loop of the callee: the loop may go on.
static gboolean add_each(GHashTable *t, gpointer *ks, int n) {
  for (int i = 0; i < n; i++) {
    g_hash_table_insert(t, ks[i], ks[i]);
  }
  return TRUE;
}
void add_each_first(GHashTable *t, gpointer *ks) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, &k, &v))
    if (add_each(t, ks, 2))
      return;
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-2]]:9: warning: call to 'add_each' changes 't' while a loop iterates it with 'g_hash_table_iter_next'
  // CHECK-MESSAGES-STRICT: :[[@LINE-3]]:9: warning: call to 'add_each' changes 't' while a loop iterates it with 'g_hash_table_iter_next'
}

// The loop leaves on FALSE, not on TRUE.
void add_until_present(GHashTable *t) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, &k, &v))
    if (!add_if_missing(t, v))
      break;
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-2]]:10: warning: call to 'add_if_missing' changes 't' while a loop iterates it with 'g_hash_table_iter_next'
  // CHECK-MESSAGES-STRICT: :[[@LINE-3]]:10: warning: call to 'add_if_missing' changes 't' while a loop iterates it with 'g_hash_table_iter_next'
}

// The change is in a return of another value.
static gboolean add_or_count(GHashTable *t, gpointer k, int count) {
  if (count)
    return (g_hash_table_insert(t, k, k), FALSE);
  return TRUE;
}
void add_counted(GHashTable *t) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, &k, &v))
    if (add_or_count(t, v, 1))
      break;
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-2]]:9: warning: call to 'add_or_count' changes 't' while a loop iterates it with 'g_hash_table_iter_next'
  // CHECK-MESSAGES-STRICT: :[[@LINE-3]]:9: warning: call to 'add_or_count' changes 't' while a loop iterates it with 'g_hash_table_iter_next'
}
