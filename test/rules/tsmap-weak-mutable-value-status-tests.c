// RUN: %check_tsmap_tidy %s tsmap-weak-mutable-value,tsmap-remove-without-cleanup %t
// A status kept in a local, then a bool made from a test of that local
// (`st = call (...); bool ok = st == TSMAP_OK || st == TSMAP_REPLACED;
// if (!ok)`): read as the test written in the `if` is (an independent
// tester's false positives, round 3); the twins whose test leaves a success
// out stay reported.
#include <stdbool.h>
#include <stdlib.h>
#include <tsmap/tsmap.h>

struct timer;
void timer_cancel(struct timer *t);

struct session {
  unsigned long id;
  int state;
  TSMAP_CLEANUP(timer_cancel) struct timer *idle;
};
static void session_free(struct session *s) {
  timer_cancel(s->idle);
  free(s);
}

int drop_session(tsmap *m, unsigned long id) {
  struct session *s = NULL;
  tsmap_status st = tsmap_remove(m, &id, sizeof id, &s);
  bool removed = st == TSMAP_OK;
  if (!removed)
    return -1; // quiet: nothing was removed on this path
  session_free(s);
  return 0;
}

int publish_stored(tsmap *m, struct session *e) {
  tsmap_status st = tsmap_put_ptr(m, &e->id, sizeof e->id, e, NULL);
  bool stored = st == TSMAP_OK || st == TSMAP_REPLACED;
  if (!stored) {
    e->state = -1; // quiet: not published on this path
    return -1;
  }
  return 0;
}

int publish_failed(tsmap *m, struct session *e) {
  tsmap_status st = tsmap_put_ptr(m, &e->id, sizeof e->id, e, NULL);
  bool failed = st != TSMAP_OK && st != TSMAP_REPLACED;
  if (failed) {
    e->state = -1; // quiet
    return -1;
  }
  return 0;
}

int publish_ok_only(tsmap *m, struct session *e) {
  tsmap_status st = tsmap_put_ptr(m, &e->id, sizeof e->id, e, NULL);
  bool stored = st == TSMAP_OK;
  if (!stored) {
    e->state = -1; // TSMAP_REPLACED published it too
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: write to 'e->state' after 'e' was published by 'tsmap_put_ptr'; other threads may be reading it through the map [tsmap-weak-mutable-value]
    return -1;
  }
  return 0;
}

int publish_then_write(tsmap *m, struct session *e) {
  tsmap_status st = tsmap_put_ptr(m, &e->id, sizeof e->id, e, NULL);
  bool stored = st == TSMAP_OK || st == TSMAP_REPLACED;
  if (stored) {
    e->state = 1; // the published side
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: write to 'e->state' after 'e' was published by 'tsmap_put_ptr'; other threads may be reading it through the map [tsmap-weak-mutable-value]
  }
  return stored ? 0 : -1;
}
