/*
 * versions.h - versions and compare-and-set (G12), vector clocks, tombstones and merge
 * for replicated maps (G13): the internal interface map.c, expiry.c and compute.c call,
 * and what versions.c and replica.c share.
 *
 * A map created with versions keeps a version word per entry, in its table's version
 * words (V5), not in the slot; a replicated map (config.replicas) stores in the slot,
 * after its other meta words (deadline G10, frequency G11), the stamp of the entry's
 * value and its vector clock, `replicas` words. A value as copied out of a slot (vbuf,
 * the `vw` of the functions below) is the value words, the slot's meta words, then the
 * version (tsmap_ver_at): the words move with the value and a reader copies them under
 * the group's seqlock with the value.
 *
 *   V1  Versions come from a counter taken under the shard lock of the key being written:
 *       every write (insert, overwrite, remove of a replicated map, merge) takes a new one.
 *       A replicated map has one counter (tsmap.version_next: its clocks count this
 *       replica's writes, V3); any other versioned map one per shard (tsmap_shard.ver_last,
 *       a plain load and store under the lock: no read-modify-write of a line that every
 *       writer of the map shares). A counter never goes down and is not per key, so a key
 *       removed and inserted again in its shard gets a version larger than any it had: no
 *       ABA, with no state kept for removed keys. A key changes shard only in a reshard:
 *       whenever a reshard locks a pair, the destination's counter is raised to at least
 *       the source's (tsmap_ver_follow) before any key of the pair can be written in the
 *       destination (every write routes through its pair during a phase, the conditional
 *       writes too: tsmap_writer_lock_routed; a replicated map does not reshard), so its
 *       versions stay above every version the key had.
 *   V2  A write that takes version v holds the shard lock from taking v to storing it.
 *       So a snapshot of a shard under its lock holds every change of that shard whose
 *       version is at most the counter read before the snapshot began (or a later change
 *       of the same key): tsmap_export's next_since never skips a change. With counters
 *       per shard, the walk's cursor is the largest of them, read before the first shard
 *       is locked, and each shard's counter is raised to it under the lock that copies
 *       the shard (tsmap_ver_cursor_raise): a later write of any shard takes a version
 *       above the cursor.
 *   V3  A local write of a replicated map sets the entry's clock to the one it replaces
 *       (the entry's, or a tombstone's, or all zero) with this replica's counter set to
 *       the new version, and its stamp to (version << 8) | replica id. A merge bumps the
 *       counter past every counter and stamp it receives, so the stamp is a Lamport
 *       timestamp: a write that happened after another has the larger stamp.
 *   V4  Tombstones (replicated maps) live in a chained table per shard, under the shard
 *       lock; readers never look at them. tsmap_shard_erase of a live entry with reason
 *       REMOVED leaves one, in a record its caller reserved first (tsmap_tomb_reserve;
 *       without one the removal fails with TSMAP_NO_MEMORY); an insert of the key takes
 *       it (its clock is the base, V3). An expired entry (G10) leaves one too, with the
 *       entry's own clock and stamp (expiry is local, not a write: no counter is raised)
 *       and a new version (tsmap_export passes it on), its record allocated with the
 *       reap's (tsmap_tomb_for_expiry; without memory the entry stays, E2), so a change
 *       the expired entry dominated cannot bring the key back. A capacity eviction
 *       (G11) leaves one too (its reap record as well), and so does a merged value
 *       admission refuses (replica.c, tsmap_side_set, which reserves the record before
 *       the insert): black-box round 8. Those are `local`: a bound is this replica's
 *       own, so tsmap_export never lists them (a peer behind keeps its value), and a
 *       merge only lets a change that dominates one past it (a concurrent change joins
 *       its clock, TSMAP_EXISTS: no resolver can weigh the value that is gone).
 *   V6  Clock headroom: a merge raises the version counter to at most TSMAP_CLOCK_LIMIT -
 *       TSMAP_CLOCK_HEADROOM, and a local write checks, before it takes anything, that the
 *       counter is below that mark (tsmap_ver_exhausted; else TSMAP_INVALID_ARGUMENT). A
 *       write that passed the check takes a version at most the mark plus the versions
 *       taken since by others (fewer than 2^32), so every counter and stamp time a
 *       replica writes stays below TSMAP_CLOCK_LIMIT, and every peer merges it.
 *   V5  A versioned map's tables hold, after the groups and the writers' control words, a
 *       version word per slot, 8 words (one line) a group (tsmap_table_ver), so that its
 *       groups keep the plain layout (8-byte keys and values: the 128-byte group) and its
 *       tsmap_get is the plain get, which never loads the version. A writer stores a
 *       slot's version inside the group's seq window with the slot's words (insert,
 *       overwrite, growth's copy, a reshard's move), so a reader of the version
 *       (tsmap_get_version, the compute and conditional calls) copies it between its
 *       two looks at seq and gets the version of the value it copied. The version words
 *       start at the first line after wctrl (tsmap_table_vers_at), so the 8/8 put
 *       prefetches its version line from the probe words with its group, before the lock.
 */
#ifndef TSMAP_VERSIONS_H
#define TSMAP_VERSIONS_H

#include "tsmap_internal.h"

/* What a merge stores with a value or a tombstone instead of a local write's (V3). */
typedef struct tsmap_ver_in {
  const uint64_t *clock; /* `replicas` counters */
  uint64_t stamp;
} tsmap_ver_in;

/* A tombstone: the removed key's clock, stamp and version, and the key's bytes. */
typedef struct tsmap_tomb {
  struct tsmap_tomb *next;
  uint64_t hash;
  uint64_t version;
  uint64_t stamp;
  size_t key_len;
  size_t bytes; /* of this record, for free */
  int local;    /* a capacity eviction's (G11): kept, never exported (V4) */
  uint64_t w[]; /* clock (`replicas` words), then the key's bytes */
} tsmap_tomb;

/* A shard's tombstones (V4). */
typedef struct tsmap_tombs {
  tsmap_tomb **b;
  size_t nbuckets; /* a power of two, or 0 */
  size_t count;
  tsmap_tomb *spare; /* reserved by tsmap_tomb_reserve for the next removal, or NULL */
  size_t lost;       /* removals that found no tombstone to fill (none with a reserve) */
} tsmap_tombs;

/* Config: 0 or TSMAP_INVALID_ARGUMENT (replicas over TSMAP_MAX_REPLICAS, a replica id
 * out of range). */
TSMAP_HIDDEN tsmap_status tsmap_ver_config_check(const tsmap_config *c);

/* Set m->versioned, m->replicas, m->ver_meta and return the meta words they add. */
TSMAP_HIDDEN size_t tsmap_ver_layout(tsmap *m);

/* Index, in a value's words as copied out (value words first), of the version word: after
 * the slot's words (V5). */
TSMAP_INLINE size_t tsmap_ver_at(const tsmap *m) { return m->value_words + m->meta_words; }
/* Index of a replicated map's stamp in the same words (and in the slot after the key);
 * the clock follows it. */
TSMAP_INLINE size_t tsmap_stamp_at(const tsmap *m) { return m->value_words + m->ver_meta; }

/* Fill the version words of `vw` for the value `q` stores now (shard lock held; `old`:
 * the meta words of the value it replaces, NULL for an insert). V1, V3. */
TSMAP_HIDDEN void tsmap_ver_fill(const tsmap *m, const tsmap_key *q, uint64_t *vw,
                                 const tsmap_word *old);

/* Before removing `q`'s entry (replicated maps, shard lock held): make sure its tombstone
 * can be stored, so that the removal cannot lose it. 0, or -1: no memory, and the caller
 * fails with TSMAP_NO_MEMORY, changing nothing (G1). */
TSMAP_HIDDEN int tsmap_tomb_reserve(const tsmap *m, const tsmap_key *q);

/* tsmap_shard_erase of the entry at `pos` for a remove (replicated maps): leave its
 * tombstone (V4), in the reserved record. Shard lock held. */
TSMAP_HIDDEN void tsmap_tomb_on_erase(const tsmap *m, tsmap_shard *s, const tsmap_pos *pos);

/* G10 on a replicated map (V4): the record for the tombstone the expiry of the entry at
 * `pos` leaves, allocated before the entry is unlinked (NULL: no memory, and the expired
 * entry stays for a later reclaim, E2); then, with the entry still in its slot, the
 * tombstone itself: the entry's clock and stamp, a new version. Shard lock held. The
 * same for a capacity eviction (G11), whose tombstone is `local`: not exported (V4). */
TSMAP_HIDDEN tsmap_tomb *tsmap_tomb_for_expiry(const tsmap *m, const tsmap_pos *pos);
TSMAP_HIDDEN void tsmap_tomb_on_expire(const tsmap *m, const tsmap_pos *pos, tsmap_tomb *t,
                                       int local);
TSMAP_HIDDEN void tsmap_tomb_release(const tsmap *m, tsmap_tomb *t);

/* The tombstone of `q` in its shard, or NULL (shard lock held). */
TSMAP_HIDDEN tsmap_tomb *tsmap_tomb_find(const tsmap *m, const tsmap_key *q);

/* Store a tombstone for `q` with this clock and stamp (replacing one there) and version
 * `version` (0: a new one), `local` (a capacity eviction's, never exported) or not.
 * Returns it, or NULL when it could not be allocated. Shard lock held. */
TSMAP_HIDDEN tsmap_tomb *tsmap_tomb_set(const tsmap *m, const tsmap_key *q,
                                        const uint64_t *clock, uint64_t stamp,
                                        uint64_t version, int local);

/* Drop the tombstone of `q`, if any (an insert took it; shard lock held). */
TSMAP_HIDDEN void tsmap_tomb_drop(const tsmap *m, const tsmap_key *q);

/* Take the next version of a replicated map (V1; shard lock held). */
TSMAP_INLINE uint64_t tsmap_ver_next(const tsmap *m) {
  return atomic_fetch_add_explicit(&((tsmap *)m)->version_next, 1, memory_order_relaxed) + 1;
}

/* A replicated map whose version counter reached TSMAP_CLOCK_LIMIT - TSMAP_CLOCK_HEADROOM
 * (V6): its local writes are refused (TSMAP_INVALID_ARGUMENT), so no counter or stamp
 * it writes reaches TSMAP_CLOCK_LIMIT, which every peer's merge refuses. */
TSMAP_INLINE int tsmap_ver_exhausted(const tsmap *m) {
  return m->replicas && atomic_load_explicit(&((tsmap *)m)->version_next, memory_order_relaxed) >=
                            TSMAP_CLOCK_LIMIT - TSMAP_CLOCK_HEADROOM;
}

/* The start of a local write (every keyed write but tsmap_merge): tsmap_begin_keyed_op,
 * then V6's refusal, which changes nothing, when the map's clock has no room left. */
TSMAP_INLINE tsmap_status tsmap_begin_local_write(tsmap *m, const void *key, size_t len,
                                                  tsmap_key *q, tsmap_thread **self) {
  tsmap_status st = tsmap_begin_keyed_op(m, key, len, q, self);
  if (st == TSMAP_OK && TSMAP_UNLIKELY(tsmap_ver_exhausted(m)))
    return TSMAP_INVALID_ARGUMENT; /* G13, V6: no room left for its clock */
  return st;
}

/* Take the next version for a write of shard `s` (V1; its lock held). Inline: the 8-byte
 * put of a versioned map takes it in its own frame. */
TSMAP_INLINE uint64_t tsmap_ver_take(const tsmap *m, tsmap_shard *s) {
  if (m->replicas)
    return tsmap_ver_next(m);
  uint64_t v = tsmap_ld(&s->ver_last) + 1;
  tsmap_st(&s->ver_last, v);
  return v;
}

/* A reshard locked a pair (both locks held): raise the destination's counter to at least
 * the source's, before a key of the pair is written in the destination (V1). */
TSMAP_INLINE void tsmap_ver_follow(tsmap_shard *dst, const tsmap_shard *src) {
  uint64_t v = tsmap_ld(&src->ver_last);
  if (tsmap_ld(&dst->ver_last) < v)
    tsmap_st(&dst->ver_last, v);
}

/* The change feed's cursor (V2): the largest version taken so far, read before the walk
 * locks its first shard. */
TSMAP_HIDDEN uint64_t tsmap_ver_cursor(const tsmap *m);

/* Raise shard `s`'s counter to at least `cursor` (V2; its lock held). */
TSMAP_INLINE void tsmap_ver_cursor_raise(tsmap_shard *s, uint64_t cursor) {
  if (tsmap_ld(&s->ver_last) < cursor)
    tsmap_st(&s->ver_last, cursor);
}

/* Lock q's shard for a conditional write (versions.c), routed as tsmap_store routes its
 * writes (G15: during a reshard the key's pair is locked first and the key moved, and a
 * route that changed before the lock was taken routes again; V1 relies on it). 0 locked;
 * -1 not locked: the key could not move (TSMAP_NO_MEMORY). A closed map is locked and
 * left to the caller's check. */
TSMAP_HIDDEN int tsmap_writer_lock_routed(tsmap *m, tsmap_key *q, tsmap_after *after);

/* Free every tombstone (tsmap_destroy). */
TSMAP_HIDDEN void tsmap_tombs_free(const tsmap *m);

/* A value that left the map for `why`: copied to `out` (the caller owns it), or, when
 * `out` is NULL, to on_entry_evicted (G6). No lock held. */
TSMAP_HIDDEN void tsmap_value_leaves(const tsmap *m, const tsmap_key *q, const uint64_t *vw,
                                     void *out, tsmap_evict_reason why);

/* compute.c: run a compute callback with its key marked as computed by this thread (a
 * call on the key from inside it returns TSMAP_REENTERED). */
TSMAP_HIDDEN tsmap_verdict tsmap_compute_run(tsmap *m, const tsmap_key *q, tsmap_thread *self,
                                             tsmap_compute_fn fn, const uint64_t *ov,
                                             void *ctx, uint64_t *nv);
/* The same for a merge's resolver (G13). */
TSMAP_HIDDEN tsmap_verdict tsmap_resolve_run(tsmap *m, const tsmap_key *q, tsmap_thread *self,
                                             tsmap_resolve_fn fn, const tsmap_change *local,
                                             const tsmap_change *remote, void *ctx,
                                             void *merged);

#endif /* TSMAP_VERSIONS_H */
