/*
 * bound.c - maps that stay bounded (G11): per-shard capacities, the frequency word, and
 * eviction by a sampled LFU with aging. Invariants B1-B4 are in bound.h.
 *
 * Why this policy: it needs no list (no splice on a read, no shared write but the rare
 * sampled counter touch), works per shard under the lock writers already hold, and is
 * frequency-aware with aging, which exact LRU is not: a scan of keys read once does not
 * push out keys read many times (their counters are above a new entry's), and a hot set
 * that moves on loses half its counts per age and is evicted in turn.
 */
#include "bound.h"
#include "expiry.h"

/* ======================================================================================
 * Capacities
 * ====================================================================================== */

size_t tsmap_bound_shards(const tsmap_config *c, size_t n) {
  if (!c->max_entries || c->shard_count)
    return n;
  while (n > 1 && n * 16 > c->max_entries)
    n >>= 1;
  return n;
}

tsmap_status tsmap_bound_init(tsmap *m) {
  size_t n = tsmap_shard_count(m), max = m->cfg.max_entries;
  if (!max)
    return TSMAP_OK;
  if (max < n)
    return TSMAP_INVALID_ARGUMENT;
  for (size_t i = 0; i < n; i++) {
    tsmap_shard *s = &m->shards[i];
    s->cap = max / n + (i < max % n); /* the capacities sum to max_entries (B1) */
    s->rng = (uint32_t)(m->raw_seed >> 7) ^ (uint32_t)(i * 0x9e3779b9u) ^ 1u;
  }
  return TSMAP_OK;
}

/* ======================================================================================
 * The frequency word: counter (bits 0-7), the shard age it is current at (bits 8-15)
 * ====================================================================================== */

static uint32_t tsmap_xorshift32(uint32_t *x) {
  *x ^= *x << 13;
  *x ^= *x >> 17;
  *x ^= *x << 5;
  return *x;
}

/* The counter of word `w` aged to shard age `age`: one less per age it was not touched
 * (Redis's decay, by inserts instead of minutes). */
static unsigned tsmap_freq_aged(uint64_t w, unsigned age) {
  unsigned c = (unsigned)w & 0xffu, d = (age - (unsigned)(w >> 8)) & 0xffu;
  return c > d ? c - d : 0;
}

/* A logarithmic increment of counter `c` with the random number `r`. */
static unsigned tsmap_freq_incr(unsigned c, uint32_t r) {
  if (c >= 255)
    return 255;
  unsigned base = c > TSMAP_FREQ_INIT ? c - TSMAP_FREQ_INIT : 0;
  return r % (base * TSMAP_FREQ_LOG_FACTOR + 1) == 0 ? c + 1 : c;
}

uint64_t tsmap_freq_stored(tsmap_shard *s, const tsmap_word *old) {
  unsigned age = s->age;
  unsigned c = TSMAP_FREQ_INIT;
  if (old) /* a write to the entry is an access too */
    c = tsmap_freq_incr(tsmap_freq_aged(tsmap_ld(old), age), tsmap_xorshift32(&s->rng));
  else if (++s->age_ops >= TSMAP_AGE_PERIOD * s->cap) { /* an age per AGE_PERIOD shares */
    s->age_ops = 0;
    s->age = (unsigned char)(age + 1);
  }
  return (uint64_t)c | (uint64_t)(age & 0xffu) << 8;
}

static __thread uint32_t tsmap_read_rng __attribute__((tls_model("initial-exec")));

/* Maybe touch the frequency word `w` (B4). */
static void tsmap_freq_touch_word(tsmap_word *w) {
  uint32_t r = tsmap_read_rng;
  if (TSMAP_UNLIKELY(r == 0))
    r = (uint32_t)(uintptr_t)&r | 1u;
  r = tsmap_xorshift32(&r);
  tsmap_read_rng = r;
  if (r & TSMAP_FREQ_READ_MASK) /* 1 read in TSMAP_FREQ_READ_MASK + 1 looks (B4) */
    return;
  uint64_t v = tsmap_ld(w);
  unsigned c = (unsigned)v & 0xffu, n = tsmap_freq_incr(c, r >> 3);
  if (n != c) /* a lost race with a writer only loses a count */
    tsmap_st(w, (v & ~(uint64_t)0xff) | n);
}

void tsmap_freq_read_touch(const tsmap *m, const tsmap_pos *pos) {
  tsmap_freq_touch_word(tsmap_slot(tsmap_table_group(pos->t, pos->g), m->slot_words,
                                   pos->slot) + m->key_words + m->value_words + m->expiring);
}

int tsmap_meta_read8(const tsmap *m, const uint64_t *vbuf, tsmap_word *value) {
  if (tsmap_read_expired(m, vbuf))
    return 0;
  if (m->bounded)
    tsmap_freq_touch_word(value + m->value_words + m->expiring);
  return 1;
}

/* ======================================================================================
 * Eviction (B1-B3)
 * ====================================================================================== */

/* The best victim among up to TSMAP_EVICT_SAMPLE entries of `t` from a random group on:
 * an expired one, else the smallest aged counter. Returns 0 if `t` has no entry. */
static int tsmap_victim_in(const tsmap *m, tsmap_shard *s, tsmap_table *t, tsmap_pos *best,
                           tsmap_evict_reason *why) {
  size_t gi = tsmap_xorshift32(&s->rng) & t->mask, seen = 0;
  unsigned low = ~0u;
  for (size_t n = 0; n <= t->mask && seen < TSMAP_EVICT_SAMPLE; n++, gi = (gi + 1) & t->mask) {
    tsmap_group *g = tsmap_table_group(t, gi);
    for (uint64_t full = tsmap_ctrl_full(t->wctrl[gi]); full; full &= full - 1) {
      unsigned i = tsmap_first_slot(full);
      const tsmap_word *vw = tsmap_slot(g, m->slot_words, i) + m->key_words;
      uint64_t vwords[TSMAP_MAX_META_WORDS + 1];
      vwords[0] = m->expiring ? tsmap_ld(vw + m->value_words) : 0; /* the deadline */
      if (m->expiring && vwords[0] && tsmap_now(m) >= vwords[0]) {
        *best = (tsmap_pos){t, gi, i};
        *why = TSMAP_EVICT_EXPIRED;
        return 1;
      }
      unsigned c = tsmap_freq_aged(tsmap_ld(vw + m->value_words + m->expiring), s->age);
      if (c < low) {
        low = c;
        *best = (tsmap_pos){t, gi, i};
      }
      seen++;
    }
  }
  *why = TSMAP_EVICT_CAPACITY;
  return seen != 0;
}

int tsmap_bound_make_room(tsmap *m, tsmap_shard *s, tsmap_after *after) {
  while (atomic_load_explicit(&s->count, memory_order_relaxed) >= s->cap) {
    tsmap_table *old = atomic_load_explicit(&s->old, memory_order_relaxed);
    tsmap_table *cur = atomic_load_explicit(&s->cur, memory_order_relaxed);
    tsmap_pos victim;
    tsmap_evict_reason why;
    if (!(old && tsmap_victim_in(m, s, old, &victim, &why)) &&
        !tsmap_victim_in(m, s, cur, &victim, &why))
      return 0; /* defensive: count says full, the tables hold nothing */
    if (tsmap_reap(m, s, &victim, after, why) != 0)
      return -1;
  }
  return 0;
}
