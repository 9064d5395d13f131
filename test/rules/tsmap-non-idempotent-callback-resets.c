// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback %t
// A callback that sets a place without reading it (`pc->tokens = 0;`) before
// it counts into that place reads only its own run's writes: running it
// again gives the same result. A count before the reset, a reset under a
// test, or a count into another place still depend on the runs before.
#include <string.h>
#include <tsmap/tsmap.h>

struct parse_ctx { int tokens; size_t bytes; int seen; };

static int load_reset(const void *k, size_t n, void *vctx, TSMAP_OUT void *out) {
  struct parse_ctx *pc = vctx;
  const char *s = k;
  pc->tokens = 0;
  pc->bytes = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == ',')
      pc->tokens++;
    pc->bytes += 1;
  }
  *(int *)out = pc->tokens;
  return 0;
}

static int load_count_first(const void *k, size_t n, void *vctx, TSMAP_OUT void *out) {
  struct parse_ctx *pc = vctx;
  pc->tokens++;
  pc->tokens = 0;
  *(int *)out = (int)n;
  return 0;
}

static int load_reset_maybe(const void *k, size_t n, void *vctx, TSMAP_OUT void *out) {
  struct parse_ctx *pc = vctx;
  if (n > 4)
    pc->tokens = 0;
  pc->tokens++;
  *(int *)out = (int)n;
  return 0;
}

static int load_other(const void *k, size_t n, void *vctx, TSMAP_OUT void *out) {
  struct parse_ctx *pc = vctx;
  pc->tokens = 0;
  pc->seen++;
  *(int *)out = (int)n;
  return 0;
}

/* A local copy of the place, never written again, is its old value: storing
 * the copy plus one is an increment. A copy of something else is not. */
struct pending { const void *keys[8]; size_t len; };
static struct pending g_pending;
static void pending_add(struct pending *p, const void *k) {
  size_t n = p->len;
  if (n < 8) {
    p->keys[n] = k;
    p->len = n + 1;
  }
}
static int load_append(const void *k, size_t n, void *vctx, TSMAP_OUT void *out) {
  pending_add(&g_pending, k);
  *(int *)out = (int)n;
  return 0;
}
static int load_copy_fresh(const void *k, size_t n, void *vctx, TSMAP_OUT void *out) {
  struct parse_ctx *pc = vctx;
  size_t fresh = n * 2;
  pc->bytes = fresh + 1; /* not from the old value */
  *(int *)out = (int)n;
  return 0;
}

void go_copies(tsmap *m, const char *k) {
  struct parse_ctx pc;
  int v;
  tsmap_compute_if_absent(m, k, strlen(k), load_append, &pc, &v);
  // CHECK-MESSAGES: :[[@LINE-1]]:44: warning: callback 'load_append' passed to 'tsmap_compute_if_absent' is not idempotent: it may run more than once, and each run increments 'g_pending.len' [tsmap-non-idempotent-callback]
  tsmap_compute_if_absent(m, k, strlen(k), load_copy_fresh, &pc, &v);
}

void go(tsmap *m, const char *k) {
  struct parse_ctx pc;
  int v;
  tsmap_compute_if_absent(m, k, strlen(k), load_reset, &pc, &v);
  tsmap_compute_if_absent(m, k, strlen(k), load_count_first, &pc, &v);
  // CHECK-MESSAGES: :[[@LINE-1]]:44: warning: callback 'load_count_first' passed to 'tsmap_compute_if_absent' is not idempotent: it may run more than once, and each run increments 'pc->tokens' [tsmap-non-idempotent-callback]
  tsmap_compute_if_absent(m, k, strlen(k), load_reset_maybe, &pc, &v);
  // CHECK-MESSAGES: :[[@LINE-1]]:44: warning: callback 'load_reset_maybe' passed to 'tsmap_compute_if_absent' is not idempotent: it may run more than once, and each run increments 'pc->tokens' [tsmap-non-idempotent-callback]
  tsmap_compute_if_absent(m, k, strlen(k), load_other, &pc, &v);
  // CHECK-MESSAGES: :[[@LINE-1]]:44: warning: callback 'load_other' passed to 'tsmap_compute_if_absent' is not idempotent: it may run more than once, and each run increments 'pc->seen' [tsmap-non-idempotent-callback]
}
