/* A project header (passed with -I, not a system header) for contract-gate-scope.c. */
#include <tsmap/annotations.h>

typedef int (*fill_fn)(void *ctx);
int cache_fill(fill_fn cb TSMAP_CALLBACK, void *ctx);
int cache_warm(fill_fn cb __attribute__((annotate("tsmap::calback"))), void *ctx);

struct timer;
void timer_cancel(struct timer *t);
struct session {
  struct {
    TSMAP_CLEANUP(timer_cancel) struct timer *idle;
  } timers;
};
TSMAP_RETURNS_REMOVED struct session *session_take(int id);

static int g_hits;
static int count_hit(void *ctx) { (void)ctx; return ++g_hits; }
static inline int warm_in_header(void) { return cache_fill(count_hit, 0); }
