/*
 * versions.h - versions and compare-and-set (G12), vector clocks, tombstones and merge
 * for replicated maps (G13): the internal interface map.c, expiry.c and compute.c call,
 * and what versions.c and replica.c share.
 *
 * A map created with versions stores, after its other meta words (deadline G10,
 * frequency G11), a version word; a replicated map (config.replicas) stores after it the
 * stamp of the entry's value and its vector clock, `replicas` words. Like the deadline,
 * they are part of the stored value words, so they move with the value and a reader
 * copies them under the group's seqlock with the value.
 *
 *   V1  Versions come from one counter per map (tsmap.version_next), taken under the
 *       shard lock of the key being written: every write (insert, overwrite, remove of a
 *       replicated map, merge) takes a new one. The counter never goes down and is not
 *       per key, so a key removed and inserted again gets a version larger than any it
 *       had: no ABA, with no state kept for removed keys.
 *   V2  A write that takes version v holds the shard lock from taking v to storing it.
 *       So a snapshot of a shard under its lock holds every change of that shard whose
 *       version is at most the counter read before the snapshot began (or a later change
 *       of the same key): tsmap_export's next_since never skips a change.
 *   V3  A local write of a replicated map sets the entry's clock to the one it replaces
 *       (the entry's, or a tombstone's, or all zero) with this replica's counter set to
 *       the new version, and its stamp to (version << 8) | replica id. A merge bumps the
 *       counter past every counter and stamp it receives, so the stamp is a Lamport
 *       timestamp: a write that happened after another has the larger stamp.
 *   V4  Tombstones (replicated maps) live in a chained table per shard, under the shard
 *       lock; readers never look at them. tsmap_shard_erase of a live entry with reason
 *       REMOVED leaves one, in a record its caller reserved first (tsmap_tomb_reserve;
 *       without one the removal fails with TSMAP_NO_MEMORY); an insert of the key takes
 *       it (its clock is the base, V3). Expiry (G10) and capacity (G11) evictions are
 *       local and leave none.
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

/* Index, in a value's words (value words first), of the version word; the stamp and
 * the clock follow it. */
TSMAP_INLINE size_t tsmap_ver_at(const tsmap *m) { return m->value_words + m->ver_meta; }

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

/* The tombstone of `q` in its shard, or NULL (shard lock held). */
TSMAP_HIDDEN tsmap_tomb *tsmap_tomb_find(const tsmap *m, const tsmap_key *q);

/* Store a tombstone for `q` with this clock and stamp (replacing one there) and version
 * `version` (0: a new one). Returns it, or NULL when it could not be allocated. Shard
 * lock held. */
TSMAP_HIDDEN tsmap_tomb *tsmap_tomb_set(const tsmap *m, const tsmap_key *q,
                                        const uint64_t *clock, uint64_t stamp,
                                        uint64_t version);

/* Drop the tombstone of `q`, if any (an insert took it; shard lock held). */
TSMAP_HIDDEN void tsmap_tomb_drop(const tsmap *m, const tsmap_key *q);

/* Take the next version (V1; shard lock held). Inline: the 8-byte put of a versioned map
 * takes it in its own frame. */
TSMAP_INLINE uint64_t tsmap_ver_next(const tsmap *m) {
  return atomic_fetch_add_explicit(&((tsmap *)m)->version_next, 1, memory_order_relaxed) + 1;
}

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

#endif /* TSMAP_VERSIONS_H */
