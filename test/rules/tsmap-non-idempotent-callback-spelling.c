// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback %t
//
// The warning names what a run changes as the callback's code spells it when
// that is a field path: `c->hits`, where `c` is the counter a `const void *`
// old value points at (not 'old->hits', which is no expression of the
// program). A cast spelled in place reads as the parameter's path ('ctx->n').
#include <tsmap/tsmap.h>

struct counter { long hits; long n; };

static tsmap_verdict bump(const void *k, size_t n, const void *old, void *ctx,
                          void *new_value) {
  struct counter *c = old ? *(struct counter *const *)old : NULL;
  (void)k; (void)n; (void)ctx;
  if (!c)
    return TSMAP_KEEP;
  c->hits++;
  *(struct counter **)new_value = c;
  return TSMAP_STORE;
}

static tsmap_verdict bump_ctx(const void *k, size_t n, const void *old, void *ctx,
                              void *new_value) {
  (void)k; (void)n; (void)old; (void)new_value;
  ((struct counter *)ctx)->n++;
  return TSMAP_KEEP;
}

void count(tsmap *m, const char *key, struct counter *stats) {
  tsmap_compute(m, key, 3, bump, NULL, NULL);
  // CHECK-NOTES: :[[@LINE-1]]:28: warning: callback 'bump' passed to 'tsmap_compute' is not idempotent: it may run more than once, and each run increments 'c->hits' [tsmap-non-idempotent-callback]
  // CHECK-NOTES: :17:3: note: 'bump' increments 'c->hits' here
  // CHECK-NOTES: :11:22: note: if running 'bump' twice is harmless, declare it TSMAP_IDEMPOTENT
  tsmap_compute(m, key, 3, bump_ctx, stats, NULL);
  // CHECK-NOTES: :[[@LINE-1]]:28: warning: callback 'bump_ctx' passed to 'tsmap_compute' is not idempotent: it may run more than once, and each run increments 'ctx->n' [tsmap-non-idempotent-callback]
  // CHECK-NOTES: :25:3: note: 'bump_ctx' increments '((struct counter *)ctx)->n' here
  // CHECK-NOTES: :22:22: note: if running 'bump_ctx' twice is harmless, declare it TSMAP_IDEMPOTENT
}
