// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback %t
//
// The versions and replication calls of <tsmap/tsmap.h> (runtime/DESIGN.md, G12,
// G13): tsmap_merge's resolver and tsmap_compute_if_version's callback are
// TSMAP_CALLBACK (they may run more than once), and their outputs (`merged`,
// `new_value`) are TSMAP_OUT. Known with no configuration.

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <tsmap/tsmap.h>
#include <unistd.h>

struct app { atomic_long conflicts; int log_fd; };

// Loud: counts each run.
static tsmap_verdict counting_resolver(const void *key, size_t key_len,
                                       const tsmap_change *local,
                                       const tsmap_change *remote, void *ctx,
                                       void *merged) {
  struct app *app = ctx;
  atomic_fetch_add(&app->conflicts, 1);
  return TSMAP_KEEP;
}

// Loud: sends data on each run.
static tsmap_verdict logging_bump(const void *key, size_t key_len,
                                  const void *old_value, void *ctx, void *new_value) {
  struct app *app = ctx;
  write(app->log_fd, key, key_len);
  return TSMAP_KEEP;
}

// Quiet: a pure function of both sides, written to its TSMAP_OUT output.
static tsmap_verdict max_resolver(const void *key, size_t key_len,
                                  const tsmap_change *local, const tsmap_change *remote,
                                  void *ctx, void *merged) {
  uint64_t a = 0, b = 0;
  if (local->value)
    memcpy(&a, local->value, sizeof a);
  if (remote->value)
    memcpy(&b, remote->value, sizeof b);
  uint64_t m = a > b ? a : b;
  memcpy(merged, &m, sizeof m);
  return TSMAP_STORE;
}

// Quiet: the output parameter is not a side effect.
static tsmap_verdict add_one(const void *key, size_t key_len, const void *old_value,
                             void *ctx, void *new_value) {
  uint64_t v = 0;
  if (old_value)
    memcpy(&v, old_value, sizeof v);
  v++;
  memcpy(new_value, &v, sizeof v);
  return TSMAP_STORE;
}

void sync_one(tsmap *m, const tsmap_change *c, struct app *app) {
  tsmap_merge(m, c, counting_resolver, app, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:21: warning: callback 'counting_resolver' passed to 'tsmap_merge' is not idempotent: it may run more than once, and each run increments 'app->conflicts' [tsmap-non-idempotent-callback]
  tsmap_compute_if_version(m, "k", 1, 7, logging_bump, app, NULL, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:42: warning: callback 'logging_bump' passed to 'tsmap_compute_if_version' is not idempotent: it may run more than once, and each run calls 'write', which sends data [tsmap-non-idempotent-callback]
  tsmap_merge(m, c, max_resolver, NULL, NULL);
  tsmap_merge(m, c, tsmap_resolve_latest, NULL, NULL);
  tsmap_compute_if_version(m, "k", 1, TSMAP_VERSION_ANY, add_one, NULL, NULL, NULL);
}
