/*
 * test_meta8.c - the 8-byte paths of maps with one meta word (runtime/DESIGN.md G10-G12
 * "Cost"): the put of a map with 8-byte keys and values and a deadline or a frequency
 * (map.c, put_meta: tsmap_store8meta), and those of a versioned map, whose version word is
 * outside the slot (versions.h, V5): the plain 8/8 get and the put that stores value and
 * version under the group's seq (put_ver8: tsmap_put8ver). Each test drives the fast
 * path from a registered thread (the first call of a thread takes the generic path) and
 * checks what the generic path would give: statuses, old values, hooks, deadlines, the
 * bound, versions, and a reader that never sees a value with another value's version.
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>

#include "tsmap_test.h"

static _Atomic uint64_t g_now;
static uint64_t test_clock(void *ctx) {
  (void)ctx;
  return atomic_load(&g_now);
}

/* A map with 8-byte keys and values and one meta word: `kind` 'v' versions, 't' a
 * default TTL of 100 ns on the test clock (now = 100), 'b' max_entries `bound`. */
static tsmap *meta_map(char kind, size_t bound, size_t value_size) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, value_size);
  cfg.key_size = 8;
  cfg.shard_count = 4;
  cfg.initial_capacity = 16; /* growths move slots of three words */
  cfg.versions = kind == 'v';
  if (kind == 't') {
    atomic_store(&g_now, 100);
    cfg.default_ttl_ns = 100;
    cfg.clock = test_clock;
  }
  cfg.max_entries = kind == 'b' ? bound : 0;
  tsmap_test_count_hooks(&cfg);
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  memset(&tsmap_test_hooks, 0, sizeof tsmap_test_hooks);
  return m;
}

static tsmap_status put(tsmap *m, uint64_t k, uint64_t v, uint64_t *old) {
  return tsmap_put(m, &k, 8, &v, old);
}

static uint64_t version(tsmap *m, uint64_t k, uint64_t *v) {
  uint64_t ver = 12345;
  tsmap_status st = tsmap_get_version(m, &k, 8, v, &ver);
  return st == TSMAP_OK ? ver : st == TSMAP_NOT_FOUND ? 0 : ~(uint64_t)0;
}

/* Inserts, overwrites with and without the old value, put_if_absent on present keys,
 * across growths: every value and version as the generic path gives them. */
static void test_meta8_versioned_put_and_get(void) {
  enum { N = 5000 };
  static uint64_t ver[N];
  tsmap *m = meta_map('v', 0, 8);
  uint64_t v, old;
  for (uint64_t k = 0; k < N; k++)
    CHECK_ST(put(m, k, k * 3, NULL), TSMAP_OK);
  for (uint64_t k = 0; k < N; k++) {
    ver[k] = version(m, k, &v);
    /* versions come from per-shard counters (V1): they rise per key, not across keys */
    CHECK(v == k * 3 && ver[k] > 0 && ver[k] != ~(uint64_t)0);
    CHECK_ST(tsmap_get(m, &k, 8, &v), TSMAP_OK);
    CHECK(v == k * 3);
  }
  CHECK(tsmap_test_hooks.created == N);
  for (uint64_t k = 0; k < N; k++) { /* overwrites: half with old_out, half hooked */
    old = 0;
    CHECK_ST(put(m, k, k * 5, k % 2 ? &old : NULL), TSMAP_REPLACED);
    CHECK(k % 2 == 0 || old == k * 3);
    uint64_t now = version(m, k, &v);
    CHECK(v == k * 5 && now > ver[k] && now != ~(uint64_t)0);
    ver[k] = now;
  }
  CHECK(tsmap_test_hooks.evicted[TSMAP_EVICT_REPLACED] == N / 2);
  for (uint64_t k = 0; k < N; k += 7) { /* present: nothing changes, not even the version */
    uint64_t nv = 1, existing = 0;
    CHECK_ST(tsmap_put_if_absent(m, &k, 8, &nv, &existing), TSMAP_EXISTS);
    CHECK(existing == k * 5 && version(m, k, &v) == ver[k] && v == k * 5);
  }
  uint64_t k = N + 1, nv = 9;
  CHECK(version(m, k, &v) == 0);
  CHECK_ST(tsmap_put_if_absent(m, &k, 8, &nv, NULL), TSMAP_OK);
  CHECK(version(m, k, &v) > 0 && v == 9);
  CHECK_ST(tsmap_remove(m, &k, 8, NULL), TSMAP_OK);
  CHECK(version(m, k, &v) == 0);
  CHECK_ST(tsmap_get(m, &k, 8, &v), TSMAP_NOT_FOUND);
  tsmap_destroy(m);
}

/* An overwrite stores a new deadline (the default TTL from its time); a put on an expired
 * key is an insert (TSMAP_OK), the expired value hooked EXPIRED once. */
static void test_meta8_overwrite_refreshes_the_deadline(void) {
  tsmap *m = meta_map('t', 0, 8);
  uint64_t v, old = 0;
  for (uint64_t k = 0; k < 3; k++) /* registers the thread; key 1 is the one watched */
    CHECK_ST(put(m, k, k, NULL), TSMAP_OK);
  atomic_store(&g_now, 150);
  CHECK_ST(put(m, 1, 11, &old), TSMAP_REPLACED); /* deadline 250, not 200 */
  CHECK(old == 1);
  atomic_store(&g_now, 220);
  uint64_t k = 1;
  CHECK_ST(tsmap_get(m, &k, 8, &v), TSMAP_OK);
  CHECK(v == 11);
  uint64_t nv = 5, existing = 0;
  CHECK_ST(tsmap_put_if_absent(m, &k, 8, &nv, &existing), TSMAP_EXISTS);
  CHECK(existing == 11);
  atomic_store(&g_now, 250);
  CHECK_ST(tsmap_get(m, &k, 8, &v), TSMAP_NOT_FOUND);
  CHECK_ST(put(m, 1, 12, &old), TSMAP_OK); /* an insert: the old value is gone */
  CHECK(tsmap_test_hooks.evicted[TSMAP_EVICT_EXPIRED] >= 1 &&
        tsmap_test_hooks.evicted[TSMAP_EVICT_EXPIRED] <= 3);
  CHECK(tsmap_test_hooks.evicted[TSMAP_EVICT_REPLACED] == 0);
  CHECK_ST(tsmap_get(m, &k, 8, &v), TSMAP_OK);
  CHECK(v == 12);
  atomic_store(&g_now, 349);
  CHECK_ST(tsmap_get(m, &k, 8, &v), TSMAP_OK);
  atomic_store(&g_now, 350);
  CHECK_ST(tsmap_get(m, &k, 8, &v), TSMAP_NOT_FOUND);
  tsmap_destroy(m);
  CHECK(tsmap_test_hooks.created == 5);
  CHECK(tsmap_test_hooks.evicted[TSMAP_EVICT_EXPIRED] == 4); /* 0, 2, then 11 and 12 */
  CHECK(tsmap_test_hooks.evicted[TSMAP_EVICT_CLOSED] == 0);
}

static size_t size_of(tsmap *m) {
  size_t n = 0;
  CHECK_ST(tsmap_size(m, &n), TSMAP_OK);
  return n;
}

/* Puts on many expired keys: the write's sweep reaps one group, so most find their key
 * expired in place (tsmap_expiry_keep): each is an insert, the old value hooked EXPIRED. */
static void test_meta8_puts_on_expired_keys_insert(void) {
  enum { N = 2000 };
  tsmap *m = meta_map('t', 0, 8);
  for (uint64_t k = 0; k < N; k++)
    CHECK_ST(put(m, k, k, NULL), TSMAP_OK);
  atomic_store(&g_now, 200);
  for (uint64_t k = 0; k < N; k++) {
    uint64_t old = 77;
    CHECK_ST(put(m, k, k + N, &old), TSMAP_OK);
    CHECK(old == 77);
  }
  CHECK(tsmap_test_hooks.evicted[TSMAP_EVICT_EXPIRED] == N);
  CHECK(tsmap_test_hooks.evicted[TSMAP_EVICT_REPLACED] == 0);
  for (uint64_t k = 0; k < N; k++) {
    uint64_t v = 0;
    CHECK_ST(tsmap_get(m, &k, 8, &v), TSMAP_OK);
    CHECK(v == k + N);
  }
  tsmap_destroy(m);
}

/* The fast put of a bounded map evicts through make_room: the size never passes the
 * bound, and every value put is in the map or hooked out (evicted or not admitted). */
static void test_meta8_bound_holds_through_the_fast_put(void) {
  enum { BOUND = 64, N = 20000 };
  tsmap *m = meta_map('b', BOUND, 8);
  long ok = 0;
  for (uint64_t k = 0; k < N; k++) {
    tsmap_status st = put(m, k % 3 ? k : k / 3, k, NULL); /* a third are overwrites */
    CHECK(st == TSMAP_OK || st == TSMAP_REPLACED);
    ok += st == TSMAP_OK;
    CHECK(size_of(m) <= BOUND);
  }
  long out = tsmap_test_hooks.evicted[TSMAP_EVICT_CAPACITY] +
             tsmap_test_hooks.evicted[TSMAP_EVICT_REPLACED];
  CHECK(tsmap_test_hooks.created == N);
  CHECK((long)size_of(m) == N - out);
  CHECK(tsmap_test_hooks.evicted[TSMAP_EVICT_CAPACITY] > 0 && ok > BOUND);
  uint64_t k = N - 1, v = 0; /* the last put, an insert, was admitted or hooked */
  tsmap_status st = tsmap_get(m, &k, 8, &v);
  CHECK(st == TSMAP_NOT_FOUND || (st == TSMAP_OK && v == N - 1));
  tsmap_destroy(m);
}

/* Values under 8 bytes take the generic put, whose insert fills the slot with constant
 * sizes (value word zero-padded), and the one-meta-word get. */
static void test_meta8_short_values(void) {
  tsmap *m = meta_map('v', 0, 4);
  for (uint32_t i = 0; i < 3000; i++) {
    uint64_t k = i;
    uint32_t v = i * 7 + 1;
    CHECK_ST(tsmap_put(m, &k, 8, &v, NULL), TSMAP_OK);
  }
  for (uint32_t i = 0; i < 3000; i++) {
    uint64_t k = i, ver = 0;
    uint32_t v[2] = {0, 0xdeadbeef};
    CHECK_ST(tsmap_get_version(m, &k, 8, v, &ver), TSMAP_OK);
    CHECK(v[0] == i * 7 + 1 && v[1] == 0xdeadbeef && ver > 0);
  }
  tsmap_destroy(m);
}

/* One writer overwrites a key with 1, 2, ... (each put a new version, two words under the
 * group's seq) and records each value's version; two readers check that every (value,
 * version) they read is one the writer stored: never a value with another's version. */
#ifdef TSMAP_STRESS_SMALL
enum { TORN_N = 20000 };
#else
enum { TORN_N = 200000 };
#endif
static _Atomic uint64_t g_ver_of[TORN_N + 1];
static _Atomic int g_done, g_readers_in;
static tsmap *g_m;

static void *torn_writer(void *arg) {
  (void)arg;
  uint64_t k = 42, v;
  while (atomic_load(&g_readers_in) < 2)
    tsmap_test_pause(); /* done before any read, it would leave nothing checked */
  for (uint64_t i = 1; i <= TORN_N; i++) {
    put(g_m, k, i, NULL);
    uint64_t ver = version(g_m, k, &v); /* only this thread writes: its own version */
    atomic_store(&g_ver_of[i], ver);
  }
  atomic_store(&g_done, 1);
  return NULL;
}

typedef struct seen {
  size_t n, bad, backwards;
} seen;

static void *torn_reader(void *arg) {
  seen *s = (seen *)arg;
  uint64_t k = 42, last = 0;
  while (!atomic_load(&g_done)) {
    uint64_t v = 0, ver = version(g_m, k, &v), want;
    if (ver == 0 || ver == ~(uint64_t)0 || v > TORN_N) {
      s->bad++;
      continue;
    }
    s->backwards += v < last;
    last = v;
    while ((want = atomic_load(&g_ver_of[v])) == 0 && !atomic_load(&g_done))
      tsmap_test_pause(); /* the writer records it next */
    s->bad += want != ver;
    if (s->n++ == 0)
      atomic_fetch_add(&g_readers_in, 1); /* the writer starts once both have read */
  }
  return NULL;
}

static void test_meta8_readers_see_value_and_version_together(void) {
  static seen s[2];
  g_m = meta_map('v', 0, 8);
  atomic_store(&g_done, 0);
  atomic_store(&g_readers_in, 0);
  uint64_t k = 42, v;
  CHECK_ST(put(g_m, k, 0, NULL), TSMAP_OK);
  atomic_store(&g_ver_of[0], version(g_m, k, &v));
  pthread_t w, r[2];
  for (int i = 0; i < 2; i++)
    pthread_create(&r[i], NULL, torn_reader, &s[i]);
  pthread_create(&w, NULL, torn_writer, NULL);
  pthread_join(w, NULL);
  for (int i = 0; i < 2; i++)
    pthread_join(r[i], NULL);
  size_t bad = 0, looked = 0;
  for (int i = 0; i < 2; i++) {
    CHECK(s[i].backwards == 0);
    bad += s[i].bad;
    looked += s[i].n;
  }
  CHECK(bad == 0 && looked > 0);
  if (bad)
    fprintf(stderr, "  %zu of %zu reads paired a value with another version\n", bad, looked);
  tsmap_destroy(g_m);
}

void tsmap_debug_entries(const tsmap *m, const char **get8, const char **put8,
                         const char **put_if_absent8);

static uint64_t weight_one(const void *key, size_t key_len, const void *value, void *ctx) {
  (void)key, (void)key_len, (void)value, (void)ctx;
  return 1;
}

/* A map of 8-byte keys, `value_size` values and `kind`'s options (as meta_map, and 'm'
 * metrics, 'B' a bound and metrics, 'T' a bound and a TTL, 'w' a bound on weight), and
 * the names of the get, put and put_if_absent entries it was given at create (DESIGN.md
 * G2, "Entries"). */
static void entries_of(char kind, size_t value_size, const char *get, const char *put) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, value_size);
  cfg.key_size = 8;
  cfg.versions = kind == 'v';
  cfg.metrics = kind == 'm' || kind == 'B';
  cfg.max_entries = kind == 'b' || kind == 'B' || kind == 'T' ? 1000 : 0;
  cfg.default_ttl_ns = kind == 't' || kind == 'T' ? 1000000000 : 0;
  if (kind == 'w') {
    cfg.weight = weight_one;
    cfg.max_weight = 1000;
  }
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  const char *g = NULL, *p = NULL, *pia = NULL;
  tsmap_debug_entries(m, &g, &p, &pia);
  CHECK(strcmp(g, get) == 0 && strcmp(p, put) == 0 && strcmp(pia, put) == 0);
  if (strcmp(g, get) != 0 || strcmp(p, put) != 0 || strcmp(pia, put) != 0)
    fprintf(stderr, "  map '%c' %zu: get %s, put %s, put_if_absent %s; want %s, %s\n", kind,
            value_size, g, p, pia, get, put);
  /* the entry works: a put, a get and a put_if_absent of one key, from a thread that
   * made its first call already (the fast paths' precondition) */
  uint64_t k = 7, v[2] = {11, 12}, out[2] = {0, 0}; /* values of up to 16 bytes */
  CHECK_ST(tsmap_get(m, &k, 8, out), TSMAP_NOT_FOUND);
  CHECK_ST(tsmap_put(m, &k, 8, v, NULL), TSMAP_OK);
  CHECK_ST(tsmap_get(m, &k, 8, out), TSMAP_OK);
  CHECK(memcmp(out, v, value_size) == 0);
  CHECK_ST(tsmap_put_if_absent(m, &k, 8, out, NULL), TSMAP_EXISTS);
  tsmap_destroy(m);
}

/* Each kind of map with 8-byte keys gets its own entries at create; a kind that has no
 * 8-byte fast path says "other" (the generic call). Fails when a change to the flags or
 * to tsmap_entries_choose sends a variant to another's path or to the generic one. */
static void test_meta8_each_map_gets_its_own_entries(void) {
  entries_of('p', 8, "plain", "plain");
  entries_of('v', 8, "plain", "versioned"); /* V5: a versioned map's get is the plain one */
  entries_of('m', 8, "metered", "metered");
  entries_of('b', 8, "freq_side", "freq_side");
  entries_of('t', 8, "meta", "meta");
  entries_of('w', 8, "freq8", "other"); /* B6 weighs the value: the generic put */
  entries_of('b', 4, "meta", "other"); /* a bound, short values: the meta get only */
  entries_of('T', 8, "other", "other"); /* two meta words */
  entries_of('B', 8, "other", "other"); /* a metered bounded map: the generic calls */
  entries_of('p', 16, "other", "other"); /* fast8 with two value words: tsmap_get_other */
  entries_of('m', 4, "other", "other");
}

TEST_MAIN(T(test_meta8_each_map_gets_its_own_entries), T(test_meta8_versioned_put_and_get),
          T(test_meta8_overwrite_refreshes_the_deadline), T(test_meta8_puts_on_expired_keys_insert),
          T(test_meta8_bound_holds_through_the_fast_put), T(test_meta8_short_values),
          T(test_meta8_readers_see_value_and_version_together))
