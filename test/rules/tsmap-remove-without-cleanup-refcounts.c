// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- -- -I%S/Inputs
//
// Reference-counted values: the map held one reference. Dropping it and
// cleaning only on the last release is complete (the other holders clean the
// value when they drop theirs), inline as in a release helper; every spelling
// of the last-reference test counts. A test of another object's count, a
// release that frees without the cleanup, or no test at all still warn.

#include "removal-session.h"
#include <stdatomic.h>

#define g_atomic_int_dec_and_test(atomic)                                      \
  (__extension__({ __atomic_fetch_sub((atomic), 1, __ATOMIC_SEQ_CST) == 1; }))

struct rsession {
  int id;
  int refs;
  atomic_int arefs;
  TSMAP_CLEANUP(timer_cancel) struct timer *idle;
};
static void rsession_close(struct rsession *s) {
  timer_cancel(s->idle);
  free(s);
}
smap *g_sessions;

void glib_spelling(int id) {
  struct rsession *s;
  if (smap_steal(g_sessions, id, (void **)&s) && g_atomic_int_dec_and_test(&s->refs))
    rsession_close(s);
}

void c11_spelling(int id) {
  struct rsession *s;
  if (!smap_steal(g_sessions, id, (void **)&s))
    return;
  if (atomic_fetch_sub(&s->arefs, 1) == 1)
    rsession_close(s);
}

void plain_counts(int id) {
  struct rsession *s;
  if (!smap_steal(g_sessions, id, (void **)&s))
    return;
  if (--s->refs == 0)
    rsession_close(s);
}

void early_return(int id) {
  struct rsession *s;
  if (!smap_steal(g_sessions, id, (void **)&s))
    return;
  if (!g_atomic_int_dec_and_test(&s->refs))
    return;
  rsession_close(s);
}

void last_release_frees(int id) {
  struct rsession *s;
  if (!smap_steal(g_sessions, id, (void **)&s))
    return;
  // CHECK-MESSAGES: :[[@LINE-2]]:8: warning: value removed by 'smap_steal' into 's' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  if (g_atomic_int_dec_and_test(&s->refs))
    free(s);
}

void another_count(int id, struct rsession *owner) {
  struct rsession *s;
  if (!smap_steal(g_sessions, id, (void **)&s))
    return;
  // CHECK-MESSAGES: :[[@LINE-2]]:8: warning: value removed by 'smap_steal' into 's' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  if (g_atomic_int_dec_and_test(&owner->refs))
    rsession_close(s);
}

void not_a_decrement(int id) {
  struct rsession *s;
  if (!smap_steal(g_sessions, id, (void **)&s))
    return;
  // CHECK-MESSAGES: :[[@LINE-2]]:8: warning: value removed by 'smap_steal' into 's' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  if (s->refs == 1)
    rsession_close(s);
}
