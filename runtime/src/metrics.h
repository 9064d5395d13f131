/*
 * metrics.h - what map.c and compute.c call to count and time operations (metrics.c) and
 * to fire USDT probes (probes.h). Everything here is one predictable branch on a per-map
 * pointer when metrics are off (the default); the fast paths of get and put do not even
 * pay that branch: they test `entry_fast` (fast8 and metrics off) where they tested
 * fast8, and a metered map takes the path below instead.
 *
 * M1  Counters are per thread and per map (a stripe, one per thread record, written only
 *     by its thread with relaxed load/store pairs): no shared cache line is written by an
 *     operation. Exposition sums the stripes. Threads beyond TSMAP_MX_STRIPES, or whose
 *     stripe could not be allocated, share one stripe updated with atomic adds.
 * M2  Operation counts are exact. Durations are timed on one operation in
 *     TSMAP_MX_SAMPLE per thread and kind; each sample stands for the operations since
 *     the previous one, so the histogram's count is exact and its buckets are estimates.
 * M3  An entry's insert time lives in its table's `birth` array (one 32-bit millisecond
 *     stamp per slot, allocated only with metrics on); it moves with the entry during a
 *     growth and is read when the entry leaves (lifespan, by reason).
 */
#ifndef TSMAP_METRICS_H
#define TSMAP_METRICS_H

#include "probes.h"
#include "tsmap_internal.h"

/* The operations that are counted and timed (the `op` label). */
typedef enum tsmap_op {
  TSMAP_OP_GET = 0,
  TSMAP_OP_PUT = 1,
  TSMAP_OP_PUT_IF_ABSENT = 2,
  TSMAP_OP_REMOVE = 3,
  TSMAP_OP_COMPUTE_IF_ABSENT = 4,
  TSMAP_OP_COMPUTE_IF_PRESENT = 5,
  TSMAP_OP_COMPUTE = 6,
  TSMAP_OP_COUNT = 7
} tsmap_op;

#define TSMAP_MX_SAMPLE 64 /* M2: one operation in 64 per thread and kind is timed */

struct tsmap_mx_stripe;

/* A metered operation in flight: the caller's stripe and, when this one is timed, its
 * start time (ns). */
typedef struct tsmap_mx_span {
  struct tsmap_mx_stripe *st;
  tsmap_op op;
  uint64_t t0;
} tsmap_mx_span;

/* Metrics of one map: the registry record (name) and, when on, the stripes. */
struct tsmap_metrics;

/* Is this map metered? (a named map with metrics off has a record but is not) */
TSMAP_HIDDEN int tsmap_mx_enabled(const tsmap *m);
TSMAP_INLINE int tsmap_mx_on(const tsmap *m) {
  return TSMAP_UNLIKELY(m != NULL && m->mx != NULL) && tsmap_mx_enabled(m);
}

/* Create (config name / metrics) and free a map's record; create registers a named map
 * for tsmap_metrics_write_all, destroy unregisters it. */
TSMAP_HIDDEN tsmap_status tsmap_mx_create(tsmap *m);
TSMAP_HIDDEN void tsmap_mx_destroy(tsmap *m);

TSMAP_HIDDEN void tsmap_mx_begin(tsmap *m, tsmap_op op, tsmap_mx_span *sp);
TSMAP_HIDDEN tsmap_status tsmap_mx_end(tsmap_mx_span *sp, tsmap_status st);

/* `st = call`, counted and timed when the map is metered (M1, M2). */
#define TSMAP_METERED(st, map, op, call)                                                   \
  do {                                                                                     \
    if (tsmap_mx_on(map)) {                                                                \
      tsmap_mx_span mx_span_;                                                              \
      tsmap_mx_begin((map), (op), &mx_span_);                                              \
      (st) = tsmap_mx_end(&mx_span_, (call));                                              \
    } else {                                                                               \
      (st) = (call);                                                                       \
    }                                                                                      \
  } while (0)

/* The body of a public operation that has no fast path of its own: probes at both ends,
 * `call` counted and timed when the map is metered, its status returned. */
#define TSMAP_OP_RUN(map, op, call)                                                        \
  do {                                                                                     \
    tsmap_status op_st_;                                                                   \
    TSMAP_PROBE2(op_start, (map), (int)(op));                                              \
    TSMAP_METERED(op_st_, (map), (op), (call));                                            \
    TSMAP_PROBE3(op_end, (map), (int)(op), (int)op_st_);                                   \
    return op_st_;                                                                         \
  } while (0)

/* Events inside operations (metered maps only; each is one branch when off). */
TSMAP_HIDDEN void tsmap_mx_count_retry(tsmap *m);
TSMAP_HIDDEN void tsmap_mx_count_wait(tsmap *m);
TSMAP_HIDDEN void tsmap_mx_count_discarded(tsmap *m);

/* M3: bytes of a table's birth array (0 when metrics are off), and where it starts. */
TSMAP_HIDDEN size_t tsmap_mx_birth_bytes(const tsmap *m, size_t ngroups);
TSMAP_INLINE uint32_t *tsmap_mx_birth_at(const tsmap_table *t, size_t g, unsigned slot) {
  return &t->birth[g * TSMAP_GROUP_SLOTS + slot];
}
/* A value entered the slot at `pos` (insert or overwrite; shard lock held). */
TSMAP_HIDDEN void tsmap_mx_born(const tsmap *m, const tsmap_pos *pos);
/* The value in slot `slot` of group `g` of `t` leaves the map for `why` (shard lock held,
 * or a detached table at close): counted, with its lifespan. */
TSMAP_HIDDEN void tsmap_mx_left(const tsmap *m, const tsmap_table *t, size_t g, unsigned slot,
                                tsmap_evict_reason why);

/* Site macros: a table's birth array exists only on a metered map. */
#define TSMAP_MX_BORN(m, pos)                                                              \
  do {                                                                                     \
    if (TSMAP_UNLIKELY((pos)->t->birth != NULL))                                           \
      tsmap_mx_born((m), (pos));                                                           \
  } while (0)
#define TSMAP_MX_LEFT(m, t, g, slot, why)                                                  \
  do {                                                                                     \
    if (TSMAP_UNLIKELY((t)->birth != NULL))                                                \
      tsmap_mx_left((m), (t), (g), (slot), (why));                                         \
  } while (0)

/* Unmetered entry points of get and put for metered maps (map.c): the same fast paths. */
TSMAP_HIDDEN tsmap_status tsmap_get_unmetered(tsmap *map, const void *key, size_t key_len,
                                              void *value_out);
TSMAP_HIDDEN tsmap_status tsmap_store_unmetered(tsmap *map, const void *key, size_t key_len,
                                                const void *value, void *old_out, int replace);

#endif /* TSMAP_METRICS_H */
