// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=NOMODEL %s tsmap-remove-without-cleanup %t -- -config="{CheckOptions: {ContractModels: ''}}" -- -I%S/Inputs
// GLib through the shipped model (option ContractModels, default 'glib;liburcu;libvirt'):
// g_hash_table_steal_extended's stolen_value is a removed_out parameter and
// g_hash_table_insert replaces. With the models off, nothing is known.
// The tables' destroy functions: tsmap-remove-without-cleanup-glib-tables.c.
#include "removal-glib.h"
#include <stddef.h>
#include <tsmap/annotations.h>

struct timer;
void timer_cancel(struct timer *t);
struct watch {
  TSMAP_CLEANUP(timer_cancel) struct timer *poll;
};

static GHashTable *g_watches;
extern GHashTable *g_made_elsewhere;

void watches_init(void) { g_watches = g_hash_table_new(g_str_hash, g_str_equal); }

void unwatch(const char *path) {
  struct watch *w = NULL;
  if (!g_hash_table_steal_extended(g_watches, path, NULL, (gpointer *)&w))
    return;
  g_free(w);
}
// CHECK-MESSAGES: :[[@LINE-4]]:8: warning: value removed by 'g_hash_table_steal_extended' into 'w' is not cleaned up on every path; its field 'poll' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]

void rewatch(char *path, struct watch *w) {
  g_hash_table_insert(g_watches, path, w);
}
// CHECK-MESSAGES: :[[@LINE-2]]:3: warning: 'g_hash_table_insert' may overwrite a value and the map has no eviction hook; its field 'poll' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]

// A table created in another file may have any destroy function: quiet.
void rewatch_elsewhere(char *path, struct watch *w) {
  g_hash_table_insert(g_made_elsewhere, path, w);
}

// ---- Quiet ----------------------------------------------------------------

void unwatch_clean(const char *path) {
  struct watch *w = NULL;
  if (!g_hash_table_steal_extended(g_watches, path, NULL, (gpointer *)&w))
    return;
  timer_cancel(w->poll);
  g_free(w);
}
