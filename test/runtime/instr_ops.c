/*
 * instr_ops.c - the operations whose instruction counts test/runtime/instr_guard.py pins:
 * a map with 8-byte keys and values (the fast paths), 32 shards, a fixed seed, 100,000
 * keys put before measuring; then 20,000 gets of present keys ("get") and 20,000 puts
 * overwriting present keys ("put"), each part between callgrind client requests (no-ops
 * when not run under valgrind). Argument "on" creates the map with config.metrics.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <valgrind/callgrind.h>

#include <tsmap/tsmap.h>

#define PREFILL 100000u
#define OPS 20000u

static uint64_t key_of(uint64_t i) { return i * 0x9e3779b97f4a7c15ull + 1; }

int main(int argc, char **argv) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.key_size = 8;
  cfg.shard_count = 32;
  cfg.seed = 42;
  cfg.metrics = argc > 1 && strcmp(argv[1], "on") == 0;
  tsmap *m;
  if (tsmap_create(&cfg, &m) != TSMAP_OK)
    return 1;
  for (uint64_t i = 0; i < PREFILL; i++) {
    uint64_t k = key_of(i);
    tsmap_put(m, &k, 8, &i, NULL);
  }
  uint64_t sink = 0, v, misses = 0;
  CALLGRIND_START_INSTRUMENTATION;
  CALLGRIND_ZERO_STATS;
  for (uint64_t i = 0; i < OPS; i++) {
    uint64_t k = key_of((i * 7919) % PREFILL);
    if (tsmap_get(m, &k, 8, &v) == TSMAP_OK)
      sink += v;
    else
      misses++;
  }
  CALLGRIND_DUMP_STATS_AT("get");
  for (uint64_t i = 0; i < OPS; i++) {
    uint64_t k = key_of((i * 7919) % PREFILL);
    tsmap_put(m, &k, 8, &i, NULL);
  }
  CALLGRIND_DUMP_STATS_AT("put");
  CALLGRIND_STOP_INSTRUMENTATION;
  printf("ops %u misses %llu sink %llu\n", OPS, (unsigned long long)misses,
         (unsigned long long)sink);
  tsmap_destroy(m);
  return misses != 0;
}
