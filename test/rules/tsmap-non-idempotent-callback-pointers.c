// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback %t
//
// A map API reached through a function pointer (an ops-table field, a
// typedef'd pointer field, variable or parameter, `(*fp)(...)`) takes its
// parameters' contracts from the pointer's prototype: a callback passed to a
// TSMAP_CALLBACK parameter written there is checked as through a direct call,
// and TSMAP_OUT on the prototype's callback type names its output. The second
// half is quiet: the same calls with an idempotent callback, prototypes
// without the annotation, a TSMAP_CALLBACK_LOCKED-only parameter.

#include <stddef.h>
#include <tsmap/annotations.h>

typedef int (*loader_fn)(const char *key, void *ctx, TSMAP_OUT void *dst);
typedef int (*raw_loader_fn)(const char *key, void *ctx, void *dst);
typedef int (*get_or_load_t)(void *self, const char *key,
                             TSMAP_CALLBACK loader_fn fn, void *ctx, void *out);

struct cache_ops {
  int (*get_or_load)(void *self, const char *key, TSMAP_CALLBACK loader_fn fn,
                     void *ctx, void *out);
  get_or_load_t compute;
  int (*get_raw)(void *self, const char *key, TSMAP_CALLBACK raw_loader_fn fn,
                 void *ctx, void *out);
  int (*plain)(void *self, const char *key, loader_fn fn, void *ctx, void *out);
  int (*each)(void *self, TSMAP_CALLBACK_LOCKED loader_fn fn, void *ctx);
  int (*unprototyped)();
};
struct cache { const struct cache_ops *ops; };
extern const struct cache_ops g_ops_table[2];

static int g_loads;

static int load_counting(const char *key, void *ctx, void *dst) {
  g_loads++;
  *(int *)dst = 1;
  return 0;
}
static int load_pure(const char *key, void *ctx, void *dst) {
  *(int *)dst = 1;
  return 0;
}
// Counts into its output, which only the callback type's TSMAP_OUT names.
static int load_tally(const char *key, void *ctx, void *dst) {
  (*(int *)dst)++;
  return 0;
}

// ---- Reported -----------------------------------------------------------

int through_field(struct cache *c, const char *k) {
  int v;
  c->ops->get_or_load(c, k, load_counting, NULL, &v);
  // CHECK-MESSAGES: :[[@LINE-1]]:29: warning: callback 'load_counting' passed to 'get_or_load' is not idempotent: it may run more than once, and each run increments 'g_loads' [tsmap-non-idempotent-callback]
  c->ops->compute(c, k, load_counting, NULL, &v);
  // CHECK-MESSAGES: :[[@LINE-1]]:25: warning: callback 'load_counting' passed to 'compute' is not idempotent: it may run more than once, and each run increments 'g_loads' [tsmap-non-idempotent-callback]
  g_ops_table[1].get_or_load(c, k, load_counting, NULL, &v);
  // CHECK-MESSAGES: :[[@LINE-1]]:36: warning: callback 'load_counting' passed to 'get_or_load' is not idempotent: it may run more than once, and each run increments 'g_loads' [tsmap-non-idempotent-callback]
  return v;
}

int through_variable(struct cache *c, const char *k) {
  int v;
  get_or_load_t f = c->ops->get_or_load;
  f(c, k, load_counting, NULL, &v);
  // CHECK-MESSAGES: :[[@LINE-1]]:11: warning: callback 'load_counting' passed to 'f' is not idempotent: it may run more than once, and each run increments 'g_loads' [tsmap-non-idempotent-callback]
  return v;
}

int through_parameter(get_or_load_t fp, void *self, const char *k) {
  int v;
  (*fp)(self, k, load_counting, NULL, &v);
  // CHECK-MESSAGES: :[[@LINE-1]]:18: warning: callback 'load_counting' passed to 'fp' is not idempotent: it may run more than once, and each run increments 'g_loads' [tsmap-non-idempotent-callback]
  return v;
}

// Without TSMAP_OUT in the callback type, the counted output is shared memory.
int raw_output(struct cache *c, const char *k) {
  int v;
  c->ops->get_raw(c, k, load_tally, NULL, &v);
  // CHECK-MESSAGES: :[[@LINE-1]]:25: warning: callback 'load_tally' passed to 'get_raw' is not idempotent: it may run more than once, and each run increments '*dst' [tsmap-non-idempotent-callback]
  return v;
}

// ---- Quiet --------------------------------------------------------------

int quiet(struct cache *c, get_or_load_t fp, const char *k) {
  int v;
  c->ops->get_or_load(c, k, load_pure, NULL, &v);
  fp(c, k, load_pure, NULL, &v);
  // TSMAP_OUT in loader_fn: the tally is the callback's own output.
  c->ops->get_or_load(c, k, load_tally, NULL, &v);
  // No TSMAP_CALLBACK in the prototype.
  c->ops->plain(c, k, load_counting, NULL, &v);
  // TSMAP_CALLBACK_LOCKED only: runs once (tsmap-reentrant-callback's part).
  c->ops->each(c, load_counting, NULL);
  // No prototype to read.
  c->ops->unprototyped(c, k, load_counting, NULL, &v);
  // FIXME: a pointer cast at the call has no declaration to read the
  // prototype from; known miss.
  ((get_or_load_t)c->ops->plain)(c, k, load_counting, NULL, &v);
  return v;
}
