/*
 * ebr.c - thread records and epoch-based reclamation (I5, G3).
 *
 * Readers never write shared memory: each thread announces "I am reading, in epoch e"
 * in its own cache-line-sized record, and clears it on exit. A reclaimer advances the
 * global epoch only when every active record shows the current epoch; memory retired in
 * epoch r is freed once the epoch reached r + 2, when no reader can still hold it.
 *
 * The store-load ordering between a reader's announcement and its loads of table
 * pointers is paid for by the reclaimer where Linux membarrier(PRIVATE_EXPEDITED) is
 * available (as liburcu's memb flavour does): the reader issues only a compiler barrier.
 * Otherwise (and under ThreadSanitizer, which does not model membarrier) the reader
 * issues a full fence.
 */
#include "tsmap_internal.h"
#include "fork.h"

#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/syscall.h>
#if __has_include(<linux/membarrier.h>)
#include <linux/membarrier.h>
#define TSMAP_HAVE_MEMBARRIER 1
#endif
#endif
#ifndef TSMAP_HAVE_MEMBARRIER
#define TSMAP_HAVE_MEMBARRIER 0
#endif

_Atomic uint64_t tsmap_global_epoch = 1;
/* Written only inside tsmap_ebr_once; a thread reads it only after passing that once
 * itself (its create, or the registration that gave it a record): ordered by the once. */
int tsmap_ebr_fence_mode = 1;
__thread tsmap_thread *tsmap_tls_self __attribute__((tls_model("initial-exec")));

static _Atomic(tsmap_thread *) g_threads;
static _Atomic unsigned g_thread_ids; /* a record's id, for per-thread metrics (M1) */
static pthread_key_t g_thread_key;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

/* Thread exit: the record goes back to the pool (the thread is quiescent by now). */
static void tsmap_thread_release(void *arg) {
  tsmap_thread *t = (tsmap_thread *)arg;
  atomic_store_explicit(&t->state, 0, memory_order_release);
  atomic_store_explicit(&t->in_use, 0, memory_order_release);
}

#if TSMAP_HAVE_MEMBARRIER
static int tsmap_membarrier(int cmd) { return (int)syscall(SYS_membarrier, cmd, 0, 0); }
#endif

/* G16, in the child of a fork (fork.c calls it first): only the forking thread is left.
 * The others' records still say what those threads were doing at the fork, a read-side
 * section an epoch advance would wait for for ever (a reshard's phase waits for one):
 * they are released, as their threads' exits would have. */
void tsmap_ebr_forked(void) {
  for (tsmap_thread *t = atomic_load(&g_threads); t != NULL; t = t->next)
    if (t != tsmap_tls_self)
      tsmap_thread_release(t);
}

static void tsmap_ebr_once(void) {
  tsmap_fork_init(); /* G16: the fork handlers, before any thread of ours exists */
  (void)pthread_key_create(&g_thread_key, tsmap_thread_release);
#if TSMAP_HAVE_MEMBARRIER && !TSMAP_TSAN
  if (getenv("TSMAP_NO_MEMBARRIER") == NULL) {
    int cmds = tsmap_membarrier(MEMBARRIER_CMD_QUERY);
    if (cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
        tsmap_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0)
      tsmap_ebr_fence_mode = 0;
  }
#endif
}

/* Decide the fence mode once, before any map exists (tsmap_create calls this). */
void tsmap_ebr_init(void) { pthread_once(&g_once, tsmap_ebr_once); }

/* ... and run that once when the library is loaded (before main, or in dlopen), not on
 * the first tsmap_create: a fork while another thread was inside the once left it in
 * progress in the child for ever under ThreadSanitizer's pthread_once (and musl's), so
 * the child's first create or first call hung; glibc restarts it in the child, and could
 * register the fork handlers twice. Black-box round 15: test_first_use.c's
 * fork_vs_first_create, whose forked children hung in 14 of 64 under TSan. */
__attribute__((constructor)) static void tsmap_ebr_at_load(void) { tsmap_ebr_init(); }

/* Test support (test_allocfail.c): while non-zero, a thread's registration fails as if
 * its record could not be allocated (even when a free one could be reused), so that
 * every call's first-call TSMAP_NO_MEMORY can be reached. */
TSMAP_HIDDEN _Atomic int tsmap_debug_fail_thread_records;
_Atomic int tsmap_debug_fail_thread_records;

/* Take a free record from the registry, or allocate and push a new one (NULL: out of
 * memory). Records come from posix_memalign, not from a map's allocator: one record
 * serves every map the thread calls, it is recycled when the thread exits and never
 * freed, so it outlives any one map and its allocator (tsmap.h, tsmap_allocator). */
tsmap_thread *tsmap_thread_register(void) {
  tsmap_ebr_init();
  if (TSMAP_UNLIKELY(atomic_load_explicit(&tsmap_debug_fail_thread_records,
                                          memory_order_relaxed)))
    return NULL;
  tsmap_thread *t;
  for (t = atomic_load(&g_threads); t != NULL; t = t->next) {
    int expect = 0;
    if (atomic_compare_exchange_strong(&t->in_use, &expect, 1))
      break;
  }
  if (t == NULL) {
    void *mem = NULL;
    if (posix_memalign(&mem, 64, sizeof(tsmap_thread)) != 0)
      return NULL;
    t = (tsmap_thread *)mem;
    memset(t, 0, sizeof *t);
    atomic_store(&t->in_use, 1);
    t->id = atomic_fetch_add(&g_thread_ids, 1);
    tsmap_thread *head = atomic_load(&g_threads);
    do
      t->next = head;
    while (!atomic_compare_exchange_weak(&g_threads, &head, t));
  }
  t->nest = 0;
  t->computing = NULL;
  t->waiting_for = NULL;
  (void)pthread_setspecific(g_thread_key, t);
  tsmap_tls_self = t;
  return t;
}

/* Make every reader's announcement visible to us, or make our later loads see
 * everything readers will do after their announcement (the fence the readers skip). */
static void tsmap_heavy_barrier(void) {
#if TSMAP_HAVE_MEMBARRIER
  if (!tsmap_ebr_fence_mode && tsmap_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0)
    return;
#endif
  atomic_thread_fence(memory_order_seq_cst);
}

/* Advance the global epoch if every active reader is in the current one. Returns 1 if
 * the epoch moved (by us or by a concurrent reclaimer). */
int tsmap_ebr_try_advance(void) {
  tsmap_heavy_barrier();
  uint64_t e = atomic_load(&tsmap_global_epoch);
  for (tsmap_thread *t = atomic_load(&g_threads); t != NULL; t = t->next) {
    uint64_t s = atomic_load_explicit(&t->state, memory_order_acquire);
    if ((s & 1u) && (s >> 1) != e)
      return 0;
  }
  uint64_t expect = e;
  atomic_compare_exchange_strong(&tsmap_global_epoch, &expect, e + 1);
  return 1;
}

/* Wait until everything retired before this call may be freed (two epoch advances).
 * Must not be called inside a read-side section. */
void tsmap_ebr_synchronize(void) {
  uint64_t target = atomic_load(&tsmap_global_epoch) + 2;
  while (atomic_load(&tsmap_global_epoch) < target) {
    if (!tsmap_ebr_try_advance()) {
      struct timespec ts = {0, 50000};
      nanosleep(&ts, NULL);
    }
  }
}
