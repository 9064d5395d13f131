/*
 * test_expiry.c - expiry (G10, runtime/DESIGN.md): deterministic tests on a clock the test
 * steps by hand (at, before and after a deadline; per-entry TTLs over the default; every
 * insert path; an expired entry absent to every call; reclamation by writes, by
 * tsmap_maintain, by the maintenance thread and by close), then a stress that races
 * readers, writers, sweeps, tsmap_maintain and close with a ledger of every value
 * (exactly once). No test sleeps to pass: time is the test's clock.
 */
#include "tsmap_test.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef TSMAP_STRESS_SMALL
#define SCALE 8
#else
#define SCALE 1
#endif

uint64_t tsmap_debug_fingerprint(tsmap *m);

/* ---- A clock the test steps, and hooks that count ------------------------------------------ */

static _Atomic uint64_t g_now;
static uint64_t test_clock(void *ctx) {
  (void)ctx;
  return atomic_load(&g_now);
}

typedef struct counts {
  _Atomic long created, expired, closed, replaced, removed, discarded;
  _Atomic long sum_expired; /* sum of the expired values, to tell which left */
} counts;
static counts g_c;

static void on_created(const void *k, size_t kl, const void *v, void *ctx) {
  (void)k, (void)kl, (void)v, (void)ctx;
  g_c.created++;
}
static void on_evicted(const void *k, size_t kl, void *v, tsmap_evict_reason why, void *ctx) {
  (void)k, (void)kl, (void)ctx;
  uint64_t x;
  memcpy(&x, v, 8);
  switch (why) {
  case TSMAP_EVICT_EXPIRED:
    g_c.expired++;
    g_c.sum_expired += (long)x;
    break;
  case TSMAP_EVICT_CLOSED: g_c.closed++; break;
  case TSMAP_EVICT_REPLACED: g_c.replaced++; break;
  case TSMAP_EVICT_REMOVED: g_c.removed++; break;
  default: g_c.discarded++; break;
  }
}

/* A map with expiry on the test clock (now = 100), `default_ttl` ns, 8-byte keys unless
 * key_size is 0, values of `vsize` bytes. */
static tsmap *expiry_map(uint64_t default_ttl, size_t key_size, size_t vsize, size_t shards) {
  memset(&g_c, 0, sizeof g_c);
  atomic_store(&g_now, 100);
  tsmap_config cfg;
  tsmap_config_init(&cfg, vsize);
  cfg.key_size = key_size;
  cfg.shard_count = shards;
  cfg.expiry = 1;
  cfg.default_ttl_ns = default_ttl;
  cfg.clock = test_clock;
  cfg.on_entry_created = on_created;
  cfg.on_entry_evicted = on_evicted;
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  return m;
}

static tsmap_status put_u(tsmap *m, uint64_t k, uint64_t v, uint64_t ttl) {
  return tsmap_put_ttl(m, &k, 8, &v, ttl, NULL);
}
static tsmap_status get_u(tsmap *m, uint64_t k, uint64_t *v) { return tsmap_get(m, &k, 8, v); }

/* ---- Deadlines ------------------------------------------------------------------------------- */

/* G10: present before the deadline, absent at it and after it, to get and to foreach;
 * reclaimed once, by tsmap_maintain, with TSMAP_EVICT_EXPIRED. */
static int count_visit(const void *k, size_t kl, const void *v, void *ctx) {
  (void)k, (void)kl, (void)v;
  (*(long *)ctx)++;
  return 0;
}

static void test_g10_absent_from_the_deadline_on(void) {
  tsmap *m = expiry_map(50, 8, 8, 1);
  uint64_t k = 7, v = 70, out = 0;
  CHECK_ST(tsmap_put(m, &k, 8, &v, NULL), TSMAP_OK); /* default: deadline 150 */
  atomic_store(&g_now, 149);
  CHECK_ST(get_u(m, 7, &out), TSMAP_OK);
  CHECK(out == 70);
  long seen = 0;
  CHECK_ST(tsmap_foreach(m, count_visit, &seen), TSMAP_OK);
  CHECK(seen == 1);
  atomic_store(&g_now, 150);
  CHECK_ST(get_u(m, 7, &out), TSMAP_NOT_FOUND);
  seen = 0;
  CHECK_ST(tsmap_foreach(m, count_visit, &seen), TSMAP_OK);
  CHECK(seen == 0);
  atomic_store(&g_now, 10000);
  CHECK_ST(get_u(m, 7, &out), TSMAP_NOT_FOUND);
  CHECK(g_c.expired == 0); /* reads never reclaim (G2) */
  size_t n = 0;
  CHECK_ST(tsmap_size(m, &n), TSMAP_OK);
  CHECK(n == 1); /* counted until reclaimed (tsmap.h) */
  CHECK_ST(tsmap_maintain(m, 1 << 20), TSMAP_OK);
  CHECK(g_c.expired == 1 && g_c.sum_expired == 70);
  CHECK_ST(tsmap_size(m, &n), TSMAP_OK);
  CHECK(n == 0);
  CHECK_ST(tsmap_maintain(m, 1 << 20), TSMAP_OK);
  tsmap_destroy(m);
  CHECK(g_c.expired == 1 && g_c.closed == 0 && g_c.created == 1);
}

/* G10: a per-entry TTL overrides the default, in both directions, and NEVER never
 * expires; a huge TTL saturates instead of wrapping into the past. */
static void test_g10_per_entry_ttl_overrides_default(void) {
  tsmap *m = expiry_map(50, 8, 8, 2);
  uint64_t out;
  CHECK_ST(put_u(m, 1, 11, 10), TSMAP_OK);                 /* deadline 110 */
  CHECK_ST(put_u(m, 2, 22, TSMAP_TTL_NEVER), TSMAP_OK);    /* none */
  CHECK_ST(put_u(m, 3, 33, TSMAP_TTL_DEFAULT), TSMAP_OK);  /* 150 */
  CHECK_ST(put_u(m, 4, 44, 1000), TSMAP_OK);               /* 1100 */
  CHECK_ST(put_u(m, 5, 55, UINT64_MAX - 1), TSMAP_OK);     /* saturated */
  atomic_store(&g_now, 109);
  CHECK_ST(get_u(m, 1, &out), TSMAP_OK);
  atomic_store(&g_now, 110);
  CHECK_ST(get_u(m, 1, &out), TSMAP_NOT_FOUND);
  CHECK_ST(get_u(m, 3, &out), TSMAP_OK);
  atomic_store(&g_now, 150);
  CHECK_ST(get_u(m, 3, &out), TSMAP_NOT_FOUND);
  CHECK_ST(get_u(m, 4, &out), TSMAP_OK);
  atomic_store(&g_now, UINT64_MAX / 2);
  CHECK_ST(get_u(m, 2, &out), TSMAP_OK);
  CHECK_ST(get_u(m, 4, &out), TSMAP_NOT_FOUND);
  CHECK_ST(get_u(m, 5, &out), TSMAP_OK);
  tsmap_destroy(m); /* 1, 3, 4 expired; 2 and 5 live */
  CHECK(g_c.expired == 3 && g_c.sum_expired == 11 + 33 + 44 && g_c.closed == 2);
}

/* ---- Every insert path sets a deadline --------------------------------------------------------- */

static tsmap_verdict cb_store(const void *key, size_t key_len, const void *old, void *ctx,
                              TSMAP_OUT void *out) {
  (void)key, (void)key_len;
  *(int *)ctx += old != NULL; /* how many runs saw a value */
  uint64_t v = 500;
  memcpy(out, &v, 8);
  return TSMAP_STORE;
}
static tsmap_verdict cb_delete(const void *key, size_t key_len, const void *old, void *ctx,
                               TSMAP_OUT void *out) {
  (void)key, (void)key_len, (void)out;
  *(int *)ctx += old != NULL; /* how many runs saw a value */
  return TSMAP_DELETE;
}
static int cb_absent(const void *key, size_t key_len, void *ctx, TSMAP_OUT void *out) {
  (void)key, (void)key_len;
  (*(int *)ctx)++;
  uint64_t v = 600;
  memcpy(out, &v, 8);
  return 0;
}

static void test_g10_every_insert_path_takes_a_ttl(void) {
  tsmap *m = expiry_map(0, 8, 8, 1); /* no default: only explicit TTLs expire */
  uint64_t k, v = 1, out;
  int runs = 0;
  void *p = &runs, *pout = NULL;
  k = 1; CHECK_ST(tsmap_put_if_absent_ttl(m, &k, 8, &v, 10, NULL), TSMAP_OK);
  k = 2; CHECK_ST(tsmap_put_ptr_ttl(m, &k, 8, p, 10, NULL), TSMAP_OK);
  k = 3; CHECK_ST(tsmap_put_ptr_if_absent_ttl(m, &k, 8, p, 10, NULL), TSMAP_OK);
  k = 4; CHECK_ST(tsmap_compute_if_absent_ttl(m, &k, 8, cb_absent, &runs, 10, &out), TSMAP_OK); // NOLINT(tsmap-non-idempotent-callback): counts its runs on purpose
  k = 5; CHECK_ST(tsmap_compute_ttl(m, &k, 8, cb_store, &runs, 10, &out), TSMAP_OK); // NOLINT(tsmap-non-idempotent-callback): counts its runs on purpose
  k = 6; CHECK_ST(tsmap_put(m, &k, 8, &v, NULL), TSMAP_OK); /* no default: never */
  k = 6; CHECK_ST(tsmap_compute_if_present_ttl(m, &k, 8, cb_store, &runs, 10, &out), TSMAP_OK); // NOLINT(tsmap-non-idempotent-callback): counts its runs on purpose
  k = 7; CHECK_ST(tsmap_put(m, &k, 8, &v, NULL), TSMAP_OK);
  k = 7; CHECK_ST(tsmap_put_ttl(m, &k, 8, &v, 10, NULL), TSMAP_REPLACED); /* new deadline */
  k = 8; CHECK_ST(tsmap_put(m, &k, 8, &v, NULL), TSMAP_OK);
  CHECK(runs == 2); /* compute_if_absent once; compute_if_present saw key 6 */
  atomic_store(&g_now, 109);
  for (k = 1; k <= 8; k++)
    CHECK_ST(tsmap_get(m, &k, 8, &out), TSMAP_OK);
  atomic_store(&g_now, 110);
  for (k = 1; k <= 7; k++)
    CHECK_ST(tsmap_get(m, &k, 8, &out), TSMAP_NOT_FOUND);
  k = 8; CHECK_ST(tsmap_get(m, &k, 8, &out), TSMAP_OK);
  /* a put replacing a value with a deadline gives the new value its own (none here) */
  k = 9; CHECK_ST(put_u(m, 9, 9, 5), TSMAP_OK);
  k = 9; CHECK_ST(tsmap_put(m, &k, 8, &v, NULL), TSMAP_REPLACED);
  atomic_store(&g_now, 1000);
  k = 9; CHECK_ST(tsmap_get(m, &k, 8, &out), TSMAP_OK);
  (void)pout;
  tsmap_destroy(m);
  CHECK(g_c.expired == 7 && g_c.closed == 2);
}

/* The *_ttl calls need a map created with expiry; tsmap_maintain's statuses; a
 * maintenance thread on a map without expiry. */
static void test_g10_statuses(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  uint64_t k = 1, v = 2;
  int runs = 0;
  CHECK_ST(tsmap_put_ttl(m, &k, 8, &v, 5, NULL), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_put_if_absent_ttl(m, &k, 8, &v, 5, NULL), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_put_ptr_ttl(m, &k, 8, &v, 5, NULL), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_put_ptr_if_absent_ttl(m, &k, 8, &v, 5, NULL), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_compute_ttl(m, &k, 8, cb_store, &runs, 5, NULL), TSMAP_INVALID_ARGUMENT); // NOLINT(tsmap-non-idempotent-callback): counts its runs on purpose
  CHECK_ST(tsmap_compute_if_present_ttl(m, &k, 8, cb_store, &runs, 5, NULL), // NOLINT(tsmap-non-idempotent-callback): counts its runs on purpose
           TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_compute_if_absent_ttl(m, &k, 8, cb_absent, &runs, 5, NULL), // NOLINT(tsmap-non-idempotent-callback): counts its runs on purpose
           TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_maintain(m, 100), TSMAP_OK); /* nothing to do */
  CHECK_ST(tsmap_maintain(NULL, 100), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_close(m), TSMAP_OK);
  CHECK_ST(tsmap_maintain(m, 100), TSMAP_CLOSED);
  tsmap_destroy(m);
  CHECK(runs == 0);
  cfg.maintain_interval_ns = 1000000; /* allowed: the thread moves reshards on */
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  tsmap_destroy(m);
  m = expiry_map(5, 8, 8, 1);
  CHECK_ST(tsmap_put_ptr_ttl(m, &k, 8, &v, 5, NULL), TSMAP_OK); /* value_size 8 */
  tsmap_destroy(m);
}

/* tsmap_maintain says TSMAP_CLOSED when a hook it ran closed the map, also when that
 * hook ran in its last visit (1 shard: its only one; an independent tester's case). */
static tsmap *g_closing;
static void close_on_expired(const void *k, size_t kl, void *v, tsmap_evict_reason why,
                             void *ctx) {
  on_evicted(k, kl, v, why, ctx);
  if (why == TSMAP_EVICT_EXPIRED && g_c.expired == 1)
    CHECK_ST(tsmap_close(g_closing), TSMAP_OK);
}
static void test_g10_maintain_reports_a_close_by_its_hook(void) {
  for (size_t shards = 1; shards <= 4; shards *= 2) {
    memset(&g_c, 0, sizeof g_c);
    atomic_store(&g_now, 100);
    tsmap_config cfg;
    tsmap_config_init(&cfg, 8);
    cfg.key_size = 8;
    cfg.shard_count = shards;
    cfg.expiry = 1;
    cfg.clock = test_clock;
    cfg.on_entry_evicted = close_on_expired;
    CHECK_ST(tsmap_create(&cfg, &g_closing), TSMAP_OK);
    for (uint64_t k = 0; k < 10; k++)
      CHECK_ST(put_u(g_closing, k, k, 10), TSMAP_OK);
    atomic_store(&g_now, 120);
    CHECK_ST(tsmap_maintain(g_closing, SIZE_MAX), TSMAP_CLOSED);
    CHECK(g_c.expired >= 1);
    tsmap_destroy(g_closing);
  }
}

/* ---- An expired entry is absent to every call --------------------------------------------------- */

/* Put a value that expires at 110 under key 1, then move the clock to 110. */
static tsmap *expired_key_1(void) {
  tsmap *m = expiry_map(0, 8, 8, 1);
  CHECK_ST(put_u(m, 1, 41, 10), TSMAP_OK);
  atomic_store(&g_now, 110);
  return m;
}

static void test_g10_writers_see_an_expired_entry_absent(void) {
  uint64_t k = 1, v = 9, out = 0;
  int runs = 0;
  tsmap *m = expired_key_1(); /* put inserts (not REPLACED); the old value expired */
  CHECK_ST(tsmap_put(m, &k, 8, &v, &out), TSMAP_OK);
  CHECK(out == 0 && g_c.expired == 1 && g_c.sum_expired == 41 && g_c.replaced == 0);
  tsmap_destroy(m);
  m = expired_key_1(); /* put_if_absent stores */
  CHECK_ST(tsmap_put_if_absent(m, &k, 8, &v, &out), TSMAP_OK);
  CHECK(g_c.expired == 1);
  CHECK_ST(get_u(m, 1, &out), TSMAP_OK);
  CHECK(out == 9);
  tsmap_destroy(m);
  m = expired_key_1(); /* remove finds nothing, and reclaims it */
  CHECK_ST(tsmap_remove(m, &k, 8, &out), TSMAP_NOT_FOUND);
  CHECK(g_c.expired == 1 && g_c.removed == 0);
  tsmap_destroy(m);
  m = expired_key_1(); /* compute sees it absent and inserts */
  CHECK_ST(tsmap_compute(m, &k, 8, cb_store, &runs, &out), TSMAP_OK); // NOLINT(tsmap-non-idempotent-callback): counts its runs on purpose
  CHECK(runs == 0 && out == 500 && g_c.expired == 1 && g_c.replaced == 0);
  tsmap_destroy(m);
  m = expired_key_1(); /* compute_if_present: absent, callback not run */
  CHECK_ST(tsmap_compute_if_present(m, &k, 8, cb_store, &runs, &out), TSMAP_NOT_FOUND); // NOLINT(tsmap-non-idempotent-callback): counts its runs on purpose
  CHECK(runs == 0);
  tsmap_destroy(m);
  CHECK(g_c.expired == 1); /* reclaimed at close */
  m = expired_key_1(); /* compute_if_absent runs its callback and stores */
  CHECK_ST(tsmap_compute_if_absent(m, &k, 8, cb_absent, &runs, &out), TSMAP_OK); // NOLINT(tsmap-non-idempotent-callback): counts its runs on purpose
  CHECK(runs == 1 && out == 600 && g_c.expired == 1);
  CHECK_ST(get_u(m, 1, &out), TSMAP_OK);
  CHECK(out == 600);
  tsmap_destroy(m);
  CHECK(g_c.expired == 1 && g_c.closed == 1 && g_c.discarded == 0);
  runs = 0;
  m = expired_key_1(); /* compute's DELETE: TSMAP_REMOVED only when it removed a live value */
  CHECK_ST(tsmap_compute_ttl(m, &k, 8, cb_delete, &runs, 5, &out), TSMAP_NOT_FOUND); // NOLINT(tsmap-non-idempotent-callback): counts its runs on purpose
  CHECK(runs == 0 && g_c.removed == 0);
  CHECK_ST(put_u(m, 1, 42, 10), TSMAP_OK); /* reclaims 41 (expired), 42 lives until 120 */
  CHECK_ST(tsmap_compute_ttl(m, &k, 8, cb_delete, &runs, 5, &out), TSMAP_REMOVED); // NOLINT(tsmap-non-idempotent-callback): counts its runs on purpose
  CHECK(runs == 1 && g_c.removed == 1 && g_c.expired == 1);
  CHECK_ST(get_u(m, 1, &out), TSMAP_NOT_FOUND);
  tsmap_destroy(m);
  CHECK(g_c.closed == 0);
}

/* Reclaiming needs a record: when it cannot be allocated, a write on the expired key
 * fails with TSMAP_NO_MEMORY and changes nothing; sweeps skip it and retry later. */
static _Atomic int g_fail_allocs;

static void test_g10_reclaim_without_memory_changes_nothing(void) {
  memset(&g_c, 0, sizeof g_c);
  atomic_store(&g_now, 100);
  tsmap_allocator al = {tsmap_test_switch_alloc, tsmap_test_free, &g_fail_allocs};
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.key_size = 8;
  cfg.shard_count = 1;
  cfg.default_ttl_ns = 10;
  cfg.clock = test_clock;
  cfg.allocator = &al;
  cfg.on_entry_evicted = on_evicted;
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  uint64_t k = 1, v = 5, out;
  CHECK_ST(tsmap_put(m, &k, 8, &v, NULL), TSMAP_OK);
  atomic_store(&g_now, 200);
  atomic_store(&g_fail_allocs, 1);
  v = 6;
  CHECK_ST(tsmap_put(m, &k, 8, &v, NULL), TSMAP_NO_MEMORY);
  CHECK_ST(tsmap_remove(m, &k, 8, NULL), TSMAP_NOT_FOUND); /* absent: nothing to allocate */
  int runs = 0;
  CHECK_ST(tsmap_compute(m, &k, 8, cb_store, &runs, NULL), TSMAP_NO_MEMORY); // NOLINT(tsmap-non-idempotent-callback): counts its runs on purpose
  CHECK_ST(tsmap_compute_if_absent(m, &k, 8, cb_absent, &runs, NULL), TSMAP_NO_MEMORY); // NOLINT(tsmap-non-idempotent-callback): counts its runs on purpose
  CHECK_ST(tsmap_maintain(m, 1000), TSMAP_OK);
  CHECK_ST(get_u(m, 1, &out), TSMAP_NOT_FOUND);
  CHECK(g_c.expired == 0);
  atomic_store(&g_fail_allocs, 0);
  CHECK_ST(tsmap_put(m, &k, 8, &v, NULL), TSMAP_OK);
  CHECK(g_c.expired == 1 && g_c.sum_expired == 5);
  CHECK(g_c.discarded == 1); /* compute's result; compute_if_absent failed before its
                               callback (its pending record could not be allocated) */
  tsmap_destroy(m);
  CHECK(g_c.expired == 1 && g_c.closed == 1);
}

/* ---- Reclamation ------------------------------------------------------------------------------ */

/* E3: writes sweep a group each, so a map whose entries all expired is emptied by its own
 * traffic (here: overwrites of one live key), within about one write per group. */
static void test_g10_writes_sweep_expired_entries(void) {
  tsmap *m = expiry_map(10, 8, 8, 1);
  const uint64_t n = 3000;
  for (uint64_t k = 0; k < n; k++)
    CHECK_ST(put_u(m, k, k, TSMAP_TTL_DEFAULT), TSMAP_OK);
  uint64_t live = 1u << 30;
  CHECK_ST(put_u(m, live, 1, TSMAP_TTL_NEVER), TSMAP_OK);
  atomic_store(&g_now, 1000);
  size_t size = 0;
  long writes = 0;
  for (; writes < 100000; writes++) {
    CHECK_ST(put_u(m, live, 1, TSMAP_TTL_NEVER), TSMAP_REPLACED);
    CHECK(g_c.expired <= (long)n);
    if (tsmap_size(m, &size) == TSMAP_OK && size == 1)
      break;
  }
  fprintf(stderr, "  %lu expired entries reclaimed by %ld writes\n", (unsigned long)n, writes + 1);
  CHECK(size == 1 && g_c.expired == (long)n);
  CHECK(g_c.sum_expired == (long)(n * (n - 1) / 2));
  CHECK(writes < 2048); /* 3000 entries sit in at most 1024 groups */
  tsmap_destroy(m);
}

/* tsmap_maintain works through a budget and continues where it stopped. */
static void test_g10_maintain_sweeps_within_its_budget(void) {
  tsmap *m = expiry_map(10, 8, 8, 4);
  for (uint64_t k = 0; k < 2000; k++)
    CHECK_ST(put_u(m, k, 1, TSMAP_TTL_DEFAULT), TSMAP_OK);
  atomic_store(&g_now, 1000);
  CHECK_ST(tsmap_maintain(m, 7), TSMAP_OK); /* one group */
  CHECK(g_c.expired <= 7);
  long calls = 1;
  while (g_c.expired < 2000 && calls < 100000) {
    CHECK_ST(tsmap_maintain(m, 70), TSMAP_OK);
    calls++;
  }
  CHECK(g_c.expired == 2000);
  fprintf(stderr, "  2000 expired entries reclaimed by %ld calls of 70 slots\n", calls);
  CHECK(calls < 200); /* 4 shards of at most 512 groups: < 2048 groups */
  tsmap_destroy(m);
  CHECK(g_c.closed == 0);
}

/* A budget over the map's slots looks at each about once: tsmap_maintain(m, SIZE_MAX)
 * sweeps the whole map and returns (it looped for ever before, its work set by the
 * budget alone). */
static void test_g10_maintain_budget_is_bounded_by_the_map(void) {
  /* entry counts that leave shards in the middle of a growth (entries still in the old
   * table, where a sweep of the current one does not look), whatever the seed */
  for (long n = 500; n < 500 + 40 * 37; n += 37) {
    tsmap *m = expiry_map(10, 8, 8, 4);
    for (uint64_t k = 0; k < (uint64_t)n; k++)
      CHECK_ST(put_u(m, k, 1, TSMAP_TTL_DEFAULT), TSMAP_OK);
    atomic_store(&g_now, 1000);
    CHECK_ST(tsmap_maintain(m, SIZE_MAX), TSMAP_OK);
    if (g_c.expired != n)
      fprintf(stderr, "  %ld entries: one pass reclaimed %ld\n", n, (long)g_c.expired);
    CHECK(g_c.expired == n);
    CHECK_ST(tsmap_maintain(m, SIZE_MAX - 3), TSMAP_OK);
    CHECK_ST(tsmap_maintain(m, (size_t)1 << 40), TSMAP_OK);
    CHECK_ST(tsmap_maintain(m, 0), TSMAP_OK); /* looks at nothing */
    tsmap_destroy(m);
    CHECK(g_c.expired == n && g_c.closed == 0);
  }
}

/* The maintenance thread of a map without expiry moves a reshard on by itself: nobody
 * writes, and the reshard completes. */
static void test_g10_maintenance_thread_without_expiry_moves_a_reshard(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.key_size = 8;
  cfg.shard_count = 4;
  cfg.max_shard_count = 16;
  cfg.maintain_interval_ns = 1000000; /* 1 ms */
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  for (uint64_t k = 0; k < 20000; k++)
    CHECK_ST(tsmap_put(m, &k, 8, &k, NULL), TSMAP_OK);
  CHECK_ST(tsmap_reshard(m, 16), TSMAP_OK);
  size_t n = 0;
  for (int i = 0; i < 20000; i++) { /* up to 20 s */
    CHECK_ST(tsmap_shard_counts(m, &n, NULL), TSMAP_OK);
    if (n == 16)
      break;
    usleep(1000);
  }
  CHECK(n == 16);
  for (uint64_t k = 0, v = 0; k < 20000; k++)
    CHECK(tsmap_get(m, &k, 8, &v) == TSMAP_OK && v == k);
  tsmap_destroy(m);
}

/* Expiry with long keys (each in a block of its own), multi-word values and a growth in
 * progress: deadlines move with their entries and hooks get the right key and value. */
typedef struct big {
  uint64_t id, pad[3];
} big;
static _Atomic long g_key_ok;
static void on_evicted_big(const void *k, size_t kl, void *v, tsmap_evict_reason why, void *c) {
  (void)c;
  big b;
  memcpy(&b, v, sizeof b);
  char want[40];
  snprintf(want, sizeof want, "a long key number %08lu", (unsigned long)b.id);
  g_key_ok += kl == strlen(want) && memcmp(k, want, kl) == 0 && b.pad[2] == b.id * 3;
  on_evicted(k, kl, v, why, c);
}

static void test_g10_long_keys_big_values_and_growth(void) {
  memset(&g_c, 0, sizeof g_c);
  atomic_store(&g_key_ok, 0);
  atomic_store(&g_now, 100);
  tsmap_config cfg;
  tsmap_config_init(&cfg, sizeof(big));
  cfg.shard_count = 2;
  cfg.expiry = 1;
  cfg.clock = test_clock;
  cfg.on_entry_evicted = on_evicted_big;
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  for (uint64_t i = 0; i < 4000; i++) { /* growths migrate entries with their deadlines */
    char key[40];
    int kl = snprintf(key, sizeof key, "a long key number %08lu", (unsigned long)i);
    big b = {i, {i, i * 2, i * 3}};
    CHECK_ST(tsmap_put_ttl(m, key, (size_t)kl, &b, i % 2 ? 100 : TSMAP_TTL_NEVER, NULL),
             TSMAP_OK);
  }
  atomic_store(&g_now, 200);
  long odd_present = 0, even_present = 0;
  for (uint64_t i = 0; i < 4000; i++) {
    char key[40];
    big b;
    int kl = snprintf(key, sizeof key, "a long key number %08lu", (unsigned long)i);
    if (tsmap_get(m, key, (size_t)kl, &b) == TSMAP_OK) {
      odd_present += i % 2;
      even_present += !(i % 2) && b.id == i && b.pad[2] == i * 3;
    }
  }
  CHECK(odd_present == 0 && even_present == 2000);
  CHECK_ST(tsmap_maintain(m, 1 << 20), TSMAP_OK);
  CHECK(g_c.expired == 2000 && g_key_ok == 2000);
  tsmap_destroy(m);
  CHECK(g_c.closed == 2000 && g_key_ok == 4000);
}

/* The 8-byte get of maps with meta words (G10, G11): it probes cur through the shard's copy
 * of cur's groups and mask, with a group stride computed from the words after the key, the
 * meta words included. 8-byte keys, values of several sizes (one value word and one meta
 * word take a path of their own), a deadline, a frequency word or both, across growths. */
static void test_g10_meta_get_of_8_byte_keys_with_other_value_sizes(void) {
  static const size_t sizes[] = {0, 1, 8, 13, 24, 100};
  unsigned char in[100], out[100];
  for (int kind = 0; kind < 3; kind++) { /* expiry, a bound never reached, both */
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
      size_t vs = sizes[si];
      memset(&g_c, 0, sizeof g_c);
      atomic_store(&g_now, 100);
      tsmap_config cfg;
      tsmap_config_init(&cfg, vs);
      cfg.key_size = 8;
      cfg.shard_count = 2;
      cfg.expiry = kind != 1;
      cfg.max_entries = kind != 0 ? 1u << 20 : 0;
      cfg.clock = test_clock;
      tsmap *m = NULL;
      CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
      for (uint64_t k = 0; k < 3000; k++) { /* several growths */
        memset(in, (int)(k & 0xff), sizeof in);
        uint64_t ttl = k % 2 ? 50 : TSMAP_TTL_NEVER; /* odd keys expire at 150 */
        CHECK_ST(cfg.expiry ? tsmap_put_ttl(m, &k, 8, in, ttl, NULL)
                            : tsmap_put(m, &k, 8, in, NULL),
                 TSMAP_OK);
      }
      for (int pass = 0; pass < 2; pass++) { /* before the odd keys' deadline, then after */
        long bad = 0, found = 0;
        for (uint64_t k = 0; k < 3000; k++) {
          memset(out, 0xee, sizeof out);
          tsmap_status st = tsmap_get(m, &k, 8, out);
          int live = !cfg.expiry || pass == 0 || k % 2 == 0;
          bad += st != (live ? TSMAP_OK : TSMAP_NOT_FOUND);
          found += st == TSMAP_OK;
          for (size_t i = 0; st == TSMAP_OK && i < sizeof out; i++)
            bad += out[i] != (i < vs ? (unsigned char)(k & 0xff) : 0xee);
        }
        uint64_t absent = 3000;
        CHECK_ST(tsmap_get(m, &absent, 8, NULL), TSMAP_NOT_FOUND);
        if (bad)
          fprintf(stderr, "  kind %d, value size %zu, pass %d: %ld wrong\n", kind, vs, pass,
                  bad);
        CHECK(bad == 0 && found == (cfg.expiry && pass ? 1500 : 3000));
        atomic_store(&g_now, 150);
      }
      tsmap_destroy(m);
    }
  }
}

/* G10 with G6 at close: entries still in the map leave with EXPIRED if their deadline
 * passed, CLOSED otherwise. */
static void test_g10_close_reports_expired_entries_as_expired(void) {
  tsmap *m = expiry_map(0, 0, 8, 2);
  for (uint64_t k = 0; k < 100; k++)
    CHECK_ST(tsmap_put_ttl(m, &k, 8, &k, k < 40 ? 5 : TSMAP_TTL_NEVER, NULL), TSMAP_OK);
  atomic_store(&g_now, 105);
  CHECK_ST(tsmap_close(m), TSMAP_OK);
  CHECK(g_c.expired == 40 && g_c.closed == 60 && g_c.sum_expired == 39 * 40 / 2);
  tsmap_destroy(m);
}

/* G2 holds on expiring maps: reads, of live and of expired entries, write nothing shared. */
static void test_g10_reads_write_nothing(void) {
  tsmap *m = expiry_map(50, 8, 8, 4);
  for (uint64_t k = 0; k < 500; k++)
    CHECK_ST(put_u(m, k, k, k % 2 ? TSMAP_TTL_DEFAULT : TSMAP_TTL_NEVER), TSMAP_OK);
  atomic_store(&g_now, 1000);
  uint64_t before = tsmap_debug_fingerprint(m), out;
  long found = 0;
  for (uint64_t k = 0; k < 1000; k++)
    found += get_u(m, k % 500, &out) == TSMAP_OK;
  CHECK(found == 500);
  CHECK(tsmap_debug_fingerprint(m) == before);
  tsmap_destroy(m);
}

/* ---- The maintenance thread --------------------------------------------------------------------- */

/* The thread runs on real time (its interval), so this test waits for it, boundedly. */
static void *g_close_from_hook; /* a map a hook closes (the thread's own close path) */
static void on_evicted_closing(const void *k, size_t kl, void *v, tsmap_evict_reason why,
                               void *c) {
  on_evicted(k, kl, v, why, c);
  tsmap *m = (tsmap *)g_close_from_hook;
  if (m && why == TSMAP_EVICT_EXPIRED)
    (void)tsmap_close(m); // NOLINT(tsmap-reentrant-callback): hooks run with no lock held (G6); the test closes from the maintenance thread on purpose
}

static void maint_run(int close_from_hook) {
  memset(&g_c, 0, sizeof g_c);
  atomic_store(&g_now, 100);
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.key_size = 8;
  cfg.default_ttl_ns = 10;
  cfg.clock = test_clock;
  cfg.maintain_interval_ns = 1000000; /* 1 ms */
  cfg.maintain_budget = 64;
  cfg.on_entry_evicted = on_evicted_closing;
  tsmap *m = NULL;
  g_close_from_hook = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  for (uint64_t k = 0; k < 300; k++)
    CHECK_ST(put_u(m, k, 1, TSMAP_TTL_DEFAULT), TSMAP_OK);
  if (close_from_hook)
    g_close_from_hook = m;
  atomic_store(&g_now, 1000);
  double t0 = tsmap_test_now();
  long want = close_from_hook ? 1 : 300;
  while (g_c.expired < want && tsmap_test_now() - t0 < 30)
    usleep(1000);
  CHECK(g_c.expired >= want);
  if (!close_from_hook)
    CHECK_ST(tsmap_close(m), TSMAP_OK);
  while (close_from_hook && g_c.expired + g_c.closed < 300 && tsmap_test_now() - t0 < 30)
    usleep(1000); /* the hook's close evicts the rest */
  tsmap_destroy(m); /* joins the thread */
  CHECK(g_c.expired + g_c.closed == 300);
  g_close_from_hook = NULL;
}
static void test_g10_maintenance_thread_reclaims(void) { maint_run(0); }
static void test_g10_maintenance_thread_may_close_from_a_hook(void) { maint_run(1); }

/* ---- Exactly once under races (G10 with G6, G9) ----------------------------------------------- */

/* Values are unique ids; the ledger counts, per id, entries (created hook) and exits
 * (evicted hook or handed to a caller). Writers store with short TTLs while the clock
 * moves (every operation ticks it), a reader checks that no value it gets is past its
 * deadline, a maintainer calls tsmap_maintain, and a closer closes mid-way. */
#define XTHREADS 2
#define XIDS (1u << 20)
typedef struct xledger {
  _Atomic unsigned char entered[XTHREADS * XIDS];
  _Atomic unsigned char left[XTHREADS * XIDS];
  _Atomic unsigned char discarded[XTHREADS * XIDS];
  _Atomic uint64_t latest[XTHREADS * XIDS]; /* an upper bound of the id's deadline */
  _Atomic long expired, stale_reads, reads_ok;
} xledger;
static xledger *g_x;
static _Atomic int g_x_done;
static _Atomic long g_x_created;

static size_t x_index(const void *v) {
  uint64_t x;
  memcpy(&x, v, 8);
  return (size_t)(x >> 32) * XIDS + (size_t)(x & 0xffffffffu);
}
static void x_created(const void *k, size_t kl, const void *v, void *c) {
  (void)k, (void)kl, (void)c;
  g_x->entered[x_index(v)]++;
  g_x_created++;
}
static void x_evicted(const void *k, size_t kl, void *v, tsmap_evict_reason why, void *c) {
  (void)k, (void)kl, (void)c;
  if (why == TSMAP_EVICT_DISCARDED) {
    g_x->discarded[x_index(v)]++;
    return;
  }
  g_x->expired += why == TSMAP_EVICT_EXPIRED;
  g_x->left[x_index(v)]++;
}

typedef struct xarg {
  tsmap *m;
  uint64_t id, serial, ttl;
  long iters;
} xarg;

static uint64_t x_fresh(xarg *a) {
  if (a->serial >= XIDS - 1) {
    CHECK(0);
    a->serial = XIDS - 1;
  }
  return (a->id << 32) | a->serial++;
}
static tsmap_verdict x_cb_store(const void *key, size_t key_len, const void *old, void *ctx,
                                TSMAP_OUT void *out) {
  (void)key, (void)key_len;
  xarg *a = (xarg *)ctx;
  uint64_t v = x_fresh(a);
  memcpy(out, &v, 8);
  return old && (v & 3) == 0 ? TSMAP_DELETE : TSMAP_STORE;
}
static int x_cb_fresh(const void *key, size_t key_len, void *ctx, TSMAP_OUT void *out) {
  (void)key, (void)key_len;
  uint64_t v = x_fresh((xarg *)ctx);
  memcpy(out, &v, 8);
  return 0;
}

/* Record an upper bound of the deadline of value v stored with `ttl` (the clock only
 * grows, so now + ttl after the call bounds the deadline the map set during it). */
static void x_note(uint64_t v, uint64_t ttl) {
  g_x->latest[x_index(&v)] = atomic_load(&g_now) + ttl;
}

static uint64_t x_xorshift(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static void *x_writer(void *p) {
  xarg *a = (xarg *)p;
  uint64_t s = 0x9e3779b97f4a7c15ull * (a->id + 1);
  for (long i = 0; i < a->iters; i++) {
    uint64_t r = x_xorshift(&s), k = (r >> 16) % 256, v = x_fresh(a), out = 0;
    char key[20];
    size_t kl = (r >> 8) % 3 == 0 ? 20 : 8; /* some long keys */
    memset(key, 'k', sizeof key);
    memcpy(key, &k, 8);
    uint64_t ttl = 1 + (r >> 40) % a->ttl;
    tsmap_status st;
    atomic_fetch_add(&g_now, 1);
    switch (r % 6) {
    case 0:
      st = tsmap_put_ttl(a->m, key, kl, &v, ttl, (r & 64) ? &out : NULL);
      x_note(v, ttl);
      break;
    case 1:
      st = tsmap_put_if_absent_ttl(a->m, key, kl, &v, ttl, NULL);
      x_note(v, ttl);
      break;
    case 2:
      st = tsmap_remove(a->m, key, kl, (r & 64) ? &out : NULL);
      break;
    case 3:
      st = tsmap_compute_ttl(a->m, key, kl, x_cb_store, a, ttl, NULL); // NOLINT(tsmap-non-idempotent-callback): fresh ids per run are what the ledger audits
      break;
    case 4:
      st = tsmap_compute_if_absent_ttl(a->m, key, kl, x_cb_fresh, a, TSMAP_TTL_DEFAULT, NULL); // NOLINT(tsmap-non-idempotent-callback): as above
      break;
    default:
      st = tsmap_put(a->m, key, kl, &v, NULL); /* the default TTL */
      x_note(v, a->ttl);
      break;
    }
    if (out && (st == TSMAP_OK || st == TSMAP_REPLACED) && (r % 6 == 0 || r % 6 == 2))
      g_x->left[x_index(&out)]++;
    if (st == TSMAP_CLOSED)
      break;
    CHECK(st != TSMAP_NO_MEMORY && st != TSMAP_INVALID_ARGUMENT && st != TSMAP_REENTERED);
  }
  return NULL;
}

/* A get that returns a value must return one whose deadline was after the get began. */
static void *x_reader(void *p) {
  xarg *a = (xarg *)p;
  uint64_t s = 77;
  while (!atomic_load(&g_x_done)) {
    uint64_t r = x_xorshift(&s), k = (r >> 16) % 256, out;
    char key[20];
    size_t kl = (r >> 8) % 3 == 0 ? 20 : 8;
    memset(key, 'k', sizeof key);
    memcpy(key, &k, 8);
    uint64_t t0 = atomic_load(&g_now);
    tsmap_status st = tsmap_get(a->m, key, kl, &out);
    if (st == TSMAP_CLOSED)
      break;
    if (st != TSMAP_OK)
      continue;
    uint64_t bound = g_x->latest[x_index(&out)];
    g_x->reads_ok++;
    g_x->stale_reads += bound != 0 && bound <= t0;
  }
  return NULL;
}

static void *x_maintainer(void *p) {
  xarg *a = (xarg *)p;
  while (!atomic_load(&g_x_done))
    if (tsmap_maintain(a->m, 50) == TSMAP_CLOSED)
      break;
  return NULL;
}

static void *x_closer(void *p) {
  xarg *a = (xarg *)p;
  while (atomic_load(&g_x_created) < (long)a->iters && !atomic_load(&g_x_done))
    tsmap_test_pause();
  CHECK_ST(tsmap_close(a->m), TSMAP_OK);
  return NULL;
}

static void x_run(int racing_close) {
  g_x = (xledger *)calloc(1, sizeof *g_x);
  atomic_store(&g_x_done, 0);
  atomic_store(&g_x_created, 0);
  atomic_store(&g_now, 1000);
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.shard_count = 4;
  cfg.default_ttl_ns = 300;
  cfg.clock = test_clock;
  cfg.on_entry_created = x_created;
  cfg.on_entry_evicted = x_evicted;
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  long iters = (racing_close ? 300000 : 200000) / SCALE;
  xarg w[XTHREADS], side = {m, 0, 0, 300, racing_close ? iters / 2 : 0};
  pthread_t tw[XTHREADS], tr, tm, tc;
  for (int i = 0; i < XTHREADS; i++) {
    w[i] = (xarg){m, (uint64_t)i, 1, 300, iters};
    pthread_create(&tw[i], NULL, x_writer, &w[i]);
  }
  pthread_create(&tr, NULL, x_reader, &side);
  pthread_create(&tm, NULL, x_maintainer, &side);
  if (racing_close)
    pthread_create(&tc, NULL, x_closer, &side);
  for (int i = 0; i < XTHREADS; i++)
    pthread_join(tw[i], NULL);
  atomic_store(&g_x_done, 1);
  pthread_join(tr, NULL);
  pthread_join(tm, NULL);
  if (racing_close)
    pthread_join(tc, NULL);
  tsmap_destroy(m);
  long entered = 0, bad = 0;
  for (size_t i = 0; i < (size_t)XTHREADS * XIDS; i++) {
    unsigned e = g_x->entered[i], l = g_x->left[i], d = g_x->discarded[i];
    entered += e;
    bad += e > 1 || l != e || d > 1 || (d && e);
  }
  fprintf(stderr, "  %ld values entered, %ld expired, %ld reads ok, %ld stale, %ld errors\n",
          entered, (long)g_x->expired, (long)g_x->reads_ok, (long)g_x->stale_reads, bad);
  CHECK(entered > 1000 / SCALE);
  CHECK(g_x->expired > 100 / SCALE);
  CHECK(bad == 0);
  CHECK(g_x->stale_reads == 0);
  free(g_x);
}

static void test_g10_exactly_once_under_races(void) { x_run(0); }
static void test_g10_exactly_once_with_racing_close(void) { x_run(1); }

/* G16: a child of fork has no maintenance thread (fork copies only the calling thread):
 * its map works, tsmap_maintain reclaims, and destroy joins no thread that is not there
 * (undefined: glibc's join returns at once, another C library's need not). The interval is long, so the parent's thread is asleep at the
 * fork, never inside tsmap_maintain (a shard lock held then would stay held in the
 * child: tsmap.h). Children are bounded by alarm(). */
static void test_g10_a_child_of_fork_closes_without_the_thread(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.key_size = 8;
  cfg.default_ttl_ns = 3600ull * 1000000000u;
  cfg.maintain_interval_ns = 3600ull * 1000000000u;
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  for (uint64_t k = 0; k < 5000; k++)
    CHECK_ST(tsmap_put(m, &k, 8, &k, NULL), TSMAP_OK);
  fflush(NULL);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    alarm(20);
    for (uint64_t k = 0; k < 5000; k += 3)
      CHECK_ST(tsmap_put_ttl(m, &k, 8, &k, 1, NULL), TSMAP_REPLACED); /* 1 ns: expired */
    struct timespec nap = {0, 1000000};
    nanosleep(&nap, NULL);
    CHECK_ST(tsmap_maintain(m, 1u << 20), TSMAP_OK);
    size_t size = 0;
    CHECK_ST(tsmap_size(m, &size), TSMAP_OK);
    CHECK(size == 5000 - 1667);
    tsmap_destroy(m);
    _exit(tsmap_test_failures ? 1 : 0);
  }
  int status = 0;
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  size_t size = 0;
  CHECK_ST(tsmap_size(m, &size), TSMAP_OK);
  CHECK(size == 5000);
  tsmap_destroy(m); /* the parent's thread is joined as ever */
}

TEST_MAIN(T(test_g10_absent_from_the_deadline_on), T(test_g10_per_entry_ttl_overrides_default),
          T(test_g10_every_insert_path_takes_a_ttl), T(test_g10_statuses),
          T(test_g10_maintain_reports_a_close_by_its_hook),
          T(test_g10_writers_see_an_expired_entry_absent),
          T(test_g10_reclaim_without_memory_changes_nothing),
          T(test_g10_writes_sweep_expired_entries), T(test_g10_maintain_sweeps_within_its_budget),
          T(test_g10_maintain_budget_is_bounded_by_the_map),
          T(test_g10_maintenance_thread_without_expiry_moves_a_reshard),
          T(test_g10_long_keys_big_values_and_growth),
          T(test_g10_meta_get_of_8_byte_keys_with_other_value_sizes),
          T(test_g10_close_reports_expired_entries_as_expired), T(test_g10_reads_write_nothing),
          T(test_g10_maintenance_thread_reclaims),
          T(test_g10_maintenance_thread_may_close_from_a_hook),
          T(test_g10_exactly_once_under_races), T(test_g10_exactly_once_with_racing_close),
          T(test_g10_a_child_of_fork_closes_without_the_thread))
