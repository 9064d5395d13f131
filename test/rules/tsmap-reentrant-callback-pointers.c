// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
//
// A map API reached through a function pointer (an ops-table field, a
// typedef'd pointer parameter) takes its parameters' contracts from the
// pointer's prototype: a visitor passed to a TSMAP_CALLBACK_LOCKED parameter
// written there must not re-enter the map the call is given, named by a
// global or through the context argument. The second half is quiet:
// another map, a prototype with only TSMAP_CALLBACK.

#include "reentrant-store.h"

struct store_ops {
  int (*each)(store *s, TSMAP_CALLBACK_LOCKED store_visit_fn visit, void *ctx);
  int (*each_unlocked)(store *s, TSMAP_CALLBACK store_visit_fn visit, void *ctx);
};
typedef int (*each_fn)(store *s, TSMAP_CALLBACK_LOCKED store_visit_fn visit,
                       void *ctx);

static store *g_store;
static store *g_other;

static int drop_global(const char *key, void *value, void *ctx) {
  return store_del(g_store, key);
}
static int drop_ctx(const char *key, void *value, void *ctx) {
  return store_del((store *)ctx, key);
}
static int drop_other(const char *key, void *value, void *ctx) {
  return store_del(g_other, key);
}

// ---- Reported -----------------------------------------------------------

void through_field(const struct store_ops *ops) {
  ops->each(g_store, drop_global, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:22: warning: callback 'drop_global' passed to 'each' re-enters the same map: it calls 'store_del' on 'g_store' while 'each' runs it with the map locked or mid-iteration [tsmap-reentrant-callback]
}

void through_parameter(each_fn each, store *s) {
  (*each)(s, drop_ctx, s);
  // CHECK-MESSAGES: :[[@LINE-1]]:14: warning: callback 'drop_ctx' passed to 'each' re-enters the same map: it calls 'store_del' on 's' while 'each' runs it with the map locked or mid-iteration [tsmap-reentrant-callback]
}

// ---- Quiet --------------------------------------------------------------

void quiet(const struct store_ops *ops, each_fn each) {
  ops->each(g_store, drop_other, 0);
  each(g_other, drop_global, 0);
  // TSMAP_CALLBACK only: no lock held while it runs.
  ops->each_unlocked(g_store, drop_global, 0);
}
