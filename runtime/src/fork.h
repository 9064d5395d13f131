/*
 * fork.h - the library's own threads across fork() (G16 in DESIGN.md). fork copies only
 * the thread that calls it: a reshard's helper thread (R10) or a map's maintenance thread
 * is not in the child, and whatever it held stays held there. Each such thread's owner
 * watches for forks: in the child, before fork returns, its handler forgets the thread
 * (no join, no wait for its answers; the work falls back to the caller's threads) and
 * makes the owner's own mutex and condition variable new. A helper thread also takes the
 * fork's hold around each stretch in which it holds a shard lock, so that no child
 * inherits a shard lock held by a thread it does not have. Each map watches too (G16 (e)):
 * fork waits, a bounded time, for the shard locks other threads hold, and a child forgets
 * the compute_if_absent calls other threads had in flight.
 */
#ifndef TSMAP_FORK_H
#define TSMAP_FORK_H

#include "tsmap_internal.h"

/* Register the process's fork handlers (once; tsmap_ebr_init calls it, so that a child
 * also releases the thread records of the threads it does not have, G16). */
TSMAP_HIDDEN void tsmap_fork_init(void);
/* In the child: the records of the threads it does not have are released (ebr.c). */
TSMAP_HIDDEN void tsmap_ebr_forked(void);

/* Watch for forks (registers the handlers if not yet done). 0 if they could not be
 * registered: the caller then starts no thread of its own. */
TSMAP_HIDDEN int tsmap_fork_watch_add(tsmap_fork_watch *w);
TSMAP_HIDDEN void tsmap_fork_watch_remove(tsmap_fork_watch *w);

/* G16 (e): map m's shard locks are taken before a fork and released after it in both
 * processes (the child also forgets other threads' compute_if_absent calls). */
TSMAP_HIDDEN void tsmap_fork_map_add(tsmap *m);
TSMAP_HIDDEN void tsmap_fork_map_remove(tsmap *m);

/* A stretch that fork waits for rather than splits: short, never a callback or a fork. */
TSMAP_HIDDEN void tsmap_fork_hold(void);
TSMAP_HIDDEN void tsmap_fork_release(void);

#endif
