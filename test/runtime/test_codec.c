/*
 * test_codec.c - the replication wire format's edges, deterministically (black-box round
 * 14; fuzz_codec.c explores the rest): the key-length limit exactly at its boundary, value
 * sizes no map has, every prefix and every bit flip of real encodings, and a stream of
 * changes decoded in place at odd offsets and merged.
 */
#include "tsmap_test.h"

/* A change of `key` with a 24-byte value (or a tombstone) and a clock of 3. */
static const uint64_t k_clock[3] = {4, 0, 9};
static tsmap_change a_change(const char *key, const void *value) {
  tsmap_change c = {key, strlen(key), value, k_clock, 3, 9u << 8 | 2, 7};
  return c;
}

/* The bytes of c in a malloc of exactly their size (ASan sees a read past them). */
static unsigned char *encoded(const tsmap_change *c, size_t vs, size_t *len) {
  CHECK_ST(tsmap_change_encode(c, vs, NULL, 0, len), TSMAP_NO_MEMORY);
  unsigned char *b = malloc(*len);
  CHECK_ST(tsmap_change_encode(c, vs, b, *len, len), TSMAP_OK);
  return b;
}

static tsmap_status decode_copy(const unsigned char *bytes, size_t len, size_t vs,
                                size_t *used) {
  unsigned char *b = malloc(len ? len : 1);
  memcpy(b, bytes, len);
  tsmap_change c;
  uint64_t clock[TSMAP_MAX_REPLICAS];
  tsmap_status st = tsmap_change_decode(b, len, vs, &c, clock, used);
  if (st == TSMAP_OK) { /* inside the bytes, the clock in clock[] */
    CHECK(*used <= len && c.clock_len <= TSMAP_MAX_REPLICAS);
    CHECK(c.key_len == 0 || ((const unsigned char *)c.key >= b &&
                             (const unsigned char *)c.key + c.key_len <= b + *used));
    CHECK(!c.value || ((const unsigned char *)c.value >= b &&
                       (const unsigned char *)c.value + vs <= b + *used));
  }
  free(b);
  return st;
}

/* The header names a key of TSMAP_MAX_KEY_SIZE bytes: a change still to come (read
 * more); one byte longer: no map holds it, refused before its bytes are asked for.
 * (fuzz_codec did not reach this boundary: an off-by-one there went unseen.) */
static void test_codec_key_length_limit(void) {
  size_t len = 0, used = 0;
  tsmap_change c = a_change("k", NULL);
  unsigned char *b = encoded(&c, 24, &len);
  uint32_t max = (uint32_t)TSMAP_MAX_KEY_SIZE;
  for (int i = 0; i < 4; i++)
    b[i] = (unsigned char)(max >> (8 * i)); /* the header's key length (its first word) */
  CHECK_ST(decode_copy(b, len, 24, &used), TSMAP_NOT_FOUND);
  max++;
  for (int i = 0; i < 4; i++)
    b[i] = (unsigned char)(max >> (8 * i));
  CHECK_ST(decode_copy(b, 32, 24, &used), TSMAP_INVALID_ARGUMENT);
  free(b);
}

/* A value size above TSMAP_MAX_VALUE_SIZE is no map's: encode refuses it, and so does
 * decode, whatever the header says (it used to accept one the header matched, a change
 * encode would never write, whose size on a 32-bit size_t wrapped past the bytes). */
static void test_codec_value_size_no_map_has(void) {
  size_t len = 0, used = 0;
  unsigned char v[8] = {1};
  tsmap_change c = a_change("key", v);
  CHECK_ST(tsmap_change_encode(&c, TSMAP_MAX_VALUE_SIZE + 1, NULL, 0, &len),
           TSMAP_INVALID_ARGUMENT);
  c.value = NULL; /* a tombstone carries no value bytes, but still its map's value size */
  unsigned char *b = encoded(&c, 8, &len);
  const size_t sizes[] = {TSMAP_MAX_VALUE_SIZE + 1, 0xffffffffu, (size_t)1 << 32 | 8};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    uint32_t field = (uint32_t)sizes[i];
    for (int j = 0; j < 4; j++)
      b[12 + j] = (unsigned char)(field >> (8 * j)); /* the header's value size */
    CHECK_ST(decode_copy(b, len, sizes[i], &used), TSMAP_INVALID_ARGUMENT);
  }
  free(b);
}

/* Every prefix of a change is incomplete (read more), the whole of it decodes, with a
 * value or as a tombstone, for value sizes 0, 1 and 24. */
static void test_codec_every_prefix_is_incomplete(void) {
  static const size_t sizes[] = {0, 1, 24};
  unsigned char v[24];
  memset(v, 0x5a, sizeof v);
  for (size_t s = 0; s < 3; s++)
    for (int tomb = 0; tomb < 2; tomb++) {
      tsmap_change c = a_change("a key", tomb ? NULL : v);
      size_t len = 0, used = 0;
      unsigned char *b = encoded(&c, sizes[s], &len);
      for (size_t n = 0; n < len; n++)
        CHECK_ST(decode_copy(b, n, sizes[s], &used), TSMAP_NOT_FOUND);
      CHECK_ST(decode_copy(b, len, sizes[s], &used), TSMAP_OK);
      CHECK(used == len);
      free(b);
    }
}

/* Every single-bit flip of a real encoding is a listed status, and what decodes lies in
 * the bytes (decode_copy checks). */
static void test_codec_bit_flips(void) {
  unsigned char v[24];
  memset(v, 0xc3, sizeof v);
  tsmap_change c = a_change("flip", v);
  size_t len = 0, used = 0;
  unsigned char *b = encoded(&c, 24, &len);
  long ok = 0;
  for (size_t bit = 0; bit < len * 8; bit++) {
    b[bit / 8] ^= (unsigned char)(1u << bit % 8);
    tsmap_status st = decode_copy(b, len, 24, &used);
    CHECK(st == TSMAP_OK || st == TSMAP_NOT_FOUND || st == TSMAP_INVALID_ARGUMENT);
    ok += st == TSMAP_OK;
    b[bit / 8] ^= (unsigned char)(1u << bit % 8);
  }
  CHECK(ok > 0);
  free(b);
}

/* Three changes back to back at an odd offset, decoded in place one after another (their
 * values at odd addresses) and merged: each key holds its value. */
static void test_codec_stream_at_odd_offsets(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, 24);
  cfg.replicas = 3;
  cfg.replica_id = 0;
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  const char *keys[3] = {"one", "second key", "3"};
  unsigned char vals[3][24], stream[512];
  size_t at = 1;
  for (int i = 0; i < 3; i++) {
    memset(vals[i], 0x10 + i, 24);
    tsmap_change c = a_change(keys[i], vals[i]);
    size_t len = 0;
    CHECK_ST(tsmap_change_encode(&c, 24, stream + at, sizeof stream - at, &len), TSMAP_OK);
    at += len;
  }
  unsigned char *b = malloc(at);
  memcpy(b, stream, at);
  size_t off = 1, used = 0;
  for (int i = 0; i < 3; i++) {
    tsmap_change c;
    uint64_t clock[TSMAP_MAX_REPLICAS];
    CHECK_ST(tsmap_change_decode(b + off, at - off, 24, &c, clock, &used), TSMAP_OK);
    CHECK_ST(tsmap_merge(m, &c, NULL, NULL, NULL), TSMAP_OK);
    off += used;
  }
  CHECK(off == at);
  for (int i = 0; i < 3; i++) {
    unsigned char got[24];
    CHECK_ST(tsmap_get(m, keys[i], strlen(keys[i]), got), TSMAP_OK);
    CHECK(memcmp(got, vals[i], 24) == 0);
  }
  free(b);
  tsmap_destroy(m);
}

TEST_MAIN(T(test_codec_key_length_limit), T(test_codec_value_size_no_map_has),
          T(test_codec_every_prefix_is_incomplete), T(test_codec_bit_flips),
          T(test_codec_stream_at_odd_offsets))
