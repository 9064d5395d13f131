// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback %t -- -- -D_GNU_SOURCE
//
// rules/tsmap-non-idempotent-callback.md: `/=` and `<<=` are read-modify-writes
// ("updates 'x' from its old value" for a computation other than a step), and a
// freed place given that realloc's result (reallocarray here) before the callback
// returns is not a double free on a retry.

#include <stdlib.h>
#include <tsmap/tsmap.h>

struct backoff { unsigned delay; unsigned budget; unsigned *slots; };

static int halve_budget(const void *k, size_t n, void *ctx, TSMAP_OUT void *out) {
  struct backoff *b = ctx;
  b->budget /= 2;
  return 0;
}
static int widen_delay(const void *k, size_t n, void *ctx, TSMAP_OUT void *out) {
  struct backoff *b = ctx;
  b->delay <<= 1;
  return 0;
}
static int regrow_slots(const void *k, size_t n, void *ctx, TSMAP_OUT void *out) {
  struct backoff *b = ctx;
  b->slots = reallocarray(b->slots, n + 1, sizeof *b->slots);
  return b->slots ? 0 : -1;
}

void retry_policy(tsmap *m, struct backoff *b, int *v) {
  tsmap_compute_if_absent(m, "r", 1, halve_budget, b, v);
  // CHECK-MESSAGES: :[[@LINE-1]]:38: warning: callback 'halve_budget' passed to 'tsmap_compute_if_absent' is not idempotent: it may run more than once, and each run updates 'b->budget' from its old value [tsmap-non-idempotent-callback]
  tsmap_compute_if_absent(m, "r", 1, widen_delay, b, v);
  // CHECK-MESSAGES: :[[@LINE-1]]:38: warning: callback 'widen_delay' passed to 'tsmap_compute_if_absent' is not idempotent: it may run more than once, and each run updates 'b->delay' from its old value [tsmap-non-idempotent-callback]
  tsmap_compute_if_absent(m, "r", 1, regrow_slots, b, v);
}
