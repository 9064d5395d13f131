/*
 * codec.c - a replicated map's changes as bytes for a transport (G13): tsmap_change_encode
 * and tsmap_change_decode. Little-endian and self-delimiting:
 *
 *   u32 key_len, u32 flags (bit 0: a tombstone), u32 clock_len, u32 value_size,
 *   u64 stamp, u64 version, clock_len x u64, the value (value_size bytes, none for a
 *   tombstone), the key's bytes.
 */
#include "tsmap_internal.h"

#define TSMAP_CODEC_HEAD 32u

static void tsmap_put_le(unsigned char *p, uint64_t v, unsigned bytes) {
  for (unsigned i = 0; i < bytes; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t tsmap_get_le(const unsigned char *p, unsigned bytes) {
  uint64_t v = 0;
  for (unsigned i = 0; i < bytes; i++)
    v |= (uint64_t)p[i] << (8 * i);
  return v;
}

static size_t tsmap_codec_len(size_t key_len, size_t clock_len, size_t value_bytes) {
  return TSMAP_CODEC_HEAD + clock_len * 8 + value_bytes + key_len;
}

/* What both directions refuse: more counters than any map has, a key no map holds, a
 * stamp whose replica part (its low 8 bits, V3) no map has. Encode refuses what decode
 * would (it wrote such a stamp until black-box round 8, and the peer's decode then
 * refused the stream for good). */
static int tsmap_codec_bad(size_t key_len, size_t clock_len, uint64_t stamp) {
  return clock_len > TSMAP_MAX_REPLICAS || key_len > TSMAP_MAX_KEY_SIZE ||
         (stamp & 0xff) >= TSMAP_MAX_REPLICAS;
}

tsmap_status tsmap_change_encode(const tsmap_change *c, size_t value_size, void *buf,
                                 size_t cap, size_t *len_out) {
  if (!c || !len_out || tsmap_codec_bad(c->key_len, c->clock_len, c->stamp) ||
      value_size > TSMAP_MAX_VALUE_SIZE || (c->clock_len && !c->clock) ||
      (c->key_len && !c->key))
    return TSMAP_INVALID_ARGUMENT;
  size_t vbytes = c->value ? value_size : 0;
  size_t n = tsmap_codec_len(c->key_len, c->clock_len, vbytes);
  *len_out = n;
  if (!buf || cap < n)
    return TSMAP_NO_MEMORY;
  unsigned char *p = (unsigned char *)buf;
  tsmap_put_le(p, c->key_len, 4);
  tsmap_put_le(p + 4, c->value ? 0 : 1, 4);
  tsmap_put_le(p + 8, c->clock_len, 4);
  tsmap_put_le(p + 12, value_size, 4);
  tsmap_put_le(p + 16, c->stamp, 8);
  tsmap_put_le(p + 24, c->version, 8);
  p += TSMAP_CODEC_HEAD;
  for (size_t i = 0; i < c->clock_len; i++, p += 8)
    tsmap_put_le(p, c->clock[i], 8);
  if (vbytes)
    memcpy(p, c->value, vbytes);
  if (c->key_len)
    memcpy(p + vbytes, c->key, c->key_len);
  return TSMAP_OK;
}

tsmap_status tsmap_change_decode(const void *buf, size_t len, size_t value_size,
                                 tsmap_change *c, uint64_t *clock_buf, size_t *used_out) {
  const unsigned char *p = (const unsigned char *)buf;
  /* a value size no map has, as encode refuses it: the bytes would be no map's change
   * (black-box round 14: a tombstone of one decoded, and where size_t is 32 bits a
   * value of 2^32 - 1 bytes wrapped the change's size past the bytes it claimed) */
  if ((!buf && len) || !c || !clock_buf || !used_out || value_size > TSMAP_MAX_VALUE_SIZE)
    return TSMAP_INVALID_ARGUMENT;
  if (len < TSMAP_CODEC_HEAD)
    return TSMAP_NOT_FOUND;
  size_t key_len = tsmap_get_le(p, 4), clock_len = tsmap_get_le(p + 8, 4);
  uint64_t flags = tsmap_get_le(p + 4, 4);
  /* a key no map holds is garbage, not a change whose 4 GiB are still to come */
  if (tsmap_get_le(p + 12, 4) != value_size || flags > 1 ||
      tsmap_codec_bad(key_len, clock_len, tsmap_get_le(p + 16, 8)))
    return TSMAP_INVALID_ARGUMENT;
  size_t vbytes = flags ? 0 : value_size;
  size_t n = tsmap_codec_len(key_len, clock_len, vbytes);
  if (len < n)
    return TSMAP_NOT_FOUND;
  c->stamp = tsmap_get_le(p + 16, 8);
  c->version = tsmap_get_le(p + 24, 8);
  for (size_t i = 0; i < clock_len; i++)
    clock_buf[i] = tsmap_get_le(p + TSMAP_CODEC_HEAD + i * 8, 8);
  c->clock = clock_buf;
  c->clock_len = clock_len;
  p += TSMAP_CODEC_HEAD + clock_len * 8;
  c->value = flags ? NULL : p;
  c->key = p + vbytes;
  c->key_len = key_len;
  *used_out = n;
  return TSMAP_OK;
}
