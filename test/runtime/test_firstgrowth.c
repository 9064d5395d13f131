/*
 * test_firstgrowth.c - the first growths of a process race with nothing (I4, G1).
 *
 * Process-wide state that the runtime initialises lazily (the page size, read on the
 * first table large enough to be mapped) is first touched by whichever writers get there
 * first, and writers of different shards hold different locks. This test makes that
 * happen in a fresh process: a map of two shards, each filled by the main thread to just
 * below the point where its next table is prepared, then two threads, released by one
 * barrier and synchronised by nothing else, push one shard each over that point. Under
 * ThreadSanitizer an unsynchronised first write is then reported in every run (before
 * the page size was an atomic, runtime.tsan.firstgrowth failed 20 runs of 20).
 *
 * Since tsmap_create maps its shard array (its length rounded to the page), the create
 * here reads the page size before the two threads start: this test no longer catches a
 * plain `static size_t page` (0 failures in 20 runs, black-box round 15), which
 * test_first_use.c's first creates do (32 of 32 children).
 *
 * Nothing else may run in this process before it: the state must still be untouched.
 * Plain builds check that both shards grew and every key is there.
 */
#include "tsmap_test.h"

#include <pthread.h>
#include <stdint.h>

#define FILL_BEFORE 320 /* a 64-group shard prepares its next table after ~336 inserts */
#define FILL_AFTER 200  /* enough to start and finish that growth */

typedef struct shard_writer {
  tsmap *m;
  unsigned shard;
  pthread_barrier_t *go;
  int failed;
} shard_writer;



static int put_range(tsmap *m, unsigned shard, unsigned from, unsigned to) {
  int failed = 0;
  for (unsigned i = from; i < to; i++) {
    uint64_t k = tsmap_test_shard_key(shard, i), v = k + 1;
    failed += tsmap_put(m, &k, 8, &v, NULL) != TSMAP_OK;
  }
  return failed;
}

static void *grow_one_shard(void *arg) {
  shard_writer *w = (shard_writer *)arg;
  uint64_t k = tsmap_test_shard_key(w->shard, 0), v;
  w->failed += tsmap_get(w->m, &k, 8, &v) != TSMAP_OK; /* registers this thread first */
  pthread_barrier_wait(w->go);
  w->failed += put_range(w->m, w->shard, FILL_BEFORE, FILL_BEFORE + FILL_AFTER);
  return NULL;
}

static void test_first_growths_of_two_shards_race_with_nothing(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.key_size = 8;
  cfg.shard_count = 2;
  cfg.hash = tsmap_test_key_hash; /* the test chooses each key's shard */
  cfg.initial_capacity = 2 * FILL_BEFORE; /* 64 groups a shard: heap tables, no growth */
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  if (!m)
    return;
  for (unsigned s = 0; s < 2; s++)
    CHECK(put_range(m, s, 0, FILL_BEFORE) == 0);
  pthread_barrier_t go;
  pthread_barrier_init(&go, NULL, 2);
  shard_writer w[2] = {{m, 0, &go, 0}, {m, 1, &go, 0}};
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    pthread_create(&t[i], NULL, grow_one_shard, &w[i]);
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
  pthread_barrier_destroy(&go);
  CHECK(w[0].failed == 0 && w[1].failed == 0);
  size_t n = 0;
  CHECK_ST(tsmap_size(m, &n), TSMAP_OK);
  CHECK(n == 2 * (FILL_BEFORE + FILL_AFTER));
  for (unsigned s = 0; s < 2; s++)
    for (unsigned i = 0; i < FILL_BEFORE + FILL_AFTER; i++) {
      uint64_t k = tsmap_test_shard_key(s, i), v = 0;
      CHECK(tsmap_get(m, &k, 8, &v) == TSMAP_OK && v == k + 1);
    }
  CHECK_ST(tsmap_destroy(m), TSMAP_OK);
}

TEST_MAIN(T(test_first_growths_of_two_shards_race_with_nothing))
