// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=DEEP %s tsmap-reentrant-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-reentrant-callback.MaxCallDepth: 64}}" -- -I%S/Inputs
//
// Helpers that call each other: a helper already looked into on the path is
// not looked into again (what it does is found there), so a recursive reader
// is quiet, a recursive remover is found, and mutual recursion stays cheap at
// MaxCallDepth 64 (it grew exponentially). A helper past MaxCallDepth is not
// reported as a map operation itself: what it does is not known.
#include "reentrant-glib.h"

struct node { char *name; struct node *parent; };
static GHashTable *g_nodes;

static int depth_of(GHashTable *t, const char *name) {
  struct node *n = g_hash_table_lookup(t, name);
  if (!n || !n->parent)
    return 0;
  return 1 + depth_of(t, n->parent->name);
}
static void print_depth(gpointer k, gpointer v, gpointer ud) { (void)depth_of(ud, k); }
void dump(void) { g_hash_table_foreach(g_nodes, print_depth, g_nodes); }

static void h1(GHashTable *t, gpointer k);
static void h2(GHashTable *t, gpointer k);
static void h3(GHashTable *t, gpointer k);
static void h4(GHashTable *t, gpointer k);
static void h4(GHashTable *t, gpointer k) { if (k) g_hash_table_remove(t, k); else h3(t, k); }
static void h3(GHashTable *t, gpointer k) { if (k) h4(t, k); else h2(t, k); }
static void h2(GHashTable *t, gpointer k) { if (k) h3(t, k); else h1(t, k); }
static void h1(GHashTable *t, gpointer k) { if (k) h2(t, k); else h1(t, k); }
static void prune(gpointer k, gpointer v, gpointer ud) { h1(ud, k); }
void prune_all(void) {
  g_hash_table_foreach(g_nodes, prune, g_nodes);
  // CHECK-MESSAGES: :[[@LINE-1]]:33: warning: callback 'prune' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'g_nodes'
  // CHECK-MESSAGES-DEEP: :[[@LINE-2]]:33: warning: callback 'prune' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'g_nodes'
}

static void r10(GHashTable *t, gpointer k) { (void)g_hash_table_lookup(t, k); }
static void r9(GHashTable *t, gpointer k) { r10(t, k); }
static void r8(GHashTable *t, gpointer k) { r9(t, k); }
static void r7(GHashTable *t, gpointer k) { r8(t, k); }
static void r6(GHashTable *t, gpointer k) { r7(t, k); }
static void r5(GHashTable *t, gpointer k) { r6(t, k); }
static void r4(GHashTable *t, gpointer k) { r5(t, k); }
static void r3(GHashTable *t, gpointer k) { r4(t, k); }
static void r2(GHashTable *t, gpointer k) { r3(t, k); }
static void r1(GHashTable *t, gpointer k) { r2(t, k); }
static void read_deep(gpointer k, gpointer v, gpointer ud) { r1(ud, k); }
void read_all(void) { g_hash_table_foreach(g_nodes, read_deep, g_nodes); }
