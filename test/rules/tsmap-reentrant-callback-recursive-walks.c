// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
//
// A recursive walk of a tree of tables: each call walks its own node's table
// and calls itself on each child. The recursive call's effect is mapped
// through its arguments, as a helper's is: what it does to its parameter's
// table is the child's own table, another map; what deeper rounds of the
// recursion do to tables of their own locals (a subtree's) is compared
// where those rounds walk. A recursive call that reaches the walked table
// itself is still reported, its notes once per call (expectations name
// absolute lines).

#include "reentrant-glib.h"

void g_hash_table_remove_all(GHashTable *hash_table);

typedef struct Node Node;
struct Node { const char *name; Node *parent; GHashTable *children; };

// Quiet: the teardown empties each child's table, then its own after the loop.
void node_clear(Node *n) {
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, n->children);
  while (g_hash_table_iter_next(&it, 0, &v))
    node_clear(v);
  g_hash_table_remove_all(n->children);
}

// Quiet: the same teardown started from a foreach callback.
static void clear_child(gpointer k, gpointer v, gpointer ud) { node_clear(v); }
void clear_all(Node *root) { g_hash_table_foreach(root->children, clear_child, 0); }

// Reported: each call removes its node from its parent's table, which the
// caller is walking.
void node_detach(Node *n) {
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, n->children);
  while (g_hash_table_iter_next(&it, 0, &v))
    node_detach(v);
  // CHECK-NOTES: :[[@LINE-1]]:5: warning: call to 'node_detach' changes 'n->children' while a loop iterates it with 'g_hash_table_iter_next': it calls 'g_hash_table_remove' on it; the change invalidates the iterator [tsmap-reentrant-callback]
  // CHECK-NOTES: :[[@LINE-2]]:5: note: 'node_detach' calls 'node_detach' here
  // CHECK-NOTES: :[[@LINE+4]]:5: note: 'node_detach' calls 'g_hash_table_remove' here
  // CHECK-NOTES: :[[@LINE+3]]:25: note: 'n->parent->children' is taken to be the same map: both are field 'children' of 'Node'
  // CHECK-NOTES: :[[@LINE-6]]:10: note: the loop iterates 'n->children' here; change it through the iterator ('g_hash_table_iter_remove', 'g_hash_table_iter_replace') or after the loop
  if (n->parent)
    g_hash_table_remove(n->parent->children, n->name);
}

// Reported: the same recursion from a foreach callback.
static void detach_child(gpointer k, gpointer v, gpointer ud) { node_detach(v); }
void detach_all(Node *root) { g_hash_table_foreach(root->children, detach_child, 0); }
// CHECK-NOTES: :[[@LINE-1]]:68: warning: callback 'detach_child' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'root->children' while 'g_hash_table_foreach' runs it with the map locked or mid-iteration [tsmap-reentrant-callback]
// CHECK-NOTES: :[[@LINE-3]]:65: note: 'detach_child' calls 'node_detach' here
// CHECK-NOTES: :47:5: note: 'node_detach' calls 'g_hash_table_remove' here
// CHECK-NOTES: :47:25: note: 'n->parent->children' is taken to be the same map: both are field 'children' of 'Node'
// CHECK-NOTES: :[[@LINE-5]]:31: note: 'g_hash_table_foreach' locks or iterates the map until it returns; collect what to change and change the map after the call

// Reported: the roles rotate, so the call two rounds down empties the table
// the first round walks (the table each round empties is `b`'s: one round
// down `b` is `c`, two rounds down it is `a`). One note for the call the
// recursion passes twice.
void rotate(Node *a, Node *b, Node *c) {
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, a->children);
  while (g_hash_table_iter_next(&it, 0, &v))
    rotate(v, c, a);
  // CHECK-NOTES: :[[@LINE-1]]:5: warning: call to 'rotate' changes 'a->children' while a loop iterates it with 'g_hash_table_iter_next': it calls 'g_hash_table_remove_all' on it; the change invalidates the iterator [tsmap-reentrant-callback]
  // CHECK-NOTES: :[[@LINE-2]]:5: note: 'rotate' calls 'rotate' here, 2 calls deep
  // CHECK-NOTES: :[[@LINE+2]]:3: note: 'rotate' calls 'g_hash_table_remove_all' here
  // CHECK-NOTES: :[[@LINE-5]]:10: note: the loop iterates 'a->children' here; change it through the iterator ('g_hash_table_iter_remove', 'g_hash_table_iter_replace') or after the loop
  g_hash_table_remove_all(b->children);
}
