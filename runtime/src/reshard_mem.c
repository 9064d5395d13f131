/*
 * reshard_mem.c - the reshard's helper thread (G15, R10 in reshard.h): it maps and faults
 * in each phase's destination tables (R7) and gives back a halving's emptied sources'
 * pages (R8) once the phase is over, the page faults and madvise calls that writers did
 * inside their puts.
 *
 * Ownership, not sharing: a table the helper prepares is its own until it hands it over
 * (a release store of the pointer, then of the phase id, per destination), and from then
 * on the writers'; no table is ever faulted in by both. A halving's emptied sources are
 * given back by the helper alone, after the phase: nothing writes to them then, and a
 * later phase moves no entry before the helper answered for it, which it does only after
 * the give-backs (one thread, in order). The helper takes a shard's lock only to read what
 * it needs (a destination's size, a source's table), never across a system call or a
 * fault. Close stops and joins it before it detaches a table.
 */
#include "reshard_mem.h"

#include "fork.h"

#include <sched.h>
#include <stddef.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* Bytes the helper faults in a call: it looks for a stop between two. */
#define TSMAP_RSMEM_CHUNK ((size_t)256 << 10)
/* Bytes it gives back a call: each call's TLB flush interrupts every CPU running the
 * process, the writers' included (G's halving took ~650 more interrupts, one a 256 KiB
 * chunk, than with the writers giving back), so a whole table at once up to this. */
#define TSMAP_RSMEM_DROP_CHUNK ((size_t)64 << 20)

#if defined(__linux__) && defined(CPU_SETSIZE)
typedef cpu_set_t tsmap_cpus;
#else
typedef struct { int none; } tsmap_cpus; /* affinity unknown: the thread stays as made */
#endif

/* A destination's answer in a phase: the table, then the phase's id (release both). */
typedef struct tsmap_rsmem_slot {
  _Atomic(tsmap_table *) ready;  /* its table, faulted in (or NULL) */
  _Atomic uint64_t ready_phase;  /* the phase `ready` answers */
} tsmap_rsmem_slot;

struct tsmap_rsmem {
  tsmap *m;
  pthread_mutex_t mu;
  pthread_cond_t cv;  /* a phase assigned, the reshard over, or stop */
  pthread_t thread;   /* mu */
  int running;        /* mu: the thread has not left its loop */
  int joinable;       /* mu: a thread was started and not joined */
  int idle;           /* mu: no phase will follow the one assigned */
  uint64_t assigned;  /* mu: the phase the helper takes on next (or took on) */
  size_t from, to;    /* mu: that phase's shard counts */
  _Atomic int stop;   /* close: leave at once */
  int has_cpus;       /* mu (before the thread starts): cpus is known */
  tsmap_cpus cpus;    /* the CPUs it runs on (tsmap_rsmem_cpus) */
  _Atomic uint64_t helped; /* the phase whose memory work is the helper's (writers read it) */
  _Atomic uint64_t prepared; /* the last phase whose every destination it answered for */
  _Atomic size_t tables, sources; /* test support */
  _Atomic size_t ready_bytes;     /* of the tables answered and not taken (tsmap_table_bytes) */
  tsmap_fork_watch fork;          /* G16: in a child of fork, the thread is not there */
  tsmap_rsmem_slot slot[];        /* shard_cap */
};

/* For test_reshard.c: non-zero makes the helper's start fail as pthread_create can, or
 * its mappings fail as mmap can. */
TSMAP_HIDDEN _Atomic int tsmap_test_rsmem_no_thread, tsmap_test_rsmem_no_mapping;
_Atomic int tsmap_test_rsmem_no_thread, tsmap_test_rsmem_no_mapping;

static size_t tsmap_rsmem_bytes(const tsmap *m) {
  return sizeof(tsmap_rsmem) + m->shard_cap * sizeof(tsmap_rsmem_slot);
}

/* G16, in the child of a fork: the helper thread was not copied. Whatever it held of mu
 * stays held, and it answers for no phase: the writers do the running phase's memory
 * work from now on (as when no thread starts), a later reshard may start a new thread.
 * What it was preparing when the fork came is not the child's to free (its mapping
 * stays, untouched). */
static void tsmap_rsmem_forked(tsmap_fork_watch *w) {
  tsmap_rsmem *h = (tsmap_rsmem *)(void *)((char *)w - offsetof(tsmap_rsmem, fork));
  pthread_mutex_init(&h->mu, NULL);
  pthread_cond_init(&h->cv, NULL);
  h->running = h->joinable = 0;
  atomic_store(&h->helped, 0);
}

tsmap_rsmem *tsmap_rsmem_new(tsmap *m) {
  tsmap_rsmem *h = (tsmap_rsmem *)tsmap_mem_zalloc(m, tsmap_rsmem_bytes(m));
  if (!h)
    return NULL;
  if (pthread_mutex_init(&h->mu, NULL) != 0) {
    tsmap_mem_free(m, h, tsmap_rsmem_bytes(m));
    return NULL;
  }
  if (pthread_cond_init(&h->cv, NULL) != 0) {
    pthread_mutex_destroy(&h->mu);
    tsmap_mem_free(m, h, tsmap_rsmem_bytes(m));
    return NULL;
  }
  h->m = m;
  h->fork.child = tsmap_rsmem_forked;
  if (!tsmap_fork_watch_add(&h->fork)) { /* a child could wait for a thread it has not */
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    tsmap_mem_free(m, h, tsmap_rsmem_bytes(m));
    return NULL;
  }
  return h;
}

/* ---- The thread ------------------------------------------------------------------------- */

/* Still the helper of `phase`, and not stopped? (Between two chunks of work.) */
static int tsmap_rsmem_going(const tsmap_rsmem *h, uint64_t phase) {
  return !atomic_load_explicit(&h->stop, memory_order_acquire) && !tsmap_is_closed(h->m) &&
         atomic_load_explicit(&h->helped, memory_order_relaxed) == phase;
}

/* The CPUs the helper runs on. It would inherit the affinity of the thread that started
 * the phase: pinned to one CPU, it would compete with exactly that thread. So every CPU
 * but a pinned caller's (it keeps those for its own work: in bench G a helper allowed on
 * the writer's CPU was woken there, by the writer ending a phase, and took it for a
 * scheduler tick, 4 ms, once a doubling), or every CPU when the caller may run on all.
 * 0 where affinity is not known. */
static int tsmap_rsmem_cpus(tsmap_cpus *set) {
#if defined(__linux__) && defined(CPU_SETSIZE)
  cpu_set_t mine;
  long n = sysconf(_SC_NPROCESSORS_CONF);
  if (sched_getaffinity(0, sizeof mine, &mine) != 0)
    return 0;
  CPU_ZERO(set);
  for (long i = 0; i < n && i < CPU_SETSIZE; i++)
    if (!CPU_ISSET((size_t)i, &mine))
      CPU_SET((size_t)i, set);
  if (CPU_COUNT(set) == 0) /* the caller may run anywhere: so may the helper */
    for (long i = 0; i < n && i < CPU_SETSIZE; i++)
      CPU_SET((size_t)i, set);
  return 1;
#else
  (void)set;
  return 0;
#endif
}

/* In the thread: where the attribute could not place it (see tsmap_rsmem_spawn), the
 * same CPUs now, or every CPU if those are refused (a cpuset may allow none of them). */
static void tsmap_rsmem_place(tsmap_rsmem *h) {
#if defined(__linux__) && defined(CPU_SETSIZE)
  if (!h->has_cpus || sched_setaffinity(0, sizeof h->cpus, &h->cpus) == 0)
    return;
  cpu_set_t all;
  CPU_ZERO(&all);
  long n = sysconf(_SC_NPROCESSORS_CONF);
  for (long i = 0; i < n && i < CPU_SETSIZE; i++)
    CPU_SET((size_t)i, &all);
  (void)sched_setaffinity(0, sizeof all, &all); /* the kernel keeps the allowed ones */
#else
  (void)h;
#endif
}

/* The helper's shard locks, each inside the fork's hold (G16): no child of a fork
 * inherits a shard lock held by a thread it does not have. */
static void tsmap_rsmem_lock(tsmap_shard *s) {
  tsmap_fork_hold();
  tsmap_lock_acquire(&s->lock);
}
static void tsmap_rsmem_unlock(tsmap_shard *s) {
  tsmap_lock_release(&s->lock);
  tsmap_fork_release();
}

/* Fault in all of a table nobody else has yet. 0 if stopped first. */
static int tsmap_rsmem_fault_in(const tsmap_rsmem *h, uint64_t phase, tsmap_table *t) {
  while (t->map_len && t->populated < t->bytes) {
    if (!tsmap_rsmem_going(h, phase))
      return 0;
    tsmap_table_populate(t, TSMAP_RSMEM_CHUNK);
  }
  return 1;
}

/* R7 for pair (si -> di): the destination's table, sized as tsmap_shard_presize sizes it,
 * mapped and faulted in with no lock held, then handed over. An answer of NULL (room
 * already, a mapping refused) leaves the table to the writers, as without a helper. */
static void tsmap_rsmem_prepare(tsmap_rsmem *h, uint64_t phase, size_t si, size_t di,
                                int doubling) {
  tsmap *m = h->m;
  tsmap_shard *d = &m->shards[di];
  size_t live = atomic_load_explicit(&m->shards[si].count, memory_order_relaxed);
  tsmap_rsmem_lock(d); /* its table and count, read as a writer reads them */
  size_t ng = tsmap_shard_presize_groups(d, doubling ? live / 2 : live);
  tsmap_rsmem_unlock(d);
  int refused = atomic_load_explicit(&tsmap_test_rsmem_no_mapping, memory_order_relaxed);
  tsmap_table *t = ng && !refused ? tsmap_table_new_mapped(m, d, ng) : NULL;
  if (t && !tsmap_rsmem_fault_in(h, phase, t)) {
    tsmap_table_free(m, t); /* closing: nobody waits for the answer */
    return;
  }
  if (t) /* counted before a writer can take it and count it down */
    atomic_fetch_add_explicit(&h->ready_bytes, t->bytes, memory_order_relaxed);
  atomic_store_explicit(&h->slot[di].ready, t, memory_order_release);
  atomic_store_explicit(&h->slot[di].ready_phase, phase, memory_order_release);
  if (t)
    atomic_fetch_add_explicit(&h->tables, 1, memory_order_relaxed);
}

/* R8 for a halving's source si, once its phase is over: give its emptied table's pages
 * back with no lock held, then, under the lock, count its slots free again. Nothing
 * writes to the table meanwhile: a halving's source receives no entry in its phase, and
 * none after it before a later phase's MIGRATING, which waits for this thread (R10). */
static void tsmap_rsmem_give_back(tsmap_rsmem *h, size_t si) {
  tsmap_shard *s = &h->m->shards[si];
  unsigned char *mem = NULL;
  tsmap_rsmem_lock(s);
  size_t len = tsmap_shard_drop_span(s, &mem);
  tsmap_rsmem_unlock(s);
  int ok = len != 0;
  for (size_t off = 0; off < len; off += TSMAP_RSMEM_DROP_CHUNK) {
    if (atomic_load_explicit(&h->stop, memory_order_acquire) || tsmap_is_closed(h->m))
      return;
    size_t n = len - off < TSMAP_RSMEM_DROP_CHUNK ? len - off : TSMAP_RSMEM_DROP_CHUNK;
    ok &= tsmap_mem_drop_range(mem + off, n);
  }
  if (!ok)
    return; /* some pages stay: so do its DELETED slots, which growth_left leaves out */
  tsmap_rsmem_lock(s);
  if (tsmap_shard_drop_span(s, &mem) == len)
    tsmap_shard_drop_finish(s);
  tsmap_rsmem_unlock(s);
  atomic_fetch_add_explicit(&h->sources, 1, memory_order_relaxed);
}

/* A phase's preparation: every destination's table, in pair order, during the phase's
 * grace period (it becomes MIGRATING only once all are answered: no entry moves into a
 * destination before). */
static void tsmap_rsmem_prepare_all(tsmap_rsmem *h, uint64_t phase, size_t from, size_t to) {
  size_t n = from < to ? from : to;
  for (size_t i = 0; i < n && tsmap_rsmem_going(h, phase); i++)
    tsmap_rsmem_prepare(h, phase, from < to ? i : i + n, from < to ? i + n : i, from < to);
  if (tsmap_rsmem_going(h, phase)) /* after the answers: entries may move (R10) */
    atomic_store_explicit(&h->prepared, phase, memory_order_release);
}

/* After a halving from `from` shards: its sources' pages, before anything else. */
static void tsmap_rsmem_give_backs(tsmap_rsmem *h, size_t from, size_t to) {
  for (size_t i = to; from > to && i < from; i++)
    tsmap_rsmem_give_back(h, i);
}

/* Prepare each phase assigned; once it is over (the next assigned, or the reshard idle),
 * give back a halving's sources, so no write waits for that and nothing polls. */
static void *tsmap_rsmem_main(void *arg) {
  tsmap_rsmem *h = (tsmap_rsmem *)arg;
  uint64_t done = 0;
  size_t from = 0, to = 0;
  tsmap_rsmem_place(h);
#if defined(__linux__) && defined(__GLIBC__)
  pthread_setname_np(pthread_self(), "tsmap-reshard"); /* in top -H, perf, gdb */
#endif
  pthread_mutex_lock(&h->mu);
  for (;;) {
    while (!atomic_load(&h->stop) && h->assigned == done && !h->idle)
      pthread_cond_wait(&h->cv, &h->mu);
    if (atomic_load(&h->stop))
      break;
    pthread_mutex_unlock(&h->mu);
    tsmap_rsmem_give_backs(h, from, to); /* the phase `done`, over now */
    pthread_mutex_lock(&h->mu);
    from = to = 0;
    if (h->assigned == done)
      break; /* the reshard is over */
    uint64_t phase = h->assigned;
    from = h->from;
    to = h->to;
    pthread_mutex_unlock(&h->mu);
    tsmap_rsmem_prepare_all(h, phase, from, to);
    pthread_mutex_lock(&h->mu);
    done = phase;
  }
  h->running = 0; /* a later reshard starts another (after joining this one) */
  pthread_mutex_unlock(&h->mu);
  return NULL;
}

/* h->mu held: start the thread with every signal blocked (the program's handlers are
 * for its own threads), placed on its CPUs from its first instruction where the
 * attribute can say so. 0 if it could not be started. */
static int tsmap_rsmem_spawn(tsmap_rsmem *h) {
  if (atomic_load_explicit(&tsmap_test_rsmem_no_thread, memory_order_relaxed))
    return 0;
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  h->has_cpus = tsmap_rsmem_cpus(&h->cpus);
  int ok = 0;
#if defined(__linux__) && defined(__GLIBC__)
  pthread_attr_t attr;
  if (h->has_cpus && pthread_attr_init(&attr) == 0) {
    ok = pthread_attr_setaffinity_np(&attr, sizeof h->cpus, &h->cpus) == 0 &&
         pthread_create(&h->thread, &attr, tsmap_rsmem_main, h) == 0;
    pthread_attr_destroy(&attr);
  }
#endif
  if (!ok) /* no attribute, or CPUs it refused: the thread places itself */
    ok = pthread_create(&h->thread, NULL, tsmap_rsmem_main, h) == 0;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return ok;
}

/* ---- reshard.c's side ------------------------------------------------------------------ */

/* The tables handed over and never taken (a writer's exchange may win the race): freed
 * when the helper has stopped, and before a new one starts. */
static void tsmap_rsmem_free_answers(tsmap *m, tsmap_rsmem *h) {
  for (size_t i = 0; i < m->shard_cap; i++) {
    tsmap_table *t = atomic_exchange(&h->slot[i].ready, NULL);
    if (t) {
      atomic_fetch_sub_explicit(&h->ready_bytes, t->bytes, memory_order_relaxed);
      tsmap_table_free(m, t);
    }
  }
}

void tsmap_rsmem_phase(tsmap *m, tsmap_rsmem *h, uint64_t phase, size_t from, size_t to,
                       int may_start) {
  pthread_mutex_lock(&h->mu);
  int start = !h->running && may_start && !atomic_load(&h->stop) && !tsmap_is_closed(m);
  if (start && h->joinable) { /* the last reshard's, gone: it never takes mu again */
    pthread_join(h->thread, NULL);
    h->joinable = 0;
  }
  if (start) /* tables answered for a phase no writer took from them: a child of fork's */
    tsmap_rsmem_free_answers(m, h);
  if (h->running || start) {
    h->assigned = phase;
    h->from = from;
    h->to = to;
    h->idle = 0;
    atomic_store(&h->helped, phase); /* before the caller publishes the phase's route */
    if (start && tsmap_rsmem_spawn(h))
      h->running = h->joinable = 1;
    else if (start)
      atomic_store(&h->helped, 0); /* the writers do it all */
    pthread_cond_signal(&h->cv);
  } else {
    atomic_store(&h->helped, 0);
  }
  pthread_mutex_unlock(&h->mu);
}

void tsmap_rsmem_idle(tsmap_rsmem *h) {
  pthread_mutex_lock(&h->mu);
  h->idle = 1;
  atomic_store(&h->helped, 0);
  pthread_cond_signal(&h->cv);
  pthread_mutex_unlock(&h->mu);
}

void tsmap_rsmem_stop(tsmap *m, tsmap_rsmem *h) {
  if (!h)
    return;
  pthread_mutex_lock(&h->mu);
  atomic_store(&h->stop, 1);
  pthread_cond_signal(&h->cv);
  int join = h->joinable;
  h->joinable = 0;
  pthread_mutex_unlock(&h->mu);
  if (join)
    pthread_join(h->thread, NULL);
  tsmap_rsmem_free_answers(m, h);
}

void tsmap_rsmem_free(tsmap *m, tsmap_rsmem *h) {
  if (!h)
    return;
  tsmap_rsmem_stop(m, h); /* joined already by close; frees what is left */
  tsmap_fork_watch_remove(&h->fork);
  pthread_cond_destroy(&h->cv);
  pthread_mutex_destroy(&h->mu);
  tsmap_mem_free(m, h, tsmap_rsmem_bytes(m));
}

/* ---- The writers' side (a pair's locks held) ------------------------------------------- */

int tsmap_rsmem_helps(const tsmap_rsmem *h, uint64_t phase) {
  return atomic_load_explicit(&h->helped, memory_order_acquire) == phase;
}

int tsmap_rsmem_prepared(const tsmap_rsmem *h, uint64_t phase) {
  return atomic_load_explicit(&h->helped, memory_order_acquire) != phase ||
         atomic_load_explicit(&h->prepared, memory_order_acquire) == phase;
}

int tsmap_rsmem_take_table(tsmap_rsmem *h, size_t di, uint64_t phase, tsmap_table **t) {
  if (atomic_load_explicit(&h->slot[di].ready_phase, memory_order_acquire) != phase)
    return 0;
  *t = atomic_exchange_explicit(&h->slot[di].ready, NULL, memory_order_acq_rel);
  if (*t) /* the taker's shard counts it from now on (its rs_next, under its lock) */
    atomic_fetch_sub_explicit(&h->ready_bytes, (*t)->bytes, memory_order_relaxed);
  return 1;
}

size_t tsmap_rsmem_ready_bytes(const tsmap_rsmem *h) {
  return h ? atomic_load_explicit(&h->ready_bytes, memory_order_relaxed) : 0;
}

void tsmap_rsmem_counts(tsmap_rsmem *h, size_t *tables, size_t *sources, int *running) {
  *tables = h ? atomic_load(&h->tables) : 0;
  *sources = h ? atomic_load(&h->sources) : 0;
  *running = 0;
  if (h) {
    pthread_mutex_lock(&h->mu);
    *running = h->running;
    pthread_mutex_unlock(&h->mu);
  }
}
