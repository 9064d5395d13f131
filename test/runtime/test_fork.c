/*
 * test_fork.c - G16 (e): what other threads of the parent were doing at a fork does not
 * hang the child. fork copies only the calling thread: a shard lock another thread held,
 * or a compute_if_absent callback it was running, would otherwise stay held or in flight
 * in the child for ever. Each child runs under alarm(): a hang is a failed child.
 */
#include "tsmap_test.h"

#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

enum { N_KEYS = 4096, ROUNDS = 24 };

typedef struct writer {
  tsmap *m;
  _Atomic int stop, started;
  unsigned seed;
} writer;

static void *write_until_stopped(void *arg) {
  writer *w = (writer *)arg;
  uint64_t k = w->seed;
  atomic_store(&w->started, 1);
  while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
    k = (k * 6364136223846793005ull + 1442695040888963407ull);
    uint64_t key = (k >> 33) % N_KEYS, v = key;
    (void)tsmap_put(w->m, &key, 8, &v, NULL);
  }
  return NULL;
}

/* Runs `child` in ROUNDS children forked `nap_ns` apart; returns how many failed or hung. */
static int fork_children(void (*child)(tsmap *m), tsmap *m, long nap_ns) {
  int failed = 0;
  for (int round = 0; round < ROUNDS; round++) {
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
      tsmap_test_failures = 0; /* the child's own, not the parent's so far */
      alarm(5);
      child(m);
      _exit(tsmap_test_failures ? 1 : 0);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    failed += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    struct timespec nap = {0, nap_ns};
    nanosleep(&nap, NULL);
  }
  return failed;
}

/* The child writes every key (every shard), removes and counts, and destroys the map. */
static void write_everything(tsmap *m) {
  for (uint64_t k = 0; k < N_KEYS; k++) {
    uint64_t v = k + 1;
    tsmap_status st = tsmap_put(m, &k, 8, &v, NULL);
    CHECK(st == TSMAP_OK || st == TSMAP_REPLACED);
  }
  for (uint64_t k = 0; k < N_KEYS; k += 2)
    CHECK_ST(tsmap_remove(m, &k, 8, NULL), TSMAP_OK);
  size_t size = 0;
  CHECK_ST(tsmap_size(m, &size), TSMAP_OK);
  CHECK(size == N_KEYS / 2);
  tsmap_destroy(m);
}

/* Forks ROUNDS children of a 4-shard map of N_KEYS entries while a writer and `other` (a
 * second writer, or a resharder) run; each child runs `child`; the parent's map keeps
 * every entry. */
static void fork_beside(void *(*other)(void *), size_t max_shards, void (*child)(tsmap *m),
                        long nap_ns) {
  tsmap_config c;
  tsmap_config_init(&c, 8);
  c.key_size = 8;
  c.shard_count = 4; /* few shards: a writer holds one of them much of the time */
  if (max_shards)
    c.max_shard_count = max_shards;
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&c, &m), TSMAP_OK);
  for (uint64_t k = 0; k < N_KEYS; k++)
    CHECK_ST(tsmap_put(m, &k, 8, &k, NULL), TSMAP_OK);
  writer w[2] = {{m, 0, 0, 1}, {m, 0, 0, 2}};
  void *(*run[2])(void *) = {write_until_stopped, other};
  pthread_t t[2];
  for (int i = 0; i < 2; i++) {
    CHECK(pthread_create(&t[i], NULL, run[i], &w[i]) == 0);
    while (!atomic_load(&w[i].started))
      tsmap_test_pause();
  }
  int failed = fork_children(child, m, nap_ns);
  fprintf(stderr, "  %d of %d children failed\n", failed, ROUNDS);
  CHECK(failed == 0);
  for (int i = 0; i < 2; i++) {
    atomic_store(&w[i].stop, 1);
    CHECK(pthread_join(t[i], NULL) == 0);
  }
  size_t size = 0;
  CHECK_ST(tsmap_size(m, &size), TSMAP_OK);
  CHECK(size == N_KEYS); /* the parent's map: the forks changed nothing */
  tsmap_destroy(m);
}

static void test_g16_a_child_forked_while_others_write(void) {
  fork_beside(write_until_stopped, 0, write_everything, 200000);
}

/* The same while a third thread reshards up and down (pairs of shard locks, the phase
 * mutex): the child finishes the reshard it inherits with tsmap_maintain. */
static void *reshard_until_stopped(void *arg) {
  writer *w = (writer *)arg;
  unsigned r = w->seed;
  atomic_store(&w->started, 1);
  while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
    r = r * 1103515245u + 12345u;
    (void)tsmap_reshard(w->m, (size_t)1 << ((r >> 16) % 7));
    struct timespec nap = {0, (long)((r >> 8) % 1000) * 1000};
    nanosleep(&nap, NULL);
  }
  return NULL;
}
static void finish_and_write_everything(tsmap *m) {
  size_t count = 0, target = 1;
  for (int i = 0; i < 100000; i++) {
    CHECK_ST(tsmap_shard_counts(m, &count, &target), TSMAP_OK);
    if (count == target)
      break;
    tsmap_maintain(m, 4096);
  }
  CHECK(count == target);
  write_everything(m);
}
static void test_g16_a_child_forked_while_others_write_and_reshard(void) {
  fork_beside(reshard_until_stopped, 64, finish_and_write_everything, 300000);
}

/* A compute_if_absent whose callback another thread of the parent runs at the fork: in
 * the child nobody will finish it, so the child's caller for that key runs its own. */
static _Atomic int g_in_callback, g_forked;
static int slow_absent(const void *key, size_t key_len, void *ctx, void *value_out) {
  (void)key;
  (void)key_len;
  (void)ctx;
  atomic_store(&g_in_callback, 1);
  while (!atomic_load(&g_forked)) /* in flight until the parent has forked */
    tsmap_test_pause();
  uint64_t v = 7;
  memcpy(value_out, &v, 8);
  return 0;
}
static int quick_absent(const void *key, size_t key_len, void *ctx, void *value_out) {
  (void)key;
  (void)key_len;
  (void)ctx;
  uint64_t v = 8;
  memcpy(value_out, &v, 8);
  return 0;
}
typedef struct computer {
  tsmap *m;
  uint64_t key;
} computer;
static void *compute_slowly(void *arg) {
  computer *c = (computer *)arg;
  uint64_t v = 0;
  CHECK_ST(tsmap_compute_if_absent(c->m, &c->key, 8, slow_absent, NULL, &v), TSMAP_OK);
  CHECK(v == 7);
  return NULL;
}

static void test_g16_a_child_forked_while_another_thread_computes(void) {
  tsmap_config c;
  tsmap_config_init(&c, 8);
  c.key_size = 8;
  c.shard_count = 4;
  int failed = 0;
  for (int round = 0; round < 4; round++) {
    tsmap *m = NULL;
    CHECK_ST(tsmap_create(&c, &m), TSMAP_OK);
    computer cp = {m, 1000 + (uint64_t)round};
    atomic_store(&g_in_callback, 0);
    atomic_store(&g_forked, 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, compute_slowly, &cp) == 0);
    while (!atomic_load(&g_in_callback))
      tsmap_test_pause();
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
      tsmap_test_failures = 0;
      alarm(5);
      uint64_t v = 0;
      CHECK_ST(tsmap_compute_if_absent(m, &cp.key, 8, quick_absent, NULL, &v), TSMAP_OK);
      CHECK(v == 8); /* the parent's callback never finishes here */
      CHECK_ST(tsmap_get(m, &cp.key, 8, &v), TSMAP_OK);
      CHECK(v == 8);
      tsmap_destroy(m);
      _exit(tsmap_test_failures ? 1 : 0);
    }
    atomic_store(&g_forked, 1);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    failed += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    CHECK(pthread_join(t, NULL) == 0);
    uint64_t v = 0;
    CHECK_ST(tsmap_get(m, &cp.key, 8, &v), TSMAP_OK);
    CHECK(v == 7); /* in the parent, the callback finished as if no fork happened */
    tsmap_destroy(m);
  }
  fprintf(stderr, "  %d of 4 children failed\n", failed);
  CHECK(failed == 0);
}

/* A thread writing every named map's metrics holds the registry's lock while its writer
 * runs (slowly here): a child creating and destroying a named map must not wait for it. */
static _Atomic int g_exposing_stop, g_exposing;
static int slow_writer(const char *text, size_t len, void *ctx) {
  (void)text;
  (void)len;
  (void)ctx;
  atomic_store(&g_exposing, 1);
  struct timespec nap = {0, 20000};
  nanosleep(&nap, NULL);
  return 0;
}
static void *expose_until_stopped(void *arg) {
  (void)arg;
  while (!atomic_load(&g_exposing_stop)) {
    (void)tsmap_metrics_write_all(slow_writer, NULL);
    struct timespec gap = {0, 200000}; /* a scraper's pause, shorter than an exposition */
    nanosleep(&gap, NULL);
  }
  return NULL;
}
static void create_named_and_destroy(tsmap *m) {
  (void)m;
  tsmap_config c;
  tsmap_config_init(&c, 8);
  c.key_size = 8;
  c.metrics = 1;
  c.name = "child";
  tsmap *n = NULL;
  CHECK_ST(tsmap_create(&c, &n), TSMAP_OK);
  uint64_t k = 1;
  CHECK_ST(tsmap_put(n, &k, 8, &k, NULL), TSMAP_OK);
  size_t len = 0;
  CHECK_ST(tsmap_metrics_format(NULL, NULL, 0, &len), TSMAP_OK); /* every named map */
  CHECK(len > 0);
  tsmap_destroy(n);
}
static void test_g16_a_child_forked_while_another_thread_exposes_metrics(void) {
  tsmap_config c;
  tsmap_config_init(&c, 8);
  c.key_size = 8;
  c.metrics = 1;
  c.name = "parent";
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&c, &m), TSMAP_OK);
  for (uint64_t k = 0; k < 64; k++)
    CHECK_ST(tsmap_put(m, &k, 8, &k, NULL), TSMAP_OK);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, expose_until_stopped, NULL) == 0);
  while (!atomic_load(&g_exposing))
    tsmap_test_pause();
  int failed = fork_children(create_named_and_destroy, m, 100000);
  fprintf(stderr, "  %d of %d children failed\n", failed, ROUNDS);
  CHECK(failed == 0);
  atomic_store(&g_exposing_stop, 1);
  CHECK(pthread_join(t, NULL) == 0);
  tsmap_destroy(m);
}

TEST_MAIN(T(test_g16_a_child_forked_while_others_write),
          T(test_g16_a_child_forked_while_others_write_and_reshard),
          T(test_g16_a_child_forked_while_another_thread_computes),
          T(test_g16_a_child_forked_while_another_thread_exposes_metrics))
