/* A contract and a callback that breaks it. */
#include <tsmap/annotations.h>
typedef int (*fill_fn)(void *ctx);
int cache_fill(fill_fn cb TSMAP_CALLBACK, void *ctx);
static int g_loads;
static int count_load(void *ctx) {
  (void)ctx;
  return ++g_loads;
}
int warm2(void) { return cache_fill(count_load, 0); }
