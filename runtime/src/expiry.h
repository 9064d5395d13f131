/*
 * expiry.h - time-to-live (G10), the internal interface map.c and compute.c call.
 *
 * A map created with expiry stores one meta word after each value: the entry's deadline
 * by the map's clock (0: never). The deadline is part of the stored value words, so it
 * moves with the value (growth, seqlock, an overwrite stores value and deadline under
 * one seq) and a reader that copies a value copies its deadline with it.
 *
 *   E1  An entry whose deadline is <= now is absent to every read: a lock-free reader
 *       reports it absent (tsmap_read_expired) and a writer that finds it under the shard
 *       lock unlinks it before acting (tsmap_shard_find_live), as if it were not there.
 *   E2  An expired entry is unlinked only under its shard lock, by tsmap_expiry_reap, which
 *       copies its key and value into a record on the operation's `after` list; the record's
 *       hook (TSMAP_EVICT_EXPIRED) runs once the lock is released. An entry is unlinked
 *       once, so its hook runs once; tsmap_close evicts what is still in the tables, an
 *       expired entry with TSMAP_EVICT_EXPIRED.
 *   E3  Work per write is bounded: tsmap_writer_begin sweeps TSMAP_SWEEP_GROUPS group of the
 *       shard's current table (at most 7 entries). It runs before the write's own change,
 *       so a write never reaps (and hooks) the value it is storing before its created hook.
 */
#ifndef TSMAP_EXPIRY_H
#define TSMAP_EXPIRY_H

#include "tsmap_internal.h"

#define TSMAP_SWEEP_GROUPS 1        /* groups a write sweeps (E3) */
#define TSMAP_MAINTAIN_CHUNK 64     /* groups tsmap_maintain sweeps per shard lock hold */
#define TSMAP_MAINTAIN_BUDGET 1024  /* slots per tick of the maintenance thread (default) */

/* The map's clock: the configured one or CLOCK_MONOTONIC nanoseconds. */
TSMAP_HIDDEN uint64_t tsmap_now(const tsmap *m);

/* Whether value words `vw` (user words, then the deadline) belong to an expired entry at
 * time `now`. Maps without expiry: never. */
TSMAP_INLINE int tsmap_expired_at(const tsmap *m, const uint64_t *vw, uint64_t now) {
  if (TSMAP_LIKELY(!m->expiring))
    return 0;
  uint64_t d = vw[m->value_words];
  return d != 0 && now >= d;
}

/* The same at the current time; the clock is read only for an entry with a deadline (E1). */
TSMAP_INLINE int tsmap_read_expired(const tsmap *m, const uint64_t *vw) {
  if (TSMAP_LIKELY(!m->expiring))
    return 0;
  uint64_t d = vw[m->value_words];
  return d != 0 && tsmap_now(m) >= d;
}

/* Set the meta words of `vw` for a value operation `q` stores now (shard lock held):
 * the deadline (G10) and the frequency word (G11; `old`: the meta words of the value it
 * replaces, NULL for a new entry). */
TSMAP_HIDDEN void tsmap_meta_fill(const tsmap *m, const tsmap_key *q, uint64_t *vw,
                                  const tsmap_word *old);

/* Unlink the entry at `pos` onto after->reaped, for its hook with reason `why` once the
 * lock is released (E2; also G11's evictions). Returns 0, or -1 when its record could not
 * be allocated (the entry stays). */
TSMAP_HIDDEN int tsmap_reap(tsmap *m, tsmap_shard *s, const tsmap_pos *pos,
                            tsmap_after *after, tsmap_evict_reason why);

/* tsmap_reap in two steps, for evictions that must all allocate before any entry goes
 * (G11 (c)): the record of the entry at `pos` (NULL: no memory, nothing changed), then
 * its unlinking onto after->reaped, or the record given back unused. */
typedef struct tsmap_reaped tsmap_reaped;
TSMAP_HIDDEN tsmap_reaped *tsmap_reap_record(tsmap *m, const tsmap_pos *pos,
                                             tsmap_evict_reason why);
TSMAP_HIDDEN void tsmap_reap_commit(tsmap *m, tsmap_shard *s, const tsmap_pos *pos,
                                    tsmap_reaped *r, tsmap_after *after);
TSMAP_HIDDEN void tsmap_reap_discard(tsmap *m, tsmap_reaped *r);

/* The entry at `pos` (found for `q`, shard lock held): 1 it is live; 0 it expired and was
 * unlinked onto after->reaped (E1, E2); -1 it expired but its record could not be
 * allocated, so it stays and the caller fails with TSMAP_NO_MEMORY. */
TSMAP_HIDDEN int tsmap_expiry_keep(tsmap *m, tsmap_shard *s, const tsmap_pos *pos,
                                   tsmap_after *after);

/* tsmap_shard_find for a writer, with E1: 1 found live, 0 absent, -1 no memory. */
TSMAP_HIDDEN int tsmap_shard_find_live(tsmap *m, tsmap_shard *s, const tsmap_key *q,
                                       tsmap_pos *pos, tsmap_after *after);

/* Sweep `groups` groups of the shard's current table from its cursor, reaping expired
 * entries (shard lock held; E3). */
TSMAP_HIDDEN void tsmap_expiry_sweep(tsmap *m, tsmap_shard *s, tsmap_after *after,
                                     size_t groups);

/* Run the hooks of after->reaped (EXPIRED, CAPACITY) and free the records (no lock held). */
TSMAP_HIDDEN void tsmap_reaped_run(tsmap *m, tsmap_after *after);

/* The reason tsmap_close gives an entry still in the map (E2). */
TSMAP_INLINE tsmap_evict_reason tsmap_close_reason(const tsmap *m, const uint64_t *vw) {
  return tsmap_read_expired(m, vw) ? TSMAP_EVICT_EXPIRED : TSMAP_EVICT_CLOSED;
}

/* The maintenance thread: started last by tsmap_create, stopped and joined by tsmap_close
 * (left to tsmap_destroy when close runs on that thread, from a hook), freed by destroy. */
TSMAP_HIDDEN tsmap_status tsmap_maint_start(tsmap *m);
TSMAP_HIDDEN void tsmap_maint_stop(tsmap *m);
TSMAP_HIDDEN void tsmap_maint_free(tsmap *m);

#endif /* TSMAP_EXPIRY_H */
