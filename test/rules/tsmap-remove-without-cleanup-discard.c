// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- -- -I%S/Inputs
// Discarded values: a null TSMAP_REMOVED_OUT argument, a TSMAP_REPLACES put
// with no out-parameter, an ignored TSMAP_RETURNS_REMOVED result. The map's
// TSMAP_EVICTS_WITH hook must perform the cleanup.
#include "removal-session.h"

static void session_evict(void *value) {
  struct session *s = value;
  timer_cancel(s->idle);
  free(s);
}
static void session_forget(void *value) {
  free(value);
}
void session_hook_elsewhere(void *value); /* body not visible: trusted */

smap *g_plain;                                        /* no hook */
TSMAP_EVICTS_WITH(session_evict) smap *g_cleaned;     /* hook that cleans */
TSMAP_EVICTS_WITH(session_forget) smap *g_forgetful;  /* hook that does not */
TSMAP_EVICTS_WITH(session_hook_elsewhere) smap *g_far;

/* Each map's value type is learned from its typed uses. */
void add(smap *unused, struct session *s) {
  (void)unused;
  smap_put(g_plain, s->id, &s, NULL);
  smap_put(g_cleaned, s->id, &s, NULL);
  smap_put(g_forgetful, s->id, &s, NULL);
  smap_put(g_far, s->id, &s, NULL);
}
// CHECK-NOTES: :[[@LINE-5]]:3: warning: 'smap_put' may overwrite a value and the map has no eviction hook; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
// CHECK-NOTES: removal-session.h:31:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here
// CHECK-NOTES: :[[@LINE-5]]:3: warning: 'smap_put' may overwrite a value, and the map's eviction hook 'session_forget' does not call 'timer_cancel'; its field 'idle' keeps a resource that is never released [tsmap-remove-without-cleanup]
// CHECK-NOTES: :12:13: note: eviction hook 'session_forget' does not call 'timer_cancel'
// CHECK-NOTES: removal-session.h:31:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here

void forget(int id) {
  smap_remove(g_plain, id, NULL);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: value removed by 'smap_remove' is discarded and the map has no eviction hook; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  // CHECK-NOTES: removal-session.h:31:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here
}

void forget_to_bad_hook(int id) {
  smap_remove(g_forgetful, id, NULL);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: value removed by 'smap_remove' is discarded to eviction hook 'session_forget', which does not call 'timer_cancel'; its field 'idle' keeps a resource that is never released [tsmap-remove-without-cleanup]
  // CHECK-NOTES: :12:13: note: eviction hook 'session_forget' does not call 'timer_cancel'
  // CHECK-NOTES: removal-session.h:31:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here
}

void set_plain(struct session *s) {
  smap_set(g_plain, s->id, s);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: 'smap_set' may overwrite a value and the map has no eviction hook; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  // CHECK-NOTES: removal-session.h:31:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here
}

void take_ignored(int id) {
  (void)smap_take(g_cleaned, id);
  // CHECK-NOTES: :[[@LINE-1]]:9: warning: result of 'smap_take' is a removed value and is ignored; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  // CHECK-NOTES: removal-session.h:31:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here
}

// ---- Quiet ----------------------------------------------------------------

void forget_to_good_hook(int id) { smap_remove(g_cleaned, id, NULL); }
void forget_to_far_hook(int id) { smap_remove(g_far, id, NULL); }
void set_cleaned(struct session *s) { smap_set(g_cleaned, s->id, s); }

/* The old value comes back through old_out only when the put replaced. */
void put_and_close_old(struct session *s) {
  struct session *old = NULL;
  if (smap_put(g_plain, s->id, &s, &old) != SMAP_REPLACED)
    return;
  timer_cancel(old->idle);
  free(old);
}
void put_status_var(struct session *s) {
  struct session *old = NULL;
  smap_status st = smap_put(g_plain, s->id, &s, &old);
  if (st == SMAP_OK)
    return; /* inserted: nothing was replaced */
  if (st == SMAP_REPLACED) {
    timer_cancel(old->idle);
    free(old);
  }
}

/* A map of plain ints carries no cleanup. */
smap *g_counts;
void count(int id) {
  int n = 0;
  smap_remove(g_counts, id, &n);
  smap_remove(g_counts, id, NULL);
  smap_set(g_counts, id, &n);
}

/* A map passed in by the caller: its hook is the caller's business. */
void forget_in(smap *m, int id) { smap_remove(m, id, NULL); }
void set_in(smap *m, struct session *s) { smap_set(m, s->id, s); }
smap *map_for(int id);
void set_computed(struct session *s) { smap_set(map_for(s->id), s->id, s); }

void take_in_loop(int n) {
  for (int i = 0; i < n; ++i)
    smap_take(g_cleaned, i);
  // CHECK-NOTES: :[[@LINE-1]]:5: warning: result of 'smap_take' is a removed value and is ignored; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  // CHECK-NOTES: removal-session.h:31:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here
}
