// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=NOMODEL %s tsmap-remove-without-cleanup %t -- -config="{CheckOptions: {ContractModels: ''}}" -- -I%S/Inputs
// GLib's value lifecycle: the value destroy function given to
// g_hash_table_new_full is the table's eviction hook (tracked to the variable
// or field the table is stored in); remove, remove_all and foreach_remove run
// it; steal hands the value to the caller (who holds it from a lookup),
// steal_extended through stolen_value, foreach_steal to its callback; insert
// right after a failed lookup of the same key does not overwrite, replace
// may.
#include "removal-glib.h"
#include <tsmap/annotations.h>

struct timer;
void timer_cancel(struct timer *t);
struct watch {
  char *path;
  TSMAP_CLEANUP(timer_cancel) struct timer *poll;
};
struct watch *watch_new(const char *path);

// ---- The destroy function is the eviction hook --------------------------------

static void watch_drop(gpointer p) { g_free(p); } /* forgets the timer */
static void watch_free(gpointer p) {
  struct watch *w = p;
  timer_cancel(w->poll);
  g_free(w);
}

static GHashTable *g_leaky;  /* destroy function that forgets the timer */
static GHashTable *g_freed;  /* g_free: a deallocator, not a cleanup */
static GHashTable *g_plain;  /* no destroy function at all */
static GHashTable *g_clean;  /* destroy function that cancels the timer */

typedef struct { GHashTable *by_path; GHashTable *by_id; } Monitor;

void tables_init(Monitor *m) {
  g_leaky = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, watch_drop);
  g_freed = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)g_free);
  g_plain = g_hash_table_new(g_str_hash, g_str_equal);
  g_clean = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, watch_free);
  m->by_path = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, watch_drop);
  m->by_id = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, watch_free);
}

void add_all(struct watch *w, Monitor *m) {
  g_hash_table_replace(g_leaky, w->path, w);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'g_hash_table_replace' may overwrite a value, and the map's eviction hook 'watch_drop' does not call 'timer_cancel'; its field 'poll' keeps a resource that is never released [tsmap-remove-without-cleanup]
  g_hash_table_replace(g_freed, w->path, w);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'g_hash_table_replace' may overwrite a value, and the map's eviction hook 'g_free' does not call 'timer_cancel'; its field 'poll' keeps a resource that is never released [tsmap-remove-without-cleanup]
  g_hash_table_replace(g_clean, w->path, w);
  g_hash_table_replace(m->by_path, w->path, w);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'g_hash_table_replace' may overwrite a value, and the map's eviction hook 'watch_drop' does not call 'timer_cancel'; its field 'poll' keeps a resource that is never released [tsmap-remove-without-cleanup]
  g_hash_table_replace(m->by_id, w->path, w);
}
/* Alone: the same value in an owning table would make g_plain an index of
 * borrowed values (tsmap-remove-without-cleanup-glib-index.c). */
void add_plain(struct watch *w) {
  g_hash_table_replace(g_plain, w->path, w);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'g_hash_table_replace' may overwrite a value and the map has no eviction hook; its field 'poll' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
}

// ---- Removals that run the destroy function ---------------------------------

void unwatch(const char *path) {
  g_hash_table_remove(g_leaky, path);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: value removed by 'g_hash_table_remove' is discarded to eviction hook 'watch_drop', which does not call 'timer_cancel'; its field 'poll' keeps a resource that is never released [tsmap-remove-without-cleanup]
  // CHECK-MESSAGES: :23:13: note: eviction hook 'watch_drop' does not call 'timer_cancel'
  // CHECK-MESSAGES: :17:45: note: field 'poll' is declared TSMAP_CLEANUP(timer_cancel) here
}

void unwatch_all(void) {
  g_hash_table_remove_all(g_plain);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: value removed by 'g_hash_table_remove_all' is discarded and the map has no eviction hook; its field 'poll' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  // CHECK-MESSAGES: :40:13: note: the table is created here without a value destroy function
  // CHECK-MESSAGES: :17:45: note: field 'poll' is declared TSMAP_CLEANUP(timer_cancel) here
}

// Destroying a table, or dropping its last reference, removes every entry through
// the destroy function.
void monitor_free(Monitor *m) {
  g_hash_table_destroy(m->by_path);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: values left in 'm->by_path' by 'g_hash_table_destroy' go to eviction hook 'watch_drop', which does not call 'timer_cancel'; the field 'poll' of each keeps a resource that is never released [tsmap-remove-without-cleanup]
  g_hash_table_destroy(m->by_id);          /* watch_free cleans */
}
void tables_release(void) {
  g_hash_table_unref(g_plain);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: values left in 'g_plain' by 'g_hash_table_unref' are discarded and the map has no eviction hook; the field 'poll' of each keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  g_hash_table_unref(g_clean);             /* watch_free cleans */
}

static gboolean is_stale(gpointer k, gpointer v, gpointer u) { return TRUE; }

void unwatch_stale(Monitor *m) {
  g_hash_table_foreach_remove(m->by_path, is_stale, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: value removed by 'g_hash_table_foreach_remove' is discarded to eviction hook 'watch_drop', which does not call 'timer_cancel'; its field 'poll' keeps a resource that is never released [tsmap-remove-without-cleanup]
  g_hash_table_foreach_remove(m->by_id, is_stale, NULL); /* watch_free cleans */
}

// g_hash_table_iter_remove runs the destroy function of the table the
// iterator was set up with.
void sweep(Monitor *m) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, g_plain);
  while (g_hash_table_iter_next(&it, &k, &v))
    g_hash_table_iter_remove(&it);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: value removed by 'g_hash_table_iter_remove' into 'v' is not cleaned up on every path; its field 'poll' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  g_hash_table_iter_init(&it, m->by_path);
  while (g_hash_table_iter_next(&it, &k, &v))
    g_hash_table_iter_remove(&it);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: value removed by 'g_hash_table_iter_remove' is discarded to eviction hook 'watch_drop', which does not call 'timer_cancel'; its field 'poll' keeps a resource that is never released [tsmap-remove-without-cleanup]
  g_hash_table_iter_init(&it, g_clean);
  while (g_hash_table_iter_next(&it, &k, &v))
    g_hash_table_iter_remove(&it); /* watch_free cleans */
}

// On a table without a value destroy function the caller owns the values:
// the sweep that cleans the value the iterator gave it is GLib's own idiom.
void sweep_owned(long now) {
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, g_plain);
  while (g_hash_table_iter_next(&it, NULL, &v)) {
    struct watch *w = v;
    if (now > 30) {
      g_hash_table_iter_remove(&it); /* quiet: cleaned right here */
      watch_free(w);
    }
  }
  struct watch *t;
  g_hash_table_iter_init(&it, g_plain);
  while (g_hash_table_iter_next(&it, NULL, (gpointer *)&t))
    if (t->path) {
      g_hash_table_iter_remove(&it); /* quiet */
      timer_cancel(t->poll);
    }
}

// Cleaned (or handed on) between the iterator's step and the removal: the
// table drops a pointer the caller already released.
void sweep_clean_first(long now) {
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, g_plain);
  while (g_hash_table_iter_next(&it, NULL, &v)) {
    struct watch *w = v;
    if (now > 30) {
      watch_free(w); /* quiet */
      g_hash_table_iter_remove(&it);
    }
  }
}

void sweep_owned_leaks(long now) {
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, g_plain);
  while (g_hash_table_iter_next(&it, NULL, &v)) {
    struct watch *w = v;
    if (now > w->path[0])
      g_hash_table_iter_remove(&it);
    // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: value removed by 'g_hash_table_iter_remove' into 'v' is not cleaned up on every path; its field 'poll' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
    // CHECK-MESSAGES: :[[@LINE-5]]:10: note: the loop comes back to 'g_hash_table_iter_next', which overwrites 'v' before it is cleaned up with 'timer_cancel' or handed on
  }
  struct watch *t;
  g_hash_table_iter_init(&it, g_plain);
  while (g_hash_table_iter_next(&it, NULL, (gpointer *)&t))
    if (t->path) {
      g_hash_table_iter_remove(&it);
      // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: value removed by 'g_hash_table_iter_remove' into 't' is not cleaned up on every path; its field 'poll' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
      break;
    }
  // CHECK-MESSAGES: :[[@LINE-2]]:7: note: 't' is neither cleaned up with 'timer_cancel' nor handed on before the loop is left here
}

// g_hash_table_iter_steal hands the iterator's last value to the caller, on
// any table (no destroy function runs).
void steal_sweep(long now) {
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, g_clean);
  while (g_hash_table_iter_next(&it, NULL, &v)) {
    struct watch *w = v;
    if (now > 30) {
      g_hash_table_iter_steal(&it); /* quiet: cleaned right here */
      watch_free(w);
    }
  }
  g_hash_table_iter_init(&it, g_clean);
  while (g_hash_table_iter_next(&it, NULL, &v)) {
    struct watch *w = v;
    if (now > 60) {
      g_hash_table_iter_steal(&it);
      // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: value removed by 'g_hash_table_iter_steal' into 'v' is not cleaned up on every path; its field 'poll' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
      g_free(w);
    }
  }
}

void sweep_given(GHashTableIter *it) {
  g_hash_table_iter_remove(it); /* quiet: which table is not seen */
}

void sweep_other(GHashTable *t) {
  GHashTableIter it;
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, NULL, NULL))
    g_hash_table_iter_remove(&it); /* quiet: the caller's table */
}

void unwatch_clean(const char *path) {
  g_hash_table_remove(g_clean, path);
  g_hash_table_remove_all(g_clean);
}

// ---- Steals: the value is the caller's ---------------------------------------

void steal_leak(const char *path) {
  struct watch *w = g_hash_table_lookup(g_clean, path);
  if (!w)
    return;
  g_hash_table_steal(g_clean, path);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: value removed by 'g_hash_table_steal' into 'w' is not cleaned up on every path; its field 'poll' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  g_free(w);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: note: 'w' is destroyed here without 'timer_cancel'; 'g_free' is a deallocator, not a hand-off
}
// CHECK-MESSAGES: :[[@LINE-1]]:1: note: 'w' is neither cleaned up with 'timer_cancel' nor handed on before the function ends here
// CHECK-MESSAGES: :17:45: note: field 'poll' is declared TSMAP_CLEANUP(timer_cancel) here

void steal_clean(const char *path) {
  struct watch *w = g_hash_table_lookup(g_clean, path);
  if (!g_hash_table_steal(g_clean, path))
    return;
  timer_cancel(w->poll);
  g_free(w);
}

struct watch *steal_handed_on(const char *path) {
  struct watch *w = g_hash_table_lookup(g_clean, path);
  g_hash_table_steal(g_clean, path);
  return w;
}

void steal_dropped(const char *path) {
  g_hash_table_steal_extended(g_clean, path, NULL, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: value stolen by 'g_hash_table_steal_extended' is discarded; a steal runs no destroy function, and its field 'poll' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
}

static gboolean take_stale(gpointer k, gpointer v, gpointer u) {
  struct watch *w = v;
  g_free(w);
  return TRUE;
}
static gboolean take_and_cancel(gpointer k, gpointer v, gpointer u) {
  struct watch *w = v;
  timer_cancel(w->poll);
  g_free(w);
  return TRUE;
}

void steal_stale(void) {
  g_hash_table_foreach_steal(g_clean, take_stale, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: values stolen by 'g_hash_table_foreach_steal' are handed to callback 'take_stale', which does not call 'timer_cancel'; the field 'poll' of a stolen value keeps a resource that is never released [tsmap-remove-without-cleanup]
  // CHECK-MESSAGES: :[[@LINE-15]]:17: note: 'take_stale' takes the stolen values; a steal runs no destroy function
  // CHECK-MESSAGES: :17:45: note: field 'poll' is declared TSMAP_CLEANUP(timer_cancel) here
  g_hash_table_foreach_steal(g_clean, take_and_cancel, NULL);
}

// ---- Insert after a failed lookup does not overwrite ---------------------------

struct watch *watch_get(const char *path) {
  struct watch *w = g_hash_table_lookup(g_plain, path);
  if (w)
    return w;
  w = watch_new(path);
  g_hash_table_insert(g_plain, (gpointer)path, w); /* quiet: the key was absent */
  return w;
}

void watch_add_once(char *path, struct watch *w) {
  if (g_hash_table_contains(g_plain, path))
    return;
  g_hash_table_insert(g_plain, path, w); /* quiet */
}

void watch_add_if_absent(char *path, struct watch *w) {
  if (!g_hash_table_lookup(g_plain, path))
    g_hash_table_insert(g_plain, path, w); /* quiet */
}

void watch_add_other_key(char *path, char *other, struct watch *w) {
  if (g_hash_table_contains(g_plain, other))
    return;
  g_hash_table_insert(g_plain, path, w);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'g_hash_table_insert' may overwrite a value and the map has no eviction hook; its field 'poll' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
}

void watch_add_found(char *path, struct watch *w) {
  if (!g_hash_table_contains(g_plain, path))
    return;
  g_hash_table_insert(g_plain, path, w);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'g_hash_table_insert' may overwrite a value and the map has no eviction hook; its field 'poll' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
}

void watch_replace_absent(char *path, struct watch *w) {
  if (g_hash_table_contains(g_plain, path))
    return;
  g_hash_table_replace(g_plain, path, w); /* replace is not read: it overwrites */
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'g_hash_table_replace' may overwrite a value and the map has no eviction hook; its field 'poll' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
}

// ---- A table passed in, or created elsewhere: its destroy function is unknown --

void unwatch_in(GHashTable *t, const char *path) { g_hash_table_remove(t, path); }
extern GHashTable *g_other_file;
void unwatch_other(const char *path) { g_hash_table_remove(g_other_file, path); }

// ---- A steal after g_hash_table_lookup_extended: its value out holds the value --

void steal_extended_lookup_leak(const char *path) {
  gpointer key;
  struct watch *w;
  if (!g_hash_table_lookup_extended(g_clean, path, &key, (gpointer *)&w))
    return;
  g_hash_table_steal(g_clean, path);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: value removed by 'g_hash_table_steal' into 'w' is not cleaned up on every path; its field 'poll' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  g_free(w);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: note: 'w' is destroyed here without 'timer_cancel'; 'g_free' is a deallocator, not a hand-off
}

void steal_extended_lookup_clean(const char *path) {
  gpointer key;
  struct watch *w;
  if (!g_hash_table_lookup_extended(g_clean, path, &key, (gpointer *)&w))
    return;
  g_hash_table_steal(g_clean, path);
  timer_cancel(w->poll);
  g_free(w);
}

void steal_extended_lookup_other_key(const char *path, const char *other) {
  gpointer key;
  struct watch *w;
  if (!g_hash_table_lookup_extended(g_clean, other, &key, (gpointer *)&w))
    return;
  g_hash_table_steal(g_clean, path); /* another key: w is not what it steals */
  g_free(w);
}

// With no lookup in the function, where the caller holds the value is not seen.
void steal_no_lookup(struct watch *w) {
  g_hash_table_steal(g_clean, w->path);
  g_free(w);
}
