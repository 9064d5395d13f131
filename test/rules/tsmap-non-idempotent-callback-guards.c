// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback %t
//
// Summaries conditional on parameters: a helper's effect under a test of its
// parameter does not happen through a call whose constant argument fails the
// test (FALSE, 0, an enum constant, a #define, `!1`, a null pointer).

#include <tsmap/annotations.h>

#define FALSE 0
#define TRUE 1
#define NO_AUDIT 0
enum notify { NOTIFY_NONE, NOTIFY_PEER };

struct TSMAP_THREAD_SAFE_MAP store;
typedef int (*loader)(const char *key, void *ctx, TSMAP_OUT int *out);
int store_compute(struct store *s, const char *key, TSMAP_CALLBACK loader fn, void *ctx);
TSMAP_NON_IDEMPOTENT void send_audit(const char *key);

static long g_loads;

static int load(const char *key, int *out, int count, enum notify n, long *stats) {
  if (count)
    g_loads++;
  if (n == NOTIFY_PEER)
    send_audit(key);
  if (stats != 0)
    ++*stats;
  *out = 1;
  return 0;
}

static int quiet_loader(const char *key, void *ctx, int *out) {
  return load(key, out, FALSE, NOTIFY_NONE, 0);
}
static int quiet_define(const char *key, void *ctx, int *out) {
  return load(key, out, NO_AUDIT, NOTIFY_NONE, (long *)0);
}
static int counting_loader(const char *key, void *ctx, int *out) {
  return load(key, out, TRUE, NOTIFY_NONE, 0);
}
static int notifying_loader(const char *key, void *ctx, int *out) {
  return load(key, out, !1, NOTIFY_PEER, 0);
}
static int stats_loader(const char *key, void *ctx, int *out) {
  return load(key, out, 0, NOTIFY_NONE, &g_loads);
}

void run(struct store *s) {
  store_compute(s, "k", quiet_loader, 0);
  store_compute(s, "k", quiet_define, 0);
  store_compute(s, "k", counting_loader, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:25: warning: callback 'counting_loader' passed to 'store_compute' is not idempotent: it may run more than once, and each run increments 'g_loads'
  store_compute(s, "k", notifying_loader, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:25: warning: callback 'notifying_loader' passed to 'store_compute' is not idempotent: it may run more than once, and each run calls 'send_audit'
  store_compute(s, "k", stats_loader, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:25: warning: callback 'stats_loader' passed to 'store_compute' is not idempotent: it may run more than once, and each run increments 'g_loads'
}
