/* Build: clang-19 -O2 -Iruntime/include -Iannotations/include bench/runtime/lock/lockbench.c
 *   build/runtime/libtsmap.a -lpthread -o lockbench; run: ./lockbench WRITERS HOGS SECONDS
 * (findings.md, "The shard lock's slow path"). */
/* lockbench: writers contending on one shard (shard_count 1), more threads than cores,
 * plus optional CPU hogs. Reports puts/s, process CPU s, and put latency p50/p99/p99.9/
 * p99.99/max (a put on a contended single shard is mostly its lock wait). */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <tsmap/tsmap.h>

#define NB 4096 /* log-linear buckets: 64 sub-buckets per power of two */
static tsmap *g_map;
static atomic_int g_stop;
static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
static unsigned bucket(uint64_t v) {
  if (v < 64) return (unsigned)v;
  unsigned lg = 63 - (unsigned)__builtin_clzll(v); /* >= 6 */
  unsigned sub = (unsigned)(v >> (lg - 6)) & 63;
  unsigned b = (lg - 5) * 64 + sub;
  return b < NB ? b : NB - 1;
}
static uint64_t bucket_lo(unsigned b) {
  if (b < 64) return b;
  unsigned lg = b / 64 + 5, sub = b % 64;
  return ((uint64_t)64 + sub) << (lg - 6);
}
typedef struct { uint64_t hist[NB]; uint64_t ops, max, over1ms, over10ms; unsigned id; } worker;
static void *writer(void *arg) {
  worker *w = arg;
  uint64_t x = w->id * 0x9E3779B97F4A7C15ull + 1;
  while (!atomic_load_explicit(&g_stop, memory_order_relaxed)) {
    for (int i = 0; i < 64; i++) {
      x ^= x << 13; x ^= x >> 7; x ^= x << 17;
      uint64_t k = x & 1023, v = x;
      uint64_t t0 = now_ns();
      if (tsmap_put(g_map, &k, 8, &v, NULL) > TSMAP_REPLACED) abort();
      uint64_t d = now_ns() - t0;
      w->hist[bucket(d)]++;
      if (d > w->max) w->max = d;
      w->over1ms += d > 1000000; w->over10ms += d > 10000000;
      w->ops++;
    }
  }
  return NULL;
}
static void *hog(void *arg) {
  (void)arg;
  volatile uint64_t s = 0;
  while (!atomic_load_explicit(&g_stop, memory_order_relaxed))
    for (int i = 0; i < 100000; i++) s += (uint64_t)i;
  return NULL;
}
int main(int argc, char **argv) {
  int nw = argc > 1 ? atoi(argv[1]) : 8, nh = argc > 2 ? atoi(argv[2]) : 2;
  double secs = argc > 3 ? atof(argv[3]) : 3;
  tsmap_config c;
  tsmap_config_init(&c, 8);
  c.key_size = 8;
  c.shard_count = 1;
  c.initial_capacity = 4096;
  if (tsmap_create(&c, &g_map) != TSMAP_OK) return 1;
  for (uint64_t k = 0; k < 1024; k++) tsmap_put(g_map, &k, 8, &k, NULL);
  worker *ws = calloc((size_t)nw, sizeof *ws);
  pthread_t *wt = calloc((size_t)(nw + nh), sizeof *wt);
  struct rusage r0, r1;
  getrusage(RUSAGE_SELF, &r0);
  uint64_t t0 = now_ns();
  for (int i = 0; i < nh; i++) pthread_create(&wt[nw + i], NULL, hog, NULL);
  for (int i = 0; i < nw; i++) { ws[i].id = (unsigned)i + 1; pthread_create(&wt[i], NULL, writer, &ws[i]); }
  struct timespec sl = {(time_t)secs, (long)((secs - (time_t)secs) * 1e9)};
  nanosleep(&sl, NULL);
  atomic_store(&g_stop, 1);
  for (int i = 0; i < nw + nh; i++) pthread_join(wt[i], NULL);
  uint64_t el = now_ns() - t0;
  getrusage(RUSAGE_SELF, &r1);
  static uint64_t h[NB];
  uint64_t ops = 0, mx = 0, minops = UINT64_MAX, o1 = 0, o10 = 0;
  for (int i = 0; i < nw; i++) {
    for (int b = 0; b < NB; b++) h[b] += ws[i].hist[b];
    ops += ws[i].ops; o1 += ws[i].over1ms; o10 += ws[i].over10ms; if (ws[i].max > mx) mx = ws[i].max;
    if (ws[i].ops < minops) minops = ws[i].ops;
  }
  double q[] = {0.5, 0.99, 0.999, 0.9999};
  uint64_t qv[4]; int qi = 0; uint64_t acc = 0;
  for (int b = 0; b < NB && qi < 4; b++) {
    acc += h[b];
    while (qi < 4 && acc >= (uint64_t)(q[qi] * (double)ops)) qv[qi++] = bucket_lo((unsigned)b);
  }
  double cpu = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec + r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) +
               (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec + r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) / 1e6;
  double sys = (double)(r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) + (double)(r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) / 1e6;
  printf("writers=%d hogs=%d secs=%.1f Mput/s=%.3f minthread_share=%.3f p50=%lu p99=%lu p99.9=%lu p99.99=%lu max=%lu ns >1ms=%lu >10ms=%lu cpu=%.2fs sys=%.2fs nvcsw=%ld nivcsw=%ld\n",
         nw, nh, (double)el / 1e9, (double)ops / ((double)el / 1e3), (double)minops * nw / (double)ops,
         qv[0], qv[1], qv[2], qv[3], mx, o1, o10, cpu, sys, r1.ru_nvcsw - r0.ru_nvcsw, r1.ru_nivcsw - r0.ru_nivcsw);
  tsmap_destroy(g_map);
  return 0;
}
