// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- -- -I%S/Inputs
//
// The note on a hook that does not clean points where the user can change
// it: at the hook's definition when this file has its body, at the table's
// creation (which installed it) when the hook is a library's function with no
// body here (g_free), whose declaration in a header shows nothing.
#include "removal-glib.h"
#include <tsmap/annotations.h>

struct timer;
void timer_cancel(struct timer *t);
typedef struct Watch {
  char *path;
  TSMAP_CLEANUP(timer_cancel) struct timer *idle;
} Watch;

static GHashTable *g_by_free; /* values go to g_free: the timer is not cancelled */
static GHashTable *g_by_drop; /* values go to watch_drop, which forgets the timer */

static void watch_drop(gpointer p) { g_free(p); }

void watches_init(void) {
  g_by_free = g_hash_table_new_full(NULL, NULL, NULL, g_free);
  g_by_drop = g_hash_table_new_full(NULL, NULL, NULL, watch_drop);
}

void watch_set(Watch *w) {
  g_hash_table_replace(g_by_free, w->path, w);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: 'g_hash_table_replace' may overwrite a value, and the map's eviction hook 'g_free' does not call 'timer_cancel'; its field 'idle' keeps a resource that is never released [tsmap-remove-without-cleanup]
  // CHECK-NOTES: :23:15: note: eviction hook 'g_free' is installed here and does not call 'timer_cancel'
  // CHECK-NOTES: :14:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here
  g_hash_table_replace(g_by_drop, w->path, w);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: 'g_hash_table_replace' may overwrite a value, and the map's eviction hook 'watch_drop' does not call 'timer_cancel'; its field 'idle' keeps a resource that is never released [tsmap-remove-without-cleanup]
  // CHECK-NOTES: :20:13: note: eviction hook 'watch_drop' does not call 'timer_cancel'
  // CHECK-NOTES: :14:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here
}
