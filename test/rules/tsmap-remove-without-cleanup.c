// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- -- -I%S/Inputs
// Received values: every path from the removal to the exit must clean up the
// value or hand it on.
#include "removal-session.h"

extern smap *g_sessions;
extern struct session *g_closing;
void audit_log(struct session *s); /* no body: may keep it */

// ---- Reported -------------------------------------------------------------

void drop_session(int id) {
  struct session *s = NULL;
  if (smap_remove(g_sessions, id, &s) != SMAP_OK)
  // CHECK-NOTES: :[[@LINE-1]]:7: warning: value removed by 'smap_remove' into 's' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
    return;
  free(s); // free is a deallocator, not a hand-off
  // CHECK-NOTES: :[[@LINE-1]]:3: note: 's' is destroyed here without 'timer_cancel'; 'free' is a deallocator, not a hand-off
}
// CHECK-NOTES: :[[@LINE-1]]:1: note: 's' is neither cleaned up with 'timer_cancel' nor handed on before the function ends here
// CHECK-NOTES: removal-session.h:31:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here

void drop_unless_flagged(int id, int flag) {
  struct session *s;
  if (smap_remove(g_sessions, id, &s) != SMAP_OK)
  // CHECK-NOTES: :[[@LINE-1]]:7: warning: value removed by 'smap_remove' into 's' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
    return;
  if (flag)
    return;
  // CHECK-NOTES: :[[@LINE-1]]:5: note: 's' is neither cleaned up with 'timer_cancel' nor handed on before the function returns here
// CHECK-NOTES: removal-session.h:31:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here
  timer_cancel(s->idle);
  free(s);
}

struct session *take_only(int id);
void take_and_free(int id) {
  struct session *s = smap_take(g_sessions, id);
  // CHECK-NOTES: :[[@LINE-1]]:23: warning: value removed by 'smap_take' into 's' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  if (!s)
    return;
  free(s);
  // CHECK-NOTES: :[[@LINE-1]]:3: note: 's' is destroyed here without 'timer_cancel'; 'free' is a deallocator, not a hand-off
}
// CHECK-NOTES: :[[@LINE-1]]:1: note: 's' is neither cleaned up with 'timer_cancel' nor handed on before the function ends here
// CHECK-NOTES: removal-session.h:31:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here

// ---- Quiet ----------------------------------------------------------------

void close_session(int id) {
  struct session *s;
  if (smap_remove(g_sessions, id, &s) != SMAP_OK)
    return;
  timer_cancel(s->idle);
  free(s);
}

static void session_release(struct session *s) {
  timer_cancel(s->idle);
  free(s);
}

void close_with_helper(int id) {
  struct session *s;
  if (smap_remove(g_sessions, id, &s) == SMAP_OK)
    session_release(s);
}

struct session *detach(int id) {
  struct session *s = NULL;
  if (smap_remove(g_sessions, id, &s) != SMAP_OK)
    return NULL;
  return s;
}

void park(int id) {
  struct session *s = NULL;
  smap_remove(g_sessions, id, &s);
  g_closing = s;
}

void hand_to_unknown(int id) {
  struct session *s = NULL;
  if (smap_remove(g_sessions, id, &s) == SMAP_OK)
    audit_log(s);
}

void null_checked(int id) {
  struct session *s = NULL;
  smap_remove(g_sessions, id, &s);
  if (s == NULL)
    return;
  timer_cancel(s->idle);
  free(s);
}

void take_and_close(int id) {
  struct session *s = smap_take(g_sessions, id);
  if (!s)
    return;
  session_release(s);
}

void drain(void) {
  struct session *s;
  while ((s = smap_take(g_sessions, 0)) != NULL) {
    timer_cancel(s->idle);
    free(s);
  }
}

void steal_one(int id) {
  struct session *s;
  if (!smap_steal(g_sessions, id, (void **)&s))
    return;
  session_release(s);
}

// ---- Replacing puts hand the old value back only when they replaced ---------

void put_and_bail(struct session *s) {
  struct session *old = NULL;
  if (smap_put(g_sessions, s->id, &s, &old) != SMAP_OK)
  // CHECK-NOTES: :[[@LINE-1]]:7: warning: value removed by 'smap_put' into 'old' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
    return; /* SMAP_REPLACED lands here with 'old' owned */
  // CHECK-NOTES: :[[@LINE-1]]:5: note: 'old' is neither cleaned up with 'timer_cancel' nor handed on before the function returns here
  // CHECK-NOTES: removal-session.h:31:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here
}

void put_inserted_only(struct session *s) {
  struct session *old = NULL;
  if (smap_put(g_sessions, s->id, &s, &old) == SMAP_OK)
    return; /* inserted: nothing came back */
  if (old)
    session_release(old);
}

// ---- Silenced, and known misses ----------------------------------------------

void drop_silenced(int id) {
  struct session *s = NULL;
  if (smap_remove(g_sessions, id, &s) != SMAP_OK) // NOLINT(tsmap-remove-without-cleanup)
    return;
  free(s);
}

// The reassignment ends the tracking: 'if (s)' no longer tests the removed
// value, which is lost at 's = NULL'.
void drop_after_reset(int id) {
  struct session *s = NULL;
  if (smap_remove(g_sessions, id, &s) != SMAP_OK)
  // CHECK-NOTES: :[[@LINE-1]]:7: warning: value removed by 'smap_remove' into 's' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
    return;
  free(s);
  // CHECK-NOTES: :[[@LINE-1]]:3: note: 's' is destroyed here without 'timer_cancel'; 'free' is a deallocator, not a hand-off
  s = NULL;
  // CHECK-NOTES: :[[@LINE-1]]:3: note: 's' is given another value here before it is cleaned up with 'timer_cancel' or handed on; the removed value is lost
  // CHECK-NOTES: removal-session.h:31:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here
  if (s)
    session_release(s);
}

// Quiet twin: the value is cleaned before the variable is reused.
void release_then_reset(int id) {
  struct session *s = NULL;
  if (smap_remove(g_sessions, id, &s) != SMAP_OK)
    return;
  session_release(s);
  s = NULL;
  if (s)
    free(s);
}

int status_as_int(int id) {
  struct session *s = NULL;
  int rc = (int)smap_remove(g_sessions, id, &s);
  // A status compared with a plain 0 cannot be read: the path ends quietly.
  if (rc != 0)
    return rc;
  session_release(s);
  return 0;
}
