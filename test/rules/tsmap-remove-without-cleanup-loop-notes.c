// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- -- -I%S/Inputs
// A value dropped by a `continue` or `break` of a loop around its removal
// is shown there, not at the function's end; a loop that comes back to the
// removal still says so.
#include "removal-session.h"

extern smap *g_sessions;

void drain_each(const int *ids, int n) {
  for (int i = 0; i < n; i++) {
    struct session *s;
    if (smap_remove(g_sessions, ids[i], &s) != SMAP_OK)
      continue;
    // CHECK-NOTES: :[[@LINE-2]]:9: warning: value removed by 'smap_remove' into 's' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
    if (s->id < 0)
      continue;
    // CHECK-NOTES: :[[@LINE-1]]:7: note: 's' is neither cleaned up with 'timer_cancel' nor handed on before the loop goes on here
    // CHECK-NOTES: removal-session.h:31:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here
    timer_cancel(s->idle);
    free(s);
  }
}

void drain_until(const int *ids, int n) {
  for (int i = 0; i < n; i++) {
    struct session *s;
    if (smap_remove(g_sessions, ids[i], &s) != SMAP_OK)
      continue;
    // CHECK-NOTES: :[[@LINE-2]]:9: warning: value removed by 'smap_remove' into 's' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
    if (s->id < 0)
      break;
    // CHECK-NOTES: :[[@LINE-1]]:7: note: 's' is neither cleaned up with 'timer_cancel' nor handed on before the loop is left here
    // CHECK-NOTES: removal-session.h:31:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here
    timer_cancel(s->idle);
    free(s);
  }
}

int classify(int id) {
  struct session *s;
  if (smap_remove(g_sessions, id, &s) != SMAP_OK)
    return 0;
  // CHECK-NOTES: :[[@LINE-2]]:7: warning: value removed by 'smap_remove' into 's' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  switch (s->id) {
  case 1:
    break; /* a switch's break: the function goes on */
  default:
    timer_cancel(s->idle);
  }
  free(s);
  // CHECK-NOTES: :[[@LINE-1]]:3: note: 's' is destroyed here without 'timer_cancel'; 'free' is a deallocator, not a hand-off
  return 1;
  // CHECK-NOTES: :[[@LINE-1]]:3: note: 's' is neither cleaned up with 'timer_cancel' nor handed on before the function returns here
  // CHECK-NOTES: removal-session.h:31:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here
}
