/*
 * reshard_mem.h - a reshard's memory work off the writers (G15, R10 in reshard.h): a
 * short-lived helper thread that maps and faults in each phase's destination tables (R7)
 * before the phase moves anything, and gives back a halving's emptied sources' pages
 * once the phase is over (R8), so that no write takes those page faults or madvise
 * calls. reshard.c starts it, assigns it each phase and waits for its answers before the
 * phase becomes MIGRATING; writers take the tables it prepared.
 */
#ifndef TSMAP_RESHARD_MEM_H
#define TSMAP_RESHARD_MEM_H

#include "tsmap_internal.h"

typedef struct tsmap_rsmem tsmap_rsmem;

/* The helper's state for map m (no thread yet); NULL when out of memory: then writers do
 * the memory work, as with config reshard_no_helper. */
TSMAP_HIDDEN tsmap_rsmem *tsmap_rsmem_new(tsmap *m);
/* tsmap_destroy, after tsmap_rsmem_stop. */
TSMAP_HIDDEN void tsmap_rsmem_free(tsmap *m, tsmap_rsmem *h);

/* The reshard state's mutex held, before phase `phase` (from -> to shards) is published:
 * the running helper takes the phase on; with `may_start` (not from inside a write) one is
 * started if none runs. Writers see the phase as helped (tsmap_rsmem_helps) only if this
 * succeeded. Not on a closed map. */
TSMAP_HIDDEN void tsmap_rsmem_phase(tsmap *m, tsmap_rsmem *h, uint64_t phase, size_t from,
                                    size_t to, int may_start);
/* The same mutex held: the reshard reached its target; the helper exits once its phase's
 * work is done. */
TSMAP_HIDDEN void tsmap_rsmem_idle(tsmap_rsmem *h);
/* tsmap_close, with the closure published and no lock held: stop the helper and join it;
 * then no thread but the closer's touches a table the helper prepared or gives back, and
 * the tables it handed over and nobody took are freed. */
TSMAP_HIDDEN void tsmap_rsmem_stop(tsmap *m, tsmap_rsmem *h);

/* Writers, both locks of a pair held. Whether the helper took phase `phase` on. */
TSMAP_HIDDEN int tsmap_rsmem_helps(const tsmap_rsmem *h, uint64_t phase);
/* Whether it answered for every destination of phase `phase` (1 if it did not take the
 * phase on): until then the phase does not start moving entries (no lock needed). */
TSMAP_HIDDEN int tsmap_rsmem_prepared(const tsmap_rsmem *h, uint64_t phase);
/* Destination shard `di`'s table for phase `phase`: 0 while the helper has not answered;
 * 1 once it has, with *t its table (mapped, faulted in, now the caller's) or NULL (none
 * needed, or it could not make one: the writers decide, as without a helper). */
TSMAP_HIDDEN int tsmap_rsmem_take_table(tsmap_rsmem *h, size_t di, uint64_t phase,
                                        tsmap_table **t);

/* Bytes of the tables the helper answered with that no writer took yet (tsmap_table_bytes
 * counts them; a table taken is its destination's rs_next). 0 for NULL. */
TSMAP_HIDDEN size_t tsmap_rsmem_ready_bytes(const tsmap_rsmem *h);

/* Test support: tables the helper prepared and sources it gave back, since create, and
 * whether a helper thread runs (it gives back after the reshard's last phase). */
TSMAP_HIDDEN void tsmap_rsmem_counts(tsmap_rsmem *h, size_t *tables, size_t *sources,
                                     int *running);

#endif /* TSMAP_RESHARD_MEM_H */
