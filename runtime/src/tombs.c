/*
 * tombs.c - tombstones of a replicated map (G13, versions.h V4): per shard, a chained
 * hash table of removed keys with their clocks, under the shard lock. Readers never look
 * here: a tombstone is absence to everything but merge, export and the next insert of
 * its key (which starts from its clock).
 */
#include "versions.h"
#include "metrics.h"

/* ======================================================================================
 * The table
 * ====================================================================================== */

static tsmap_tombs *tsmap_tombs_of(const tsmap *m, tsmap_shard *s) {
  if (!s->tombs)
    s->tombs = (tsmap_tombs *)tsmap_mem_zalloc(m, sizeof(tsmap_tombs));
  return s->tombs;
}

/* The link that points at `q`'s tombstone (or at the NULL ending its bucket). */
static tsmap_tomb **tsmap_tomb_link(const tsmap *m, const tsmap_key *q) {
  tsmap_tombs *ts = q->shard->tombs;
  if (!ts || !ts->nbuckets)
    return NULL;
  tsmap_tomb **l = &ts->b[q->hash & (ts->nbuckets - 1)];
  for (; *l; l = &(*l)->next)
    if ((*l)->hash == q->hash &&
        tsmap_key_equal_raw(m, (*l)->w + m->replicas, (*l)->key_len, q))
      return l;
  return l;
}

tsmap_tomb *tsmap_tomb_find(const tsmap *m, const tsmap_key *q) {
  tsmap_tomb **l = tsmap_tomb_link(m, q);
  return l ? *l : NULL;
}

static void tsmap_tomb_free(const tsmap *m, tsmap_tomb *t) { tsmap_mem_free(m, t, t->bytes); }

void tsmap_tomb_drop(const tsmap *m, const tsmap_key *q) {
  tsmap_tomb **l = tsmap_tomb_link(m, q);
  if (!l || !*l)
    return;
  tsmap_tomb *t = *l;
  *l = t->next;
  q->shard->tombs->count--;
  tsmap_tomb_free(m, t);
}

/* Rehash `ts` into n buckets (no memory: keep the ones it has). */
static void tsmap_tombs_rehash(const tsmap *m, tsmap_tombs *ts, size_t n) {
  tsmap_tomb **b = (tsmap_tomb **)tsmap_mem_zalloc(m, n * sizeof *b);
  if (!b)
    return;
  for (size_t i = 0; i < ts->nbuckets; i++) {
    while (ts->b[i]) {
      tsmap_tomb *t = ts->b[i];
      ts->b[i] = t->next;
      t->next = b[t->hash & (n - 1)];
      b[t->hash & (n - 1)] = t;
    }
  }
  if (ts->b)
    tsmap_mem_free(m, ts->b, ts->nbuckets * sizeof *ts->b);
  ts->b = b;
  ts->nbuckets = n;
}

/* Double the buckets when there are more tombstones than buckets (no memory: keep the
 * chains longer). */
static void tsmap_tombs_grow(const tsmap *m, tsmap_tombs *ts) {
  if (ts->count >= ts->nbuckets)
    tsmap_tombs_rehash(m, ts, ts->nbuckets ? ts->nbuckets * 2 : 16);
}

/* After tsmap_forget: halve the buckets while they are over 4 times the tombstones, down
 * to 16 (a burst of removals forgotten gives back its buckets too; before black-box round
 * 17 they only doubled: 8-16 bytes a peak tombstone kept until destroy). */
static void tsmap_tombs_shrink(const tsmap *m, tsmap_tombs *ts) {
  size_t n = ts->nbuckets;
  while (n > 16 && ts->count * 4 < n)
    n /= 2;
  if (n != ts->nbuckets)
    tsmap_tombs_rehash(m, ts, n);
}

static size_t tsmap_tomb_bytes(const tsmap *m, size_t key_len) {
  return sizeof(tsmap_tomb) + m->replicas * 8 + key_len;
}

/* A record for a tombstone of `q`: the reserved one if it is large enough, else a new
 * one. NULL: no memory. */
static tsmap_tomb *tsmap_tomb_alloc(const tsmap *m, tsmap_tombs *ts, const tsmap_key *q) {
  size_t bytes = tsmap_tomb_bytes(m, q->len);
  tsmap_tomb *t = ts->spare;
  if (t && t->bytes >= bytes) {
    ts->spare = NULL;
    return t;
  }
  t = (tsmap_tomb *)tsmap_mem_alloc(m, bytes);
  if (t)
    t->bytes = bytes;
  return t;
}

int tsmap_tomb_reserve(const tsmap *m, const tsmap_key *q) {
  tsmap_tombs *ts = tsmap_tombs_of(m, q->shard);
  if (!ts)
    return -1;
  if (!ts->nbuckets)
    tsmap_tombs_grow(m, ts);
  if (!ts->nbuckets)
    return -1;
  if (tsmap_tomb_find(m, q) || (ts->spare && ts->spare->bytes >= tsmap_tomb_bytes(m, q->len)))
    return 0; /* a tombstone to overwrite, or a record large enough */
  tsmap_tomb *t = (tsmap_tomb *)tsmap_mem_alloc(m, tsmap_tomb_bytes(m, q->len));
  if (!t)
    return -1;
  t->bytes = tsmap_tomb_bytes(m, q->len);
  if (ts->spare)
    tsmap_tomb_free(m, ts->spare);
  ts->spare = t;
  return 0;
}

/* Link record `t` (large enough) as the tombstone of `q` into `ts`, which has buckets. */
static tsmap_tomb *tsmap_tomb_link_new(const tsmap *m, tsmap_tombs *ts, const tsmap_key *q,
                                       tsmap_tomb *t) {
  t->hash = q->hash;
  t->key_len = q->len;
  if (q->len)
    memcpy(t->w + m->replicas, q->p, q->len);
  tsmap_tomb **head = &ts->b[q->hash & (ts->nbuckets - 1)];
  t->next = *head;
  *head = t;
  ts->count++;
  return t;
}

/* A new tombstone of `q`, linked. NULL: no memory. */
static tsmap_tomb *tsmap_tomb_new(const tsmap *m, const tsmap_key *q) {
  tsmap_tombs *ts = tsmap_tombs_of(m, q->shard);
  if (!ts)
    return NULL;
  tsmap_tombs_grow(m, ts);
  if (!ts->nbuckets)
    return NULL;
  tsmap_tomb *t = tsmap_tomb_alloc(m, ts, q);
  return t ? tsmap_tomb_link_new(m, ts, q, t) : NULL;
}

tsmap_tomb *tsmap_tomb_set(const tsmap *m, const tsmap_key *q, const uint64_t *clock,
                           uint64_t stamp, uint64_t version, int local) {
  tsmap_tomb *t = tsmap_tomb_find(m, q);
  if (!t && !(t = tsmap_tomb_new(m, q)))
    return NULL;
  for (size_t i = 0; i < m->replicas; i++)
    t->w[i] = clock[i];
  t->stamp = stamp;
  t->version = version ? version : tsmap_ver_next(m);
  t->local = local;
  return t;
}

/* ======================================================================================
 * A removed entry's tombstone (V3, V4)
 * ====================================================================================== */

void tsmap_tomb_on_erase(const tsmap *m, tsmap_shard *s, const tsmap_pos *pos) {
  uint64_t clock[TSMAP_MAX_REPLICAS], kw[TSMAP_MAX_KEY_WORDS];
  tsmap_word *sl = tsmap_slot(tsmap_table_group(pos->t, pos->g), m->slot_words, pos->slot);
  for (size_t i = 0; i < m->key_words; i++)
    kw[i] = tsmap_ld(&sl[i]);
  const tsmap_word *ck = sl + m->key_words + tsmap_stamp_at(m) + 1;
  for (size_t i = 0; i < m->replicas; i++)
    clock[i] = tsmap_ld(&ck[i]);
  size_t len;
  const void *key = tsmap_slot_key(m, kw, &len); /* alive: we hold the lock */
  tsmap_key q;
  if (tsmap_key_prepare(m, key, len, &q) != TSMAP_OK || q.shard != s)
    return;
  uint64_t v = tsmap_ver_next(m);
  clock[m->cfg.replica_id] = v;
  if (!tsmap_tomb_set(m, &q, clock, (v << 8) | m->cfg.replica_id, v, 0) && s->tombs)
    s->tombs->lost++; /* only without tsmap_tomb_reserve first: every caller reserves */
}

/* ======================================================================================
 * An expired entry's tombstone (V4, G10 on a replicated map), and an entry's a bound
 * evicted for room (G11): both leave without a write (expiry.c's reap records)
 * ====================================================================================== */

/* The key of the entry at `pos` as an operation's key (shard lock held: a long key is
 * alive); -1 if it does not prepare (it did when stored). */
static int tsmap_tomb_slot_key(const tsmap *m, const tsmap_pos *pos, uint64_t *kw,
                               tsmap_key *q) {
  tsmap_word *sl = tsmap_slot(tsmap_table_group(pos->t, pos->g), m->slot_words, pos->slot);
  for (size_t i = 0; i < m->key_words; i++)
    kw[i] = tsmap_ld(&sl[i]);
  size_t len;
  const void *key = tsmap_slot_key(m, kw, &len);
  return tsmap_key_prepare(m, key, len, q) == TSMAP_OK ? 0 : -1;
}

tsmap_tomb *tsmap_tomb_for_expiry(const tsmap *m, const tsmap_pos *pos) {
  uint64_t kw[TSMAP_MAX_KEY_WORDS];
  tsmap_key q;
  if (tsmap_tomb_slot_key(m, pos, kw, &q) != 0)
    return NULL;
  tsmap_tombs *ts = tsmap_tombs_of(m, q.shard);
  if (!ts)
    return NULL;
  if (!ts->nbuckets)
    tsmap_tombs_grow(m, ts);
  if (!ts->nbuckets)
    return NULL;
  size_t bytes = tsmap_tomb_bytes(m, q.len);
  tsmap_tomb *t = (tsmap_tomb *)tsmap_mem_alloc(m, bytes);
  if (t)
    t->bytes = bytes;
  return t;
}

void tsmap_tomb_release(const tsmap *m, tsmap_tomb *t) {
  if (t)
    tsmap_tomb_free(m, t);
}

void tsmap_tomb_on_expire(const tsmap *m, const tsmap_pos *pos, tsmap_tomb *t, int local) {
  uint64_t kw[TSMAP_MAX_KEY_WORDS], clock[TSMAP_MAX_REPLICAS];
  tsmap_key q;
  if (tsmap_tomb_slot_key(m, pos, kw, &q) != 0) {
    tsmap_tomb_free(m, t);
    return;
  }
  tsmap_word *sl = tsmap_slot(tsmap_table_group(pos->t, pos->g), m->slot_words, pos->slot);
  const tsmap_word *sw = sl + m->key_words + tsmap_stamp_at(m);
  for (size_t i = 0; i < m->replicas; i++)
    clock[i] = tsmap_ld(&sw[1 + i]);
  uint64_t stamp = tsmap_ld(&sw[0]);
  tsmap_tomb *had = tsmap_tomb_find(m, &q); /* none beside a live entry (V4); to be sure */
  if (had)
    tsmap_tomb_free(m, t);
  else
    tsmap_tomb_link_new(m, q.shard->tombs, &q, t);
  /* the entry's own clock and stamp: not a write (no counter raised), so it dominates
   * exactly what the entry did; a new version, so tsmap_export passes it on (an expiry),
   * or `local`, never exported (a capacity eviction: the bound is this replica's own) */
  (void)tsmap_tomb_set(m, &q, clock, stamp, 0, local);
}

/* ======================================================================================
 * forget and teardown
 * ====================================================================================== */

/* Whether `clock` is at most `horizon` (horizon_len counters, the rest 0) everywhere. */
static int tsmap_clock_below(const uint64_t *clock, size_t n, const uint64_t *horizon,
                             size_t horizon_len) {
  for (size_t i = 0; i < n; i++)
    if (clock[i] > (i < horizon_len ? horizon[i] : 0))
      return 0;
  return 1;
}

/* Drop shard `s`'s tombstones below the horizon (lock held); returns how many. */
static size_t tsmap_tombs_forget(const tsmap *m, tsmap_shard *s, const uint64_t *horizon,
                                 size_t horizon_len) {
  tsmap_tombs *ts = s->tombs;
  size_t n = 0;
  for (size_t b = 0; ts && b < ts->nbuckets; b++) {
    for (tsmap_tomb **l = &ts->b[b]; *l;) {
      tsmap_tomb *t = *l;
      if (!tsmap_clock_below(t->w, m->replicas, horizon, horizon_len)) {
        l = &t->next;
        continue;
      }
      *l = t->next;
      ts->count--;
      tsmap_tomb_free(m, t);
      n++;
    }
  }
  if (ts)
    tsmap_tombs_shrink(m, ts);
  return n;
}

static tsmap_status tsmap_forget_body(tsmap *map, const uint64_t *horizon, size_t horizon_len,
                                      size_t *forgotten_out) {
  if (!map || !map->replicas || (horizon_len && !horizon) || horizon_len > map->replicas)
    return TSMAP_INVALID_ARGUMENT;
  size_t n = 0;
  for (size_t i = 0; i < tsmap_shard_count(map); i++) { /* replicated maps never reshard */
    tsmap_shard *s = &map->shards[i];
    tsmap_lock_acquire(&s->lock);
    if (tsmap_is_closed(map)) {
      tsmap_lock_release(&s->lock);
      return TSMAP_CLOSED;
    }
    n += tsmap_tombs_forget(map, s, horizon, horizon_len);
    tsmap_lock_release(&s->lock);
  }
  if (forgotten_out)
    *forgotten_out = n;
  return TSMAP_OK;
}

tsmap_status tsmap_forget(tsmap *map, const uint64_t *horizon, size_t horizon_len,
                          size_t *forgotten_out) {
  TSMAP_OP_RUN(map, TSMAP_OP_FORGET, tsmap_forget_body(map, horizon, horizon_len, forgotten_out));
}

void tsmap_tombs_free(const tsmap *m) {
  for (size_t i = 0; i < tsmap_shard_hw(m); i++) {
    tsmap_tombs *ts = m->shards[i].tombs;
    if (!ts)
      continue;
    for (size_t b = 0; b < ts->nbuckets; b++) {
      while (ts->b[b]) {
        tsmap_tomb *t = ts->b[b];
        ts->b[b] = t->next;
        tsmap_tomb_free(m, t);
      }
    }
    if (ts->b)
      tsmap_mem_free(m, ts->b, ts->nbuckets * sizeof *ts->b);
    if (ts->spare)
      tsmap_tomb_free(m, ts->spare);
    tsmap_mem_free(m, ts, sizeof *ts);
    m->shards[i].tombs = NULL;
  }
}
