/* tail.c - what D's slow inserts are made of (issue 7, workload D at 1 thread).
 *
 * Measures, on this machine: (1) how often the machine itself stops a busy thread for more
 * than the threshold (a loop that only reads the TSC) and, when that is all it is asked,
 * how long one dependent load over 128 MiB takes; then (2) 4,000,000 tsmap_put of
 * fresh 8-byte keys into an empty map, each timed with rdtsc like bench/runtime's D, and
 * sorts every insert by what the write did, read from the shard it went to (runtime
 * internals: this is a diagnostic, built by tail.sh against ../../runtime/src):
 *   plain      nothing but the insert
 *   migrating  the shard was moving entries into a larger table (G5)
 *   populate   the write's chore faulted in the next table, or could have
 *   unmap      the write's chore gave back pages of a reclaimed table
 *   grew       the write started a growth
 * For each class: count, mean latency, total time, and the inserts over the threshold,
 * next to how many the machine's own interruptions predict for that much time. p99.99 of
 * 4M inserts is the 400th slowest: it is over the threshold when 400 inserts are.
 *
 * Usage: tail [threshold_ns] [inserts]      (defaults: 10000, 4000000; 0 inserts: the
 *        machine alone: its interruptions, and its memory latency) */
#include "tsmap_internal.h"

#include "tsc.h"

#include <stdio.h>
#include <stdlib.h>

/* Nanoseconds per dependent load over a 128 MiB random cycle of cache lines: how slow this
 * machine's memory is right now (neighbours on the host move it by 10-30%; a D insert is
 * about one such load). */
static double dependent_load_ns(void) {
  const size_t bytes = (size_t)128 << 20, lines = bytes / 64;
  uint64_t *a = malloc(bytes);
  uint32_t *order = malloc(lines * sizeof *order);
  if (!a || !order) {
    free(a);
    free(order);
    return 0;
  }
  for (size_t i = 0; i < lines; i++)
    order[i] = (uint32_t)i;
  for (size_t i = lines - 1; i > 0; i--) { /* a random cycle through every line */
    size_t j = mix(i) % (i + 1);
    uint32_t t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  for (size_t i = 0; i < lines; i++)
    a[(size_t)order[i] * 8] = (uint64_t)order[(i + 1) % lines] * 8;
  free(order);
  size_t p = 0;
  for (size_t i = 0; i < lines; i++) /* once round: pages and TLB warm */
    p = a[p];
  const long loads = 4000000;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < loads; i++)
    p = a[p];
  clock_gettime(CLOCK_MONOTONIC, &t1);
  volatile size_t sink = p;
  (void)sink;
  free(a);
  return ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / loads;
}

/* Gaps over the threshold per second in a loop that does nothing but read the TSC. */
static double interruptions_per_s(double tpn, double threshold_ns) {
  uint64_t prev = tsc_now(), end = prev + (uint64_t)(2e9 * tpn);
  long gaps = 0;
  for (uint64_t t; (t = tsc_now()) < end; prev = t)
    gaps += (t - prev) / tpn > threshold_ns;
  return gaps / 2.0;
}

enum { PLAIN, MIGRATING, POPULATE, UNMAP, GREW, NCLASS };
static const char *const class_name[NCLASS] = {"plain", "migrating", "populate", "unmap",
                                               "grew"};

int main(int argc, char **argv) {
  double threshold = argc > 1 ? atof(argv[1]) : 10000;
  size_t n = argc > 2 ? (size_t)atoll(argv[2]) : 4000000;
  pin_to_cpu0();
  double tpn = ticks_per_ns();
  double rate = interruptions_per_s(tpn, threshold);
  printf("machine: %.0f interruptions over %.0f us per second of a busy thread\n", rate,
         threshold / 1000);
  if (n == 0) { /* the machine alone (run.sh records both next to D) */
    printf("memory: %.0f ns per dependent load over 128 MiB\n", dependent_load_ns());
    return 0;
  }

  tsmap_config cfg;
  tsmap *m;
  tsmap_config_init(&cfg, 8);
  cfg.key_size = 8;
  if (tsmap_create(&cfg, &m) != TSMAP_OK) {
    fprintf(stderr, "tail: tsmap_create failed\n");
    return 1;
  }
  double total[NCLASS] = {0};
  long count[NCLASS] = {0}, slow[NCLASS] = {0};
  double worst[NCLASS] = {0}; /* each class's slowest insert: what sets D's max */
  size_t worst_at[NCLASS] = {0};
  for (size_t i = 0; i < n; i++) {
    uint64_t k = mix(i), v = i;
    tsmap_key q;
    tsmap_key_prepare(m, &k, 8, &q);
    tsmap_shard *s = q.shard;
    tsmap_table *cur = atomic_load(&s->cur), *old = atomic_load(&s->old);
    int chore = (s->chores + 1) % 2 == 0 || s->next || s->unmapping; /* chore_turn */
    int unmapping = s->unmapping != NULL, next = s->next != NULL;
    uint64_t t0 = tsc_begin();
    tsmap_put(m, &k, 8, &v, NULL);
    uint64_t t1 = tsc_end();
    double ns = (t1 - t0) / tpn;
    int c = atomic_load(&s->cur) != cur    ? GREW
            : chore && unmapping          ? UNMAP
            : chore && (next || s->next)  ? POPULATE
            : old                         ? MIGRATING
                                          : PLAIN;
    count[c]++;
    total[c] += ns;
    slow[c] += ns > threshold;
    if (ns > worst[c]) {
      worst[c] = ns;
      worst_at[c] = i;
    }
  }
  tsmap_destroy(m);

  double all = 0;
  long over = 0;
  printf("%-10s %9s %9s %9s %7s %9s %10s %9s\n", "class", "inserts", "mean ns", "total ms",
         "over", "predicted", "max us", "max at");
  for (int c = 0; c < NCLASS; c++) {
    all += total[c];
    over += slow[c];
    printf("%-10s %9ld %9.1f %9.1f %7ld %9.0f %10.1f %9zu\n", class_name[c], count[c],
           count[c] ? total[c] / count[c] : 0, total[c] / 1e6, slow[c], total[c] * 1e-9 * rate,
           worst[c] / 1e3, worst_at[c]);
  }
  printf("all        %9zu %9.1f %9.1f %7ld %9.0f\n", n, all / n, all / 1e6, over,
         all * 1e-9 * rate);
  printf("p99.99 of %zu inserts is over %.0f us when more than %zu are: %s\n", n,
         threshold / 1000, n / 10000, over > (long)(n / 10000) ? "yes" : "no");
  return 0;
}
