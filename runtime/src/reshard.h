/*
 * reshard.h - live resharding (G15): the shard count changes while every call keeps
 * working. The internal interface map.c, compute.c and expiry.c call.
 *
 * A reshard runs as phases that each double or halve the count (N <-> 2N). A phase pairs
 * shard lo = i with hi = i + N (N the smaller count): a key whose hash has bit N of its
 * shard index set moves lo -> hi (growing) or hi -> lo (shrinking); every other key stays
 * in lo. The shard array has room for max_shard_count shards from create on, so shards
 * never move and the 8-byte paths index it as before.
 *
 *   R1  The routing word (tsmap.route) says how keys are routed: the mask of the counts
 *       moved from, DIVERT while a phase runs (or once closed), MIGRATING once entries
 *       may move, and a counter bumped at every change. Every keyed call reads it; the
 *       8-byte paths read it where they read the shard mask before, so a map that is not
 *       resharding runs the same instructions.
 *   R2  No entry moves until every read-side section that saw the clean route has ended
 *       (the epoch advanced twice after DIVERT was published, as for a retired table, I5):
 *       a reader that saw the clean route may trust a miss in the key's old shard.
 *   R3  An entry moves under both locks of its pair, inserted into its new shard before it
 *       is deleted from its old one, and a moving key is never inserted into its old shard
 *       again in that phase; a reader during a phase probes the old shard, then the new
 *       one, and trusts a miss only if the routing word did not change. Where the old
 *       shard's published scan position says the key has likely moved, it probes the new
 *       shard first, then the old, then the new once more (the entry may have moved in
 *       between), so one probe usually finds it. So a get finds it in one of the two,
 *       never in neither; writers find it in exactly one. The 8-byte get takes the same
 *       steps with the 8-byte group reader, straight from its fast path's diverted exit
 *       (tsmap_reshard_get8v; tsmap_reshard_get8 from the generic get).
 *   R4  A writer during a phase locks its key's pair, moves a bounded share of the pair
 *       (at most TSMAP_RESHARD_MOVES entries found in at most TSMAP_RESHARD_GROUPS
 *       groups; a group the cap stopped in is continued from the first slot the step did
 *       not look at, rs_slot: the ones before it hold keys that stay, or none), then its
 *       own key if the share did not (its lines were prefetched, from the shards' probe
 *       words, before the pair's locks, so the misses overlap the locks and the share; a
 *       key whose home group the source's published scan position has passed is looked
 *       for in the new shard first, its source lines not fetched: found there, it is in
 *       no other shard), and then works in the key's new shard under that shard's lock
 *       alone, after checking under it that the routing word is still the one it routed
 *       by (else it routes again). The 8-byte put checks the route under the pair's
 *       locks, releases the other shard's and keeps its new shard's lock
 *       (tsmap_reshard_route's `keep`). Inserts of moving keys go to the new shard only,
 *       so a source shard's scan never falls behind; a write whose key cannot move (the
 *       new shard cannot grow) fails with TSMAP_NO_MEMORY rather than work in the source.
 *       The 8-byte put routes a diverted key here itself and stays on its own path. A
 *       writer that finds the map closed when it routes is given a route that is never
 *       current, so it sees the closure under its shard lock: the route it read may be
 *       close's own, and working by it would touch a detached shard (a close overtaking
 *       the write between its checks and its routing;
 *       test_g15_close_overtaking_a_write_during_a_reshard).
 *   R5  A moved entry keeps its slot words (value, deadline, a long key's block): no hook
 *       runs and no metric counts it as leaving. Close and destroy detach every shard that
 *       ever held a table, so an entry in either shard of a pair is evicted exactly once.
 *   R6  foreach (and the feed, tsmap_foreach_since) finishes a phase before it walks and
 *       holds off the next until it returns, so no entry moves from a shard it has not
 *       visited to one it has (G8). It counts itself under the state's mutex before it
 *       finishes the phase, making the state if no reshard has yet (on every map a phase
 *       can run on), and every phase start checks that count under the same mutex: so a
 *       reshard asked for by the visitor itself, or by another thread at any point after
 *       the walk began, starts only when the walk ends
 *       (test_g15_foreach_whose_visitor_reshards, _feed_whose_visitor_reshards).
 *   R7  Before a pair's scan moves anything, its destination gets a table with room for
 *       what it will receive (its entries, plus half the source's when doubling, all of
 *       them when halving, plus 1/8), faulted in a chunk per step (TSMAP_POPULATE_CHUNK,
 *       a writer's whole share) and published as a growth once its own growth is done: so
 *       no growth, and no first-touch page fault, lands in a move (G5's preparation, which
 *       a shard's own writes pace, cannot keep up with a pair's moves: up to 2 a write,
 *       every write of the pair). With the helper (R10) the table is mapped and faulted
 *       in by it, and the phase becomes MIGRATING only once it has answered for every
 *       destination, so not even a writer's own key moves into a destination before its
 *       table is ready; the pair's first step takes the table and publishes it.
 *   R8  A source whose scan is done gives back what its moves freed: emptied (a
 *       halving's), its table's pages, TSMAP_UNMAP_CHUNK a step of the pair, which
 *       completes only then (tsmap_shard_drop_step; the table stays, as zero pages that
 *       read as empty); left with a table over twice the size its entries need (plus
 *       1/8, plus one insert per TSMAP_MIGRATE_GROUPS groups of its table: the writes
 *       that move the old table may each insert), a table of that size, published as a growth its own writes complete
 *       (tsmap_shard_fit). With the helper (R10), a halving's pairs complete when their
 *       scans do and the helper gives the emptied sources' pages back once the phase is
 *       over, before the next phase moves anything. So a map
 *       that reshards up holds at most about twice the tables it held (each doubling
 *       halves its sources: 1.25x in all after 8 -> 32 shards of 400,000 entries; up to
 *       2x where they sat near full, the fit keeping room for its migration's inserts:
 *       2.00x for 131,072 entries 4 -> 16, test_soak.c), and one that reshards back holds
 *       what it held before (test_g15_a_reshard_gives_memory_back), every time. A table
 *       from a custom allocator (or from the heap, mmap having failed) is not mapped and
 *       has no page to give back: an emptied source gives the whole table back instead, a one-group table taking its place
 *       (tsmap_shard_shed; it kept the table until destroy before black-box round 16:
 *       2.50x in the allocator after 2 -> 16 -> 2, test_soak.c).
 *   R9  tsmap_size never counts a moving entry in both shards of its pair or in neither.
 *       A move raises its destination's count before it lowers its source's, and a sum
 *       that reads one shard of a pair, then the other, would count every move between
 *       the two reads once too often (doubling: lo, the source, is read first) or too
 *       few (halving). So the pair's lo shard has a sequence word, rs_seq, made odd (with
 *       a release fence) before the first move under the pair's locks and even again at
 *       their release; during a phase size reads each pair's two counts between two equal
 *       even values of it (no lock; a try fails only when a move ran), the other shards
 *       plainly, and keeps the sum only if the route did not change meanwhile. With a
 *       clean route no entry moves unless the route changes first, so a plain sum is kept
 *       under the same check. Moves then never make a size wrong; concurrent inserts
 *       and removes do as before (test_g15_size_during_a_reshard_is_exact).
 *   R10 A phase's memory work runs in a helper thread, not in writes (reshard_mem.c;
 *       config reshard_no_helper 0, the default): writers then only move entries. A call
 *       that starts a phase outside a write (tsmap_reshard, foreach's end) starts the
 *       helper if none runs; it takes on each phase of the run before the phase's route
 *       is published (its `helped` phase id, which writers compare with the phase's) and
 *       exits when the target is reached or the map closes. Per phase, during R2's grace
 *       period, it sizes each destination's table as R7 does (under that shard's lock
 *       alone), maps it (a fresh mapping bound to the shard's node: the shard's spares are
 *       its lock's) and faults it in 256 KiB at a time with no lock held, then hands it
 *       over: a release store of the table, then of the phase id, per destination; the
 *       pair's first step takes it (acquire, then an exchange: one owner, so a table is
 *       faulted in by one thread only and no progress field is shared). The phase becomes
 *       MIGRATING only once every destination has its answer (tsmap_try_migrate, after
 *       R2's epochs). After a halving it gives back the emptied sources (R8) before it
 *       looks at the next phase: nothing writes to them until that phase is MIGRATING.
 *       It never holds a shard lock across a system call or a fault, nor waits for the
 *       state's mutex; it runs on every CPU but those of a caller pinned to some (it
 *       would otherwise share the caller's, and woken there by a writer ending a phase,
 *       take it for a scheduler tick), on every CPU for a caller that may run anywhere,
 *       and blocks signals. Close publishes the closure, passes
 *       the state's mutex (no call starts a helper after), then stops and joins the
 *       helper without that mutex (the auto policy's writer may wait for it holding a
 *       shard lock the helper wants), frees the tables it handed over that nobody took,
 *       and only then detaches the shards: the helper unmaps a table it still holds when
 *       it sees the stop, so no table is freed under it. With no helper (the thread or its
 *       state could not be made, a custom allocator, whose tables are never mapped, or
 *       reshard_no_helper) writers do R7 and R8 themselves as before; a helper's own
 *       failure (no mapping) answers NULL and the writers make that table. tsmap_maintain
 *       does not wait for the helper (test_g15_the_helper_takes_the_memory_work,
 *       _a_helper_that_cannot_start_leaves_the_work_to_writes,
 *       _a_helper_without_mappings_leaves_the_tables_to_writes,
 *       _close_while_the_helper_works, _the_helper_keeps_off_a_pinned_callers_cpu;
 *       runtime.reshard.no_helper runs the file's tests without it).
 */
#ifndef TSMAP_RESHARD_H
#define TSMAP_RESHARD_H

#include "tsmap_internal.h"

/* The share of a write (R4); -D at build time overrides either, to measure another
 * (bench/runtime/scripts/reshard_cost.py). */
#ifndef TSMAP_RESHARD_GROUPS
#define TSMAP_RESHARD_GROUPS 2 /* groups of the pair's source a writer scans (R4) */
#endif
#ifndef TSMAP_RESHARD_MOVES
#define TSMAP_RESHARD_MOVES 1 /* entries a writer moves besides its own key, at most (R4):
                                 each is a miss in the destination; the mean write's time
                                 sets how many writes an interrupt lands in (DESIGN.md; 1
                                 since round 6: phase puts 1.20x steady in wall time against
                                 1.27x with 2, phases ~1.7x the writes) */
#endif
#define TSMAP_RESHARD_AUTO_WAITS 64 /* lock waits per policy window (tsmap_reshard_note_wait) */

/* Finish a phase in progress and hold off new ones (foreach, R6); on TSMAP_OK the walk
 * follows and then tsmap_reshard_foreach_exit, on any other status neither. */
TSMAP_HIDDEN tsmap_status tsmap_reshard_foreach_enter(tsmap *m);
TSMAP_HIDDEN void tsmap_reshard_foreach_exit(tsmap *m);
/* The shards in use (tsmap_placement): the count, or during a phase the larger of its
 * two counts (the shards it fills or empties). */
TSMAP_HIDDEN size_t tsmap_reshard_span(tsmap *m);
/* tsmap_size's sum of the shards' counts, exact against moves (R9). */
TSMAP_HIDDEN size_t tsmap_reshard_size(tsmap *m);
/* Bytes of the destination tables prepared for the phase and not taken yet by its pairs
 * (tsmap_table_bytes; 0 without a reshard or a helper). */
TSMAP_HIDDEN size_t tsmap_reshard_prepared_bytes(tsmap *m);
/* tsmap_maintain's share: scan up to `groups` groups of the phase's pairs. */
TSMAP_HIDDEN void tsmap_reshard_help(tsmap *m, size_t groups);
/* tsmap_close, after it published the closure: wait out a reshard call adding shards. */
TSMAP_HIDDEN void tsmap_reshard_close_barrier(tsmap *m);
/* tsmap_destroy: the state's memory. */
TSMAP_HIDDEN void tsmap_reshard_free(tsmap *m);
/* G16 (e): the mutex phases start and end under (fork.c takes it before a fork, after the
 * map's shard locks: a writer may take it holding one), NULL before any reshard. */
TSMAP_HIDDEN pthread_mutex_t *tsmap_reshard_mutex(tsmap *m);
/* The auto policy (config reshard_auto): a writer waited for shard s's lock (held now). */
TSMAP_HIDDEN void tsmap_reshard_note_wait(tsmap *m, tsmap_shard *s);
/* tsmap_create, for a reshard_auto map: its reshard state, made before any write. */
TSMAP_HIDDEN tsmap_status tsmap_reshard_auto_prepare(tsmap *m);

#endif /* TSMAP_RESHARD_H */
