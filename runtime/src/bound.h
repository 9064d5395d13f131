/*
 * bound.h - maps that stay bounded (G11): per-shard capacities and a sampled,
 * frequency-aware eviction policy. The internal interface map.c and compute.c call.
 *
 * A map created with max_entries stores a frequency word after each value (after the
 * deadline, if any; B7: an 8/8 map with no other meta word keeps it beside its groups): an
 * 8-bit access counter (saturating at TSMAP_FREQ_MAX, 63) and the 8-bit shard age it was last brought
 * up to date at. Each shard has its own capacity (max_entries split over the shards, so
 * the sum is max_entries) and ages by one every 32 capacities of inserts; a counter is
 * halved per age it has not been brought up to date. The counter and the admission
 * sketch (B5) count on one scale, accesses in a recent window, so that a newcomer's tries
 * and a resident's accesses compare as TinyLFU compares two sketch counts. The constants
 * were chosen on the hit-ratio benchmark (bench/runtime/hitratio, findings.md "Hit ratio,
 * one scale"): a logarithmic counter (Redis's, the first policy) stayed 0.7 points short
 * of LRU + 10 on the scan trace over Zipf 0.8 whatever its constants.
 *
 *   B1  A shard never holds more than its capacity: an insert into a full shard first
 *       evicts one entry under the same lock, so the map never holds more than max_entries
 *       at any moment, writes in flight or not.
 *   B2  The victim is the entry with the smallest aged counter among TSMAP_EVICT_SAMPLE
 *       entries from a random group on (an expired one, if met, goes first, reason
 *       EXPIRED; during a growth, the lower of old's and cur's). A sampled entry's
 *       word is brought up to the shard's age (reads add without it). New entries start at their admission score (B5; 1 for a key tried once),
 *       so entries read again outlive a scan of entries read once; aging lets a hot set
 *       that moved on be evicted.
 *   B3  Evicted entries are unlinked by tsmap_reap and hooked once, after the lock
 *       (TSMAP_EVICT_CAPACITY). If the record cannot be allocated, the insert fails with
 *       TSMAP_NO_MEMORY and nothing changed.
 *   B4  Reads look at the counter 1 time in 2 on average while the map is near its bound
 *       (TSMAP_FREQ_READ_MASK + 1: a per-thread skip count and generator) and add the
 *       accesses the look stands for (2), so that the counter rises as if each access had
 *       been counted: a relaxed compare-and-swap on the entry's word from inside the
 *       read-side section, the one exception to G2's "no shared write", and none once
 *       the counter is full (63; a hot entry's stores stop until its next age). The
 *       8-byte put's overwrite (put_meta) counts its write the same way (sampled, the
 *       value alone stored when it does not look); the other write paths count each
 *       write (tsmap_freq_stored). Sampling 1 read in 8 cost 0.6 points of hit ratio on
 *       the scan trace over Zipf 0.8 against 1 in 2 (findings.md).
 *   B5  Admission (TinyLFU): each shard counts the inserts tried per key (a cache's misses)
 *       in a count-min sketch of 4-bit counters (4 rows of 4 counters per capacity entry,
 *       8 bytes per entry of max_entries) behind a doorkeeper (a bit set of 4 bits per
 *       try of a window, 5 bytes per entry of max_entries, that takes each key's first
 *       try: a scan's keys, tried once, do not crowd the counters), both reset every 10
 *       capacities of tries (at least TSMAP_SKETCH_MIN_WINDOW) (the counters halved, the doorkeeper cleared, 64 bytes of
 *       each per try: bounded work per insert); only writers,
 *       under the shard lock, touch them. A newcomer tried t times in the window (the
 *       doorkeeper's 1 and the counters' estimate, at most 15) scores t and displaces
 *       the B2 victim only if that is more than TSMAP_ADMIT_MARGIN (0) above the victim's
 *       aged counter, or if t is 15 (no key tried that often is refused for ever);
 *       admitted, its counter starts at t (the shard's admit_freq, set here and read by
 *       tsmap_freq_stored under the same lock), so a key missed often is not the next
 *       victim. Otherwise
 *       the newcomer is not stored: the insert returns TSMAP_OK, and its value is hooked
 *       as created and then evicted with TSMAP_EVICT_CAPACITY, once each, in that order,
 *       after the lock.
 *       Expired victims are reaped without asking. Reads never touch the sketch.
 *   B6  Weight (max_weight, pointer values): a store weighs its value before locking
 *       (the user's function runs with no lock held; every store: put, the computes,
 *       put_if_version, compute_if_version, tsmap_merge's remote value and resolver
 *       result, whose KEEP keeps the entry's own weight) and is refused with TSMAP_TOO_HEAVY
 *       if it exceeds the shard's share (max_weight / shards, rounded down). The weight
 *       is kept in bits 16-63 of the entry's frequency word, and the shard's total is
 *       changed under the lock wherever an entry enters (insert, overwrite) or leaves
 *       (tsmap_shard_erase). An insert evicts (B2, B5) until count and weight both fit,
 *       choosing up to 16 victims and allocating all their records before any goes (G11 (c));
 *       an overwrite evicts other entries, never its own, until the new weight fits, so
 *       the total never exceeds the share at any moment. With max_weight alone, a shard
 *       is assumed to hold TSMAP_WEIGHT_SPAN entries for the sketch and the periods.
 *   B7  A freq_side map (8-byte keys and values, unmetered, no deadline, weight or version:
 *       its frequency word would be its one meta word) keeps the word in its tables' side
 *       words (table.vers, a line a group, as versions.h V5 keeps versions), not in the
 *       slot: its groups keep the plain 128-byte layout (two lines, not three), its get
 *       reads the plain slot and touches the side line only on its sampled look (B4), its
 *       put's overwrite stores the value alone (no seq: no reader copies the word with
 *       the value) and touches the side word as a read does. Whether a get or an 8-byte
 *       put looks is known before it reads the group (the thread's skip count): the 7 in
 *       8 that do not run the plain map's probe, and the one that does asks for the side
 *       line together with the group's lines, so its miss overlaps theirs. Inserts, growth's copy, a
 *       reshard's move and the generic read carry the word as they carry a version (the
 *       side word after the value words of a vbuf). tsmap_freq_at finds the word for
 *       every reader and writer under the lock (touch, aging, victims, weight).
 *   B8  Reads look 1 time in 2 (B4) only while the map is near its bound; a map far from
 *       it looks 1 time in 64 (TSMAP_FREQ_FAR_MASK + 1), each look then counting for the
 *       64 accesses it stands for. Counters decide only which entry an insert into a full
 *       shard evicts, so a map that is not close to full pays a fraction of the looks'
 *       lines and stores (measured: a bound never reached, at twice the keys, ran A at
 *       about 0.89x the unbounded map at 1 and 2 threads looking 1 in 8, about 0.95x
 *       looking 1 in 64). `bound_near` is set by an insert that finds its shard at 3/4 of
 *       its capacity (or weight share) or more and cleared by one that finds it below
 *       1/2: a relaxed byte on a line of its own, which the writers store only when it
 *       changes and a look reads to choose the next gap. A look's weight is the gap that led to it (the thread's
 *       tsmap_read_gap), whichever map chose it. A full cache's hit ratios are B4's.
 */
#ifndef TSMAP_BOUND_H
#define TSMAP_BOUND_H

#include "tsmap_internal.h"
#include "expiry.h"

#ifndef TSMAP_EVICT_SAMPLE
#define TSMAP_EVICT_SAMPLE 16  /* entries looked at to pick a victim (B2) */
#endif
/* A counter's most (B4): far above any newcomer's score (15, B5), and low enough that a hot
 * entry's looks stop storing soon after each age (a cap of 255 stored 1.6 times as often
 * for the same hit ratios; 31 lost 0.6 points on the scan trace over Zipf 0.8). */
#define TSMAP_FREQ_MAX 63u
#ifndef TSMAP_AGE_PERIOD
#define TSMAP_AGE_PERIOD 32u   /* inserts per age, in shard capacities */
#endif
#ifndef TSMAP_SKETCH_ROWS
#define TSMAP_SKETCH_ROWS 4u   /* counters per key in the admission sketch (B5) */
#endif
#ifndef TSMAP_SKETCH_WIDTH
#define TSMAP_SKETCH_WIDTH 4u  /* counters per row, in shard capacities */
#endif
#ifndef TSMAP_SKETCH_RESET
#define TSMAP_SKETCH_RESET 10u /* inserts tried between halvings, in shard capacities */
#endif
#define TSMAP_SKETCH_MIN_WINDOW 32u /* tries, for shards of a few entries (B5) */
#ifndef TSMAP_DOOR_BITS
#define TSMAP_DOOR_BITS 4u     /* the doorkeeper's bits per try of the sketch's window */
#endif
#ifndef TSMAP_ADMIT_MARGIN
#define TSMAP_ADMIT_MARGIN 0  /* a newcomer must score more than this above the victim */
#endif
#ifndef TSMAP_WEIGHT_SPAN
#define TSMAP_WEIGHT_SPAN 1024u /* entries a shard is assumed to hold with max_weight alone */
#endif
#define TSMAP_MAX_WEIGHT (((uint64_t)1 << 48) - 1) /* weights live in bits 16-63 (B6) */
#ifndef TSMAP_FREQ_READ_MASK
#define TSMAP_FREQ_READ_MASK 1u /* an access looks at the counter 1 time in 2 (B4) */
#endif
#ifndef TSMAP_FREQ_FAR_MASK
#define TSMAP_FREQ_FAR_MASK 63u /* 1 time in 64 while the map is far from its bound (B8) */
#endif

/* The shard count for a bounded config: a default count is lowered so that each shard
 * holds at least 16 entries. */
TSMAP_HIDDEN size_t tsmap_bound_shards(const tsmap_config *c, size_t n);

/* Set each shard's capacity and allocate its sketch. TSMAP_INVALID_ARGUMENT if a shard
 * would get no capacity, TSMAP_NO_MEMORY (tsmap_bound_free frees what was made). */
TSMAP_HIDDEN tsmap_status tsmap_bound_init(tsmap *m);

/* Free the shards' sketches (any map, created or not). */
TSMAP_HIDDEN void tsmap_bound_free(tsmap *m);

/* The frequency word to store for what `q` stores in its shard (shard lock held): a new
 * entry's (`old` NULL) or the one at `old` (the old frequency word) touched by a write;
 * on a weighted map, with q->weight, which the shard's total takes over (B6). */
TSMAP_HIDDEN uint64_t tsmap_freq_stored(const tsmap *m, const tsmap_key *q,
                                        const tsmap_word *old);

/* The config's bound on weight is well-formed (B6): TSMAP_OK or TSMAP_INVALID_ARGUMENT. */
TSMAP_HIDDEN tsmap_status tsmap_bound_config_check(const tsmap_config *c);

/* On a weighted map, before a store of `value` by `q` (no lock held): weigh it into
 * q->weight. TSMAP_OK, or TSMAP_TOO_HEAVY when it exceeds its shard's share (B6). */
TSMAP_HIDDEN tsmap_status tsmap_bound_weigh(const tsmap *m, tsmap_key *q, const void *value);

/* On a weighted map, before the value at `pos` is overwritten by what `q` stores (shard
 * lock held): evict other entries of the shard until the new weight fits (B6). 0, or -1
 * when an eviction's record could not be allocated (nothing was evicted without one). */
TSMAP_HIDDEN int tsmap_bound_fit_overwrite(tsmap *m, tsmap_shard *s, const tsmap_pos *pos,
                                           const tsmap_key *q, tsmap_after *after);

/* The entry at `pos` leaves its shard (shard lock held): its weight leaves the total. */
TSMAP_HIDDEN void tsmap_bound_weight_left(const tsmap *m, tsmap_shard *s,
                                          const tsmap_pos *pos);

/* Before inserting `q` into `s` (shard lock held): evict until the shard has room
 * (B1-B3). Returns 0 (insert), 1 when the newcomer is not admitted (B5: insert nothing,
 * the caller hooks its value as evicted), or -1 when an eviction's record could not be
 * allocated. */
TSMAP_HIDDEN int tsmap_bound_make_room(tsmap *m, tsmap_shard *s, const tsmap_key *q,
                                       tsmap_after *after);

/* An insert of `value` under `q` was not admitted (B5; no lock held, after its created
 * hook): count it and hook it as evicted, TSMAP_EVICT_CAPACITY. */
TSMAP_HIDDEN void tsmap_bound_rejected(const tsmap *m, const tsmap_key *q, const void *value);

/* A reader found the entry at `pos` (inside its read-side section): maybe touch its
 * counter (B4). */
TSMAP_HIDDEN void tsmap_freq_read_touch(const tsmap *m, const tsmap_pos *pos);

/* Where the entry at `pos` keeps its frequency word: in its slot after the value and the
 * deadline, or, on a freq_side map (an 8/8 map with no other meta word), in its table's
 * side words (B7). Every reader and writer of the word under the lock finds it here. */
TSMAP_INLINE tsmap_word *tsmap_freq_at(const tsmap *m, const tsmap_pos *pos) {
  if (m->freq_side)
    return tsmap_table_ver(pos->t, pos->g, pos->slot);
  return tsmap_slot(tsmap_table_group(pos->t, pos->g), m->slot_words, pos->slot) +
         m->key_words + m->value_words + m->expiring;
}

/* The meta words of the entry at `pos` as tsmap_meta_fill reads them (`old`): the slot's
 * words after the value, or a freq_side map's side word (its one meta word, B7). */
TSMAP_INLINE const tsmap_word *tsmap_meta_at(const tsmap *m, const tsmap_pos *pos) {
  if (m->freq_side)
    return tsmap_table_ver(pos->t, pos->g, pos->slot);
  return tsmap_slot(tsmap_table_group(pos->t, pos->g), m->slot_words, pos->slot) +
         m->key_words + m->value_words;
}

/* Counter `c` after one more access (saturating). */
TSMAP_INLINE unsigned tsmap_freq_incr(unsigned c) {
  return c < TSMAP_FREQ_MAX ? c + 1 : TSMAP_FREQ_MAX;
}

/* The sampling of reads and 8-byte overwrites (B4, B8), per thread (no shared line):
 * accesses to skip before the next look, the mean gap that skip was drawn with (the next
 * look's weight), and a linear congruential generator stepped once per look, whose high
 * bits decide. The gap is random (an even number of accesses from 0 to twice the mean,
 * the mean being 2^k - 1), so a thread that alternates between keys still looks at each. */
extern TSMAP_HIDDEN __thread uint32_t tsmap_read_rng __attribute__((tls_model("initial-exec")));
extern TSMAP_HIDDEN __thread unsigned tsmap_read_skip __attribute__((tls_model("initial-exec")));
extern TSMAP_HIDDEN __thread unsigned tsmap_read_gap __attribute__((tls_model("initial-exec")));

/* Whether this access to map `m` is one the counters look at (B4, B8): 1 access in
 * TSMAP_FREQ_READ_MASK + 1 on average while `m` is near its bound, 1 in
 * TSMAP_FREQ_FAR_MASK + 1 while it is far, a thread-local decrement when it is not; when
 * it is, `*weight` gets the mean gap the look stands for. */
TSMAP_INLINE int tsmap_freq_sampled(const tsmap *m, unsigned *weight) {
  unsigned skip = tsmap_read_skip;
  if (skip) {
    tsmap_read_skip = skip - 1;
    return 0;
  }
  uint32_t r = tsmap_read_rng * 1664525u + 1013904223u;
  tsmap_read_rng = r;
  *weight = tsmap_read_gap;
  unsigned gap = atomic_load_explicit(&((tsmap *)m)->bound_near, memory_order_relaxed)
                     ? TSMAP_FREQ_READ_MASK
                     : TSMAP_FREQ_FAR_MASK;
  tsmap_read_gap = gap;
  tsmap_read_skip = (r >> 24) & (2 * gap); /* even, mean the gap */
  return 1;
}

/* The frequency word `v` after a sampled access standing for `weight` + 1 accesses (B4,
 * B8): the counter takes them all, up to TSMAP_FREQ_MAX (a full counter is not stored
 * again: v itself). */
TSMAP_INLINE uint64_t tsmap_freq_bumped(uint64_t v, unsigned weight) {
  unsigned c = (unsigned)v & 0xffu, n = c + weight + 1;
  if (c >= TSMAP_FREQ_MAX)
    return v;
  return (v & ~(uint64_t)0xff) | (n < TSMAP_FREQ_MAX ? n : TSMAP_FREQ_MAX);
}

/* Maybe touch the frequency word `w` of map `m` (B4, B8): sampled, and then incremented
 * by the accesses the look stands for. On a weighted map a compare-and-swap: the word
 * also holds the entry's weight (B6), which a writer may have just replaced under its
 * lock, and a store of the word read before would put the old weight back (the shard's
 * total would then drift from what its entries weigh; test_g11_reads_racing_overwrites_
 * keep_the_weight). On any other map the word is a counter and its age alone, and a
 * relaxed store: one racing a writer's store loses that count or puts back the old
 * entry's (a policy error of one look, never a wrong value or weight), and the locked
 * exchange cost a bound at half the keys 15 points of A at 2 threads (findings.md).
 * Inline, so the 8-byte get of a bounded map makes no call for it, and a read that does
 * not look costs a thread-local decrement. */
TSMAP_INLINE void tsmap_freq_touch(const tsmap *m, tsmap_word *w) {
  unsigned weight;
  if (!tsmap_freq_sampled(m, &weight))
    return;
  uint64_t v = tsmap_ld(w), n = tsmap_freq_bumped(v, weight);
  if (n == v)
    return;
  if (m->weighted)
    atomic_compare_exchange_strong_explicit(w, &v, n, memory_order_relaxed,
                                            memory_order_relaxed);
  else
    atomic_store_explicit(w, n, memory_order_relaxed);
}

/* What a map's meta words are, for the 8-byte get (a constant of each copy of it): any
 * (read from the map), a deadline alone, a frequency word alone, or a versioned 8/8 map's
 * version (G12, V5: copied from the table's version words after the value word, by
 * tsmap_groups_read8, for tsmap_get_version). */
#define TSMAP_META_ANY 1
#define TSMAP_META_TTL 2
#define TSMAP_META_FREQ 3
#define TSMAP_META_VER 4
/* A freq_side map's frequency word (B7): tsmap_get8 decides from the thread's skip count
 * (B4), before it probes, whether the get looks at the word; the 7 gets in 8 that do not
 * run the plain map's probe, the one that does asks for the side line with the group's
 * (tsmap_groups_read8's `ver` 3), so that its miss overlaps the group's. */
#define TSMAP_META_SIDE 5

/* The 8-byte get found an entry whose value words (with the meta words) are `vbuf`, at
 * `value` in its slot (a freq_side map's TSMAP_META_ANY get: `value` is its side word, B7)
 * (inside the read-side section): 0 it expired (G10), else 1 after maybe touching its
 * counter (G11, B4). TSMAP_META_SIDE's look is tsmap_get8's own. */
TSMAP_INLINE int tsmap_meta_read8(const tsmap *m, const uint64_t *vbuf, tsmap_word *value,
                                  const int kind) {
  if (kind == TSMAP_META_VER)
    return 1;
  if (kind != TSMAP_META_FREQ && tsmap_read_expired(m, vbuf))
    return 0;
  if (kind == TSMAP_META_FREQ) /* entry_meta: the word after the one value word */
    tsmap_freq_touch(m, value + 1);
  else if (kind == TSMAP_META_ANY && m->bounded) /* freq_side: tsmap_get8 gave the side word */
    tsmap_freq_touch(m, m->freq_side ? value : value + m->value_words + m->expiring);
  return 1;
}

#endif /* TSMAP_BOUND_H */
