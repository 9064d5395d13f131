// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- -- -I%S/Inputs
// A table with no destroy function whose values a walk cleaned just before it
// drops them (`g_hash_table_foreach (t, free_each, NULL);
// g_hash_table_remove_all (t);`, drains.c), the walk made through a wrapper:
// one that passes its function-pointer parameter to g_hash_table_foreach, or
// calls it for each entry of its own GHashTableIter loop (bench/realworld
// R31's shape), handing it the loop's value. A wrapper that hands its callback
// the key, walks another table, or whose callback does not clean the value
// stays reported.
#include "removal-glib.h"
#include <stdlib.h>
#include <tsmap/annotations.h>

struct timer;
void timer_cancel(struct timer *t);

typedef struct watch {
  TSMAP_CLEANUP(timer_cancel) struct timer *idle;
} Watch;

static void watch_free(Watch *w) {
  timer_cancel(w->idle);
  free(w);
}

static GHashTable *g_watches; /* no destroy function: the caller owns values */
static GHashTable *g_other;

void watches_init(void) {
  g_watches = g_hash_table_new(g_str_hash, g_str_equal);
  g_other = g_hash_table_new(g_str_hash, g_str_equal);
}
void watch_add(const char *path, Watch *w) {
  if (!g_hash_table_lookup(g_watches, path))
    g_hash_table_insert(g_watches, (gpointer)path, w);
  if (!g_hash_table_lookup(g_other, path))
    g_hash_table_insert(g_other, (gpointer)path, w);
}

static void free_each(gpointer key, gpointer value, gpointer user_data) { watch_free(value); }
static void log_each(gpointer key, gpointer value, gpointer user_data) {}
typedef void (*visit_fn)(gpointer item, gpointer user_data);
static void free_item(gpointer item, gpointer user_data) { watch_free(item); }

static void each(GHashTable *t, GHFunc fn, gpointer d) { g_hash_table_foreach(t, fn, d); }
static void each_value(GHashTable *t, visit_fn fn, gpointer d) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, &k, &v))
    fn(v, d);
}
static void each_key(GHashTable *t, visit_fn fn, gpointer d) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, &k, &v))
    fn(k, d);
}

void reset_wrapped(void) {
  each(g_watches, free_each, NULL);
  g_hash_table_remove_all(g_watches); // quiet: cleaned just before
}
void reset_looped(void) {
  each_value(g_watches, free_item, NULL);
  g_hash_table_remove_all(g_watches); // quiet: cleaned just before
}
void reset_keys(void) {
  each_key(g_watches, free_item, NULL);
  g_hash_table_remove_all(g_watches);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: value removed by 'g_hash_table_remove_all' is discarded and the map has no eviction hook
}
void reset_other(void) {
  each_value(g_other, free_item, NULL);
  g_hash_table_remove_all(g_watches);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: value removed by 'g_hash_table_remove_all' is discarded and the map has no eviction hook
}
void reset_leaky(void) {
  each(g_watches, log_each, NULL);
  g_hash_table_remove_all(g_watches);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: value removed by 'g_hash_table_remove_all' is discarded and the map has no eviction hook
}
