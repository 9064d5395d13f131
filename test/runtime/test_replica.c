/*
 * test_replica.c - replicated maps (G13): a local write advances this replica's counter,
 * tsmap_merge keeps the dominating side and leaves a dominated or equal one alone, calls
 * the resolver for concurrent clocks (again when the entry moved meanwhile) and joins the
 * clocks; removes leave tombstones a stale write cannot get past until tsmap_forget drops
 * them; values leave through the hook or old_out exactly once; changes survive
 * tsmap_change_encode / _decode. The many-replica property test is test_replica_prop.c.
 */
#include <stdint.h>

#include <pthread.h>

#include "tsmap_test.h"

static tsmap *rmap(size_t id) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.key_size = 8;
  cfg.shard_count = 2;
  cfg.replicas = 3;
  cfg.replica_id = id;
  tsmap_test_count_hooks(&cfg);
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  return m;
}

/* One key's exported state. */
typedef struct seen {
  uint64_t key;
  int present, tomb;
  uint64_t value, stamp, version;
  uint64_t clock[3];
} seen;

static int grab(const tsmap_change *c, void *ctx) {
  seen *s = (seen *)ctx;
  uint64_t k;
  memcpy(&k, c->key, 8);
  if (k != s->key)
    return 0;
  s->present = c->value != NULL;
  s->tomb = c->value == NULL;
  if (c->value)
    memcpy(&s->value, c->value, 8);
  s->stamp = c->stamp;
  s->version = c->version;
  for (size_t i = 0; i < 3; i++)
    s->clock[i] = i < c->clock_len ? c->clock[i] : 0;
  return 0;
}

static seen state_of(tsmap *m, uint64_t k) {
  seen s;
  memset(&s, 0, sizeof s);
  s.key = k;
  CHECK_ST(tsmap_export(m, 0, grab, &s, NULL), TSMAP_OK);
  return s;
}

/* A change of key k with value v (or a tombstone: v NULL). */
static tsmap_change change(const uint64_t *k, const uint64_t *v, const uint64_t *clock,
                           uint64_t stamp) {
  tsmap_change c = {k, 8, v, clock, 3, stamp, 0};
  return c;
}

static void test_g13_local_writes_advance_own_counter(void) {
  tsmap *m = rmap(1);
  uint64_t k = 5, v = 1, ver = 0;
  CHECK_ST(tsmap_put_if_version(m, &k, 8, &v, TSMAP_VERSION_ANY, &ver, NULL), TSMAP_OK);
  seen s = state_of(m, k);
  CHECK(s.present && s.clock[0] == 0 && s.clock[1] == ver && s.clock[2] == 0);
  CHECK(s.stamp == ((ver << 8) | 1));
  v = 2;
  uint64_t ver2 = 0;
  tsmap_put_if_version(m, &k, 8, &v, TSMAP_VERSION_ANY, &ver2, NULL);
  s = state_of(m, k);
  CHECK(ver2 > ver && s.clock[1] == ver2 && s.stamp == ((ver2 << 8) | 1));
  /* a remove leaves a tombstone whose clock is later still */
  uint64_t tv = 0;
  CHECK_ST(tsmap_remove_if_version(m, &k, 8, TSMAP_VERSION_ANY, &tv, NULL), TSMAP_OK);
  s = state_of(m, k);
  CHECK(s.tomb && tv > ver2 && s.clock[1] == tv);
  /* inserting again starts from the tombstone's clock */
  tsmap_put_if_version(m, &k, 8, &v, TSMAP_VERSION_ABSENT, &ver, NULL);
  s = state_of(m, k);
  CHECK(s.present && s.clock[1] == ver && ver > tv);
  tsmap_destroy(m);
}

static void test_g13_merge_dominating_dominated_equal(void) {
  tsmap *m = rmap(0);
  memset(&tsmap_test_hooks, 0, sizeof tsmap_test_hooks);
  uint64_t k = 1, v = 10, old = 0;
  uint64_t c1[3] = {0, 5, 0};
  tsmap_change ch = change(&k, &v, c1, (5 << 8) | 1);
  CHECK_ST(tsmap_merge(m, &ch, NULL, NULL, NULL), TSMAP_OK); /* inserted */
  CHECK_ST(tsmap_merge(m, &ch, NULL, NULL, NULL), TSMAP_EXISTS); /* a duplicate */
  seen s = state_of(m, k);
  CHECK(s.present && s.value == 10 && s.clock[1] == 5 && s.stamp == ((5 << 8) | 1));
  uint64_t c2[3] = {0, 7, 2}, v2 = 20;
  tsmap_change ch2 = change(&k, &v2, c2, (7 << 8) | 1);
  CHECK_ST(tsmap_merge(m, &ch2, NULL, NULL, &old), TSMAP_REPLACED);
  CHECK(old == 10 && tsmap_test_hooks.evicted[TSMAP_EVICT_REPLACED] == 0);
  CHECK_ST(tsmap_merge(m, &ch, NULL, NULL, NULL), TSMAP_EXISTS); /* stale: dominated */
  uint64_t got = 0;
  CHECK_ST(tsmap_get(m, &k, 8, &got), TSMAP_OK);
  CHECK(got == 20);
  /* a local write after the merge: its stamp is above the merged one (Lamport) */
  uint64_t ver = 0, v3 = 30;
  tsmap_put_if_version(m, &k, 8, &v3, TSMAP_VERSION_ANY, &ver, NULL);
  s = state_of(m, k);
  CHECK(s.clock[0] == ver && s.clock[1] == 7 && s.clock[2] == 2 && (s.stamp >> 8) > 7);
  CHECK(tsmap_test_hooks.created == 3 && tsmap_test_hooks.evicted[TSMAP_EVICT_REPLACED] == 1);
  tsmap_destroy(m);
}

static _Atomic int g_resolves;

static tsmap_verdict sum_resolver(const void *key, size_t key_len, const tsmap_change *local,
                                  const tsmap_change *remote, void *ctx, void *merged) {
  (void)key, (void)key_len, (void)ctx;
  g_resolves++;
  uint64_t a = 0, b = 0;
  if (local->value)
    memcpy(&a, local->value, 8);
  if (remote->value)
    memcpy(&b, remote->value, 8);
  uint64_t s = a + b;
  memcpy(merged, &s, 8);
  return TSMAP_STORE;
}

static tsmap_verdict bad_resolver(const void *key, size_t key_len, const tsmap_change *local,
                                  const tsmap_change *remote, void *ctx, void *merged) {
  (void)key, (void)key_len, (void)local, (void)remote, (void)ctx;
  memset(merged, 0x5a, 8);
  return (tsmap_verdict)9;
}

/* A resolver return that is not a verdict applies nothing (it was applied as a DELETE,
 * a tombstone): tsmap_merge says TSMAP_INVALID_ARGUMENT, value and clock unchanged. */
static void test_g13_a_bad_resolver_verdict_applies_nothing(void) {
  tsmap *m = rmap(0);
  uint64_t k = 5, v = 3, ver = 0;
  tsmap_put_if_version(m, &k, 8, &v, TSMAP_VERSION_ANY, &ver, NULL);
  seen before = state_of(m, k);
  uint64_t rc[3] = {0, 4, 0}, rv = 4; /* concurrent: the resolver runs */
  tsmap_change ch = change(&k, &rv, rc, (4 << 8) | 1);
  CHECK_ST(tsmap_merge(m, &ch, bad_resolver, NULL, NULL), TSMAP_INVALID_ARGUMENT);
  seen after = state_of(m, k);
  CHECK(!after.tomb && after.value == 3 && after.clock[1] == before.clock[1]);
  CHECK_ST(tsmap_get(m, &k, 8, &v), TSMAP_OK);
  tsmap_destroy(m);
}

static void test_g13_concurrent_clocks_call_the_resolver(void) {
  tsmap *m = rmap(0);
  memset(&tsmap_test_hooks, 0, sizeof tsmap_test_hooks);
  uint64_t k = 2, v = 3, ver = 0;
  tsmap_put_if_version(m, &k, 8, &v, TSMAP_VERSION_ANY, &ver, NULL);
  uint64_t rc[3] = {0, 4, 0}, rv = 4; /* knows nothing of our write: concurrent */
  tsmap_change ch = change(&k, &rv, rc, (4 << 8) | 1);
  g_resolves = 0;
  CHECK_ST(tsmap_merge(m, &ch, sum_resolver, NULL, NULL), TSMAP_REPLACED); // NOLINT(tsmap-non-idempotent-callback): counts its runs on purpose
  CHECK(g_resolves == 1);
  seen s = state_of(m, k);
  CHECK(s.value == 7 && s.clock[0] == ver && s.clock[1] == 4 && s.clock[2] == 0);
  CHECK(tsmap_test_hooks.evicted[TSMAP_EVICT_REPLACED] == 1);
  /* the same change again is now dominated: no resolver */
  CHECK_ST(tsmap_merge(m, &ch, sum_resolver, NULL, NULL), TSMAP_EXISTS); // NOLINT(tsmap-non-idempotent-callback): counts its runs on purpose
  CHECK(g_resolves == 1);
  /* tsmap_resolve_latest: the larger stamp wins, a tombstone included */
  uint64_t rc2[3] = {0, 0, 900};
  tsmap_change tomb = change(&k, NULL, rc2, (900u << 8) | 2);
  CHECK_ST(tsmap_merge(m, &tomb, NULL, NULL, NULL), TSMAP_REPLACED);
  CHECK_ST(tsmap_get(m, &k, 8, &v), TSMAP_NOT_FOUND);
  s = state_of(m, k);
  CHECK(s.tomb && s.clock[0] == ver && s.clock[1] == 4 && s.clock[2] == 900);
  CHECK(tsmap_test_hooks.evicted[TSMAP_EVICT_REMOVED] == 1);
  tsmap_destroy(m);
}

/* A resolver during whose first run another thread writes the key (no lock is held):
 * the merge sees the entry moved, discards the result and asks again. Its own calls on
 * the key are refused (TSMAP_REENTERED): were they not, a resolver that writes it would
 * make its merge start over for ever. */
static tsmap *g_rm;
static _Atomic int g_own_put;
static void *put_100(void *key) {
  uint64_t x = 100;
  CHECK_ST(tsmap_put(g_rm, key, 8, &x, NULL), TSMAP_REPLACED);
  return NULL;
}
static tsmap_verdict meddling_resolver(const void *key, size_t key_len,
                                       const tsmap_change *local, const tsmap_change *remote,
                                       void *ctx, void *merged) {
  (void)ctx;
  uint64_t x = 7;
  atomic_store(&g_own_put, tsmap_put(g_rm, key, key_len, &x, NULL));
  if (g_resolves++ == 0) {
    pthread_t t;
    pthread_create(&t, NULL, put_100, (void *)key);
    pthread_join(t, NULL);
  }
  g_resolves--; /* counted once, here */
  return sum_resolver(key, key_len, local, remote, NULL, merged);
}

static void test_g13_resolver_runs_again_when_the_entry_moved(void) {
  g_rm = rmap(0);
  memset(&tsmap_test_hooks, 0, sizeof tsmap_test_hooks);
  uint64_t k = 3, v = 1;
  tsmap_put(g_rm, &k, 8, &v, NULL);
  uint64_t rc[3] = {0, 0, 1}, rv = 2;
  tsmap_change ch = change(&k, &rv, rc, (1 << 8) | 2);
  g_resolves = 0;
  CHECK_ST(tsmap_merge(g_rm, &ch, meddling_resolver, NULL, NULL), TSMAP_REPLACED); // NOLINT(tsmap-non-idempotent-callback): counts its runs on purpose
  CHECK(g_resolves == 2);
  CHECK(tsmap_test_hooks.evicted[TSMAP_EVICT_DISCARDED] == 1); /* the first result (1 + 2) never entered */
  uint64_t got = 0;
  tsmap_get(g_rm, &k, 8, &got);
  CHECK(got == 102);
  /* created: put, the other thread's put, the merged value; replaced: twice */
  CHECK(tsmap_test_hooks.created == 3 && tsmap_test_hooks.evicted[TSMAP_EVICT_REPLACED] == 2);
  CHECK(atomic_load(&g_own_put) == TSMAP_REENTERED);
  tsmap_destroy(g_rm);
}

/* G6, G13: a merge that stores a value bytewise equal to the local one (a dominating
 * change, or a resolver's STORE) replaces nothing: no hook runs for a value that stays
 * (an evicted hook would free what a pointer value still refers to), and the clock joins. */
static tsmap_verdict store_remote(const void *key, size_t key_len, const tsmap_change *local,
                                  const tsmap_change *remote, void *ctx, void *merged) {
  (void)key, (void)key_len, (void)local, (void)ctx;
  memcpy(merged, remote->value, 8);
  return TSMAP_STORE;
}

static void test_g13_an_equal_value_stays(void) {
  tsmap *m = rmap(0);
  memset(&tsmap_test_hooks, 0, sizeof tsmap_test_hooks);
  uint64_t k = 4, v = 2, ver = 0, old = 99;
  tsmap_put_if_version(m, &k, 8, &v, TSMAP_VERSION_ANY, &ver, NULL);
  uint64_t rc[3] = {0, 3, 0}, rv = 2; /* concurrent, the same bytes */
  tsmap_change ch = change(&k, &rv, rc, (3 << 8) | 1);
  CHECK_ST(tsmap_merge(m, &ch, store_remote, NULL, &old), TSMAP_OK);
  seen s = state_of(m, k);
  CHECK(s.value == 2 && s.clock[0] == ver && s.clock[1] == 3 && old == 99);
  uint64_t rc2[3] = {ver, 5, 0}; /* dominating, the same bytes */
  tsmap_change ch2 = change(&k, &rv, rc2, (5 << 8) | 1);
  CHECK_ST(tsmap_merge(m, &ch2, NULL, NULL, NULL), TSMAP_OK);
  s = state_of(m, k);
  CHECK(s.value == 2 && s.clock[1] == 5);
  CHECK(tsmap_test_hooks.created == 1 && tsmap_test_hooks.evicted[TSMAP_EVICT_REPLACED] == 0);
  tsmap_destroy(m);
}

/* "Pinned" values (>= 1000) beat the others; else the larger stamp wins: deterministic
 * and symmetric, so replicas must converge (G13 (e)). */
static tsmap_verdict pinned_resolver(const void *key, size_t key_len, const tsmap_change *local,
                                     const tsmap_change *remote, void *ctx, void *merged) {
  (void)key;
  (void)key_len;
  (void)ctx;
  uint64_t a, b;
  memcpy(&a, local->value, 8);
  memcpy(&b, remote->value, 8);
  if ((a >= 1000) != (b >= 1000) ? a >= 1000 : local->stamp > remote->stamp)
    return TSMAP_KEEP;
  memcpy(merged, &b, 8);
  return TSMAP_STORE;
}

/* Two replicas resolve one concurrent pair, one by KEEP and the other by STORE of the
 * same value: both must end with the larger stamp, not only the same value and clock.
 * KEEP used to keep the local stamp (found by an independent black-box test): replica 0
 * then held stamp 0x100 and replica 1 0x201, and a third replica's write with stamp 0x102
 * won on replica 0 and lost on replica 1, which never converged again. */
static void test_g13_keep_takes_the_larger_stamp(void) {
  tsmap *r[3] = {rmap(0), rmap(1), rmap(2)};
  uint64_t k = 9, other = 10, pinned = 1000, plain = 200, pinned2 = 1001;
  CHECK_ST(tsmap_put(r[0], &k, 8, &pinned, NULL), TSMAP_OK);  /* stamp (1 << 8) | 0 */
  CHECK_ST(tsmap_put(r[1], &other, 8, &plain, NULL), TSMAP_OK);
  CHECK_ST(tsmap_put(r[1], &k, 8, &plain, NULL), TSMAP_OK);   /* stamp (2 << 8) | 1 */
  seen w[2] = {state_of(r[0], k), state_of(r[1], k)};
  for (int i = 0; i < 2; i++) {
    seen *o = &w[1 - i];
    tsmap_change ch = change(&k, &o->value, o->clock, o->stamp);
    CHECK_ST(tsmap_merge(r[i], &ch, pinned_resolver, NULL, NULL), i == 0 ? TSMAP_OK : TSMAP_REPLACED);
  }
  seen s0 = state_of(r[0], k), s1 = state_of(r[1], k);
  CHECK(s0.value == 1000 && s1.value == 1000);
  CHECK(memcmp(s0.clock, s1.clock, sizeof s0.clock) == 0);
  CHECK(s0.stamp == s1.stamp && s0.stamp == w[1].stamp); /* the larger of the two */
  /* a third replica's concurrent pinned write, stamped between the two */
  CHECK_ST(tsmap_put(r[2], &k, 8, &pinned2, NULL), TSMAP_OK); /* stamp (1 << 8) | 2 */
  seen w2 = state_of(r[2], k);
  CHECK(w2.stamp > w[0].stamp && w2.stamp < w[1].stamp);
  for (int i = 0; i < 2; i++) {
    tsmap_change ch = change(&k, &w2.value, w2.clock, w2.stamp);
    tsmap_merge(r[i], &ch, pinned_resolver, NULL, NULL);
  }
  s0 = state_of(r[0], k);
  s1 = state_of(r[1], k);
  CHECK(s0.value == s1.value && s0.stamp == s1.stamp);
  CHECK(memcmp(s0.clock, s1.clock, sizeof s0.clock) == 0);
  for (int i = 0; i < 3; i++)
    tsmap_destroy(r[i]);
}

static void test_g13_tombstones_stop_stale_writes_until_forgotten(void) {
  tsmap *a = rmap(0), *b = rmap(1);
  uint64_t k = 4, v = 1;
  tsmap_put(a, &k, 8, &v, NULL);
  seen s = state_of(a, k);
  tsmap_change stale = change(&k, &v, s.clock, s.stamp);
  CHECK_ST(tsmap_merge(b, &stale, NULL, NULL, NULL), TSMAP_OK);
  CHECK_ST(tsmap_remove(b, &k, 8, NULL), TSMAP_OK);
  seen t = state_of(b, k);
  CHECK(t.tomb);
  /* the old write arrives again (a duplicate, late): the tombstone dominates it */
  CHECK_ST(tsmap_merge(b, &stale, NULL, NULL, NULL), TSMAP_EXISTS);
  CHECK_ST(tsmap_get(b, &k, 8, &v), TSMAP_NOT_FOUND);
  /* the tombstone travels: a loses the key */
  tsmap_change tc = change(&k, NULL, t.clock, t.stamp);
  CHECK_ST(tsmap_merge(a, &tc, NULL, NULL, NULL), TSMAP_REPLACED);
  CHECK_ST(tsmap_get(a, &k, 8, &v), TSMAP_NOT_FOUND);
  /* a horizon below the tombstone keeps it; one at it drops it */
  size_t n = 9;
  uint64_t low[3] = {0, 0, 0};
  CHECK_ST(tsmap_forget(b, low, 3, &n), TSMAP_OK);
  CHECK(n == 0);
  CHECK_ST(tsmap_forget(b, t.clock, 3, &n), TSMAP_OK);
  CHECK(n == 1);
  /* the cost of forgetting while an old write is still in flight: it comes back */
  CHECK_ST(tsmap_merge(b, &stale, NULL, NULL, NULL), TSMAP_OK);
  CHECK_ST(tsmap_get(b, &k, 8, &v), TSMAP_OK);
  uint64_t big[4] = {0};
  CHECK_ST(tsmap_forget(b, big, 4, &n), TSMAP_INVALID_ARGUMENT);
  tsmap_destroy(a);
  tsmap_destroy(b);
}

static void test_g13_bad_arguments(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.versions = 1;
  tsmap *plain, *m = rmap(2);
  CHECK_ST(tsmap_create(&cfg, &plain), TSMAP_OK);
  uint64_t k = 1, v = 1, c4[4] = {1, 1, 1, 1};
  tsmap_change ch = change(&k, &v, c4, 1);
  CHECK_ST(tsmap_merge(plain, &ch, NULL, NULL, NULL), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_forget(plain, NULL, 0, NULL), TSMAP_INVALID_ARGUMENT);
  ch.clock_len = 4;
  CHECK_ST(tsmap_merge(m, &ch, NULL, NULL, NULL), TSMAP_INVALID_ARGUMENT);
  ch.clock_len = 1; /* fewer counters: the rest are 0 */
  CHECK_ST(tsmap_merge(m, &ch, NULL, NULL, NULL), TSMAP_OK);
  ch.key_len = 3; /* this map's keys are 8 bytes */
  CHECK_ST(tsmap_merge(m, &ch, NULL, NULL, NULL), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_merge(m, NULL, NULL, NULL, NULL), TSMAP_INVALID_ARGUMENT);
  tsmap_destroy(plain);
  tsmap_destroy(m);
}

static void test_g13_codec_round_trip(void) {
  uint64_t k = 77, v = 0x1122334455667788ull, clock[3] = {1, 2, 3};
  tsmap_change c = change(&k, &v, clock, 0xabcdef), d;
  unsigned char buf[128];
  uint64_t cb[TSMAP_MAX_REPLICAS];
  size_t len = 0, used = 0;
  CHECK_ST(tsmap_change_encode(&c, 8, NULL, 0, &len), TSMAP_NO_MEMORY);
  CHECK(len == 32 + 24 + 8 + 8);
  CHECK_ST(tsmap_change_encode(&c, 8, buf, sizeof buf, &len), TSMAP_OK);
  CHECK_ST(tsmap_change_decode(buf, len - 1, 8, &d, cb, &used), TSMAP_NOT_FOUND);
  CHECK_ST(tsmap_change_decode(buf, len, 4, &d, cb, &used), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_change_decode(buf, len, 8, &d, cb, &used), TSMAP_OK);
  CHECK(used == len && d.key_len == 8 && memcmp(d.key, &k, 8) == 0);
  CHECK(d.value && memcmp(d.value, &v, 8) == 0 && d.stamp == 0xabcdef);
  CHECK(d.clock_len == 3 && d.clock[2] == 3);
  c.value = NULL; /* a tombstone: no value bytes */
  CHECK_ST(tsmap_change_encode(&c, 8, buf, sizeof buf, &len), TSMAP_OK);
  CHECK(len == 32 + 24 + 8);
  CHECK_ST(tsmap_change_decode(buf, len, 8, &d, cb, &used), TSMAP_OK);
  CHECK(d.value == NULL && memcmp(d.key, &k, 8) == 0);
}

/* G1 with no memory: a merge that would store a tombstone for an absent key, the feed's
 * copy, an insert, and every removal (which needs its tombstone's record) fail and change
 * nothing. */
static _Atomic int g_fail;

static int count_changes(const tsmap_change *c, void *ctx) {
  (void)c;
  ++*(int *)ctx;
  return 0;
}

static tsmap_verdict cb_delete(const void *key, size_t key_len, const void *old, void *ctx,
                               void *out) {
  (void)key, (void)key_len, (void)old, (void)ctx, (void)out;
  return TSMAP_DELETE;
}

static void test_g13_without_memory(void) {
  tsmap_allocator al = {tsmap_test_switch_alloc, tsmap_test_free, &g_fail};
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.key_size = 8;
  cfg.shard_count = 1;
  cfg.replicas = 2;
  cfg.allocator = &al;
  tsmap *m;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  uint64_t k = 1, v = 1, clock[2] = {0, 3};
  CHECK_ST(tsmap_put(m, &k, 8, &v, NULL), TSMAP_OK);
  g_fail = 1;
  int n = 0;
  CHECK_ST(tsmap_export(m, 0, count_changes, &n, NULL), TSMAP_NO_MEMORY);
  CHECK(n == 0);
  uint64_t k2 = 2;
  tsmap_change tomb = {&k2, 8, NULL, clock, 2, (3 << 8) | 1, 0};
  CHECK_ST(tsmap_merge(m, &tomb, NULL, NULL, NULL), TSMAP_NO_MEMORY);
  int refused = 0;
  for (uint64_t i = 10; i < 40; i++) { /* inserts until the table must grow */
    tsmap_status st = tsmap_put_if_version(m, &i, 8, &v, TSMAP_VERSION_ABSENT, NULL, NULL);
    CHECK(st == TSMAP_OK || st == TSMAP_NO_MEMORY);
    refused += st == TSMAP_NO_MEMORY;
    if (st == TSMAP_NO_MEMORY)
      CHECK_ST(tsmap_get(m, &i, 8, &v), TSMAP_NOT_FOUND);
  }
  CHECK(refused > 0);
  /* a removal needs its tombstone's record: every remove path fails and removes nothing */
  CHECK_ST(tsmap_remove(m, &k, 8, NULL), TSMAP_NO_MEMORY);
  CHECK_ST(tsmap_remove_if_version(m, &k, 8, TSMAP_VERSION_ANY, NULL, NULL), TSMAP_NO_MEMORY);
  CHECK_ST(tsmap_compute_if_present(m, &k, 8, cb_delete, NULL, NULL), TSMAP_NO_MEMORY);
  CHECK_ST(tsmap_compute_if_version(m, &k, 8, TSMAP_VERSION_ANY, cb_delete, NULL, NULL, NULL),
           TSMAP_NO_MEMORY);
  uint64_t remote_clock[2] = {100, 100};
  tsmap_change kill = {&k, 8, NULL, remote_clock, 2, (100 << 8) | 1, 0};
  CHECK_ST(tsmap_merge(m, &kill, NULL, NULL, NULL), TSMAP_NO_MEMORY);
  CHECK_ST(tsmap_get(m, &k, 8, &v), TSMAP_OK);
  g_fail = 0;
  n = 0;
  CHECK_ST(tsmap_export(m, 0, count_changes, &n, NULL), TSMAP_OK);
  size_t size = 0;
  tsmap_size(m, &size);
  CHECK((size_t)n == size); /* entries only: no tombstone was stored */
  CHECK_ST(tsmap_remove(m, &k, 8, NULL), TSMAP_OK); /* with memory: removed, with one */
  n = 0;
  CHECK_ST(tsmap_export(m, 0, count_changes, &n, NULL), TSMAP_OK);
  CHECK((size_t)n == size);
  tsmap_destroy(m);
}

TEST_MAIN(T(test_g13_local_writes_advance_own_counter),
          T(test_g13_merge_dominating_dominated_equal),
          T(test_g13_concurrent_clocks_call_the_resolver),
          T(test_g13_a_bad_resolver_verdict_applies_nothing),
          T(test_g13_resolver_runs_again_when_the_entry_moved),
          T(test_g13_tombstones_stop_stale_writes_until_forgotten), T(test_g13_bad_arguments),
          T(test_g13_codec_round_trip), T(test_g13_without_memory), T(test_g13_an_equal_value_stays),
          T(test_g13_keep_takes_the_larger_stamp))
