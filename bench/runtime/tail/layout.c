/* layout.c - what a different table layout would buy D's plain insert (issue 7).
 *
 * D's inserts are memory-bound: each costs about one DRAM latency. This driver times
 * (rdtsc, fenced like bench/runtime's D) the bare write path of a 7-slot group table with
 * 2^20 groups (the size tsmap's tables reach at 4M keys), stripped of everything but the
 * probe and the seqlocked fill, in these layouts:
 *   group    seq and control word inside the 128-byte group, as tsmap does
 *   apart16  seq and control word in their own 16-byte array (16 MiB), slots apart
 *   apart8   only a control word apart (8 MiB, absl's 1 byte per slot); no seq at all,
 *            so not a correct concurrent design: a bound on what a compact array buys
 *   line     one seq per 64-byte line shared by 7 groups' control words (9.1 MiB), slots
 *            apart in 128-byte blocks: a seqlocked layout about as compact as apart8
 *   copy     tsmap's layout since 2026-11-25: the group as above for readers, plus a
 *            writers-only copy of the control words (8 MiB) and seq values from a
 *            counter, so the write loads nothing from the group
 * each under an atomic-exchange lock (xchg, as tsmap's shard lock) or a plain store
 * (plain: what a lock that drains no store buffer could give; not a lock).
 *
 * Usage: layout [inserts]   (default 4000000; prints a line per combination)
 * Pinned to CPU 0. Mean over all inserts and median over the second half. */
#include "tsc.h"
#include "tsmap_internal.h" /* the control-byte arithmetic the runtime uses */

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define GROUPS ((size_t)1 << 20)

typedef struct {
  _Atomic uint64_t seq, ctrl;
  uint64_t w[14];
} group128; /* the tsmap layout: 16-byte header, 7 slots of key and value */
typedef struct {
  _Atomic uint64_t seq, ctrl;
} head16;
typedef struct {
  uint64_t w[14];
} slots112;
typedef struct {
  _Atomic uint64_t seq, ctrl[7];
} line64; /* the seq of 7 groups and their control words */
typedef struct {
  uint64_t w[16];
} slots128; /* 7 slots padded to two cache lines */
#define LINES (GROUPS / 7 + 1)

enum layout { GROUP, APART16, APART8, LINE, COPY };
static const char *const layout_name[] = {"group", "apart16", "apart8", "line", "copy"};

static void *map_populated(size_t n) {
  void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
                 -1, 0);
  if (p == MAP_FAILED) {
    perror("layout: mmap");
    exit(1);
  }
  return p;
}
static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static _Atomic uint32_t lock_word, busy;

static void run(enum layout lay, int plain_lock, size_t n, double tpn, uint32_t *lat) {
  group128 *groups = NULL;
  head16 *heads = NULL;
  _Atomic uint64_t *ctrls = NULL;
  slots112 *slots = NULL;
  line64 *lines = NULL;
  slots128 *blocks = NULL;
  _Atomic uint64_t no_seq = 0;
  uint64_t counter = 0;
  if (lay == GROUP || lay == COPY)
    groups = map_populated(GROUPS * sizeof *groups);
  else if (lay == LINE)
    blocks = map_populated(GROUPS * sizeof *blocks);
  else
    slots = map_populated(GROUPS * sizeof *slots);
  if (lay == LINE)
    lines = map_populated(LINES * sizeof *lines);
  if (lay == APART16)
    heads = map_populated(GROUPS * sizeof *heads);
  if (lay == APART8 || lay == COPY)
    ctrls = map_populated(GROUPS * sizeof *ctrls);
  double total = 0;
  for (size_t i = 0; i < n; i++) {
    uint64_t k = mix(i + ((uint64_t)1 << 40)), h = mix(k ^ 0x5bd1e995), g = h & (GROUPS - 1);
    uint64_t h2 = 0x80 | (h >> 57);
    uint64_t t0 = tsc_begin();
    _Atomic uint64_t *seq, *ctrl, *mirror = NULL; /* mirror: the copy, kept equal */
    uint64_t *w;
    if (lay == GROUP) {
      seq = &groups[g].seq, ctrl = &groups[g].ctrl, w = groups[g].w;
    } else if (lay == COPY) {
      seq = &groups[g].seq, ctrl = &ctrls[g], mirror = &groups[g].ctrl, w = groups[g].w;
      __builtin_prefetch(w, 1);
      __builtin_prefetch(w + 6, 1); /* the group's second line (w is 16 bytes in) */
    } else if (lay == LINE) {
      w = blocks[g].w;
      __builtin_prefetch(w, 1);
      seq = &lines[g / 7].seq, ctrl = &lines[g / 7].ctrl[g % 7];
    } else {
      w = slots[g].w;
      __builtin_prefetch(w, 1); /* the slot line is known before the control word */
      seq = lay == APART16 ? &heads[g].seq : &no_seq;
      ctrl = lay == APART16 ? &heads[g].ctrl : &ctrls[g];
    }
    if (plain_lock) {
      atomic_store_explicit(&busy, 1, memory_order_relaxed);
      atomic_signal_fence(memory_order_seq_cst);
    } else {
      while (atomic_exchange_explicit(&lock_word, 1, memory_order_acquire))
        ;
    }
    uint64_t c = atomic_load_explicit(ctrl, memory_order_relaxed);
    int present = 0;
    for (uint64_t m = tsmap_ctrl_match(c, (unsigned)h2) & TSMAP_CTRL_SLOTS; m; m &= m - 1)
      present |= w[2 * (__builtin_ctzll(m) >> 3)] == k;
    uint64_t empty = tsmap_ctrl_empty(c);
    if (!present && empty) {
      unsigned s = (unsigned)__builtin_ctzll(empty) >> 3;
      uint64_t sq = mirror ? (counter += 2) - 2 : atomic_load_explicit(seq, memory_order_relaxed);
      atomic_store_explicit(seq, sq + 1, memory_order_relaxed);
      atomic_thread_fence(memory_order_release);
      w[2 * s] = k;
      w[2 * s + 1] = k + 1;
      atomic_store_explicit(ctrl, c | (h2 << (s * 8)), memory_order_relaxed);
      if (mirror)
        atomic_store_explicit(mirror, c | (h2 << (s * 8)), memory_order_relaxed);
      atomic_store_explicit(seq, sq + 2, memory_order_release);
    }
    if (plain_lock)
      atomic_store_explicit(&busy, 0, memory_order_release);
    else
      atomic_store_explicit(&lock_word, 0, memory_order_release);
    uint64_t d = tsc_end() - t0;
    lat[i] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
    total += (double)d;
  }
  qsort(lat + n / 2, n - n / 2, sizeof *lat, cmp_u32);
  printf("%-8s %-5s mean %6.1f ns  p50 (second half) %6.1f ns\n", layout_name[lay],
         plain_lock ? "plain" : "xchg", total / tpn / (double)n,
         lat[n / 2 + (n - n / 2) / 2] / tpn);
  if (groups)
    munmap(groups, GROUPS * sizeof *groups);
  if (slots)
    munmap(slots, GROUPS * sizeof *slots);
  if (heads)
    munmap(heads, GROUPS * sizeof *heads);
  if (ctrls)
    munmap(ctrls, GROUPS * sizeof *ctrls);
  if (lines)
    munmap(lines, LINES * sizeof *lines);
  if (blocks)
    munmap(blocks, GROUPS * sizeof *blocks);
}

int main(int argc, char **argv) {
  size_t n = argc > 1 ? (size_t)atoll(argv[1]) : 4000000;
  if (n < 2) {
    fprintf(stderr, "usage: layout [inserts >= 2]\n");
    return 2;
  }
  pin_to_cpu0();
  uint32_t *lat = malloc(n * sizeof *lat);
  if (!lat)
    return 1;
  double tpn = ticks_per_ns();
  for (int lay = GROUP; lay <= COPY; lay++)
    for (int plain = 0; plain <= 1; plain++)
      run((enum layout)lay, plain, n, tpn, lat);
  free(lat);
  return 0;
}
