/*
 * hash.c - keyed hashing (G7).
 *
 * The default hash is the wyhash construction (final4 layout) with a per-map 64-bit
 * seed drawn from getrandom(): an attacker who does not know the seed cannot compute a
 * set of colliding keys offline, so a flood of crafted keys spreads like random keys.
 * tsmap_hash_u64 (tsmap_internal.h) is the same function specialised to 8-byte keys.
 */
#include "tsmap_internal.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/random.h>
#endif

static uint64_t tsmap_r8(const unsigned char *p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}
static uint64_t tsmap_r4(const unsigned char *p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}
static uint64_t tsmap_r3(const unsigned char *p, size_t k) {
  return ((uint64_t)p[0] << 16) | ((uint64_t)p[k >> 1] << 8) | p[k - 1];
}

/* Hash `len` bytes at `key` under the pre-mixed `seed` (see tsmap_create). */
uint64_t tsmap_hash_bytes(const void *key, size_t len, uint64_t seed) {
  const unsigned char *p = (const unsigned char *)key;
  uint64_t a = 0, b = 0;
  if (len <= 16) {
    if (len >= 4) {
      size_t off = (len >> 3) << 2;
      a = (tsmap_r4(p) << 32) | tsmap_r4(p + off);
      b = (tsmap_r4(p + len - 4) << 32) | tsmap_r4(p + len - 4 - off);
    } else if (len > 0) {
      a = tsmap_r3(p, len);
    }
  } else {
    size_t i = len;
    for (; i > 16; i -= 16, p += 16)
      seed = tsmap_mix(tsmap_r8(p) ^ TSMAP_WY1, tsmap_r8(p + 8) ^ seed);
    a = tsmap_r8(p + i - 16);
    b = tsmap_r8(p + i - 8);
  }
  a ^= TSMAP_WY1;
  b ^= seed;
  tsmap_mum(&a, &b);
  return tsmap_mix(a ^ TSMAP_WY0 ^ (uint64_t)len, b ^ TSMAP_WY1);
}

/* A fresh random 64-bit seed: getrandom(), else /dev/urandom, else a mix of the clock,
 * the pid and an address (weak, but never fails). */
uint64_t tsmap_random_seed(void) {
  uint64_t s = 0;
#if defined(__linux__)
  if (getrandom(&s, sizeof s, 0) == (ssize_t)sizeof s && s != 0)
    return s;
#endif
  FILE *f = fopen("/dev/urandom", "rb");
  if (f) {
    size_t n = fread(&s, 1, sizeof s, f);
    fclose(f);
    if (n == sizeof s && s != 0)
      return s;
  }
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  s = tsmap_mix((uint64_t)ts.tv_nsec ^ TSMAP_WY0, (uint64_t)ts.tv_sec ^ (uint64_t)getpid());
  return s ^ (uint64_t)(uintptr_t)&s;
}
