/* tsc.h - what the diagnostics of this folder (tail.c, layout.c) share: a deterministic key
 * stream, the cycle counter read the way bench/runtime's D reads it (src/measure.h), its
 * calibration, and pinning to CPU 0 (like run.sh --pin). x86-64 only. */
#ifndef TSMAP_BENCH_TAIL_TSC_H
#define TSMAP_BENCH_TAIL_TSC_H

#include <sched.h>
#include <stdint.h>
#include <time.h>
#include <x86intrin.h>

static inline uint64_t mix(uint64_t x) { /* splitmix64: distinct keys, a deterministic stream */
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/* The counter, unfenced: for loops that only watch it. */
static inline uint64_t tsc_now(void) {
  unsigned aux;
  return __rdtscp(&aux);
}

/* The counter before the timed work starts. */
static inline uint64_t tsc_begin(void) {
  _mm_lfence();
  uint64_t t = __rdtsc();
  _mm_lfence();
  return t;
}

/* The counter after the timed work has retired. */
static inline uint64_t tsc_end(void) {
  unsigned aux;
  uint64_t t = __rdtscp(&aux);
  _mm_lfence();
  return t;
}

/* Counter ticks per nanosecond, against CLOCK_MONOTONIC over 100 ms. */
static inline double ticks_per_ns(void) {
  struct timespec a, b, pause = {0, 100000000};
  clock_gettime(CLOCK_MONOTONIC, &a);
  uint64_t t0 = tsc_now();
  nanosleep(&pause, NULL);
  uint64_t t1 = tsc_now();
  clock_gettime(CLOCK_MONOTONIC, &b);
  return (double)(t1 - t0) / ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec));
}

static inline void pin_to_cpu0(void) {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  CPU_SET(0, &cpus);
  sched_setaffinity(0, sizeof cpus, &cpus);
}

#endif
