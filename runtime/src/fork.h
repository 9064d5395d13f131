/*
 * fork.h - the library's own threads across fork() (G16 in DESIGN.md). fork copies only
 * the thread that calls it: a reshard's helper thread (R10) or a map's maintenance thread
 * is not in the child, and whatever it held stays held there. Each such thread's owner
 * watches for forks: in the child, before fork returns, its handler forgets the thread
 * (no join, no wait for its answers; the work falls back to the caller's threads) and
 * makes the owner's own mutex and condition variable new. A helper thread also takes the
 * fork's hold around each stretch in which it holds a shard lock, so that no child
 * inherits a shard lock held by a thread it does not have.
 */
#ifndef TSMAP_FORK_H
#define TSMAP_FORK_H

#include "tsmap_internal.h"

typedef struct tsmap_fork_watch {
  struct tsmap_fork_watch *prev, *next;
  /* In the child, alone, before fork returns: only what is safe there (no allocation,
   * no lock another thread could hold; initializing a mutex or condition is). */
  void (*child)(struct tsmap_fork_watch *w);
} tsmap_fork_watch;

/* Register the process's fork handlers (once; tsmap_ebr_init calls it, so that a child
 * also releases the thread records of the threads it does not have, G16). */
TSMAP_HIDDEN void tsmap_fork_init(void);
/* In the child: the records of the threads it does not have are released (ebr.c). */
TSMAP_HIDDEN void tsmap_ebr_forked(void);

/* Watch for forks (registers the handlers if not yet done). 0 if they could not be
 * registered: the caller then starts no thread of its own. */
TSMAP_HIDDEN int tsmap_fork_watch_add(tsmap_fork_watch *w);
TSMAP_HIDDEN void tsmap_fork_watch_remove(tsmap_fork_watch *w);

/* A stretch that fork waits for rather than splits: short, never a callback or a fork. */
TSMAP_HIDDEN void tsmap_fork_hold(void);
TSMAP_HIDDEN void tsmap_fork_release(void);

#endif
