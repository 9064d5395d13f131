// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- -- -I%S/Inputs
// What a removal's status says along a path (CallOutcome's path facts, shared
// with tsmap-weak-mutable-value):
//   - a status local (or field, or copy) given another value on the way no
//     longer reads the removal: by another map call, by an unrelated call, on
//     a loop's next round; a copy (`int rc = st;`, `r.st = st;`) reads it only
//     where the path passed the copy;
//   - a condition over several statuses, successes and failures (`st !=
//     TSMAP_OK && st != TSMAP_NO_MEMORY`, `!(a || b)`, a test local, a
//     predicate) is read as the statuses it leaves on each side, with the
//     tests the path passed before (early returns, `switch` cases, `default:`,
//     fallthrough);
//   - a helper given the status whose body is not one test (`report (st)`)
//     tests it in a way that is not read: neither side is followed.
// libtsmap's calls report with the statuses tsmap.h lists: a removal hands a
// value back only with TSMAP_OK, a replacing put only with TSMAP_REPLACED.
#include "removal-glib.h"
#include <stdbool.h>
#include <stdlib.h>
#include <tsmap/tsmap.h>

struct timer;
void timer_cancel(struct timer *t);
struct conn {
  unsigned long id;
  TSMAP_CLEANUP(timer_cancel) struct timer *idle;
};
extern tsmap *g_conns;
extern tsmap *g_index;
void conn_close(struct conn *c); /* cancels the timer: a hand-off */
int log_line(const char *what);
int report(tsmap_status st, const char *what);

// ---- A status reassigned: reported ------------------------------------------------

// The index removal's status is tested, not the connection's: TSMAP_OK from
// the index with the connection removed... or the other way round.
int reassigned_by_map_call(unsigned long id) {
  struct conn *c = NULL;
  tsmap_status st = tsmap_remove(g_conns, &id, sizeof id, &c);
  // CHECK-MESSAGES: :[[@LINE-1]]:21: warning: value removed by 'tsmap_remove' into 'c' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  st = tsmap_remove(g_index, &id, sizeof id, NULL);
  if (st != TSMAP_OK)
    return -1; /* the connection may have been removed: leaks here */
  conn_close(c);
  return 0;
}

int reassigned_by_unrelated_call(unsigned long id) {
  struct conn *c = NULL;
  int st = tsmap_remove(g_conns, &id, sizeof id, &c);
  // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: value removed by 'tsmap_remove' into 'c' is not cleaned up on every path
  st = log_line("removed");
  if (st != TSMAP_OK)
    return -1;
  conn_close(c);
  return 0;
}

// Only on the success side: the second call's failure still drops `c`.
void reassigned_in_loop(unsigned long *ids, int n) {
  for (int i = 0; i < n; i++) {
    struct conn *c = NULL;
    tsmap_status st = tsmap_remove(g_conns, &ids[i], sizeof ids[i], &c);
    // CHECK-MESSAGES: :[[@LINE-1]]:23: warning: value removed by 'tsmap_remove' into 'c' is not cleaned up on every path
    if (st == TSMAP_OK)
      st = tsmap_remove(g_index, &ids[i], sizeof ids[i], NULL);
    if (st != TSMAP_OK)
      continue;
    conn_close(c);
  }
}

// A field given another status.
struct op_result { tsmap_status st; int tries; };
int field_reassigned(unsigned long id) {
  struct conn *c = NULL;
  struct op_result r;
  r.st = tsmap_remove(g_conns, &id, sizeof id, &c);
  // CHECK-MESSAGES: :[[@LINE-1]]:10: warning: value removed by 'tsmap_remove' into 'c' is not cleaned up on every path
  r.st = tsmap_remove(g_index, &id, sizeof id, NULL);
  if (r.st != TSMAP_OK)
    return -1;
  conn_close(c);
  return 0;
}

// The copy is taken after the status was overwritten: it is not the removal's.
int copied_too_late(unsigned long id) {
  struct conn *c = NULL;
  tsmap_status st = tsmap_remove(g_conns, &id, sizeof id, &c);
  // CHECK-MESSAGES: :[[@LINE-1]]:21: warning: value removed by 'tsmap_remove' into 'c' is not cleaned up on every path
  st = tsmap_remove(g_index, &id, sizeof id, NULL);
  int rc = st;
  if (rc != TSMAP_OK)
    return -1;
  conn_close(c);
  return 0;
}

// ---- A status reassigned: quiet -----------------------------------------------------

// Given another value only after its test.
int reassigned_after_test(unsigned long id) {
  struct conn *c = NULL;
  tsmap_status st = tsmap_remove(g_conns, &id, sizeof id, &c);
  if (st != TSMAP_OK)
    return -1;
  st = tsmap_remove(g_index, &id, sizeof id, NULL);
  conn_close(c);
  return st == TSMAP_OK ? 0 : 1;
}

// Each round's removal gives the local its status again.
void fresh_each_round(unsigned long *ids, int n) {
  tsmap_status st;
  for (int i = 0; i < n; i++) {
    struct conn *c = NULL;
    st = tsmap_remove(g_conns, &ids[i], sizeof ids[i], &c);
    if (st != TSMAP_OK)
      continue;
    conn_close(c);
  }
}

// A copy taken before the local was given another status keeps the removal's.
int copied_before(unsigned long id) {
  struct conn *c = NULL;
  tsmap_status st = tsmap_remove(g_conns, &id, sizeof id, &c);
  int rc = st;
  st = tsmap_remove(g_index, &id, sizeof id, NULL);
  if (rc != TSMAP_OK)
    return -1;
  conn_close(c);
  return st;
}

// ---- Several statuses in one condition ----------------------------------------------

int ok_or_no_memory(unsigned long id) { // quiet
  struct conn *c = NULL;
  tsmap_status st = tsmap_remove(g_conns, &id, sizeof id, &c);
  if (st != TSMAP_OK && st != TSMAP_NO_MEMORY)
    return -1;
  if (st == TSMAP_NO_MEMORY)
    return -2; /* retried later; nothing was removed */
  conn_close(c);
  return 0;
}

int ok_or_no_memory_leaks(unsigned long id) {
  struct conn *c = NULL;
  tsmap_status st = tsmap_remove(g_conns, &id, sizeof id, &c);
  // CHECK-MESSAGES: :[[@LINE-1]]:21: warning: value removed by 'tsmap_remove' into 'c' is not cleaned up on every path
  if (st != TSMAP_OK && st != TSMAP_NO_MEMORY)
    return -1;
  free(c); /* TSMAP_OK reaches this */
  return 0;
}

int negated_disjunction(unsigned long id) { // quiet
  struct conn *c = NULL;
  tsmap_status st = tsmap_remove(g_conns, &id, sizeof id, &c);
  if (!(st == TSMAP_OK || st == TSMAP_NOT_FOUND))
    return -1;
  if (st == TSMAP_NOT_FOUND)
    return 0;
  conn_close(c);
  return 0;
}

int negated_disjunction_leaks(unsigned long id) {
  struct conn *c = NULL;
  tsmap_status st = tsmap_remove(g_conns, &id, sizeof id, &c);
  // CHECK-MESSAGES: :[[@LINE-1]]:21: warning: value removed by 'tsmap_remove' into 'c' is not cleaned up on every path
  if (!(st == TSMAP_OK || st == TSMAP_NOT_FOUND))
    return -1;
  free(c);
  return 0;
}

int failures_listed(unsigned long id) { // quiet
  struct conn *c = NULL;
  tsmap_status st = tsmap_remove(g_conns, &id, sizeof id, &c);
  if (st == TSMAP_NOT_FOUND || st == TSMAP_CLOSED || st == TSMAP_REENTERED)
    return 1;
  if (st != TSMAP_OK)
    return -1;
  conn_close(c);
  return 0;
}

int test_local(unsigned long id) { // quiet
  struct conn *c = NULL;
  tsmap_status st = tsmap_remove(g_conns, &id, sizeof id, &c);
  bool failed = st != TSMAP_OK && st != TSMAP_NOT_FOUND;
  if (failed)
    return -1;
  if (st == TSMAP_OK)
    conn_close(c);
  return 0;
}

int test_local_leaks(unsigned long id) {
  struct conn *c = NULL;
  tsmap_status st = tsmap_remove(g_conns, &id, sizeof id, &c);
  // CHECK-MESSAGES: :[[@LINE-1]]:21: warning: value removed by 'tsmap_remove' into 'c' is not cleaned up on every path
  bool failed = st != TSMAP_OK && st != TSMAP_NOT_FOUND;
  if (failed)
    return -1;
  return 0; /* TSMAP_OK: leaks */
}

static bool ts_gone(tsmap_status s) { return s != TSMAP_OK && s != TSMAP_NO_MEMORY; }

int predicate_of_several(unsigned long id) { // quiet
  struct conn *c = NULL;
  tsmap_status st = tsmap_remove(g_conns, &id, sizeof id, &c);
  if (ts_gone(st))
    return -1;
  if (st == TSMAP_NO_MEMORY)
    return -2;
  conn_close(c);
  return 0;
}

int predicate_of_several_leaks(unsigned long id) {
  struct conn *c = NULL;
  tsmap_status st = tsmap_remove(g_conns, &id, sizeof id, &c);
  // CHECK-MESSAGES: :[[@LINE-1]]:21: warning: value removed by 'tsmap_remove' into 'c' is not cleaned up on every path
  if (ts_gone(st))
    return -1;
  if (st == TSMAP_NO_MEMORY)
    return -2;
  free(c);
  return 0;
}

// ---- switch: cases, fallthrough, default ---------------------------------------------

int switch_fallthrough(unsigned long id) { // quiet
  struct conn *c = NULL;
  switch (tsmap_remove(g_conns, &id, sizeof id, &c)) {
  case TSMAP_OK:
    conn_close(c);
    /* fallthrough */
  case TSMAP_NOT_FOUND:
    return 0;
  default:
    return -1;
  }
}

int switch_fallthrough_leaks(unsigned long id) {
  struct conn *c = NULL;
  switch (tsmap_remove(g_conns, &id, sizeof id, &c)) {
  // CHECK-MESSAGES: :[[@LINE-1]]:11: warning: value removed by 'tsmap_remove' into 'c' is not cleaned up on every path
  case TSMAP_OK:
    log_line("removed");
    /* fallthrough */
  case TSMAP_NOT_FOUND:
    return 0; /* TSMAP_OK falls through to here */
  default:
    return -1;
  }
}

int switch_failures_then_test(unsigned long id) { // quiet
  struct conn *c = NULL;
  tsmap_status st = tsmap_remove(g_conns, &id, sizeof id, &c);
  switch (st) {
  case TSMAP_NOT_FOUND:
  case TSMAP_CLOSED:
    return 0;
  default:
    break;
  }
  if (st != TSMAP_OK)
    return -1;
  conn_close(c);
  return 0;
}

int switch_default_leaks(unsigned long id) {
  struct conn *c = NULL;
  tsmap_status st = tsmap_remove(g_conns, &id, sizeof id, &c);
  // CHECK-MESSAGES: :[[@LINE-1]]:21: warning: value removed by 'tsmap_remove' into 'c' is not cleaned up on every path
  switch (st) {
  case TSMAP_NOT_FOUND:
    return 0;
  default: /* TSMAP_OK too */
    break;
  }
  free(c);
  return 0;
}

// After `case TSMAP_OK: ... return`, `default:` has nothing, also with an `if`
// on another status inside it.
int switch_default_after_ok(unsigned long id) { // quiet
  struct conn *c = NULL;
  tsmap_status st = tsmap_remove(g_conns, &id, sizeof id, &c);
  switch (st) {
  case TSMAP_OK:
    conn_close(c);
    return 0;
  default:
    if (st == TSMAP_NO_MEMORY)
      log_line("no memory");
    return -1;
  }
}

int switch_replacing_put(unsigned long id, struct conn *fresh) { // quiet
  struct conn *old = NULL;
  switch (tsmap_put_ptr(g_conns, &id, sizeof id, fresh, (void **)&old)) {
  case TSMAP_REPLACED:
    conn_close(old);
    return 1;
  case TSMAP_OK: /* inserted: nothing handed back */
    return 0;
  default:
    return -1;
  }
}

// ---- Early returns ---------------------------------------------------------------------

int early_returns(unsigned long id) { // quiet
  struct conn *c = NULL;
  tsmap_status st = tsmap_remove(g_conns, &id, sizeof id, &c);
  if (st == TSMAP_NOT_FOUND)
    return 0;
  if (st == TSMAP_CLOSED || st == TSMAP_NO_MEMORY)
    return -1;
  if (st != TSMAP_OK)
    return -2;
  conn_close(c);
  return 0;
}

int early_return_leaks(unsigned long id) {
  struct conn *c = NULL;
  tsmap_status st = tsmap_remove(g_conns, &id, sizeof id, &c);
  // CHECK-MESSAGES: :[[@LINE-1]]:21: warning: value removed by 'tsmap_remove' into 'c' is not cleaned up on every path
  if (st == TSMAP_NOT_FOUND)
    return 0;
  log_line("removed?");
  return st == TSMAP_OK ? 0 : -1; /* TSMAP_OK: leaks */
}

// The success side returned first: the rest has nothing.
int success_first(unsigned long id) { // quiet
  struct conn *c = NULL;
  tsmap_status st = tsmap_remove(g_conns, &id, sizeof id, &c);
  if (st == TSMAP_OK) {
    conn_close(c);
    return 0;
  }
  if (st == TSMAP_NOT_FOUND)
    return 1;
  log_line("remove failed");
  return -1;
}

// A replacing put: TSMAP_OK inserted, TSMAP_REPLACED handed the old value back.
int put_ok_or_replaced(unsigned long id, struct conn *fresh) { // quiet
  struct conn *old = NULL;
  tsmap_status st = tsmap_put_ptr(g_conns, &id, sizeof id, fresh, (void **)&old);
  if (st != TSMAP_OK && st != TSMAP_REPLACED)
    return -1;
  if (st == TSMAP_REPLACED)
    conn_close(old);
  return 0;
}

int put_ok_returns_early_leaks(unsigned long id, struct conn *fresh) {
  struct conn *old = NULL;
  tsmap_status st = tsmap_put_ptr(g_conns, &id, sizeof id, fresh, (void **)&old);
  // CHECK-MESSAGES: :[[@LINE-1]]:21: warning: value removed by 'tsmap_put_ptr' into 'old' is not cleaned up on every path
  if (st == TSMAP_OK)
    return 0;
  return -1; /* TSMAP_REPLACED: `old` leaks here */
}

int remove_if_version(unsigned long id, uint64_t seen) { // quiet
  struct conn *c = NULL;
  uint64_t now = 0;
  tsmap_status st = tsmap_remove_if_version(g_conns, &id, sizeof id, seen, &now, &c);
  if (st == TSMAP_CONFLICT || st == TSMAP_NOT_FOUND)
    return 1;
  if (st != TSMAP_OK)
    return -1;
  conn_close(c);
  return 0;
}

// ---- Status in a struct field, a copy, a helper ------------------------------------

int status_in_field(unsigned long id) { // quiet
  struct conn *c = NULL;
  struct op_result r = {TSMAP_OK, 0};
  r.st = tsmap_remove(g_conns, &id, sizeof id, &c);
  if (r.st != TSMAP_OK)
    return -1;
  conn_close(c);
  return 0;
}

int status_in_out_struct(unsigned long id, struct op_result *out) { // quiet
  struct conn *c = NULL;
  out->st = tsmap_remove(g_conns, &id, sizeof id, &c);
  if (out->st != TSMAP_OK)
    return -1;
  conn_close(c);
  return 0;
}

int status_copied(unsigned long id) { // quiet
  struct conn *c = NULL;
  tsmap_status st = tsmap_remove(g_conns, &id, sizeof id, &c);
  int rc = st;
  if (rc != TSMAP_OK)
    return -1;
  conn_close(c);
  return 0;
}

int status_copied_into_field(unsigned long id) { // quiet
  struct conn *c = NULL;
  struct op_result r;
  tsmap_status st = tsmap_remove(g_conns, &id, sizeof id, &c);
  r.st = st;
  r.tries = 1;
  if (r.st == TSMAP_NOT_FOUND || r.st == TSMAP_CLOSED)
    return 0;
  if (r.st != TSMAP_OK)
    return -1;
  conn_close(c);
  return 0;
}

// `report` logs and says whether the status was TSMAP_OK: not read, so
// neither side is followed.
int status_through_helper(unsigned long id) { // quiet
  struct conn *c = NULL;
  tsmap_status st = tsmap_remove(g_conns, &id, sizeof id, &c);
  if (report(st, "remove") != 0)
    return -1;
  conn_close(c);
  return 0;
}

int classify(tsmap_status st);
int status_switched_through_helper(unsigned long id) { // quiet: not read either
  struct conn *c = NULL;
  tsmap_status st = tsmap_remove(g_conns, &id, sizeof id, &c);
  switch (classify(st)) {
  case 0:
    conn_close(c);
    return 0;
  default:
    return -1;
  }
}

// The helper is called, but the test that matters is not its: still reported.
int helper_then_leak(unsigned long id) {
  struct conn *c = NULL;
  tsmap_status st = tsmap_remove(g_conns, &id, sizeof id, &c);
  // CHECK-MESSAGES: :[[@LINE-1]]:21: warning: value removed by 'tsmap_remove' into 'c' is not cleaned up on every path
  report(st, "remove");
  if (st != TSMAP_OK)
    return -1;
  free(c);
  return 0;
}

// ---- GLib: g_hash_table_steal_extended's gboolean ------------------------------------

static GHashTable *g_watches;

int steal_reassigned(const char *path) {
  struct conn *w = NULL;
  gboolean ok = g_hash_table_steal_extended(g_watches, path, NULL, (gpointer *)&w);
  // CHECK-MESSAGES: :[[@LINE-1]]:17: warning: value removed by 'g_hash_table_steal_extended' into 'w' is not cleaned up on every path
  ok = log_line(path);
  if (!ok)
    return -1;
  conn_close(w);
  return 0;
}

int steal_and_test(const char *path, bool verbose) { // quiet
  struct conn *w = NULL;
  gboolean ok = g_hash_table_steal_extended(g_watches, path, NULL, (gpointer *)&w);
  if (verbose)
    log_line(path);
  if (!ok || !w)
    return -1;
  conn_close(w);
  return 0;
}
