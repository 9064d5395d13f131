/*
 * tsmap_test.h - a minimal test harness for the runtime's tests: CHECK records a failure
 * (with file and line) and the test goes on; TEST_MAIN runs the listed tests and exits
 * non-zero if any check failed.
 */
#ifndef TSMAP_TEST_H
#define TSMAP_TEST_H

#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <tsmap/tsmap.h>

/* Atomic: stress tests CHECK from many threads. */
static _Atomic int tsmap_test_failures;
static _Atomic int tsmap_test_checks;

#define CHECK(cond)                                                               \
  do {                                                                            \
    tsmap_test_checks++;                                                          \
    if (!(cond)) {                                                                \
      tsmap_test_failures++;                                                      \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);    \
    }                                                                             \
  } while (0)

#define CHECK_ST(expr, want)                                                      \
  do {                                                                            \
    tsmap_status got_ = (expr);                                                   \
    tsmap_test_checks++;                                                          \
    if (got_ != (want)) {                                                         \
      tsmap_test_failures++;                                                      \
      fprintf(stderr, "%s:%d: %s returned %s, expected %s\n", __FILE__, __LINE__, \
              #expr, tsmap_status_name(got_), tsmap_status_name(want));           \
    }                                                                             \
  } while (0)

typedef struct tsmap_test_case {
  const char *name;
  void (*fn)(void);
} tsmap_test_case;

static double tsmap_test_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Let the other threads run: a 1 us sleep, not sched_yield(). On Linux's EEVDF scheduler
 * (6.6 on) each sched_yield pushes the caller's deadline back a whole slice and only a
 * sleep starts it afresh, so a thread that yields in a loop beside CPU-bound processes of
 * its own nice gets almost no CPU: test_versions.c's feed stress ran 20 ms in 40 s beside
 * 12 busy loops and timed out (180 s) in 6 runs of 6; yielding 7 times in 8 still did. */
static inline void tsmap_test_pause(void) {
  static _Thread_local int slack_set;
  if (!slack_set) { /* 1 us of timer slack, not the default 50: a short pause */
    slack_set = 1;
    (void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  }
  struct timespec nap = {0, 1000};
  nanosleep(&nap, NULL);
}

/* Run the tests named on the command line (all when none), report, and return the exit
 * status: non-zero if any check failed or no check ran. */
static inline int tsmap_test_run(const tsmap_test_case *cases, size_t n, int argc, char **argv) {
  for (size_t i = 0; i < n; i++) {
    int selected = argc < 2;
    for (int a = 1; a < argc; a++)
      selected |= strcmp(argv[a], cases[i].name) == 0;
    if (!selected)
      continue;
    int before = tsmap_test_failures;
    double t0 = tsmap_test_now();
    cases[i].fn();
    fprintf(stderr, "%-44s %s (%.2fs)\n", cases[i].name,
            tsmap_test_failures == before ? "ok" : "FAILED", tsmap_test_now() - t0);
  }
  fprintf(stderr, "%d checks, %d failed\n", tsmap_test_checks, tsmap_test_failures);
  return tsmap_test_failures != 0 || tsmap_test_checks == 0;
}

/* A watchdog: a test that hangs fails with its name instead of timing out. Call
 * tsmap_test_watchdog(name, seconds) at a test's start (SIGALRM; the name stays valid). */
static inline const char *volatile *tsmap_test_watch_name(void) {
  static const char *volatile name = "";
  return &name;
}
static inline void tsmap_test_on_alarm(int sig) {
  (void)sig;
  static const char msg[] = "watchdog: a test did not finish in time: ";
  const char *name = *tsmap_test_watch_name();
  (void)!write(2, msg, sizeof msg - 1);
  (void)!write(2, name, strlen(name));
  (void)!write(2, "\n", 1);
  _exit(3);
}
static inline void tsmap_test_watchdog(const char *name, unsigned seconds) {
  *tsmap_test_watch_name() = name;
  signal(SIGALRM, tsmap_test_on_alarm);
  alarm(seconds);
}

/* An allocator for tests: every allocation fails while the _Atomic int its ctx points to
 * is non-zero (`tsmap_allocator al = {tsmap_test_switch_alloc, tsmap_test_free, &flag}`). */
/* The splitmix64 finalizer as a map's hash (config.hash) of 8-byte keys, so that a test
 * can choose each key's shard: bit 32 picks one of two (tsmap_test_shard_key). */
static inline uint64_t tsmap_test_mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
static inline uint64_t tsmap_test_key_hash(const void *key, size_t len, uint64_t seed,
                                           void *ctx) {
  (void)len, (void)seed, (void)ctx;
  uint64_t k;
  memcpy(&k, key, 8);
  return tsmap_test_mix(k);
}
/* The n-th key (from 0) that tsmap_test_key_hash puts in `shard` of two. */
static inline uint64_t tsmap_test_shard_key(unsigned shard, unsigned n) {
  for (uint64_t k = 0;; k++)
    if (((tsmap_test_mix(k) >> 32) & 1u) == shard && n-- == 0)
      return k;
}

static inline void *tsmap_test_switch_alloc(size_t size, void *ctx) {
  return atomic_load((_Atomic int *)ctx) ? NULL : malloc(size);
}
static inline void tsmap_test_free(void *p, size_t size, void *ctx) {
  (void)size, (void)ctx;
  free(p);
}

/* Hooks that count what they are given: on_entry_created runs, and on_entry_evicted
 * runs by reason (tsmap_test_hooks.evicted[TSMAP_EVICT_REPLACED], ...). Set them with
 * tsmap_test_count_hooks(&cfg); zero the counts with memset. */
typedef struct tsmap_test_counts {
  _Atomic long created;
  _Atomic long evicted[TSMAP_EVICT_DISCARDED + 1];
} tsmap_test_counts;
static tsmap_test_counts tsmap_test_hooks;

static inline void tsmap_test_on_created(const void *k, size_t kl, const void *v, void *ctx) {
  (void)k, (void)kl, (void)v, (void)ctx;
  tsmap_test_hooks.created++;
}
static inline void tsmap_test_on_evicted(const void *k, size_t kl, void *v,
                                         tsmap_evict_reason why, void *ctx) {
  (void)k, (void)kl, (void)v, (void)ctx;
  if ((unsigned)why <= TSMAP_EVICT_DISCARDED)
    tsmap_test_hooks.evicted[why]++;
}
static inline void tsmap_test_count_hooks(tsmap_config *cfg) {
  cfg->on_entry_created = tsmap_test_on_created;
  cfg->on_entry_evicted = tsmap_test_on_evicted;
}

/* A storm: `writer` on two threads (given &args[0] and &args[1], `size` bytes each) while
 * `watch(watch_arg)` runs on a third until both are done, which *done tells it. */
static inline void tsmap_test_storm2(void *(*writer)(void *), void *args, size_t size,
                                     void *(*watch)(void *), void *watch_arg,
                                     _Atomic int *done) {
  pthread_t t[2], w;
  atomic_store(done, 0);
  pthread_create(&w, NULL, watch, watch_arg);
  for (int i = 0; i < 2; i++)
    pthread_create(&t[i], NULL, writer, (char *)args + (size_t)i * size);
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
  atomic_store(done, 1);
  pthread_join(w, NULL);
}

/* A ledger of values 0..n-1 counted in (created) and out (evicted): the values that
 * entered (*entered), and returns how many entered more than once or left a different
 * number of times than they entered. */
static inline long tsmap_test_ledger_errors(const _Atomic unsigned char *in,
                                            const _Atomic unsigned char *out, size_t n,
                                            long *entered) {
  long bad = 0;
  *entered = 0;
  for (size_t i = 0; i < n; i++) {
    *entered += in[i];
    bad += in[i] > 1 || out[i] != in[i];
  }
  return bad;
}

/* Where the value of series `series` (its whole label set, a line of its own) starts in
 * Prometheus text `text`, or NULL. */
static inline const char *tsmap_test_series_at(const char *text, const char *series) {
  size_t n = strlen(series);
  for (const char *p = text; (p = strstr(p, series)) != NULL; p += n)
    if ((p == text || p[-1] == '\n') && p[n] == ' ')
      return p + n + 1;
  return NULL;
}
/* That value as an integer, or -1. */
static inline long long tsmap_test_series_value(const char *text, const char *series) {
  const char *v = tsmap_test_series_at(text, series);
  return v ? atoll(v) : -1;
}

/* Drive a reshard (G15) to its end with tsmap_maintain alone; checks that it ended. A
 * phase moves nothing until its helper thread prepared its destinations (R10), which
 * maintain does not wait for: so up to 60 s, with a short sleep now and then. */
static inline void tsmap_test_finish_reshard(tsmap *m) {
  size_t n = 0, target = 0;
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  CHECK_ST(tsmap_shard_counts(m, &n, &target), TSMAP_OK);
  for (long i = 1; n != target; i++) {
    CHECK_ST(tsmap_maintain(m, 256), TSMAP_OK);
    CHECK_ST(tsmap_shard_counts(m, &n, &target), TSMAP_OK);
    if (i % 1024 == 0) {
      struct timespec nap = {0, 100000};
      nanosleep(&nap, NULL);
      clock_gettime(CLOCK_MONOTONIC, &t);
      if (t.tv_sec - t0.tv_sec > 60)
        break;
    }
  }
  CHECK(n == target);
}

/* A field of /proc/self/status in KiB (VmRSS, VmData...), or -1. */
static inline long tsmap_test_status_kib(const char *field) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long v = -1;
  size_t n = strlen(field);
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, field, n) == 0 && line[n] == ':')
      v = atol(line + n + 1);
  if (f)
    fclose(f);
  return v;
}

/* A compute callback adding 1 to an 8-byte count (absent: 0), for sums that must be
 * exact. */
static inline tsmap_verdict tsmap_test_add_one(const void *key, size_t key_len,
                                               const void *old, void *ctx, void *out) {
  (void)key, (void)key_len, (void)ctx;
  uint64_t v = 0;
  if (old)
    memcpy(&v, old, 8);
  v++;
  memcpy(out, &v, 8);
  return TSMAP_STORE;
}

#define TEST_MAIN(...)                                                            \
  int main(int argc, char **argv) {                                               \
    static const tsmap_test_case cases_[] = {__VA_ARGS__};                        \
    return tsmap_test_run(cases_, sizeof cases_ / sizeof cases_[0], argc, argv);  \
  }
#define T(fn) {#fn, fn}

#endif /* TSMAP_TEST_H */
