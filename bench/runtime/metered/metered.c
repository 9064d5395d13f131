/* metered.c - metrics on against metrics off, paired in one process (issue 21).
 *
 * Two maps of the same shape as the bench's (8-byte keys and values, default shards),
 * one created with config.metrics, are filled with the same keys; then windows of the
 * same uniform get/overwrite mix (A: 5% writes, C: 50%) run on each map in turn, the
 * order alternating by round, with `threads` threads per window. Each window's figure
 * is CPU time per operation (CLOCK_THREAD_CPUTIME_ID summed over its threads, so time
 * the threads spent descheduled on a loaded machine is left out) and wall Mops/s. The
 * medians over rounds and their ratio are printed, off / on (>= 0.95 is issue 21's
 * target). Pairing the maps window by window in one process keeps the other tenants'
 * load, the machine's frequency and the heap's layout common to both, which separate
 * runs of tsmap_bench_runtime (TSMAP_BENCH_METRICS=1 against 0) do not: on the loaded
 * 2-core VM of 2026-12-05 those spread by +-5%, these by +-3%.
 *
 * Usage: tsmap_bench_metered [keys] [write_percent] [rounds] [threads] [ops_per_window]
 *        (defaults 1000000 5 9 1 2000000; keys are numbers mixed into 64-bit keys, as
 *        the bench's key_of does, drawn uniformly from [0, keys)). With
 *        TSMAP_BENCH_PAIR=versions the second map is created with config.versions
 *        instead of config.metrics (issue 22: a versioned map's C against the plain map's);
 *        with TSMAP_BENCH_PAIR=bound_never or bound_half, with max_entries at twice or half
 *        the keys (issue 20: a bound never reached, and one that evicts, against no bound).
 *        With TSMAP_BENCH_PAIR=plain both maps are plain: what the pairing itself spreads.
 *        TSMAP_BENCH_SWAP=1 creates and fills the second map first. */
#define _GNU_SOURCE
#include <tsmap/tsmap.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_THREADS 16
#define MAX_ROUNDS 101
#define STREAM (1u << 20) /* operations in a thread's stream (it wraps) */
#define WRITE_BIT 0x80000000u

static uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  return x ^ (x >> 33);
}

static double clock_ns(clockid_t c) {
  struct timespec t;
  clock_gettime(c, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* One thread's share of a window: its stream, where it starts, and what it measured. */
typedef struct worker {
  pthread_t tid;
  tsmap *map;
  const uint32_t *stream;
  size_t start, ops;
  pthread_barrier_t *gate;
  double cpu_ns;
  uint64_t sink;
} worker;

static void *worker_run(void *arg) {
  worker *w = (worker *)arg;
  uint64_t sink = 0;
  pthread_barrier_wait(w->gate);
  double t0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
  for (size_t o = 0, pos = w->start; o < w->ops; o++, pos = (pos + 1) & (STREAM - 1)) {
    uint32_t e = w->stream[pos];
    uint64_t k = mix64(e & ~WRITE_BIT), v;
    if (e & WRITE_BIT) {
      v = k ^ o;
      tsmap_put(w->map, &k, 8, &v, NULL);
    } else if (tsmap_get(w->map, &k, 8, &v) == TSMAP_OK) {
      sink += v;
    }
  }
  w->cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
  w->sink = sink;
  return NULL;
}

/* One window on `map`: `threads` threads, `ops` operations each. Returns CPU ns per
 * operation; *mops gets the window's wall-clock rate. */
static double window(tsmap *map, uint32_t *const *streams, int threads, size_t ops,
                     size_t start, double *mops, uint64_t *sink) {
  worker w[MAX_THREADS];
  pthread_barrier_t gate;
  pthread_barrier_init(&gate, NULL, (unsigned)threads + 1);
  for (int i = 0; i < threads; i++) {
    w[i] = (worker){.map = map, .stream = streams[i], .start = start, .ops = ops, .gate = &gate};
    if (pthread_create(&w[i].tid, NULL, worker_run, &w[i]) != 0) {
      fprintf(stderr, "metered: pthread_create failed\n");
      exit(1);
    }
  }
  pthread_barrier_wait(&gate);
  double t0 = clock_ns(CLOCK_MONOTONIC), cpu = 0;
  for (int i = 0; i < threads; i++) {
    pthread_join(w[i].tid, NULL);
    cpu += w[i].cpu_ns;
    *sink += w[i].sink;
  }
  *mops = (double)ops * threads / (clock_ns(CLOCK_MONOTONIC) - t0) * 1e3;
  pthread_barrier_destroy(&gate);
  return cpu / ((double)ops * threads);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static long arg(int argc, char **argv, int i, long dflt, long lo, long hi) {
  if (argc <= i)
    return dflt;
  char *end;
  long v = strtol(argv[i], &end, 10);
  if (*end || v < lo || v > hi) {
    fprintf(stderr, "metered: argument %d (%s) must be an integer in [%ld, %ld]\n", i,
            argv[i], lo, hi);
    exit(2);
  }
  return v;
}

int main(int argc, char **argv) {
  long keys = arg(argc, argv, 1, 1000000, 1, 0x7fffffff);
  int write_pct = (int)arg(argc, argv, 2, 5, 0, 100);
  int rounds = (int)arg(argc, argv, 3, 9, 1, MAX_ROUNDS);
  int threads = (int)arg(argc, argv, 4, 1, 1, MAX_THREADS);
  size_t ops = (size_t)arg(argc, argv, 5, 2000000, 1, 1L << 40);
  tsmap *maps[2];
  /* TSMAP_BENCH_SWAP=1: the second map is created and filled first (which map's tables
   * the kernel places first is then the other way round) */
  const int swap = getenv("TSMAP_BENCH_SWAP") != NULL;
  for (int i = 0; i < 2; i++) {
    const int m = swap ? 1 - i : i;
    tsmap_config cfg;
    tsmap_config_init(&cfg, 8);
    cfg.key_size = 8;
    /* TSMAP_BENCH_PAIR=versions: the second map is versioned instead (issue 22) */
    const char *pair = getenv("TSMAP_BENCH_PAIR");
    int ver = pair && strcmp(pair, "versions") == 0;
    /* bound_never / bound_half: max_entries at 2x / half the keys (issue 20) */
    int never = pair && strcmp(pair, "bound_never") == 0;
    int half = pair && strcmp(pair, "bound_half") == 0;
    int same = pair && strcmp(pair, "plain") == 0; /* both plain: the pairing's own noise */
    if (pair && !ver && !never && !half && !same) {
      fprintf(stderr,
              "metered: TSMAP_BENCH_PAIR must be versions, bound_never, bound_half or plain\n");
      return 2;
    }
    cfg.metrics = m && !pair;
    cfg.versions = m && ver;
    if (m && (never || half))
      cfg.max_entries = never ? (size_t)keys * 2 : (size_t)keys / 2;
    if (tsmap_create(&cfg, &maps[m]) != TSMAP_OK) {
      fprintf(stderr, "metered: tsmap_create failed\n");
      return 1;
    }
    for (long k = 0; k < keys; k++) {
      uint64_t kk = mix64((uint64_t)k), v = (uint64_t)k;
      tsmap_put(maps[m], &kk, 8, &v, NULL);
    }
  }
  uint32_t *streams[MAX_THREADS];
  for (int t = 0; t < threads; t++) {
    streams[t] = (uint32_t *)malloc(STREAM * sizeof(uint32_t));
    uint64_t r = 0x9e3779b97f4a7c15ull * (uint64_t)(t + 1);
    for (size_t i = 0; i < STREAM && streams[t]; i++) {
      r = mix64(r + i);
      uint32_t e = (uint32_t)(r % (uint64_t)keys);
      streams[t][i] = e | (((r >> 40) % 100) < (uint64_t)write_pct ? WRITE_BIT : 0);
    }
    if (!streams[t])
      return 1;
  }
  double cpu[2][MAX_ROUNDS], mops[2][MAX_ROUNDS];
  uint64_t sink = 0;
  for (int r = 0; r < rounds; r++)
    for (int j = 0; j < 2; j++) {
      int m = (r & 1) ? 1 - j : j; /* off first, then on first, ... */
      cpu[m][r] = window(maps[m], streams, threads, ops, (size_t)r * 7919, &mops[m][r], &sink);
    }
  double c0 = median(cpu[0], rounds), c1 = median(cpu[1], rounds);
  double w0 = median(mops[0], rounds), w1 = median(mops[1], rounds);
  printf("keys %ld, %d%% writes, %d thread(s), %d rounds of %zu ops a thread (sink %llu)\n",
         keys, write_pct, threads, rounds, ops, (unsigned long long)(sink & 1));
  const char *on = getenv("TSMAP_BENCH_PAIR") ? getenv("TSMAP_BENCH_PAIR") : "metrics";
  printf("plain        %7.1f cpu ns/op  %7.2f Mops/s\n", c0, w0);
  printf("%-12.12s %7.1f cpu ns/op  %7.2f Mops/s\n", on, c1, w1);
  printf("on/off: cpu %.3f  wall %.3f\n", c0 / c1, w1 / w0);
  if (getenv("TSMAP_BENCH_PAIR")) { /* say which map was versioned: tsmap_get_version */
    uint64_t k0 = mix64(0), v, ver;
    printf("(TSMAP_BENCH_PAIR=%s: \"on\" is that map; versions: off %s, on %s)\n",
           getenv("TSMAP_BENCH_PAIR"),
           tsmap_get_version(maps[0], &k0, 8, &v, &ver) == TSMAP_OK ? "yes" : "no",
           tsmap_get_version(maps[1], &k0, 8, &v, &ver) == TSMAP_OK ? "yes" : "no");
  }
  tsmap_destroy(maps[0]);
  tsmap_destroy(maps[1]);
  for (int t = 0; t < threads; t++)
    free(streams[t]);
  return 0;
}
