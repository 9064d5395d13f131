/*
 * fuzz_codec_seeds.c - writes fuzz_codec.c's seed corpus (test/runtime/fuzz-codec-corpus)
 * from real tsmap_change_encode output, so the fuzzer starts from valid encodings:
 *   build/test/runtime/tsmap_rt_fuzz_codec_seeds test/runtime/fuzz-codec-corpus
 * Each seed is the fuzzer's input format (fuzz_codec.c's header says it).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tsmap/tsmap.h>

typedef struct seed {
  unsigned char b[8192];
  size_t n;
} seed;

static void put(seed *s, unsigned v) { s->b[s->n++] = (unsigned char)v; }

/* A merge command (op % 8 < 5) carrying the encodings of `count` changes. */
static void changes(seed *s, unsigned op, const tsmap_change *c, size_t count, size_t vs) {
  size_t at = s->n;
  s->n += 3;
  for (size_t i = 0; i < count; i++) {
    size_t len = 0;
    if (tsmap_change_encode(&c[i], vs, s->b + s->n, sizeof s->b - s->n, &len) != TSMAP_OK)
      abort();
    s->n += len;
  }
  size_t len = s->n - at - 3;
  s->b[at] = (unsigned char)op;
  s->b[at + 1] = (unsigned char)len;
  s->b[at + 2] = (unsigned char)(len >> 8);
}

static void save(const char *dir, const char *name, const seed *s) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(s->b, 1, s->n, f) != s->n || fclose(f) != 0) {
    perror(path);
    exit(1);
  }
}

static tsmap_change mk(const char *key, const void *value, const uint64_t *clock, size_t cl,
                       uint64_t stamp) {
  tsmap_change c = {key, strlen(key), value, clock, cl, stamp, 0};
  return c;
}

/* Three replicas' worth of one key: a write, a concurrent one, one dominating both, a
 * remove, a forget past it and a local write; with value size index vsi and resolver
 * `res` (fuzz_codec.c's tables). */
static void three_replicas(const char *dir, const char *name, unsigned vsi, size_t vs,
                           unsigned res) {
  static const uint64_t c1[3] = {1, 0, 0}, c2[3] = {0, 1, 0}, c3[3] = {2, 1, 0},
                        c4[3] = {2, 2, 0}, c5[3] = {2, 2, 1};
  unsigned char v1[4096], v2[4096], v3[4096];
  memset(v1, 0x11, vs);
  memset(v2, 0x22, vs);
  memset(v3, 0x33, vs);
  seed s = {.n = 0};
  put(&s, vsi | 2u << 5); /* 3 replicas */
  put(&s, res | 8);       /* old_out */
  tsmap_change a[] = {mk("k1", v1, c1, 3, 1u << 8), mk("k1", v2, c2, 3, 1u << 8 | 1),
                      mk("k1", v3, c3, 3, 2u << 8), mk("k1", NULL, c4, 3, 2u << 8 | 1),
                      mk("k2", v2, c5, 3, 1u << 8 | 2), mk("", v1, c1, 1, 0),
                      mk("k3", NULL, c5, 3, 1u << 8 | 2)};
  changes(&s, 0, a, 1, vs);
  changes(&s, 0x48, a + 1, 1, vs); /* merge_stored, replica 0: concurrent */
  changes(&s, 0, a + 2, 4, vs);
  changes(&s, 8, a, 6, vs); /* replica 1, all at once */
  changes(&s, 0, a + 6, 1, vs);
  put(&s, 5), put(&s, 3), put(&s, 2), put(&s, 1), put(&s, 0); /* forget {2,1,0}: none */
  put(&s, 5), put(&s, 3), put(&s, 3), put(&s, 3), put(&s, 0); /* {3,3,0}: k1's, not k3's */
  put(&s, 5), put(&s, 3), put(&s, 3), put(&s, 3), put(&s, 3); /* forget {3,3,3} */
  put(&s, 7), put(&s, 'k'), put(&s, 9);                       /* a local put */
  put(&s, 6), put(&s, 3), put(&s, 1), put(&s, 0), put(&s, 2), put(&s, 0), put(&s, 3),
      put(&s, 0), put(&s, 1), put(&s, 1), put(&s, 2), put(&s, 'a'), put(&s, 'b'), put(&s, 5),
      put(&s, 0); /* an encode */
  save(dir, name, &s);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  const char *dir = argv[1];
  three_replicas(dir, "replicas3-v8-latest", 4, 8, 0);
  three_replicas(dir, "replicas3-v8-max", 4, 8, 2);
  three_replicas(dir, "replicas3-v24-xor-fixed", 7 | 16, 24, 3);
  three_replicas(dir, "replicas3-v0-latestfn", 0, 0, 1);
  three_replicas(dir, "replicas3-v255-bad", 10, 255, 4);
  /* One replica, clocks near the limit: local writes at the headroom. */
  {
    static const uint64_t hi[1] = {TSMAP_CLOCK_LIMIT - TSMAP_CLOCK_HEADROOM - 2};
    uint64_t v = 5;
    seed s = {.n = 0};
    put(&s, 4); /* value size 8, 1 replica */
    put(&s, 0);
    tsmap_change c = mk("h", &v, hi, 1, hi[0] << 8);
    changes(&s, 0, &c, 1, 8);
    for (int i = 0; i < 4; i++)
      put(&s, 7), put(&s, 'h'), put(&s, i);
    save(dir, "replica1-headroom", &s);
  }
  /* One replica, counters at the mark and at the limit: the first is taken and stops
   * local writes, the second is refused. */
  {
    static const uint64_t mark[1] = {TSMAP_CLOCK_LIMIT - TSMAP_CLOCK_HEADROOM};
    static const uint64_t below[1] = {TSMAP_CLOCK_LIMIT - 1}, limit[1] = {TSMAP_CLOCK_LIMIT};
    uint64_t v = 5;
    seed s = {.n = 0};
    put(&s, 4);
    put(&s, 0);
    tsmap_change c[] = {mk("m", &v, mark, 1, 0), mk("l", &v, below, 1, 0),
                        mk("x", &v, limit, 1, 0), mk("y", &v, below, 1, limit[0] << 8)};
    changes(&s, 0, c, 4, 8);
    put(&s, 7), put(&s, 'h'), put(&s, 1);
    save(dir, "replica1-limit", &s);
  }
  /* Tombstones under huge value sizes (decode and encode only). */
  {
    static const uint64_t c1[2] = {1, 1};
    seed s = {.n = 0};
    put(&s, 13 | 1u << 5);
    put(&s, 0);
    tsmap_change c = mk("t", NULL, c1, 2, 1u << 8 | 1);
    changes(&s, 0, &c, 1, 8);
    s.b[3 + 12] = 0xff, s.b[3 + 13] = 0xff, s.b[3 + 14] = 0xff, s.b[3 + 15] = 0xff;
    save(dir, "tombstone-huge-value-size", &s);
  }
  /* A header naming a key of TSMAP_MAX_KEY_SIZE bytes (still to come; one more is
   * refused). */
  {
    static const uint64_t c1[1] = {1};
    seed s = {.n = 0};
    put(&s, 4);
    put(&s, 0);
    tsmap_change c = mk("k", NULL, c1, 1, 1u << 8);
    changes(&s, 0, &c, 1, 8);
    uint32_t max = (uint32_t)TSMAP_MAX_KEY_SIZE;
    for (int i = 0; i < 4; i++)
      s.b[3 + i] = (unsigned char)(max >> (8 * i));
    save(dir, "key-at-the-limit", &s);
  }
  /* History mode: writes on three replicas, shipments, duplicates. */
  {
    static const unsigned char ops[] = {0, 1, 7, 4, 1, 8, 8, 2, 9,  2,  0x12, 1, 3, 0x16,
                                        0, 2, 5, 5, 3, 4, 1, 0, 2,  0x1a, 0x26, 3, 0x0b};
    seed s = {.n = 0};
    put(&s, 4);
    put(&s, 0x40);
    memcpy(s.b + s.n, ops, sizeof ops);
    s.n += sizeof ops;
    save(dir, "history-v8", &s);
    s.b[0] = 16 | 6; /* fixed keys, 16-byte values */
    s.b[1] = 0x41 | 8;
    save(dir, "history-v16-fixed-latestfn", &s);
  }
  return 0;
}
