/*
 * test_mapcount.c - a process out of memory mappings (vm.max_map_count) still has a
 * working map (G1) as long as its heap has room. Tables from 16 KiB are mmap'd (G5);
 * when mmap fails the runtime takes the table from the heap instead. Out of mappings,
 * the heap cannot grow either (brk needs one), so the test first grows glibc's heap and
 * frees the block (kept: no trim, no mmap'd chunks), then splits a reserved region into
 * single-page mappings until the kernel refuses another, checks that an mmap now fails,
 * and grows maps, expecting every call to succeed.
 *
 * Not built with the sanitizers: their runtimes need mappings of their own.
 */
#include "tsmap_test.h"

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

static long max_map_count(void) {
  FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
  long n = -1;
  if (f) {
    if (fscanf(f, "%ld", &n) != 1)
      n = -1;
    fclose(f);
  }
  return n;
}

#define NSINGLES 64

typedef struct filler {
  unsigned char *base; /* a region split into one mapping per page */
  size_t len;
  size_t page;
  void *single[NSINGLES]; /* one-page mappings that took the last few */
  size_t nsingle;
} filler;

/* Use up the mappings: every other page of a PROT_NONE region made readable is a VMA of
 * its own (a split takes two); one-page mappings of alternating protection (so that they
 * do not merge) take the rest. Then gives `spare` of them back. */
static int exhaust_mappings(filler *f, long limit, size_t spare) {
  f->page = (size_t)sysconf(_SC_PAGESIZE);
  f->len = (size_t)(2 * limit + 8) * f->page;
  f->nsingle = 0;
  f->base = mmap(NULL, f->len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (f->base == MAP_FAILED)
    return 0;
  size_t split = 0;
  while (2 * split + 1 < f->len / f->page &&
         mprotect(f->base + (2 * split + 1) * f->page, f->page, PROT_READ) == 0)
    split++;
  if (errno != ENOMEM)
    return 0;
  while (f->nsingle < NSINGLES) {
    void *p = mmap(NULL, f->page, f->nsingle % 2 ? PROT_READ : PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
      break;
    f->single[f->nsingle++] = p;
  }
  if (f->nsingle == NSINGLES) /* mappings merged after all: the limit was not reached */
    return 0;
  for (size_t i = 0; i < spare && f->nsingle > 0; i++)
    munmap(f->single[--f->nsingle], f->page);
  return 1;
}

static void release_mappings(filler *f) {
  while (f->nsingle > 0)
    munmap(f->single[--f->nsingle], f->page);
  munmap(f->base, f->len);
}

/* Room in glibc's heap for what the maps below allocate, kept after free. */
static int grow_heap(void) {
  if (!mallopt(M_MMAP_MAX, 0) || !mallopt(M_TRIM_THRESHOLD, 1 << 30))
    return 0;
  char *volatile p = malloc((size_t)64 << 20); /* volatile: not elided with the free */
  if (!p)
    return 0;
  p[0] = 1;
  free(p);
  return 1;
}

static int mmap_fails(void) {
  void *p = mmap(NULL, 64 << 10, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return 1;
  munmap(p, 64 << 10);
  return 0;
}

#define NKEYS 300000u

/* Fill, read back, remove half, read back: every call must succeed. */
static void grow_and_check(tsmap *m) {
  int bad = 0;
  for (uint64_t k = 0; k < NKEYS; k++) {
    uint64_t v = k * 3 + 1;
    bad += tsmap_put(m, &k, sizeof k, &v, NULL) != TSMAP_OK;
  }
  CHECK(bad == 0);
  for (uint64_t k = 0; k < NKEYS; k++) {
    uint64_t v = 0;
    bad += tsmap_get(m, &k, sizeof k, &v) != TSMAP_OK || v != k * 3 + 1;
  }
  CHECK(bad == 0);
  for (uint64_t k = 0; k < NKEYS; k += 2)
    bad += tsmap_remove(m, &k, sizeof k, NULL) != TSMAP_OK;
  size_t size = 0;
  CHECK_ST(tsmap_size(m, &size), TSMAP_OK);
  CHECK(size == NKEYS / 2);
  for (uint64_t k = 0; k < NKEYS; k++) {
    uint64_t v = 0;
    tsmap_status want = k % 2 ? TSMAP_OK : TSMAP_NOT_FOUND;
    bad += tsmap_get(m, &k, sizeof k, &v) != want;
  }
  CHECK(bad == 0);
}

/* Heap tables (mmap failed) given back by a reshard down as mapped ones are (G15 (g),
 * R8): the emptied shards' tables are shed, as a custom allocator's, so the heap holds
 * what it held before. Until black-box round 17 only maps with an allocator shed theirs:
 * here 2 -> 16 -> 2 shards left the heap at 1.8x. */
static void reshard_up_and_down(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, sizeof(uint64_t));
  cfg.key_size = sizeof(uint64_t);
  cfg.shard_count = 2;
  cfg.max_shard_count = 16;
  cfg.reshard_no_helper = 1; /* no thread: it could not get a stack anyway */
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  if (!m)
    return;
  for (uint64_t k = 0; k < NKEYS / 2; k++)
    CHECK_ST(tsmap_put(m, &k, sizeof k, &k, NULL), TSMAP_OK);
  for (int i = 0; i < 64; i++) /* growths done, what they retired freed */
    CHECK_ST(tsmap_maintain(m, SIZE_MAX), TSMAP_OK);
  size_t before = mallinfo2().uordblks;
  size_t counts[] = {16, 2};
  for (int r = 0; r < 2; r++) {
    CHECK_ST(tsmap_reshard(m, counts[r]), TSMAP_OK);
    tsmap_test_finish_reshard(m);
    for (int i = 0; i < 64; i++)
      CHECK_ST(tsmap_maintain(m, SIZE_MAX), TSMAP_OK);
  }
  size_t after = mallinfo2().uordblks;
  CHECK(after <= before + before / 10);
  if (after > before + before / 10)
    fprintf(stderr, "  heap in use at 2 shards %zu, after 2 -> 16 -> 2: %zu\n", before, after);
  for (uint64_t k = 0; k < NKEYS / 2; k += 97) {
    uint64_t v = 0;
    CHECK_ST(tsmap_get(m, &k, sizeof k, &v), TSMAP_OK);
    CHECK(v == k);
  }
  CHECK_ST(tsmap_destroy(m), TSMAP_OK);
}

/* With none to spare, every table comes from the heap; with a few, growth mixes mapped
 * tables and heap ones (the mapped ones give their mappings back as they are reclaimed). */
static void run_with_spare(size_t spare) {
  long limit = max_map_count();
  CHECK(limit > 0 && limit < 10000000);
  if (limit <= 0 || limit >= 10000000)
    return;
  CHECK(grow_heap());
  filler f;
  int ok = exhaust_mappings(&f, limit, spare);
  CHECK(ok);
  if (!ok)
    return;
  if (spare == 0)
    CHECK(mmap_fails()); /* the condition under test holds */

  tsmap_config cfg;
  tsmap_config_init(&cfg, sizeof(uint64_t));
  cfg.key_size = sizeof(uint64_t);
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  if (m) {
    grow_and_check(m);
    CHECK_ST(tsmap_destroy(m), TSMAP_OK);
  }
  cfg.initial_capacity = NKEYS; /* the first tables are large */
  m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  if (m) {
    grow_and_check(m);
    CHECK_ST(tsmap_destroy(m), TSMAP_OK);
  }
  if (spare == 0)
    reshard_up_and_down();
  release_mappings(&f);
  CHECK(!mmap_fails());
}

static void test_g1_no_mappings_left(void) { run_with_spare(0); }
static void test_g1_few_mappings_left(void) { run_with_spare(6); }

TEST_MAIN(T(test_g1_no_mappings_left), T(test_g1_few_mappings_left))
