/*
 * fork.c - fork handlers for the library's own threads (fork.h, G16). Before a fork the
 * calling thread takes the watch list's lock and the hold for writing (so no helper is
 * inside a shard lock); after it, the parent releases both and the child runs every
 * watch's handler, then makes both new. The child first releases the thread records of
 * the threads it does not have (ebr.c).
 *
 * Each map is a watch too (G16 (e)): before the fork, its shard locks are taken (so no
 * thread the child will not have holds one), waiting at most TSMAP_FORK_WAIT_NS in all
 * for those other threads hold. A writer holds one for well under a microsecond, but a
 * busy machine can deschedule it for tens of milliseconds meanwhile; the bound is for a
 * thread that waits for the forking thread while it holds a shard lock (a visitor, a
 * user allocator or hash function blocked on a mutex the forking thread holds): fork
 * then goes on after the bound, and that shard's lock stays held in the child, as
 * before. After the fork both processes release them; the child first forgets the
 * compute_if_absent calls other threads had in flight. The named maps' registry lock
 * (held while tsmap_metrics_write_all runs its writer) is taken first, the same way, and
 * each map's slab lock last.
 */
#include "fork.h"
#include "metrics.h"
#include "reshard.h"
#include "slab.h"

#include <pthread.h>
#include <sched.h>
#include <time.h>

#define TSMAP_FORK_WAIT_NS 1000000000ull /* 1 s: the longest fork waits for shard locks */

static pthread_mutex_t tsmap_fork_mu = PTHREAD_MUTEX_INITIALIZER; /* the list */
static pthread_rwlock_t tsmap_fork_rw = PTHREAD_RWLOCK_INITIALIZER; /* the holds */
static tsmap_fork_watch tsmap_fork_list = {&tsmap_fork_list, &tsmap_fork_list, NULL, NULL, NULL};
static pthread_once_t tsmap_fork_once = PTHREAD_ONCE_INIT;
static int tsmap_fork_registered; /* written inside the once, read only after it */

/* Take mu, waiting for it until `deadline` (tsmap_mx_clock's) at most: blocked, so that a
 * thread that takes it again and again (expositions in a loop) hands it over rather than
 * starving a try. */
static int tsmap_fork_mutex(pthread_mutex_t *mu, uint64_t deadline) {
  uint64_t now = tsmap_mx_clock();
  if (pthread_mutex_trylock(mu) == 0)
    return 1;
  if (now >= deadline)
    return 0;
  struct timespec at; /* timedlock's clock is CLOCK_REALTIME */
  clock_gettime(CLOCK_REALTIME, &at);
  uint64_t ns = (uint64_t)at.tv_nsec + (deadline - now);
  at.tv_sec += (time_t)(ns / 1000000000u);
  at.tv_nsec = (long)(ns % 1000000000u);
  return pthread_mutex_timedlock(mu, &at) == 0;
}

static int tsmap_fork_registry_held; /* the forking thread's, under tsmap_fork_mu */

static void tsmap_fork_prepare(void) {
  pthread_mutex_lock(&tsmap_fork_mu);
  pthread_rwlock_wrlock(&tsmap_fork_rw);
  uint64_t deadline = tsmap_mx_clock() + TSMAP_FORK_WAIT_NS;
  /* the named maps' registry first: an exposition takes shard locks under it */
  tsmap_fork_registry_held = tsmap_fork_mutex(tsmap_mx_registry_lock(), deadline);
  for (tsmap_fork_watch *w = tsmap_fork_list.next; w != &tsmap_fork_list; w = w->next)
    if (w->prepare)
      w->prepare(w, deadline);
}

static void tsmap_fork_parent(void) {
  for (tsmap_fork_watch *w = tsmap_fork_list.next; w != &tsmap_fork_list; w = w->next)
    if (w->parent)
      w->parent(w);
  if (tsmap_fork_registry_held)
    pthread_mutex_unlock(tsmap_mx_registry_lock());
  pthread_rwlock_unlock(&tsmap_fork_rw);
  pthread_mutex_unlock(&tsmap_fork_mu);
}

/* Both locks are made new rather than released: the child's thread has another thread
 * id than the one that took them, and a write-locked rwlock knows its writer by it. */
static void tsmap_fork_child(void) {
  tsmap_ebr_forked();
  tsmap_compute_forked();
  for (tsmap_fork_watch *w = tsmap_fork_list.next; w != &tsmap_fork_list; w = w->next)
    w->child(w);
  if (tsmap_fork_registry_held) /* made new: the child's thread is not the one that took it */
    pthread_mutex_init(tsmap_mx_registry_lock(), NULL);
  pthread_rwlock_init(&tsmap_fork_rw, NULL);
  pthread_mutex_init(&tsmap_fork_mu, NULL);
}

static void tsmap_fork_register(void) {
  tsmap_fork_registered =
      pthread_atfork(tsmap_fork_prepare, tsmap_fork_parent, tsmap_fork_child) == 0;
}

void tsmap_fork_init(void) { (void)pthread_once(&tsmap_fork_once, tsmap_fork_register); }

int tsmap_fork_watch_add(tsmap_fork_watch *w) {
  tsmap_fork_init();
  if (!tsmap_fork_registered)
    return 0;
  pthread_mutex_lock(&tsmap_fork_mu);
  w->prev = &tsmap_fork_list;
  w->next = tsmap_fork_list.next;
  w->next->prev = w;
  tsmap_fork_list.next = w;
  pthread_mutex_unlock(&tsmap_fork_mu);
  return 1;
}

/* w->next is read under the lock: a neighbour's add or remove writes it meanwhile (a
 * data race on it when two threads destroyed maps at once: black-box round 8). */
void tsmap_fork_watch_remove(tsmap_fork_watch *w) {
  pthread_mutex_lock(&tsmap_fork_mu);
  if (w->next) { /* else never added */
    w->prev->next = w->next;
    w->next->prev = w->prev;
    w->prev = w->next = NULL;
  }
  pthread_mutex_unlock(&tsmap_fork_mu);
}

/* ---- A map's shard locks (G16 (e)) ------------------------------------------------------ */

/* Take l, waiting for it until `deadline` at most (then once more only). */
static int tsmap_fork_lock(tsmap_lock *l, uint64_t deadline) {
  for (unsigned spins = 0;; spins++) {
    if (!atomic_load_explicit(&l->held, memory_order_relaxed) && tsmap_lock_try(l))
      return 1;
    if ((spins & 255) != 255) {
      tsmap_cpu_relax();
    } else {
      if (tsmap_mx_clock() >= deadline)
        return 0;
      sched_yield();
    }
  }
}

static tsmap *tsmap_fork_map(tsmap_fork_watch *w) {
  return (tsmap *)(void *)((char *)w - offsetof(tsmap, fork));
}

/* Take shards [from, to)'s locks, in ascending order, as a reshard's pairs take them: a
 * writer holding one while it waits for a higher one gets it and finishes. */
static void tsmap_fork_shards(tsmap *m, size_t from, size_t to, uint64_t deadline) {
  for (size_t i = from; i < to; i++)
    m->shards[i].fork_held = (unsigned char)tsmap_fork_lock(&m->shards[i].lock, deadline);
}

/* The shards in use, then the reshard mutex (a writer may take it holding a shard lock),
 * then the shards a reshard added meanwhile (it adds them under the mutex, and no thread
 * uses a shard before). */
static void tsmap_fork_map_prepare(tsmap_fork_watch *w, uint64_t deadline) {
  tsmap *m = tsmap_fork_map(w);
  size_t hw = tsmap_shard_hw(m);
  tsmap_fork_shards(m, 0, hw, deadline);
  pthread_mutex_t *mu = tsmap_reshard_mutex(m);
  m->fork_rs_held = mu && tsmap_fork_mutex(mu, deadline);
  tsmap_fork_shards(m, hw, tsmap_shard_hw(m), deadline);
  /* the slab's lock last (a writer takes it holding a shard lock): tsmap_after_run gives
   * a freed small table's slot back under it with no shard lock held, so a child forked
   * meanwhile kept it held and hung at its first small table (black-box round 15) */
  tsmap_lock *sl = tsmap_slab_lock(m);
  m->fork_slab_held = sl && tsmap_fork_lock(sl, deadline);
}

static void tsmap_fork_map_parent(tsmap_fork_watch *w) {
  tsmap *m = tsmap_fork_map(w);
  if (m->fork_slab_held)
    tsmap_lock_release(tsmap_slab_lock(m));
  m->fork_slab_held = 0;
  if (m->fork_rs_held)
    pthread_mutex_unlock(tsmap_reshard_mutex(m));
  m->fork_rs_held = 0;
  for (size_t i = 0; i < m->shard_cap; i++)
    if (m->shards[i].fork_held) {
      m->shards[i].fork_held = 0;
      tsmap_lock_release(&m->shards[i].lock);
    }
}

/* Another thread's compute_if_absent in flight would never finish here: forgotten, so the
 * child's callers for its key run their own (compute.c). */
static void tsmap_fork_map_child(tsmap_fork_watch *w) {
  tsmap *m = tsmap_fork_map(w);
  for (size_t i = 0; i < m->shard_cap; i++)
    if (m->shards[i].fork_held)
      tsmap_pending_forked(&m->shards[i]);
  if (m->fork_rs_held) /* made new, as the child's thread is not the one that took it */
    pthread_mutex_init(tsmap_reshard_mutex(m), NULL);
  m->fork_rs_held = 0;
  tsmap_fork_map_parent(w);
}

void tsmap_fork_map_add(tsmap *m) {
  m->fork.prepare = tsmap_fork_map_prepare;
  m->fork.parent = tsmap_fork_map_parent;
  m->fork.child = tsmap_fork_map_child;
  (void)tsmap_fork_watch_add(&m->fork); /* not registered: fork is as unsafe as before */
}

void tsmap_fork_map_remove(tsmap *m) { tsmap_fork_watch_remove(&m->fork); }

void tsmap_fork_hold(void) { pthread_rwlock_rdlock(&tsmap_fork_rw); }
void tsmap_fork_release(void) { pthread_rwlock_unlock(&tsmap_fork_rw); }
