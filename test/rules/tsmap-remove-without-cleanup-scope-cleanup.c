// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- -- -I%S/Inputs
// A removed value received into a variable with a cleanup attribute
// (`__attribute__((cleanup(f)))`, what GLib's g_autoptr(T) expands to) is
// given to `f(&v)` at the function's exit: a cleanup function that releases
// the resource is the cleanup; one that only frees is not.
#include "removal-session.h"

extern smap *g_m;

static void session_close(struct session *s) {
  if (!s)
    return;
  timer_cancel(s->idle);
  free(s);
}
static void session_closep(struct session **sp) { session_close(*sp); }
static void session_freep(struct session **sp) { free(*sp); }

int drop_scoped(int id) { // quiet
  __attribute__((cleanup(session_closep))) struct session *s = NULL;
  if (smap_remove(g_m, id, &s) != SMAP_OK)
    return -1;
  return 0;
}

int drop_scoped_freed(int id) {
  __attribute__((cleanup(session_freep))) struct session *s = NULL;
  if (smap_remove(g_m, id, &s) != SMAP_OK)
    // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: value removed by 'smap_remove' into 's' is not cleaned up on every path
    return -1;
  return 0;
}
