/*
 * foreach.c - tsmap_foreach (G8): each shard's entries copied out under its lock (expired
 * ones left out, G10), then visited with no lock held, so a visitor may call the map.
 */
#include "tsmap_internal.h"
#include "expiry.h"
#include "reshard.h"

#include <string.h>

/* Bytes a snapshot record of the entry in slot words `kw` takes. */
static size_t tsmap_record_bytes(const tsmap *m, const uint64_t *kw) {
  size_t len;
  (void)tsmap_slot_key(m, kw, &len);
  return sizeof(size_t) + ((len + 7) & ~(size_t)7) + m->value_words * 8;
}

/* Walk both tables of a shard (lock held); with `buf`, append records; return bytes.
 * Entries expired at `now` are left out (G10). */
static size_t tsmap_shard_snapshot(const tsmap *m, tsmap_shard *s, unsigned char *buf,
                                   uint64_t now) {
  uint64_t w[TSMAP_MAX_KEY_WORDS + TSMAP_MAX_VALUE_WORDS];
  size_t off = 0;
  tsmap_table *ts[2] = {atomic_load(&s->old), atomic_load(&s->cur)};
  for (int k = 0; k < 2; k++) {
    for (size_t gi = 0; ts[k] && gi < ts[k]->ngroups; gi++) {
      tsmap_group *g = tsmap_table_group(ts[k], gi);
      for (uint64_t full = tsmap_ctrl_full(tsmap_ld(&g->ctrl)); full; full &= full - 1) {
        tsmap_copy_words(w, tsmap_slot(g, m->slot_words, tsmap_first_slot(full)), m->slot_words);
        if (tsmap_expired_at(m, w + m->key_words, now))
          continue;
        size_t rec = tsmap_record_bytes(m, w);
        if (buf) {
          size_t len;
          const void *kp = tsmap_slot_key(m, w, &len);
          memcpy(buf + off, &len, sizeof len);
          memcpy(buf + off + sizeof len, kp, len);
          memcpy(buf + off + rec - m->value_words * 8, w + m->key_words, m->value_words * 8);
        }
        off += rec;
      }
    }
  }
  return off;
}

/* Visit the records of one shard snapshot; returns non-zero if the visitor stopped. */
static int tsmap_visit_records(const tsmap *m, const unsigned char *buf, size_t bytes,
                               tsmap_visit_fn fn, void *ctx) {
  for (size_t off = 0; off < bytes;) {
    size_t len;
    memcpy(&len, buf + off, sizeof len);
    size_t rec = sizeof len + ((len + 7) & ~(size_t)7) + m->value_words * 8;
    if (fn(buf + off + sizeof len, len, buf + off + rec - m->value_words * 8, ctx) != 0)
      return 1;
    off += rec;
  }
  return 0;
}

static tsmap_status tsmap_foreach_shards(tsmap *map, tsmap_visit_fn fn, void *ctx);

/* G15: a reshard in progress is finished first and none starts until the walk ends, so
 * that no entry moves from a shard not yet visited to one visited already. */
tsmap_status tsmap_foreach(tsmap *map, tsmap_visit_fn fn, void *ctx) {
  if (!map || !fn)
    return TSMAP_INVALID_ARGUMENT;
  tsmap_status st = tsmap_reshard_foreach_enter(map);
  if (st != TSMAP_OK)
    return st;
  st = tsmap_foreach_shards(map, fn, ctx);
  tsmap_reshard_foreach_exit(map);
  return st;
}

static tsmap_status tsmap_foreach_shards(tsmap *map, tsmap_visit_fn fn, void *ctx) {
  for (size_t i = 0; i < tsmap_shard_count(map); i++) {
    tsmap_shard *s = &map->shards[i];
    tsmap_lock_acquire(&s->lock);
    if (tsmap_is_closed(map)) {
      tsmap_lock_release(&s->lock);
      return TSMAP_CLOSED;
    }
    uint64_t now = map->expiring ? tsmap_now(map) : 0;
    size_t bytes = tsmap_shard_snapshot(map, s, NULL, now);
    unsigned char *buf = bytes ? (unsigned char *)tsmap_mem_alloc(map, bytes) : NULL;
    if (bytes && buf)
      tsmap_shard_snapshot(map, s, buf, now);
    tsmap_lock_release(&s->lock);
    if (bytes && !buf)
      return TSMAP_NO_MEMORY;
    int stop = tsmap_visit_records(map, buf, bytes, fn, ctx);
    tsmap_mem_free(map, buf, bytes);
    if (stop)
      return TSMAP_STOPPED;
  }
  return TSMAP_OK;
}
