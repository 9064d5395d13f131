// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t
//
// A map declared more than once is one map: what one use says of it (the type
// of its values, its eviction hook) holds for the uses after a redeclaration.
// A discarded removal after the second declaration once went unreported.

#include <stdlib.h>
#include <tsmap/tsmap.h>

struct timer;
void timer_cancel(struct timer *t);
struct conn {
  TSMAP_CLEANUP(timer_cancel) struct timer *idle;
};

// ---- the value type, learnt before a redeclaration ------------------------
// (A map other files can see, `extern` or not static, may get its hook there:
// the check stays quiet on it, redeclared or not. These are the file's own.)

static tsmap *g_conns;

void conn_take(unsigned long id) {
  struct conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) == TSMAP_OK) {
    timer_cancel(c->idle);
    free(c);
  }
}

static tsmap *g_conns;

void conn_kick(unsigned long id) {
  tsmap_remove(g_conns, &id, sizeof id, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: value removed by 'tsmap_remove' is discarded and the map has no eviction hook; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  // CHECK-MESSAGES: :13:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here
}

// ---- the hook, named on a later declaration -------------------------------

void pending_evicted(const void *key, size_t key_len, void *value, tsmap_evict_reason why,
                     void *ctx);
static tsmap *g_pending;

void pending_take(unsigned long id) {
  struct conn *c;
  if (tsmap_remove(g_pending, &id, sizeof id, &c) == TSMAP_OK) {
    timer_cancel(c->idle);
    free(c);
  }
}

TSMAP_EVICTS_WITH(pending_evicted) static tsmap *g_pending;

void pending_abort(unsigned long id) {
  tsmap_remove(g_pending, &id, sizeof id, NULL); // quiet: the hook cancels the timer
}

void pending_evicted(const void *key, size_t key_len, void *value, tsmap_evict_reason why,
                     void *ctx) {
  (void)key, (void)key_len, (void)why, (void)ctx;
  struct conn *c = *(struct conn **)value;
  timer_cancel(c->idle);
  free(c);
}
