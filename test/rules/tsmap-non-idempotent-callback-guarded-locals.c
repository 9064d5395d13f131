// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback %t
// A local initialized with a null guard (`old ? *(T *const *)old : NULL`) or a
// default (`ctx ? ctx : &g_default`) points where its arms do: a
// read-modify-write through it is one on the object the map holds, the
// context or the global. Quiet when every arm is the callback's own memory.
#include <string.h>
#include <tsmap/tsmap.h>

struct session { int hits; };
struct ctx { long n; };
static struct ctx g_default;

static tsmap_verdict bump_guarded(const void *k, size_t n, const void *old,
                                  void *ctx, TSMAP_OUT void *nv) {
  struct session *s = old ? *(struct session *const *)old : NULL;
  if (!s)
    return TSMAP_KEEP;
  s->hits++;
  *(struct session **)nv = s;
  return TSMAP_STORE;
}

static int load_default(const void *k, size_t n, void *vctx, TSMAP_OUT void *out) {
  struct ctx *c = vctx ? (struct ctx *)vctx : &g_default;
  c->n++;
  return 0;
}

static tsmap_verdict read_guarded(const void *k, size_t n, const void *old,
                                  void *ctx, TSMAP_OUT void *nv) {
  const struct session *s = old ? *(struct session *const *)old : NULL;
  int hits = s ? s->hits : 0; /* only read */
  return hits > 3 ? TSMAP_DELETE : TSMAP_KEEP;
}

static int load_scratch(const void *k, size_t n, void *vctx, TSMAP_OUT void *out) {
  struct ctx a = {0}, b = {0};
  struct ctx *c = n > 4 ? &a : &b; /* both its own locals */
  c->n++;
  return (int)(a.n + b.n);
}

int touch(tsmap *m, const char *k) {
  int r = tsmap_compute(m, k, strlen(k), bump_guarded, NULL, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:42: warning: callback 'bump_guarded' passed to 'tsmap_compute' is not idempotent: it may run more than once, and each run increments 's->hits' [tsmap-non-idempotent-callback]
  r |= tsmap_compute_if_absent(m, k, strlen(k), load_default, NULL, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:49: warning: callback 'load_default' passed to 'tsmap_compute_if_absent' is not idempotent: it may run more than once, and each run increments 'c->n' [tsmap-non-idempotent-callback]
  r |= tsmap_compute(m, k, strlen(k), read_guarded, NULL, NULL);
  r |= tsmap_compute_if_absent(m, k, strlen(k), load_scratch, NULL, NULL);
  return r;
}
