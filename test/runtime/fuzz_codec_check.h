/*
 * fuzz_codec_check.h - what tsmap.h promises of tsmap_change_decode and
 * tsmap_change_encode, asserted on any bytes (fuzz_codec.c), from the header and
 * runtime/DESIGN.md ("The transport form": a 32-byte header, the clock, the value unless
 * a tombstone, the key) alone:
 *   - decode returns TSMAP_OK, TSMAP_NOT_FOUND or TSMAP_INVALID_ARGUMENT and reads nothing
 *     outside buf[0, len) (the buffer ends where its malloc ends: ASan); which one, and
 *     the size, a reference decoder of the layout says (fc_reference);
 *   - on OK: used within len and equal to the layout's size; the key and value inside
 *     the bytes used (at any alignment: a stream's second change starts anywhere), the clock in clock_buf, at most TSMAP_MAX_REPLICAS counters, a stamp
 *     naming a replica below TSMAP_MAX_REPLICAS, a key within TSMAP_MAX_KEY_SIZE;
 *   - self-delimiting: the `used` bytes alone decode to the same change, and every
 *     shorter prefix is TSMAP_NOT_FOUND ("less than a whole change: read more");
 *   - encode of what decoded: asked with no buffer or one byte short, TSMAP_NO_MEMORY and
 *     the size; given it, TSMAP_OK writing exactly that many bytes, which decode to the
 *     same change. The header does not promise a canonical form (the same bytes as the
 *     input), so only the re-encoding's own fixed point is asserted: encoding its decode
 *     gives its bytes again.
 *   - encode of a change built from input bytes: TSMAP_INVALID_ARGUMENT exactly for more
 *     than TSMAP_MAX_REPLICAS counters or a stamp naming a replica at or above it, else
 *     a round trip.
 */
#ifndef TSMAP_FUZZ_CODEC_CHECK_H
#define TSMAP_FUZZ_CODEC_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tsmap/tsmap.h>

#define REQUIRE(c)                                                          \
  do {                                                                      \
    if (!(c)) {                                                             \
      fprintf(stderr, "fuzz_codec: %s:%d: %s\n", __FILE__, __LINE__, #c);   \
      abort();                                                              \
    }                                                                       \
  } while (0)

#define FC_HEADER 32
#ifndef FC_COUNT_DECODE
#define FC_COUNT_DECODE(st) ((void)0)
#endif

/* A decoded change with its own copies of the clock (so it outlives clock_buf). */
typedef struct fc_decoded {
  tsmap_change change;
  uint64_t clock[TSMAP_MAX_REPLICAS];
  size_t used;
} fc_decoded;

static inline int fc_inside(const void *p, size_t n, const unsigned char *buf, size_t len) {
  const unsigned char *q = p;
  return q >= buf && n <= len && (size_t)(q - buf) <= len - n;
}

/* The bytes a change takes in the documented layout (0: more than SIZE_MAX). */
static inline size_t fc_layout_size(const tsmap_change *c, size_t vs) {
  size_t n = FC_HEADER + 8 * c->clock_len;
  if (c->value) {
    if (vs > SIZE_MAX - n)
      return 0;
    n += vs;
  }
  return c->key_len > SIZE_MAX - n ? 0 : n + c->key_len;
}

/* The shape of a change decoded OK from base[0, used) (its clock in clock_buf): bounds
 * a decode must keep, and its layout's size; then a copy of it in *d. */
static inline void fc_keep_shape(const tsmap_change *c, const uint64_t *clock_buf,
                                 const unsigned char *base, size_t used, size_t vs,
                                 fc_decoded *d) {
  REQUIRE(c->clock_len <= TSMAP_MAX_REPLICAS);
  REQUIRE(c->clock_len == 0 || c->clock == clock_buf);
  REQUIRE((c->stamp & 0xff) < TSMAP_MAX_REPLICAS);
  REQUIRE(c->key_len <= TSMAP_MAX_KEY_SIZE);
  REQUIRE(c->key_len == 0 || fc_inside(c->key, c->key_len, base, used));
  REQUIRE(!c->value || fc_inside(c->value, vs, base, used));
  REQUIRE(used == fc_layout_size(c, vs));
  d->change = *c;
  memcpy(d->clock, clock_buf, c->clock_len * sizeof *clock_buf);
  d->change.clock = d->clock;
  d->used = used;
}

/* Decode buf[0, len) from a malloc of exactly len bytes, clock_buf a malloc of exactly
 * TSMAP_MAX_REPLICAS words. Checks the status and, on OK, the change's shape. */
static inline tsmap_status fc_decode_exact(const unsigned char *bytes, size_t len, size_t vs,
                                           unsigned char **copy_out, fc_decoded *d) {
  unsigned char *buf = malloc(len ? len : 1);
  REQUIRE(buf);
  if (len)
    memcpy(buf, bytes, len);
  uint64_t *clock_buf = malloc(TSMAP_MAX_REPLICAS * sizeof *clock_buf);
  REQUIRE(clock_buf);
  tsmap_change c;
  memset(&c, 0, sizeof c);
  size_t used = (size_t)-1;
  tsmap_status st = tsmap_change_decode(buf, len, vs, &c, clock_buf, &used);
  REQUIRE(st == TSMAP_OK || st == TSMAP_NOT_FOUND || st == TSMAP_INVALID_ARGUMENT);
  FC_COUNT_DECODE(st);
  if (st == TSMAP_OK) {
    REQUIRE(used >= FC_HEADER && used <= len);
    fc_keep_shape(&c, clock_buf, buf, used, vs, d);
  }
  free(clock_buf);
  if (st == TSMAP_OK && copy_out)
    *copy_out = buf; /* the change points into it */
  else
    free(buf);
  return st;
}

/* Two changes carry the same key, value, clock and stamp. */
static inline void fc_same(const tsmap_change *a, const tsmap_change *b, size_t vs) {
  REQUIRE(a->key_len == b->key_len);
  REQUIRE(a->key_len == 0 || memcmp(a->key, b->key, a->key_len) == 0);
  REQUIRE((a->value == NULL) == (b->value == NULL));
  REQUIRE(!a->value || vs == 0 || memcmp(a->value, b->value, vs) == 0);
  REQUIRE(a->clock_len == b->clock_len);
  REQUIRE(a->clock_len == 0 || memcmp(a->clock, b->clock, a->clock_len * 8) == 0);
  REQUIRE(a->stamp == b->stamp);
}

/* Encode c into a malloc of exactly its size (NULL when the size is too large to try).
 * Checks the size protocol; returns the bytes and their count. */
static inline unsigned char *fc_encode_exact(const tsmap_change *c, size_t vs, size_t *len_out) {
  size_t n = 0;
  REQUIRE(tsmap_change_encode(c, vs, NULL, 0, &n) == TSMAP_NO_MEMORY);
  REQUIRE(n == fc_layout_size(c, vs));
  if (n > ((size_t)1 << 24))
    return NULL;
  unsigned char *small = malloc(n - 1), *buf = malloc(n);
  REQUIRE(small && buf);
  size_t m = 0;
  REQUIRE(tsmap_change_encode(c, vs, small, n - 1, &m) == TSMAP_NO_MEMORY && m == n);
  free(small);
  REQUIRE(tsmap_change_encode(c, vs, buf, n, &m) == TSMAP_OK && m == n);
  *len_out = n;
  return buf;
}

/* The status and size a decode must give, from the layout tsmap_change_encode writes
 * (DESIGN.md's "The transport form": a 32-byte header of u32 key_len, u32 flags (1: a
 * tombstone), u32 clock_len, u32 value_size, u64 stamp, u64 version; then the clock,
 * the value unless a tombstone, the key; the fields as encodings of known changes showed
 * them before DESIGN.md listed them) and the refusals
 * the header lists (a value size above TSMAP_MAX_VALUE_SIZE whatever the bytes). With
 * less than a header, a decode may already refuse a field it
 * sees. Returns the status; *used_out the size on OK. */
static inline uint64_t fc_le(const unsigned char *p, unsigned n) {
  uint64_t v = 0;
  for (unsigned i = 0; i < n; i++)
    v |= (uint64_t)p[i] << (8 * i);
  return v;
}
static inline tsmap_status fc_reference(const unsigned char *b, size_t len, size_t vs,
                                        int *may_refuse_early, size_t *used_out) {
  unsigned char h[FC_HEADER] = {0};
  memcpy(h, b, len < FC_HEADER ? len : FC_HEADER);
  uint64_t key_len = fc_le(h, 4), flags = fc_le(h + 4, 4), clock_len = fc_le(h + 8, 4);
  uint64_t vfield = fc_le(h + 12, 4), stamp = fc_le(h + 16, 8);
  int bad_key = len >= 4 && key_len > TSMAP_MAX_KEY_SIZE;
  int bad_flags = len >= 8 && flags > 1;
  int bad_clock = len >= 12 && clock_len > TSMAP_MAX_REPLICAS;
  int bad_vs = len >= 16 && vfield != vs;
  int bad_stamp = len >= 17 && (stamp & 0xff) >= TSMAP_MAX_REPLICAS;
  *may_refuse_early = bad_key || bad_flags || bad_clock || bad_vs || bad_stamp;
  if (vs > TSMAP_MAX_VALUE_SIZE) /* no map's: refused whatever the bytes */
    return TSMAP_INVALID_ARGUMENT;
  if (len < FC_HEADER)
    return TSMAP_NOT_FOUND;
  if (*may_refuse_early)
    return TSMAP_INVALID_ARGUMENT;
  size_t n = FC_HEADER + 8 * (size_t)clock_len + (flags ? 0 : vs) + (size_t)key_len;
  if (len < n)
    return TSMAP_NOT_FOUND;
  *used_out = n;
  return TSMAP_OK;
}

/* Everything above for the bytes at `bytes` (len of them, ending where their allocation
 * ends, at any alignment): decoded in place, so *d points into them. */
static inline tsmap_status fc_check_decode(const unsigned char *bytes, size_t len, size_t vs,
                                           fc_decoded *d) {
  uint64_t *clock_buf = malloc(TSMAP_MAX_REPLICAS * sizeof *clock_buf);
  REQUIRE(clock_buf);
  tsmap_change c;
  memset(&c, 0, sizeof c);
  size_t used = (size_t)-1, want_used = 0;
  int early = 0;
  tsmap_status st = tsmap_change_decode(len ? bytes : NULL, len, vs, &c, clock_buf, &used);
  tsmap_status want = fc_reference(bytes, len, vs, &early, &want_used);
  FC_COUNT_DECODE(st);
  REQUIRE(st == want || (len < FC_HEADER && early && st == TSMAP_INVALID_ARGUMENT));
  if (st != TSMAP_OK) {
    free(clock_buf);
    return st;
  }
  REQUIRE(used == want_used && used >= FC_HEADER && used <= len);
  REQUIRE(c.stamp == fc_le(bytes + 16, 8) && c.version == fc_le(bytes + 24, 8));
  fc_keep_shape(&c, clock_buf, bytes, used, vs, d);
  free(clock_buf);
  /* Self-delimiting: the used bytes alone, and prefixes of them. */
  fc_decoded again;
  unsigned char *b2 = NULL;
  REQUIRE(fc_decode_exact(bytes, used, vs, &b2, &again) == TSMAP_OK && again.used == used);
  fc_same(&again.change, &d->change, vs);
  free(b2);
  size_t cuts[5] = {0, 1, FC_HEADER - 1, FC_HEADER, used - 1};
  for (size_t i = 0; i < 5; i++)
    if (cuts[i] < used)
      REQUIRE(fc_decode_exact(bytes, cuts[i], vs, NULL, &again) == TSMAP_NOT_FOUND);
  /* Round trip through encode (which takes the map's value sizes only), and the
   * re-encoding's fixed point. */
  size_t n = 0;
  unsigned char *enc = vs <= TSMAP_MAX_VALUE_SIZE ? fc_encode_exact(&d->change, vs, &n) : NULL;
  if (enc) {
    unsigned char *b3 = NULL;
    REQUIRE(fc_decode_exact(enc, n, vs, &b3, &again) == TSMAP_OK && again.used == n);
    fc_same(&again.change, &d->change, vs);
    REQUIRE(again.change.version == d->change.version);
    size_t n2 = 0;
    unsigned char *enc2 = fc_encode_exact(&again.change, vs, &n2);
    REQUIRE(enc2 && n2 == n && memcmp(enc, enc2, n) == 0);
    free(enc2);
    free(b3);
    free(enc);
  }
  return st;
}

/* Encode a change made of input bytes: refused exactly as the header says, else it
 * decodes back. */
static inline void fc_check_encode(const tsmap_change *c, size_t vs) {
  int bad = c->clock_len > TSMAP_MAX_REPLICAS || (c->stamp & 0xff) >= TSMAP_MAX_REPLICAS;
  size_t n = 0;
  tsmap_status st = tsmap_change_encode(c, vs, NULL, 0, &n);
  REQUIRE(st == (bad ? TSMAP_INVALID_ARGUMENT : TSMAP_NO_MEMORY));
  unsigned char big[FC_HEADER + 8 * 24 + 4096 + 256];
  st = tsmap_change_encode(c, vs, big, sizeof big, &n);
  REQUIRE(st == (bad ? TSMAP_INVALID_ARGUMENT : TSMAP_OK));
  if (bad)
    return;
  unsigned char *buf = malloc(n);
  REQUIRE(buf);
  memcpy(buf, big, n);
  fc_decoded d;
  REQUIRE(fc_check_decode(buf, n, vs, &d) == TSMAP_OK && d.used == n);
  fc_same(&d.change, c, vs);
  REQUIRE(d.change.version == c->version);
  free(buf);
}

#endif /* TSMAP_FUZZ_CODEC_CHECK_H */
