/*
 * test_lock.c - the shard lock (runtime/DESIGN.md, "The shard lock"): a waiter spins, then
 * sleeps on the lock word until an unlock wakes it. A lost wake-up leaves a sleeper asleep
 * for good once the other threads are done with the lock: each test here has threads
 * outnumbering the CPUs take one lock many times, with holds long enough now and then to
 * send waiters to sleep, and a progress watchdog that fails the test (exit 3, naming it)
 * when no thread gets the lock for STALL seconds. The counts then say that no two threads
 * ever held the lock at once. Also under TSan and ASan.
 */
#include "tsmap_test.h"

#include "tsmap_internal.h"

#include <pthread.h>

#ifdef TSMAP_STRESS_SMALL
#define ROUNDS 4000u
#define HANDOFFS 15u
#else
#define ROUNDS 40000u
#define HANDOFFS 60u /* each a chain of 7 wake-ups: ~50 ms on a loaded 2-CPU machine */
#endif
#define THREADS 8u
#define STALL 30.0 /* seconds without progress: a sleeper nobody wakes */

static _Atomic uint64_t g_progress;
static _Atomic int g_done;
static const char *g_test;

/* Fails the test when g_progress stops moving before g_done. */
static void *watchdog(void *arg) {
  (void)arg;
  uint64_t seen = atomic_load(&g_progress);
  double since = tsmap_test_now();
  while (!atomic_load(&g_done)) {
    struct timespec nap = {0, 20 * 1000 * 1000};
    nanosleep(&nap, NULL);
    uint64_t now = atomic_load(&g_progress);
    if (now != seen) {
      seen = now;
      since = tsmap_test_now();
    } else if (tsmap_test_now() - since > STALL) {
      fprintf(stderr, "%s: no progress for %.0f s (a waiter was never woken?)\n", g_test,
              STALL);
      _exit(3);
    }
  }
  return NULL;
}

typedef struct {
  pthread_t th;
  pthread_t dog;
} harness;
static void harness_start(harness *h, const char *name) {
  g_test = name;
  atomic_store(&g_progress, 0);
  atomic_store(&g_done, 0);
  CHECK(pthread_create(&h->dog, NULL, watchdog, NULL) == 0);
}
static void harness_stop(harness *h) {
  atomic_store(&g_done, 1);
  pthread_join(h->dog, NULL);
}

static uint64_t xorshift(uint64_t *x) {
  *x ^= *x << 13;
  *x ^= *x >> 7;
  *x ^= *x << 17;
  return *x;
}

/* ---- The lock itself ------------------------------------------------------------------- */

static tsmap_lock g_lock;
static uint64_t g_count;   /* written under g_lock only (plain: TSan sees a race if not) */
static _Atomic int g_inside; /* threads inside the critical section: never above 1 */
static _Atomic int g_overlap;

static void *locker(void *arg) {
  uint64_t x = (uint64_t)(uintptr_t)arg * 0x9E3779B97F4A7C15ull + 1;
  for (unsigned i = 0; i < ROUNDS; i++) {
    uint64_t r = xorshift(&x);
    tsmap_lock_acquire(&g_lock);
    if (atomic_fetch_add(&g_inside, 1) != 0)
      atomic_fetch_add(&g_overlap, 1);
    g_count++;
    if ((r & 63) == 0) { /* a long hold now and then: the waiters go to sleep */
      struct timespec nap = {0, 20 * 1000};
      nanosleep(&nap, NULL);
    } else if ((r & 7) == 0) {
      for (int k = 0; k < 64; k++)
        tsmap_cpu_relax();
    }
    atomic_fetch_sub(&g_inside, 1);
    tsmap_lock_release(&g_lock);
    atomic_fetch_add_explicit(&g_progress, 1, memory_order_relaxed);
    if ((r & 0x300) == 0) /* and sometimes a pause outside it */
      tsmap_test_pause();
  }
  return NULL;
}

static void test_lock_many_waiters_no_lost_wakeup(void) {
  harness h;
  harness_start(&h, "test_lock_many_waiters_no_lost_wakeup");
  atomic_init(&g_lock.held, 0);
  g_count = 0;
  pthread_t th[THREADS];
  for (uintptr_t i = 0; i < THREADS; i++)
    CHECK(pthread_create(&th[i], NULL, locker, (void *)(i + 1)) == 0);
  for (unsigned i = 0; i < THREADS; i++)
    pthread_join(th[i], NULL);
  harness_stop(&h);
  CHECK(g_count == (uint64_t)THREADS * ROUNDS);
  CHECK(atomic_load(&g_overlap) == 0);
  CHECK(atomic_load(&g_lock.held) == 0); /* free, and no waiter flag left behind */
}

/* A lock that is taken, then freed while waiters sleep, many times over: each round one
 * thread holds it while the others pile up (and sleep), then lets go; every waiter must
 * get it in turn. A lost wake-up here stalls the round. */
static _Atomic unsigned g_round_got;
static void *round_waiter(void *arg) {
  unsigned rounds = (unsigned)(uintptr_t)arg;
  for (unsigned r = 0; r < rounds; r++) {
    tsmap_lock_acquire(&g_lock);
    g_count++;
    tsmap_lock_release(&g_lock);
    atomic_fetch_add(&g_round_got, 1);
    atomic_fetch_add_explicit(&g_progress, 1, memory_order_relaxed);
    /* wait for the next round (bounded by the watchdog; sleeps, never a bare yield) */
    while (atomic_load(&g_round_got) < (r + 1) * (THREADS - 1) && !atomic_load(&g_done))
      tsmap_test_pause();
  }
  return NULL;
}
static void test_lock_handoff_to_sleepers(void) {
  harness h;
  harness_start(&h, "test_lock_handoff_to_sleepers");
  atomic_init(&g_lock.held, 0);
  atomic_store(&g_round_got, 0);
  g_count = 0;
  unsigned rounds = HANDOFFS;
  pthread_t th[THREADS - 1];
  tsmap_lock_acquire(&g_lock);
  for (uintptr_t i = 0; i < THREADS - 1; i++)
    CHECK(pthread_create(&th[i], NULL, round_waiter, (void *)(uintptr_t)rounds) == 0);
  int asleep_seen = 0;
  for (unsigned r = 0; r < rounds; r++) {
    /* hold it ~200 us: long past the waiters' spinning, so they sleep */
    struct timespec nap = {0, 200 * 1000};
    nanosleep(&nap, NULL);
    asleep_seen |= atomic_load(&g_lock.held) == 2;
    tsmap_lock_release(&g_lock);
    while (atomic_load(&g_round_got) < (r + 1) * (THREADS - 1))
      tsmap_test_pause(); /* the watchdog fails a round that never completes */
    tsmap_lock_acquire(&g_lock);
    atomic_fetch_add_explicit(&g_progress, 1, memory_order_relaxed);
  }
  tsmap_lock_release(&g_lock);
  for (unsigned i = 0; i < THREADS - 1; i++)
    pthread_join(th[i], NULL);
  harness_stop(&h);
  CHECK(g_count == (uint64_t)(THREADS - 1) * rounds);
#if defined(__linux__)
  CHECK(asleep_seen); /* the waiters did go to sleep (else this test tests only spinning) */
#endif
  CHECK(atomic_load(&g_lock.held) == 0);
}

/* ---- Through the map: one shard, writers outnumbering the CPUs -------------------------- */

static tsmap *g_map;
static void *map_writer(void *arg) {
  uint64_t id = (uint64_t)(uintptr_t)arg, x = id * 0x9E3779B97F4A7C15ull + 7;
  for (uint64_t i = 0; i < ROUNDS; i++) {
    uint64_t r = xorshift(&x);
    uint64_t k = id * 1000000 + (r & 255), v = i;
    tsmap_status st = tsmap_put(g_map, &k, 8, &v, NULL);
    CHECK(st == TSMAP_OK || st == TSMAP_REPLACED);
    if ((r & 3) == 0) {
      st = tsmap_remove(g_map, &k, 8, NULL);
      CHECK(st == TSMAP_OK || st == TSMAP_NOT_FOUND);
    }
    atomic_fetch_add_explicit(&g_progress, 1, memory_order_relaxed);
  }
  /* last, a key of its own with a known value */
  uint64_t k = id * 1000000 + 999999, v = id;
  CHECK_ST(tsmap_put(g_map, &k, 8, &v, NULL), TSMAP_OK);
  return NULL;
}
static void test_lock_one_shard_writers(void) {
  harness h;
  harness_start(&h, "test_lock_one_shard_writers");
  tsmap_config c;
  CHECK_ST(tsmap_config_init(&c, 8), TSMAP_OK);
  c.key_size = 8;
  c.shard_count = 1;
  CHECK_ST(tsmap_create(&c, &g_map), TSMAP_OK);
  pthread_t th[THREADS];
  for (uintptr_t i = 0; i < THREADS; i++)
    CHECK(pthread_create(&th[i], NULL, map_writer, (void *)(i + 1)) == 0);
  for (unsigned i = 0; i < THREADS; i++)
    pthread_join(th[i], NULL);
  harness_stop(&h);
  for (uint64_t id = 1; id <= THREADS; id++) {
    uint64_t k = id * 1000000 + 999999, v = 0;
    CHECK_ST(tsmap_get(g_map, &k, 8, &v), TSMAP_OK);
    CHECK(v == id);
  }
  CHECK_ST(tsmap_destroy(g_map), TSMAP_OK);
}

int main(int argc, char **argv) {
  static const tsmap_test_case cases[] = {
      {"test_lock_many_waiters_no_lost_wakeup", test_lock_many_waiters_no_lost_wakeup},
      {"test_lock_handoff_to_sleepers", test_lock_handoff_to_sleepers},
      {"test_lock_one_shard_writers", test_lock_one_shard_writers},
  };
  tsmap_test_watchdog("test_lock (whole file)", 250);
  return tsmap_test_run(cases, sizeof cases / sizeof cases[0], argc, argv);
}
