/*
 * feed.c - the change feed of a versioned map (G12): tsmap_foreach_since and
 * tsmap_export visit the entries (and, in a replicated map, the tombstones) whose
 * version is above a given one.
 *
 * Like tsmap_foreach (G8), each shard is copied under its lock into records and visited
 * from the copy with no lock held. The version counters are read before the first shard
 * is locked, and their largest is returned as next_since (and raised to in each shard
 * under the lock that copies it): a change with a version at most that was stored before
 * its shard was copied (V2), so it is in this call's copy or replaced by a later change,
 * whose version is above next_since and goes out in the next call.
 *
 * A record is words: key_len, version, stamp, 1 for a tombstone (else 0), the clock
 * (`replicas` words), the value words, then the key's bytes rounded up to a word.
 */
#include "versions.h"
#include "reshard.h"
#include "expiry.h"
#include "metrics.h"

#define TSMAP_REC_HEAD 4

static size_t tsmap_rec_words(const tsmap *m, size_t key_len) {
  return TSMAP_REC_HEAD + m->replicas + m->value_words + (key_len + 7) / 8;
}

/* Append one record at `out` (if non-NULL); return its words. */
static size_t tsmap_rec_put(const tsmap *m, uint64_t *out, const void *key, size_t key_len,
                            const uint64_t *vw, uint64_t version, uint64_t stamp,
                            const uint64_t *clock) {
  size_t n = tsmap_rec_words(m, key_len);
  if (!out)
    return n;
  out[0] = key_len;
  out[1] = version;
  out[2] = stamp;
  out[3] = vw == NULL;
  uint64_t *p = out + TSMAP_REC_HEAD;
  for (size_t i = 0; i < m->replicas; i++)
    *p++ = clock[i];
  for (size_t i = 0; i < m->value_words; i++)
    *p++ = vw ? vw[i] : 0;
  if (key_len) {
    p[(key_len - 1) / 8] = 0; /* the last key word's padding */
    memcpy(p, key, key_len);
  }
  return n;
}

/* The entries of table `t` changed after `since` (shard lock held); returns words. */
static size_t tsmap_feed_table(const tsmap *m, tsmap_table *t, uint64_t since, uint64_t now,
                               uint64_t *out) {
  uint64_t w[TSMAP_MAX_KEY_WORDS + TSMAP_MAX_VALUE_WORDS];
  size_t at = tsmap_ver_at(m), st = tsmap_stamp_at(m), off = 0;
  for (size_t gi = 0; t && gi < t->ngroups; gi++) {
    tsmap_group *g = tsmap_table_group(t, gi);
    for (uint64_t full = tsmap_ctrl_full(tsmap_ld(&g->ctrl)); full; full &= full - 1) {
      unsigned slot = tsmap_first_slot(full);
      tsmap_word *sl = tsmap_slot(g, m->slot_words, slot);
      for (size_t i = 0; i < m->slot_words; i++)
        w[i] = tsmap_ld(&sl[i]);
      w[m->slot_words] = tsmap_ld(tsmap_table_ver(t, gi, slot)); /* at `at` of vw (V5) */
      const uint64_t *vw = w + m->key_words;
      if (vw[at] <= since || tsmap_expired_at(m, vw, now))
        continue;
      size_t len;
      const void *key = tsmap_slot_key(m, w, &len);
      uint64_t stamp = m->replicas ? vw[st] : 0;
      off += tsmap_rec_put(m, out ? out + off : NULL, key, len, vw, vw[at], stamp, vw + st + 1);
    }
  }
  return off;
}

/* The tombstones of shard `s` changed after `since` (shard lock held); returns words. */
static size_t tsmap_feed_tombs(const tsmap *m, const tsmap_shard *s, uint64_t since,
                               uint64_t *out) {
  size_t off = 0;
  const tsmap_tombs *ts = s->tombs;
  for (size_t b = 0; ts && b < ts->nbuckets; b++)
    for (const tsmap_tomb *t = ts->b[b]; t; t = t->next)
      if (t->version > since && !t->local) /* a capacity eviction's stays here (V4) */
        off += tsmap_rec_put(m, out ? out + off : NULL, t->w + m->replicas, t->key_len, NULL,
                             t->version, t->stamp, t->w);
  return off;
}

static size_t tsmap_feed_shard(const tsmap *m, tsmap_shard *s, uint64_t since, uint64_t now,
                               uint64_t *out) {
  size_t off = tsmap_feed_table(m, atomic_load(&s->old), since, now, out);
  off += tsmap_feed_table(m, atomic_load(&s->cur), since, now, out ? out + off : NULL);
  return off + tsmap_feed_tombs(m, s, since, out ? out + off : NULL);
}

/* Visit the records of one shard's copy; non-zero if the visitor stopped. */
static int tsmap_feed_visit(const tsmap *m, const uint64_t *buf, size_t words,
                            tsmap_change_fn fn, void *ctx) {
  for (size_t off = 0; off < words;) {
    const uint64_t *r = buf + off;
    tsmap_change c;
    c.key_len = r[0];
    c.version = r[1];
    c.stamp = r[2];
    c.clock = m->replicas ? r + TSMAP_REC_HEAD : NULL;
    c.clock_len = m->replicas;
    c.value = r[3] ? NULL : r + TSMAP_REC_HEAD + m->replicas;
    c.key = r + TSMAP_REC_HEAD + m->replicas + m->value_words;
    if (fn(&c, ctx) != 0)
      return 1;
    off += tsmap_rec_words(m, c.key_len);
  }
  return 0;
}

/* Copy shard `s` (locked here) and visit the copy. A status, or -1 to go on. */
static int tsmap_feed_one(tsmap *map, tsmap_shard *s, uint64_t since, uint64_t cursor,
                          tsmap_change_fn fn, void *ctx) {
  tsmap_lock_acquire(&s->lock);
  if (tsmap_is_closed(map)) {
    tsmap_lock_release(&s->lock);
    return TSMAP_CLOSED;
  }
  tsmap_ver_cursor_raise(s, cursor); /* V2: its later writes take versions above it */
  uint64_t now = map->expiring ? tsmap_now(map) : 0;
  size_t words = tsmap_feed_shard(map, s, since, now, NULL);
  uint64_t *buf = words ? (uint64_t *)tsmap_mem_alloc(map, words * 8) : NULL;
  if (buf)
    tsmap_feed_shard(map, s, since, now, buf);
  tsmap_lock_release(&s->lock);
  if (words && !buf)
    return TSMAP_NO_MEMORY;
  int stop = tsmap_feed_visit(map, buf, words, fn, ctx);
  if (buf)
    tsmap_mem_free(map, buf, words * 8);
  return stop ? TSMAP_STOPPED : -1;
}

/* The walk itself, with reshards held off by the caller. */
static tsmap_status tsmap_feed_shards(tsmap *map, uint64_t since, tsmap_change_fn fn, void *ctx,
                                      uint64_t *next_since) {
  uint64_t start = tsmap_ver_cursor(map);
  for (size_t i = 0; i < tsmap_shard_count(map); i++) {
    int st = tsmap_feed_one(map, &map->shards[i], since, start, fn, ctx);
    if (st >= 0)
      return (tsmap_status)st;
  }
  if (next_since)
    *next_since = start > since ? start : since;
  return TSMAP_OK;
}

/* G15: as tsmap_foreach, a reshard in progress is finished first and none starts until the
 * walk ends, so no entry moves from a shard not yet visited to one visited already. */
static tsmap_status tsmap_foreach_since_body(tsmap *map, uint64_t since, tsmap_change_fn fn,
                                             void *ctx, uint64_t *next_since) {
  if (!map || !map->versioned || !fn)
    return TSMAP_INVALID_ARGUMENT;
  if (tsmap_is_closed(map))
    return TSMAP_CLOSED;
  tsmap_status st = tsmap_reshard_foreach_enter(map);
  if (st != TSMAP_OK)
    return st;
  st = tsmap_feed_shards(map, since, fn, ctx, next_since);
  tsmap_reshard_foreach_exit(map);
  return st;
}

tsmap_status tsmap_foreach_since(tsmap *map, uint64_t since, tsmap_change_fn fn, void *ctx,
                                 uint64_t *next_since) {
  TSMAP_OP_RUN(map, TSMAP_OP_FOREACH_SINCE, tsmap_foreach_since_body(map, since, fn, ctx, next_since));
}

tsmap_status tsmap_export(tsmap *map, uint64_t since, tsmap_change_fn fn, void *ctx,
                          uint64_t *next_since) {
  TSMAP_OP_RUN(map, TSMAP_OP_EXPORT, tsmap_foreach_since_body(map, since, fn, ctx, next_since));
}
