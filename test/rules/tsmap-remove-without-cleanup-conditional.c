// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t
// `ok ? v : NULL` (or `ok ? NULL : ...` the other way round) is the removed
// value where it is not null: returned, stored and then cleaned, it is handed
// on; stored into a local that is never cleaned, it is still lost.
#include <stdlib.h>
#include <tsmap/tsmap.h>

struct timer;
void timer_cancel(struct timer *t);
struct conn {
  unsigned long id;
  TSMAP_CLEANUP(timer_cancel) struct timer *idle;
};
void conn_evict(const void *k, size_t n, void *v, tsmap_evict_reason r, void *ctx);
TSMAP_EVICTS_WITH(conn_evict) static tsmap *g_conns;
static void conn_close(struct conn *c) {
  timer_cancel(c->idle);
  free(c);
}

struct conn *conn_take(unsigned long id) { // quiet: returned
  struct conn *c = NULL;
  return tsmap_remove(g_conns, &id, sizeof id, &c) == TSMAP_OK ? c : NULL;
}

void conn_drop(unsigned long id) { // quiet: cleaned through the copy
  struct conn *tmp = NULL;
  struct conn *c = tsmap_remove(g_conns, &id, sizeof id, &tmp) == TSMAP_OK ? tmp : NULL;
  if (c)
    conn_close(c);
}

#define TAKE_OR_NULL(id)                                                       \
  ({                                                                           \
    struct conn *c_ = NULL;                                                    \
    tsmap_remove(g_conns, &(id), sizeof(id), &c_) != TSMAP_OK ? NULL : c_;     \
  })
void conn_drop_macro(unsigned long id) { // quiet: a take macro with `?:`
  struct conn *c = TAKE_OR_NULL(id);
  if (c)
    conn_close(c);
}

void conn_forget(unsigned long id) {
  struct conn *tmp = NULL;
  struct conn *c = tsmap_remove(g_conns, &id, sizeof id, &tmp) == TSMAP_OK ? tmp : NULL;
  // CHECK-MESSAGES: :[[@LINE-1]]:20: warning: value removed by 'tsmap_remove' into 'tmp' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  if (c)
    free(c);
}
