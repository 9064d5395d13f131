// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- -- -I%S/Inputs
//
// A secondary index: a table without a value destroy function that a
// function fills with the same value it puts into a table that owns its
// values (one with a destroy function that cleans) holds borrowed pointers;
// removing from it, overwriting in it or destroying it releases nothing. A
// table without a destroy function that holds values no owning table gets
// still leaks them.
#include "removal-glib.h"
#include <tsmap/annotations.h>

struct timer;
void timer_cancel(struct timer *t);
typedef struct {
  char *path;
  int fd;
  TSMAP_CLEANUP(timer_cancel) struct timer *poll;
} Watch;
static void watch_free(gpointer p) {
  Watch *w = p;
  timer_cancel(w->poll);
  g_free(w);
}

typedef struct { GHashTable *watches, *by_fd, *pending; } Monitor;

void mon_init(Monitor *m) {
  m->watches = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, watch_free);
  m->by_fd = g_hash_table_new(g_str_hash, g_str_equal);
  m->pending = g_hash_table_new(g_str_hash, g_str_equal);
}
void mon_add(Monitor *m, Watch *w) {
  g_hash_table_insert(m->watches, w->path, w);
  g_hash_table_insert(m->by_fd, &w->fd, w); /* quiet: borrowed */
}
void mon_del(Monitor *m, Watch *w) {
  g_hash_table_remove(m->by_fd, &w->fd); /* quiet */
  g_hash_table_remove(m->watches, w->path);
}
void mon_fini(Monitor *m) {
  g_hash_table_destroy(m->by_fd); /* quiet */
  g_hash_table_destroy(m->watches);
}

// Only ever filled alone: the table holds its values.
void mon_defer(Monitor *m, Watch *w) {
  g_hash_table_insert(m->pending, w->path, w);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'g_hash_table_insert' may overwrite a value and the map has no eviction hook; its field 'poll' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
}
void mon_forget(Monitor *m, const char *path) {
  g_hash_table_remove(m->pending, path);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: value removed by 'g_hash_table_remove' is discarded and the map has no eviction hook; its field 'poll' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
}
// Another watch than the one the owner got: not the same value.
void mon_add_other(Monitor *m, Watch *w, Watch *v) {
  g_hash_table_insert(m->watches, w->path, w);
  g_hash_table_insert(m->pending, v->path, v);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'g_hash_table_insert' may overwrite a value and the map has no eviction hook; its field 'poll' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
}
