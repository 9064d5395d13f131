// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t
//
// A status tested through a predicate of the project whose body is one
// `return` of a test of its parameter, or a `switch` on it whose cases
// return constants, is read through that body: the path on which the
// predicate says nothing was removed is not followed. A predicate that says
// the opposite leaves the leaking path. A function that is no such predicate,
// given the status, tests it in a way that is not read: neither side is
// followed (quiet rather than noisy).
#include <stdbool.h>
#include <stdlib.h>
#include <tsmap/tsmap.h>

struct timer;
void timer_cancel(struct timer *t);
struct conn {
  unsigned long id;
  TSMAP_CLEANUP(timer_cancel) struct timer *idle;
};
TSMAP_EVICTS_WITH(conn_evict) static tsmap *g_conns;
void conn_evict(const void *k, size_t n, void *v, tsmap_evict_reason r, void *ctx);
static void conn_close(struct conn *c) {
  timer_cancel(c->idle);
  free(c);
}

static inline bool ts_ok(tsmap_status s) { return s == TSMAP_OK || s == TSMAP_REPLACED; }
static inline bool ts_failed(tsmap_status s) { return s != TSMAP_OK; }
static inline bool ts_backwards(tsmap_status s) { return s == TSMAP_OK; }
static bool ts_logged(tsmap_status s) {
  if (s != TSMAP_OK)
    return false;
  return true;
}

void take_direct(unsigned long id) {
  struct conn *c;
  if (!ts_ok(tsmap_remove(g_conns, &id, sizeof id, &c)))
    return;
  conn_close(c);
}

void take_through_local(unsigned long id) {
  struct conn *c;
  tsmap_status st = tsmap_remove(g_conns, &id, sizeof id, &c);
  if (ts_failed(st))
    return;
  conn_close(c);
}

void take_backwards(unsigned long id) {
  struct conn *c;
  tsmap_status st = tsmap_remove(g_conns, &id, sizeof id, &c);
  // CHECK-MESSAGES: :[[@LINE-1]]:21: warning: value removed by 'tsmap_remove' into 'c' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  if (ts_backwards(st)) /* returns on success */
    return;
  conn_close(c);
}

void take_not_a_predicate(unsigned long id) { // quiet
  struct conn *c;
  tsmap_status st = tsmap_remove(g_conns, &id, sizeof id, &c);
  if (!ts_logged(st)) /* more than one statement: not read, not followed */
    return;
  conn_close(c);
}

/* Branch hints and conditionals that only restate a test read as the test. */
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
static bool ts_switch_ok(tsmap_status s) {
  switch (s) {
  case TSMAP_OK:
  case TSMAP_REPLACED:
    return true;
  default:
    return false;
  }
}
static bool ts_switch_found(tsmap_status s) {
  switch (s) {
  case TSMAP_NOT_FOUND:
    return false;
  }
  return true;
}
static bool ts_switch_backwards(tsmap_status s) {
  switch (s) {
  case TSMAP_OK:
    return false;
  default:
    return true;
  }
}
static bool ts_switch_logged(tsmap_status s) {
  switch (s) {
  case TSMAP_OK:
    return true;
  default:
    s = TSMAP_NOT_FOUND;
    return false;
  }
}

void take_switch(unsigned long id) {
  struct conn *c;
  tsmap_status st = tsmap_remove(g_conns, &id, sizeof id, &c);
  if (!ts_switch_ok(st))
    return;
  conn_close(c);
}

void take_switch_found(unsigned long id) {
  struct conn *c;
  if (ts_switch_found(tsmap_remove(g_conns, &id, sizeof id, &c)))
    conn_close(c);
}

void take_switch_backwards(unsigned long id) {
  struct conn *c;
  tsmap_status st = tsmap_remove(g_conns, &id, sizeof id, &c);
  // CHECK-MESSAGES: :[[@LINE-1]]:21: warning: value removed by 'tsmap_remove' into 'c' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  if (!ts_switch_backwards(st)) /* true when not OK: returns on success */
    return;
  conn_close(c);
}

void take_switch_not_a_predicate(unsigned long id) { // quiet
  struct conn *c;
  tsmap_status st = tsmap_remove(g_conns, &id, sizeof id, &c);
  if (!ts_switch_logged(st)) /* a case does more than return: not read, not followed */
    return;
  conn_close(c);
}

void take_unlikely(unsigned long id) {
  struct conn *c;
  if (unlikely(tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK))
    return;
  conn_close(c);
}
void take_likely(unsigned long id) {
  struct conn *c;
  tsmap_status st = tsmap_remove(g_conns, &id, sizeof id, &c);
  if (likely(st == TSMAP_OK))
    conn_close(c);
}
void take_restated(unsigned long id) {
  struct conn *c;
  bool ok = tsmap_remove(g_conns, &id, sizeof id, &c) == TSMAP_OK ? true : false;
  if (ok)
    conn_close(c);
}
void take_restated_backwards(unsigned long id) {
  struct conn *c;
  bool ok = tsmap_remove(g_conns, &id, sizeof id, &c) == TSMAP_OK ? false : true;
  // CHECK-MESSAGES: :[[@LINE-1]]:13: warning: value removed by 'tsmap_remove' into 'c' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  if (ok)
    conn_close(c);
}
