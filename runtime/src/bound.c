/*
 * bound.c - maps that stay bounded (G11): per-shard capacities, the frequency word, and
 * eviction by a sampled LFU with aging behind a TinyLFU admission sketch, and the bound
 * on weight. Invariants B1-B6 are in bound.h.
 *
 * Why this policy: it needs no list (no splice on a read, no shared write but the rare
 * sampled counter touch), works per shard under the lock writers already hold, and is
 * frequency-aware with aging, which exact LRU is not: a scan of keys read once does not
 * push out keys read many times (their counters are above a new entry's), and a hot set
 * that moves on loses half its counts per age and is evicted in turn. Residents and
 * newcomers are scored on one scale, accesses in a recent window (B2, B5): a resident's
 * counter counts its reads and writes and is halved per age, the sketch counts a
 * non-resident's tries and is halved per window, as TinyLFU compares two sketch counts.
 */
#include "bound.h"
#include "expiry.h"
#include "metrics.h"

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

tsmap_status tsmap_bound_config_check(const tsmap_config *c) {
  if (!c->max_weight && !c->weight)
    return TSMAP_OK;
  if (!c->max_weight || !c->weight || c->value_size != sizeof(void *) ||
      c->max_weight > TSMAP_MAX_WEIGHT)
    return TSMAP_INVALID_ARGUMENT;
  return TSMAP_OK;
}

/* log2 of the sketch's counters per row for a shard of capacity `cap`. */
static unsigned tsmap_sketch_bits(size_t cap) {
  unsigned b = 4;
  while (((size_t)1 << b) < cap * TSMAP_SKETCH_WIDTH && b < 30)
    b++;
  return b;
}

/* Bytes of a shard's sketch: TSMAP_SKETCH_ROWS rows of 4-bit counters. */
static size_t tsmap_sketch_bytes(const tsmap_shard *s) {
  return ((size_t)TSMAP_SKETCH_ROWS << s->sketch_bits) / 2;
}

/* Tries in the sketch's window (B5): TSMAP_SKETCH_RESET spans, and at least
 * TSMAP_SKETCH_MIN_WINDOW, so that a key can reach the full estimate (15) inside one
 * window even in a shard of one or two entries (10 tries of a span of 1 never did, and a
 * key tried back to back took 31: an independent tester's case). */
static size_t tsmap_sketch_window(size_t span) {
  size_t w = span * TSMAP_SKETCH_RESET;
  return w > TSMAP_SKETCH_MIN_WINDOW ? w : TSMAP_SKETCH_MIN_WINDOW;
}

/* log2 of the doorkeeper's bits for a shard of span `span`: TSMAP_DOOR_BITS a try of the
 * sketch's window, at least 64 and at most 2^33 (1 GiB, where the sketch stops at 2 GiB:
 * a bound that large gets a doorkeeper that admits more first tries as seen). */
static unsigned tsmap_door_bits(size_t span) {
  unsigned b = 6;
  while (((size_t)1 << b) < tsmap_sketch_window(span) * TSMAP_DOOR_BITS && b < 33)
    b++;
  return b;
}

static size_t tsmap_door_bytes(const tsmap_shard *s) {
  return ((size_t)1 << s->door_bits) / 8;
}

tsmap_status tsmap_bound_init(tsmap *m) {
  size_t n = tsmap_shard_count(m), max = m->cfg.max_entries;
  uint64_t mw = m->cfg.max_weight;
  if (!m->bounded)
    return TSMAP_OK;
  if ((max && max < n) || (mw && mw < n))
    return TSMAP_INVALID_ARGUMENT;
  for (size_t i = 0; i < n; i++) {
    tsmap_shard *s = &m->shards[i];
    /* the capacities sum to max_entries (B1); the weight shares to at most max_weight */
    s->cap = max ? max / n + (i < max % n) : SIZE_MAX;
    s->span = max ? s->cap : TSMAP_WEIGHT_SPAN;
    s->max_weight = mw / n;
    s->rng = (uint32_t)(m->raw_seed >> 7) ^ (uint32_t)(i * 0x9e3779b9u) ^ 1u;
    s->sketch_bits = tsmap_sketch_bits(s->span);
    s->door_bits = tsmap_door_bits(s->span);
    s->sketch_reset = SIZE_MAX;
    s->sketch = (unsigned char *)tsmap_mem_zalloc(m, tsmap_sketch_bytes(s));
    s->door = (unsigned char *)tsmap_mem_zalloc(m, tsmap_door_bytes(s));
    if (!s->sketch || !s->door)
      return TSMAP_NO_MEMORY; /* tsmap_bound_free frees those made */
  }
  return TSMAP_OK;
}

void tsmap_bound_free(tsmap *m) {
  if (!m->bounded || !m->shards_raw)
    return;
  for (size_t i = 0; i < tsmap_shard_hw(m); i++) {
    tsmap_shard *s = &m->shards[i];
    if (s->sketch)
      tsmap_mem_free(m, s->sketch, tsmap_sketch_bytes(s));
    if (s->door)
      tsmap_mem_free(m, s->door, tsmap_door_bytes(s));
    s->sketch = NULL;
    s->door = NULL;
  }
}

/* ======================================================================================
 * The admission sketch (B5): a count-min sketch of 4-bit counters per shard, counting
 * the inserts tried (a cache's misses), halved every TSMAP_SKETCH_RESET capacities of
 * them (TinyLFU's reset), behind a doorkeeper (TinyLFU's too: a bit set that takes a
 * key's first try of a window, so that keys tried once, a scan's, leave the counters
 * to keys tried again), written only under the shard lock.
 * ====================================================================================== */

/* Counter `row` of hash `h`: its byte and the shift of its nibble in it. */
static unsigned char *tsmap_sketch_at(const tsmap_shard *s, uint64_t h, unsigned row,
                                      unsigned *shift) {
  static const uint64_t mul[4] = {0x9e3779b97f4a7c15ull, 0xc2b2ae3d27d4eb4full,
                                  0x165667b19e3779f9ull, 0xd6e8feb86659fd93ull};
  size_t i = (size_t)((h * mul[row & 3]) >> (64 - s->sketch_bits));
  i += (size_t)row << s->sketch_bits;
  *shift = (unsigned)(i & 1) * 4;
  return s->sketch + i / 2;
}

/* Whether hash `h` is in the doorkeeper (both of its bits set); it is afterwards. */
static int tsmap_door_test_set(tsmap_shard *s, uint64_t h) {
  uint64_t a = (h * 0xff51afd7ed558ccdull) >> (64 - s->door_bits);
  uint64_t b = (h * 0xc4ceb9fe1a85ec53ull) >> (64 - s->door_bits);
  unsigned char ma = (unsigned char)(1u << (a & 7)), mb = (unsigned char)(1u << (b & 7));
  int had = (s->door[a / 8] & ma) && (s->door[b / 8] & mb);
  s->door[a / 8] |= ma;
  s->door[b / 8] |= mb;
  return had;
}

/* A reset, a chunk at a time (bounded work per insert): every counter halved and the
 * doorkeeper cleared, TSMAP_RESET_CHUNK bytes of each per try, so a shard of a million
 * entries is not stopped for the 13 MB at once (6-24 ms an insert measured). A reset
 * takes an eighth of a span of tries, its window ten spans: estimates read while it runs
 * see some counters halved and some not, as a count-min sketch's collisions blur them. */
#define TSMAP_RESET_CHUNK 64
static void tsmap_sketch_reset_step(tsmap_shard *s) {
  size_t from = s->sketch_reset, sketch = tsmap_sketch_bytes(s), door = tsmap_door_bytes(s);
  if (from == SIZE_MAX)
    return;
  size_t to = from + TSMAP_RESET_CHUNK;
  for (size_t i = from; i < to && i < sketch; i++)
    s->sketch[i] = (unsigned char)((s->sketch[i] >> 1) & 0x77u);
  if (from < door)
    memset(s->door + from, 0, (to < door ? to : door) - from);
  s->sketch_reset = to >= sketch && to >= door ? SIZE_MAX : to;
}

/* Count one more try for hash `h` and return its estimate, the tries of the window
 * (1..15): the doorkeeper's one and the smallest of its counters, which count the tries
 * after the first. */
static unsigned tsmap_sketch_add(tsmap_shard *s, uint64_t h) {
  tsmap_sketch_reset_step(s);
  int again = tsmap_door_test_set(s, h);
  unsigned est = 14;
  for (unsigned r = 0; r < TSMAP_SKETCH_ROWS; r++) {
    unsigned sh, c;
    unsigned char *b = tsmap_sketch_at(s, h, r, &sh);
    c = (*b >> sh) & 15u;
    if (again && c < 15) {
      c++;
      *b = (unsigned char)((*b & ~(15u << sh)) | c << sh);
    }
    if (c < est)
      est = c;
  }
  if (++s->sketch_adds >= tsmap_sketch_window(s->span)) { /* the window ends: a reset */
    s->sketch_adds = 0;
    s->sketch_reset = 0;
  }
  return est + 1;
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

/* The counter of word `w` aged to shard age `age`: halved per age it was not brought up
 * to date (TinyLFU's reset, per entry and lazily). */
static unsigned tsmap_freq_aged(uint64_t w, unsigned age) {
  unsigned c = (unsigned)w & 0xffu, d = (age - (unsigned)(w >> 8)) & 0xffu;
  return d >= 8 ? 0 : c >> d;
}

uint64_t tsmap_freq_stored(const tsmap *m, const tsmap_key *q, const tsmap_word *old) {
  tsmap_shard *s = q->shard;
  unsigned age = s->age;
  unsigned c = s->admit_freq; /* a new entry: its score when admitted (B5) */
  uint64_t was = old ? tsmap_ld(old) : 0;
  if (old) /* a write to the entry is an access too */
    c = tsmap_freq_incr(tsmap_freq_aged(was, age));
  uint64_t w = (uint64_t)c | (uint64_t)(age & 0xffu) << 8;
  if (m->weighted) { /* B6: the total takes the new weight instead of the old one */
    s->weight += q->weight - (was >> 16);
    w |= q->weight << 16;
  }
  return w;
}

__thread uint32_t tsmap_read_rng __attribute__((tls_model("initial-exec")));
__thread unsigned tsmap_read_skip __attribute__((tls_model("initial-exec")));
__thread unsigned tsmap_read_gap __attribute__((tls_model("initial-exec")));

void tsmap_freq_read_touch(const tsmap *m, const tsmap_pos *pos) {
  tsmap_freq_touch(m, tsmap_freq_at(m, pos));
}

/* ======================================================================================
 * Eviction (B1-B3)
 * ====================================================================================== */

/* The victims an insert or an overwrite chose, before any of them goes (G11 (c)): every
 * record is allocated first, so that one that cannot be evicts none. */
#define TSMAP_EVICT_BATCH 16
typedef struct tsmap_victims {
  size_t n;
  uint64_t weight; /* their weights (B6) */
  tsmap_pos pos[TSMAP_EVICT_BATCH];
  tsmap_evict_reason why[TSMAP_EVICT_BATCH];
} tsmap_victims;

static int tsmap_victim_taken(const tsmap_victims *v, const tsmap_table *t, size_t g,
                              unsigned slot) {
  for (size_t i = 0; i < v->n; i++)
    if (v->pos[i].t == t && v->pos[i].g == g && v->pos[i].slot == slot)
      return 1;
  return 0;
}

/* The aged counter of the entry at `pos` (shard lock held), its word brought up to the
 * shard's age when it was behind (B2): reads add to a counter without its age (they do
 * not read the shard), so without this an entry only ever read was halved for every age
 * since its last write, however often it was read, and went after 6 ages (an
 * independent tester's case). A sampled entry is brought up to date once an age, so
 * reads since count from the age they happen in, give or take the one in progress. A
 * store, as the readers' on an unweighted map: a racing look may lose its count. */
static unsigned tsmap_freq_brought_up(const tsmap *m, const tsmap_shard *s,
                                      const tsmap_pos *pos) {
  tsmap_word *fw = tsmap_freq_at(m, pos);
  uint64_t w = tsmap_ld(fw);
  unsigned c = tsmap_freq_aged(w, s->age);
  if (((w >> 8) & 0xffu) == s->age)
    return c;
  uint64_t n = (w & ~(uint64_t)0xffff) | c | (uint64_t)s->age << 8;
  if (m->weighted) /* the weight bits: a reader's compare-and-swap must not lose them */
    atomic_compare_exchange_strong_explicit(fw, &w, n, memory_order_relaxed,
                                            memory_order_relaxed);
  else
    atomic_store_explicit(fw, n, memory_order_relaxed);
  return c;
}

/* The best victim among up to TSMAP_EVICT_SAMPLE entries of `t` from a random group on:
 * an expired one, else the smallest aged counter; never `keep` nor one already chosen.
 * Returns 0 if `t` has no such entry. */
static int tsmap_victim_in(const tsmap *m, tsmap_shard *s, tsmap_table *t, tsmap_pos *best,
                           tsmap_evict_reason *why, unsigned *lowest, const tsmap_pos *keep,
                           const tsmap_victims *taken) {
  size_t gi = tsmap_xorshift32(&s->rng) & t->mask, seen = 0;
  unsigned low = ~0u;
  for (size_t n = 0; n <= t->mask && seen < TSMAP_EVICT_SAMPLE; n++, gi = (gi + 1) & t->mask) {
    tsmap_group *g = tsmap_table_group(t, gi);
    for (uint64_t full = tsmap_ctrl_full(t->wctrl[gi]); full; full &= full - 1) {
      unsigned i = tsmap_first_slot(full);
      if ((keep && keep->t == t && keep->g == gi && keep->slot == i) ||
          tsmap_victim_taken(taken, t, gi, i))
        continue; /* B6: the entry being overwritten; or already chosen */
      const tsmap_word *vw = tsmap_slot(g, m->slot_words, i) + m->key_words;
      uint64_t vwords[TSMAP_MAX_META_WORDS + 1];
      vwords[0] = m->expiring ? tsmap_ld(vw + m->value_words) : 0; /* the deadline */
      if (m->expiring && vwords[0] && tsmap_now(m) >= vwords[0]) {
        *best = (tsmap_pos){t, gi, i};
        *why = TSMAP_EVICT_EXPIRED;
        return 1;
      }
      unsigned c = tsmap_freq_brought_up(m, s, &(tsmap_pos){t, gi, i});
      if (c < low) {
        low = c;
        *best = (tsmap_pos){t, gi, i};
      }
      seen++;
    }
  }
  *why = TSMAP_EVICT_CAPACITY;
  *lowest = low;
  return seen != 0;
}

/* The shard must evict before `q` (weighing q->weight) enters, once the victims `v`
 * chose are gone: a full count, or a weight that would pass the share (`now`: the weight
 * it replaces, if any). */
static int tsmap_bound_over(const tsmap *m, const tsmap_shard *s, const tsmap_key *q,
                            uint64_t now, int inserting, const tsmap_victims *v) {
  if (inserting && atomic_load_explicit(&s->count, memory_order_relaxed) - v->n >= s->cap)
    return 1;
  return m->weighted && s->weight - v->weight - now + q->weight > s->max_weight;
}

/* The victim for making room (B2), never `keep` nor one chosen: during a growth, the
 * better of old's and cur's (the shard's entries are split between them, and a victim
 * from old alone could be a newcomer while an entry never read sits in cur). */
static int tsmap_bound_victim(const tsmap *m, tsmap_shard *s, tsmap_pos *victim,
                              tsmap_evict_reason *why, unsigned *low, const tsmap_pos *keep,
                              const tsmap_victims *taken) {
  tsmap_table *old = atomic_load_explicit(&s->old, memory_order_relaxed);
  tsmap_table *cur = atomic_load_explicit(&s->cur, memory_order_relaxed);
  int in_old = old && tsmap_victim_in(m, s, old, victim, why, low, keep, taken);
  if (in_old && *why == TSMAP_EVICT_EXPIRED)
    return 1;
  tsmap_pos c;
  tsmap_evict_reason cwhy;
  unsigned clow;
  if (tsmap_victim_in(m, s, cur, &c, &cwhy, &clow, keep, taken) &&
      (!in_old || cwhy == TSMAP_EVICT_EXPIRED || clow < *low)) {
    *victim = c;
    *why = cwhy;
    *low = clow;
    return 1;
  }
  return in_old;
}

static void tsmap_victims_add(const tsmap *m, tsmap_victims *v, const tsmap_pos *pos,
                              tsmap_evict_reason why) {
  v->pos[v->n] = *pos;
  v->why[v->n] = why;
  v->n++;
  if (m->weighted)
    v->weight += tsmap_ld(tsmap_freq_at(m, pos)) >> 16;
}

/* Evict the chosen victims: every record first (none allocated: -1, nothing evicted),
 * then every entry. */
static int tsmap_victims_evict(tsmap *m, tsmap_shard *s, const tsmap_victims *v,
                               tsmap_after *after) {
  tsmap_reaped *r[TSMAP_EVICT_BATCH];
  for (size_t i = 0; i < v->n; i++) {
    r[i] = tsmap_reap_record(m, &v->pos[i], v->why[i]);
    if (!r[i]) {
      while (i-- > 0)
        tsmap_reap_discard(m, r[i]);
      return -1;
    }
  }
  for (size_t i = 0; i < v->n; i++)
    tsmap_reap_commit(m, s, &v->pos[i], r[i], after);
  return 0;
}

/* Evict until `q` fits (an insert when `keep` is NULL; else the overwrite of the entry at
 * `keep`, weighing `now` until then), a batch of victims at a time (more than one only
 * with a weight), each batch chosen and allocated for before any of it goes (G11 (c)).
 * `tries` >= 0: an insert's admission (B5): a newcomer tried `tries` times in the sketch's
 * window scores `tries`; it displaces a victim only if it scores more than
 * TSMAP_ADMIT_MARGIN higher, or if its estimate is full (15: so no key tried that often
 * is refused for ever); else it is the one that goes, and none of the batch does (1).
 * 0 done, -1 no memory (nothing of the batch evicted). */
static int tsmap_bound_evict(tsmap *m, tsmap_shard *s, const tsmap_key *q, uint64_t now,
                             const tsmap_pos *keep, int tries, tsmap_after *after) {
  for (;;) {
    tsmap_victims v;
    v.n = 0;
    v.weight = 0;
    while (v.n < TSMAP_EVICT_BATCH && tsmap_bound_over(m, s, q, now, !keep, &v)) {
      tsmap_pos victim;
      tsmap_evict_reason why;
      unsigned low;
      if (!tsmap_bound_victim(m, s, &victim, &why, &low, keep, &v))
        break; /* defensive: count says full (or the share holds q alone), nothing more */
      if (tries >= 0 && why == TSMAP_EVICT_CAPACITY && tries < 15 &&
          tries <= (int)low + TSMAP_ADMIT_MARGIN)
        return 1;
      tsmap_victims_add(m, &v, &victim, why);
    }
    if (tsmap_victims_evict(m, s, &v, after) != 0)
      return -1;
    if (v.n < TSMAP_EVICT_BATCH)
      return 0;
  }
}

/* B8: whether reads look often follows how full the inserting shard is: near from 3/4 of
 * its capacity (or weight share) on, far again below 1/2; stored only when it changes. */
static void tsmap_bound_note_fill(tsmap *m, const tsmap_shard *s) {
  size_t n = atomic_load_explicit(&s->count, memory_order_relaxed);
  int near = n >= s->cap - s->cap / 4 ||
             (m->weighted && s->weight >= s->max_weight - s->max_weight / 4);
  int far = n < s->cap / 2 && (!m->weighted || s->weight < s->max_weight / 2);
  unsigned char was = atomic_load_explicit(&m->bound_near, memory_order_relaxed);
  if ((near && !was) || (far && was))
    atomic_store_explicit(&m->bound_near, (unsigned char)near, memory_order_relaxed);
}

int tsmap_bound_make_room(tsmap *m, tsmap_shard *s, const tsmap_key *q,
                          tsmap_after *after) {
  tsmap_bound_note_fill(m, s);
  if (++s->age_ops >= TSMAP_AGE_PERIOD * s->span) { /* an age per AGE_PERIOD shares (B2) */
    s->age_ops = 0;
    s->age++;
  }
  unsigned tries = tsmap_sketch_add(s, q->hash);
  s->admit_freq = tries; /* what the entry starts at, if it enters */
  return tsmap_bound_evict(m, s, q, 0, NULL, (int)tries, after);
}

/* ======================================================================================
 * Weight (B6)
 * ====================================================================================== */

tsmap_status tsmap_bound_weigh(const tsmap *m, tsmap_key *q, const void *value) {
  q->weight = m->cfg.weight(q->p, q->len, value, m->cfg.weight_ctx);
  return q->weight > q->shard->max_weight ? TSMAP_TOO_HEAVY : TSMAP_OK;
}

int tsmap_bound_fit_overwrite(tsmap *m, tsmap_shard *s, const tsmap_pos *pos,
                              const tsmap_key *q, tsmap_after *after) {
  const tsmap_word *fw = tsmap_freq_at(m, pos);
  return tsmap_bound_evict(m, s, q, tsmap_ld(fw) >> 16, pos, -1, after);
}

void tsmap_bound_weight_left(const tsmap *m, tsmap_shard *s, const tsmap_pos *pos) {
  const tsmap_word *fw = tsmap_freq_at(m, pos);
  s->weight -= tsmap_ld(fw) >> 16;
}

void tsmap_bound_rejected(const tsmap *m, const tsmap_key *q, const void *value) {
  if (tsmap_mx_on(m))
    tsmap_mx_count_rejected(m);
  tsmap_hook_evicted(m, q, value, TSMAP_EVICT_CAPACITY);
}

/* For test_bound.c (B8): the frequency counter of the 8-byte key `key` (-1 if absent),
 * whether the map is near its bound, and the calling thread's gap in force (read before
 * the key's read, which may look). */
TSMAP_HIDDEN int tsmap_debug_freq(tsmap *m, const void *key, int *near, unsigned *gap);
int tsmap_debug_freq(tsmap *m, const void *key, int *near, unsigned *gap) {
  uint64_t vbuf[TSMAP_MAX_VALUE_WORDS];
  *near = atomic_load_explicit(&m->bound_near, memory_order_relaxed);
  *gap = tsmap_read_gap;
  if (tsmap_read_words(m, key, 8, vbuf) != TSMAP_OK)
    return -1;
  return (int)(vbuf[m->value_words + m->expiring] & 0xffu);
}
