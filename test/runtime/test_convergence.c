/*
 * test_convergence.c - what G13 (e) promises of replicas that exchange every change, and
 * its limit (black-box round 14). Two replicas, every change sent through the codec:
 *   r0 writes A (priority 2), then C (priority 1) over it; r1 writes B (priority 1);
 *   r0 merges B; r1 merges A, then C as r0 exported it before merging B;
 *   then each merges everything the other holds, twice.
 * Clocks always end equal (every merge joins them). With tsmap_resolve_latest the values
 * do too: a state's value is its largest-stamped write's. With a resolver that is
 * deterministic and symmetric but decides by something else (priority, then stamp: the
 * rule examples/replicated_config uses) they do not: r1 kept A against C, not knowing
 * that C, written over A, already included it; r0 chose C against B; both end with the
 * clock {2, 1} and different values, and equal clocks never move again.
 */
#include "tsmap_test.h"

/* Priority (the value's first byte; a tombstone has none), then the larger stamp. */
static tsmap_verdict by_priority(const void *key, size_t key_len, const tsmap_change *local,
                                 const tsmap_change *remote, void *ctx, void *merged) {
  (void)key, (void)key_len, (void)ctx;
  unsigned pl = local->value ? *(const unsigned char *)local->value : 0;
  unsigned pr = remote->value ? *(const unsigned char *)remote->value : 0;
  int remote_wins = pr != pl ? pr > pl : remote->stamp > local->stamp;
  if (!remote_wins)
    return TSMAP_KEEP;
  if (!remote->value)
    return TSMAP_DELETE;
  memcpy(merged, remote->value, 8);
  return TSMAP_STORE;
}

typedef struct wire {
  unsigned char b[128];
  size_t n;
} wire;

static int encode_one(const tsmap_change *c, void *ctx) {
  wire *w = ctx;
  CHECK_ST(tsmap_change_encode(c, 8, w->b, sizeof w->b, &w->n), TSMAP_OK);
  return 0;
}

/* The one key's state of m, as its peer would receive it. */
static wire snapshot(tsmap *m) {
  wire w;
  memset(&w, 0, sizeof w);
  CHECK_ST(tsmap_export(m, 0, encode_one, &w, NULL), TSMAP_OK);
  CHECK(w.n > 0);
  return w;
}

static void deliver(tsmap *m, const wire *w, tsmap_resolve_fn resolve) {
  tsmap_change c;
  uint64_t clock[TSMAP_MAX_REPLICAS];
  size_t used = 0;
  CHECK_ST(tsmap_change_decode(w->b, w->n, 8, &c, clock, &used), TSMAP_OK);
  tsmap_status st = tsmap_merge(m, &c, resolve, NULL, NULL);
  CHECK(st == TSMAP_OK || st == TSMAP_REPLACED || st == TSMAP_EXISTS);
}

typedef struct state {
  unsigned char value[8];
  uint64_t clock[2], stamp;
} state;

static int read_state(const tsmap_change *c, void *ctx) {
  state *s = ctx;
  CHECK(c->value != NULL && c->clock_len == 2);
  if (c->value)
    memcpy(s->value, c->value, 8);
  memcpy(s->clock, c->clock, sizeof s->clock);
  s->stamp = c->stamp;
  return 0;
}

/* Runs the history with `resolve`; the two replicas' final states in out[0], out[1]. */
static void run(tsmap_resolve_fn resolve, state out[2]) {
  tsmap *r[2];
  for (size_t i = 0; i < 2; i++) {
    tsmap_config cfg;
    tsmap_config_init(&cfg, 8);
    cfg.replicas = 2;
    cfg.replica_id = i;
    CHECK_ST(tsmap_create(&cfg, &r[i]), TSMAP_OK);
  }
  unsigned char a[8] = {2, 'A'}, b[8] = {1, 'B'}, c[8] = {1, 'C'};
  CHECK_ST(tsmap_put(r[0], "k", 1, a, NULL), TSMAP_OK);
  wire wa = snapshot(r[0]);
  CHECK_ST(tsmap_put(r[0], "k", 1, c, NULL), TSMAP_REPLACED);
  wire wc = snapshot(r[0]);
  CHECK_ST(tsmap_put(r[1], "k", 1, b, NULL), TSMAP_OK);
  wire wb = snapshot(r[1]);
  deliver(r[0], &wb, resolve);
  deliver(r[1], &wa, resolve);
  deliver(r[1], &wc, resolve);
  for (int round = 0; round < 2; round++) {
    wire w0 = snapshot(r[0]), w1 = snapshot(r[1]);
    deliver(r[1], &w0, resolve);
    deliver(r[0], &w1, resolve);
  }
  for (size_t i = 0; i < 2; i++) {
    memset(&out[i], 0, sizeof out[i]);
    CHECK_ST(tsmap_export(r[i], 0, read_state, &out[i], NULL), TSMAP_OK);
    tsmap_destroy(r[i]);
  }
}

/* tsmap_resolve_latest: the same entry everywhere, the largest-stamped write's (C). */
static void test_latest_converges(void) {
  state s[2];
  run(NULL, s);
  CHECK(memcmp(s[0].clock, s[1].clock, sizeof s[0].clock) == 0);
  CHECK(s[0].stamp == s[1].stamp);
  CHECK(memcmp(s[0].value, s[1].value, 8) == 0 && s[0].value[1] == 'C');
}

/* The documented limit (G13 (e), tsmap_resolve_fn): equal clocks, different values, for
 * good. Should this start to fail, the merge has learned where a value came from:
 * update G13 (e) and tsmap.h's resolver comment. */
static void test_a_resolver_not_by_stamp_may_diverge(void) {
  state s[2];
  run(by_priority, s);
  CHECK(memcmp(s[0].clock, s[1].clock, sizeof s[0].clock) == 0);
  CHECK(s[0].clock[0] == 2 && s[0].clock[1] == 1);
  CHECK(s[0].value[1] == 'C' && s[1].value[1] == 'A');
}

TEST_MAIN(T(test_latest_converges), T(test_a_resolver_not_by_stamp_may_diverge))
