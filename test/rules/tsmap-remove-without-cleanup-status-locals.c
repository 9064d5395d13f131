// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- -- -I%S/Inputs
// A removal's outcome kept as a test in a local (`bool removed = smap_remove
// (...) == SMAP_OK;`) and branched on later reads as the test itself: the side
// where it failed removed nothing. Still reported: a local assigned again
// (it no longer holds the test), and a success path that drops the resource.
#include "removal-session.h"

extern smap *g_m;

int drop(int id) { // quiet
  struct session *s = NULL;
  bool removed = smap_remove(g_m, id, &s) == SMAP_OK;
  if (!removed)
    return -1;
  timer_cancel(s->idle);
  free(s);
  return 0;
}

int drop_missing(int id) { // quiet: `!=` kept
  struct session *s = NULL;
  bool missing = smap_remove(g_m, id, &s) != SMAP_OK;
  if (missing)
    return -1;
  timer_cancel(s->idle);
  free(s);
  return 0;
}

int drop_leaky(int id) {
  struct session *s = NULL;
  bool removed = smap_remove(g_m, id, &s) == SMAP_OK;
  // CHECK-MESSAGES: :[[@LINE-1]]:18: warning: value removed by 'smap_remove' into 's' is not cleaned up on every path
  if (!removed)
    return -1;
  free(s);
  return 0;
}

int drop_reassigned(int id, bool force) {
  struct session *s = NULL;
  bool removed = smap_remove(g_m, id, &s) == SMAP_OK;
  // CHECK-MESSAGES: :[[@LINE-1]]:18: warning: value removed by 'smap_remove' into 's' is not cleaned up on every path
  if (force)
    removed = false;
  if (!removed)
    return -1;
  timer_cancel(s->idle);
  free(s);
  return 0;
}
