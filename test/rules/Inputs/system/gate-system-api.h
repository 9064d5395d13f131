// A library header reached through -isystem, whose inline helper hands a
// non-idempotent callback to an annotated API.
#include <tsmap/annotations.h>

typedef int (*fill_fn)(void *ctx);
int cache_fill(fill_fn cb TSMAP_CALLBACK, void *ctx);

static int g_loads;
static int count_load(void *ctx) {
  (void)ctx;
  return ++g_loads;
}
static inline int warm_in_header(void) { return cache_fill(count_load, 0); }
