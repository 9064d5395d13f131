/*
 * test_room.c - no probe for a free slot runs for ever under a shard lock (G1, G5, I3).
 * A growth's cur is sized to take old's entries and every insert made while they move
 * (tsmap_grow_start, R7, R8); when a sizing is wrong (black-box round 4 #1: R8's fit was),
 * a growth that finds cur without room rebuilds both tables into one instead of moving
 * old into the full cur, which left an insert probing for ever with the lock held.
 * tsmap_debug_squeeze makes that mistake on purpose: it publishes a table of any size,
 * however small, as a shard's cur with its table as old. Every test arms alarm(), so a
 * hang fails (SIGALRM) instead of blocking the suite.
 */
#include <signal.h>
#include <unistd.h>

#include "tsmap_test.h"

int tsmap_debug_squeeze(tsmap *m, size_t i, size_t ngroups);
size_t tsmap_debug_rebuilds(tsmap *m, size_t i);
void tsmap_debug_growth(tsmap *m, size_t i, size_t *old_groups, size_t *moved);

/* The map kinds whose tables differ: 8-byte keys and values (the fast paths), long
 * variable keys (key blocks), 24-byte keys and values, versions (side words, V5), metrics
 * (birth stamps, M3), expiry (a meta word), a bound (frequency side words, B7). */
enum { K_8V8, K_LONG, K_24, K_VERS, K_METRICS, K_EXPIRY, K_BOUND, K_KINDS };
static const char *const kind_name[K_KINDS] = {"8/8",     "long keys", "24/24", "versions",
                                               "metrics", "expiry",    "bound"};

static _Atomic int alloc_off; /* tsmap_test_switch_alloc: allocations fail while set */
static const tsmap_allocator switch_alloc = {tsmap_test_switch_alloc, tsmap_test_free,
                                             &alloc_off};

static tsmap *new_map(int kind, int user_alloc) {
  tsmap_config c;
  tsmap_config_init(&c, kind == K_24 ? 24 : 8);
  c.key_size = kind == K_LONG ? 0 : kind == K_24 ? 24 : 8;
  c.shard_count = 1;
  c.max_shard_count = 4;
  c.reshard_no_helper = 1; /* the squeeze is a growth of the shard's own */
  c.versions = kind == K_VERS;
  c.metrics = kind == K_METRICS;
  c.expiry = kind == K_EXPIRY;
  c.max_entries = kind == K_BOUND ? 1u << 20 : 0;
  c.allocator = user_alloc ? &switch_alloc : NULL;
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&c, &m), TSMAP_OK);
  return m;
}

/* Key i of the map's kind (24 bytes for long keys: a key block each). */
static size_t key_of(int kind, uint64_t i, uint64_t *k) {
  memset(k, 0, 24);
  k[0] = i * 0x9e3779b97f4a7c15ull + 7;
  k[1] = i;
  return kind == K_LONG || kind == K_24 ? 24 : 8;
}

static tsmap_status put(tsmap *m, int kind, uint64_t i, uint64_t v) {
  uint64_t k[3], val[3] = {v, ~v, v ^ 0x55};
  size_t kl = key_of(kind, i, k);
  return kind == K_EXPIRY ? tsmap_put_ttl(m, k, kl, val, 3600ull * 1000000000ull, NULL)
                          : tsmap_put(m, k, kl, val, NULL);
}

/* Every key in [0, n) present (with value key + gen) or absent as `present` says. */
static long check_model(tsmap *m, int kind, const unsigned char *present, uint64_t n,
                        uint64_t gen) {
  long bad = 0;
  size_t size = 0, want = 0;
  for (uint64_t i = 0; i < n; i++) {
    uint64_t k[3], v[3] = {0};
    size_t kl = key_of(kind, i, k);
    tsmap_status st = tsmap_get(m, k, kl, v);
    want += present[i];
    bad += present[i] ? st != TSMAP_OK || v[0] != i + gen : st != TSMAP_NOT_FOUND;
  }
  CHECK_ST(tsmap_size(m, &size), TSMAP_OK);
  bad += size != want;
  return bad;
}

/* A reader that must find keys [0, stable) on every get while the writer squeezes,
 * grows and rebuilds the shard (the rebuild publishes under gen and the probe words). */
typedef struct reader_arg {
  tsmap *m;
  int kind;
  uint64_t stable;
  _Atomic int stop;
  long misses, gets;
} reader_arg;

static void *reader(void *p) {
  reader_arg *a = p;
  for (uint64_t i = 0; !atomic_load(&a->stop); i = (i + 1) % a->stable) {
    uint64_t k[3], v[3];
    size_t kl = key_of(a->kind, i, k);
    a->misses += tsmap_get(a->m, k, kl, v) != TSMAP_OK || v[0] != i;
    a->gets++;
  }
  return NULL;
}

/* Squeeze shard 0 into `groups` groups with `live` entries, then insert `more` fresh keys,
 * overwrite, remove and insert again, with a reader on the first `live / 2` keys (never
 * written). Returns the rebuilds the shard needed. */
static size_t squeeze_round(int kind, uint64_t live, size_t groups, uint64_t more) {
  tsmap *m = new_map(kind, 0);
  uint64_t n = live + more;
  unsigned char *present = calloc(n, 1);
  for (uint64_t i = 0; i < live; i++) {
    CHECK_ST(put(m, kind, i, i), TSMAP_OK);
    present[i] = 1;
  }
  /* finish any growth the fill left, so the squeeze can start one */
  size_t og = 1, moved = 0;
  for (uint64_t i = 0; og; i = (i + 1) % live) {
    CHECK_ST(put(m, kind, i, i), TSMAP_REPLACED);
    tsmap_debug_growth(m, 0, &og, &moved);
  }
  reader_arg ra = {.m = m, .kind = kind, .stable = live / 2 ? live / 2 : 1};
  pthread_t rt;
  pthread_create(&rt, NULL, reader, &ra);
  CHECK(tsmap_debug_squeeze(m, 0, groups));
  for (uint64_t i = live; i < n; i++) { /* every write an insert: the hardest pace */
    CHECK_ST(put(m, kind, i, i), TSMAP_OK);
    present[i] = 1;
  }
  CHECK(check_model(m, kind, present, n, 0) == 0);
  for (uint64_t i = live / 2; i < n; i += 3) { /* removes leave DELETED slots behind */
    uint64_t k[3];
    size_t kl = key_of(kind, i, k);
    CHECK_ST(tsmap_remove(m, k, kl, NULL), TSMAP_OK);
    present[i] = 0;
  }
  CHECK(check_model(m, kind, present, n, 0) == 0);
  /* the same again on a squeezed table full of DELETED slots, then every key back */
  tsmap_debug_growth(m, 0, &og, &moved);
  if (!og)
    CHECK(tsmap_debug_squeeze(m, 0, groups));
  for (uint64_t i = live / 2; i < n; i++) {
    CHECK_ST(put(m, kind, i, i), present[i] ? TSMAP_REPLACED : TSMAP_OK);
    present[i] = 1;
  }
  atomic_store(&ra.stop, 1);
  pthread_join(rt, NULL);
  CHECK(ra.misses == 0);
  CHECK(check_model(m, kind, present, n, 0) == 0);
  size_t rebuilds = tsmap_debug_rebuilds(m, 0);
  CHECK_ST(tsmap_destroy(m), TSMAP_OK);
  free(present);
  return rebuilds;
}

/* Every kind of map, squeezed into 1 group (room for 6 entries, fewer than old holds), a
 * table that just holds old's entries (the inserts overflow it), and half of that. Before
 * the rebuild, the first insert that found cur full hung for ever (the alarm). */
static void test_i3_a_squeezed_growth_keeps_every_entry(void) {
  alarm(120);
  for (int kind = 0; kind < K_KINDS; kind++) {
    size_t total = 0;
    const uint64_t live = 3000; /* groups_for(3000) = 512: room for 3,072 */
    const size_t sizes[] = {1, 256, 512};
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
      total += squeeze_round(kind, live, sizes[si], 2000);
    fprintf(stderr, "  %-9s: %zu rebuilds\n", kind_name[kind], total);
    CHECK(total >= 3); /* each squeeze ran out of room at least once */
  }
  alarm(0);
}

/* A rebuild needs a table: without memory the insert that needs it fails, the map
 * unchanged (G1), and the next one with memory goes on. The growth's moves wait meanwhile
 * (old keeps what cur has no room for). */
static void test_i3_a_rebuild_without_memory_changes_nothing(void) {
  alarm(120);
  const uint64_t live = 1000, more = 500;
  tsmap *m = new_map(K_8V8, 1);
  unsigned char *present = calloc(live + more, 1);
  for (uint64_t i = 0; i < live; i++) {
    CHECK_ST(put(m, K_8V8, i, i), TSMAP_OK);
    present[i] = 1;
  }
  size_t og = 1, moved = 0;
  for (uint64_t i = 0; og; i = (i + 1) % live) {
    CHECK_ST(put(m, K_8V8, i, i), TSMAP_REPLACED);
    tsmap_debug_growth(m, 0, &og, &moved);
  }
  CHECK(tsmap_debug_squeeze(m, 0, 1));
  atomic_store(&alloc_off, 1);
  long refused = 0;
  for (uint64_t i = live; i < live + more; i++) {
    tsmap_status st = put(m, K_8V8, i, i);
    CHECK(st == TSMAP_OK || st == TSMAP_NO_MEMORY);
    refused += st == TSMAP_NO_MEMORY;
    present[i] = st == TSMAP_OK;
  }
  for (uint64_t i = 0; i < live; i += 7) /* overwrites: their moves wait, nothing hangs */
    CHECK_ST(put(m, K_8V8, i, i), TSMAP_REPLACED);
  CHECK(refused > 0);
  CHECK(check_model(m, K_8V8, present, live + more, 0) == 0);
  CHECK(tsmap_debug_rebuilds(m, 0) == 0);
  atomic_store(&alloc_off, 0);
  for (uint64_t i = live; i < live + more; i++) {
    CHECK_ST(put(m, K_8V8, i, i), present[i] ? TSMAP_REPLACED : TSMAP_OK);
    present[i] = 1;
  }
  CHECK(tsmap_debug_rebuilds(m, 0) >= 1);
  CHECK(check_model(m, K_8V8, present, live + more, 0) == 0);
  CHECK_ST(tsmap_destroy(m), TSMAP_OK);
  free(present);
  alarm(0);
}

/* A squeezed shard that is a reshard's source and then its destination: the pair's scan
 * waits for the source's own growth (which rebuilds), and moves into a squeezed
 * destination find room the same way. */
static void test_i3_a_squeezed_shard_in_a_reshard(void) {
  alarm(120);
  const uint64_t n = 4000;
  tsmap *m = new_map(K_8V8, 0);
  unsigned char *present = calloc(n, 1);
  for (uint64_t i = 0; i < n; i++) {
    CHECK_ST(put(m, K_8V8, i, i), TSMAP_OK);
    present[i] = 1;
  }
  size_t og = 1, moved = 0;
  for (uint64_t i = 0; og; i = (i + 1) % n) {
    CHECK_ST(put(m, K_8V8, i, i), TSMAP_REPLACED);
    tsmap_debug_growth(m, 0, &og, &moved);
  }
  CHECK(tsmap_debug_squeeze(m, 0, 1));
  CHECK_ST(tsmap_reshard(m, 2), TSMAP_OK);
  for (uint64_t i = 0; i < n; i++)
    CHECK_ST(put(m, K_8V8, i, i + 1), TSMAP_REPLACED);
  tsmap_test_finish_reshard(m);
  CHECK(check_model(m, K_8V8, present, n, 1) == 0);
  /* shard 1 squeezed, then halved back into shard 0, also squeezed */
  for (size_t i = 0; i < 2; i++) {
    tsmap_debug_growth(m, i, &og, &moved);
    if (!og)
      CHECK(tsmap_debug_squeeze(m, i, 1));
  }
  CHECK_ST(tsmap_reshard(m, 1), TSMAP_OK);
  for (uint64_t i = 0; i < n; i++)
    CHECK_ST(put(m, K_8V8, i, i + 2), TSMAP_REPLACED);
  tsmap_test_finish_reshard(m);
  CHECK(check_model(m, K_8V8, present, n, 2) == 0);
  CHECK(tsmap_debug_rebuilds(m, 0) + tsmap_debug_rebuilds(m, 1) >= 2);
  CHECK_ST(tsmap_destroy(m), TSMAP_OK);
  free(present);
  alarm(0);
}

/* Through the public API alone: the round-4 pattern (a reshard's source fitted by
 * tsmap_maintain, then every write an insert into it) at many fill levels, and growths
 * from a table full of DELETED slots (a same-size rehash) paced by inserts alone. The
 * sizings hold: no growth ever finds cur without room, so none rebuilds. */
static void test_i3_public_api_growths_never_need_a_rebuild(void) {
  alarm(120);
  const uint64_t keeps[] = {1, 100, 700, 2000, 5000, 12000};
  for (size_t ki = 0; ki < sizeof keeps / sizeof keeps[0]; ki++) {
    const uint64_t n = 20000, keep = keeps[ki];
    tsmap *m = new_map(K_8V8, 0);
    for (uint64_t i = 0; i < n; i++)
      CHECK_ST(put(m, K_8V8, i, i), TSMAP_OK);
    CHECK_ST(tsmap_reshard(m, 2), TSMAP_OK);
    tsmap_test_finish_reshard(m);
    for (uint64_t i = keep; i < n; i++) {
      uint64_t k[3];
      size_t kl = key_of(K_8V8, i, k);
      CHECK_ST(tsmap_remove(m, k, kl, NULL), TSMAP_OK);
    }
    CHECK_ST(tsmap_maintain(m, SIZE_MAX), TSMAP_OK); /* R8: fits the sources */
    for (uint64_t i = keep; i < n; i++)
      CHECK_ST(put(m, K_8V8, i, i), TSMAP_OK);
    unsigned char *present = malloc(n);
    memset(present, 1, n);
    CHECK(check_model(m, K_8V8, present, n, 0) == 0);
    CHECK(tsmap_debug_rebuilds(m, 0) == 0 && tsmap_debug_rebuilds(m, 1) == 0);
    free(present);
    CHECK_ST(tsmap_destroy(m), TSMAP_OK);
  }
  /* DELETED slots: fill, remove almost all, insert fresh keys (same-size rehashes) */
  tsmap *m = new_map(K_8V8, 0);
  for (uint64_t round = 0; round < 20; round++) {
    for (uint64_t i = 0; i < 5000; i++)
      CHECK_ST(put(m, K_8V8, round * 5000 + i, i), TSMAP_OK);
    for (uint64_t i = 0; i < 5000; i++) {
      uint64_t k[3];
      size_t kl = key_of(K_8V8, round * 5000 + i, k);
      if (i % 50)
        CHECK_ST(tsmap_remove(m, k, kl, NULL), TSMAP_OK);
    }
  }
  CHECK(tsmap_debug_rebuilds(m, 0) == 0);
  CHECK_ST(tsmap_destroy(m), TSMAP_OK);
  alarm(0);
}

int main(int argc, char **argv) {
  signal(SIGALRM, SIG_DFL); /* a hang ends the test: killed by the alarm */
  static const tsmap_test_case cases[] = {
      T(test_i3_a_squeezed_growth_keeps_every_entry),
      T(test_i3_a_rebuild_without_memory_changes_nothing),
      T(test_i3_a_squeezed_shard_in_a_reshard),
      T(test_i3_public_api_growths_never_need_a_rebuild),
  };
  return tsmap_test_run(cases, sizeof cases / sizeof cases[0], argc, argv);
}
