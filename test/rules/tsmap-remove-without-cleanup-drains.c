// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- -- -I%S/Inputs
// What an independent black-box test found noisy (round 3): a GLib table
// with no destroy function whose foreach_remove callback (or the caller,
// after a lookup) cleans the value; a destroy right after a foreach that took
// every entry; an eviction hook that hands the value to a release function
// the file cannot see (another file, an ops field); tsmap_destroy after
// tsmap_close. Each with the twin that stays reported.
#include "removal-glib.h"
#include <stdlib.h>
#include <tsmap/annotations.h>
#include <tsmap/tsmap.h>

struct timer;
void timer_cancel(struct timer *t);
int g_log_line(const char *fmt, ...);

typedef struct watch {
  int dead;
  TSMAP_CLEANUP(timer_cancel) struct timer *idle;
} Watch;

static void watch_free(Watch *w) {
  timer_cancel(w->idle);
  free(w);
}

static GHashTable *g_watches; /* no destroy function: the caller owns values */

void watches_init(void) { g_watches = g_hash_table_new(g_str_hash, g_str_equal); }

void watch_add(const char *path, Watch *w) {
  if (!g_hash_table_lookup(g_watches, path))
    g_hash_table_insert(g_watches, (gpointer)path, w);
}

static gboolean drop_dead(gpointer key, gpointer value, gpointer user_data) {
  Watch *w = value;
  if (!w->dead)
    return FALSE;
  watch_free(w);
  return TRUE;
}
static gboolean drop_dead_leaky(gpointer key, gpointer value, gpointer user_data) {
  return ((Watch *)value)->dead;
}

void watches_sweep(void) {
  g_hash_table_foreach_remove(g_watches, drop_dead, NULL); // quiet: the callback cleans
  g_hash_table_foreach_remove(g_watches, drop_dead_leaky, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: values removed by 'g_hash_table_foreach_remove' are handed to callback 'drop_dead_leaky', which does not call 'timer_cancel'; the field 'idle' of a removed value keeps a resource that is never released [tsmap-remove-without-cleanup]
}

void watch_drop(const char *path) {
  Watch *w = g_hash_table_lookup(g_watches, path);
  if (!w)
    return;
  g_hash_table_remove(g_watches, path); // quiet: the looked-up value is freed
  watch_free(w);
}

void watch_drop_leaky(const char *path) {
  Watch *w = g_hash_table_lookup(g_watches, path);
  if (!w)
    return;
  g_hash_table_remove(g_watches, path);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: value removed by 'g_hash_table_remove' into 'w' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  free(w);
}

static gboolean take_all(gpointer key, gpointer value, gpointer user_data) {
  watch_free(value);
  return TRUE;
}
static gboolean take_some(gpointer key, gpointer value, gpointer user_data) {
  if (((Watch *)value)->dead) {
    watch_free(value);
    return TRUE;
  }
  return FALSE;
}

void watches_fini(void) {
  g_hash_table_foreach_steal(g_watches, take_all, NULL);
  g_hash_table_destroy(g_watches); // quiet: empty, every entry was taken
}

// Every value cleaned by a foreach just before the table drops them.
static void free_each(gpointer key, gpointer value, gpointer user_data) {
  watch_free(value);
}
static void log_each(gpointer key, gpointer value, gpointer user_data) {
  (void)((Watch *)value)->dead;
}
void watches_reset(void) {
  g_hash_table_foreach(g_watches, free_each, NULL);
  g_hash_table_remove_all(g_watches); // quiet: cleaned just before
}
void watches_reset_leaky(void) {
  g_hash_table_foreach(g_watches, log_each, NULL);
  g_hash_table_remove_all(g_watches);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: value removed by 'g_hash_table_remove_all' is discarded and the map has no eviction hook; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
}

void watches_fini_partly(void) {
  g_hash_table_foreach_remove(g_watches, take_some, NULL);
  g_hash_table_destroy(g_watches);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: values left in 'g_watches' by 'g_hash_table_destroy' are discarded and the map has no eviction hook; the field 'idle' of each keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
}

/* tsmap: hooks that hand the value on to what the file cannot see */
struct conn {
  unsigned long id;
  TSMAP_CLEANUP(timer_cancel) struct timer *idle;
};
void conn_unref(struct conn *c); /* another file: cancels, frees */
struct pool_ops { void (*release)(struct conn *); };

static void evict_extern(const void *k, size_t n, void *v, tsmap_evict_reason r,
                         void *ctx) {
  conn_unref(*(struct conn **)v);
}
static void evict_ops(const void *k, size_t n, void *v, tsmap_evict_reason r,
                      void *ctx) {
  const struct pool_ops *ops = ctx;
  ops->release(*(struct conn **)v);
}
static void evict_logged(const void *k, size_t n, void *v, tsmap_evict_reason r,
                         void *ctx) {
  struct conn *c = *(struct conn **)v;
  g_log_line("evicted %lu", c->id); /* a logger: not a release function */
  free(c);
}

/* Hooks that only hand the value to the C library, or to a variadic logger
 * through a function pointer: no release function, not trusted. */
size_t strlen(const char *s);
struct log_ops { void (*log)(const char *fmt, ...); };
extern const struct log_ops *g_log_ops;
static void evict_strlen(const void *k, size_t n, void *v, tsmap_evict_reason r,
                         void *ctx) {
  struct conn *c = *(struct conn **)v;
  if (strlen((const char *)c) > 3)
    free(c);
}
static void evict_log_ops(const void *k, size_t n, void *v, tsmap_evict_reason r,
                          void *ctx) {
  struct conn *c = *(struct conn **)v;
  g_log_ops->log("evicted %p", (void *)c);
  free(c);
}
static TSMAP_EVICTS_WITH(evict_strlen) tsmap *g_strlen;
static TSMAP_EVICTS_WITH(evict_log_ops) tsmap *g_log_opsed;

void conns_put_logged(struct conn *c) {
  tsmap_put_ptr(g_strlen, &c->id, sizeof c->id, c, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'tsmap_put_ptr' may overwrite a value, and the map's eviction hook 'evict_strlen' does not call 'timer_cancel'; its field 'idle' keeps a resource that is never released [tsmap-remove-without-cleanup]
  tsmap_put_ptr(g_log_opsed, &c->id, sizeof c->id, c, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'tsmap_put_ptr' may overwrite a value, and the map's eviction hook 'evict_log_ops' does not call 'timer_cancel'; its field 'idle' keeps a resource that is never released [tsmap-remove-without-cleanup]
}

static TSMAP_EVICTS_WITH(evict_extern) tsmap *g_sessions;
static TSMAP_EVICTS_WITH(evict_ops) tsmap *g_pool;
static TSMAP_EVICTS_WITH(evict_logged) tsmap *g_logged;
static tsmap *g_plain;

void conns_put(struct conn *c) {
  tsmap_put_ptr(g_sessions, &c->id, sizeof c->id, c, NULL); // quiet: conn_unref may clean
  tsmap_put_ptr(g_pool, &c->id, sizeof c->id, c, NULL);     // quiet: the op may clean
  tsmap_put_ptr(g_logged, &c->id, sizeof c->id, c, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'tsmap_put_ptr' may overwrite a value, and the map's eviction hook 'evict_logged' does not call 'timer_cancel'; its field 'idle' keeps a resource that is never released [tsmap-remove-without-cleanup]
  tsmap_put_ptr_if_absent(g_plain, &c->id, sizeof c->id, c, NULL);
}

void conns_fini(void) {
  tsmap_destroy(g_sessions); // quiet
  tsmap_close(g_plain);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: values left in 'g_plain' by 'tsmap_close' are discarded and the map has no eviction hook; the field 'idle' of each keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  tsmap_destroy(g_plain); // quiet: closed just before, it holds nothing
}
