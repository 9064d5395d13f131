/*
 * test_weight.c - a bound on weight (G11 (e), B6 in runtime/src/bound.h): the weights of
 * a map of pointers sum to at most max_weight at every moment, stores evict by the
 * bound's policy until the new value fits (an overwrite never evicts its own entry), a
 * value heavier than its shard's share is refused with TSMAP_TOO_HEAVY on every store
 * path and changes nothing, and under a two-thread storm of stores every value is
 * hooked in and out once while a watcher never sees the weight over the bound.
 */
#include "tsmap_test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#ifdef TSMAP_STRESS_SMALL
#define SCALE 8
#else
#define SCALE 1
#endif

/* A value is a pointer to an object whose first word is its weight. */
typedef struct obj {
  uint64_t weight;
  uint64_t id;
} obj;

static uint64_t obj_weight(const void *key, size_t key_len, const void *value, void *ctx) {
  (void)key, (void)key_len, (void)ctx;
  const obj *o = *(const obj *const *)value;
  return o->weight;
}

typedef struct counts {
  _Atomic long created, capacity, replaced, closed, discarded, other;
  _Atomic long weight_in; /* the weights of the values in the map, by the hooks */
} counts;
static counts g_c;

static void on_created(const void *k, size_t kl, const void *v, void *ctx) {
  (void)k, (void)kl, (void)ctx;
  g_c.created++;
  g_c.weight_in += (long)(*(const obj *const *)v)->weight;
}
static void on_evicted(const void *k, size_t kl, void *v, tsmap_evict_reason why, void *ctx) {
  (void)k, (void)kl, (void)ctx;
  if (why != TSMAP_EVICT_DISCARDED)
    g_c.weight_in -= (long)(*(obj **)v)->weight;
  if (why == TSMAP_EVICT_CAPACITY)
    g_c.capacity++;
  else if (why == TSMAP_EVICT_REPLACED)
    g_c.replaced++;
  else if (why == TSMAP_EVICT_CLOSED)
    g_c.closed++;
  else if (why == TSMAP_EVICT_DISCARDED)
    g_c.discarded++;
  else
    g_c.other++;
}

static void weighted_config(tsmap_config *cfg, uint64_t max_weight, size_t shards) {
  memset(&g_c, 0, sizeof g_c);
  tsmap_config_init(cfg, sizeof(void *));
  cfg->key_size = 8;
  cfg->shard_count = shards;
  cfg->weight = obj_weight;
  cfg->max_weight = max_weight;
  cfg->on_entry_created = on_created;
  cfg->on_entry_evicted = on_evicted;
}

static tsmap *weighted_map(uint64_t max_weight, size_t shards) {
  tsmap_config cfg;
  weighted_config(&cfg, max_weight, shards);
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  return m;
}

/* The weight the map holds, by a visit (each shard copied under its lock). */
typedef struct tally {
  uint64_t weight;
  long entries;
} tally;
static int add_up(const void *k, size_t kl, const void *v, void *ctx) {
  (void)k, (void)kl;
  tally *t = (tally *)ctx;
  t->weight += (*(const obj *const *)v)->weight;
  t->entries++;
  return 0;
}
static tally held(tsmap *m) {
  tally t = {0, 0};
  CHECK_ST(tsmap_foreach(m, add_up, &t), TSMAP_OK);
  return t;
}

/* Configurations: max_weight needs a weight function and pointer values, and fits in
 * 48 bits; a weight function alone is refused too. */
static void test_g11_weight_configurations(void) {
  tsmap_config cfg;
  tsmap *m = NULL;
  weighted_config(&cfg, 100, 1);
  cfg.weight = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_INVALID_ARGUMENT);
  weighted_config(&cfg, 0, 1);
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_INVALID_ARGUMENT);
  weighted_config(&cfg, 100, 1);
  cfg.value_size = 16;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_INVALID_ARGUMENT);
  weighted_config(&cfg, (uint64_t)1 << 48, 1);
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_INVALID_ARGUMENT);
  weighted_config(&cfg, 4, 8); /* less than one unit a shard */
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_INVALID_ARGUMENT);
  weighted_config(&cfg, ((uint64_t)1 << 48) - 1, 1);
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  tsmap_destroy(m);
}

/* G11 (e): inserts evict until the new value fits; the weight never passes the bound;
 * entries read often are the ones kept (the policy is the count bound's). */
static void test_g11_weight_bound_holds(void) {
  static obj objs[400];
  tsmap *m = weighted_map(1000, 1);
  long over = 0;
  for (uint64_t k = 0; k < 400; k++) {
    objs[k] = (obj){1 + k % 50, k};
    obj *p = &objs[k];
    /* put until admitted (B5: a newcomer may be refused, then it is not there) */
    for (int i = 0; i < 16 && tsmap_get(m, &k, 8, NULL) != TSMAP_OK; i++)
      CHECK_ST(tsmap_put(m, &k, 8, &p, NULL), TSMAP_OK);
    tally t = held(m);
    over += t.weight > 1000;
  }
  tally t = held(m);
  CHECK(over == 0 && t.weight <= 1000 && t.weight > 900 && g_c.capacity > 0);
  CHECK(g_c.weight_in == (long)t.weight); /* the hooks account for every unit */
  tsmap_destroy(m);
  CHECK(g_c.weight_in == 0 && g_c.other == 0);
  CHECK(g_c.created == g_c.capacity + g_c.replaced + g_c.closed);
}

/* An overwrite by a heavier value evicts other entries, never its own, until it fits;
 * a value heavier than the share is refused on every store path, nothing changed. */
static int absent_heavy(const void *key, size_t key_len, void *ctx, TSMAP_OUT void *out) {
  (void)key, (void)key_len;
  memcpy(out, &ctx, sizeof ctx);
  return 0;
}
static tsmap_verdict store_ctx(const void *key, size_t key_len, const void *old, void *ctx,
                               TSMAP_OUT void *out) {
  (void)key, (void)key_len, (void)old;
  memcpy(out, &ctx, sizeof ctx);
  return TSMAP_STORE;
}

static void test_g11_heavier_overwrites_and_too_heavy_values(void) {
  static obj small[10], big = {90, 100}, huge = {101, 101};
  tsmap *m = weighted_map(100, 1);
  for (uint64_t k = 0; k < 10; k++) {
    small[k] = (obj){10, k};
    obj *p = &small[k];
    CHECK_ST(tsmap_put(m, &k, 8, &p, NULL), TSMAP_OK);
  }
  CHECK(held(m).weight == 100 && held(m).entries == 10);
  uint64_t k = 4;
  obj *p = &big;
  CHECK_ST(tsmap_put(m, &k, 8, &p, NULL), TSMAP_REPLACED); /* 10 -> 90: 8 others go */
  tally t = held(m);
  obj *got = NULL;
  CHECK_ST(tsmap_get(m, &k, 8, &got), TSMAP_OK);
  CHECK(got == &big && t.weight <= 100 && t.entries == 2 && g_c.capacity == 8);
  long created = g_c.created;
  p = &huge; /* above the share (100): refused everywhere, nothing changes */
  k = 50;
  CHECK_ST(tsmap_put(m, &k, 8, &p, NULL), TSMAP_TOO_HEAVY);
  CHECK_ST(tsmap_put_if_absent(m, &k, 8, &p, NULL), TSMAP_TOO_HEAVY);
  k = 4;
  CHECK_ST(tsmap_put(m, &k, 8, &p, NULL), TSMAP_TOO_HEAVY);
  CHECK_ST(tsmap_compute(m, &k, 8, store_ctx, &huge, NULL), TSMAP_TOO_HEAVY);
  k = 51;
  CHECK_ST(tsmap_compute_if_absent(m, &k, 8, absent_heavy, &huge, NULL), TSMAP_TOO_HEAVY);
  CHECK_ST(tsmap_get(m, &k, 8, NULL), TSMAP_NOT_FOUND);
  k = 4;
  CHECK_ST(tsmap_get(m, &k, 8, &got), TSMAP_OK);
  CHECK(got == &big && g_c.created == created && g_c.discarded == 2); /* the callbacks' */
  CHECK(held(m).weight == t.weight && held(m).entries == 2);
  /* a compute that makes its entry heavier evicts the other one */
  static obj heavier = {95, 102};
  CHECK_ST(tsmap_compute(m, &k, 8, store_ctx, &heavier, NULL), TSMAP_OK);
  CHECK(held(m).weight == 95 && held(m).entries == 1);
  CHECK_ST(tsmap_get(m, &k, 8, &got), TSMAP_OK);
  CHECK(got == &heavier);
  tsmap_destroy(m);
  CHECK(g_c.weight_in == 0 && g_c.other == 0);
}

/* With max_entries too: both bounds hold. */
static void test_g11_weight_and_count_bounds_together(void) {
  static obj objs[200];
  tsmap_config cfg;
  weighted_config(&cfg, 1000, 1);
  cfg.max_entries = 20;
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  long over = 0;
  for (uint64_t k = 0; k < 200; k++) {
    objs[k] = (obj){k % 2 ? 1 : 100, k}; /* light and heavy */
    obj *p = &objs[k];
    for (int i = 0; i < 16 && tsmap_get(m, &k, 8, NULL) != TSMAP_OK; i++)
      CHECK(tsmap_put(m, &k, 8, &p, NULL) == TSMAP_OK);
    tally t = held(m);
    over += t.weight > 1000 || t.entries > 20;
  }
  CHECK(over == 0);
  tsmap_destroy(m);
  CHECK(g_c.weight_in == 0);
}

/* With expiry too, the weight sits after the deadline: overwrites keep the total exact
 * (they once read the deadline word as the old frequency word). */
static void test_g11_weight_with_expiry(void) {
  static obj objs[11];
  tsmap_config cfg;
  weighted_config(&cfg, 100, 1);
  cfg.default_ttl_ns = (uint64_t)1 << 62; /* deadlines far above 2^16 */
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  for (uint64_t k = 0; k < 10; k++) {
    objs[k] = (obj){10, k};
    obj *p = &objs[k];
    CHECK_ST(tsmap_put(m, &k, 8, &p, NULL), TSMAP_OK);
    CHECK_ST(tsmap_put(m, &k, 8, &p, NULL), TSMAP_REPLACED);
  }
  CHECK(held(m).weight == 100 && g_c.capacity == 0);
  uint64_t k = 10;
  objs[10] = (obj){10, 10};
  obj *p = &objs[10];
  CHECK_ST(tsmap_put(m, &k, 8, &p, NULL), TSMAP_OK); /* one of the 11 goes, no more */
  CHECK(held(m).weight == 100 && held(m).entries == 10 && g_c.capacity == 1);
  tsmap_destroy(m);
  CHECK(g_c.weight_in == 0);
}

/* ---- The bound on weight under a two-thread storm, every value in a ledger ------------- */

#define STORM_IDS (1u << 18)
static obj g_objs[2 * STORM_IDS];
static _Atomic unsigned char g_in[2 * STORM_IDS], g_out[2 * STORM_IDS];
static _Atomic int g_storm_done;
static _Atomic long g_over, g_looks;

static void storm_created(const void *k, size_t kl, const void *v, void *c) {
  (void)k, (void)kl, (void)c;
  g_in[(*(const obj *const *)v)->id]++;
}
static void storm_evicted(const void *k, size_t kl, void *v, tsmap_evict_reason why, void *c) {
  (void)k, (void)kl, (void)c;
  if (why != TSMAP_EVICT_DISCARDED)
    g_out[(*(obj **)v)->id]++;
}

typedef struct storm_arg {
  tsmap *m;
  uint64_t base;
  long n;
} storm_arg;

static void *storm_writer(void *p) {
  storm_arg *a = (storm_arg *)p;
  for (long i = 0; i < a->n; i++) {
    uint64_t id = a->base + (uint64_t)i;
    uint64_t k = (id % 3000) * 0x9e3779b97f4a7c15ull; /* keys reused: overwrites too */
    obj *o = &g_objs[id];
    tsmap_status st = (i & 3) ? tsmap_put(a->m, &k, 8, &o, NULL)
                              : tsmap_put_if_absent(a->m, &k, 8, &o, NULL);
    CHECK(st == TSMAP_OK || st == TSMAP_REPLACED || st == TSMAP_EXISTS);
    if (i % 5 == 0)
      (void)tsmap_get(a->m, &k, 8, NULL);
  }
  return NULL;
}

static void *storm_watch(void *p) {
  tsmap *m = (tsmap *)p;
  while (!atomic_load(&g_storm_done)) {
    tally t = {0, 0};
    if (tsmap_foreach(m, add_up, &t) == TSMAP_OK) {
      g_looks++;
      if (t.weight > 20000)
        g_over++;
    }
  }
  return NULL;
}

static void test_g11_weight_bound_under_a_two_thread_storm(void) {
  memset((void *)g_in, 0, sizeof g_in);
  memset((void *)g_out, 0, sizeof g_out);
  atomic_store(&g_over, 0);
  atomic_store(&g_looks, 0);
  long n = 200000 / SCALE;
  for (uint64_t i = 0; i < 2 * STORM_IDS; i++)
    g_objs[i] = (obj){1 + (i * 7919) % 100, i};
  tsmap_config cfg;
  weighted_config(&cfg, 20000, 4);
  cfg.on_entry_created = storm_created;
  cfg.on_entry_evicted = storm_evicted;
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  storm_arg a[2] = {{m, 0, n}, {m, STORM_IDS, n}};
  tsmap_test_storm2(storm_writer, a, sizeof a[0], storm_watch, m, &g_storm_done);
  tally end = held(m);
  tsmap_destroy(m);
  long in = 0, bad = tsmap_test_ledger_errors(g_in, g_out, 2 * STORM_IDS, &in);
  fprintf(stderr, "  %ld values entered, weight %llu in %ld entries at the end, %ld of %ld "
                  "looks over the bound, %ld accounting errors\n", in,
          (unsigned long long)end.weight, end.entries, (long)g_over, (long)g_looks, bad);
  CHECK(in > 0 && end.weight <= 20000 && end.weight > 15000 && g_over == 0 && bad == 0);
}

/* Reads racing overwrites of the same keys (G11 (e), B4): a read's sampled touch of an
 * entry's frequency word, which holds the weight too, must not put back the weight an
 * overwrite just replaced. The total would drift from what the entries weigh: an emptied
 * map then refused what fits, or took more. One writer overwrites 8 keys with weights
 * 1..13 while another thread reads them (get and compute_if_absent); emptied, the map
 * must then take exactly max_weight values of weight 1. */
static obj g_race_objs[13];
static tsmap *g_race_map;
static _Atomic int g_race_stop, g_race_reading;

static void *race_overwrites(void *arg) {
  (void)arg;
  uint64_t s = 88172645463325252ULL;
  while (!atomic_load(&g_race_reading))
    sched_yield();
  for (long i = 0; i < 3000000 / SCALE; i++) {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    uint64_t k = s % 8;
    obj *o = &g_race_objs[(s >> 3) % 13];
    tsmap_status st = tsmap_put(g_race_map, &k, 8, &o, NULL);
    CHECK(st == TSMAP_OK || st == TSMAP_REPLACED);
  }
  atomic_store(&g_race_stop, 1);
  return NULL;
}

static int race_absent(const void *key, size_t key_len, void *ctx, void *value_out) {
  (void)key, (void)key_len, (void)ctx;
  obj *o = &g_race_objs[0];
  memcpy(value_out, &o, sizeof o);
  return 0;
}

static void *race_reads(void *arg) {
  (void)arg;
  obj *o;
  atomic_store(&g_race_reading, 1);
  for (uint64_t i = 0; !atomic_load(&g_race_stop); i++) {
    uint64_t k = i % 8;
    if (i & 1)
      tsmap_get(g_race_map, &k, 8, &o);
    else
      tsmap_compute_if_absent(g_race_map, &k, 8, race_absent, NULL, &o);
  }
  return NULL;
}

static void reads_racing_overwrites(size_t key_size) {
  enum { MAXW = 100 };
  for (int i = 0; i < 13; i++)
    g_race_objs[i] = (obj){2 * (uint64_t)i + 1, (uint64_t)i}; /* 8 of them near the bound */
  tsmap_config cfg;
  weighted_config(&cfg, MAXW, 1);
  cfg.key_size = key_size;
  CHECK_ST(tsmap_create(&cfg, &g_race_map), TSMAP_OK);
  atomic_store(&g_race_stop, 0);
  atomic_store(&g_race_reading, 0);
  pthread_t w, r;
  pthread_create(&r, NULL, race_reads, NULL);
  pthread_create(&w, NULL, race_overwrites, NULL);
  pthread_join(w, NULL);
  pthread_join(r, NULL);
  for (uint64_t k = 0; k < 8; k++)
    tsmap_remove(g_race_map, &k, 8, NULL);
  CHECK(held(g_race_map).entries == 0);
  static obj one = {1, 99};
  obj *p = &one;
  for (uint64_t k = 1000; k < 1000 + 4 * MAXW; k++) /* admitted by the 15th try (B5) */
    for (int t = 0; t < 32 && tsmap_get(g_race_map, &k, 8, NULL) != TSMAP_OK; t++)
      CHECK(tsmap_put(g_race_map, &k, 8, &p, NULL) == TSMAP_OK);
  tally t = held(g_race_map);
  if (t.weight != MAXW)
    fprintf(stderr, "  key_size %zu: emptied and refilled with weight-1 values: %llu, want %d\n",
            key_size, (unsigned long long)t.weight, MAXW);
  CHECK(t.weight == MAXW && t.entries == MAXW);
  tsmap_destroy(g_race_map);
}
static void test_g11_reads_racing_overwrites_keep_the_weight(void) {
  reads_racing_overwrites(8);
  reads_racing_overwrites(0);
}

/* G11 (c) with a weight: a store that must evict several entries allocates every
 * victim's record before any goes, so failing the n-th allocation of the call (n =
 * 1..10) fails it with TSMAP_NO_MEMORY and evicts nothing, insert or overwrite (they
 * evicted the victims before the failing one). */
static _Atomic int g_fail_at; /* 0: off; n: the n-th allocation from now fails */
static void *countdown_alloc(size_t size, void *ctx) {
  (void)ctx;
  if (atomic_load(&g_fail_at) && atomic_fetch_sub(&g_fail_at, 1) == 1)
    return NULL;
  return malloc(size);
}
static void countdown_free(void *p, size_t size, void *ctx) {
  (void)size, (void)ctx;
  free(p);
}
static void test_g11_a_weighted_store_without_memory_evicts_nothing(void) {
  static obj small[10], big = {90, 100};
  tsmap_allocator al = {countdown_alloc, countdown_free, NULL};
  long failures = 0, bad = 0;
  for (int over = 0; over < 2; over++)
    for (int n = 1; n <= 10; n++) {
      tsmap_config cfg;
      weighted_config(&cfg, 100, 1);
      cfg.allocator = &al;
      tsmap *m = NULL;
      CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
      for (uint64_t k = 0; k < 10; k++) {
        small[k] = (obj){10, k};
        obj *p = &small[k];
        CHECK_ST(tsmap_put(m, &k, 8, &p, NULL), TSMAP_OK);
      }
      uint64_t k = over ? 4 : 77; /* an overwrite of one, or an insert: 8 or 9 go */
      obj *p = &big;
      atomic_store(&g_fail_at, n);
      tsmap_status st = tsmap_put(m, &k, 8, &p, NULL);
      atomic_store(&g_fail_at, 0);
      if (st == TSMAP_NO_MEMORY) {
        failures++;
        tally t = held(m);
        bad += g_c.capacity != 0 || t.entries != 10 || t.weight != 100;
      } else {
        CHECK(st == (over ? TSMAP_REPLACED : TSMAP_OK));
      }
      tsmap_destroy(m);
    }
  fprintf(stderr, "  %ld stores failed for memory, %ld of them evicted\n", failures, bad);
  CHECK(failures >= 8 && bad == 0); /* the overwrite: 8 records; an insert may be refused (B5) */
}

TEST_MAIN(T(test_g11_weight_configurations), T(test_g11_weight_bound_holds),
          T(test_g11_a_weighted_store_without_memory_evicts_nothing),
          T(test_g11_heavier_overwrites_and_too_heavy_values),
          T(test_g11_weight_and_count_bounds_together), T(test_g11_weight_with_expiry),
          T(test_g11_weight_bound_under_a_two_thread_storm),
          T(test_g11_reads_racing_overwrites_keep_the_weight))
