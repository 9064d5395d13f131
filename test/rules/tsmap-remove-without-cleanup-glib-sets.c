// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- -- -I%S/Inputs
// GLib's sets: g_hash_table_add (t, w) is g_hash_table_replace (t, w, w). The
// entry's key is its value, so the key destroy function is the hook of the
// values the set drops: an add may overwrite as the insert of the same
// pair does, and a removal hands the value to the key destroy function.
#include "removal-glib.h"
#include <tsmap/annotations.h>

struct timer;
void timer_cancel(struct timer *t);
typedef struct {
  char *path;
  TSMAP_CLEANUP(timer_cancel) struct timer *poll;
} Watch;
static void watch_forget(gpointer p) { g_free(p); } /* forgets the timer */
static void watch_close(gpointer p) {
  Watch *w = p;
  timer_cancel(w->poll);
  g_free(w);
}
static GHashTable *g_leaky_set, *g_clean_set;

void sets_init(void) {
  g_leaky_set = g_hash_table_new_full(g_str_hash, g_str_equal, watch_forget, NULL);
  g_clean_set = g_hash_table_new_full(g_str_hash, g_str_equal, watch_close, NULL);
}
void sets_add(Watch *w) {
  g_hash_table_add(g_leaky_set, w);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'g_hash_table_add' may overwrite a value, and the map's eviction hook 'watch_forget' does not call 'timer_cancel'; its field 'poll' keeps a resource that is never released [tsmap-remove-without-cleanup]
  g_hash_table_add(g_clean_set, w); /* quiet */
}
void sets_del(Watch *w) {
  g_hash_table_remove(g_leaky_set, w);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: value removed by 'g_hash_table_remove' is discarded to eviction hook 'watch_forget', which does not call 'timer_cancel'; its field 'poll' keeps a resource that is never released [tsmap-remove-without-cleanup]
  g_hash_table_remove(g_clean_set, w); /* quiet */
}
