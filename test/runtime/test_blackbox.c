/*
 * test_blackbox.c - black-box tests of round 7, written from tsmap.h and runtime/DESIGN.md
 * alone: null and invalid arguments to every public call (G1: a status, never a crash);
 * expiry (G10) under writers, sweeps and live reshards on a clock the test steps, with
 * bounds on every value's deadline so that a read, a foreach or a replace that shows an
 * expired value is caught, and a ledger of every value (exactly once, EXPIRED only past
 * the deadline, also when close races the reclaim); the remove of an expired key without
 * memory (TSMAP_NOT_FOUND); a foreach that must finish a reshard with the allocator failing
 * (a status, bounded by an alarm); and allocators failing 1..35% of calls under threads on
 * replicated maps (merge, export, encode/decode) and on bounded and weighted maps (every
 * status documented, nothing lost or duplicated, no byte left).
 */
#include "tsmap_test.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#ifdef TSMAP_STRESS_SMALL
#define SCALE 8
#else
#define SCALE 1
#endif

/* ---- An allocator that fails a share of calls, thread-safe, and counts live bytes ------ */

typedef struct pct_alloc {
  _Atomic unsigned pct;   /* percent of calls that fail (100: all) */
  _Atomic uint64_t calls; /* calls so far, the failure sequence's index */
  _Atomic uint64_t seed;
  _Atomic long live;
  _Atomic long live_bytes;
  _Atomic long failures;
  _Atomic int countdown_on; /* non-zero: `countdown` more calls succeed, then all fail */
  _Atomic long countdown;
} pct_alloc;

static uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

static void *pa_alloc(size_t size, void *ctx) {
  pct_alloc *a = (pct_alloc *)ctx;
  uint64_t n = atomic_fetch_add(&a->calls, 1);
  unsigned pct = atomic_load(&a->pct);
  if ((pct && mix64(n ^ atomic_load(&a->seed)) % 100 < pct) ||
      (atomic_load(&a->countdown_on) && atomic_fetch_sub(&a->countdown, 1) <= 0)) {
    a->failures++;
    return NULL;
  }
  void *p = NULL;
  if (posix_memalign(&p, 16, size ? size : 16) != 0)
    return NULL;
  a->live++;
  a->live_bytes += (long)size;
  return p;
}
static void pa_free(void *p, size_t size, void *ctx) {
  pct_alloc *a = (pct_alloc *)ctx;
  if (!p)
    return;
  a->live--;
  a->live_bytes -= (long)size;
  free(p);
}

static uint64_t rng_next(uint64_t *s) {
  *s += 0x9e3779b97f4a7c15ull;
  return mix64(*s);
}

/* ==== 1. Null and invalid arguments to every public call (G1) ========================== */

static int visit_nop(const void *k, size_t kl, const void *v, void *ctx) {
  (void)k, (void)kl, (void)v, (void)ctx;
  return 0;
}
static int change_nop(const tsmap_change *c, void *ctx) {
  (void)c, (void)ctx;
  return 0;
}
static int absent_nop(const void *k, size_t kl, void *ctx, void *out) {
  (void)k, (void)kl, (void)ctx;
  memset(out, 0, 8);
  return 0;
}
static tsmap_verdict compute_keep(const void *k, size_t kl, const void *old, void *ctx,
                                  void *nv) {
  (void)k, (void)kl, (void)old, (void)ctx, (void)nv;
  return TSMAP_KEEP;
}
static int writer_nop(const char *t, size_t n, void *ctx) {
  (void)t, (void)n, (void)ctx;
  return 0;
}

/* Every keyed call with (map, key, len) given: the statuses a bad key or a bad map gives. */
static void keyed_calls(tsmap *m, const void *key, size_t len, tsmap_status want,
                        int line) {
  uint64_t v = 1, out = 0, ver = 0;
  void *p = NULL;
  tsmap_status got[21];
  int i = 0;
  got[i++] = tsmap_get(m, key, len, &out);
  got[i++] = tsmap_put(m, key, len, &v, NULL);
  got[i++] = tsmap_put_if_absent(m, key, len, &v, NULL);
  got[i++] = tsmap_remove(m, key, len, NULL);
  got[i++] = tsmap_put_ptr(m, key, len, &v, NULL);
  got[i++] = tsmap_put_ptr_if_absent(m, key, len, &v, &p);
  got[i++] = tsmap_compute_if_absent(m, key, len, absent_nop, NULL, &out);
  got[i++] = tsmap_compute_if_present(m, key, len, compute_keep, NULL, &out);
  got[i++] = tsmap_compute(m, key, len, compute_keep, NULL, &out);
  got[i++] = tsmap_put_ttl(m, key, len, &v, 5, NULL);
  got[i++] = tsmap_put_if_absent_ttl(m, key, len, &v, 5, NULL);
  got[i++] = tsmap_put_ptr_ttl(m, key, len, &v, 5, NULL);
  got[i++] = tsmap_put_ptr_if_absent_ttl(m, key, len, &v, 5, NULL);
  got[i++] = tsmap_compute_if_absent_ttl(m, key, len, absent_nop, NULL, 5, &out);
  got[i++] = tsmap_compute_ttl(m, key, len, compute_keep, NULL, 5, &out);
  got[i++] = tsmap_compute_if_present_ttl(m, key, len, compute_keep, NULL, 5, &out);
  got[i++] = tsmap_get_version(m, key, len, &out, &ver);
  got[i++] = tsmap_put_if_version(m, key, len, &v, TSMAP_VERSION_ANY, &ver, NULL);
  got[i++] = tsmap_remove_if_version(m, key, len, TSMAP_VERSION_ANY, &ver, NULL);
  got[i++] = tsmap_compute_if_version(m, key, len, TSMAP_VERSION_ANY, compute_keep, NULL,
                                      &ver, &out);
  tsmap_change ch = {key, len, &v, NULL, 0, 0, 0}; /* no clock: stamp 0 (round 8) */
  got[i++] = tsmap_merge(m, &ch, NULL, NULL, NULL);
  for (int j = 0; j < i; j++) {
    tsmap_test_checks++;
    if (got[j] != want) {
      tsmap_test_failures++;
      fprintf(stderr, "%s:%d: keyed call %d returned %s, expected %s\n", __FILE__, line, j,
              tsmap_status_name(got[j]), tsmap_status_name(want));
    }
  }
}

/* A map with everything a keyed call may ask for: expiry, versions, replicas, 8-byte
 * values (pointers). */
static tsmap *full_map(size_t key_size) {
  tsmap_config c;
  tsmap_config_init(&c, sizeof(void *));
  c.key_size = key_size;
  c.expiry = 1;
  c.replicas = 2;
  c.replica_id = 0;
  c.shard_count = 2;
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&c, &m), TSMAP_OK);
  return m;
}

static void test_bb_null_and_invalid_arguments_are_statuses(void) {
  /* status names: never NULL, also for values out of the enum */
  for (int s = -3; s < 40; s++)
    CHECK(tsmap_status_name((tsmap_status)s) != NULL);
  /* config */
  tsmap_config c;
  CHECK_ST(tsmap_config_init(NULL, 8), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_config_init(&c, TSMAP_MAX_VALUE_SIZE + 1), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_config_init(&c, 8), TSMAP_OK);
  tsmap *m = (tsmap *)(uintptr_t)1;
  CHECK_ST(tsmap_create(NULL, &m), TSMAP_INVALID_ARGUMENT);
  CHECK(m == (tsmap *)(uintptr_t)1);
  CHECK_ST(tsmap_create(&c, NULL), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_close(NULL), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_destroy(NULL), TSMAP_OK);

  /* a null map, for every call taking one */
  uint64_t k = 1, v = 2, ver = 0;
  size_t n = 0, t = 0;
  keyed_calls(NULL, &k, 8, TSMAP_INVALID_ARGUMENT, __LINE__);
  CHECK_ST(tsmap_maintain(NULL, 10), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_foreach_since(NULL, 0, change_nop, NULL, &ver), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_export(NULL, 0, change_nop, NULL, &ver), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_forget(NULL, &ver, 1, &n), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_reshard(NULL, 2), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_shard_counts(NULL, &n, &t), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_size(NULL, &n), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_foreach(NULL, visit_nop, NULL), TSMAP_INVALID_ARGUMENT);
  tsmap_shard_placement pl;
  CHECK_ST(tsmap_placement(NULL, 0, &pl), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_metrics_write(NULL, writer_nop, NULL), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_numa_node_count(NULL, NULL), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_metrics_write_all(NULL, NULL), TSMAP_INVALID_ARGUMENT);

  /* bad keys on a map of fixed 8-byte keys and one of variable keys */
  tsmap *f = full_map(8), *vk = full_map(0);
  if (!f || !vk)
    return;
  keyed_calls(f, NULL, 8, TSMAP_INVALID_ARGUMENT, __LINE__);
  keyed_calls(f, &k, 7, TSMAP_INVALID_ARGUMENT, __LINE__);
  keyed_calls(f, NULL, 0, TSMAP_INVALID_ARGUMENT, __LINE__);
  keyed_calls(vk, NULL, 3, TSMAP_INVALID_ARGUMENT, __LINE__);
  keyed_calls(vk, &k, TSMAP_MAX_KEY_SIZE + 1, TSMAP_INVALID_ARGUMENT, __LINE__);
  /* null callbacks */
  CHECK_ST(tsmap_compute_if_absent(f, &k, 8, NULL, NULL, NULL), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_compute_if_present(f, &k, 8, NULL, NULL, NULL), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_compute(f, &k, 8, NULL, NULL, NULL), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_compute_if_absent_ttl(f, &k, 8, NULL, NULL, 5, NULL), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_compute_ttl(f, &k, 8, NULL, NULL, 5, NULL), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_compute_if_present_ttl(f, &k, 8, NULL, NULL, 5, NULL), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_compute_if_version(f, &k, 8, 0, NULL, NULL, NULL, NULL),
           TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_foreach(f, NULL, NULL), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_foreach_since(f, 0, NULL, NULL, &ver), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_export(f, 0, NULL, NULL, &ver), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_metrics_write(f, NULL, NULL), TSMAP_INVALID_ARGUMENT);
  /* null outputs that are not optional */
  CHECK_ST(tsmap_size(f, NULL), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_placement(f, 0, NULL), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_placement(f, 1u << 20, &pl), TSMAP_INVALID_ARGUMENT);
  char buf[16];
  CHECK_ST(tsmap_metrics_format(f, buf, sizeof buf, NULL), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_metrics_format(f, NULL, 5, &n), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_metrics_format(f, NULL, 0, &n), TSMAP_OK);
  /* optional outputs may be NULL */
  CHECK_ST(tsmap_shard_counts(f, NULL, NULL), TSMAP_OK);
  CHECK_ST(tsmap_put(f, &k, 8, &v, NULL), TSMAP_OK);
  CHECK_ST(tsmap_get(f, &k, 8, NULL), TSMAP_OK);
  CHECK_ST(tsmap_get_version(f, &k, 8, NULL, NULL), TSMAP_OK);
  CHECK_ST(tsmap_export(f, 0, change_nop, NULL, NULL), TSMAP_OK);
  CHECK_ST(tsmap_forget(f, NULL, 0, NULL), TSMAP_OK);
  /* forget: a null horizon with counters, more counters than replicas */
  CHECK_ST(tsmap_forget(f, NULL, 1, NULL), TSMAP_INVALID_ARGUMENT);
  uint64_t hz[TSMAP_MAX_REPLICAS + 1] = {0};
  CHECK_ST(tsmap_forget(f, hz, TSMAP_MAX_REPLICAS + 1, NULL), TSMAP_INVALID_ARGUMENT);
  /* merge: null change, a clock without counters but a length, too long a clock */
  CHECK_ST(tsmap_merge(f, NULL, NULL, NULL, NULL), TSMAP_INVALID_ARGUMENT);
  tsmap_change ch = {&k, 8, &v, NULL, 1, 1u << 8, 0};
  CHECK_ST(tsmap_merge(f, &ch, NULL, NULL, NULL), TSMAP_INVALID_ARGUMENT);
  uint64_t clk[TSMAP_MAX_REPLICAS + 1] = {1, 1, 1};
  ch.clock = clk;
  ch.clock_len = 3; /* the map has 2 replicas */
  CHECK_ST(tsmap_merge(f, &ch, NULL, NULL, NULL), TSMAP_INVALID_ARGUMENT);
  /* encode / decode */
  size_t len = 0, used = 0;
  tsmap_change out;
  uint64_t cbuf[TSMAP_MAX_REPLICAS];
  ch.clock_len = 2;
  CHECK_ST(tsmap_change_encode(NULL, 8, buf, sizeof buf, &len), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_change_encode(&ch, 8, buf, sizeof buf, NULL), TSMAP_INVALID_ARGUMENT);
  ch.clock = NULL; /* counters promised, none given */
  CHECK_ST(tsmap_change_encode(&ch, 8, NULL, 0, &len), TSMAP_INVALID_ARGUMENT);
  ch.clock = clk;
  ch.key = NULL; /* a null key with a length */
  CHECK_ST(tsmap_change_encode(&ch, 8, NULL, 0, &len), TSMAP_INVALID_ARGUMENT);
  ch.key = &k;
  ch.clock_len = TSMAP_MAX_REPLICAS + 1;
  CHECK_ST(tsmap_change_encode(&ch, 8, NULL, 0, &len), TSMAP_INVALID_ARGUMENT);
  ch.clock_len = 2;
  CHECK_ST(tsmap_change_encode(&ch, TSMAP_MAX_VALUE_SIZE + 1, NULL, 0, &len),
           TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_change_encode(&ch, 8, NULL, 0, &len), TSMAP_NO_MEMORY);
  CHECK(len > 0);
  unsigned char enc[256];
  CHECK(len <= sizeof enc);
  CHECK_ST(tsmap_change_encode(&ch, 8, enc, sizeof enc, &len), TSMAP_OK);
  CHECK_ST(tsmap_change_decode(NULL, len, 8, &out, cbuf, &used), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_change_decode(enc, len, 8, NULL, cbuf, &used), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_change_decode(enc, len, 8, &out, NULL, &used), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_change_decode(enc, len, 8, &out, cbuf, NULL), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_change_decode(enc, len, TSMAP_MAX_VALUE_SIZE + 1, &out, cbuf, &used),
           TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_change_decode(NULL, 0, 8, &out, cbuf, &used), TSMAP_NOT_FOUND);
  CHECK_ST(tsmap_change_decode(enc, len, 8, &out, cbuf, &used), TSMAP_OK);
  CHECK(used == len && out.key_len == 8 && out.clock_len == 2);
  /* reshard: a replicated map refuses any count (G15); counts that are not powers of two */
  CHECK_ST(tsmap_reshard(f, 4), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_reshard(f, 3), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_reshard(f, 0), TSMAP_INVALID_ARGUMENT);
  /* a value pointer NULL where value_size bytes are to be copied: an argument error, not
   * a crash (the value size is 8 here) */
  CHECK_ST(tsmap_put(vk, &k, 8, NULL, NULL), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_put_if_absent(vk, &k, 8, NULL, NULL), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_put_ttl(vk, &k, 8, NULL, 5, NULL), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_put_if_version(vk, &k, 8, NULL, TSMAP_VERSION_ANY, NULL, NULL),
           TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_get(vk, &k, 8, NULL), TSMAP_NOT_FOUND);
  /* the *_ttl calls and the version calls on a map without expiry or versions */
  tsmap *plain = NULL;
  tsmap_config pc;
  tsmap_config_init(&pc, 8);
  pc.key_size = 8;
  CHECK_ST(tsmap_create(&pc, &plain), TSMAP_OK);
  if (plain) {
    CHECK_ST(tsmap_put_ttl(plain, &k, 8, &v, 5, NULL), TSMAP_INVALID_ARGUMENT);
    CHECK_ST(tsmap_get_version(plain, &k, 8, NULL, &ver), TSMAP_INVALID_ARGUMENT);
    CHECK_ST(tsmap_foreach_since(plain, 0, change_nop, NULL, NULL), TSMAP_INVALID_ARGUMENT);
    CHECK_ST(tsmap_merge(plain, &ch, NULL, NULL, NULL), TSMAP_INVALID_ARGUMENT);
    CHECK_ST(tsmap_forget(plain, NULL, 0, NULL), TSMAP_INVALID_ARGUMENT);
    CHECK_ST(tsmap_put_ptr(plain, &k, 8, &v, NULL), TSMAP_OK); /* 8 == sizeof(void *) */
    CHECK_ST(tsmap_destroy(plain), TSMAP_OK);
  }
  /* every call on a closed map: TSMAP_CLOSED (argument errors aside) */
  CHECK_ST(tsmap_close(f), TSMAP_OK);
  CHECK_ST(tsmap_close(f), TSMAP_CLOSED);
  keyed_calls(f, &k, 8, TSMAP_CLOSED, __LINE__);
  CHECK_ST(tsmap_maintain(f, 10), TSMAP_CLOSED);
  CHECK_ST(tsmap_foreach(f, visit_nop, NULL), TSMAP_CLOSED);
  CHECK_ST(tsmap_foreach_since(f, 0, change_nop, NULL, NULL), TSMAP_CLOSED);
  CHECK_ST(tsmap_export(f, 0, change_nop, NULL, NULL), TSMAP_CLOSED);
  CHECK_ST(tsmap_forget(f, NULL, 0, NULL), TSMAP_CLOSED);
  CHECK_ST(tsmap_reshard(f, 2), TSMAP_CLOSED);
  CHECK_ST(tsmap_shard_counts(f, &n, &t), TSMAP_CLOSED);
  CHECK_ST(tsmap_size(f, &n), TSMAP_CLOSED);
  CHECK_ST(tsmap_placement(f, 0, &pl), TSMAP_CLOSED);
  CHECK_ST(tsmap_metrics_write(f, writer_nop, NULL), TSMAP_CLOSED);
  CHECK_ST(tsmap_metrics_format(f, NULL, 0, &n), TSMAP_CLOSED);
  CHECK_ST(tsmap_destroy(f), TSMAP_OK);
  CHECK_ST(tsmap_destroy(vk), TSMAP_OK);
}


/* ==== 2. The remove of an expired key without memory (G10, E2) ========================== */

static _Atomic uint64_t g_now = 1000;
static uint64_t step_clock(void *ctx) {
  (void)ctx;
  return atomic_load(&g_now);
}

typedef struct hook_tally {
  _Atomic long created, by_reason[TSMAP_EVICT_DISCARDED + 1];
} hook_tally;
static void tally_created(const void *k, size_t kl, const void *v, void *ctx) {
  (void)k, (void)kl, (void)v;
  ((hook_tally *)ctx)->created++;
}
static void tally_evicted(const void *k, size_t kl, void *v, tsmap_evict_reason why,
                          void *ctx) {
  (void)k, (void)kl, (void)v;
  ((hook_tally *)ctx)->by_reason[why]++;
}

/* A key whose value expired is absent (G10 (a)): its remove is TSMAP_NOT_FOUND whether or
 * not the reclaim's record can be allocated (the value stays until a later reclaim, which
 * hooks it once, TSMAP_EVICT_EXPIRED). Plain, versioned and 8-byte-key maps; the remove
 * with and without an out-parameter, and remove_if_version. */
static void test_bb_remove_of_an_expired_key_without_memory_is_not_found(void) {
  for (int kind = 0; kind < 4; kind++) {
    pct_alloc pa = {0};
    tsmap_allocator al = {pa_alloc, pa_free, &pa};
    hook_tally ht = {0};
    tsmap_config c;
    tsmap_config_init(&c, 8);
    c.key_size = kind == 1 ? 0 : 8;
    c.versions = kind == 2;
    c.max_entries = kind == 3 ? 64 : 0; /* a bounded map */
    c.shard_count = 1;
    c.expiry = 1;
    c.clock = step_clock;
    c.allocator = &al;
    c.on_entry_created = tally_created;
    c.on_entry_evicted = tally_evicted;
    c.hook_ctx = &ht;
    atomic_store(&g_now, 1000);
    tsmap *m = NULL;
    CHECK_ST(tsmap_create(&c, &m), TSMAP_OK);
    if (!m)
      return;
    uint64_t k = 7, v = 1, out = 99, ver = 5;
    CHECK_ST(tsmap_put_ttl(m, &k, 8, &v, 10, NULL), TSMAP_OK);
    CHECK_ST(tsmap_get(m, &k, 8, NULL), TSMAP_OK); /* the reader record exists now */
    atomic_store(&g_now, 1010);
    CHECK_ST(tsmap_get(m, &k, 8, &out), TSMAP_NOT_FOUND);
    atomic_store(&pa.pct, 100);
    CHECK_ST(tsmap_remove(m, &k, 8, NULL), TSMAP_NOT_FOUND);
    CHECK_ST(tsmap_remove(m, &k, 8, &out), TSMAP_NOT_FOUND);
    CHECK(out == 99);
    if (kind == 2) {
      CHECK_ST(tsmap_remove_if_version(m, &k, 8, TSMAP_VERSION_ANY, &ver, &out),
               TSMAP_NOT_FOUND);
      CHECK_ST(tsmap_remove_if_version(m, &k, 8, TSMAP_VERSION_ABSENT, &ver, NULL),
               TSMAP_NOT_FOUND);
      CHECK(out == 99);
    }
    CHECK(ht.by_reason[TSMAP_EVICT_EXPIRED] == 0 && ht.by_reason[TSMAP_EVICT_REMOVED] == 0);
    atomic_store(&pa.pct, 0);
    CHECK_ST(tsmap_remove(m, &k, 8, NULL), TSMAP_NOT_FOUND);
    CHECK_ST(tsmap_maintain(m, SIZE_MAX), TSMAP_OK);
    CHECK(ht.by_reason[TSMAP_EVICT_EXPIRED] == 1);
    CHECK_ST(tsmap_destroy(m), TSMAP_OK);
    CHECK(ht.created == 1 && ht.by_reason[TSMAP_EVICT_EXPIRED] == 1);
    CHECK(ht.by_reason[TSMAP_EVICT_CLOSED] == 0 && ht.by_reason[TSMAP_EVICT_REMOVED] == 0);
    CHECK(pa.live == 0 && pa.live_bytes == 0);
  }
}

/* The computes on an expired key whose reclaim finds no memory: compute_if_present sees
 * an absent key (TSMAP_NOT_FOUND, its callback not run: it allocates nothing); compute
 * and compute_if_absent may return TSMAP_NO_MEMORY (documented at the *_ttl calls), and
 * whatever they return, the expired value is hooked once, EXPIRED, and never handed to a
 * callback. */
static int cb_runs;
static tsmap_verdict count_keep(const void *k, size_t kl, const void *old, void *ctx,
                                void *nv) {
  (void)k, (void)kl, (void)ctx, (void)nv;
  cb_runs++;
  return old ? TSMAP_KEEP : TSMAP_DELETE;
}
static void test_bb_computes_on_an_expired_key_without_memory(void) {
  pct_alloc pa = {0};
  tsmap_allocator al = {pa_alloc, pa_free, &pa};
  hook_tally ht = {0};
  tsmap_config c;
  tsmap_config_init(&c, 8);
  c.key_size = 8;
  c.shard_count = 1;
  c.expiry = 1;
  c.clock = step_clock;
  c.allocator = &al;
  c.on_entry_created = tally_created;
  c.on_entry_evicted = tally_evicted;
  c.hook_ctx = &ht;
  atomic_store(&g_now, 1000);
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&c, &m), TSMAP_OK);
  if (!m)
    return;
  uint64_t k = 3, v = 9, out = 0;
  CHECK_ST(tsmap_put_ttl(m, &k, 8, &v, 5, NULL), TSMAP_OK);
  atomic_store(&g_now, 2000);
  atomic_store(&pa.pct, 100);
  cb_runs = 0;
  CHECK_ST(tsmap_compute_if_present(m, &k, 8, count_keep, NULL, &out), TSMAP_NOT_FOUND); // NOLINT(tsmap-non-idempotent-callback): counts its runs on purpose
  CHECK(cb_runs == 0);
  tsmap_status st = tsmap_compute(m, &k, 8, count_keep, NULL, &out); // NOLINT(tsmap-non-idempotent-callback): counts its runs; DELETE when absent
  CHECK(st == TSMAP_NOT_FOUND || st == TSMAP_NO_MEMORY);
  CHECK(ht.by_reason[TSMAP_EVICT_EXPIRED] == 0);
  atomic_store(&pa.pct, 0);
  CHECK_ST(tsmap_compute(m, &k, 8, count_keep, NULL, &out), TSMAP_NOT_FOUND); // NOLINT(tsmap-non-idempotent-callback): counts its runs on purpose
  CHECK(ht.by_reason[TSMAP_EVICT_EXPIRED] <= 1); /* (nothing to apply: need not reclaim) */
  CHECK_ST(tsmap_destroy(m), TSMAP_OK);
  CHECK(ht.created == 1 && ht.by_reason[TSMAP_EVICT_EXPIRED] == 1 &&
        ht.by_reason[TSMAP_EVICT_CLOSED] == 0);
  CHECK(pa.live == 0);
}

/* ==== 3. A foreach that must finish a reshard, with the allocator failing (G1, G15) ===== */

static int count_visits(const void *k, size_t kl, const void *v, void *ctx) {
  (void)k, (void)kl, (void)v;
  ++*(size_t *)ctx;
  return 0;
}
static int count_changes(const tsmap_change *c, void *ctx) {
  (void)c;
  ++*(size_t *)ctx;
  return 0;
}

/* Every allocation fails from the n-th after the reshard's start on (n = 0..40), and
 * foreach (and the feed of a versioned map) is called: each returns a status within the
 * watchdog's time, never spins; with memory back, both visit every key and the reshard
 * ends. Keys long (an allocation each) and short, maps of 1 → 16 and 16 → 1 shards. */
static void test_bb_foreach_finishing_a_reshard_without_memory_returns(void) {
  tsmap_test_watchdog("test_bb_foreach_finishing_a_reshard_without_memory_returns", 240);
  long nomem = 0;
  for (int shape = 0; shape < 4; shape++) {
    for (unsigned n = 0; n <= 40; n += (shape & 1) ? 3 : 1) {
      pct_alloc pa = {0};
      tsmap_allocator al = {pa_alloc, pa_free, &pa};
      tsmap_config c;
      tsmap_config_init(&c, 8);
      c.key_size = (shape & 2) ? 0 : 8;
      c.versions = shape & 1;
      size_t from = (shape & 1) ? 16 : 1, to = (shape & 1) ? 1 : 16;
      c.shard_count = from;
      c.max_shard_count = 16;
      c.allocator = &al;
      tsmap *m = NULL;
      CHECK_ST(tsmap_create(&c, &m), TSMAP_OK);
      if (!m)
        return;
      enum { N = 3000 };
      char key[24] = "a-long-key-of-20-bytes";
      for (uint64_t i = 0; i < N; i++) {
        memcpy(key, &i, 8);
        CHECK_ST(tsmap_put(m, key, (shape & 2) ? 20 : 8, &i, NULL), TSMAP_OK);
      }
      tsmap_status st = tsmap_reshard(m, to);
      CHECK(st == TSMAP_OK);
      /* three rounds: the next n allocations succeed, every later one fails */
      for (unsigned r = 0; r < 3; r++) {
        size_t seen = 0;
        atomic_store(&pa.countdown, (long)n);
        atomic_store(&pa.countdown_on, 1);
        st = tsmap_foreach(m, count_visits, &seen);
        CHECK(st == TSMAP_OK || st == TSMAP_NO_MEMORY);
        nomem += st == TSMAP_NO_MEMORY;
        if (st == TSMAP_OK)
          CHECK(seen == N);
        if (shape & 1) {
          size_t ch = 0;
          uint64_t next = 0;
          st = tsmap_foreach_since(m, 0, count_changes, &ch, &next);
          CHECK(st == TSMAP_OK || st == TSMAP_NO_MEMORY);
          if (st == TSMAP_OK)
            CHECK(ch == N);
        }
        for (uint64_t i = 0; i < N; i += 101) { /* a write fails or works, never spins */
          memcpy(key, &i, 8);
          st = tsmap_put(m, key, (shape & 2) ? 20 : 8, &i, NULL);
          CHECK(st == TSMAP_REPLACED || st == TSMAP_NO_MEMORY);
        }
        st = tsmap_maintain(m, r == 1 ? SIZE_MAX : 1024); /* SIZE_MAX: one pass */
        CHECK(st == TSMAP_OK);
        atomic_store(&pa.countdown_on, 0);
      }
      size_t seen = 0;
      CHECK_ST(tsmap_foreach(m, count_visits, &seen), TSMAP_OK);
      CHECK(seen == N);
      tsmap_test_finish_reshard(m);
      for (uint64_t i = 0, v = 0; i < N; i++) {
        memcpy(key, &i, 8);
        CHECK(tsmap_get(m, key, (shape & 2) ? 20 : 8, &v) == TSMAP_OK && v == i);
      }
      CHECK_ST(tsmap_destroy(m), TSMAP_OK);
      CHECK(pa.live == 0 && pa.live_bytes == 0);
    }
  }
  fprintf(stderr, "  %ld foreach calls without memory\n", nomem);
  CHECK(nomem > 0);
  alarm(0);
}

/* The same with a shard whose growth must rebuild (tsmap_debug_squeeze publishes too
 * small a cur, as a wrong sizing would: I3) when a reshard starts and the allocator then
 * fails every call: foreach, which finishes the phase first (R6), a write and maintain
 * must return, not spin; with memory back everything is there. */
int tsmap_debug_squeeze(tsmap *m, size_t i, size_t ngroups);
void tsmap_debug_growth(tsmap *m, size_t i, size_t *old_groups, size_t *moved);
static void test_bb_foreach_with_a_squeezed_shard_and_no_memory_returns(void) {
  tsmap_test_watchdog("test_bb_foreach_with_a_squeezed_shard_and_no_memory_returns", 120);
  for (int variant = 0; variant < 2; variant++) {
    pct_alloc pa = {0};
    tsmap_allocator al = {pa_alloc, pa_free, &pa};
    tsmap_config c;
    tsmap_config_init(&c, 8);
    c.key_size = 8;
    c.shard_count = 1;
    c.max_shard_count = 4;
    c.reshard_no_helper = 1;
    c.allocator = &al;
    tsmap *m = NULL;
    CHECK_ST(tsmap_create(&c, &m), TSMAP_OK);
    if (!m)
      return;
    const uint64_t n = 4000;
    for (uint64_t i = 0; i < n; i++)
      CHECK_ST(tsmap_put(m, &i, 8, &i, NULL), TSMAP_OK);
    size_t og = 1, moved = 0;
    for (uint64_t i = 0; og; i = (i + 1) % n) { /* finish the growth in progress */
      CHECK_ST(tsmap_put(m, &i, 8, &i, NULL), TSMAP_REPLACED);
      tsmap_debug_growth(m, 0, &og, &moved);
    }
    CHECK(tsmap_debug_squeeze(m, 0, 1));
    if (variant == 1) /* the reshard starts with memory, then none is left */
      CHECK_ST(tsmap_reshard(m, 2), TSMAP_OK);
    atomic_store(&pa.pct, 100);
    if (variant == 0) {
      tsmap_status st = tsmap_reshard(m, 2);
      CHECK(st == TSMAP_OK || st == TSMAP_NO_MEMORY);
    }
    size_t seen = 0;
    tsmap_status st = tsmap_foreach(m, count_visits, &seen);
    CHECK(st == TSMAP_NO_MEMORY || (st == TSMAP_OK && seen == n));
    for (uint64_t i = 0; i < n; i += 37) {
      st = tsmap_put(m, &i, 8, &i, NULL);
      CHECK(st == TSMAP_REPLACED || st == TSMAP_NO_MEMORY);
    }
    CHECK_ST(tsmap_maintain(m, SIZE_MAX), TSMAP_OK);
    st = tsmap_foreach(m, count_visits, &seen);
    CHECK(st == TSMAP_NO_MEMORY || st == TSMAP_OK);
    atomic_store(&pa.pct, 0);
    seen = 0;
    CHECK_ST(tsmap_foreach(m, count_visits, &seen), TSMAP_OK);
    CHECK(seen == n);
    tsmap_test_finish_reshard(m);
    for (uint64_t i = 0, v = 0; i < n; i++)
      CHECK(tsmap_get(m, &i, 8, &v) == TSMAP_OK && v == i);
    CHECK_ST(tsmap_destroy(m), TSMAP_OK);
    CHECK(pa.live == 0 && pa.live_bytes == 0);
  }
  alarm(0);
}

/* ==== 4. Expiry under writers, sweeps and live reshards (G10 with G15) ================== */

/* Every value is a fresh id. Before a store, d_lo[id] = now + ttl (the deadline is at
 * least that: the clock never goes back); after it, d_hi[id] = (the largest clock value
 * the call read on this thread) + ttl, at least the deadline the store gave it (0: not
 * known yet). So a read, a foreach visit, a replaced or removed value or a value handed
 * to a compute callback whose d_hi is at or below the clock read before the call was
 * expired and shown (G10 (a)); an EXPIRED hook before d_lo, or a CLOSED one for a value
 * whose d_hi had passed before close began, is a wrong reason (G10 (b)). */
#define XV (1u << 20)
#define XKEYS 512
typedef struct xstate {
  _Atomic uint64_t d_lo[XV], d_hi[XV];
  _Atomic unsigned char in[XV], out[XV];
  _Atomic uint64_t next_id;
  _Atomic long shown_expired, wrong_reason, expired_hooks, closed_hooks, reads_ok, visits;
  _Atomic long resharding; /* reshard calls after which one was in progress */
  _Atomic long reshards;   /* reshard calls that returned TSMAP_OK */
  size_t klen;              /* 8, or 24 in a map of variable keys (a key block each) */
  int bounded;              /* max_entries: capacity evictions beside the expiries */
  _Atomic int done, closed;
  _Atomic uint64_t close_at; /* the clock before tsmap_close began (UINT64_MAX: not yet) */
  tsmap *m;
} xstate;
static xstate *g_xs;
static _Atomic uint64_t g_xnow;
static _Thread_local uint64_t tl_clock_max;

static uint64_t x_clock(void *ctx) {
  (void)ctx;
  uint64_t v = atomic_load(&g_xnow);
  if (v > tl_clock_max)
    tl_clock_max = v;
  return v;
}

static uint64_t x_val(const void *v) {
  uint64_t x;
  memcpy(&x, v, 8);
  return x;
}

/* A value x seen (read, visited, replaced, removed) by a call that began at clock t0. */
static void x_seen(uint64_t x, uint64_t t0) {
  if (x >= XV) {
    g_xs->shown_expired++;
    return;
  }
  uint64_t hi = atomic_load(&g_xs->d_hi[x]);
  if (hi != 0 && hi <= t0) {
    if (g_xs->shown_expired++ < 5)
      fprintf(stderr, "  value %llu shown at %llu, its deadline at most %llu\n",
              (unsigned long long)x, (unsigned long long)t0, (unsigned long long)hi);
  }
}

static void x_created(const void *k, size_t kl, const void *v, void *ctx) {
  (void)k, (void)kl, (void)ctx;
  uint64_t x = x_val(v);
  if (x < XV)
    g_xs->in[x]++;
}
static void x_evicted(const void *k, size_t kl, void *v, tsmap_evict_reason why, void *ctx) {
  (void)k, (void)kl, (void)ctx;
  uint64_t x = x_val(v);
  if (why == TSMAP_EVICT_DISCARDED || x >= XV)
    return;
  g_xs->out[x]++;
  if (why == TSMAP_EVICT_EXPIRED) {
    g_xs->expired_hooks++;
    if (atomic_load(&g_xnow) < atomic_load(&g_xs->d_lo[x]))
      g_xs->wrong_reason++;
  } else if (why == TSMAP_EVICT_CLOSED) {
    g_xs->closed_hooks++;
    uint64_t hi = atomic_load(&g_xs->d_hi[x]);
    if (hi != 0 && hi <= atomic_load(&g_xs->close_at))
      g_xs->wrong_reason++;
  }
}

typedef struct xcall {
  uint64_t id, t0;
} xcall;
static tsmap_verdict x_compute(const void *k, size_t kl, const void *old, void *ctx, void *nv) {
  (void)k, (void)kl;
  xcall *c = (xcall *)ctx;
  if (old)
    x_seen(x_val(old), c->t0);
  memcpy(nv, &c->id, 8);
  return TSMAP_STORE;
}
static int x_absent(const void *k, size_t kl, void *ctx, void *out) {
  (void)k, (void)kl;
  memcpy(out, &((xcall *)ctx)->id, 8);
  return 0;
}

static void *x_writer(void *arg) {
  uint64_t rs = (uint64_t)(uintptr_t)arg * 7919 + 1;
  long iters = 500000 / SCALE;
  for (long it = 0; it < iters && !atomic_load(&g_xs->closed); it++) {
    uint64_t r = rng_next(&rs), k = r % XKEYS, out = 0, kb[3] = {k, k * 31, ~k};
    size_t kl = g_xs->klen;
    uint64_t ttl = (r >> 20) % 16 == 0 ? TSMAP_TTL_NEVER : 1 + (r >> 24) % 40;
    xcall c = {atomic_fetch_add(&g_xs->next_id, 1), atomic_load(&g_xnow)};
    if (c.id >= XV)
      break;
    if (it % 32 == 0) /* time moves with the work: a TTL of 40 spans about 2,500 calls */
      atomic_fetch_add(&g_xnow, 1);
    atomic_store(&g_xs->d_lo[c.id], ttl == TSMAP_TTL_NEVER ? UINT64_MAX : c.t0 + ttl);
    tl_clock_max = 0;
    tsmap_status st;
    int stored = 0;
    switch ((r >> 8) % 8) {
    case 0:
    case 1:
      st = tsmap_put_ttl(g_xs->m, kb, kl, &c.id, ttl, (r & 1) ? &out : NULL);
      stored = st == TSMAP_OK || st == TSMAP_REPLACED;
      if (st == TSMAP_REPLACED && (r & 1)) {
        x_seen(out, c.t0);
        g_xs->out[out]++;
      }
      CHECK(stored || st == TSMAP_CLOSED);
      break;
    case 2:
      st = tsmap_put_if_absent_ttl(g_xs->m, kb, kl, &c.id, ttl, &out);
      stored = st == TSMAP_OK;
      if (st == TSMAP_EXISTS)
        x_seen(out, c.t0);
      CHECK(stored || st == TSMAP_EXISTS || st == TSMAP_CLOSED);
      break;
    case 3:
      st = tsmap_remove(g_xs->m, kb, kl, (r & 1) ? &out : NULL);
      if (st == TSMAP_OK && (r & 1)) {
        x_seen(out, c.t0);
        g_xs->out[out]++;
      }
      CHECK(st == TSMAP_OK || st == TSMAP_NOT_FOUND || st == TSMAP_CLOSED);
      break;
    case 4:
      st = tsmap_compute_ttl(g_xs->m, kb, kl, x_compute, &c, ttl, &out); // NOLINT(tsmap-non-idempotent-callback): counts what it is shown
      stored = st == TSMAP_OK;
      CHECK(stored || st == TSMAP_CLOSED);
      break;
    case 5:
      st = tsmap_compute_if_present_ttl(g_xs->m, kb, kl, x_compute, &c, ttl, &out); // NOLINT(tsmap-non-idempotent-callback): counts what it is shown
      stored = st == TSMAP_OK;
      CHECK(stored || st == TSMAP_NOT_FOUND || st == TSMAP_CLOSED);
      break;
    case 6:
      st = tsmap_compute_if_absent_ttl(g_xs->m, kb, kl, x_absent, &c, ttl, &out);
      stored = st == TSMAP_OK && out == c.id;
      if (st == TSMAP_OK && out != c.id)
        x_seen(out, c.t0);
      CHECK(st == TSMAP_OK || st == TSMAP_CLOSED);
      break;
    default:
      st = tsmap_get(g_xs->m, kb, kl, &out);
      if (st == TSMAP_OK)
        x_seen(out, c.t0);
      CHECK(st == TSMAP_OK || st == TSMAP_NOT_FOUND || st == TSMAP_CLOSED);
      break;
    }
    if (st == TSMAP_CLOSED)
      break;
    if (stored && tl_clock_max) /* the insert read the clock on this thread, in this call */
      atomic_store(&g_xs->d_hi[c.id],
                   ttl == TSMAP_TTL_NEVER ? UINT64_MAX : tl_clock_max + ttl);
  }
  return NULL;
}

typedef struct xvisit {
  uint64_t t0;
} xvisit;
static int x_visit(const void *k, size_t kl, const void *v, void *ctx) {
  (void)k, (void)kl;
  x_seen(x_val(v), ((xvisit *)ctx)->t0);
  g_xs->visits++;
  return 0;
}

static void *x_reader(void *arg) {
  (void)arg;
  uint64_t rs = 42;
  for (long it = 0; !atomic_load(&g_xs->done); it++) {
    if (it % 2048 == 0) {
      xvisit xv = {atomic_load(&g_xnow)};
      tsmap_status st = tsmap_foreach(g_xs->m, x_visit, &xv);
      CHECK(st == TSMAP_OK || st == TSMAP_CLOSED);
      continue;
    }
    uint64_t k = rng_next(&rs) % XKEYS, v, t0 = atomic_load(&g_xnow), kb[3] = {k, k * 31, ~k};
    size_t kl = g_xs->klen;
    tsmap_status st = tsmap_get(g_xs->m, kb, kl, &v);
    if (st == TSMAP_OK) {
      g_xs->reads_ok++;
      x_seen(v, t0);
    }
    CHECK(st == TSMAP_OK || st == TSMAP_NOT_FOUND || st == TSMAP_CLOSED);
  }
  return NULL;
}

/* The clock, reshards to 1..16 shards, tsmap_maintain, and (racing_close) a close. */
static void *x_side(void *arg) {
  int racing_close = (int)(uintptr_t)arg;
  uint64_t rs = 7;
  for (long it = 0; !atomic_load(&g_xs->done); it++) {
    if (it % 2 == 0 && !g_xs->bounded) { /* a bounded map is not resharded */
      tsmap_status st = tsmap_reshard(g_xs->m, (size_t)1 << (rng_next(&rs) % 5));
      CHECK(st == TSMAP_OK || st == TSMAP_CLOSED);
      g_xs->reshards += st == TSMAP_OK;
      size_t n = 0, t = 0;
      if (tsmap_shard_counts(g_xs->m, &n, &t) == TSMAP_OK && n != t)
        g_xs->resharding++;
    }
    if (it % 16 == 0) {
      tsmap_status st = tsmap_maintain(g_xs->m, 64);
      CHECK(st == TSMAP_OK || st == TSMAP_CLOSED);
    }
    if (racing_close && atomic_load(&g_xs->next_id) > 300000 / SCALE &&
        !atomic_load(&g_xs->closed)) {
      atomic_store(&g_xs->close_at, atomic_load(&g_xnow));
      CHECK_ST(tsmap_close(g_xs->m), TSMAP_OK);
      atomic_store(&g_xs->closed, 1);
    }
    sched_yield();
  }
  return NULL;
}

/* variant 0: 8-byte keys; 1: 24-byte keys of a versioned map of variable keys, with a
 * maintenance thread (every 50 us) reclaiming beside the writers' sweeps; 2: a map bounded
 * to 256 entries (not resharded: capacity evictions, B5 refusals, and expiries) */
static void x_expiry_run(int racing_close, int variant) {
  g_xs = (xstate *)calloc(1, sizeof *g_xs);
  if (!g_xs)
    return;
  atomic_store(&g_xnow, 1000);
  atomic_store(&g_xs->close_at, UINT64_MAX);
  atomic_store(&g_xs->next_id, 1);
  tsmap_config c;
  tsmap_config_init(&c, 8);
  c.key_size = variant == 1 ? 0 : 8;
  g_xs->klen = variant == 1 ? 24 : 8;
  c.versions = variant == 1;
  c.maintain_interval_ns = variant == 1 ? 50000 : 0;
  c.max_entries = variant == 2 ? 256 : 0;
  g_xs->bounded = variant == 2;
  c.expiry = 1;
  c.clock = x_clock;
  c.shard_count = 2;
  c.max_shard_count = 16;
  c.on_entry_created = x_created;
  c.on_entry_evicted = x_evicted;
  CHECK_ST(tsmap_create(&c, &g_xs->m), TSMAP_OK);
  if (!g_xs->m)
    return;
  pthread_t w[2], rd, side;
  for (uintptr_t i = 0; i < 2; i++)
    pthread_create(&w[i], NULL, x_writer, (void *)i);
  pthread_create(&rd, NULL, x_reader, NULL);
  pthread_create(&side, NULL, x_side, (void *)(uintptr_t)racing_close);
  for (int i = 0; i < 2; i++)
    pthread_join(w[i], NULL);
  atomic_store(&g_xs->done, 1);
  pthread_join(rd, NULL);
  pthread_join(side, NULL);
  if (!atomic_load(&g_xs->closed)) {
    atomic_fetch_add(&g_xnow, 20); /* some values expire before the close */
    atomic_store(&g_xs->close_at, atomic_load(&g_xnow));
    CHECK_ST(tsmap_close(g_xs->m), TSMAP_OK);
  }
  tsmap_destroy(g_xs->m);
  long entered = 0, bad = 0;
  uint64_t n = atomic_load(&g_xs->next_id);
  for (uint64_t x = 1; x < n && x < XV; x++) {
    entered += g_xs->in[x];
    if (g_xs->in[x] > 1 || g_xs->out[x] != g_xs->in[x]) {
      if (bad++ < 5)
        fprintf(stderr, "  value %llu entered %u times, left %u times\n",
                (unsigned long long)x, g_xs->in[x], g_xs->out[x]);
    }
  }
  fprintf(stderr,
          "  %ld values entered, %ld expired, %ld closed, %ld reads ok, %ld visits; "
          "%ld reshards (%ld seen running); %ld shown expired, %ld wrong reasons, %ld ledger "
          "errors\n",
          entered, (long)g_xs->expired_hooks, (long)g_xs->closed_hooks, (long)g_xs->reads_ok,
          (long)g_xs->visits, (long)g_xs->reshards, (long)g_xs->resharding,
          (long)g_xs->shown_expired,
          (long)g_xs->wrong_reason, bad);
  CHECK(entered > 1000 / SCALE);
  CHECK(g_xs->expired_hooks > 100 / SCALE);
  CHECK(g_xs->reshards > 0 || g_xs->bounded);
  CHECK(g_xs->shown_expired == 0);
  CHECK(g_xs->wrong_reason == 0);
  CHECK(bad == 0);
  free(g_xs);
}

static void test_bb_expiry_under_writers_and_reshards(void) {
  tsmap_test_watchdog("test_bb_expiry_under_writers_and_reshards", 240);
  x_expiry_run(0, 0);
  x_expiry_run(0, 1);
  x_expiry_run(0, 2);
  alarm(0);
}
static void test_bb_expiry_with_close_racing_reclaims_and_reshards(void) {
  tsmap_test_watchdog("test_bb_expiry_with_close_racing_reclaims_and_reshards", 240);
  x_expiry_run(1, 0);
  x_expiry_run(1, 1);
  x_expiry_run(1, 2);
  alarm(0);
}

/* ==== 5. Replicated maps with a failing allocator, under threads (G1, G12, G13) ======== */

/* Two replicas, each with an allocator failing pct% of calls. Two threads write replica 0
 * (keys 0..255 and 256..511), one writes replica 1 (keys 512..767), each with an exact
 * model of its keys: every status must be one the header lists, a failure must leave its
 * key as it was (read back at once), versions only rise. A fourth thread exchanges
 * changes both ways through tsmap_export, tsmap_change_encode / _decode and tsmap_merge
 * (a merge that fails is retried; an export that fails resumes from its cursor). At the
 * end, with memory back, a full exchange makes both replicas hold every model's values;
 * each replica's ledger (every value in once, out once: hooks or an out-parameter) and
 * its allocator (nothing live) balance. */
#define RV (1u << 18)
typedef struct rledger {
  _Atomic unsigned char in[RV], out[RV];
} rledger;
typedef struct rstate {
  tsmap *m[2];
  pct_alloc pa[2];
  rledger led[2];
  _Atomic uint64_t next_id;
  _Atomic int done;
  _Atomic long bad_status, not_unchanged, version_down, nomem, merges, merge_nomem,
      export_nomem;
} rstate;
static rstate *g_rs;

static void r_created(const void *k, size_t kl, const void *v, void *ctx) {
  (void)k, (void)kl;
  uint64_t x = x_val(v);
  if (x < RV)
    ((rledger *)ctx)->in[x]++;
}
static void r_evicted(const void *k, size_t kl, void *v, tsmap_evict_reason why, void *ctx) {
  (void)k, (void)kl;
  uint64_t x = x_val(v);
  if (why != TSMAP_EVICT_DISCARDED && x < RV)
    ((rledger *)ctx)->out[x]++;
}

static void r_bad(tsmap_status st, int line) {
  if (g_rs->bad_status++ < 8)
    fprintf(stderr, "  line %d: undocumented status %s\n", line, tsmap_status_name(st));
}
#define R_ALLOWED(st, ...)                                                              \
  do {                                                                                  \
    const tsmap_status ok_[] = {__VA_ARGS__};                                           \
    int f_ = 0;                                                                         \
    for (size_t i_ = 0; i_ < sizeof ok_ / sizeof ok_[0]; i_++)                          \
      f_ |= (st) == ok_[i_];                                                            \
    if (!f_)                                                                            \
      r_bad((st), __LINE__);                                                            \
  } while (0)

static tsmap_verdict r_store(const void *k, size_t kl, const void *old, void *ctx, void *nv) {
  (void)k, (void)kl, (void)old;
  memcpy(nv, ctx, 8);
  return TSMAP_STORE;
}

typedef struct rwriter {
  int replica;
  uint64_t key0, nkeys;
  uint64_t model[256]; /* value id, 0: absent */
  uint64_t ver[256];   /* the last version seen */
} rwriter;

/* The key's value and version must be the model's (a failed call changed nothing). */
static void r_verify(rwriter *w, uint64_t k) {
  tsmap *m = g_rs->m[w->replica];
  uint64_t v = 0, ver = 0, i = k - w->key0;
  tsmap_status st = tsmap_get_version(m, &k, 8, &v, &ver);
  if (st == TSMAP_NOT_FOUND ? w->model[i] != 0 : st != TSMAP_OK || v != w->model[i]) {
    if (g_rs->not_unchanged++ < 5)
      fprintf(stderr, "  replica %d key %llu: %s %llu, model %llu\n", w->replica,
              (unsigned long long)k, tsmap_status_name(st), (unsigned long long)v,
              (unsigned long long)w->model[i]);
  }
  if (st == TSMAP_OK) {
    if (ver < w->ver[i])
      g_rs->version_down++;
    w->ver[i] = ver;
  }
}

static void *r_writer(void *arg) {
  rwriter *w = (rwriter *)arg;
  tsmap *m = g_rs->m[w->replica];
  rledger *led = &g_rs->led[w->replica];
  uint64_t rs = w->key0 * 31 + 5;
  long iters = 60000 / SCALE;
  for (long it = 0; it < iters; it++) {
    uint64_t r = rng_next(&rs), i = r % w->nkeys, k = w->key0 + i;
    uint64_t id = atomic_fetch_add(&g_rs->next_id, 1), out = 0, ver = 0;
    if (id >= RV)
      break;
    tsmap_status st;
    int op = (int)((r >> 16) % 7);
    switch (op) {
    case 0: /* put, the old value to the caller or to the hook */
      st = tsmap_put(m, &k, 8, &id, (r & 1) ? &out : NULL);
      R_ALLOWED(st, TSMAP_OK, TSMAP_REPLACED, TSMAP_NO_MEMORY);
      if (st == TSMAP_REPLACED && (r & 1))
        led->out[out]++;
      if (st == TSMAP_OK || st == TSMAP_REPLACED)
        w->model[i] = id;
      break;
    case 1: /* remove: needs its tombstone's record */
      st = tsmap_remove(m, &k, 8, (r & 1) ? &out : NULL);
      R_ALLOWED(st, TSMAP_OK, TSMAP_NOT_FOUND, TSMAP_NO_MEMORY);
      if (st == TSMAP_OK && (r & 1))
        led->out[out]++;
      if (st == TSMAP_OK)
        w->model[i] = 0;
      if (st == TSMAP_NOT_FOUND && w->model[i])
        g_rs->not_unchanged++;
      break;
    case 2: /* put_if_version against the model's version */
      st = tsmap_put_if_version(m, &k, 8, &id, w->model[i] ? w->ver[i] : TSMAP_VERSION_ABSENT,
                                &ver, (r & 1) ? &out : NULL);
      R_ALLOWED(st, TSMAP_OK, TSMAP_REPLACED, TSMAP_CONFLICT, TSMAP_NO_MEMORY);
      if (st == TSMAP_REPLACED && (r & 1))
        led->out[out]++;
      if (st == TSMAP_OK || st == TSMAP_REPLACED) {
        w->model[i] = id;
        if (ver <= w->ver[i])
          g_rs->version_down++;
        w->ver[i] = ver;
      }
      break;
    case 3: /* remove_if_version */
      st = tsmap_remove_if_version(m, &k, 8, w->model[i] ? w->ver[i] : TSMAP_VERSION_ANY, &ver,
                                   (r & 1) ? &out : NULL);
      R_ALLOWED(st, TSMAP_OK, TSMAP_NOT_FOUND, TSMAP_CONFLICT, TSMAP_NO_MEMORY);
      if (st == TSMAP_OK && (r & 1))
        led->out[out]++;
      if (st == TSMAP_OK)
        w->model[i] = 0;
      break;
    case 4: /* compute: store a fresh value */
      st = tsmap_compute(m, &k, 8, r_store, &id, &out);
      R_ALLOWED(st, TSMAP_OK, TSMAP_NO_MEMORY);
      if (st == TSMAP_OK)
        w->model[i] = id;
      break;
    case 5: /* compute_if_version, any version */
      st = tsmap_compute_if_version(m, &k, 8, TSMAP_VERSION_ANY, r_store, &id, &ver, &out);
      R_ALLOWED(st, TSMAP_OK, TSMAP_NO_MEMORY);
      if (st == TSMAP_OK)
        w->model[i] = id;
      break;
    default: /* put_if_absent */
      st = tsmap_put_if_absent(m, &k, 8, &id, &out);
      R_ALLOWED(st, TSMAP_OK, TSMAP_EXISTS, TSMAP_NO_MEMORY);
      if (st == TSMAP_OK)
        w->model[i] = id;
      if (st == TSMAP_EXISTS && out != w->model[i])
        g_rs->not_unchanged++;
      break;
    }
    if (st == TSMAP_NO_MEMORY)
      g_rs->nomem++;
    r_verify(w, k);
  }
  return NULL;
}

/* Export `from` since *cursor, merging each change into `to` through the codec. Returns
 * the export's status; the cursor moves only on TSMAP_OK. */
typedef struct rexch {
  tsmap *to;
  rledger *led;
  int final; /* memory is back: every merge must succeed */
} rexch;
static int r_merge_change(const tsmap_change *c, void *ctx) {
  rexch *x = (rexch *)ctx;
  unsigned char buf[512];
  size_t len = 0, used = 0;
  tsmap_status st = tsmap_change_encode(c, 8, buf, sizeof buf, &len);
  R_ALLOWED(st, TSMAP_OK);
  if (st != TSMAP_OK)
    return 1;
  tsmap_change d;
  uint64_t clock[TSMAP_MAX_REPLICAS];
  st = tsmap_change_decode(buf, len, 8, &d, clock, &used);
  R_ALLOWED(st, TSMAP_OK);
  if (st != TSMAP_OK || used != len)
    return 1;
  for (int tries = 0;; tries++) {
    uint64_t old = 0;
    int own = tries & 1; /* the replaced value to the caller, or to the hook */
    st = tsmap_merge(x->to, &d, NULL, NULL, own ? &old : NULL);
    R_ALLOWED(st, TSMAP_OK, TSMAP_REPLACED, TSMAP_EXISTS, TSMAP_NO_MEMORY);
    g_rs->merges++;
    if (st == TSMAP_REPLACED && own)
      x->led->out[old]++;
    if (st != TSMAP_NO_MEMORY)
      break;
    g_rs->merge_nomem++;
    if (x->final)
      r_bad(st, __LINE__);
  }
  return 0;
}
static tsmap_status r_exchange(int from, int to, uint64_t *cursor, int final) {
  rexch x = {g_rs->m[to], &g_rs->led[to], final};
  uint64_t next = 0;
  tsmap_status st = tsmap_export(g_rs->m[from], *cursor, r_merge_change, &x, &next);
  R_ALLOWED(st, TSMAP_OK, TSMAP_NO_MEMORY);
  if (st == TSMAP_OK)
    *cursor = next;
  else
    g_rs->export_nomem++;
  return st;
}
static void *r_exchanger(void *arg) {
  (void)arg;
  uint64_t cur[2] = {0, 0};
  while (!atomic_load(&g_rs->done)) {
    r_exchange(0, 1, &cur[0], 0);
    r_exchange(1, 0, &cur[1], 0);
    sched_yield();
  }
  return NULL;
}

static int r_collect(const void *k, size_t kl, const void *v, void *ctx) {
  (void)kl;
  uint64_t key, *vals = (uint64_t *)ctx;
  memcpy(&key, k, 8);
  if (key < 768)
    vals[key] = x_val(v);
  return 0;
}

static void test_bb_replicas_with_a_failing_allocator_under_threads(void) {
  tsmap_test_watchdog("test_bb_replicas_with_a_failing_allocator_under_threads", 280);
  static const unsigned pcts[] = {1, 10, 35};
  for (size_t pi = 0; pi < sizeof pcts / sizeof pcts[0]; pi++) {
    g_rs = (rstate *)calloc(1, sizeof *g_rs);
    if (!g_rs)
      return;
    atomic_store(&g_rs->next_id, 1);
    for (int r = 0; r < 2; r++) {
      tsmap_config c;
      tsmap_config_init(&c, 8);
      c.key_size = 8;
      c.replicas = 2;
      c.replica_id = (size_t)r;
      c.shard_count = 4;
      c.on_entry_created = r_created;
      c.on_entry_evicted = r_evicted;
      c.hook_ctx = &g_rs->led[r];
      atomic_store(&g_rs->pa[r].seed, 1000 * pi + (uint64_t)r);
      /* the allocator struct must outlive the map: keep it in the state */
      static tsmap_allocator als[2];
      als[r] = (tsmap_allocator){pa_alloc, pa_free, &g_rs->pa[r]};
      c.allocator = &als[r];
      CHECK_ST(tsmap_create(&c, &g_rs->m[r]), TSMAP_OK);
      if (!g_rs->m[r])
        return;
      atomic_store(&g_rs->pa[r].pct, pcts[pi]);
    }
    static rwriter w[3];
    memset(w, 0, sizeof w);
    w[0] = (rwriter){.replica = 0, .key0 = 0, .nkeys = 256};
    w[1] = (rwriter){.replica = 0, .key0 = 256, .nkeys = 256};
    w[2] = (rwriter){.replica = 1, .key0 = 512, .nkeys = 256};
    pthread_t tw[3], te;
    pthread_create(&te, NULL, r_exchanger, NULL);
    for (int i = 0; i < 3; i++)
      pthread_create(&tw[i], NULL, r_writer, &w[i]);
    for (int i = 0; i < 3; i++)
      pthread_join(tw[i], NULL);
    atomic_store(&g_rs->done, 1);
    pthread_join(te, NULL);
    /* memory back: exchange everything both ways, twice */
    for (int r = 0; r < 2; r++)
      atomic_store(&g_rs->pa[r].pct, 0);
    for (int round = 0; round < 2; round++) {
      uint64_t c0 = 0, c1 = 0;
      CHECK_ST(r_exchange(0, 1, &c0, 1), TSMAP_OK);
      CHECK_ST(r_exchange(1, 0, &c1, 1), TSMAP_OK);
    }
    /* both replicas hold every model's values, and nothing else */
    static uint64_t vals[2][768];
    memset(vals, 0, sizeof vals);
    for (int r = 0; r < 2; r++)
      CHECK_ST(tsmap_foreach(g_rs->m[r], r_collect, vals[r]), TSMAP_OK);
    long differ = 0;
    for (int i = 0; i < 3; i++)
      for (uint64_t j = 0; j < 256; j++)
        for (int r = 0; r < 2; r++)
          differ += vals[r][w[i].key0 + j] != w[i].model[j];
    size_t n0 = 0, n1 = 0;
    CHECK_ST(tsmap_size(g_rs->m[0], &n0), TSMAP_OK);
    CHECK_ST(tsmap_size(g_rs->m[1], &n1), TSMAP_OK);
    CHECK(n0 == n1);
    for (int r = 0; r < 2; r++)
      CHECK_ST(tsmap_destroy(g_rs->m[r]), TSMAP_OK);
    long ledger = 0;
    uint64_t n = atomic_load(&g_rs->next_id);
    for (int r = 0; r < 2; r++)
      for (uint64_t x = 1; x < n && x < RV; x++)
        ledger += g_rs->led[r].in[x] > 1 || g_rs->led[r].in[x] != g_rs->led[r].out[x];
    fprintf(stderr,
            "  %u%%: %ld writes without memory, %ld merges (%ld without memory), %ld exports "
            "without memory; %ld undocumented statuses, %ld changed by a failure, %ld "
            "versions down, %ld values differ, %ld ledger errors\n",
            pcts[pi], (long)g_rs->nomem, (long)g_rs->merges, (long)g_rs->merge_nomem,
            (long)g_rs->export_nomem, (long)g_rs->bad_status, (long)g_rs->not_unchanged,
            (long)g_rs->version_down, differ, ledger);
    CHECK(g_rs->nomem > 0);
    CHECK(g_rs->bad_status == 0);
    CHECK(g_rs->not_unchanged == 0);
    CHECK(g_rs->version_down == 0);
    CHECK(differ == 0);
    CHECK(ledger == 0);
    for (int r = 0; r < 2; r++)
      CHECK(g_rs->pa[r].live == 0 && g_rs->pa[r].live_bytes == 0);
    free(g_rs);
  }
  alarm(0);
}

/* ==== 6. Bounded and weighted maps with a failing allocator, under threads (G1, G11) ==== */

/* Two writers on shared keys of a map bounded by count (and, in the second shape, by
 * weight, with expiry in the third, with versions in the fourth, whose writers also store
 * through put_if_version and compute_if_version), each allocator call failing pct% of
 * the time: every
 * status is one the header lists (a remove never fails for memory here: no replicas, no
 * reshard, the threads' records exist), the bounds hold whenever a watcher looks (size;
 * the weights summed by foreach), the ledger balances after destroy (a refused newcomer
 * is created then evicted, CAPACITY; a discarded callback result is never created), and
 * nothing is left allocated. */
#define BV (1u << 19)
#define BKEYS 2048
typedef struct bstate {
  tsmap *m;
  pct_alloc pa;
  _Atomic unsigned char in[BV], out[BV];
  _Atomic uint64_t next_id;
  _Atomic int done;
  uint64_t max_entries, max_weight;
  int versioned; /* the writers store through put_if_version and compute_if_version too */
  _Atomic long bad_status, over_bound, over_weight, nomem, capacity, too_heavy, watched;
} bstate;
static bstate *g_bs;

static uint64_t b_weight(const void *k, size_t kl, const void *v, void *ctx) {
  (void)k, (void)kl, (void)ctx;
  uint64_t x = (uint64_t)(uintptr_t) * (void *const *)v;
  return x % 97 == 0 ? 400 : 1 + x % 9; /* 1..9, or above the share (max_weight / 4) */
}
static void b_created(const void *k, size_t kl, const void *v, void *ctx) {
  (void)k, (void)kl, (void)ctx;
  uint64_t x = x_val(v);
  if (x < BV)
    g_bs->in[x]++;
}
static void b_evicted(const void *k, size_t kl, void *v, tsmap_evict_reason why, void *ctx) {
  (void)k, (void)kl, (void)ctx;
  uint64_t x = x_val(v);
  if (why == TSMAP_EVICT_CAPACITY)
    g_bs->capacity++;
  if (why != TSMAP_EVICT_DISCARDED && x < BV)
    g_bs->out[x]++;
}
static void b_bad(tsmap_status st, int op) {
  if (g_bs->bad_status++ < 8)
    fprintf(stderr, "  op %d: undocumented status %s\n", op, tsmap_status_name(st));
}
static int b_absent(const void *k, size_t kl, void *ctx, void *out) {
  (void)k, (void)kl;
  uint64_t id = *(uint64_t *)ctx;
  if (id % 13 == 0)
    return 1; /* TSMAP_CALLBACK_FAILED */
  memcpy(out, &id, 8);
  return 0;
}
static tsmap_verdict b_compute(const void *k, size_t kl, const void *old, void *ctx,
                               void *nv) {
  (void)k, (void)kl;
  uint64_t id = *(uint64_t *)ctx;
  if (old && id % 5 == 0)
    return TSMAP_DELETE;
  memcpy(nv, &id, 8);
  return TSMAP_STORE;
}

static void *b_writer(void *arg) {
  uint64_t rs = (uint64_t)(uintptr_t)arg * 104729 + 3;
  long iters = 150000 / SCALE;
  for (long it = 0; it < iters; it++) {
    uint64_t r = rng_next(&rs), k = r % BKEYS, out = 0;
    uint64_t id = atomic_fetch_add(&g_bs->next_id, 1);
    if (id >= BV)
      break;
    void *idp = (void *)(uintptr_t)id;
    tsmap_status st;
    int op = (int)((r >> 16) % 6), ok;
    switch (op) {
    case 0:
      if (g_bs->versioned && (r & 2)) {
        uint64_t ver = 0;
        st = tsmap_put_if_version(g_bs->m, &k, 8, &id, TSMAP_VERSION_ANY, &ver,
                                  (r & 1) ? &out : NULL);
      } else {
        st = tsmap_put_ptr(g_bs->m, &k, 8, idp, (r & 1) ? (void **)&out : NULL);
      }
      ok = st == TSMAP_OK || st == TSMAP_REPLACED || st == TSMAP_NO_MEMORY ||
           st == TSMAP_TOO_HEAVY;
      if (st == TSMAP_REPLACED && (r & 1))
        g_bs->out[out]++;
      break;
    case 1:
      st = tsmap_put_ptr_if_absent(g_bs->m, &k, 8, idp, (void **)&out);
      ok = st == TSMAP_OK || st == TSMAP_EXISTS || st == TSMAP_NO_MEMORY ||
           st == TSMAP_TOO_HEAVY;
      break;
    case 2:
      st = tsmap_remove(g_bs->m, &k, 8, (r & 1) ? &out : NULL);
      ok = st == TSMAP_OK || st == TSMAP_NOT_FOUND;
      if (st == TSMAP_OK && (r & 1))
        g_bs->out[out]++;
      break;
    case 3:
      st = tsmap_compute_if_absent(g_bs->m, &k, 8, b_absent, &id, &out);
      ok = st == TSMAP_OK || st == TSMAP_CALLBACK_FAILED || st == TSMAP_NO_MEMORY ||
           st == TSMAP_TOO_HEAVY;
      break;
    case 4:
      if (g_bs->versioned && (r & 2)) {
        uint64_t ver = 0;
        st = tsmap_compute_if_version(g_bs->m, &k, 8, TSMAP_VERSION_ANY, b_compute, &id, &ver,
                                      &out);
      } else {
        st = tsmap_compute(g_bs->m, &k, 8, b_compute, &id, &out);
      }
      ok = st == TSMAP_OK || st == TSMAP_REMOVED || st == TSMAP_NOT_FOUND ||
           st == TSMAP_NO_MEMORY || st == TSMAP_TOO_HEAVY;
      break;
    default:
      st = tsmap_compute_if_present(g_bs->m, &k, 8, b_compute, &id, &out);
      ok = st == TSMAP_OK || st == TSMAP_REMOVED || st == TSMAP_NOT_FOUND ||
           st == TSMAP_NO_MEMORY || st == TSMAP_TOO_HEAVY;
      break;
    }
    if (!ok)
      b_bad(st, op);
    if (st == TSMAP_TOO_HEAVY && !g_bs->max_weight)
      b_bad(st, op);
    g_bs->nomem += st == TSMAP_NO_MEMORY;
    g_bs->too_heavy += st == TSMAP_TOO_HEAVY;
  }
  return NULL;
}

static int b_sum(const void *k, size_t kl, const void *v, void *ctx) {
  *(uint64_t *)ctx += b_weight(k, kl, v, NULL);
  return 0;
}
static void *b_watcher(void *arg) {
  (void)arg;
  while (!atomic_load(&g_bs->done)) {
    size_t n = 0;
    if (tsmap_size(g_bs->m, &n) == TSMAP_OK && n > g_bs->max_entries)
      g_bs->over_bound++;
    if (g_bs->max_weight) {
      uint64_t w = 0;
      /* foreach copies shard by shard: each shard holds at most its share at its copy */
      if (tsmap_foreach(g_bs->m, b_sum, &w) == TSMAP_OK && w > g_bs->max_weight)
        g_bs->over_weight++;
    }
    g_bs->watched++;
    sched_yield();
  }
  return NULL;
}

static void test_bb_bounded_and_weighted_maps_with_a_failing_allocator(void) {
  tsmap_test_watchdog("test_bb_bounded_and_weighted_maps_with_a_failing_allocator", 280);
  static const unsigned pcts[] = {1, 10, 35};
  for (int shape = 0; shape < 4; shape++)
    for (size_t pi = 0; pi < sizeof pcts / sizeof pcts[0]; pi++) {
      g_bs = (bstate *)calloc(1, sizeof *g_bs);
      if (!g_bs)
        return;
      atomic_store(&g_bs->next_id, 1);
      atomic_store(&g_bs->pa.seed, 77 * pi + (uint64_t)shape);
      static tsmap_allocator al;
      al = (tsmap_allocator){pa_alloc, pa_free, &g_bs->pa};
      tsmap_config c;
      tsmap_config_init(&c, sizeof(void *));
      c.key_size = 8;
      c.shard_count = 4;
      c.max_entries = 512;
      if (shape >= 1) {
        c.weight = b_weight;
        c.max_weight = 4 * 300;
      }
      if (shape == 2)
        c.default_ttl_ns = 200000; /* real time: entries expire while the writers run */
      c.versions = shape == 3;
      g_bs->versioned = shape == 3;
      c.allocator = &al;
      c.on_entry_created = b_created;
      c.on_entry_evicted = b_evicted;
      g_bs->max_entries = c.max_entries;
      g_bs->max_weight = c.max_weight;
      CHECK_ST(tsmap_create(&c, &g_bs->m), TSMAP_OK);
      if (!g_bs->m)
        return;
      atomic_store(&g_bs->pa.pct, pcts[pi]);
      pthread_t tw[2], tv;
      pthread_create(&tv, NULL, b_watcher, NULL);
      for (uintptr_t i = 0; i < 2; i++)
        pthread_create(&tw[i], NULL, b_writer, (void *)i);
      for (int i = 0; i < 2; i++)
        pthread_join(tw[i], NULL);
      atomic_store(&g_bs->done, 1);
      pthread_join(tv, NULL);
      atomic_store(&g_bs->pa.pct, 0);
      CHECK_ST(tsmap_destroy(g_bs->m), TSMAP_OK);
      long ledger = 0;
      uint64_t n = atomic_load(&g_bs->next_id);
      for (uint64_t x = 1; x < n && x < BV; x++)
        ledger += g_bs->in[x] > 1 || g_bs->in[x] != g_bs->out[x];
      fprintf(stderr,
              "  shape %d, %u%%: %ld without memory, %ld too heavy, %ld capacity evictions, "
              "%ld looks; %ld undocumented statuses, %ld over the bound, %ld over the "
              "weight, %ld ledger errors\n",
              shape, pcts[pi], (long)g_bs->nomem, (long)g_bs->too_heavy, (long)g_bs->capacity,
              (long)g_bs->watched, (long)g_bs->bad_status, (long)g_bs->over_bound,
              (long)g_bs->over_weight, ledger);
      CHECK(g_bs->nomem > 0 && (g_bs->capacity > 0 || shape == 2)); /* TTLs: slow runs */
      CHECK(g_bs->bad_status == 0);
      CHECK(g_bs->over_bound == 0 && g_bs->over_weight == 0);
      CHECK(ledger == 0);
      CHECK(g_bs->pa.live == 0 && g_bs->pa.live_bytes == 0);
      free(g_bs);
    }
  alarm(0);
}

/* ==== 7. Live reshards with a failing allocator, under threads (G1, G8, G15) =========== */

/* Two writers, each with an exact model of its own keys (24 bytes: a key block each, in a
 * map of variable keys), while a third thread reshards to random counts and walks the
 * map with foreach, and the allocator fails pct% of calls: a write returns a documented
 * status and, when it fails, leaves its key as it was; remove fails only for memory
 * during a reshard; foreach never visits a key twice; at the end, with memory back and
 * the reshard finished, the map is the models, and ledger and allocator balance. */
typedef struct swriter {
  uint64_t key0, model[512];
} swriter;
typedef struct sstate {
  tsmap *m;
  pct_alloc pa;
  _Atomic unsigned char in[RV], out[RV];
  _Atomic uint64_t next_id;
  _Atomic int done;
  _Atomic long bad, changed_by_failure, twice, nomem, reshards, walks;
} sstate;
static sstate *g_ss;
static void s_created(const void *k, size_t kl, const void *v, void *ctx) {
  (void)k, (void)kl, (void)ctx;
  uint64_t x = x_val(v);
  if (x < RV)
    g_ss->in[x]++;
}
static void s_evicted(const void *k, size_t kl, void *v, tsmap_evict_reason why, void *ctx) {
  (void)k, (void)kl, (void)ctx;
  uint64_t x = x_val(v);
  if (why != TSMAP_EVICT_DISCARDED && x < RV)
    g_ss->out[x]++;
}
static void s_key(uint64_t k, uint64_t kb[3]) {
  kb[0] = k;
  kb[1] = k * 0x9e3779b97f4a7c15ull;
  kb[2] = ~k;
}
static void *s_writer(void *arg) {
  swriter *w = (swriter *)arg;
  uint64_t rs = w->key0 + 11;
  long iters = 80000 / SCALE;
  for (long it = 0; it < iters; it++) {
    uint64_t r = rng_next(&rs), i = r % 512, kb[3], out = 0, v = 0;
    s_key(w->key0 + i, kb);
    uint64_t id = atomic_fetch_add(&g_ss->next_id, 1);
    if (id >= RV)
      break;
    tsmap_status st;
    int ok;
    switch ((r >> 12) % 4) {
    case 0:
    case 1:
      st = tsmap_put(g_ss->m, kb, 24, &id, (r & 1) ? &out : NULL);
      ok = st == TSMAP_OK || st == TSMAP_REPLACED || st == TSMAP_NO_MEMORY;
      if (st == TSMAP_REPLACED && (r & 1))
        g_ss->out[out]++;
      if (st == TSMAP_OK || st == TSMAP_REPLACED)
        w->model[i] = id;
      break;
    case 2:
      st = tsmap_remove(g_ss->m, kb, 24, (r & 1) ? &out : NULL);
      ok = st == TSMAP_OK || st == TSMAP_NOT_FOUND || st == TSMAP_NO_MEMORY;
      if (st == TSMAP_OK && (r & 1))
        g_ss->out[out]++;
      if (st == TSMAP_OK)
        w->model[i] = 0;
      break;
    default:
      st = tsmap_compute(g_ss->m, kb, 24, r_store, &id, &out);
      ok = st == TSMAP_OK || st == TSMAP_NO_MEMORY;
      if (st == TSMAP_OK)
        w->model[i] = id;
      break;
    }
    if (!ok && g_ss->bad++ < 5)
      fprintf(stderr, "  undocumented status %s\n", tsmap_status_name(st));
    g_ss->nomem += st == TSMAP_NO_MEMORY;
    st = tsmap_get(g_ss->m, kb, 24, &v);
    if (st == TSMAP_NOT_FOUND ? w->model[i] != 0 : st != TSMAP_OK || v != w->model[i])
      g_ss->changed_by_failure++;
  }
  return NULL;
}
typedef struct swalk {
  unsigned char seen[1024];
} swalk;
static int s_visit(const void *k, size_t kl, const void *v, void *ctx) {
  (void)v;
  uint64_t key;
  memcpy(&key, k, 8);
  swalk *w = (swalk *)ctx;
  if (kl != 24 || key >= 1024 || w->seen[key]++)
    g_ss->twice++;
  return 0;
}
static void *s_side(void *arg) {
  (void)arg;
  uint64_t rs = 99;
  static swalk walk;
  /* until the writers are done and at least one reshard went through: with 15% of the
   * allocations failing, the writers could finish before any did (a CI run saw 0) */
  unsigned extra = 0;
  while (!atomic_load(&g_ss->done) || (g_ss->reshards == 0 && extra++ < 100000)) {
    tsmap_status st = tsmap_reshard(g_ss->m, (size_t)1 << (rng_next(&rs) % 6));
    if (st != TSMAP_OK && st != TSMAP_NO_MEMORY)
      g_ss->bad++;
    g_ss->reshards += st == TSMAP_OK;
    memset(&walk, 0, sizeof walk);
    st = tsmap_foreach(g_ss->m, s_visit, &walk);
    if (st != TSMAP_OK && st != TSMAP_NO_MEMORY)
      g_ss->bad++;
    g_ss->walks += st == TSMAP_OK;
    st = tsmap_maintain(g_ss->m, (rng_next(&rs) & 1) ? SIZE_MAX : 512);
    if (st != TSMAP_OK)
      g_ss->bad++;
  }
  return NULL;
}
static void test_bb_reshards_with_a_failing_allocator_under_threads(void) {
  tsmap_test_watchdog("test_bb_reshards_with_a_failing_allocator_under_threads", 280);
  static const unsigned pcts[] = {2, 15, 35};
  for (size_t pi = 0; pi < sizeof pcts / sizeof pcts[0]; pi++) {
    g_ss = (sstate *)calloc(1, sizeof *g_ss);
    if (!g_ss)
      return;
    atomic_store(&g_ss->next_id, 1);
    atomic_store(&g_ss->pa.seed, 4242 + pi);
    static tsmap_allocator al;
    al = (tsmap_allocator){pa_alloc, pa_free, &g_ss->pa};
    tsmap_config c;
    tsmap_config_init(&c, 8);
    c.key_size = 0;
    c.shard_count = 2;
    c.max_shard_count = 32;
    c.allocator = &al;
    c.on_entry_created = s_created;
    c.on_entry_evicted = s_evicted;
    CHECK_ST(tsmap_create(&c, &g_ss->m), TSMAP_OK);
    if (!g_ss->m)
      return;
    atomic_store(&g_ss->pa.pct, pcts[pi]);
    static swriter w[2];
    memset(w, 0, sizeof w);
    w[0].key0 = 0;
    w[1].key0 = 512;
    pthread_t tw[2], ts;
    pthread_create(&ts, NULL, s_side, NULL);
    for (int i = 0; i < 2; i++)
      pthread_create(&tw[i], NULL, s_writer, &w[i]);
    for (int i = 0; i < 2; i++)
      pthread_join(tw[i], NULL);
    atomic_store(&g_ss->done, 1);
    pthread_join(ts, NULL);
    atomic_store(&g_ss->pa.pct, 0);
    tsmap_test_finish_reshard(g_ss->m);
    long differ = 0;
    for (int i = 0; i < 2; i++)
      for (uint64_t j = 0; j < 512; j++) {
        uint64_t kb[3], v = 0;
        s_key(w[i].key0 + j, kb);
        tsmap_status st = tsmap_get(g_ss->m, kb, 24, &v);
        differ += st == TSMAP_NOT_FOUND ? w[i].model[j] != 0 : st != TSMAP_OK || v != w[i].model[j];
      }
    CHECK_ST(tsmap_destroy(g_ss->m), TSMAP_OK);
    long ledger = 0;
    uint64_t n = atomic_load(&g_ss->next_id);
    for (uint64_t x = 1; x < n && x < RV; x++)
      ledger += g_ss->in[x] > 1 || g_ss->in[x] != g_ss->out[x];
    fprintf(stderr,
            "  %u%%: %ld writes without memory, %ld reshards, %ld whole walks; %ld bad "
            "statuses, %ld changed by a failure, %ld visited twice, %ld differ, %ld ledger "
            "errors\n",
            pcts[pi], (long)g_ss->nomem, (long)g_ss->reshards, (long)g_ss->walks,
            (long)g_ss->bad, (long)g_ss->changed_by_failure, (long)g_ss->twice, differ, ledger);
    CHECK(g_ss->nomem > 0 && g_ss->reshards > 0);
    CHECK(g_ss->bad == 0 && g_ss->changed_by_failure == 0 && g_ss->twice == 0);
    CHECK(differ == 0 && ledger == 0);
    CHECK(g_ss->pa.live == 0 && g_ss->pa.live_bytes == 0);
    free(g_ss);
  }
  alarm(0);
}

/* ==== 8. The weight bound through the versioned and replicated writes (G11 (e), G12, G13) */

/* A weighted map of pointers (a value weighs itself: the pointer's integer) with versions,
 * or replicas: put_if_version, compute_if_version and tsmap_merge (a dominating change; a
 * concurrent one resolved by STORE, and by KEEP) store values, inserts and overwrites,
 * heavier and lighter than what they replace. The weights in the map must sum to at most
 * max_weight after every call (each shard at most its share), a value heavier than the
 * share is refused with TSMAP_TOO_HEAVY and changes nothing (a callback's or resolver's
 * result hooked DISCARDED), and every value that entered leaves once. */
static uint64_t wv_weight(const void *k, size_t kl, const void *v, void *ctx) {
  (void)k, (void)kl, (void)ctx;
  return (uint64_t)(uintptr_t) * (void *const *)v;
}
static int wv_sum(const void *k, size_t kl, const void *v, void *ctx) {
  *(uint64_t *)ctx += wv_weight(k, kl, v, NULL);
  return 0;
}
typedef struct wv_tally {
  long created, left, discarded;
} wv_tally;
static void wv_created(const void *k, size_t kl, const void *v, void *ctx) {
  (void)k, (void)kl, (void)v;
  ((wv_tally *)ctx)->created++;
}
static void wv_evicted(const void *k, size_t kl, void *v, tsmap_evict_reason why, void *ctx) {
  (void)k, (void)kl, (void)v;
  if (why == TSMAP_EVICT_DISCARDED)
    ((wv_tally *)ctx)->discarded++;
  else
    ((wv_tally *)ctx)->left++;
}
static tsmap_verdict wv_store(const void *k, size_t kl, const void *old, void *ctx, void *nv) {
  (void)k, (void)kl, (void)old;
  memcpy(nv, ctx, 8);
  return TSMAP_STORE;
}
static tsmap_verdict wv_resolve(const void *k, size_t kl, const tsmap_change *local,
                                const tsmap_change *remote, void *ctx, void *merged) {
  (void)k, (void)kl, (void)local, (void)remote, (void)merged; /* merged: the remote value */
  return *(tsmap_verdict *)ctx;
}

static void test_bb_versioned_and_merged_stores_keep_the_weight_bound(void) {
  /* path 0 put_if_version, 1 compute_if_version, 2 merge (dominating), 3 merge (concurrent,
   * STORE), 4 merge (concurrent, KEEP) */
  for (int path = 0; path < 5; path++) {
    wv_tally t = {0, 0, 0};
    tsmap_config c;
    tsmap_config_init(&c, sizeof(void *));
    c.key_size = 8;
    c.shard_count = 2;
    c.weight = wv_weight;
    c.max_weight = 200; /* a share of 100 per shard */
    c.versions = 1;
    c.seed = 7;
    if (path >= 2) {
      c.replicas = 2;
      c.replica_id = 0;
    }
    c.on_entry_created = wv_created;
    c.on_entry_evicted = wv_evicted;
    c.hook_ctx = &t;
    tsmap *m = NULL;
    CHECK_ST(tsmap_create(&c, &m), TSMAP_OK);
    if (!m)
      return;
    long over = 0, heavy_ok = 0, heavy_refused = 0, resolver_refusals = 0;
    for (uint64_t i = 0; i < 300; i++) {
      uint64_t k = i % 40, v = i % 17 == 0 ? 150 : 1 + i % 13, ver = 0, out = 0;
      if (path >= 3) { /* a local write first: the merge's clocks are then concurrent */
        uint64_t lv = 1 + i % 7;
        CHECK(tsmap_put(m, &k, 8, &lv, NULL) <= TSMAP_REPLACED);
      }
      long disc = t.discarded;
      tsmap_status st;
      if (path == 0) {
        st = tsmap_put_if_version(m, &k, 8, &v, TSMAP_VERSION_ANY, &ver, NULL);
      } else if (path == 1) {
        st = tsmap_compute_if_version(m, &k, 8, TSMAP_VERSION_ANY, wv_store, &v, &ver, &out);
      } else {
        /* a dominating change: counters above any local one; a concurrent one: only the
         * other replica's counter, with a stamp that wins */
        uint64_t clock[2] = {path == 2 ? 1000 + i : 0, 2000 + i}; /* the stamp's write */
        tsmap_change ch = {&k, 8, &v, clock, 2, ((2000 + i) << 8) | 1, 0};
        tsmap_verdict verdict = path == 4 ? TSMAP_KEEP : TSMAP_STORE;
        st = tsmap_merge(m, &ch, wv_resolve, &verdict, NULL);
      }
      int heavy = v > 100;
      if (heavy && path != 4) {
        heavy_refused += st == TSMAP_TOO_HEAVY;
        heavy_ok += st != TSMAP_TOO_HEAVY;
        /* a callback's result is hooked DISCARDED; a resolver's STORE of the remote
         * value as is (wv_resolve) is not: it is remote->value, which stays the caller's */
        if (path == 1)
          CHECK(st != TSMAP_TOO_HEAVY || t.discarded == disc + 1);
        if (path == 3 && st == TSMAP_TOO_HEAVY) {
          CHECK(t.discarded == disc);
          resolver_refusals++;
        }
      } else if (heavy) { /* KEEP: the local value stays, unless it was not admitted */
        CHECK(st == TSMAP_OK || st == TSMAP_REPLACED || st == TSMAP_TOO_HEAVY ||
              (path == 4 && st == TSMAP_EXISTS));
      } else { /* EXISTS: the local write was not admitted and the key's capacity
                * tombstone, local, only joins a concurrent clock (round 8) */
        CHECK(st == TSMAP_OK || st == TSMAP_REPLACED || (path >= 3 && st == TSMAP_EXISTS));
      }
      uint64_t w = 0;
      CHECK_ST(tsmap_foreach(m, wv_sum, &w), TSMAP_OK);
      over += w > c.max_weight;
    }
    CHECK_ST(tsmap_destroy(m), TSMAP_OK);
    fprintf(stderr, "  path %d: %ld times over max_weight; heavy values %ld refused, %ld taken\n",
            path, over, heavy_refused, heavy_ok);
    CHECK(over == 0);
    CHECK(heavy_ok == 0);
    CHECK(path != 3 || resolver_refusals > 0);
    CHECK(t.created == t.left);
  }
}

/* The same bound under threads: two weighted replicas (weights 1..9, some above the
 * share), a writer on each (put_if_version, compute_if_version, put, remove), an
 * exchanger merging both ways with concurrent clocks resolved by tsmap_resolve_latest, and
 * allocators failing 5% of calls; a watcher sums each replica's weights. The sums never
 * exceed max_weight, statuses are the documented ones, ledgers and allocators balance. */
typedef struct wr_tally {
  _Atomic long created, left;
} wr_tally;
typedef struct wrstate {
  tsmap *m[2];
  pct_alloc pa[2];
  wr_tally t[2];
  _Atomic int done;
  _Atomic long over, bad, merges;
} wrstate;
static wrstate *g_wr;
static void wr_created(const void *k, size_t kl, const void *v, void *ctx) {
  (void)k, (void)kl, (void)v;
  ((wr_tally *)ctx)->created++;
}
static void wr_evicted(const void *k, size_t kl, void *v, tsmap_evict_reason why, void *ctx) {
  (void)k, (void)kl, (void)v;
  if (why != TSMAP_EVICT_DISCARDED)
    ((wr_tally *)ctx)->left++;
}
static void *wr_writer(void *arg) {
  int r = (int)(uintptr_t)arg;
  tsmap *m = g_wr->m[r];
  uint64_t rs = 1234 + (uint64_t)r;
  /* at least 40,000 writes, and until the exchanger merged 20,000 changes (bounded) */
  for (long it = 0; it < 400000 && (it < 40000 / SCALE || g_wr->merges < 20000 / SCALE);
       it++) {
    uint64_t x = rng_next(&rs), k = x % 300, v = x % 61 == 0 ? 150 : 1 + (x >> 8) % 9, ver;
    tsmap_status st;
    switch ((x >> 20) % 4) {
    case 0:
      st = tsmap_put_if_version(m, &k, 8, &v, TSMAP_VERSION_ANY, &ver, NULL);
      if (st != TSMAP_OK && st != TSMAP_REPLACED && st != TSMAP_NO_MEMORY && st != TSMAP_TOO_HEAVY)
        g_wr->bad++;
      break;
    case 1:
      st = tsmap_compute_if_version(m, &k, 8, TSMAP_VERSION_ANY, wv_store, &v, &ver, NULL);
      if (st != TSMAP_OK && st != TSMAP_NO_MEMORY && st != TSMAP_TOO_HEAVY)
        g_wr->bad++;
      break;
    case 2:
      st = tsmap_put(m, &k, 8, &v, NULL);
      if (st != TSMAP_OK && st != TSMAP_REPLACED && st != TSMAP_NO_MEMORY && st != TSMAP_TOO_HEAVY)
        g_wr->bad++;
      break;
    default:
      st = tsmap_remove(m, &k, 8, NULL);
      if (st != TSMAP_OK && st != TSMAP_NOT_FOUND && st != TSMAP_NO_MEMORY)
        g_wr->bad++;
      break;
    }
  }
  return NULL;
}
typedef struct wrx {
  tsmap *to;
} wrx;
static int wr_merge(const tsmap_change *c, void *ctx) {
  tsmap_status st = tsmap_merge(((wrx *)ctx)->to, c, NULL, NULL, NULL);
  g_wr->merges++;
  if (st != TSMAP_OK && st != TSMAP_REPLACED && st != TSMAP_EXISTS && st != TSMAP_NO_MEMORY &&
      st != TSMAP_TOO_HEAVY)
    g_wr->bad++;
  return 0;
}
static void *wr_side(void *arg) {
  (void)arg;
  uint64_t cur[2] = {0, 0};
  while (!atomic_load(&g_wr->done)) {
    for (int r = 0; r < 2; r++) {
      wrx x = {g_wr->m[1 - r]};
      uint64_t next = 0;
      if (tsmap_export(g_wr->m[r], cur[r], wr_merge, &x, &next) == TSMAP_OK)
        cur[r] = next;
      uint64_t w = 0;
      if (tsmap_foreach(g_wr->m[r], wv_sum, &w) == TSMAP_OK && w > 200)
        g_wr->over++;
    }
  }
  return NULL;
}
static void test_bb_weighted_replicas_under_threads_keep_the_bound(void) {
  tsmap_test_watchdog("test_bb_weighted_replicas_under_threads_keep_the_bound", 200);
  g_wr = (wrstate *)calloc(1, sizeof *g_wr);
  if (!g_wr)
    return;
  static tsmap_allocator al[2];
  for (int r = 0; r < 2; r++) {
    al[r] = (tsmap_allocator){pa_alloc, pa_free, &g_wr->pa[r]};
    tsmap_config c;
    tsmap_config_init(&c, sizeof(void *));
    c.key_size = 8;
    c.shard_count = 2;
    c.weight = wv_weight;
    c.max_weight = 200;
    c.replicas = 2;
    c.replica_id = (size_t)r;
    c.allocator = &al[r];
    c.on_entry_created = wr_created;
    c.on_entry_evicted = wr_evicted;
    c.hook_ctx = &g_wr->t[r];
    CHECK_ST(tsmap_create(&c, &g_wr->m[r]), TSMAP_OK);
    if (!g_wr->m[r])
      return;
    atomic_store(&g_wr->pa[r].pct, 5);
  }
  pthread_t w[2], side;
  pthread_create(&side, NULL, wr_side, NULL);
  for (uintptr_t r = 0; r < 2; r++)
    pthread_create(&w[r], NULL, wr_writer, (void *)r);
  for (int r = 0; r < 2; r++)
    pthread_join(w[r], NULL);
  atomic_store(&g_wr->done, 1);
  pthread_join(side, NULL);
  for (int r = 0; r < 2; r++) {
    uint64_t wsum = 0;
    atomic_store(&g_wr->pa[r].pct, 0);
    CHECK_ST(tsmap_foreach(g_wr->m[r], wv_sum, &wsum), TSMAP_OK);
    CHECK(wsum <= 200);
    CHECK_ST(tsmap_destroy(g_wr->m[r]), TSMAP_OK);
    CHECK(g_wr->t[r].created == g_wr->t[r].left);
    CHECK(g_wr->pa[r].live == 0);
  }
  fprintf(stderr, "  %ld merges; %ld looks over max_weight, %ld bad statuses\n",
          (long)g_wr->merges, (long)g_wr->over, (long)g_wr->bad);
  CHECK(g_wr->over == 0 && g_wr->bad == 0 && g_wr->merges > 0);
  free(g_wr);
  alarm(0);
}

/* Random operations of every store path (put, put_if_absent, remove, the computes, the
 * *_if_version calls, merges of values and tombstones) on weighted maps of 1, 2 and 4
 * shards, with and without versions, replicas, a count bound and expiry, 200 seeds: the
 * summed weight after each call is at most max_weight; emptied by removes, a one-shard
 * map takes exactly its share of weight-1 values again (its total did not drift); the
 * ledger balances. On main (before the weight fix) 100 seeds went over the bound. */
static tsmap_verdict wr_cv(const void *k, size_t kl, const void *old, void *ctx, void *nv) {
  (void)k, (void)kl;
  const uint64_t *a = (const uint64_t *)ctx;
  if (a[0] == TSMAP_DELETE && !old)
    return TSMAP_KEEP;
  memcpy(nv, &a[1], 8);
  return (tsmap_verdict)a[0];
}
static void test_bb_weighted_random_operations_keep_the_bound(void) {
  long over = 0, drift = 0, ledger = 0;
  for (int seed = 1; seed <= 200 / SCALE; seed++) {
    uint64_t rs = (uint64_t)seed * 1000003;
    wv_tally t = {0, 0, 0};
    tsmap_config c;
    tsmap_config_init(&c, sizeof(void *));
    c.key_size = 8;
    c.shard_count = (size_t)1 << (seed % 3);
    c.weight = wv_weight;
    c.max_weight = 64 * c.shard_count;
    c.versions = seed % 2;
    if (seed % 4 == 3) {
      c.replicas = 2;
      c.replica_id = 0;
    }
    c.max_entries = seed % 5 == 0 ? 8 * c.shard_count : 0;
    c.expiry = seed % 7 == 0;
    c.seed = (uint64_t)seed;
    c.on_entry_created = wv_created;
    c.on_entry_evicted = wv_evicted;
    c.hook_ctx = &t;
    tsmap *m = NULL;
    CHECK_ST(tsmap_create(&c, &m), TSMAP_OK);
    if (!m)
      return;
    int versioned = c.versions || c.replicas;
    for (int i = 0; i < 3000; i++) {
      uint64_t x = rng_next(&rs), k = x % 40, v = 1 + (x >> 8) % 20, ver, out;
      if ((x >> 16) % 23 == 0)
        v = 70; /* above the share */
      uint64_t a[2] = {(x >> 24) % 3, v};
      switch ((int)((x >> 32) % (versioned ? 9 : 5))) {
      case 0: tsmap_put(m, &k, 8, &v, NULL); break;
      case 1: tsmap_remove(m, &k, 8, NULL); break;
      case 2: tsmap_compute(m, &k, 8, wr_cv, a, &out); break;
      case 3: tsmap_compute_if_present(m, &k, 8, wr_cv, a, &out); break;
      case 4: tsmap_put_if_absent(m, &k, 8, &v, NULL); break;
      case 5: tsmap_put_if_version(m, &k, 8, &v, TSMAP_VERSION_ANY, &ver, NULL); break;
      case 6: tsmap_compute_if_version(m, &k, 8, TSMAP_VERSION_ANY, wr_cv, a, &ver, &out); break;
      case 7: tsmap_remove_if_version(m, &k, 8, TSMAP_VERSION_ANY, &ver, NULL); break;
      default:
        if (c.replicas) {
          uint64_t clk[2] = {(x >> 40) % 50, 1 + (uint64_t)i};
          tsmap_change ch = {&k, 8, (x & 1) ? NULL : &v, clk, 2, ((uint64_t)(i + 1) << 8) | 1, 0};
          tsmap_merge(m, &ch, NULL, NULL, NULL);
        } else {
          tsmap_put_if_version(m, &k, 8, &v, TSMAP_VERSION_ABSENT, &ver, NULL);
        }
      }
      uint64_t w = 0;
      CHECK_ST(tsmap_foreach(m, wv_sum, &w), TSMAP_OK);
      if (w > c.max_weight) {
        if (over++ < 5)
          fprintf(stderr, "  seed %d step %d: weight %llu over %llu\n", seed, i,
                  (unsigned long long)w, (unsigned long long)c.max_weight);
        break;
      }
    }
    if (c.shard_count == 1 && !c.max_entries) { /* the share again, then one more */
      for (uint64_t k = 0; k < 40; k++)
        tsmap_remove(m, &k, 8, NULL);
      long left0 = t.left;
      uint64_t one = 1;
      for (uint64_t k = 1000; k < 1064; k++)
        CHECK_ST(tsmap_put(m, &k, 8, &one, NULL), TSMAP_OK);
      drift += t.left != left0;
      uint64_t k = 5000;
      CHECK_ST(tsmap_put(m, &k, 8, &one, NULL), TSMAP_OK);
      drift += t.left != left0 + 1; /* exactly one goes: the bound is met */
    }
    CHECK_ST(tsmap_destroy(m), TSMAP_OK);
    ledger += t.created != t.left;
  }
  fprintf(stderr, "  %ld maps over max_weight, %ld drifted totals, %ld unbalanced ledgers\n",
          over, drift, ledger);
  CHECK(over == 0 && drift == 0 && ledger == 0);
}

/* ==== Round 8: bounded, expiring replicas under threads ================================== */

/* Three replicas bounded to 64 entries (4 shards) with expiry on a stepped clock (TTL 50
 * or never), two writers each (put_ttl, remove, a compute that deletes every 7th, get,
 * maintain with clock steps, now and then a forget), and an exchanger merging every
 * replica's export into the others through encode and decode, all at once: capacity
 * evictions and admission refusals leave local tombstones (round 8) that merges meet
 * concurrently. Every status is a documented one, no replica ever holds more than 64
 * entries, every value that entered leaves once (DISCARDED apart), and a final exchange
 * reaches a fixed point. */
#define B8_REPLICAS 3
typedef struct b8_state {
  tsmap *m[B8_REPLICAS];
  uint64_t since[B8_REPLICAS][B8_REPLICAS];
  _Atomic int stop;
  _Atomic long in, out, merges, bad;
} b8_state;
static b8_state *g_b8;

static void b8_created(const void *k, size_t kl, const void *v, void *ctx) {
  (void)k, (void)kl, (void)v, (void)ctx;
  g_b8->in++;
}
static void b8_evicted(const void *k, size_t kl, void *v, tsmap_evict_reason why, void *ctx) {
  (void)k, (void)kl, (void)v, (void)ctx;
  if (why != TSMAP_EVICT_DISCARDED)
    g_b8->out++;
}
static tsmap_verdict b8_count(const void *key, size_t kl, const void *old, void *ctx,
                              void *out) {
  (void)key, (void)kl, (void)ctx;
  uint64_t n = (old ? *(const uint64_t *)old : 0) + 1;
  memcpy(out, &n, 8);
  return n % 7 == 0 ? TSMAP_DELETE : TSMAP_STORE;
}

static int b8_forward(const tsmap_change *c, void *ctx) {
  tsmap *to = ctx;
  unsigned char buf[256];
  uint64_t cb[TSMAP_MAX_REPLICAS];
  size_t len = 0, used = 0;
  tsmap_change d;
  if (tsmap_change_encode(c, 8, buf, sizeof buf, &len) != TSMAP_OK ||
      tsmap_change_decode(buf, len, 8, &d, cb, &used) != TSMAP_OK || used != len) {
    g_b8->bad++;
    return 0;
  }
  tsmap_status st = tsmap_merge(to, &d, NULL, NULL, NULL);
  g_b8->bad += st != TSMAP_OK && st != TSMAP_REPLACED && st != TSMAP_EXISTS;
  g_b8->merges++;
  return 0;
}

static long b8_exchange(void) {
  long before = g_b8->merges;
  for (int f = 0; f < B8_REPLICAS; f++)
    for (int t = 0; t < B8_REPLICAS; t++) {
      uint64_t next = 0;
      if (f == t)
        continue;
      if (tsmap_export(g_b8->m[f], g_b8->since[f][t], b8_forward, g_b8->m[t], &next) != TSMAP_OK)
        g_b8->bad++;
      else
        g_b8->since[f][t] = next;
    }
  return g_b8->merges - before;
}

static void *b8_exchanger(void *arg) {
  (void)arg;
  while (!g_b8->stop)
    b8_exchange();
  return NULL;
}

static void *b8_writer(void *arg) {
  uintptr_t r = (uintptr_t)arg;
  tsmap *m = g_b8->m[r % B8_REPLICAS];
  uint64_t s = 0x9e3779b97f4a7c15ull * (r + 1);
  while (!g_b8->stop) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    uint64_t k = (s >> 33) % 512, v = (s >> 17) & 0xffff;
    size_t n = 0, forgotten = 0;
    tsmap_status st;
    switch ((s >> 50) % 6) {
    case 0:
    case 1: st = tsmap_put_ttl(m, &k, 8, &v, (s & 1) ? 50 : TSMAP_TTL_NEVER, NULL); break;
    case 2: st = tsmap_remove(m, &k, 8, NULL); break;
    case 3: st = tsmap_compute(m, &k, 8, b8_count, NULL, NULL); break;
    case 4: st = tsmap_get(m, &k, 8, NULL); break;
    default: {
      uint64_t horizon[B8_REPLICAS] = {s % 4096, (s >> 12) % 4096, (s >> 24) % 4096};
      atomic_fetch_add(&g_now, 7);
      st = tsmap_maintain(m, 64);
      if (st == TSMAP_OK && (s & 7) == 0)
        st = tsmap_forget(m, horizon, B8_REPLICAS, &forgotten);
    }
    }
    g_b8->bad += st == TSMAP_INVALID_ARGUMENT || st == TSMAP_NO_MEMORY || st == TSMAP_CLOSED;
    g_b8->bad += tsmap_size(m, &n) != TSMAP_OK || n > 64;
  }
  return NULL;
}

static void test_bb_bounded_expiring_replicas_under_threads(void) {
  tsmap_test_watchdog(__func__, 120);
  for (int seed = 1; seed <= 2; seed++) {
    b8_state *b = calloc(1, sizeof *b);
    g_b8 = b;
    for (size_t r = 0; r < B8_REPLICAS; r++) {
      tsmap_config cfg;
      tsmap_config_init(&cfg, 8);
      cfg.key_size = 8;
      cfg.shard_count = 4;
      cfg.max_entries = 64;
      cfg.replicas = B8_REPLICAS;
      cfg.replica_id = r;
      cfg.expiry = 1;
      cfg.clock = step_clock;
      cfg.seed = (uint64_t)seed * 10 + r;
      cfg.on_entry_created = b8_created;
      cfg.on_entry_evicted = b8_evicted;
      CHECK_ST(tsmap_create(&cfg, &b->m[r]), TSMAP_OK);
    }
    pthread_t th[2 * B8_REPLICAS + 1];
    for (uintptr_t i = 0; i < 2 * B8_REPLICAS; i++)
      pthread_create(&th[i], NULL, b8_writer, (void *)(i + (uintptr_t)seed * 100));
    pthread_create(&th[2 * B8_REPLICAS], NULL, b8_exchanger, NULL);
    usleep(400000 / SCALE);
    b->stop = 1;
    for (int i = 0; i <= 2 * B8_REPLICAS; i++)
      pthread_join(th[i], NULL);
    int rounds = 0;
    while (b8_exchange() && rounds < 50)
      rounds++;
    for (int r = 0; r < B8_REPLICAS; r++)
      tsmap_destroy(b->m[r]);
    fprintf(stderr, "  seed %d: %ld merges, fixed point after %d exchanges, %ld values in, %ld out, %ld bad\n",
            seed, (long)b->merges, rounds + 1, (long)b->in, (long)b->out, (long)b->bad);
    CHECK(b->bad == 0 && b->in == b->out && rounds < 50 && b->merges > 0);
    free(b);
  }
  alarm(0);
}

TEST_MAIN(T(test_bb_null_and_invalid_arguments_are_statuses),
          T(test_bb_remove_of_an_expired_key_without_memory_is_not_found),
          T(test_bb_computes_on_an_expired_key_without_memory),
          T(test_bb_foreach_finishing_a_reshard_without_memory_returns),
          T(test_bb_foreach_with_a_squeezed_shard_and_no_memory_returns),
          T(test_bb_expiry_under_writers_and_reshards),
          T(test_bb_expiry_with_close_racing_reclaims_and_reshards),
          T(test_bb_replicas_with_a_failing_allocator_under_threads),
          T(test_bb_bounded_and_weighted_maps_with_a_failing_allocator),
          T(test_bb_reshards_with_a_failing_allocator_under_threads),
          T(test_bb_versioned_and_merged_stores_keep_the_weight_bound),
          T(test_bb_weighted_replicas_under_threads_keep_the_bound),
          T(test_bb_weighted_random_operations_keep_the_bound),
          T(test_bb_bounded_expiring_replicas_under_threads))
