/*
 * map.c - the sharded table: keys, the lock-free read path, writer-side table operations,
 * incremental growth, and get/put/put_if_absent/remove/size. A table's memory is
 * tables.c's; create, close and destroy are lifecycle.c's; foreach is foreach.c's.
 *
 * How a read works (G2): hash the key with the map's seed; the hash picks a shard, a
 * first group and a 7-bit tag. Load the shard's table pointers under its `gen` seqlock,
 * then probe groups: in each group, read seq (even), the 8 control bytes, and for each
 * tag match copy the slot's words, re-check seq, compare keys on the copy, and copy the
 * value; accept only if seq did not move. A group with an EMPTY byte ends the probe.
 * While the shard grows, the old table is probed before the new one (entries move old ->
 * new, so a key missing from old is already in new); a miss is trusted only if `gen`
 * did not move, i.e. no new growth started under us. The 8-byte get reads the shard's
 * tables from its probe words instead (map->probe8: cur's groups and size, and old's while
 * it grows; tsmap_shard_publish8), and lets the first word stand in for gen. The reader's
 * only write is its own epoch slot (I5), which keeps retired tables alive while it looks
 * at them.
 *
 * Writes (G1) take the shard lock, move TSMAP_MIGRATE_GROUPS groups if the shard grows
 * (G5), change one group under its seq, and run hooks after unlocking (G6).
 */
#include "metrics.h"
#include "tsmap_internal.h"
#include "expiry.h"
#include "bound.h"
#include "placement.h"
#include "versions.h"
#include "reshard.h"
#include "slab.h"
#include "fork.h"

#include <sched.h>
#include <stdlib.h>
#include <sys/mman.h>
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#endif
#include <unistd.h>

#if defined(__linux__) && !defined(MADV_POPULATE_WRITE)
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; older kernels fail it and we touch pages */
#endif

/* Seqlock a group of `t` for writing (I2). Returns the seq to pass to tsmap_group_end.
 * The values come from the table's counter, not from the group: every write gives its
 * group a larger seq than the group has had (so a reader's equal seqs still mean no
 * write came between), and the group's line is stored to, never loaded. */
static uint64_t tsmap_group_begin(tsmap_table *t, tsmap_group *g) {
  uint64_t s = t->wseq += 2;
  tsmap_st(&g->seq, s - 1);
  atomic_thread_fence(memory_order_release);
  return s;
}

static void tsmap_group_end(tsmap_group *g, uint64_t s) {
  atomic_store_explicit(&g->seq, s, memory_order_release);
}

/* Set group gi's control word, for readers and in the writers' copy (shard lock). */
static void tsmap_group_set_ctrl(tsmap_table *t, size_t gi, tsmap_group *g, uint64_t ctrl) {
  tsmap_st(&g->ctrl, ctrl);
  t->wctrl[gi] = ctrl;
}

/* ======================================================================================
 * Keys
 * ====================================================================================== */

/* Hash `len` bytes with the map's hash. */
static uint64_t tsmap_hash_key(const tsmap *m, const void *p, size_t len) {
  if (m->cfg.hash)
    return m->cfg.hash(p, len, m->raw_seed, m->cfg.hash_ctx);
  return tsmap_hash_bytes(p, len, m->seed);
}

/* Validate a caller's key and compute what every operation needs from it. */
tsmap_status tsmap_key_prepare(const tsmap *m, const void *key, size_t len, tsmap_key *q) {
  if (TSMAP_LIKELY(m->fast8 && key && len == 8)) { /* 8-byte integer keys */
    q->p = (const unsigned char *)key;
    q->len = 8;
    memcpy(&q->w[0], key, 8);
    q->hash = tsmap_hash_u64(q->w[0], m->seed);
    q->h2 = tsmap_h2(q->hash);
    q->route = tsmap_route(m);
    q->shard = &m->shards[(q->hash >> 32) & q->route];
    return TSMAP_OK;
  }
  if (!key && len != 0)
    return TSMAP_INVALID_ARGUMENT;
  if (m->key_size ? len != m->key_size : len > TSMAP_MAX_KEY_SIZE)
    return TSMAP_INVALID_ARGUMENT;
  /* The empty key may come as (NULL, 0): the hash, callbacks and hooks are given a
   * pointer that is not null, as for every other key (memcpy(dst, key, 0) in a hook). */
  q->p = key ? (const unsigned char *)key : (const unsigned char *)"";
  q->len = len;
  q->ttl = TSMAP_TTL_DEFAULT; /* G10: the *_ttl calls set their own */
  q->ver = NULL;              /* G13: a local write; tsmap_merge sets its own */
  if (m->key_size) {
    q->w[m->key_words - 1] = 0;
    memcpy(q->w, q->p, len);
  } else {
    q->w[0] = len;
    q->w[1] = 0;
    if (len <= 8 && len)
      memcpy(&q->w[1], q->p, len);
  }
  q->hash = m->fast8 || m->fast8_meta ? tsmap_hash_u64(q->w[0], m->seed)
                                      : tsmap_hash_key(m, q->p, len);
  q->h2 = tsmap_h2(q->hash);
  q->route = tsmap_route(m);
  q->shard = &m->shards[(q->hash >> 32) & q->route];
  return TSMAP_OK;
}

/* The bytes and length of the key in slot words `kw` (which must be a validated copy, or
 * read under the shard lock: a long key's pointer is dereferenced). */
const void *tsmap_slot_key(const tsmap *m, const uint64_t *kw, size_t *len) {
  if (m->key_size) {
    *len = m->key_size;
    return kw;
  }
  *len = (size_t)kw[0];
  if (*len <= 8)
    return &kw[1];
  return ((const tsmap_keyblock *)(uintptr_t)kw[1])->bytes;
}

/* Is the key in slot words `kw` the caller's key? */
static int tsmap_key_equal_slot(const tsmap *m, const uint64_t *kw, const tsmap_key *q) {
  if (!m->cfg.equal) {
    if (m->key_words == 1 && m->key_size)
      return kw[0] == q->w[0];
    if (m->key_size)
      return memcmp(kw, q->w, m->key_words * 8) == 0;
    if (kw[0] != q->len)
      return 0;
    if (q->len <= 8)
      return kw[1] == q->w[1];
    return memcmp(((const tsmap_keyblock *)(uintptr_t)kw[1])->bytes, q->p, q->len) == 0;
  }
  size_t len;
  const void *p = tsmap_slot_key(m, kw, &len);
  return m->cfg.equal(p, len, q->p, q->len, m->cfg.hash_ctx) != 0;
}

int tsmap_key_equal_raw(const tsmap *m, const void *a, size_t alen, const tsmap_key *q) {
  if (m->cfg.equal)
    return m->cfg.equal(a, alen, q->p, q->len, m->cfg.hash_ctx) != 0;
  return alen == q->len && (alen == 0 || memcmp(a, q->p, alen) == 0);
}

/* Hash of the key stored in slot words `kw` (writer side: migration). */
static uint64_t tsmap_slot_hash(const tsmap *m, const uint64_t *kw) {
  if (m->fast8 || m->fast8_meta)
    return tsmap_hash_u64(kw[0], m->seed);
  size_t len;
  const void *p = tsmap_slot_key(m, kw, &len);
  return tsmap_hash_key(m, p, len);
}

uint64_t tsmap_slot_hash_of(const tsmap *m, const uint64_t *kw) { return tsmap_slot_hash(m, kw); }

/* A long key needs its own immutable block. *kb stays NULL for inline keys. */
tsmap_status tsmap_keyblock_prepare(tsmap *m, const tsmap_key *q, tsmap_keyblock **kb) {
  *kb = NULL;
  if (m->key_size || q->len <= 8)
    return TSMAP_OK;
  tsmap_keyblock *b = (tsmap_keyblock *)tsmap_mem_alloc(m, sizeof *b + q->len);
  if (!b)
    return TSMAP_NO_MEMORY;
  b->len = q->len;
  b->retire_epoch = 0;
  b->retired_next = NULL;
  memcpy(b->bytes, q->p, q->len);
  *kb = b;
  return TSMAP_OK;
}

void tsmap_keyblock_free(tsmap *m, tsmap_keyblock *kb) {
  if (kb)
    tsmap_mem_free(m, kb, tsmap_keyblock_bytes(kb));
}

/* ======================================================================================
 * Values
 * ====================================================================================== */

static void tsmap_words_from_bytes(uint64_t *w, size_t nwords, const void *src, size_t n) {
  if (TSMAP_LIKELY(n == 8)) { /* one word: no memcpy call */
    memcpy(w, src, 8);
    return;
  }
  if (nwords) {
    w[nwords - 1] = 0;
    memcpy(w, src, n);
  }
}

void tsmap_value_out(const tsmap *m, const uint64_t *vbuf, void *out) {
  if (out && m->value_size)
    memcpy(out, vbuf, m->value_size);
}

void tsmap_pos_read_value(const tsmap *m, const tsmap_pos *pos, uint64_t *vbuf) {
  tsmap_group *g = tsmap_table_group(pos->t, pos->g);
  tsmap_word *sl = tsmap_slot(g, m->slot_words, pos->slot) + m->key_words;
  for (size_t i = 0; i < m->value_words + m->meta_words; i++) /* G10: and the deadline */
    vbuf[i] = tsmap_ld(&sl[i]);
  if (m->side) /* G11, G12: the side word after them (V5) */
    vbuf[m->value_words + m->meta_words] = tsmap_ld(tsmap_table_ver(pos->t, pos->g, pos->slot));
}

/* Store a one-word value over the one at `sl` (shard lock held). The key stays, so a
 * reader that sees either word has a value this key held: no seqlock, and readers of
 * the group's other slots do not retry. Release: the new value publishes what it points
 * to (readers load it with acquire). */
TSMAP_INLINE void tsmap_value_store1(tsmap_word *sl, uint64_t v) {
  atomic_store_explicit(sl, v, memory_order_release);
}

/* Overwrite the value at `pos` with the one operation `q` stores (shard lock held). */
void tsmap_pos_write_value(const tsmap *m, const tsmap_pos *pos, const tsmap_key *q,
                           const void *value) {
  uint64_t v[TSMAP_MAX_VALUE_WORDS];
  size_t words = m->value_words + m->meta_words;
  tsmap_words_from_bytes(v, m->value_words, value, m->value_size);
  if (m->meta_words || m->side) /* G10-G13: value and meta words change under one seq */
    tsmap_meta_fill(m, q, v, tsmap_meta_at(m, pos));
  tsmap_group *g = tsmap_table_group(pos->t, pos->g);
  tsmap_word *sl = tsmap_slot(g, m->slot_words, pos->slot) + m->key_words;
  TSMAP_MX_REPLACED(m, pos);
  if (words <= 1 && !m->side) {
    if (words)
      tsmap_value_store1(sl, v[0]);
    return;
  }
  uint64_t s = tsmap_group_begin(pos->t, g);
  for (size_t i = 0; i < words; i++)
    tsmap_st(&sl[i], v[i]);
  if (m->side) /* G11, G12, V5: with its side word, in the same seq window */
    tsmap_st(tsmap_table_ver(pos->t, pos->g, pos->slot), v[words]);
  tsmap_group_end(g, s);
}

/* ======================================================================================
 * The read path (G2): lock-free, validated, writes nothing shared
 * ====================================================================================== */

/* The contended path of tsmap_lock_acquire: spin on a read for TSMAP_LOCK_SPINS, then
 * sleep until an unlock wakes this thread (tsmap_internal.h, "The shard lock"). */
#define TSMAP_LOCK_SPINS 512u

static void tsmap_lock_sleep(tsmap_lock *l) {
#if defined(__linux__)
  /* returns at a wake, at once if the word is no longer 2, or at a signal: the caller
   * looks again either way */
  (void)syscall(SYS_futex, (uint32_t *)&l->held, FUTEX_WAIT_PRIVATE, 2u, NULL, NULL, 0);
#else
  (void)l;
  sched_yield();
#endif
}

void tsmap_lock_wake(tsmap_lock *l) {
  /* the word was 2 (a waiter may sleep) and is 1 now: free it, then wake one sleeper,
   * which takes the lock with 2 again, so its own unlock wakes the next */
  atomic_store_explicit(&l->held, 0, memory_order_release);
#if defined(__linux__)
  (void)syscall(SYS_futex, (uint32_t *)&l->held, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
#endif
}

void tsmap_lock_slow(tsmap_lock *l) {
  for (unsigned spins = 0; spins < TSMAP_LOCK_SPINS; spins++) {
    if (!atomic_load_explicit(&l->held, memory_order_relaxed) && tsmap_lock_try(l))
      return;
    tsmap_cpu_relax();
  }
  while (atomic_exchange_explicit(&l->held, 2, memory_order_acquire) != 0)
    tsmap_lock_sleep(l);
}

/* Copy `n` words of a slot. */
/* Copy `n` value words of a slot for a lock-free reader: acquire, to pair with
 * tsmap_value_store1's release (a one-word value is overwritten outside the seqlock). */
TSMAP_INLINE void tsmap_value_load(uint64_t *dst, const tsmap_word *src, size_t n) {
  for (size_t i = 0; i < n; i++)
    dst[i] = atomic_load_explicit((tsmap_word *)&src[i], memory_order_acquire);
}

TSMAP_INLINE int tsmap_seq_moved(tsmap_group *g, uint64_t s1) {
  atomic_thread_fence(memory_order_acquire);
  return tsmap_ld(&g->seq) != s1;
}

/* One validated look at one group. Returns 1 found (value words in vbuf, seq in *seq),
 * 0 absent (the group has an EMPTY slot: the probe ends), 2 go on to the next group.
 * `ver`: the group's version words (a versioned map, V5), copied after the value words. */
static int tsmap_group_read(const tsmap *m, tsmap_group *g, const tsmap_word *ver,
                            const tsmap_key *q, uint64_t *vbuf, uint64_t *seq,
                            unsigned *slot) {
  uint64_t kw[TSMAP_MAX_KEY_WORDS];
  for (;;) {
    uint64_t s1 = atomic_load_explicit(&g->seq, memory_order_acquire);
    if (s1 & 1u) {
      tsmap_cpu_relax();
      continue;
    }
    uint64_t ctrl = tsmap_ld(&g->ctrl);
    uint64_t match = tsmap_ctrl_match(ctrl, q->h2);
    int torn = 0;
    for (; match; match &= match - 1) {
      unsigned i = tsmap_first_slot(match);
      tsmap_word *sl = tsmap_slot(g, m->slot_words, i);
      tsmap_copy_words(kw, sl, m->key_words);
      if ((torn = tsmap_seq_moved(g, s1)) != 0)
        break;
      if (!tsmap_key_equal_slot(m, kw, q))
        continue;
      tsmap_value_load(vbuf, sl + m->key_words, m->value_words + m->meta_words);
      if (ver)
        vbuf[m->value_words + m->meta_words] = tsmap_ld(&ver[i]);
      if ((torn = tsmap_seq_moved(g, s1)) != 0)
        break;
      *seq = s1;
      *slot = i;
      return 1;
    }
    if (torn || tsmap_seq_moved(g, s1))
      continue;
    return tsmap_ctrl_empty(ctrl) ? 0 : 2;
  }
}

/* Probe table `t` for the key. Returns 1 (found, *pos and *seq set) or 0. */
static int tsmap_table_read(const tsmap *m, tsmap_table *t, const tsmap_key *q,
                            uint64_t *vbuf, tsmap_pos *pos, uint64_t *seq) {
  size_t g = q->hash & t->mask;
  for (size_t step = 0; step <= t->mask;) {
    int r = tsmap_group_read(m, tsmap_table_group(t, g), t->vers ? tsmap_table_ver(t, g, 0) : NULL,
                             q, vbuf, seq, &pos->slot);
    if (r != 2) {
      pos->t = t;
      pos->g = g;
      return r;
    }
    step++;
    g = (g + step) & t->mask;
  }
  return 0;
}

/* Look the key up in its shard without a lock. The caller is in a read-side section.
 * Returns 1 found (value in vbuf, *tok where), 0 absent, -1 the map is closed. A route
 * that changed since the key was routed, or a reshard in progress, takes the reshard's
 * read (G15); a clean route read inside the section stays valid until it ends. */
int tsmap_shard_read(const tsmap *m, tsmap_shard *s, const tsmap_key *q, uint64_t *vbuf,
                     tsmap_token *tok) {
  uint64_t route = tsmap_route(m);
  if (TSMAP_UNLIKELY((route & TSMAP_ROUTE_DIVERT) || route != q->route))
    return tsmap_reshard_read(m, q, vbuf, tok);
  return tsmap_shard_probe(m, s, q, vbuf, tok);
}

int tsmap_shard_probe(const tsmap *m, tsmap_shard *s, const tsmap_key *q, uint64_t *vbuf,
                      tsmap_token *tok) {
  for (;;) {
    uint64_t gen = atomic_load_explicit(&s->gen, memory_order_acquire);
    if (gen & 1u) {
      tsmap_cpu_relax();
      continue;
    }
    tsmap_table *old = atomic_load_explicit(&s->old, memory_order_acquire);
    tsmap_table *cur = atomic_load_explicit(&s->cur, memory_order_acquire);
    tok->gen = gen;
    if ((old && tsmap_table_read(m, old, q, vbuf, &tok->pos, &tok->seq)) ||
        (cur && tsmap_table_read(m, cur, q, vbuf, &tok->pos, &tok->seq))) {
      if (tsmap_read_expired(m, vbuf)) /* G10: absent from its deadline on */
        return 0;
      if (TSMAP_UNLIKELY(m->bounded)) /* G11, B4 */
        tsmap_freq_read_touch(m, &tok->pos);
      return 1;
    }
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&s->gen, memory_order_relaxed) == gen)
      return cur ? 0 : -1;
  }
}

/* ======================================================================================
 * Writer-side table operations (shard lock held)
 * ====================================================================================== */

/* The slots of a group whose control byte may be the tag of `pat` (the tag in every byte):
 * the high bit of each byte equal to the tag, and perhaps of a byte above one that is (the
 * subtraction's borrow), which the caller's key compare rejects. The eighth byte is 0,
 * never a candidate. absl's Match; three instructions fewer than tsmap_ctrl_match. */
TSMAP_INLINE uint64_t tsmap_ctrl_candidates(uint64_t ctrl, uint64_t pat) {
  uint64_t x = ctrl ^ pat;
  return (x - TSMAP_BYTES_LO) & ~x & TSMAP_BYTES_HI;
}

/* Words of a slot for `w8v8` (a constant, tsmap_store_body): two (a key and a value, also
 * with a version, which is not in the slot: 3), three with one meta word (2), else the
 * map's. */
TSMAP_INLINE size_t tsmap_w8_slot(const tsmap *m, const int w8v8) {
  return w8v8 == 2 ? 3 : w8v8 ? 2 : m->slot_words;
}

/* Find the key in table `t`. `w8v8` (a constant): the map has 8-byte keys and values, so
 * a slot is two words (three with one meta word, w8v8 2) and the key is its first. */
TSMAP_INLINE int tsmap_table_find_n(const tsmap *m, tsmap_table *t, const tsmap_key *q,
                                    tsmap_pos *pos, const int w8v8) {
  uint64_t kw[TSMAP_MAX_KEY_WORDS];
  /* w8v8: a constant stride, and tsmap_ctrl_candidates (the key compare rejects a false
   * candidate) */
  const size_t sw = tsmap_w8_slot(m, w8v8);
  const size_t stride = w8v8 ? sizeof(tsmap_group) + TSMAP_GROUP_SLOTS * sw * 8 : t->stride;
  size_t g = q->hash & t->mask;
  for (size_t step = 0; step <= t->mask;) {
    /* the group's line is loaded only for a tag's compare; but a versioned map's 8/8 put
     * (w8v8 3) writes the group's seq anyway, so it takes ctrl from that line (equal to
     * wctrl's copy under the lock, I1) and leaves the wctrl line alone (V5) */
    uint64_t ctrl = w8v8 == 3 ? tsmap_ld(&((tsmap_group *)(void *)(t->groups + g * stride))->ctrl)
                              : t->wctrl[g];
    uint64_t match = w8v8 ? tsmap_ctrl_candidates(ctrl, TSMAP_BYTES_LO * q->h2)
                          : tsmap_ctrl_match(ctrl, q->h2);
    for (; match; match &= match - 1) {
      unsigned i = tsmap_first_slot(match);
      tsmap_word *sl = tsmap_slot((tsmap_group *)(void *)(t->groups + g * stride), sw, i);
      if (w8v8 || m->fast8 || m->fast8_meta) {
        if (tsmap_ld(&sl[0]) == q->w[0]) {
          *pos = (tsmap_pos){t, g, i};
          return 1;
        }
        continue;
      }
      tsmap_copy_words(kw, sl, m->key_words);
      if (tsmap_key_equal_slot(m, kw, q)) {
        *pos = (tsmap_pos){t, g, i};
        return 1;
      }
    }
    if (tsmap_ctrl_empty(ctrl))
      return 0;
    step++;
    g = (g + step) & t->mask;
  }
  return 0;
}

/* Find the key in the shard: old table first, then current (I3: in at most one). `w8v8`
 * as for tsmap_table_find_n. */
TSMAP_INLINE int tsmap_shard_find_n(const tsmap *m, tsmap_shard *s, const tsmap_key *q,
                                    tsmap_pos *pos, const int w8v8) {
  tsmap_table *old = atomic_load_explicit(&s->old, memory_order_relaxed);
  if (old && tsmap_table_find_n(m, old, q, pos, w8v8))
    return 1;
  return tsmap_table_find_n(m, atomic_load_explicit(&s->cur, memory_order_relaxed), q, pos,
                            w8v8);
}

int tsmap_shard_find(const tsmap *m, tsmap_shard *s, const tsmap_key *q, tsmap_pos *pos) {
  return tsmap_shard_find_n(m, s, q, pos, 0);
}

/* The first free (EMPTY or DELETED) slot on the probe path of `hash` in `t`. It ends:
 * an EMPTY slot is filled only while growth_left > 0 (the insert and a reshard's move
 * grow first, a growth's move checks its room, tsmap_migrate_step), so growth_left never
 * wraps and t keeps at least ngroups EMPTY slots (I3); the triangular probe visits every
 * group of a power-of-two table. */
static tsmap_pos tsmap_table_free_slot(tsmap_table *t, uint64_t hash) {
  size_t g = hash & t->mask;
  for (size_t step = 0;; ) {
    uint64_t f = tsmap_ctrl_free(t->wctrl[g]);
    if (f)
      return (tsmap_pos){t, g, tsmap_first_slot(f)};
    step++;
    g = (g + step) & t->mask;
  }
}

/* Write key words, value words and control byte into the free slot `pos`. The body for
 * `kwords` key and `vwords` value words, inlined with constants by the 8-byte paths
 * (tsmap_is_8v8) so that the copies are single stores. `ver` (a versioned map): vw[vwords]
 * is the entry's version, stored in the table's version words (V5) in the same window. */
TSMAP_INLINE void tsmap_slot_fill_n(const tsmap_pos *pos, size_t kwords, size_t vwords,
                                    unsigned h2, const uint64_t *kw, const uint64_t *vw,
                                    const int ver) {
  tsmap_group *g = tsmap_table_group(pos->t, pos->g);
  tsmap_word *sl = tsmap_slot(g, kwords + vwords, pos->slot);
  uint64_t ctrl = pos->t->wctrl[pos->g];
  if (tsmap_ctrl_get(ctrl, pos->slot) == TSMAP_CTRL_EMPTY)
    pos->t->growth_left--;
  uint64_t s = tsmap_group_begin(pos->t, g);
  for (size_t i = 0; i < kwords; i++)
    tsmap_st(&sl[i], kw[i]);
  for (size_t i = 0; i < vwords; i++)
    tsmap_st(&sl[kwords + i], vw[i]);
  if (ver)
    tsmap_st(tsmap_table_ver(pos->t, pos->g, pos->slot), vw[vwords]);
  tsmap_group_set_ctrl(pos->t, pos->g, g, tsmap_ctrl_set(ctrl, pos->slot, h2));
  tsmap_group_end(g, s);
}

/* The same for any map. */
static void tsmap_slot_fill(const tsmap *m, const tsmap_pos *pos, unsigned h2,
                            const uint64_t *kw, const uint64_t *vw) {
  tsmap_slot_fill_n(pos, m->key_words, m->value_words + m->meta_words, h2, kw, vw, m->side);
}

/* Maps whose slots are one key word (fast8) and one value word: the bench's and the
 * common integer-to-integer or integer-to-pointer case. */
TSMAP_INLINE int tsmap_is_8v8(const tsmap *m) { return m->fast8 && m->value_words == 1; }

/* ---- Incremental growth (G5) ------------------------------------------------------------ */

static void tsmap_retire_table(tsmap_shard *s, tsmap_table *t) {
  t->retire_epoch = atomic_load(&tsmap_global_epoch);
  t->retired_next = s->retired_tables;
  s->retired_tables = t;
  s->retired_count++;
  s->retired_bytes += t->bytes;
}

/* A removed long key's block: readers may still compare against it (I5). */
static void tsmap_retire_key(tsmap_shard *s, tsmap_keyblock *kb) {
  kb->retire_epoch = atomic_load(&tsmap_global_epoch);
  kb->retired_next = s->retired_keys;
  s->retired_keys = kb;
  s->retired_count++;
  s->retired_bytes += tsmap_keyblock_bytes(kb);
}

/* Move every entry of group `gi` of `old` into `cur`, then mark them DELETED in `old`
 * (never EMPTY: probes for keys still in old must pass through). Insert before delete,
 * so a reader that misses the key in old finds it in cur. */
TSMAP_INLINE void tsmap_migrate_group_n(const tsmap *m, tsmap_table *old, size_t gi,
                                        tsmap_table *cur, size_t kwords, size_t vwords,
                                        int fast8, const int births, const int ver,
                                        const int mark) {
  uint64_t w[TSMAP_MAX_KEY_WORDS + TSMAP_MAX_VALUE_WORDS];
  tsmap_group *g = tsmap_table_group(old, gi);
  uint64_t ctrl = old->wctrl[gi], full = tsmap_ctrl_full(ctrl), dead = ctrl;
  const uint32_t *birth = old->birth; /* M3: metered maps only */
  if (!full)
    return;
  for (; full; full &= full - 1) {
    unsigned i = tsmap_first_slot(full);
    tsmap_copy_words(w, tsmap_slot(g, kwords + vwords, i), kwords + vwords);
    if (ver) /* G12, V5: the version moves with the slot */
      w[kwords + vwords] = tsmap_ld(tsmap_table_ver(old, gi, i));
    uint64_t h = fast8 ? tsmap_hash_u64(w[0], m->seed) : tsmap_slot_hash(m, w);
    tsmap_pos to = tsmap_table_free_slot(cur, h);
    tsmap_slot_fill_n(&to, kwords, vwords, tsmap_h2(h), w, w + kwords, ver);
    if (births && birth != NULL)
      *tsmap_mx_birth_at(cur, to.g, to.slot) = birth[gi * TSMAP_GROUP_SLOTS + i];
    dead = tsmap_ctrl_set(dead, i, TSMAP_CTRL_DELETED);
  }
  if (!mark) /* a copy (tsmap_shard_rebuild): old stays as readers see it */
    return;
  uint64_t s = tsmap_group_begin(old, g);
  tsmap_group_set_ctrl(old, gi, g, dead);
  tsmap_group_end(g, s);
}

/* The same, with constant slot sizes for 8-byte keys and values (a third of the
 * instructions of the generic loop copies). */
static void tsmap_migrate_group(const tsmap *m, tsmap_table *old, size_t gi, tsmap_table *cur) {
  if (tsmap_is_8v8(m) && !old->birth)
    tsmap_migrate_group_n(m, old, gi, cur, 1, 1, 1, 0, 0, 1);
  else if (tsmap_is_8v8(m))
    tsmap_migrate_group_n(m, old, gi, cur, 1, 1, 1, 1, 0, 1); /* metered: births move too (M3) */
  else if (m->entry_meta && !old->birth) /* G10-G12: one value and one meta word */
    tsmap_migrate_group_n(m, old, gi, cur, 1, 2, 1, 0, m->side, 1);
  else if (m->freq_side) /* G11, B7: one value word, the frequency word beside the group */
    tsmap_migrate_group_n(m, old, gi, cur, 1, 1, 1, 0, 1, 1);
  else /* a versioned map's version words move too (V5), a freq_side map's frequency words */
    tsmap_migrate_group_n(m, old, gi, cur, m->key_words, m->value_words + m->meta_words, 0,
                          1, m->side, 1);
}

/* Prefetch what the next step will touch: the next groups of `old` and their entries'
 * likely destinations. An entry at its home group gi of old lands in group gi + k * old's
 * size of cur (cur is as large as old, or twice as large), so the destinations are known
 * before the hashes are. The next step comes many writes later: by then the lines are in
 * the cache, and the step costs instructions, not misses. (A smaller cur, R8: group gi's
 * entries land in group gi & cur's mask.) */
static void tsmap_migrate_prefetch_next(tsmap_table *old, size_t from, tsmap_table *cur) {
  for (size_t gi = from; gi < from + TSMAP_MIGRATE_GROUPS && gi < old->ngroups; gi++) {
    const char *g = (const char *)tsmap_table_group(old, gi);
    __builtin_prefetch(g);
    __builtin_prefetch(g + 64);
    for (size_t d = gi & cur->mask; d < cur->ngroups; d += old->ngroups) { /* R8: smaller */
      g = (const char *)tsmap_table_group(cur, d);
      __builtin_prefetch(g, 1);
      __builtin_prefetch(g + 64, 1);
    }
  }
}

static tsmap_status tsmap_shard_rebuild(tsmap *m, tsmap_shard *s);

/* Full slots of group `gi` of `t`. */
static size_t tsmap_group_full(const tsmap_table *t, size_t gi) {
  return (size_t)__builtin_popcountll(tsmap_ctrl_full(t->wctrl[gi]));
}

/* Move up to `groups` groups of the old table; retire it when done. A group moves only
 * into room for all its entries (growth_left, I3): cur is sized to take old's entries and
 * every insert made while they move (tsmap_grow_start, R7, R8), so this holds unless a
 * sizing is wrong; then (the room check, one compare a step while cur has room for two
 * full groups) both tables are rebuilt into one that holds them, instead of filling
 * cur's last EMPTY slots and leaving a probe that never ends (black-box round 4 #1).
 * Returns 0, or -1 when that rebuild found no memory (nothing moved: a caller that loops
 * until the growth ends must stop, else it spins while the allocator fails; black-box
 * round 7: a foreach finishing a reshard did). */
static int tsmap_migrate_step(tsmap *m, tsmap_shard *s, size_t groups) {
  tsmap_table *old = atomic_load_explicit(&s->old, memory_order_relaxed);
  tsmap_table *cur = atomic_load_explicit(&s->cur, memory_order_relaxed);
  size_t end = groups < old->ngroups - s->migrate_pos ? s->migrate_pos + groups : old->ngroups;
  if (TSMAP_UNLIKELY(cur->growth_left < (end - s->migrate_pos) * TSMAP_GROUP_SLOTS)) {
    size_t need = 0;
    for (size_t gi = s->migrate_pos; gi < end; gi++)
      need += tsmap_group_full(old, gi);
    if (need > cur->growth_left) /* no memory: old stays, and so do its entries */
      return tsmap_shard_rebuild(m, s) == TSMAP_OK ? 0 : -1;
  }
  s->migrated += end - s->migrate_pos;
  while (s->migrate_pos < end)
    tsmap_migrate_group(m, old, s->migrate_pos++, cur);
  tsmap_migrate_prefetch_next(old, end, cur);
  TSMAP_PROBE4(growth_step, m, s, s->migrate_pos, old->ngroups);
  if (s->migrate_pos == old->ngroups) {
    atomic_store_explicit(&s->old, NULL, memory_order_release);
    tsmap_shard_publish8(m, s);
    tsmap_retire_table(s, old);
    TSMAP_PROBE3(growth_end, m, s, cur->ngroups);
  }
  return 0;
}

/* The size of the next table: twice the current one, or the same when most used slots
 * are DELETED (a same-size rehash clears them). */
static size_t tsmap_grow_groups(tsmap_shard *s) {
  tsmap_table *cur = atomic_load_explicit(&s->cur, memory_order_relaxed);
  size_t live = atomic_load_explicit(&s->count, memory_order_relaxed);
  size_t ng = cur->ngroups;
  if (live * 16 > ng * TSMAP_GROUP_SLOTS * 7)
    ng *= 2;
  return ng;
}

/* Publish `t` as the shard's current table (under the shard's gen, which the caller
 * makes odd; NULL: closed). */
void tsmap_shard_set_cur(tsmap_shard *s, tsmap_table *t) {
  atomic_store_explicit(&s->cur, t, memory_order_release);
}

_Static_assert(TSMAP_GROUP_ALIGN > (TSMAP_PROBE8_LG | TSMAP_PROBE8_OK),
               "a probe word keeps its flags in the low bits of the groups' address");

/* Table t as a probe word (tsmap_internal.h, probe8), TSMAP_PROBE8_OK clear; 0: none. */
static uint64_t tsmap_probe8_word(const tsmap_table *t) {
  return t ? (uint64_t)(uintptr_t)t->groups | (uint64_t)__builtin_ctzll(t->ngroups) : 0;
}

/* Store shard s's probe words (tsmap_get8) after every change of its cur or old (shard
 * lock held, gen odd, or create). Release stores, old's word before cur's: a get that
 * reads cur's word without TSMAP_PROBE8_OK then finds old's (or 0 once the growth is
 * over: every entry is in cur then); one that missed a key moved under it sees cur's word
 * change (a new table, or the flag). A word never changes back to a value a reader saw:
 * a table probed cannot be freed and reused while its section lasts (I5). */
void tsmap_shard_publish8(const tsmap *m, tsmap_shard *s) {
  _Atomic uint64_t *pw = &m->probe8[2 * (size_t)(s - m->shards)];
  uint64_t old = tsmap_probe8_word(atomic_load_explicit(&s->old, memory_order_relaxed));
  uint64_t cur = tsmap_probe8_word(atomic_load_explicit(&s->cur, memory_order_relaxed));
  if (old)
    atomic_store_explicit(&pw[1], old | TSMAP_PROBE8_OK, memory_order_release);
  atomic_store_explicit(&pw[0], cur && !old ? cur | TSMAP_PROBE8_OK : cur,
                        memory_order_release);
  if (!old)
    atomic_store_explicit(&pw[1], 0, memory_order_release);
}

static void tsmap_grow_publish(tsmap *m, tsmap_shard *s, tsmap_table *t);

/* Start a growth: a table twice as large (or as large, when most used slots are DELETED),
 * published as cur with the full one as old; entries move a few groups per write. The new
 * table holds old's entries plus every insert made while they move (I3): each write moves
 * TSMAP_MIGRATE_GROUPS groups before it inserts, so at most ng/2 inserts (ng old's groups)
 * come before old is empty; old holds at most 6 ng entries (7 ng / 16 before a same-size
 * rehash), and the new table takes 12 ng (6 ng). cur full while old is not can thus only
 * follow a wrong sizing (R8's fit was one, black-box round 4 #1): then both are rebuilt
 * into one table (moving old into the full cur had no free slot to find). */
static tsmap_status tsmap_grow_start(tsmap *m, tsmap_shard *s) {
  if (atomic_load_explicit(&s->old, memory_order_relaxed))
    return tsmap_shard_rebuild(m, s);
  size_t ng = tsmap_grow_groups(s);
  tsmap_table *t = s->next;
  s->next = NULL;
  if (t && t->ngroups != ng) { /* prepared for another size: never published, free it */
    tsmap_table_free(m, t);
    t = NULL;
  }
  if (!t)
    t = tsmap_table_new(m, s, ng);
  if (!t)
    return TSMAP_NO_MEMORY;
  tsmap_grow_publish(m, s, t);
  return TSMAP_OK;
}

/* Publish `old` and `cur` as the shard's tables, under its gen (odd meanwhile) and in its
 * probe words (the shard lock held). */
void tsmap_shard_swap(const tsmap *m, tsmap_shard *s, tsmap_table *old,
                             tsmap_table *cur) {
  uint64_t gen = atomic_load_explicit(&s->gen, memory_order_relaxed);
  atomic_store_explicit(&s->gen, gen + 1, memory_order_relaxed);
  atomic_thread_fence(memory_order_release);
  /* release, not just the fence above: TSan does not model fences, and it is free on
   * x86 (readers load these with acquire) */
  atomic_store_explicit(&s->old, old, memory_order_release);
  tsmap_shard_set_cur(s, cur);
  tsmap_shard_publish8(m, s);
  atomic_store_explicit(&s->gen, gen + 2, memory_order_release);
}

/* Publish `t` as cur with the full table as old (no growth in progress): the growth's
 * start, whoever chose t (G5, or G15's presized destination). */
static void tsmap_grow_publish(tsmap *m, tsmap_shard *s, tsmap_table *t) {
  tsmap_table *cur = atomic_load_explicit(&s->cur, memory_order_relaxed);
  tsmap_shard_swap(m, s, cur, t);
  s->migrate_pos = 0;
  TSMAP_PROBE4(growth_start, m, s, cur->ngroups, t->ngroups);
}

/* cur has no room for the rest of old (a wrong sizing; never expected, tsmap_grow_start):
 * copy the entries of both into a new table with room for as many again and publish it
 * as cur with no old, under the shard's gen. A whole-table operation (G5 is broken once,
 * not the map). The sources are only read, so a reader on them, validated by gen or
 * by the probe words, finds what it found before; a key stays in one table (I3).
 * TSMAP_NO_MEMORY: nothing changed. */
static tsmap_status tsmap_shard_rebuild(tsmap *m, tsmap_shard *s) {
  tsmap_table *old = atomic_load_explicit(&s->old, memory_order_relaxed);
  tsmap_table *cur = atomic_load_explicit(&s->cur, memory_order_relaxed);
  size_t n = 0, ng;
  for (size_t gi = s->migrate_pos; gi < old->ngroups; gi++)
    n += tsmap_group_full(old, gi);
  for (size_t gi = 0; gi < cur->ngroups; gi++)
    n += tsmap_group_full(cur, gi);
  ng = tsmap_groups_for(2 * n); /* growth_left >= 2n: the copies fit, with room after */
  tsmap_table *t = tsmap_table_new(m, s, ng);
  if (!t)
    return TSMAP_NO_MEMORY;
  for (size_t gi = s->migrate_pos; gi < old->ngroups; gi++)
    tsmap_migrate_group_n(m, old, gi, t, m->key_words, m->value_words + m->meta_words, 0, 1,
                          m->side, 0);
  for (size_t gi = 0; gi < cur->ngroups; gi++)
    tsmap_migrate_group_n(m, cur, gi, t, m->key_words, m->value_words + m->meta_words, 0, 1,
                          m->side, 0);
  tsmap_shard_swap(m, s, NULL, t);
  s->migrated += old->ngroups - s->migrate_pos + cur->ngroups;
  s->migrate_pos = 0;
  s->rebuilds++;
  tsmap_retire_table(s, old);
  tsmap_retire_table(s, cur);
  TSMAP_PROBE3(growth_end, m, s, t->ngroups);
  return TSMAP_OK;
}

/* Insert a key known to be absent. A long key gets its block here, under the lock, so
 * that a call that finds its key present never allocates. TSMAP_NO_MEMORY if the block
 * or a needed growth could not be allocated: nothing changed. */
tsmap_status tsmap_shard_insert(tsmap *m, tsmap_shard *s, const tsmap_key *q,
                                const void *value, tsmap_after *after) {
  uint64_t vw[TSMAP_MAX_VALUE_WORDS], kw[TSMAP_MAX_KEY_WORDS];
  tsmap_keyblock *kb = NULL;
  /* Every allocation the insert needs (key block, growth) comes before a bounded map
   * evicts for it (G11 (c)): a failure after an eviction would leave the map changed. */
  if (tsmap_keyblock_prepare(m, q, &kb) != TSMAP_OK)
    return TSMAP_NO_MEMORY;
  tsmap_table *cur = atomic_load_explicit(&s->cur, memory_order_relaxed);
  tsmap_pos pos = tsmap_table_free_slot(cur, q->hash);
  uint64_t ctrl = cur->wctrl[pos.g];
  if (tsmap_ctrl_get(ctrl, pos.slot) == TSMAP_CTRL_EMPTY && cur->growth_left == 0) {
    if (tsmap_grow_start(m, s) != TSMAP_OK) {
      tsmap_keyblock_free(m, kb);
      return TSMAP_NO_MEMORY;
    }
    tsmap_shard_growth_step(m, s); /* none after a rebuild */
    pos = tsmap_table_free_slot(atomic_load_explicit(&s->cur, memory_order_relaxed), q->hash);
  }
  if (TSMAP_UNLIKELY(m->bounded)) { /* G11: an eviction only frees slots; pos stays free */
    int room = tsmap_bound_make_room(m, s, q, after);
    if (room != 0)
      tsmap_keyblock_free(m, kb);
    if (room < 0)
      return TSMAP_NO_MEMORY; /* nothing was evicted without its record */
    if (room > 0) {         /* not admitted: hooked as evicted right after its creation */
      after->rejected = 1;
      return TSMAP_OK;
    }
  }
  if (tsmap_is_8v8(m)) {
    tsmap_words_from_bytes(vw, 1, value, m->value_size);
    tsmap_slot_fill_n(&pos, 1, 1, q->h2, q->w, vw, 0);
  } else if (m->entry_meta) { /* G10-G12: one value and one meta word, constant sizes */
    tsmap_words_from_bytes(vw, 1, value, m->value_size);
    tsmap_meta_fill(m, q, vw, NULL);
    tsmap_slot_fill_n(&pos, 1, 2, q->h2, q->w, vw, m->side);
  } else {
    for (size_t i = 0; i < m->key_words; i++)
      kw[i] = q->w[i];
    if (kb)
      kw[1] = (uint64_t)(uintptr_t)kb;
    tsmap_words_from_bytes(vw, m->value_words, value, m->value_size);
    if (m->meta_words || m->side)
      tsmap_meta_fill(m, q, vw, NULL); /* G10-G13 */
    tsmap_slot_fill(m, &pos, q->h2, kw, vw);
  }
  TSMAP_MX_BORN(m, &pos);
  atomic_store_explicit(&s->count, atomic_load_explicit(&s->count, memory_order_relaxed) + 1,
                        memory_order_relaxed);
  return TSMAP_OK;
}

/* ---- Resharding hooks (G15: the mechanism is in reshard.c) ----------------------------- */

/* tsmap_shard_move for `kwords` key and `vwords` value and meta words (constants where
 * tsmap_shard_move inlines it for an 8/8 map: the copies become single stores). */
TSMAP_INLINE int tsmap_shard_move_n(tsmap *m, tsmap_shard *from, const tsmap_pos *pos,
                                    tsmap_shard *to, uint64_t h, size_t kwords, size_t vwords) {
  uint64_t w[TSMAP_MAX_KEY_WORDS + TSMAP_MAX_VALUE_WORDS];
  tsmap_group *g = tsmap_table_group(pos->t, pos->g);
  tsmap_copy_words(w, tsmap_slot(g, kwords + vwords, pos->slot), kwords + vwords);
  if (m->side) /* G11, G12: the side word moves with the entry (V5) */
    w[m->slot_words] = tsmap_ld(tsmap_table_ver(pos->t, pos->g, pos->slot));
  if (atomic_load_explicit(&to->old, memory_order_relaxed)) /* keep ahead of the inserts */
    tsmap_migrate_step(m, to, TSMAP_MIGRATE_GROUPS);
  tsmap_table *cur = atomic_load_explicit(&to->cur, memory_order_relaxed);
  tsmap_pos at = tsmap_table_free_slot(cur, h);
  if (tsmap_ctrl_get(cur->wctrl[at.g], at.slot) == TSMAP_CTRL_EMPTY && cur->growth_left == 0) {
    if (tsmap_grow_start(m, to) != TSMAP_OK)
      return -1;
    tsmap_shard_growth_step(m, to); /* none after a rebuild */
    at = tsmap_table_free_slot(atomic_load_explicit(&to->cur, memory_order_relaxed), h);
  }
  /* insert, then delete */
  tsmap_slot_fill_n(&at, kwords, vwords, tsmap_h2(h), w, w + kwords, m->versioned);
  if (pos->t->birth && at.t->birth) /* M3: the entry keeps its age */
    *tsmap_mx_birth_at(at.t, at.g, at.slot) =
        pos->t->birth[pos->g * TSMAP_GROUP_SLOTS + pos->slot];
  atomic_store_explicit(&to->count, atomic_load_explicit(&to->count, memory_order_relaxed) + 1,
                        memory_order_relaxed);
  uint64_t ctrl = pos->t->wctrl[pos->g];
  unsigned byte = TSMAP_CTRL_DELETED;
  if (tsmap_ctrl_empty(ctrl)) { /* no probe ever passed this group (I3) */
    byte = TSMAP_CTRL_EMPTY;
    pos->t->growth_left++;
  }
  uint64_t seq = tsmap_group_begin(pos->t, g);
  tsmap_group_set_ctrl(pos->t, pos->g, g, tsmap_ctrl_set(ctrl, pos->slot, byte));
  tsmap_group_end(g, seq);
  atomic_store_explicit(&from->count,
                        atomic_load_explicit(&from->count, memory_order_relaxed) - 1,
                        memory_order_relaxed);
  return 0;
}

int tsmap_shard_move(tsmap *m, tsmap_shard *from, const tsmap_pos *pos, tsmap_shard *to,
                     uint64_t h) {
  if (tsmap_is_8v8(m)) /* the bench's and the common map: a third of the instructions */
    return tsmap_shard_move_n(m, from, pos, to, h, 1, 1);
  return tsmap_shard_move_n(m, from, pos, to, h, m->key_words, m->value_words + m->meta_words);
}

int tsmap_shard_growth_step(tsmap *m, tsmap_shard *s) {
  if (atomic_load_explicit(&s->old, memory_order_relaxed))
    return tsmap_migrate_step(m, s, TSMAP_MIGRATE_GROUPS);
  return 0;
}

size_t tsmap_shard_presize_groups(const tsmap_shard *s, size_t incoming) {
  tsmap_table *cur = atomic_load_explicit(&((tsmap_shard *)s)->cur, memory_order_relaxed);
  size_t live = atomic_load_explicit(&((tsmap_shard *)s)->count, memory_order_relaxed);
  size_t want = live + incoming + incoming / 8 + 64; /* the halves of a pair vary (binomial) */
  /* DELETED slots take inserts too: the room is the slots below max load not live */
  if (s->rs_next || !cur || cur->ngroups * (TSMAP_GROUP_SLOTS - 1) >= want + want / 16)
    return 0;
  return tsmap_groups_for(want);
}

void tsmap_shard_presize(tsmap *m, tsmap_shard *s, size_t incoming) {
  size_t ng = tsmap_shard_presize_groups(s, incoming);
  if (ng)
    s->rs_next = tsmap_table_new(m, s, ng); /* NULL: it grows as before */
}

int tsmap_shard_presize_step(tsmap *m, tsmap_shard *s) {
  tsmap_table *t = s->rs_next;
  if (!t)
    return 0;
  if (t->map_len && t->populated < t->bytes) {
    tsmap_table_populate(t, TSMAP_POPULATE_CHUNK);
    return 2;
  }
  if (atomic_load_explicit(&s->old, memory_order_relaxed)) /* its own growth first */
    return tsmap_migrate_step(m, s, TSMAP_MIGRATE_GROUPS) < 0 ? -1 : 1;
  s->rs_next = NULL;
  if (atomic_load_explicit(&s->cur, memory_order_relaxed)->ngroups >= t->ngroups) {
    tsmap_table_free(m, t); /* it grew as large meanwhile: never published */
    return 0;
  }
  tsmap_grow_publish(m, s, t);
  return 1;
}

void tsmap_shard_fit(tsmap *m, tsmap_shard *s) {
  tsmap_table *cur = atomic_load_explicit(&s->cur, memory_order_relaxed);
  size_t live = atomic_load_explicit(&s->count, memory_order_relaxed);
  if (!cur || !live || atomic_load_explicit(&s->old, memory_order_relaxed) || s->next)
    return; /* emptied: tsmap_shard_drop_step; a growth in progress or prepared decides */
  /* The small table is published as a growth with the large one as old, which writes
   * move TSMAP_MIGRATE_GROUPS groups a write: it must also hold every insert those writes
   * make until old is empty. Sized for the entries alone, an insert found it full with
   * old not moved yet, and the growth that started then moved the rest of old into it:
   * no free slot, an endless probe under the shard lock. */
  size_t writes = (cur->ngroups + TSMAP_MIGRATE_GROUPS - 1) / TSMAP_MIGRATE_GROUPS;
  size_t fit = tsmap_groups_for(live + live / 8 + writes);
  if (cur->ngroups / 2 <= fit || !tsmap_table_wants_map(m, tsmap_group_bytes(m) * fit))
    return;
  tsmap_table *t = tsmap_table_new(m, s, fit);
  if (t) /* else it keeps its table: memory, not entries */
    tsmap_grow_publish(m, s, t);
}

/* Hand what shard s retired to `heir` (both locked): s gets no more writes to free it. */
static void tsmap_shard_hand_retired(tsmap_shard *s, tsmap_shard *heir) {
  while (s->retired_tables) {
    tsmap_table *r = s->retired_tables;
    s->retired_tables = r->retired_next;
    r->retired_next = heir->retired_tables;
    heir->retired_tables = r;
  }
  while (s->retired_keys) {
    tsmap_keyblock *k = s->retired_keys;
    s->retired_keys = k->retired_next;
    k->retired_next = heir->retired_keys;
    heir->retired_keys = k;
  }
  heir->retired_count += s->retired_count;
  heir->retired_bytes += s->retired_bytes;
  s->retired_count = 0;
  s->retired_bytes = 0;
}

void tsmap_shard_shed(tsmap *m, tsmap_shard *s, tsmap_shard *heir) {
  tsmap_table *cur = atomic_load_explicit(&s->cur, memory_order_relaxed);
  if (cur && cur->map_len) /* mapped: its pages were given back (R8) */
    return;
  tsmap_shard_hand_retired(s, heir);
  if (!cur || cur->ngroups == 1 || s->next || s->rs_next ||
      atomic_load_explicit(&s->count, memory_order_relaxed) ||
      atomic_load_explicit(&s->old, memory_order_relaxed))
    return;
  tsmap_table *t = tsmap_table_new(m, s, 1);
  if (!t) /* it keeps its table: memory, not entries */
    return;
  tsmap_shard_swap(m, s, NULL, t);
  tsmap_retire_table(heir, cur);
}

size_t tsmap_shard_drop_span(tsmap_shard *s, unsigned char **mem) {
#if defined(__linux__) && defined(MADV_DONTNEED)
  tsmap_table *cur = atomic_load_explicit(&s->cur, memory_order_relaxed);
  if (!cur || !cur->map_len || atomic_load_explicit(&s->count, memory_order_relaxed) ||
      atomic_load_explicit(&s->old, memory_order_relaxed))
    return 0;
  *mem = cur->mem;
  return tsmap_mem_mapped_len(cur->bytes);
#else
  (void)s;
  (void)mem;
  return 0; /* elsewhere pages are given back by unmapping, which a table cannot survive */
#endif
}

int tsmap_mem_drop_range(unsigned char *mem, size_t len) {
#if defined(__linux__) && defined(MADV_DONTNEED)
  return madvise(mem, len, MADV_DONTNEED) == 0;
#else
  (void)mem;
  (void)len;
  return 0;
#endif
}

void tsmap_shard_drop_finish(tsmap_shard *s) {
  tsmap_table *cur = atomic_load_explicit(&s->cur, memory_order_relaxed);
  cur->growth_left = cur->ngroups * (TSMAP_GROUP_SLOTS - 1); /* its DELETED slots are gone */
}

int tsmap_shard_drop_step(tsmap_shard *s, size_t *dropped) {
  unsigned char *mem;
  size_t len = tsmap_shard_drop_span(s, &mem);
  if (!len)
    return 1;
  if (*dropped < len) {
    /* Zero pages read as empty groups (every control byte EMPTY, seq 0): a reader still
     * probing the table finds what it holds, nothing, and a seq that changed if it read
     * one before, so it retries (I2). */
    size_t n = len - *dropped < TSMAP_UNMAP_CHUNK ? len - *dropped : TSMAP_UNMAP_CHUNK;
    if (!tsmap_mem_drop_range(mem + *dropped, n))
      return 1; /* it keeps its pages */
    *dropped += n;
    if (*dropped < len)
      return 0;
  }
  tsmap_shard_drop_finish(s);
  return 1;
}

/* Remove the entry at `pos`, which leaves for `why` (M3); a long key is retired (readers
 * may still compare it). */
void tsmap_shard_erase(tsmap *m, tsmap_shard *s, const tsmap_pos *pos,
                       tsmap_evict_reason why) {
  tsmap_group *g = tsmap_table_group(pos->t, pos->g);
  tsmap_word *sl = tsmap_slot(g, m->slot_words, pos->slot);
  uint64_t ctrl = pos->t->wctrl[pos->g];
  unsigned byte = TSMAP_CTRL_DELETED;
  TSMAP_MX_LEFT(m, pos->t, pos->g, pos->slot, why);
  if (TSMAP_UNLIKELY(m->replicas) && why == TSMAP_EVICT_REMOVED)
    tsmap_tomb_on_erase(m, s, pos); /* G13: a removed key leaves a tombstone */
  if (TSMAP_UNLIKELY(m->weighted)) /* G11, B6 */
    tsmap_bound_weight_left(m, s, pos);
  if (tsmap_ctrl_empty(ctrl)) { /* no probe ever passed this group (I3) */
    byte = TSMAP_CTRL_EMPTY;
    pos->t->growth_left++;
  }
  if (!m->key_size && tsmap_ld(&sl[0]) > 8) {
    tsmap_keyblock *kb = (tsmap_keyblock *)(uintptr_t)tsmap_ld(&sl[1]);
    tsmap_retire_key(s, kb);
  }
  uint64_t seq = tsmap_group_begin(pos->t, g);
  tsmap_group_set_ctrl(pos->t, pos->g, g, tsmap_ctrl_set(ctrl, pos->slot, byte));
  tsmap_group_end(g, seq);
  atomic_store_explicit(&s->count, atomic_load_explicit(&s->count, memory_order_relaxed) - 1,
                        memory_order_relaxed);
}

/* ---- Writer prologue / epilogue and reclamation (I5) ------------------------------------ */

/* Before locking: start loading the key's home group in both tables, so that the miss
 * overlaps the lock and the growth step instead of following them, with `births` (a
 * tracked key of a metered map, M3) its birth stamp's line. The tables are looked at
 * from a read-side section (a growth may retire them meanwhile, I5). */
TSMAP_INLINE void tsmap_writer_prefetch(tsmap_shard *s, const tsmap_key *q, tsmap_thread *self,
                                       const int births) {
  tsmap_read_enter(self);
  tsmap_table *old = atomic_load_explicit(&s->old, memory_order_acquire);
  tsmap_table *cur = atomic_load_explicit(&s->cur, memory_order_acquire);
  if (old)
    __builtin_prefetch(tsmap_table_group(old, q->hash & old->mask));
  if (cur) { /* both lines, to be written: seq and control word, and the slot */
    const char *g = (const char *)tsmap_table_group(cur, q->hash & cur->mask);
    __builtin_prefetch(g, 1);
    __builtin_prefetch(g + 64, 1);
    if (births && cur->birth) /* a tracked key of a metered map: its birth (M3) */
      __builtin_prefetch(tsmap_mx_birth_at(cur, q->hash & cur->mask, 0), 1);
  }
  tsmap_read_exit(self);
}

/* The side words of group `g` of a table's groups (`groups`, `mask`, `stride`): V5, they
 * follow the groups and wctrl, a line a group. */
TSMAP_INLINE tsmap_word *tsmap_groups_side8(unsigned char *groups, size_t mask, size_t stride,
                                            size_t g) {
  return (tsmap_word *)(void *)(tsmap_table_vers_at((uintptr_t)groups, mask + 1, stride) +
                                g * 8 * sizeof(uint64_t));
}

/* The same for the 8-byte put (`sw`: its slot words, a constant), from the shard's probe
 * words (probe8, index `si`): no descriptor is loaded, so no read-side section is needed
 * (a prefetch of a table retired meanwhile is harmless: it does not fault). `side` (a
 * constant): a freq_side map's put, which also asks for the group's side line when its
 * overwrite will look at the frequency word (B4, B7), so that the look does not wait for
 * that line under the lock. `vers` (a constant: the 8/8 put of a versioned map, V5): the
 * group's version line, which the put writes, so that its miss overlaps the group's and
 * the lock instead of following them. That put takes the group's ctrl from the group's
 * first line (tsmap_table_find_n), not from wctrl: three lines a put, as the plain put's
 * two and its wctrl word. */
TSMAP_INLINE void tsmap_writer_prefetch8(const tsmap *m, size_t si, uint64_t hash,
                                        const size_t sw, const int side, const int vers) {
  const size_t stride = sizeof(tsmap_group) + TSMAP_GROUP_SLOTS * sw * sizeof(uint64_t);
  _Atomic uint64_t *pw = &m->probe8[2 * si];
  uint64_t w = atomic_load_explicit(pw, memory_order_relaxed);
  uint64_t ow = atomic_load_explicit(&pw[1], memory_order_relaxed);
  if (TSMAP_UNLIKELY(ow)) /* a growth in progress */
    __builtin_prefetch((const char *)tsmap_probe8_home(ow, hash, stride));
  /* both lines, to be written: seq and control word, and the slot */
  unsigned char *groups = (unsigned char *)(uintptr_t)(w & ~(uint64_t)(TSMAP_GROUP_ALIGN - 1));
  size_t mask = ((size_t)1 << (w & TSMAP_PROBE8_LG)) - 1;
  uintptr_t g = (uintptr_t)groups + (hash & mask) * stride;
  __builtin_prefetch((const char *)g, 1);
  __builtin_prefetch((const char *)(g + 64), 1);
  if (vers || (side && TSMAP_UNLIKELY(!tsmap_read_skip)))
    __builtin_prefetch(tsmap_groups_side8(groups, mask, stride, hash & mask), 1);
  if (!vers) /* the writers' copy of its control word, which the put reads first (I1) */
    __builtin_prefetch((const char *)(tsmap_table_wctrl_at((uintptr_t)groups, mask + 1, stride) +
                                      (hash & mask) * sizeof(uint64_t)), 1);
}

void tsmap_shard_prefetch8(const tsmap *m, size_t si, uint64_t hash) {
  tsmap_writer_prefetch8(m, si, hash, m->slot_words, 0, 0);
}

/* This write's share of a growth in progress, and of expiry (G10, E3: before the write's
 * own change, whose value it must not reap), its shard locked. */
TSMAP_INLINE void tsmap_writer_shares(tsmap *m, tsmap_shard *s, tsmap_after *after) {
  if (atomic_load_explicit(&s->old, memory_order_relaxed))
    tsmap_migrate_step(m, s, TSMAP_MIGRATE_GROUPS);
  if (TSMAP_UNLIKELY(m->expiring))
    tsmap_expiry_sweep(m, s, after, TSMAP_SWEEP_GROUPS);
}
/* Lock the shard and do the write's shares. Inline in the 8-byte puts (tsmap_store_body),
 * out of line for the others (tsmap_writer_begin). */
TSMAP_INLINE void tsmap_writer_begin_inline(tsmap *m, tsmap_shard *s, tsmap_after *after) {
  if (TSMAP_UNLIKELY(!tsmap_lock_try(&s->lock))) {
    tsmap_lock_slow(&s->lock); /* tsmap_lock_acquire, counting the wait (G15's policy) */
    if (m->cfg.reshard_auto)
      tsmap_reshard_note_wait(m, s);
  }
  tsmap_writer_shares(m, s, after);
}
void tsmap_writer_begin(tsmap *m, tsmap_shard *s, tsmap_after *after) {
  tsmap_writer_begin_inline(m, s, after);
}

/* ---- Paging: the next table is faulted in ahead, old ones given back in chunks (G5) ---- */

void tsmap_table_populate(tsmap_table *t, size_t chunk) {
  if (!t->map_len) /* a heap table (mmap failed) was zeroed by calloc */
    return;
  unsigned char *base = t->mem;
  size_t end = t->populated + chunk < t->bytes ? t->populated + chunk : t->bytes;
  if (t->populated >= end)
    return;
#if defined(__linux__)
  if (madvise(base + t->populated, end - t->populated, MADV_POPULATE_WRITE) == 0) {
    t->populated = end;
    return;
  }
#endif
  for (size_t off = t->populated; off < end; off += tsmap_page_size()) /* nobody reads */
    ((volatile unsigned char *)base)[off] = 0;
  t->populated = end;
}

/* A reclaimed table whose pages are all given back becomes a spare mapping: it holds no
 * memory and reads as zero pages (given back under the lock, so no write is still giving
 * back a chunk of it). Its header goes to `after` (freed after unlocking). With no free
 * place, the smallest of it and the spares is unmapped after unlocking. */
static void tsmap_shard_keep_spare(tsmap_shard *s, tsmap_table *t, tsmap_after *after) {
  tsmap_spare kept = {t->mem, t->map_len};
  t->mem = NULL; /* the header alone is freed */
  t->map_len = 0;
  t->bytes = 0;
  t->retired_next = after->free_tables;
  after->free_tables = t;
  if (s->nspare < TSMAP_SPARES) {
    s->spare[s->nspare++] = kept;
    return;
  }
  unsigned small = 0;
  for (unsigned i = 1; i < TSMAP_SPARES; i++)
    if (s->spare[i].len < s->spare[small].len)
      small = i;
  if (s->spare[small].len < kept.len) {
    tsmap_spare out = s->spare[small];
    s->spare[small] = kept;
    kept = out;
  }
  after->unmap_ptr = kept.p;
  after->unmap_len = kept.len;
}

/* Whether cur (no growth in progress) is full enough for the chores to prepare the next
 * table: at most 1/8 of its inserts left, and few enough that the prepared table is not
 * held long (its pages count in the process's memory from then on, E). Faulting in the
 * next table (about twice cur's bytes) takes 2 * bytes / CHUNK chunks, one a write, so as
 * many writes; the lead is twice that, and an insert is a write. */
TSMAP_INLINE int tsmap_shard_next_due(tsmap_shard *s, const tsmap_table *cur) {
  return cur && !atomic_load_explicit(&s->old, memory_order_relaxed) &&
         cur->growth_left * 8 <= cur->ngroups * (TSMAP_GROUP_SLOTS - 1) &&
         cur->growth_left * TSMAP_POPULATE_CHUNK <= 4 * cur->bytes;
}

/* The chores' pacing: every write while a next table is prepared or a reclaimed one given
 * back (a small chunk each: see TSMAP_POPULATE_CHUNK), else every other write (to see
 * whether the next table is due). */
TSMAP_INLINE int tsmap_shard_chore_turn(tsmap_shard *s) {
  return ++s->chores % 2 == 0 || s->next || s->unmapping;
}

/* On its turn (tsmap_shard_chore_turn): prepare the next table shortly before the current
 * one is full, fault a chunk of it in, or give back a chunk of a reclaimed table (then
 * keep its mapping as a spare). Each keeps page faults and munmap out of any single
 * write's latency (G5). */
void tsmap_shard_chores(tsmap *m, tsmap_shard *s, tsmap_after *after) {
  tsmap_table *cur = atomic_load_explicit(&s->cur, memory_order_relaxed);
  if (s->unmapping) {
    tsmap_table *t = s->unmapping;
    if (t->mapped > 0) { /* under the lock: done before the mapping can be a spare */
      size_t cut = t->mapped < TSMAP_UNMAP_CHUNK ? t->mapped : TSMAP_UNMAP_CHUNK;
      t->mapped -= cut;
      if (!tsmap_mem_drop(t->mem + t->mapped, cut))
        t->dirty = 1;
    } else { /* every page is given back */
      s->unmapping = t->retired_next;
      if (t->dirty) { /* pages that could not be given back: no spare, unmap it */
        t->retired_next = after->free_tables;
        after->free_tables = t;
      } else {
        tsmap_shard_keep_spare(s, t, after);
      }
    }
    return;
  }
  if (s->next) {
    tsmap_table_populate(s->next, TSMAP_POPULATE_CHUNK);
    return;
  }
  if (!tsmap_shard_next_due(s, cur))
    return;
  size_t ng = tsmap_grow_groups(s);
  if (tsmap_table_wants_map(m, tsmap_group_bytes(m) * ng))
    s->next = tsmap_table_new(m, s, ng); /* NULL is fine: the growth allocates then */
}

/* Move what is safe to free (retired two epochs ago) to `after`. */
void tsmap_collect(tsmap_shard *s, tsmap_after *after) {
  uint64_t e = atomic_load(&tsmap_global_epoch);
  for (tsmap_table **pt = &s->retired_tables; *pt;) {
    tsmap_table *t = *pt;
    if (t->retire_epoch + 2 > e) {
      pt = &t->retired_next;
      continue;
    }
    *pt = t->retired_next;
    s->retired_count--;
    s->retired_bytes -= t->bytes;
    if (t->map_len) { /* given back a chunk per write (G5) */
      t->mapped = tsmap_mem_mapped_len(t->bytes);
      t->retired_next = s->unmapping;
      s->unmapping = t;
      continue;
    }
    t->retired_next = after->free_tables;
    after->free_tables = t;
  }
  for (tsmap_keyblock **pk = &s->retired_keys; *pk;) {
    tsmap_keyblock *k = *pk;
    if (k->retire_epoch + 2 > e) {
      pk = &k->retired_next;
      continue;
    }
    *pk = k->retired_next;
    k->retired_next = after->free_keys;
    after->free_keys = k;
    s->retired_count--;
    s->retired_bytes -= tsmap_keyblock_bytes(k);
  }
}

/* Whether tsmap_shard_chores would find something to do (its tests, without a call). */
TSMAP_INLINE int tsmap_shard_chores_due(tsmap_shard *s) {
  return s->unmapping || s->next ||
         tsmap_shard_next_due(s, atomic_load_explicit(&s->cur, memory_order_relaxed));
}

/* tsmap_writer_end inline, for the 8-byte put: the call only when something waits to be
 * reclaimed or a chore is due (the same chores, on the same writes). */
TSMAP_INLINE void tsmap_writer_end8(tsmap *m, tsmap_shard *s, tsmap_after *after) {
  if (TSMAP_UNLIKELY(s->retired_count)) {
    tsmap_writer_end(m, s, after);
    return;
  }
  if (TSMAP_UNLIKELY(tsmap_shard_chore_turn(s)) && tsmap_shard_chores_due(s))
    tsmap_shard_chores(m, s, after);
  tsmap_lock_release(&s->lock);
}

/* Reclaim if something waits (every 16th write, or when 64 objects wait), then unlock.
 * The caller frees `after` with tsmap_after_run once unlocked. */
void tsmap_writer_end(tsmap *m, tsmap_shard *s, tsmap_after *after) {
  if (s->retired_count && (++s->writes_since_reclaim >= 16 || s->retired_count >= 64)) {
    s->writes_since_reclaim = 0;
    tsmap_ebr_try_advance();
    tsmap_collect(s, after);
  }
  if (TSMAP_UNLIKELY(tsmap_shard_chore_turn(s)))
    tsmap_shard_chores(m, s, after);
  tsmap_lock_release(&s->lock);
}

void tsmap_after_run(tsmap *m, tsmap_after *after) {
  if (after->reaped) /* G10: hooks of expired entries */
    tsmap_reaped_run(m, after);
  if (after->unmap_len)
    munmap(after->unmap_ptr, after->unmap_len);
  while (after->free_tables) {
    tsmap_table *t = after->free_tables;
    after->free_tables = t->retired_next;
    tsmap_table_free(m, t);
  }
  while (after->free_keys) {
    tsmap_keyblock *k = after->free_keys;
    after->free_keys = k->retired_next;
    tsmap_keyblock_free(m, k);
  }
}

/* ======================================================================================
 * Hooks (G6): always called with no lock held
 * ====================================================================================== */

void tsmap_hook_created(const tsmap *m, const tsmap_key *q, const void *value) {
  if (m->cfg.on_entry_created)
    m->cfg.on_entry_created(q->p, q->len, value, m->cfg.hook_ctx);
}

void tsmap_hook_evicted(const tsmap *m, const tsmap_key *q, const void *value,
                        tsmap_evict_reason why) {
  TSMAP_PROBE4(evict, m, (int)why, q->p, q->len);
  if (why == TSMAP_EVICT_DISCARDED && tsmap_mx_on(m)) /* never entered: no lifespan */
    tsmap_mx_count_discarded((tsmap *)(uintptr_t)m);
  if (m->cfg.on_entry_evicted)
    m->cfg.on_entry_evicted(q->p, q->len, (void *)(uintptr_t)value, why, m->cfg.hook_ctx);
}

/* ======================================================================================
 * Operations
 * ====================================================================================== */

static tsmap_status tsmap_get_slow(tsmap *map, const void *key, size_t key_len,
                                   void *value_out);

/* ---- get: the fast path for 8-byte keys (the read protocol of the file comment, with the
 * key compare and value copy specialised to one key word) ---------------------------------- */

/* Probe the groups of a table (`groups`, `mask`) for key word k. Returns 1 found (value
 * words in vbuf, `*at` the slot's first value word), 0 absent. `ver` 1: the slot's side
 * word (its version, V5) is copied after them; 2: `*at` is the side word instead (a
 * freq_side map's frequency word, B7); 3: as 2, and each group's side line is asked for
 * with the group (the get that looks at the word, B4). The stride is a constant of
 * vw, the value and meta words (it equals the table's: the key word, then vw words). */
TSMAP_INLINE int tsmap_groups_read8(unsigned char *groups, size_t mask, uint64_t k,
                                    uint64_t h, uint64_t *vbuf, const size_t vw,
                                    tsmap_word **at, const int ver) {
  const size_t sw = 1 + vw;
  const size_t stride = sizeof(tsmap_group) + TSMAP_GROUP_SLOTS * sw * sizeof(uint64_t);
  const uint64_t pat = TSMAP_BYTES_LO * tsmap_h2(h);
  size_t g = h & mask;
  for (size_t step = 0; step <= mask;) {
    tsmap_group *gp = (tsmap_group *)(void *)(groups + g * stride);
    __builtin_prefetch((const char *)gp + 64); /* the group's second line, in parallel */
    if (ver == 3) /* the side line's miss overlaps the group's instead of following it */
      __builtin_prefetch(tsmap_groups_side8(groups, mask, stride, g));
    uint64_t s1 = atomic_load_explicit(&gp->seq, memory_order_acquire);
    if (TSMAP_UNLIKELY(s1 & 1u)) {
      tsmap_cpu_relax();
      continue;
    }
    uint64_t ctrl = tsmap_ld(&gp->ctrl);
    int hit = 0;
    for (uint64_t match = tsmap_ctrl_candidates(ctrl, pat); match; match &= match - 1) {
      tsmap_word *sl = tsmap_slot(gp, sw, tsmap_first_slot(match));
      if (tsmap_ld(&sl[0]) == k) {
        tsmap_value_load(vbuf, sl + 1, vw);
        *at = sl + 1;
        if (ver) {
          tsmap_word *side =
              tsmap_groups_side8(groups, mask, stride, g) + tsmap_first_slot(match);
          if (ver == 1) /* the version, copied under the seq */
            vbuf[vw] = tsmap_ld(side);
          else /* 2: a freq_side map's frequency word, touched after (B7) */
            *at = side;
        }
        hit = 1;
        break;
      }
    }
    if (TSMAP_UNLIKELY(tsmap_seq_moved(gp, s1)))
      continue; /* torn: look at this group again */
    if (hit)
      return 1;
    if (tsmap_ctrl_empty(ctrl))
      return 0;
    step++;
    g = (g + step) & mask;
  }
  return 0;
}

/* Look for key word k in one shard through its probe words `pw` (map->probe8): cur's
 * groups and size, and old's while the shard grows, in one load (two); the read protocol
 * of the file comment with the word of cur in the place of gen: a miss is trusted only if
 * that word did not change meanwhile. 1 found (value words in vbuf, `*at` the first; with
 * `ver`, a constant, the version word after them, V5), 0 absent, -1 the shard has no table
 * (closed). The caller is in a read-side section. */
TSMAP_INLINE int tsmap_probe_words_read8(_Atomic uint64_t *pw, uint64_t k, uint64_t h,
                                         uint64_t *vbuf, const size_t vw, tsmap_word **at,
                                         const int ver) {
  uint64_t w = atomic_load_explicit(pw, memory_order_acquire);
  for (;;) {
    uint64_t tw = w;
    if (TSMAP_UNLIKELY(!(w & TSMAP_PROBE8_OK))) {
      if (!(w & ~(uint64_t)(TSMAP_GROUP_ALIGN - 1)))
        return -1;
      /* a growth in progress: old first (entries move old -> cur, inserted before
       * deleted); its word 0: the growth is over, every entry is in cur */
      uint64_t ow = atomic_load_explicit(&pw[1], memory_order_acquire);
      if (ow)
        tw = ow;
    }
    for (;;) {
      unsigned char *groups = (unsigned char *)(uintptr_t)(tw & ~(uint64_t)(TSMAP_GROUP_ALIGN - 1));
      size_t mask = ((size_t)1 << (tw & TSMAP_PROBE8_LG)) - 1;
      if (tsmap_groups_read8(groups, mask, k, h, vbuf, vw, at, ver))
        return 1;
      if (tw == w)
        break;
      tw = w;
    }
    atomic_thread_fence(memory_order_acquire);
    uint64_t w2 = atomic_load_explicit(pw, memory_order_relaxed);
    if (w2 == w)
      return 0;
    w = w2;
  }
}

/* tsmap_shard_probe of an entry_fast map (G15: tsmap_reshard_get8's look at a shard). */
int tsmap_shard_probe8(const tsmap *m, tsmap_shard *s, const tsmap_key *q, uint64_t *vbuf,
                       tsmap_token *tok) {
  tsmap_word *at = NULL;
  (void)tok;
  return tsmap_probe_words_read8(&m->probe8[2 * (size_t)(s - m->shards)], q->w[0], q->hash,
                                 vbuf, 1, &at, 0);
}

/* The whole get for maps with fixed 8-byte keys and the default hash. Returns -2 when the
 * generic path must decide (first call of a thread, inside a compute callback or another
 * read-side section, a reshard, a closed map), -3 when a reshard diverts a get without
 * meta words and with one value word (tsmap_reshard_get8v decides, G15; the thread is
 * registered and in no section or callback). `vw`: value words to copy, with the meta
 * words when `meta` (a constant, TSMAP_META_*): the entry is then absent from its deadline
 * on (G10) and its frequency touched (G11). The shard is read through its probe words
 * (tsmap_probe_words_read8). */
TSMAP_INLINE int tsmap_get8_in(tsmap *m, const void *key, uint64_t *vbuf, const size_t vw,
                               const int meta, const int metered, const uint64_t id8,
                               tsmap_thread **self_out) {
  tsmap_word *at = NULL;
  uint64_t k;
  memcpy(&k, key, 8);
  tsmap_thread *self = tsmap_tls_self;
  /* inside a compute callback, or in a read-side section already (nest counts it): the
   * generic get decides. `metered`: so does a record that does not cache map m's stripe
   * (id8, M1, M2), asked in the same test (one xor and one or more than unmetered). */
  if (TSMAP_UNLIKELY(!self))
    return -2;
  uintptr_t busy = (uintptr_t)self->computing | self->nest;
  if (metered) {
    busy |= (uintptr_t)(self->mx_id ^ id8);
    *self_out = self; /* the caller counts in its record's stripe without loading it again */
  }
  if (TSMAP_UNLIKELY(busy))
    return -2;
  uint64_t h = tsmap_hash_u64(k, m->seed);
  int r;
  tsmap_read_enter_outer(self);
  /* G15: the route is read inside the section: a reshard moves no entry until every
   * section that saw the clean route has ended. Diverted (a reshard, or closed): a plain
   * get (-3) goes to tsmap_reshard_get8v, others to the generic get. */
  uint64_t route = tsmap_route(m);
  if (TSMAP_UNLIKELY(route & TSMAP_ROUTE_DIVERT)) {
    tsmap_read_exit_outer(self);
    return meta == 0 && vw == 1 ? -3 : -2;
  }
  _Atomic uint64_t *pw = &m->probe8[2 * ((h >> 32) & route)];
  if (meta == TSMAP_META_SIDE) { /* B4, B7: whether this get looks is known before it probes */
    unsigned skip = tsmap_read_skip;
    if (TSMAP_LIKELY(skip)) { /* most gets: the skip count, then the plain get's probe */
      tsmap_read_skip = skip - 1;
      r = tsmap_probe_words_read8(pw, k, h, vbuf, vw, &at, 0);
      if (TSMAP_UNLIKELY(r != 1)) /* only a hit counts (B4) */
        tsmap_read_skip++;
    } else { /* the side line asked for with the group's; the look */
      r = tsmap_probe_words_read8(pw, k, h, vbuf, vw, &at, 3);
      if (r == 1)
        tsmap_freq_touch(m, at);
    }
  } else {
    r = tsmap_probe_words_read8(pw, k, h, vbuf, vw, &at,
                                meta == TSMAP_META_VER                                   ? 1
                                : meta == TSMAP_META_ANY && m->freq_side ? 2
                                                                         : 0);
  }
  if (TSMAP_UNLIKELY(r < 0)) /* closed: the generic get says so */
    r = -2;
  else if (meta && meta != TSMAP_META_SIDE && r == 1) /* G10, G11 */
    r = tsmap_meta_read8(m, vbuf, at, meta);
  tsmap_read_exit_outer(self);
  return r;
}
TSMAP_INLINE int tsmap_get8(tsmap *m, const void *key, uint64_t *vbuf, const size_t vw,
                            const int meta) {
  return tsmap_get8_in(m, key, vbuf, vw, meta, 0, 0, NULL);
}

/* The status of tsmap_get8's result `r`; on a hit, `n` value bytes from vbuf go out. */
TSMAP_INLINE tsmap_status tsmap_get8_status(tsmap *map, const void *key, int r,
                                            const uint64_t *vbuf, size_t n, void *value_out) {
  if (TSMAP_LIKELY(r == 1)) {
    if (value_out)
      memcpy(value_out, vbuf, n);
    return TSMAP_OK;
  }
  if (r == 0)
    return TSMAP_NOT_FOUND;
  if (r == -1)
    return TSMAP_CLOSED;
  if (r == -3) /* G15, R3: a get during a reshard, no generic get in between */
    return tsmap_reshard_get8v(map, key, n, value_out);
  return tsmap_get_slow(map, key, 8, value_out);
}

/* The get of a map with 8-byte keys and values: everything inline, the value copied
 * with one load and one store. */
TSMAP_INLINE tsmap_status tsmap_get8v8(tsmap *map, const void *key, void *value_out) {
  uint64_t v;
  return tsmap_get8_status(map, key, tsmap_get8(map, key, &v, 1, 0), &v, 8, value_out);
}

/* The rest of an unmetered 8-byte get that tsmap_get8 left with -2 after op_start: the
 * generic get, then op_end; with -3 (a reshard diverts it), tsmap_reshard_get8v's read of
 * `n` value bytes instead. Out of line and reached by tail calls, one for each, so that
 * the fast paths below call nothing, keep no register across a call and prepare no
 * argument for these. */
static __attribute__((noinline)) tsmap_status tsmap_get8_rest(tsmap *map, const void *key,
                                                              void *value_out) {
  tsmap_status st = tsmap_get_slow(map, key, 8, value_out);
  TSMAP_PROBE2(op_end, (int)TSMAP_OP_GET, (int)st);
  return st;
}
static __attribute__((noinline)) tsmap_status tsmap_get8_phase(tsmap *map, const void *key,
                                                               size_t n, void *value_out) {
  tsmap_status st = tsmap_reshard_get8v(map, key, n, value_out); /* G15, R3 */
  TSMAP_PROBE2(op_end, (int)TSMAP_OP_GET, (int)st);
  return st;
}

/* The end of an unmetered 8-byte get whose op_start fired: tsmap_get8_status of its
 * result `r` (`n` value bytes from vbuf on a hit) and op_end, or tsmap_get8_phase or
 * tsmap_get8_rest. */
TSMAP_INLINE tsmap_status tsmap_get8_end(tsmap *map, const void *key, int r,
                                         const uint64_t *vbuf, size_t n, void *value_out) {
  tsmap_status st = TSMAP_CLOSED;
  if (TSMAP_LIKELY(r == 1)) {
    if (value_out)
      memcpy(value_out, vbuf, n);
    st = TSMAP_OK;
  } else if (r == 0) {
    st = TSMAP_NOT_FOUND;
  } else if (r == -3) {
    return tsmap_get8_phase(map, key, n, value_out);
  } else if (r != -1) {
    return tsmap_get8_rest(map, key, value_out);
  }
  TSMAP_PROBE2(op_end, (int)TSMAP_OP_GET, (int)st);
  return st;
}

/* The get8 entry of an unmetered 8/8 map (plain, or versioned, V5), with its
 * probes. */
static tsmap_status tsmap_get8v8_probed(tsmap *map, const void *key, size_t key_len,
                                        void *value_out) {
  (void)key_len; /* 8: checked by the caller */
  uint64_t v;
  TSMAP_PROBE2(op_start, map, (int)TSMAP_OP_GET);
  return tsmap_get8_end(map, key, tsmap_get8(map, key, &v, 1, 0), &v, 8, value_out);
}

/* The get of a fast8 map with an 8-byte key: the fast paths above, else the generic get. */
TSMAP_INLINE tsmap_status tsmap_get_fast(tsmap *map, const void *key, void *value_out) {
  uint64_t vbuf[TSMAP_MAX_VALUE_WORDS];
  if (TSMAP_LIKELY(map->value_size == 8))
    return tsmap_get8v8(map, key, value_out);
  int r = tsmap_get8(map, key, vbuf, map->value_words, 0);
  return tsmap_get8_status(map, key, r, vbuf, map->value_size, value_out);
}

/* The 8-byte get of a map with meta words (G10, G11), out of the unbounded maps' way:
 * `vw` value and meta words into `vbuf`. */
TSMAP_INLINE tsmap_status tsmap_get8_meta_n(tsmap *map, const void *key, void *value_out,
                                            uint64_t *vbuf, const size_t vw, const int meta) {
  int r = tsmap_get8(map, key, vbuf, vw, meta);
  if (TSMAP_LIKELY(map->value_size == 8)) /* one load and one store, no memcpy call */
    return tsmap_get8_status(map, key, r, vbuf, 8, value_out);
  return tsmap_get8_status(map, key, r, vbuf, map->value_size, value_out);
}

static __attribute__((noinline)) tsmap_status tsmap_get8_meta_big(tsmap *map, const void *key,
                                                                  void *value_out) {
  uint64_t vbuf[TSMAP_MAX_VALUE_WORDS];
  return tsmap_get8_meta_n(map, key, value_out, vbuf, map->value_words + map->meta_words,
                           TSMAP_META_ANY);
}

/* One value word and one meta word (a bound or a deadline): constant sizes, a small frame. */
static tsmap_status tsmap_get8_meta(tsmap *map, const void *key, void *value_out) {
  uint64_t v[2];
  if (TSMAP_LIKELY(map->value_words == 1 && map->meta_words == 1))
    return tsmap_get8_meta_n(map, key, value_out, v, 2, TSMAP_META_ANY);
  return tsmap_get8_meta_big(map, key, value_out);
}

/* The get of any map, not counted: what a metered get runs, inline (metrics.h). A map
 * with meta words (fast8 0, fast8_meta 1) takes the meta get, metered or not. */
TSMAP_INLINE tsmap_status tsmap_get_unmetered(tsmap *map, const void *key, size_t key_len,
                                              void *value_out) {
  if (TSMAP_LIKELY(map && map->fast8 && key && key_len == 8))
    return tsmap_get_fast(map, key, value_out);
  if (map && map->fast8_meta && key && key_len == 8)
    return tsmap_get8_meta(map, key, value_out);
  return tsmap_get_slow(map, key, key_len, value_out);
}

/* Every other get: probes, counted and timed when the map is metered. Out of line, so
 * that the 8/8 path keeps a small frame and tail-calls. */
__attribute__((noinline)) static tsmap_status tsmap_get_other(tsmap *map, const void *key,
                                                              size_t key_len, void *value_out) {
  TSMAP_OP_RUN(map, TSMAP_OP_GET, tsmap_get_unmetered(map, key, key_len, value_out));
}

/* The same for a metered 8/8 get that fired op_start and left its fast path. */
__attribute__((noinline)) static tsmap_status tsmap_get8v8_started(tsmap *map, const void *key,
                                                                   void *value_out) {
  TSMAP_OP_RUN_STARTED(map, TSMAP_OP_GET, tsmap_get_unmetered(map, key, 8, value_out));
}

/* A metered 8/8 get that a reshard diverted (tsmap_get8_in's -3, after its test found the
 * record caching this map's stripe): tsmap_reshard_get8v, counted as the fast path counts.
 * Reached by a tail call, so that tsmap_get8v8_metered calls nothing. */
static __attribute__((noinline)) tsmap_status tsmap_get8v8_metered_phase(tsmap *map,
                                                                         const void *key,
                                                                         void *value_out) {
  tsmap_status st = tsmap_mx_fast_end(tsmap_tls_self, TSMAP_OP_GET,
                                      tsmap_reshard_get8v(map, key, 8, value_out)); /* G15 */
  TSMAP_PROBE2(op_end, (int)TSMAP_OP_GET, (int)st);
  return st;
}

/* The get8 entry of a metered 8/8 map (tsmap_mx_meters8), counted inline in the stripe
 * the thread's record caches; tsmap_get8_in asks whether it caches this map's in the test
 * it makes anyway (not in its own), and a record that does not, or a get that is the one
 * to time (M2), takes the full metered path. Every instruction here is paid per get: at
 * 1M keys the gets are as slow as their instructions are many, since what overlaps their
 * cache misses is how many of them the core's window holds (bench/runtime/findings.md,
 * issue 21, round 6). So it calls nothing (a frame costs two) and leaves by tail calls. */
static tsmap_status tsmap_get8v8_metered(tsmap *map, const void *key, size_t key_len,
                                         void *value_out) {
  (void)key_len; /* 8: checked by the caller */
  const uint64_t id8 = map->mx_id8; /* the dispatch's load (tsmap_mx_meters8), not again */
  TSMAP_PROBE2(op_start, map, (int)TSMAP_OP_GET);
  uint64_t v;
  tsmap_thread *self = NULL;
  int r = tsmap_get8_in(map, key, &v, 1, 0, 1, id8, &self);
  if (TSMAP_LIKELY(r == 1)) {
    if (value_out)
      memcpy(value_out, &v, 8);
    tsmap_mx_fast_end(self, TSMAP_OP_GET, TSMAP_OK); /* cached: r is not -2 */
    TSMAP_PROBE2(op_end, (int)TSMAP_OP_GET, (int)TSMAP_OK);
    return TSMAP_OK;
  }
  if (r == 0) {
    tsmap_mx_fast_end(self, TSMAP_OP_GET, TSMAP_NOT_FOUND);
    TSMAP_PROBE2(op_end, (int)TSMAP_OP_GET, (int)TSMAP_NOT_FOUND);
    return TSMAP_NOT_FOUND;
  }
  if (r == -3)
    return tsmap_get8v8_metered_phase(map, key, value_out);
  return tsmap_get8v8_started(map, key, value_out); /* -2: not cached, nested, closed */
}

/* The get8 entry of an unmetered map with 8-byte keys, one value word and one meta word
 * (a bound or a deadline; a version is not in the slot, V5), with its probes: no metrics
 * check. */
static tsmap_status tsmap_get8_meta_probed(tsmap *map, const void *key, size_t key_len,
                                           void *value_out) {
  (void)key_len; /* 8: checked by the caller */
  uint64_t v[2];
  TSMAP_PROBE2(op_start, map, (int)TSMAP_OP_GET);
  int r = map->bounded ? tsmap_get8(map, key, v, 2, TSMAP_META_FREQ)
                       : tsmap_get8(map, key, v, 2, TSMAP_META_TTL);
  if (TSMAP_LIKELY(map->value_size == 8)) /* one load and one store, no memcpy call */
    return tsmap_get8_end(map, key, r, v, 8, value_out);
  return tsmap_get8_end(map, key, r, v, map->value_size, value_out);
}

/* The get8 entry of an unmetered 8/8 map with a bound and nothing else (entry_freq8: its
 * one meta word is the frequency word), with its probes (G11, B4). */
static tsmap_status tsmap_get8freq_probed(tsmap *map, const void *key, size_t key_len,
                                          void *value_out) {
  (void)key_len; /* 8: checked by the caller */
  uint64_t v[2];
  TSMAP_PROBE2(op_start, map, (int)TSMAP_OP_GET);
  return tsmap_get8_end(map, key, tsmap_get8(map, key, v, 2, TSMAP_META_FREQ), v, 8,
                        value_out);
}

/* The same for a freq_side map (B7): the plain slot, and the side word's address for the
 * sampled touch. */
static tsmap_status tsmap_get8side_probed(tsmap *map, const void *key, size_t key_len,
                                          void *value_out) {
  (void)key_len; /* 8: checked by the caller */
  uint64_t v;
  TSMAP_PROBE2(op_start, map, (int)TSMAP_OP_GET);
  return tsmap_get8_end(map, key, tsmap_get8(map, key, &v, 1, TSMAP_META_SIDE), &v, 8,
                        value_out);
}

/* An 8-byte key goes to the map's get8 entry (tsmap_entries_choose) by a tail call, every
 * other call to the generic get: no frame here. */
tsmap_status tsmap_get(tsmap *map, const void *key, size_t key_len, void *value_out) {
  if (TSMAP_LIKELY(map && key && key_len == 8))
    return map->get8(map, key, key_len, value_out);
  return tsmap_get_other(map, key, key_len, value_out);
}

tsmap_status tsmap_read_words(tsmap *map, const void *key, size_t key_len, uint64_t *vbuf) {
  tsmap_key q;
  tsmap_thread *self;
  tsmap_status st = tsmap_begin_keyed_op(map, key, key_len, &q, &self);
  if (st != TSMAP_OK)
    return st;
  tsmap_token tok;
  tsmap_read_enter(self);
  int r = tsmap_shard_read(map, q.shard, &q, vbuf, &tok);
  tsmap_read_exit(self);
  return r < 0 ? TSMAP_CLOSED : r == 0 ? TSMAP_NOT_FOUND : TSMAP_OK;
}

/* tsmap_read_words of a versioned map (tsmap_get_version, G12): a put_ver8 map's 8-byte
 * key through the 8-byte get, which copies the version word after the value word under
 * the group's seq (V5, tsmap_groups_read8); else the generic read, which does the same. */
tsmap_status tsmap_read_words8(tsmap *map, const void *key, size_t key_len, uint64_t *vbuf) {
  if (map->put_ver8 && key && key_len == 8) {
    int r = tsmap_get8(map, key, vbuf, 1, TSMAP_META_VER);
    if (TSMAP_LIKELY(r == 1))
      return TSMAP_OK;
    if (r == 0)
      return TSMAP_NOT_FOUND;
  }
  return tsmap_read_words(map, key, key_len, vbuf);
}

/* The generic get: any key mode, user hash/equality, first call of a thread, re-entry. */
static tsmap_status tsmap_get_slow(tsmap *map, const void *key, size_t key_len,
                                   void *value_out) {
  uint64_t vbuf[TSMAP_MAX_VALUE_WORDS];
  if (!map)
    return TSMAP_INVALID_ARGUMENT;
  if (map->entry_fast && key && key_len == 8 && map->value_size == 8) { /* G15, R3 */
    int r = tsmap_reshard_get8(map, key, vbuf);
    if (r == 1 && value_out)
      memcpy(value_out, vbuf, 8);
    if (r != -2)
      return r == 1 ? TSMAP_OK : r == 0 ? TSMAP_NOT_FOUND : TSMAP_CLOSED;
  }
  tsmap_status st = tsmap_read_words(map, key, key_len, vbuf);
  if (st == TSMAP_OK)
    tsmap_value_out(map, vbuf, value_out);
  return st;
}

/* What a put or put_if_absent reports once the shard is unlocked: its hooks, and the old
 * or existing value to the caller. */
static void tsmap_store_finish(tsmap *map, const tsmap_key *q, tsmap_status st,
                               const void *value, const uint64_t *oldv, void *old_out) {
  if (st == TSMAP_OK || st == TSMAP_REPLACED)
    tsmap_hook_created(map, q, value);
  if (st == TSMAP_EXISTS)
    tsmap_value_out(map, oldv, old_out);
  if (st == TSMAP_REPLACED) {
    if (old_out)
      tsmap_value_out(map, oldv, old_out);
    else
      tsmap_hook_evicted(map, q, oldv, TSMAP_EVICT_REPLACED);
  }
}

/* The overwrite of the 8-byte put of a map with one meta word (w8v8 2 below; shard lock
 * held): the value at sl[1], the meta word `meta` at sl[2] filled anew (a new deadline, a
 * frequency counting this write), both under the group's seq; the value
 * alone, as tsmap_value_store1 does, when the meta word did not change. */
TSMAP_INLINE void tsmap_store8meta_write(const tsmap *m, const tsmap_pos *pos,
                                         const tsmap_key *q, tsmap_word *sl, uint64_t meta,
                                         const void *value) {
  uint64_t v[2];
  memcpy(&v[0], value, 8);
  unsigned weight;
  if (m->bounded) /* the frequency word: the write sampled as a read is (G11, B4, B8) */
    v[1] = tsmap_freq_sampled(m, &weight) ? tsmap_freq_bumped(meta, weight) : meta;
  else
    tsmap_meta_fill(m, q, v, &sl[2]);
  if (v[1] == meta) {
    tsmap_value_store1(&sl[1], v[0]);
    return;
  }
  tsmap_group *g = tsmap_table_group(pos->t, pos->g);
  uint64_t s = tsmap_group_begin(pos->t, g);
  tsmap_st(&sl[1], v[0]);
  tsmap_st(&sl[2], v[1]);
  tsmap_group_end(g, s);
}

/* The overwrite of the 8-byte put of a freq_side map (w8v8 4 below; shard lock held): the
 * value at sl[1] alone, released as by tsmap_value_store1, and the write counted in the
 * side word as a sampled read counts (B4, B7): no seq, as no reader copies the frequency
 * word with the value. */
TSMAP_INLINE void tsmap_store8side_write(const tsmap *m, const tsmap_pos *pos, tsmap_word *sl,
                                         const void *value) {
  uint64_t v;
  memcpy(&v, value, 8);
  tsmap_value_store1(&sl[1], v);
  tsmap_freq_touch(m, tsmap_freq_at(m, pos));
}

/* The overwrite of the 8-byte put of a versioned map (w8v8 3 below; shard `s` locked): the
 * value at sl[1] and a new version in the table's version words, under the group's seq so
 * that tsmap_get_version reads the two together (G12, V5). The value is released, as by
 * tsmap_value_store1 (a plain get loads it with acquire). */
TSMAP_INLINE void tsmap_store8ver_write(const tsmap *m, tsmap_shard *s, const tsmap_pos *pos,
                                        tsmap_word *sl, const void *value) {
  uint64_t v;
  memcpy(&v, value, 8);
  uint64_t ver = tsmap_ver_take(m, s);
  tsmap_group *g = tsmap_table_group(pos->t, pos->g);
  uint64_t sq = tsmap_group_begin(pos->t, g);
  atomic_store_explicit(&sl[1], v, memory_order_release);
  tsmap_st(tsmap_table_ver(pos->t, pos->g, pos->slot), ver);
  tsmap_group_end(g, sq);
}

/* Shared body of put / put_if_absent. `replace`: overwrite a present value. `w8v8`
 * (a constant): the map has 8-byte keys and values and the key is 8 bytes (the caller
 * checks: its put8 entries), so for a registered thread outside a compute callback (the
 * checks tsmap_enter_op would make; closure is checked under the shard lock, as in the
 * generic path) the key is prepared, found and its value copied inline, and the
 * after-work and hooks are looked at only when there are any: about two thirds of the
 * instructions of the generic put. `w8v8` 2: the same with one meta word after the value
 * (a deadline or a frequency: put_meta, tsmap_put8meta), filled by tsmap_meta_fill and
 * stored with the value under the group's seq (G10, G11). `w8v8` 3: a versioned map's
 * two-word slot, its version in the table's version words (put_ver8, G12, V5). `w8v8` 4:
 * a freq_side map's two-word slot, its frequency word in the side words (G11, B7).
 * `oldv`: room for the old value, TSMAP_MAX_VALUE_WORDS words, or 2 with `w8v8` (the
 * value and meta word it copies): the 8-byte paths' frames stay small. */
TSMAP_INLINE tsmap_status tsmap_store_body(tsmap *map, const void *key, size_t key_len,
                                           const void *value, void *old_out, int replace,
                                           uint64_t ttl, const int w8v8, const int metered,
                                           uint64_t *oldv) {
  tsmap_key q;
  tsmap_thread *self;
  tsmap_status st;
  size_t si = 0; /* w8v8: q.shard's index */
  tsmap_after after = TSMAP_AFTER_INIT;
  tsmap_shard *s;
  tsmap_pos pos;
  int found;
#define TSMAP_STORE_END(x)                                                                 \
  (metered == TSMAP_MX_FAST ? tsmap_mx_fast_put_end(self, replace, (x)) : (x))
  if (w8v8) {
    self = tsmap_tls_self;
    /* TSMAP_MX_FAST: the caller asked (tsmap_store8v8_metered) */
    if (metered != TSMAP_MX_FAST && TSMAP_UNLIKELY(!self || self->computing))
      return TSMAP_STORE_END(tsmap_store(map, key, 8, value, old_out, replace, TSMAP_TTL_DEFAULT));
    q.p = (const unsigned char *)key;
    q.len = 8;
    memcpy(&q.w[0], key, 8);
    q.hash = tsmap_hash_u64(q.w[0], map->seed);
    q.h2 = tsmap_h2(q.hash);
    if (w8v8 >= 2) { /* what tsmap_meta_fill reads of a local put */
      q.ttl = TSMAP_TTL_DEFAULT;
      q.ver = NULL;
    }
    q.route = tsmap_route(map);
    si = (q.hash >> 32) & q.route;
    q.shard = &map->shards[si];
    if (TSMAP_UNLIKELY(q.route & TSMAP_ROUTE_DIVERT)) { /* G15, R4: a phase's put stays here */
      int kept = tsmap_reshard_route(map, &q, 1);
      if (kept < 0)
        return TSMAP_STORE_END(TSMAP_NO_MEMORY); /* its key could not move */
      s = q.shard;
      if (kept) { /* s locked and the route checked under its lock (R4) */
        tsmap_writer_shares(map, s, &after);
        goto locked;
      }
      if (tsmap_is_closed(map)) /* the route it read may be close's own: no later change */
        return TSMAP_STORE_END(tsmap_store(map, key, 8, value, old_out, replace, TSMAP_TTL_DEFAULT));
      si = (size_t)(q.shard - map->shards);
    }
  } else {
    if (!map || (!value && map->value_size))
      return TSMAP_INVALID_ARGUMENT;
    st = tsmap_begin_local_write(map, key, key_len, &q, &self);
    if (st != TSMAP_OK)
      return st;
    q.ttl = ttl;
    if (TSMAP_UNLIKELY(map->weighted) && (st = tsmap_bound_weigh(map, &q, value)) != TSMAP_OK)
      return st; /* G11, B6: TSMAP_TOO_HEAVY */
    if (tsmap_writer_route(map, &q) < 0) /* G15: its key could not move */
      return TSMAP_NO_MEMORY;
  }
  s = q.shard;
  /* A tracked key's birth stamp (M3, 1 put in 128 on a metered map) is not prefetched:
   * choosing the prefetch kept a test across the lock in every metered put (round 6). */
  if (w8v8) /* a versioned put also wants its version line */
    tsmap_writer_prefetch8(map, si, q.hash, tsmap_w8_slot(map, w8v8), w8v8 == 4, w8v8 == 3);
  else
    tsmap_writer_prefetch(s, &q, self, 0);
  if (w8v8)
    tsmap_writer_begin_inline(map, s, &after);
  else
    tsmap_writer_begin(map, s, &after);
  if (TSMAP_UNLIKELY(tsmap_route_moved(map, &q))) { /* closed, or routed anew (G15) */
    st = TSMAP_CLOSED;
    if (!tsmap_is_closed(map)) {
      tsmap_writer_end(map, s, &after);
      tsmap_after_run(map, &after);
      return TSMAP_STORE_END(tsmap_store(map, q.p, q.len, value, old_out, replace, ttl));
    }
    goto unlock;
  }
locked:
  if ((found = tsmap_shard_find_n(map, s, &q, &pos, w8v8)) != 0 &&
             (w8v8 == 0 || w8v8 == 2) &&
             TSMAP_UNLIKELY(map->expiring) &&
             (found = tsmap_expiry_keep(map, s, &pos, &after)) < 0) { /* G10 */
    st = TSMAP_NO_MEMORY;
  } else if (found) {
    if (w8v8 == 4) { /* a freq_side map's plain slot (G11, B7) */
      tsmap_word *sl = tsmap_slot(tsmap_table_group(pos.t, pos.g), 2, pos.slot);
      oldv[0] = tsmap_ld(&sl[1]);
      if (replace)
        tsmap_store8side_write(map, &pos, sl, value);
    } else if (w8v8 == 3) { /* the same with a version word (G12, V5) */
      tsmap_word *sl = tsmap_slot(tsmap_table_group(pos.t, pos.g), 2, pos.slot);
      oldv[0] = tsmap_ld(&sl[1]);
      if (replace)
        tsmap_store8ver_write(map, s, &pos, sl, value);
    } else if (w8v8 == 2) { /* tsmap_pos_read_value and _write_value with value and meta word */
      tsmap_word *sl = tsmap_slot(tsmap_table_group(pos.t, pos.g), 3, pos.slot);
      oldv[0] = tsmap_ld(&sl[1]);
      oldv[1] = tsmap_ld(&sl[2]);
      if (replace)
        tsmap_store8meta_write(map, &pos, &q, sl, oldv[1], value);
    } else if (w8v8) { /* tsmap_pos_read_value and _write_value with one value word */
      tsmap_word *sl = tsmap_slot(tsmap_table_group(pos.t, pos.g), 2, pos.slot);
      oldv[0] = tsmap_ld(&sl[1]);
      if (replace) {
        uint64_t v;
        memcpy(&v, value, 8);
        tsmap_value_store1(&sl[1], v);
        if (metered) /* M3: the old value leaves, the new one is born */
          TSMAP_MX_REPLACED8(map, &pos, tsmap_mx_tracked_byte(q.h2), metered == TSMAP_MX_FAST);
      }
    } else {
      tsmap_pos_read_value(map, &pos, oldv);
      if (replace && TSMAP_UNLIKELY(map->weighted) &&
          tsmap_bound_fit_overwrite(map, s, &pos, &q, &after) != 0)
        replace = -1; /* G11, B6: no room could be made, nothing changed */
      else if (replace)
        tsmap_pos_write_value(map, &pos, &q, value);
    }
    st = replace < 0 ? TSMAP_NO_MEMORY : replace ? TSMAP_REPLACED : TSMAP_EXISTS;
  } else {
    st = tsmap_shard_insert(map, s, &q, value, &after);
  }
unlock:
  if (w8v8)
    tsmap_writer_end8(map, s, &after);
  else
    tsmap_writer_end(map, s, &after);
  if (!w8v8 || TSMAP_UNLIKELY(after.free_tables || after.free_keys || after.unmap_len ||
                              ((w8v8 == 2 || w8v8 == 4) && after.reaped)))
    tsmap_after_run(map, &after);
  if (!w8v8 || TSMAP_UNLIKELY(map->cfg.on_entry_created || map->cfg.on_entry_evicted ||
                              (old_out && st != TSMAP_OK)))
    tsmap_store_finish(map, &q, st, value, oldv, old_out);
  if ((w8v8 == 0 || w8v8 == 2 || w8v8 == 4) && TSMAP_UNLIKELY(after.rejected)) /* G11, B5 */
    tsmap_bound_rejected(map, &q, value);
  return TSMAP_STORE_END(st);
#undef TSMAP_STORE_END
}

tsmap_status tsmap_store(tsmap *map, const void *key, size_t key_len, const void *value,
                         void *old_out, int replace, uint64_t ttl) {
  uint64_t oldv[TSMAP_MAX_VALUE_WORDS];
  return tsmap_store_body(map, key, key_len, value, old_out, replace, ttl, 0, 0, oldv);
}

/* The put of a map with 8-byte keys and values (one copy of the specialised body), with
 * one meta word when `w8v8` is 2 (put_meta, G10-G12). */
TSMAP_INLINE tsmap_status tsmap_store8v8(tsmap *map, const void *key, const void *value,
                                         void *old_out, const int replace, const int w8v8) {
  const int op = replace ? TSMAP_OP_PUT : TSMAP_OP_PUT_IF_ABSENT;
  uint64_t oldv[2];
  TSMAP_PROBE2(op_start, map, op);
  tsmap_status st =
      tsmap_store_body(map, key, 8, value, old_out, replace, TSMAP_TTL_DEFAULT, w8v8, 0, oldv);
  TSMAP_PROBE2(op_end, op, (int)st);
  return st;
}

/* The put8 and put_if_absent8 entries of an unmetered 8/8 map (put_fast): one copy each, so
 * that the probes' op is a constant. */
static tsmap_status tsmap_put8v8(tsmap *map, const void *key, size_t key_len, const void *value,
                                 void *old_out) {
  (void)key_len; /* 8: checked by the caller */
  return tsmap_store8v8(map, key, value, old_out, 1, 1);
}
static tsmap_status tsmap_put_if_absent8v8(tsmap *map, const void *key, size_t key_len,
                                           const void *value, void *old_out) {
  (void)key_len; /* 8: checked by the caller */
  return tsmap_store8v8(map, key, value, old_out, 0, 1);
}

/* The same with one meta word (put_meta). */
__attribute__((noinline)) static tsmap_status
tsmap_put8meta(tsmap *map, const void *key, size_t key_len, const void *value, void *old_out) {
  (void)key_len; /* 8: checked by the caller */
  return tsmap_store8v8(map, key, value, old_out, 1, 2);
}
__attribute__((noinline)) static tsmap_status
tsmap_put_if_absent8meta(tsmap *map, const void *key, size_t key_len, const void *value,
                         void *old_out) {
  (void)key_len; /* 8: checked by the caller */
  return tsmap_store8v8(map, key, value, old_out, 0, 2);
}

/* The same for a freq_side map (G11, B7). */
__attribute__((noinline)) static tsmap_status
tsmap_put8side(tsmap *map, const void *key, size_t key_len, const void *value, void *old_out) {
  (void)key_len; /* 8: checked by the caller */
  return tsmap_store8v8(map, key, value, old_out, 1, 4);
}
__attribute__((noinline)) static tsmap_status
tsmap_put_if_absent8side(tsmap *map, const void *key, size_t key_len, const void *value,
                         void *old_out) {
  (void)key_len; /* 8: checked by the caller */
  return tsmap_store8v8(map, key, value, old_out, 0, 4);
}

/* The same for a versioned map with 8-byte keys and values and no other meta word
 * (put_ver8, G12, V5). */
__attribute__((noinline)) static tsmap_status
tsmap_put8ver(tsmap *map, const void *key, size_t key_len, const void *value, void *old_out) {
  (void)key_len; /* 8: checked by the caller */
  return tsmap_store8v8(map, key, value, old_out, 1, 3);
}
__attribute__((noinline)) static tsmap_status
tsmap_put_if_absent8ver(tsmap *map, const void *key, size_t key_len, const void *value,
                        void *old_out) {
  (void)key_len; /* 8: checked by the caller */
  return tsmap_store8v8(map, key, value, old_out, 0, 3);
}

/* The put of any map, not counted: what a metered put runs, inline (metrics.h). */
TSMAP_INLINE tsmap_status tsmap_store_unmetered(tsmap *map, const void *key, size_t key_len,
                                                const void *value, void *old_out,
                                                int replace) {
  uint64_t oldv[2];
  if (TSMAP_LIKELY(map && key && value && key_len == 8 && map->fast8 && map->value_size == 8))
    return tsmap_store_body(map, key, 8, value, old_out, replace, TSMAP_TTL_DEFAULT, 1, 1, oldv);
  return tsmap_store(map, key, key_len, value, old_out, replace, TSMAP_TTL_DEFAULT);
}

/* Every other put: probes, counted and timed when the map is metered (out of line). One
 * copy each for put and put_if_absent, so that every op_start site passes its op as a
 * constant: `perf probe` puts all the sites on one event only while their arguments
 * match, and stopped at this one when its op was in a register (runtime.probes.attach). */
__attribute__((noinline)) static tsmap_status tsmap_put_other(tsmap *map, const void *key,
                                                              size_t key_len, const void *value,
                                                              void *old_out) {
  TSMAP_OP_RUN(map, TSMAP_OP_PUT, tsmap_store_unmetered(map, key, key_len, value, old_out, 1));
}
__attribute__((noinline)) static tsmap_status
tsmap_put_if_absent_other(tsmap *map, const void *key, size_t key_len, const void *value,
                          void *old_out) {
  TSMAP_OP_RUN(map, TSMAP_OP_PUT_IF_ABSENT,
               tsmap_store_unmetered(map, key, key_len, value, old_out, 0));
}

/* The same for a metered 8/8 put that fired op_start and left its fast path. */
__attribute__((noinline)) static tsmap_status tsmap_put8v8_started(tsmap *map, const void *key,
                                                                   const void *value,
                                                                   void *old_out) {
  TSMAP_OP_RUN_STARTED(map, TSMAP_OP_PUT, tsmap_store_unmetered(map, key, 8, value, old_out, 1));
}
__attribute__((noinline)) static tsmap_status
tsmap_put_if_absent8v8_started(tsmap *map, const void *key, const void *value, void *old_out) {
  TSMAP_OP_RUN_STARTED(map, TSMAP_OP_PUT_IF_ABSENT,
                       tsmap_store_unmetered(map, key, 8, value, old_out, 0));
}

/* The put of a metered 8/8 map (tsmap_mx_meters8): op_start, then (as the get does) the
 * specialised body counted inline in the stripe the thread's record caches, unless the
 * record caches none for this map or this put is the one to time (metrics.h). */
TSMAP_INLINE tsmap_status tsmap_store8v8_metered(tsmap *map, const void *key, const void *value,
                                                 void *old_out, const int replace) {
  const tsmap_op op = replace ? TSMAP_OP_PUT : TSMAP_OP_PUT_IF_ABSENT;
  const uint64_t id8 = map->mx_id8; /* the dispatch's load (tsmap_mx_meters8), not again */
  TSMAP_PROBE2(op_start, map, (int)op);
  tsmap_thread *self = tsmap_tls_self; /* the body's own load (after the probe) */
  /* inside a compute callback, or the record caches no stripe of this map, or this put is
   * one to time (M2): the full metered path; one test for all (the xor and an or more
   * than the unmetered put's) */
  if (TSMAP_UNLIKELY(!self) ||
      TSMAP_UNLIKELY((uintptr_t)self->computing | (uintptr_t)(self->mx_id ^ id8)))
    return replace ? tsmap_put8v8_started(map, key, value, old_out)
                   : tsmap_put_if_absent8v8_started(map, key, value, old_out);
  uint64_t oldv[2];
  tsmap_status st = /* counted by the body (tsmap_mx_fast_put_end) */
      tsmap_store_body(map, key, 8, value, old_out, replace, TSMAP_TTL_DEFAULT, 1, TSMAP_MX_FAST,
                       oldv);
  TSMAP_PROBE2(op_end, (int)op, (int)st);
  return st;
}
static tsmap_status tsmap_put8v8_metered(tsmap *map, const void *key, size_t key_len,
                                         const void *value, void *old_out) {
  (void)key_len; /* 8: checked by the caller */
  return tsmap_store8v8_metered(map, key, value, old_out, 1);
}
static tsmap_status
tsmap_put_if_absent8v8_metered(tsmap *map, const void *key, size_t key_len, const void *value,
                               void *old_out) {
  (void)key_len; /* 8: checked by the caller */
  return tsmap_store8v8_metered(map, key, value, old_out, 0);
}

/* Every put: an 8-byte key with a value goes to the map's put8 or put_if_absent8 entry
 * (tsmap_entries_choose) by a tail call, anything else to the put of any map above. */
TSMAP_INLINE tsmap_status tsmap_store_entry(tsmap *map, const void *key, size_t key_len,
                                            const void *value, void *old_out, const int replace) {
  if (TSMAP_LIKELY(map && key && value && key_len == 8))
    return replace ? map->put8(map, key, key_len, value, old_out)
                   : map->put_if_absent8(map, key, key_len, value, old_out);
  return replace ? tsmap_put_other(map, key, key_len, value, old_out)
                 : tsmap_put_if_absent_other(map, key, key_len, value, old_out);
}

/* Each map's 8-byte entries, chosen once at create from its flags (tsmap_layout) and
 * mx_id8 (tsmap_mx_create), in the order of the tests they replace: the unmetered 8/8
 * paths (plain, and a versioned map's get, V5), the bounded ones (G11, B7), the metered
 * ones (M2), the ones with one meta word (G10, G11), the versioned put (G12), else the
 * generic calls. No flag they read changes after create. */
void tsmap_entries_choose(tsmap *m) {
  const int get88 = m->entry_fast && m->value_size == 8; /* plain (or versioned) 8/8 */
  const int put88 = m->put_fast && m->value_size == 8;
  m->get8 = get88                 ? tsmap_get8v8_probed
            : m->freq_side        ? tsmap_get8side_probed
            : m->entry_freq8      ? tsmap_get8freq_probed
            : tsmap_mx_meters8(m) ? tsmap_get8v8_metered /* mx_id8: 8-byte values only */
            : m->entry_meta       ? tsmap_get8_meta_probed
                                  : tsmap_get_other;
  int metered8 = m->value_size == 8 && tsmap_mx_meters8(m);
  m->put8 = put88          ? tsmap_put8v8
            : metered8     ? tsmap_put8v8_metered
            : m->put_meta  ? tsmap_put8meta
            : m->freq_side ? tsmap_put8side
            : m->put_ver8  ? tsmap_put8ver
                           : tsmap_put_other;
  m->put_if_absent8 = put88          ? tsmap_put_if_absent8v8
                      : metered8     ? tsmap_put_if_absent8v8_metered
                      : m->put_meta  ? tsmap_put_if_absent8meta
                      : m->freq_side ? tsmap_put_if_absent8side
                      : m->put_ver8  ? tsmap_put_if_absent8ver
                                     : tsmap_put_if_absent_other;
}

/* tsmap_put's body, under another name: the header's TSMAP_REMOVED_OUT on old_out is
 * inherited by a definition of tsmap_put itself, and clang keeps an annotated parameter in
 * a stack slot whose address the annotation takes, which rules out the tail call into the
 * map's put8 entry (a call and a return more, and a frame). The exported tsmap_put is an
 * alias of this function. */
static tsmap_status tsmap_put_body(tsmap *map, const void *key, size_t key_len,
                                   const void *value, void *old_out) {
  return tsmap_store_entry(map, key, key_len, value, old_out, 1);
}
tsmap_status tsmap_put(tsmap *map, const void *key, size_t key_len, const void *value,
                       void *old_out) __attribute__((alias("tsmap_put_body")));

tsmap_status tsmap_put_if_absent(tsmap *map, const void *key, size_t key_len,
                                 const void *value, void *existing_out) {
  return tsmap_store_entry(map, key, key_len, value, existing_out, 0);
}

tsmap_status tsmap_put_ptr(tsmap *map, const void *key, size_t key_len, void *value,
                           void **old_out) {
  if (!map || map->value_size != sizeof(void *))
    return TSMAP_INVALID_ARGUMENT;
  return tsmap_store_entry(map, key, key_len, &value, old_out, 1);
}

tsmap_status tsmap_put_ptr_if_absent(tsmap *map, const void *key, size_t key_len, void *value,
                                     void **existing_out) {
  if (!map || map->value_size != sizeof(void *))
    return TSMAP_INVALID_ARGUMENT;
  return tsmap_store_entry(map, key, key_len, &value, existing_out, 0);
}

static tsmap_status tsmap_remove_body(tsmap *map, const void *key, size_t key_len,
                                      void *value_out);

tsmap_status tsmap_remove(tsmap *map, const void *key, size_t key_len, void *value_out) {
  TSMAP_OP_RUN(map, TSMAP_OP_REMOVE, tsmap_remove_body(map, key, key_len, value_out));
}

static tsmap_status tsmap_remove_body(tsmap *map, const void *key, size_t key_len,
                                      void *value_out) {
  uint64_t oldv[TSMAP_MAX_VALUE_WORDS];
  tsmap_key q;
  tsmap_thread *self;
  if (!map)
    return TSMAP_INVALID_ARGUMENT;
  tsmap_status st = tsmap_begin_local_write(map, key, key_len, &q, &self);
  if (st != TSMAP_OK)
    return st;
  tsmap_after after = TSMAP_AFTER_INIT;
  if (tsmap_writer_route(map, &q) < 0) /* G15: its key could not move */
    return TSMAP_NO_MEMORY;
  tsmap_shard *s = q.shard;
  tsmap_pos pos;
  int found;
  tsmap_writer_begin(map, s, &after);
  if (TSMAP_UNLIKELY(tsmap_route_moved(map, &q))) { /* closed, or routed anew (G15) */
    st = TSMAP_CLOSED;
    if (!tsmap_is_closed(map)) {
      tsmap_writer_end(map, s, &after);
      tsmap_after_run(map, &after);
      return tsmap_remove_body(map, key, key_len, value_out);
    }
  } else if ((found = tsmap_shard_find_live(map, s, &q, &pos, &after)) > 0 &&
             TSMAP_UNLIKELY(map->replicas) && tsmap_tomb_reserve(map, &q) != 0) {
    st = TSMAP_NO_MEMORY; /* G13: no room for the key's tombstone; nothing removed */
  } else if (found > 0) {
    tsmap_pos_read_value(map, &pos, oldv);
    tsmap_shard_erase(map, s, &pos, TSMAP_EVICT_REMOVED);
  } else { /* G10: an expired entry is absent; one whose reclaim found no memory stays
            * for a later one, which hooks it (E2): nothing to allocate for a removal */
    st = TSMAP_NOT_FOUND;
  }
  tsmap_writer_end(map, s, &after);
  tsmap_after_run(map, &after);
  if (st == TSMAP_OK) {
    if (value_out)
      tsmap_value_out(map, oldv, value_out);
    else
      tsmap_hook_evicted(map, &q, oldv, TSMAP_EVICT_REMOVED);
  }
  return st;
}

tsmap_status tsmap_size(tsmap *map, size_t *size_out) {
  if (!map || !size_out)
    return TSMAP_INVALID_ARGUMENT;
  if (tsmap_is_closed(map))
    return TSMAP_CLOSED;
  size_t n = tsmap_reshard_size(map); /* G15: shards a reshard left empty too (R9) */
  /* G9: a close that began meanwhile may have emptied some of the shards summed (its
   * count stores follow its closing route; tsmap_reshard_size's last load of the route
   * comes after an acquire fence): not a size the map had, so the call is after it. */
  if (tsmap_is_closed(map))
    return TSMAP_CLOSED;
  *size_out = n;
  return TSMAP_OK;
}

/* ======================================================================================
 * Test support tied to this file's entries and growth (the rest: debug.c)
 * ====================================================================================== */

/* The 8-byte entries tsmap_entries_choose gave map m, by the name of the variant
 * (DESIGN.md G2, "Entries"): test_meta8 checks each kind of map gets its own, so that no
 * variant falls back to the generic call unnoticed ("other": the generic call). */
TSMAP_HIDDEN void tsmap_debug_entries(const tsmap *m, const char **get8, const char **put8,
                                      const char **put_if_absent8);
void tsmap_debug_entries(const tsmap *m, const char **get8, const char **put8,
                         const char **put_if_absent8) {
  static const struct {
    tsmap_status (*fn)(tsmap *, const void *, size_t, void *);
    const char *name;
  } gets[] = {{tsmap_get8v8_probed, "plain"},    {tsmap_get8side_probed, "freq_side"},
              {tsmap_get8freq_probed, "freq8"},  {tsmap_get8v8_metered, "metered"},
              {tsmap_get8_meta_probed, "meta"}, {tsmap_get_other, "other"}};
  static const struct {
    tsmap_status (*put)(tsmap *, const void *, size_t, const void *, void *);
    tsmap_status (*put_if_absent)(tsmap *, const void *, size_t, const void *, void *);
    const char *name;
  } puts[] = {{tsmap_put8v8, tsmap_put_if_absent8v8, "plain"},
              {tsmap_put8v8_metered, tsmap_put_if_absent8v8_metered, "metered"},
              {tsmap_put8meta, tsmap_put_if_absent8meta, "meta"},
              {tsmap_put8side, tsmap_put_if_absent8side, "freq_side"},
              {tsmap_put8ver, tsmap_put_if_absent8ver, "versioned"},
              {tsmap_put_other, tsmap_put_if_absent_other, "other"}};
  *get8 = *put8 = *put_if_absent8 = "?";
  for (size_t i = 0; i < sizeof gets / sizeof gets[0]; i++)
    if (m->get8 == gets[i].fn)
      *get8 = gets[i].name;
  for (size_t i = 0; i < sizeof puts / sizeof puts[0]; i++) {
    if (m->put8 == puts[i].put)
      *put8 = puts[i].name;
    if (m->put_if_absent8 == puts[i].put_if_absent)
      *put_if_absent8 = puts[i].name;
  }
}

/* Test hook: what a wrong sizing would do. Publish a table of `ngroups` groups (a power of
 * two) as shard `i`'s cur, with its table as old, as tsmap_shard_fit does, however little
 * room it has for old's entries (none of tsmap_grow_start's sizing). Returns 0 if a growth
 * was in progress or no table could be made. Then the shard's rebuild count (growths that
 * found no room and rebuilt) so far. */
TSMAP_HIDDEN int tsmap_debug_squeeze(tsmap *m, size_t i, size_t ngroups);
int tsmap_debug_squeeze(tsmap *m, size_t i, size_t ngroups) {
  tsmap_shard *s = &m->shards[i];
  tsmap_table *t = NULL;
  tsmap_lock_acquire(&s->lock);
  if (atomic_load(&s->cur) && !atomic_load(&s->old) && tsmap_is_pow2(ngroups)) {
    tsmap_table_free(m, s->next); /* prepared, never published (as tsmap_grow_start) */
    s->next = NULL;
    t = tsmap_table_new(m, s, ngroups);
  }
  if (t)
    tsmap_grow_publish(m, s, t);
  tsmap_lock_release(&s->lock);
  return t != NULL;
}
