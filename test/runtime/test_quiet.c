/*
 * test_quiet.c - black-box round 17's left items: a map that goes quiet gives its memory
 * back, and tsmap_metrics_format's TSMAP_NO_MEMORY says what to do.
 *
 *   - tsmap_maintain frees what a grace period allows (G3, G5): a growth's old table, the
 *     blocks of removed long keys. Before round 17 only later writes of the same shard
 *     freed them, so a map that went quiet after a burst held them until destroy.
 *     Measured by a counting allocator (tables freed to it) and by VmRSS (mapped tables,
 *     whose pages are given back).
 *   - a replicated map's tombstone hash gives back its bucket array when tsmap_forget
 *     drops most tombstones (it only doubled before: 8-16 bytes per peak tombstone kept).
 *   - tsmap_metrics_format: a buffer too small and the call's own memory failing are
 *     told apart by *len_out, as the header says.
 */
#include "tsmap_test.h"

#include <stdint.h>

/* ---- A counting allocator --------------------------------------------------------------- */

typedef struct count_alloc {
  _Atomic long live;  /* bytes */
  _Atomic int fail;   /* non-zero: every allocation fails */
} count_alloc;

static void *count_alloc_fn(size_t size, void *ctx) {
  count_alloc *a = (count_alloc *)ctx;
  if (atomic_load(&a->fail))
    return NULL;
  void *p = NULL;
  if (posix_memalign(&p, 16, size) != 0)
    return NULL;
  a->live += (long)size;
  return p;
}
static void count_free_fn(void *p, size_t size, void *ctx) {
  ((count_alloc *)ctx)->live -= (long)size;
  free(p);
}

/* A series of the map's exposition (tsmap_metrics_format), or -1. */
static long long series(tsmap *m, const char *name) {
  static char text[1 << 16];
  size_t len = 0;
  if (tsmap_metrics_format(m, text, sizeof text, &len) != TSMAP_OK)
    return -1;
  return tsmap_test_series_value(text, name);
}

/* Insert fresh keys from *next on until a growth started and ended (tsmap_growth_in_progress
 * 1, then 0): the last insert finished it, so its old table was retired just now. Returns
 * the table bytes after it, or 0 when no growth was seen. */
static long long grow_once(tsmap *m, uint64_t *next) {
  int seen = 0;
  for (long n = 0; n < 4000000; n++) {
    uint64_t k = (*next)++, v = k;
    if (tsmap_put(m, &k, sizeof k, &v, NULL) != TSMAP_OK)
      return 0;
    if (!seen && n % 128 != 0) /* a growth lasts over a thousand writes here */
      continue;
    long long g = series(m, "tsmap_growth_in_progress{map=\"quiet\"}");
    if (g == 1)
      seen = 1;
    if (seen && g == 0)
      return series(m, "tsmap_table_bytes{map=\"quiet\"}");
  }
  return 0;
}

static tsmap *quiet_map(const tsmap_allocator *al, size_t initial) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, sizeof(uint64_t));
  cfg.key_size = sizeof(uint64_t);
  cfg.shard_count = 1;
  cfg.initial_capacity = initial;
  cfg.allocator = al;
  cfg.name = "quiet";
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  return m;
}

/* With an allocator: the old table goes back to it at the first tsmap_maintain. */
static void test_maintain_frees_a_growths_old_table(void) {
  count_alloc a = {0, 0};
  tsmap_allocator al = {count_alloc_fn, count_free_fn, &a};
  tsmap *m = quiet_map(&al, 20000);
  if (!m)
    return;
  uint64_t next = 1;
  long long table = grow_once(m, &next);
  CHECK(table > 0);
  long before = atomic_load(&a.live);
  CHECK_ST(tsmap_maintain(m, SIZE_MAX), TSMAP_OK);
  long after = atomic_load(&a.live);
  /* the old table was half the new one's bytes */
  CHECK(before - after >= table / 2 - 4096);
  if (before - after < table / 2 - 4096)
    fprintf(stderr, "  allocator %ld -> %ld bytes, table %lld\n", before, after, table);
  CHECK_ST(tsmap_maintain(m, SIZE_MAX), TSMAP_OK); /* nothing more to free */
  CHECK(atomic_load(&a.live) == after);
  for (uint64_t k = 1; k < next; k++) { /* the entries are all there */
    uint64_t v = 0;
    if (tsmap_get(m, &k, sizeof k, &v) != TSMAP_OK || v != k) {
      CHECK(!"entry lost");
      break;
    }
  }
  tsmap_destroy(m);
  CHECK(atomic_load(&a.live) == 0);
}

/* Default allocation: the old table is mapped; maintain gives its pages back (VmRSS). A
 * budget of 0 looks at nothing. */
static void test_maintain_gives_back_a_mapped_old_table(void) {
  tsmap *m = quiet_map(NULL, 300000);
  if (!m)
    return;
  uint64_t next = 1;
  long long table = grow_once(m, &next);
  CHECK(table >= (8 << 20));
  long before = tsmap_test_status_kib("VmRSS");
  CHECK_ST(tsmap_maintain(m, 0), TSMAP_OK);
  long zero = tsmap_test_status_kib("VmRSS");
  CHECK(before - zero < table / 4 / 1024);
  for (int i = 0; i < 4; i++)
    CHECK_ST(tsmap_maintain(m, SIZE_MAX), TSMAP_OK);
  long after = tsmap_test_status_kib("VmRSS");
  CHECK(before - after >= table / 4 / 1024); /* KiB: half the old table at least */
  if (before - after < table / 4 / 1024)
    fprintf(stderr, "  VmRSS %ld -> %ld KiB, table %lld bytes\n", before, after, table);
  uint64_t k = next - 1, v = 0;
  CHECK_ST(tsmap_get(m, &k, sizeof k, &v), TSMAP_OK);
  CHECK(v == k);
  tsmap_destroy(m);
}

/* Removed long keys' blocks: freed by maintain once no reader can hold them. */
static void test_maintain_frees_removed_long_keys(void) {
  count_alloc a = {0, 0};
  tsmap_allocator al = {count_alloc_fn, count_free_fn, &a};
  tsmap_config cfg;
  tsmap_config_init(&cfg, sizeof(uint64_t));
  cfg.shard_count = 4;
  cfg.initial_capacity = 4096;
  cfg.allocator = &al;
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  if (!m)
    return;
  long empty = atomic_load(&a.live);
  char key[200];
  memset(key, 'k', sizeof key);
  for (unsigned i = 0; i < 2000; i++) {
    uint64_t v = i;
    memcpy(key, &i, sizeof i);
    CHECK_ST(tsmap_put(m, key, sizeof key, &v, NULL), TSMAP_OK);
  }
  for (unsigned i = 0; i < 2000; i++) {
    memcpy(key, &i, sizeof i);
    CHECK_ST(tsmap_remove(m, key, sizeof key, NULL), TSMAP_OK);
  }
  long before = atomic_load(&a.live);
  CHECK(before > empty); /* the last removals' blocks wait for their grace period */
  CHECK_ST(tsmap_maintain(m, SIZE_MAX), TSMAP_OK);
  long after = atomic_load(&a.live);
  CHECK(after == empty); /* every block freed: the tables are as they were */
  if (after != empty)
    fprintf(stderr, "  allocator: empty %ld, after removals %ld, maintained %ld\n", empty,
            before, after);
  tsmap_destroy(m);
  CHECK(atomic_load(&a.live) == 0);
}

/* ---- Tombstones ------------------------------------------------------------------------- */

/* 100,000 removals leave tombstones; forgetting them all gives back their records and
 * their hash's buckets: the allocator holds what it held with the entries removed. */
static void test_forget_gives_back_the_tombstone_buckets(void) {
  count_alloc a = {0, 0};
  tsmap_allocator al = {count_alloc_fn, count_free_fn, &a};
  tsmap_config cfg;
  tsmap_config_init(&cfg, sizeof(uint64_t));
  cfg.key_size = sizeof(uint64_t);
  cfg.shard_count = 4;
  cfg.replicas = 2;
  cfg.initial_capacity = 200000; /* no growth: the tables' bytes stay as they are */
  cfg.allocator = &al;
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  if (!m)
    return;
  enum { N = 100000 };
  for (uint64_t k = 0; k < N; k++)
    CHECK_ST(tsmap_put(m, &k, sizeof k, &k, NULL), TSMAP_OK);
  /* one tombstone per shard first, so each shard has its (smallest) hash already */
  for (uint64_t k = 0; k < 64; k++)
    CHECK_ST(tsmap_remove(m, &k, sizeof k, NULL), TSMAP_OK);
  uint64_t horizon[2] = {UINT64_MAX >> 10, UINT64_MAX >> 10};
  size_t forgotten = 0;
  CHECK_ST(tsmap_forget(m, horizon, 2, &forgotten), TSMAP_OK);
  CHECK(forgotten == 64);
  long base = atomic_load(&a.live);
  for (uint64_t k = 64; k < N; k++)
    CHECK_ST(tsmap_remove(m, &k, sizeof k, NULL), TSMAP_OK);
  long peak = atomic_load(&a.live);
  CHECK_ST(tsmap_forget(m, horizon, 2, &forgotten), TSMAP_OK);
  CHECK(forgotten == N - 64);
  long after = atomic_load(&a.live);
  /* tables do not shrink on removal: the same table bytes; tombstones and their buckets
   * gone, up to a shard's record kept for its next removal */
  CHECK(after - base <= 4 * 64);
  if (after - base > 4 * 64 || getenv("TSMAP_QUIET_PRINT"))
    fprintf(stderr, "  allocator: base %ld, tombstones %ld, forgotten %ld bytes\n", base, peak,
            after);
  for (uint64_t k = 0; k < 1000; k++) /* it still works: new tombstones, a new hash */
    CHECK_ST(tsmap_put(m, &k, sizeof k, &k, NULL), TSMAP_OK);
  for (uint64_t k = 0; k < 1000; k++)
    CHECK_ST(tsmap_remove(m, &k, sizeof k, NULL), TSMAP_OK);
  uint64_t old = 0, clk[2] = {1, 0};
  tsmap_change stale = {&old, sizeof old, &old, clk, 2, 1ull << 8, 0};
  CHECK_ST(tsmap_merge(m, &stale, NULL, NULL, NULL), TSMAP_EXISTS); /* its tombstone holds */
  CHECK_ST(tsmap_get(m, &old, sizeof old, NULL), TSMAP_NOT_FOUND);
  tsmap_destroy(m);
  CHECK(atomic_load(&a.live) == 0);
}

/* ---- tsmap_metrics_format's NO_MEMORY --------------------------------------------------- */

/* Too small a buffer: TSMAP_NO_MEMORY with *len_out the whole length (>= cap), and a buffer
 * of *len_out + 1 bytes then takes it. The call's own memory failing: TSMAP_NO_MEMORY with
 * *len_out 0 and "" in the buffer, however large: retrying with a larger buffer is no cure. */
static void test_format_no_memory_is_told_apart(void) {
  count_alloc a = {0, 0};
  tsmap_allocator al = {count_alloc_fn, count_free_fn, &a};
  tsmap_config cfg;
  tsmap_config_init(&cfg, sizeof(uint64_t));
  cfg.allocator = &al;
  cfg.metrics = 1;
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  if (!m)
    return;
  uint64_t k = 1;
  CHECK_ST(tsmap_put(m, &k, sizeof k, &k, NULL), TSMAP_OK);
  char small[64];
  size_t len = 0;
  CHECK_ST(tsmap_metrics_format(m, small, sizeof small, &len), TSMAP_NO_MEMORY);
  CHECK(len >= sizeof small && strlen(small) == sizeof small - 1);
  char *big = malloc(len + 1);
  size_t len2 = 0;
  CHECK_ST(tsmap_metrics_format(m, big, len + 1, &len2), TSMAP_OK);
  CHECK(len2 > 0 && strlen(big) == len2);
  atomic_store(&a.fail, 1);
  big[0] = 'x';
  CHECK_ST(tsmap_metrics_format(m, big, len + 1, &len2), TSMAP_NO_MEMORY);
  CHECK(len2 == 0 && big[0] == '\0');
  atomic_store(&a.fail, 0);
  free(big);
  tsmap_destroy(m);
}

TEST_MAIN(T(test_maintain_frees_a_growths_old_table),
          T(test_maintain_gives_back_a_mapped_old_table),
          T(test_maintain_frees_removed_long_keys),
          T(test_forget_gives_back_the_tombstone_buckets),
          T(test_format_no_memory_is_told_apart))
