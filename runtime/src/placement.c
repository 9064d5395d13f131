/*
 * placement.c - NUMA placement of the shards' tables (G14; P1-P5 in placement.h): the
 * policy's decision, mbind of each table's mapping, the per-shard record of what took
 * effect, and tsmap_placement / tsmap_numa_node_count.
 *
 * Binding is a raw mbind(2) system call, not libnuma: the map needs one call with one
 * node in the mask, and a library dependency (libnuma1 at run time, libnuma-dev to build)
 * would buy nothing else. The mode is MPOL_PREFERRED: pages go to the shard's node while
 * it has free memory and to another node after, where MPOL_BIND would have the page fault
 * of a full node end in the OOM killer, not in a status (G1).
 */
#include "placement.h"
#include "reshard.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#if defined(__linux__)
#include <linux/mempolicy.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

_Atomic int tsmap_place_fail_errno;

/* What a shard's tables got (P4): the low byte, with an errno above it. */
enum {
  TSMAP_PS_BOUND = 1,    /* every table bound so far */
  TSMAP_PS_NONE,         /* no node: the topology could not be read or decided from */
  TSMAP_PS_REFUSED,      /* mbind failed with the errno above */
  TSMAP_PS_HEAP,         /* a table came from the heap (mmap failed) */
  TSMAP_PS_ALLOCATOR,    /* the config's allocator supplies the tables */
  TSMAP_PS_UNSUPPORTED   /* no mbind on this system */
};

struct tsmap_place {
  size_t nshards;
  size_t node_count;         /* online nodes of the topology; 0 if it was not read */
  char why[320];             /* TSMAP_PS_NONE: why no shard has a node */
  _Atomic int *state;        /* per shard: TSMAP_PS_* | errno << 8; shard lock or create */
  int node[];                /* per shard: its node, -1 for none (P1) */
};

/* ======================================================================================
 * Deciding (P1)
 * ====================================================================================== */

tsmap_status tsmap_place_check(const tsmap_config *c) {
  switch (c->placement) {
  case TSMAP_PLACE_NONE:
  case TSMAP_PLACE_INTERLEAVE:
  case TSMAP_PLACE_LOCAL:
    return TSMAP_OK;
  }
  return TSMAP_INVALID_ARGUMENT;
}

int tsmap_place_decide(tsmap_placement_policy policy, const tsmap_topology *t, int cpu,
                       size_t nshards, int *nodes, char *why, size_t why_len) {
  if (policy == TSMAP_PLACE_LOCAL && t->cpu_node < 0) {
    snprintf(why, why_len, "local placement: CPU %d is in no node's cpulist", cpu);
    return -1;
  }
  unsigned cand[TSMAP_TOPO_MAX_NODES], k = 0;
  for (unsigned i = 0; i < t->nnodes; i++)
    if (t->has_cpu[i])
      cand[k++] = t->node[i];
  for (unsigned i = 0; k == 0 && i < t->nnodes; i++) /* no node lists a CPU: all of them */
    cand[i] = t->node[i];
  if (k == 0)
    k = t->nnodes;
  for (size_t i = 0; i < nshards; i++)
    nodes[i] = policy == TSMAP_PLACE_LOCAL ? t->cpu_node : (int)cand[i % k];
  return 0;
}

/* The CPU the calling thread runs on, -1 if unknown. */
static int tsmap_place_cpu(void) {
#if defined(__linux__)
  return sched_getcpu();
#else
  return -1;
#endif
}

/* Read the topology and decide every shard's node into pl (P1). Returns TSMAP_PS_BOUND
 * or TSMAP_PS_NONE (pl->why says why); -1 for a numa_root that cannot be read; -2 when
 * out of memory. */
static int tsmap_place_nodes(const tsmap *m, struct tsmap_place *pl) {
  tsmap_topology *t = (tsmap_topology *)tsmap_mem_alloc(m, sizeof *t);
  int cpu = m->cfg.placement == TSMAP_PLACE_LOCAL ? tsmap_place_cpu() : -1, code;
  if (!t)
    return -2;
  if (tsmap_topology_read(m->cfg.numa_root, cpu, t, pl->why, sizeof pl->why) != 0) {
    code = m->cfg.numa_root ? -1 : TSMAP_PS_NONE;
  } else {
    pl->node_count = t->nnodes;
    code = tsmap_place_decide(m->cfg.placement, t, cpu, pl->nshards, pl->node, pl->why,
                              sizeof pl->why) == 0
               ? TSMAP_PS_BOUND
               : TSMAP_PS_NONE;
  }
  tsmap_mem_free(m, t, sizeof *t);
  return code;
}

tsmap_status tsmap_place_create(tsmap *m, size_t nshards) {
  if (m->cfg.placement == TSMAP_PLACE_NONE)
    return TSMAP_OK; /* P5 */
  size_t bytes = sizeof(struct tsmap_place) + nshards * (sizeof(int) + sizeof(_Atomic int));
  struct tsmap_place *pl = (struct tsmap_place *)tsmap_mem_zalloc(m, bytes);
  if (!pl)
    return TSMAP_NO_MEMORY;
  m->place = pl;
  pl->nshards = nshards;
  pl->state = (_Atomic int *)(void *)(pl->node + nshards);
  for (size_t i = 0; i < nshards; i++)
    pl->node[i] = -1;
  int code = tsmap_place_nodes(m, pl);
  if (code < 0) /* tsmap_create frees pl */
    return code == -1 ? TSMAP_INVALID_ARGUMENT : TSMAP_NO_MEMORY;
#if !defined(__linux__)
  if (code == TSMAP_PS_BOUND)
    code = TSMAP_PS_UNSUPPORTED;
#endif
  if (code == TSMAP_PS_BOUND && m->alloc.alloc)
    code = TSMAP_PS_ALLOCATOR; /* P3: the nodes are still reported */
  for (size_t i = 0; i < nshards; i++)
    atomic_init(&pl->state[i], code);
  return TSMAP_OK;
}

void tsmap_place_free(tsmap *m) {
  struct tsmap_place *pl = m->place;
  if (!pl)
    return;
  tsmap_mem_free(m, pl, sizeof *pl + pl->nshards * (sizeof(int) + sizeof(_Atomic int)));
  m->place = NULL;
}

/* ======================================================================================
 * Binding (P2, P4)
 * ====================================================================================== */

/* mbind [p, p + len) to `node`, preferred. Returns 0 or the errno of the refusal. */
static int tsmap_place_mbind(void *p, size_t len, int node) {
  int forced = atomic_load_explicit(&tsmap_place_fail_errno, memory_order_relaxed);
  if (forced)
    return forced;
#if defined(__linux__) && defined(SYS_mbind)
  enum { bits = 8 * sizeof(unsigned long) };
  unsigned long mask[TSMAP_TOPO_MAX_NODES / bits] = {0};
  mask[(unsigned)node / bits] = 1ul << ((unsigned)node % bits);
  /* maxnode counts one more than the mask's bits: the kernel drops the last one */
  if (syscall(SYS_mbind, p, len, MPOL_PREFERRED, mask, TSMAP_TOPO_MAX_NODES + 1, 0) == 0)
    return 0;
  return errno ? errno : EINVAL;
#else
  (void)p, (void)len, (void)node;
  return ENOSYS;
#endif
}

/* Record that shard i's latest table is not bound (P4): the first such fact sticks. */
static void tsmap_place_note(struct tsmap_place *pl, size_t i, int code, int err) {
  if (atomic_load_explicit(&pl->state[i], memory_order_relaxed) == TSMAP_PS_BOUND)
    atomic_store_explicit(&pl->state[i], code | err << 8, memory_order_relaxed);
}

void tsmap_place_bind(const tsmap *m, const tsmap_shard *s, void *p, size_t len) {
  struct tsmap_place *pl = m->place;
  size_t i = (size_t)(s - m->shards);
  if (atomic_load_explicit(&pl->state[i], memory_order_relaxed) != TSMAP_PS_BOUND)
    return; /* no node, or refused once already: do not ask again per table */
  int err = tsmap_place_mbind(p, len, pl->node[i]);
  if (err)
    tsmap_place_note(pl, i, TSMAP_PS_REFUSED, err);
}

void tsmap_place_heap(const tsmap *m, const tsmap_shard *s) {
  tsmap_place_note(m->place, (size_t)(s - m->shards), TSMAP_PS_HEAP, 0);
}

/* ======================================================================================
 * Reporting
 * ====================================================================================== */

/* Why state `st` of a placed shard is not bound, in words. */
static const char *tsmap_place_reason(const struct tsmap_place *pl, int st) {
  switch (st & 0xff) {
  case TSMAP_PS_BOUND:
    return "";
  case TSMAP_PS_NONE:
    return pl->why;
  case TSMAP_PS_HEAP:
    return "a table came from the heap (mmap failed: out of mappings?) and is not bound";
  case TSMAP_PS_ALLOCATOR:
    return "the config's allocator supplies the tables: not bound";
  case TSMAP_PS_UNSUPPORTED:
    return "no mbind on this system: tables allocated plainly";
  }
  switch (st >> 8) {
  case EPERM:
    return "mbind refused with EPERM (not permitted: a container's seccomp profile may "
           "deny it): tables allocated plainly";
  case ENOSYS:
    return "mbind is not available (ENOSYS: a kernel without NUMA, or filtered): tables "
           "allocated plainly";
  case EINVAL:
    return "mbind refused the node with EINVAL (the kernel has no such node: a topology "
           "that describes another machine?): tables allocated plainly";
  default:
    return "mbind failed (error says how): tables allocated plainly";
  }
}

tsmap_status tsmap_placement(tsmap *map, size_t shard, tsmap_shard_placement *out) {
  if (!map || !out)
    return TSMAP_INVALID_ARGUMENT;
  const struct tsmap_place *pl = map->place;
  memset(out, 0, sizeof *out);
  out->node = -1;
  out->shard_count = tsmap_shard_count(map);
  out->reason = "placement policy none: memory lands on the node that first touches it";
  /* the shards of the routing, and those a phase is filling or emptying (G15); not those
   * a finished reshard down left empty (hw still counts them) */
  if (shard >= tsmap_reshard_span(map) || (pl && shard >= pl->nshards))
    return TSMAP_INVALID_ARGUMENT;
  if (tsmap_is_closed(map))
    return TSMAP_CLOSED;
  if (!pl)
    return TSMAP_OK;
  int st = atomic_load_explicit(&pl->state[shard], memory_order_relaxed);
  out->node = pl->node[shard];
  out->node_count = pl->node_count;
  out->bound = st == TSMAP_PS_BOUND;
  out->error = st >> 8;
  out->reason = tsmap_place_reason(pl, st);
  return TSMAP_OK;
}

tsmap_status tsmap_numa_node_count(const char *numa_root, size_t *count_out) {
  if (!count_out)
    return TSMAP_INVALID_ARGUMENT;
  tsmap_topology *t = (tsmap_topology *)malloc(sizeof *t);
  if (!t)
    return TSMAP_NO_MEMORY;
  char why[8];
  int rc = tsmap_topology_read(numa_root, -1, t, why, sizeof why);
  *count_out = rc == 0 ? t->nnodes : 0;
  free(t);
  return rc == 0 ? TSMAP_OK : TSMAP_INVALID_ARGUMENT;
}

/* ======================================================================================
 * For tests
 * ====================================================================================== */

/* Shard i's tables and mappings (cur, old, the prepared next table, spare mappings) into
 * out[cap]; returns how many. Takes the shard lock. */
TSMAP_HIDDEN size_t tsmap_debug_place_tables(tsmap *m, size_t i, const void **out, size_t cap);
size_t tsmap_debug_place_tables(tsmap *m, size_t i, const void **out, size_t cap) {
  tsmap_shard *s = &m->shards[i];
  size_t n = 0;
  tsmap_lock_acquire(&s->lock);
  tsmap_table *cur = atomic_load(&s->cur), *old = atomic_load(&s->old);
  const void *t[3 + TSMAP_SPARES] = {cur ? cur->mem : NULL, old ? old->mem : NULL,
                                     s->next ? s->next->mem : NULL};
  for (unsigned k = 0; k < s->nspare; k++)
    t[3 + k] = s->spare[k].p;
  for (size_t k = 0; k < 3 + TSMAP_SPARES; k++)
    if (t[k] && n < cap)
      out[n++] = t[k];
  tsmap_lock_release(&s->lock);
  return n;
}
