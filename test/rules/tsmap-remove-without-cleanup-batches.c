// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- -- -I%S/Inputs
// Values removed into a local batch (`batch[n++] = s;`) and released in a
// second loop (`for (i = 0; i < n; i++)`): once an element was given the value
// and the counter moved past it, that loop runs at least once, so the path on
// which it runs zero times is not followed. Still reported: a loop that skips
// elements, starts past the first, or runs after the counter was reset.
#include "removal-session.h"

extern smap *g_sessions;
static void session_close(struct session *s) { timer_cancel(s->idle); free(s); }
static void session_free(struct session *s) { free(s); }
struct pending { struct session *items[16]; int n; };

// ---- Quiet: every batched value is released ----------------------------------

void reap(const int *ids, int n) {
  struct session *batch[16];
  int nb = 0;
  for (int i = 0; i < n && nb < 16; i++) {
    struct session *s = NULL;
    if (smap_remove(g_sessions, ids[i], &s) == SMAP_OK)
      batch[nb++] = s;
  }
  for (int i = 0; i < nb; i++)
    session_close(batch[i]);
}

void reap_index_then_bump(const int *ids, int n) {
  struct session *batch[16];
  int nb = 0;
  for (int i = 0; i < n && nb < 16; i++) {
    struct session *s = NULL;
    if (smap_remove(g_sessions, ids[i], &s) != SMAP_OK)
      continue;
    batch[nb] = s;
    nb++;
  }
  for (int i = 0; nb > i; ++i)
    session_close(batch[i]);
}

void reap_pop(const int *ids, int n) {
  struct session *batch[16];
  unsigned nb = 0;
  for (int i = 0; i < n && nb < 16; i++) {
    struct session *s = NULL;
    if (smap_remove(g_sessions, ids[i], &s) == SMAP_OK)
      batch[nb++] = s;
  }
  while (nb > 0)
    session_close(batch[--nb]);
}

void reap_struct_counter(const int *ids, int n) {
  struct pending p = {0};
  for (int i = 0; i < n && p.n < 16; i++) {
    struct session *s = NULL;
    if (smap_remove(g_sessions, ids[i], &s) == SMAP_OK)
      p.items[p.n++] = s;
  }
  int i;
  for (i = 0; i < p.n; i++)
    session_close(p.items[i]);
}

void reap_guarded(const int *ids, int n) {
  struct session *batch[16];
  int nb = 0;
  for (int i = 0; i < n && nb < 16; i++) {
    struct session *s = NULL;
    if (smap_remove(g_sessions, ids[i], &s) == SMAP_OK)
      batch[nb++] = s;
  }
  if (nb == 0)
    return;
  for (int i = 0; i < nb; i++)
    session_close(batch[i]);
}

// ---- Reported -------------------------------------------------------------------

void reap_some(const int *ids, int n) {
  struct session *batch[16];
  int nb = 0;
  for (int i = 0; i < n && nb < 16; i++) {
    struct session *s = NULL;
    if (smap_remove(g_sessions, ids[i], &s) == SMAP_OK)
    // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: value removed by 'smap_remove' into 's' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
      batch[nb++] = s;
  }
  for (int i = 0; i < nb; i++)
    if (batch[i]->id & 1) /* the others keep their timer */
      session_close(batch[i]);
}

void reap_from_one(const int *ids, int n) {
  struct session *batch[16];
  int nb = 0;
  for (int i = 0; i < n && nb < 16; i++) {
    struct session *s = NULL;
    if (smap_remove(g_sessions, ids[i], &s) == SMAP_OK)
    // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: value removed by 'smap_remove' into 's' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
      batch[nb++] = s;
  }
  for (int i = 1; i < nb; i++) /* batch[0] is never released */
    session_close(batch[i]);
}

void reap_reset(const int *ids, int n) {
  struct session *batch[16];
  int nb = 0;
  for (int i = 0; i < n && nb < 16; i++) {
    struct session *s = NULL;
    if (smap_remove(g_sessions, ids[i], &s) == SMAP_OK)
    // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: value removed by 'smap_remove' into 's' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
      batch[nb++] = s;
  }
  nb = 0; /* the batch is dropped */
  for (int i = 0; i < nb; i++)
    session_close(batch[i]);
}

void reap_freed(const int *ids, int n) {
  struct session *batch[16];
  int nb = 0;
  for (int i = 0; i < n && nb < 16; i++) {
    struct session *s = NULL;
    if (smap_remove(g_sessions, ids[i], &s) == SMAP_OK)
    // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: value removed by 'smap_remove' into 's' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
      batch[nb++] = s;
  }
  for (int i = 0; i < nb; i++)
    session_free(batch[i]);
}

// ---- Batches released by a helper, and removals straight into the batch ------

void log_id(int id);
static void pending_close(struct pending *p) {
  for (int i = 0; i < p->n; i++)
    session_close(p->items[i]);
}
static void pending_log(struct pending *p) {
  for (int i = 0; i < p->n; i++)
    log_id(p->items[i]->id);
}

void reap_into_helper(int id) {
  struct pending p = {.n = 0};
  struct session *s;
  if (smap_remove(g_sessions, id, &s) == SMAP_OK)
    p.items[p.n++] = s;
  pending_close(&p); /* quiet: it closes every element */
}

void reap_into_logger(int id) {
  struct pending p = {.n = 0};
  struct session *s;
  if (smap_remove(g_sessions, id, &s) == SMAP_OK)
  // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: value removed by 'smap_remove' into 's' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
    p.items[p.n++] = s;
  pending_log(&p); /* reads the elements, cleans none */
}

void reap_straight_in(const int *ids, int n) {
  struct session *dead[16];
  int nd = 0;
  for (int i = 0; i < n && nd < 16; i++)
    if (smap_remove(g_sessions, ids[i], &dead[nd]) == SMAP_OK)
      nd++;
  for (int i = 0; i < nd; i++) /* quiet */
    session_close(dead[i]);
}

void reap_straight_in_overwritten(const int *ids, int n) {
  struct session *dead[16];
  int nd = 0;
  for (int i = 0; i < n && nd < 16; i++)
    if (smap_remove(g_sessions, ids[i], &dead[nd]) == SMAP_OK)
    // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: value removed by 'smap_remove' into 'dead[nd]' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
      log_id(nd); /* the counter never moves: the next removal overwrites */
  for (int i = 0; i < nd; i++)
    session_close(dead[i]);
}
