/*
 * test_retired.c - the gauge tsmap_retired_bytes{map}: bytes a map retired (a growth's
 * old table, a removed long key's block) and has not freed, because a reader may still
 * see them (I5). Retired memory was in no metric before: tsmap_table_bytes leaves a
 * growth's old table out once the growth ended, and nothing counted key blocks.
 *
 * A reader is held inside its read-side section by the map's own equality callback
 * (config.equal runs inside the section: it compares the looked-up key with a stored
 * one), so no grace period can end while it waits there. Each test checks that the gauge
 * rises while the reader is held, that tsmap_maintain frees nothing meanwhile, and that it
 * drops to exactly 0 once the reader left and tsmap_maintain ran; with a counting
 * allocator, that what maintain gave back is what the gauge said.
 */
#include "tsmap_test.h"

#include <pthread.h>
#include <stdint.h>

/* ---- A counting allocator --------------------------------------------------------------- */

static _Atomic long live_bytes;
static void *count_alloc(size_t size, void *ctx) {
  (void)ctx;
  void *p = NULL;
  if (posix_memalign(&p, 16, size) != 0)
    return NULL;
  atomic_fetch_add(&live_bytes, (long)size);
  return p;
}
static void count_free(void *p, size_t size, void *ctx) {
  (void)ctx;
  atomic_fetch_sub(&live_bytes, (long)size);
  free(p);
}
static const tsmap_allocator counting = {count_alloc, count_free, NULL};

/* ---- A reader held in its section ------------------------------------------------------- */

static _Thread_local int hold_here; /* only the held reader's comparisons wait */
static _Atomic int held, release_reader;

static int holding_equal(const void *a, size_t a_len, const void *b, size_t b_len, void *ctx) {
  (void)ctx;
  if (hold_here) {
    atomic_store(&held, 1);
    while (!atomic_load(&release_reader))
      tsmap_test_pause();
  }
  return a_len == b_len && memcmp(a, b, a_len) == 0;
}

#define KEY_LEN 40 /* a long key: a block of its own (24 bytes of header, then the key) */

static void long_key(char *key, uint64_t i) {
  memset(key, 'r', KEY_LEN);
  memcpy(key, &i, sizeof i);
}

typedef struct held_reader {
  pthread_t thread;
  tsmap *m;
} held_reader;

static void *reader_main(void *arg) {
  held_reader *r = (held_reader *)arg;
  char key[KEY_LEN];
  long_key(key, 0); /* key 0 stays in the map: its lookup calls the equality */
  uint64_t v = 0;
  hold_here = 1;
  CHECK_ST(tsmap_get(r->m, key, KEY_LEN, &v), TSMAP_OK);
  return NULL;
}

/* Start a reader and return once it is inside its section (the equality called). */
static void hold_reader(held_reader *r, tsmap *m) {
  atomic_store(&held, 0);
  atomic_store(&release_reader, 0);
  r->m = m;
  CHECK(pthread_create(&r->thread, NULL, reader_main, r) == 0);
  while (!atomic_load(&held))
    tsmap_test_pause();
}
static void let_reader_go(held_reader *r) {
  atomic_store(&release_reader, 1);
  pthread_join(r->thread, NULL);
}

static tsmap *new_map(const char *name, size_t initial, const tsmap_allocator *al) {
  tsmap_config c;
  tsmap_config_init(&c, sizeof(uint64_t));
  c.shard_count = 1;
  c.initial_capacity = initial;
  c.equal = holding_equal;
  c.allocator = al;
  c.name = name;
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&c, &m), TSMAP_OK);
  return m;
}

static long long gauge(tsmap *m, const char *series) {
  static char text[1 << 16];
  size_t len = 0;
  if (tsmap_metrics_format(m, text, sizeof text, &len) != TSMAP_OK)
    return -1;
  return tsmap_test_series_value(text, series);
}
#define RETIRED(m, name) gauge(m, "tsmap_retired_bytes{map=\"" name "\"}")

static void put_keys(tsmap *m, uint64_t from, uint64_t to) {
  char key[KEY_LEN];
  for (uint64_t i = from; i < to; i++) {
    long_key(key, i);
    CHECK_ST(tsmap_put(m, key, KEY_LEN, &i, NULL), TSMAP_OK);
  }
}

/* ---- Tests ------------------------------------------------------------------------------ */

/* Removed long keys: each block is retired, and counted exactly (its allocation's bytes)
 * until a maintain after the reader left frees it; the allocator gets back exactly that. */
static void test_removed_keys_are_counted_until_freed(void) {
  enum { N = 1000 };
  tsmap *m = new_map("retired-keys", 4 * N, &counting); /* no growth: blocks alone */
  put_keys(m, 0, N + 1);
  CHECK(RETIRED(m, "retired-keys") == 0);
  held_reader r;
  hold_reader(&r, m);
  char key[KEY_LEN];
  for (uint64_t i = 1; i <= N; i++) {
    long_key(key, i);
    CHECK_ST(tsmap_remove(m, key, KEY_LEN, NULL), TSMAP_OK);
  }
  CHECK_ST(tsmap_maintain(m, SIZE_MAX), TSMAP_OK); /* frees nothing: the reader is there */
  long long held_bytes = RETIRED(m, "retired-keys");
  long long block = 24 + KEY_LEN; /* sizeof (tsmap_keyblock) + the key: what was allocated */
  fprintf(stderr, "  %d removed keys, reader held: retired %lld bytes\n", N, held_bytes);
  CHECK(held_bytes == N * block);
  let_reader_go(&r);
  long before = atomic_load(&live_bytes);
  CHECK_ST(tsmap_maintain(m, SIZE_MAX), TSMAP_OK);
  long freed = before - atomic_load(&live_bytes);
  fprintf(stderr, "  reader gone, maintained: retired %lld bytes, allocator gave back %ld\n",
          RETIRED(m, "retired-keys"), freed);
  CHECK(RETIRED(m, "retired-keys") == 0);
  CHECK(freed == held_bytes);
  tsmap_destroy(m);
}

/* A growth's old table: retired when the growth ends, counted (at least the half of the
 * new table's bytes it held) while the reader is held, 0 after it left and maintain ran.
 * With the default (mapped) tables and with an allocator's. */
static void grows_while_held(const tsmap_allocator *al, const char *name, const char *series) {
  tsmap *m = new_map(name, 64, al);
  put_keys(m, 0, 1);
  held_reader r;
  hold_reader(&r, m);
  long long table_before = -1, retired = 0;
  char tb[128];
  snprintf(tb, sizeof tb, "tsmap_table_bytes{map=\"%s\"}", name);
  uint64_t next = 1;
  while (retired == 0 && next < 100000) { /* until the first growth ends */
    table_before = gauge(m, tb);
    put_keys(m, next, next + 64);
    next += 64;
    retired = gauge(m, series);
  }
  /* growths may go on: insert a few thousand more while the reader is held */
  put_keys(m, next, next + 5000);
  next += 5000;
  CHECK_ST(tsmap_maintain(m, SIZE_MAX), TSMAP_OK);
  long long held_bytes = gauge(m, series), table = gauge(m, tb);
  fprintf(stderr, "  %s: first growth retired %lld bytes (tables %lld before); after %llu "
          "keys and a maintain, reader held: retired %lld, tables %lld\n", name, retired,
          table_before, (unsigned long long)next, held_bytes, table);
  CHECK(retired > 0 && retired <= table_before); /* the old table, or a part of it */
  CHECK(held_bytes >= retired && held_bytes < table); /* old tables sum below the new */
  let_reader_go(&r);
  long before = atomic_load(&live_bytes);
  CHECK_ST(tsmap_maintain(m, SIZE_MAX), TSMAP_OK);
  long freed = before - atomic_load(&live_bytes);
  CHECK(gauge(m, series) == 0);
  if (al) /* the tables' bytes themselves; their headers (heap blocks) come on top */
    CHECK(freed >= held_bytes && freed < held_bytes + 4096);
  char key[KEY_LEN];
  for (uint64_t i = 0; i < next; i += 97) { /* the entries are all there */
    uint64_t v = ~0ull;
    long_key(key, i);
    CHECK_ST(tsmap_get(m, key, KEY_LEN, &v), TSMAP_OK);
    CHECK(v == i);
  }
  tsmap_destroy(m);
}
static void test_old_tables_are_counted_until_freed(void) {
  grows_while_held(NULL, "retired-mapped", "tsmap_retired_bytes{map=\"retired-mapped\"}");
  grows_while_held(&counting, "retired-alloc", "tsmap_retired_bytes{map=\"retired-alloc\"}");
}

/* Writes free what the epoch allows too (every 16th write of a shard with something
 * retired): with no reader, the gauge goes back to 0 without a maintain. */
static void test_writes_free_it_too(void) {
  tsmap *m = new_map("retired-writes", 4096, NULL);
  put_keys(m, 0, 1000);
  char key[KEY_LEN];
  for (uint64_t i = 0; i < 1000; i++) {
    long_key(key, i);
    CHECK_ST(tsmap_remove(m, key, KEY_LEN, NULL), TSMAP_OK);
  }
  CHECK(RETIRED(m, "retired-writes") > 0); /* the last removals wait at least */
  long long last = -1;
  for (uint64_t i = 0; i < 256 && (last = RETIRED(m, "retired-writes")) != 0; i++) {
    uint64_t k = 1000 + i % 4; /* short keys: overwrites retire nothing */
    tsmap_status st = tsmap_put(m, &k, sizeof k, &i, NULL);
    CHECK(st == TSMAP_OK || st == TSMAP_REPLACED);
  }
  CHECK(last == 0);
  tsmap_destroy(m);
}

TEST_MAIN(T(test_removed_keys_are_counted_until_freed),
          T(test_old_tables_are_counted_until_freed), T(test_writes_free_it_too))
