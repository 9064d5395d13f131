/*
 * placement.h - NUMA placement of the shards' tables (G14): which node each shard gets,
 * and binding its tables there. The internal interface map.c calls; the topology it
 * decides from is topology.h's.
 *
 *   P1  A shard's node is decided once, at create, from the topology and the policy, and
 *       never changes: interleave gives shard i the (i mod k)-th of the k nodes that have
 *       CPUs (all online nodes if none has), local gives every shard the node of the CPU
 *       tsmap_create runs on. Which shard a key goes to does not depend on placement (or
 *       on who writes it): only where the shard's memory is.
 *   P2  Every table a placed shard maps (the first, growths' next tables, tables made
 *       from a spare mapping) is in a mapping bound to the shard's node with mbind
 *       (MPOL_PREFERRED) right after mmap, before any byte of it is touched, so its pages
 *       are faulted in on that node. A spare mapping only ever serves its own shard, so
 *       it keeps the binding.
 *   P3  A placed map takes every table from mmap, however small (heap memory cannot be
 *       bound without binding its neighbours); a user allocator's tables are not bound.
 *   P4  A refusal is never an error: the table is used as allocated, and the shard keeps
 *       the first refusal (what and errno) to report; `bound` reads 0 from then on.
 *   P5  A map with policy none has no placement state (m->place is NULL): it allocates
 *       and runs exactly as before (runtime.instr).
 */
#ifndef TSMAP_PLACEMENT_H
#define TSMAP_PLACEMENT_H

#include "topology.h"
#include "tsmap_internal.h"

/* TSMAP_INVALID_ARGUMENT for an unknown policy value. */
TSMAP_HIDDEN tsmap_status tsmap_place_check(const tsmap_config *c);

/* Decide the nodes of a map of `nshards` shards (P1): TSMAP_OK and m->place set, or
 * left NULL with policy none; TSMAP_NO_MEMORY; TSMAP_INVALID_ARGUMENT when the config's
 * numa_root cannot be read (without numa_root, an unreadable sysfs leaves the map
 * unplaced with the reason). Before the shards allocate their tables. */
TSMAP_HIDDEN tsmap_status tsmap_place_create(tsmap *m, size_t nshards);

/* A placed shard `s` mapped [p, p + len) for a table, untouched yet: bind it (P2, P4). */
TSMAP_HIDDEN void tsmap_place_bind(const tsmap *m, const tsmap_shard *s, void *p, size_t len);

/* A placed shard `s` took a table from the heap (its mmap failed): not bound (P4). */
TSMAP_HIDDEN void tsmap_place_heap(const tsmap *m, const tsmap_shard *s);

TSMAP_HIDDEN void tsmap_place_free(tsmap *m);

/* P1 for `nshards` shards on topology `t` (whose cpu_node is the creating CPU's node):
 * each shard's node into nodes[]. Returns 0, or -1 with why (local: the CPU `cpu` is in
 * no node's list). */
TSMAP_HIDDEN int tsmap_place_decide(tsmap_placement_policy policy, const tsmap_topology *t,
                                    int cpu, size_t nshards, int *nodes, char *why,
                                    size_t why_len);

/* Tests: non-zero makes every mbind fail with this errno, as a kernel that refuses it. */
extern TSMAP_HIDDEN _Atomic int tsmap_place_fail_errno;

#endif /* TSMAP_PLACEMENT_H */
