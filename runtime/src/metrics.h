/*
 * metrics.h - what map.c and compute.c call to count and time operations (metrics.c) and
 * to fire USDT probes (probes.h). Everything here is one predictable branch on a per-map
 * pointer when metrics are off (the default); the fast paths of get and put do not even
 * pay that branch: each map's 8-byte get and put are chosen at create (map.c,
 * tsmap_entries_choose), and a metered map gets the metered ones below instead.
 *
 * M1  Counters are per thread and per map (a stripe, one per thread record, written only
 *     by its thread with relaxed load/store pairs): no shared cache line is written by an
 *     operation. Exposition sums the stripes. Threads beyond TSMAP_MX_STRIPES, or whose
 *     stripe could not be allocated, share one stripe updated with atomic adds. A thread's
 *     record caches its private stripe of the last metered map it called (mx_id, mx_st).
 * M2  Operation counts are exact. Durations are timed on about one operation in
 *     TSMAP_MX_SAMPLE per thread and kind: the full metered path counts down per kind;
 *     the 8/8 fast paths, which keep no countdown, count each status with one add whose
 *     carry out of the counter's top byte (every TSMAP_MX_SAMPLE-th of that status)
 *     sends the thread's next call on the map to the full path, timed (TSMAP_MX_TICK).
 *     Each sample stands for the operations of its kind since the previous one, so the
 *     histogram's count is exact and its buckets are estimates; operations since a
 *     thread's last sample are in the +Inf bucket only until the next one, so that no
 *     bucket (a counter) ever goes backwards.
 * M3  An entry's insert time lives in its table's `birth` array (one 32-bit millisecond
 *     stamp per slot, allocated only with metrics on); it moves with the entry during a
 *     growth and is read when the entry leaves (lifespan, by reason). Only tracked keys
 *     (1 in 128, by hash: tsmap_mx_tracked) are stamped and measured; every departure is
 *     counted.
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
  TSMAP_OP_MAINTAIN = 7, /* tsmap_maintain (and the maintenance thread's calls of it) */
  TSMAP_OP_GET_VERSION = 8, /* G12, G13, G15: the calls of versioned, replicated and */
  TSMAP_OP_PUT_IF_VERSION = 9, /* resharded maps, each under its own name */
  TSMAP_OP_REMOVE_IF_VERSION = 10,
  TSMAP_OP_COMPUTE_IF_VERSION = 11,
  TSMAP_OP_FOREACH_SINCE = 12,
  TSMAP_OP_EXPORT = 13,
  TSMAP_OP_MERGE = 14,
  TSMAP_OP_FORGET = 15,
  TSMAP_OP_RESHARD = 16,
  TSMAP_OP_COUNT = 17
} tsmap_op;

#define TSMAP_MX_SAMPLE 256 /* M2: about one operation in 256 per thread and kind is timed */
#define TSMAP_MX_SAMPLE_TEXT "256" /* the same, for the HELP text */
_Static_assert(TSMAP_MX_SAMPLE <= 32767, "countdowns are int16_t");
#define TSMAP_MX_STRIPES 1024 /* threads with a stripe of their own (M1) */
/* Statuses counted: a power of two above the last one (TSMAP_REMOVED, 10), so that a
 * status added at the end of the enum is counted under its own name, and the fast path
 * indexes with a mask instead of a compare. */
#define TSMAP_MX_STATUSES 16
_Static_assert((int)TSMAP_CONFLICT < TSMAP_MX_STATUSES, "TSMAP_MX_STATUSES too small");
#define TSMAP_MX_REASONS ((int)TSMAP_EVICT_DISCARDED + 1)
#define TSMAP_MX_DUR_BUCKETS 14  /* finite buckets of operation durations */
#define TSMAP_MX_LIFE_BUCKETS 11 /* finite buckets of lifespans */

typedef _Atomic uint64_t tsmap_mx_ctr;

/* M2: what a fast path adds to an operation counter: one to the count, in the low 56
 * bits (exact up to 2^56 calls of one thread, kind and status on one map), and one to
 * the top byte, whose carry out every TSMAP_MX_SAMPLE adds says "time the next one".
 * Readers take TSMAP_MX_COUNT of every operation counter. */
#define TSMAP_MX_TICK (((uint64_t)(256 / TSMAP_MX_SAMPLE) << 56) | 1u)
#define TSMAP_MX_COUNT(x) ((x) & (((uint64_t)1 << 56) - 1))
_Static_assert(TSMAP_MX_SAMPLE == 256, "the fast paths' sample clock is a counter's top byte");

/* One thread's counters for one map (M1), or the shared overflow stripe. The first
 * members are what every metered operation touches. */
struct tsmap_mx_stripe {
  int shared;                                /* overflow: atomic adds */
  int16_t countdown[TSMAP_OP_COUNT]; /* owner-private: operations before the next timed one */
  unsigned char marked; /* owner-private: a fast path's sample clock ticked over (M2) */
  tsmap_mx_ctr ops[TSMAP_OP_COUNT][TSMAP_MX_STATUSES]; /* by kind and status (exact) */
  void *raw;                                           /* the allocation (alignment) */
  tsmap_mx_ctr sampled_at[TSMAP_OP_COUNT];             /* count when last timed */
  tsmap_mx_ctr dur[TSMAP_OP_COUNT][TSMAP_MX_DUR_BUCKETS + 1]; /* weighted, last +Inf */
  tsmap_mx_ctr dur_ns[TSMAP_OP_COUNT];                 /* weighted sum */
  tsmap_mx_ctr left[TSMAP_MX_REASONS];
  tsmap_mx_ctr life[TSMAP_MX_REASONS][TSMAP_MX_LIFE_BUCKETS + 1];
  tsmap_mx_ctr life_ms[TSMAP_MX_REASONS];
  tsmap_mx_ctr retries, waits;
  /* M2, M3: the fast 8/8 put's calls by status, one add each (the store body's counts of
   * put are here, not in ops): exposition adds them to ops, and the `replaced` ones to the
   * `replaced` departures too, the tracked keys' among them, whose lifespans go to
   * life_fast (histogram only: their departure is already counted here) */
  tsmap_mx_ctr fast_put[TSMAP_MX_STATUSES];
  tsmap_mx_ctr life_fast[TSMAP_MX_LIFE_BUCKETS + 1];
};

/* Metrics of one map: the registry record (name) and, when on, the stripes. */
struct tsmap_metrics {
  _Atomic(struct tsmap_mx_stripe *) *stripes; /* by thread record id; NULL when off */
  tsmap *map;
  char *name;                 /* "" when unnamed */
  size_t name_bytes;
  int on;                     /* config.metrics */
  int registered;
  uint64_t t0_ms;             /* M3: birth stamps count from here */
  struct tsmap_metrics *next; /* registry (g_registry_lock) */
  _Atomic uint32_t overflow_countdown[TSMAP_OP_COUNT]; /* the overflow stripe's (shared) */
  struct tsmap_mx_stripe overflow;
};

/* A metered operation in flight: the caller's stripe and, when this one is timed, its
 * start time (ns). */
typedef struct tsmap_mx_span {
  struct tsmap_mx_stripe *st;
  tsmap_op op;
  uint64_t t0;
} tsmap_mx_span;

TSMAP_HIDDEN struct tsmap_mx_stripe *tsmap_mx_stripe_slow(const tsmap *m);
TSMAP_HIDDEN uint64_t tsmap_mx_clock(void);
TSMAP_HIDDEN void tsmap_mx_sample(const tsmap_mx_span *sp);
TSMAP_HIDDEN void tsmap_mx_begin_shared(tsmap *m, tsmap_mx_span *sp);

/* Add v to a counter of stripe st; returns the new value. Only the owner thread writes a
 * private stripe, so a load and a store do (no locked instruction, M1). */
TSMAP_INLINE uint64_t tsmap_mx_bump(struct tsmap_mx_stripe *st, tsmap_mx_ctr *c, uint64_t v) {
  if (TSMAP_UNLIKELY(st->shared))
    return atomic_fetch_add_explicit(c, v, memory_order_relaxed) + v;
  uint64_t x = atomic_load_explicit(c, memory_order_relaxed) + v;
  atomic_store_explicit(c, x, memory_order_relaxed);
  return x;
}

/* M1: the thread's record caches the private stripe of the last metered map the thread
 * called (mx_st) and that map's mx_id (never reused, so a destroyed map's pair matches
 * no map). The record, not a thread-local of its own: the 8-byte get and put load the
 * record anyway, so the pair costs no second thread-local access (tsmap_mx_meters8). */
TSMAP_INLINE int tsmap_mx_cached(const tsmap_thread *t, uint64_t id) {
  return t != NULL && t->mx_id == id;
}
_Static_assert(offsetof(tsmap_thread, mx_st) + sizeof(void *) <= 64,
               "the pair shares the record's first line (the state the owner writes)");

/* The calling thread's stripe of metered map m (allocated on its first use): the one
 * the thread caches (one compare), else the directory's (metrics.c). */
TSMAP_INLINE struct tsmap_mx_stripe *tsmap_mx_stripe(const tsmap *m) {
  tsmap_thread *t = tsmap_tls_self;
  if (TSMAP_LIKELY(tsmap_mx_cached(t, m->mx_id)))
    return t->mx_st;
  return tsmap_mx_stripe_slow(m);
}

TSMAP_INLINE void tsmap_mx_begin(tsmap *m, tsmap_op op, tsmap_mx_span *sp) {
  struct tsmap_mx_stripe *st = tsmap_mx_stripe(m);
  sp->st = st;
  sp->op = op;
  sp->t0 = 0;
  if (TSMAP_UNLIKELY(st->shared)) {
    tsmap_mx_begin_shared(m, sp);
    return;
  }
  int16_t left = st->countdown[op];
  if (TSMAP_UNLIKELY(left <= 0 || st->marked)) { /* M2: time this one; the first of each */
    sp->t0 = tsmap_mx_clock();                   /* kind always is */
    st->marked = 0;
  }
  st->countdown[op] = left > 0 ? (int16_t)(left - 1) : TSMAP_MX_SAMPLE - 1;
}

TSMAP_INLINE tsmap_status tsmap_mx_end(tsmap_mx_span *sp, tsmap_status status) {
  unsigned s = (unsigned)status & (TSMAP_MX_STATUSES - 1);
  tsmap_mx_bump(sp->st, &sp->st->ops[sp->op][s], 1);
  if (TSMAP_UNLIKELY(sp->t0 != 0))
    tsmap_mx_sample(sp);
  return status;
}

/* The 8/8 get and put of a map whose entry_fast is 0: is it a metered fast8 map with
 * 8-byte values? mx_id8 is the map's mx_id only then, else TSMAP_MX_NO_ID8, which no
 * thread caches. Such a map's get and put fire op_start first and then ask whether the
 * thread's record caches a private stripe of it (tsmap_mx_cached with mx_id8): asked
 * after the probe (an asm statement the compiler may not move loads across), the
 * record's load is the one the lookup makes anyway. */
#define TSMAP_MX_NO_ID8 UINT64_MAX
TSMAP_INLINE int tsmap_mx_meters8(const tsmap *m) { return m->mx_id8 != TSMAP_MX_NO_ID8; }

/* The 8-byte get and put of a metered map (tsmap_mx_meters8, and the record caches its
 * stripe) count inline, in their own entries' frames, in that stripe (never NULL: only
 * private stripes are cached), with one add and no countdown: one per call is the most
 * they can afford (bench/runtime/findings.md, issue 21, round 3). When that add carries
 * out of the counter's top byte (TSMAP_MX_TICK), the thread's record forgets the pair
 * and the stripe is marked, so the thread's next call on the map takes the full
 * metered path (TSMAP_OP_RUN_STARTED), which times it (tsmap_mx_begin) and caches the
 * pair again (M2). */
TSMAP_INLINE void tsmap_mx_tick(tsmap_thread *self, tsmap_mx_ctr *c) {
  int tick;
#if defined(__x86_64__) && defined(__GCC_ASM_FLAG_OUTPUTS__) && !TSMAP_TSAN
  /* One `add` to memory and its carry flag: the load and store below (what TSan builds
   * and other targets run) as one instruction, not three and a test; only the owner
   * writes the counter, and an aligned 8-byte store is never torn on x86-64, so a
   * reader's relaxed load sees the old count or the new one (M1). Two instructions less
   * a call; metered C and A about 3 points nearer off (bench/runtime/findings.md, issue
   * 21, round 4: counting is what is left of C's gap). */
  __asm__("addq %2, %0" : "+m"(*(volatile uint64_t *)c), "=@ccc"(tick) : "r"(TSMAP_MX_TICK));
#else
  uint64_t n;
  tick = __builtin_add_overflow(atomic_load_explicit(c, memory_order_relaxed), TSMAP_MX_TICK, &n);
  atomic_store_explicit(c, n, memory_order_relaxed);
#endif
  if (TSMAP_UNLIKELY(tick)) {
    self->mx_st->marked = 1;
    self->mx_id = 0;
  }
}
TSMAP_INLINE tsmap_status tsmap_mx_fast_end(tsmap_thread *self, tsmap_op op,
                                            tsmap_status status) {
  tsmap_mx_tick(self, &self->mx_st->ops[op][(unsigned)status & (TSMAP_MX_STATUSES - 1)]);
  return status;
}

/* The end of a fast 8/8 put (the store body's `metered` is TSMAP_MX_FAST): as
 * tsmap_mx_fast_end, a put's status in fast_put, so that an overwrite is one add for its
 * status and its departure at once (a second write per overwrite cost as much as the
 * first: bench/runtime/findings.md, issue 21, round 3), and whether its key was tracked
 * is not asked again here (round 6). */
TSMAP_INLINE tsmap_status tsmap_mx_fast_put_end(tsmap_thread *self, int replace,
                                                tsmap_status status) {
  if ((unsigned)status >= TSMAP_MX_STATUSES) /* never (the body's statuses): no mask */
    __builtin_unreachable();
  if (replace)
    tsmap_mx_tick(self, &self->mx_st->fast_put[(unsigned)status & (TSMAP_MX_STATUSES - 1)]);
  else
    tsmap_mx_fast_end(self, TSMAP_OP_PUT_IF_ABSENT, status);
  return status;
}

/* Is this map metered? (a named map with metrics off has a record but no stripes) */
TSMAP_INLINE int tsmap_mx_on(const tsmap *m) {
  return TSMAP_UNLIKELY(m != NULL && m->mx != NULL) && m->mx->stripes != NULL;
}

/* Create (config name / metrics; before the shards, whose tables it sizes) and free a
 * map's record. Register lists a named map, once it is complete, for
 * tsmap_metrics_write_all; destroy unlists it first. */
TSMAP_HIDDEN tsmap_status tsmap_mx_create(tsmap *m);
/* List a named map for tsmap_metrics_write_all: TSMAP_EXISTS if an open or closed map not
 * yet destroyed has the name. */
TSMAP_HIDDEN tsmap_status tsmap_mx_register(tsmap *m);
TSMAP_HIDDEN void tsmap_mx_destroy(tsmap *m);


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
    TSMAP_PROBE2(op_start, (map), (int)(op));                                              \
    TSMAP_OP_RUN_STARTED(map, op, call);                                                   \
  } while (0)
/* The same after op_start has fired (a metered 8/8 get or put that leaves its fast path). */
#define TSMAP_OP_RUN_STARTED(map, op, call)                                                \
  do {                                                                                     \
    tsmap_status op_st_;                                                                   \
    TSMAP_METERED(op_st_, (map), (op), (call));                                            \
    TSMAP_PROBE2(op_end, (int)(op), (int)op_st_);                                          \
    return op_st_;                                                                         \
  } while (0)

/* Events inside operations (metered maps only; each is one branch when off). */
TSMAP_HIDDEN void tsmap_mx_count_retry(tsmap *m);
TSMAP_HIDDEN void tsmap_mx_count_wait(tsmap *m);
TSMAP_HIDDEN void tsmap_mx_count_discarded(tsmap *m);
/* G11, B5: an insert's value was not admitted: a capacity eviction with no lifespan. */
TSMAP_HIDDEN void tsmap_mx_count_rejected(const tsmap *m);

/* M3: bytes of a table's birth array (0 when metrics are off), and where it starts. */
TSMAP_HIDDEN size_t tsmap_mx_birth_bytes(const tsmap *m, size_t ngroups);
TSMAP_INLINE uint32_t *tsmap_mx_birth_at(const tsmap_table *t, size_t g, unsigned slot) {
  return &t->birth[g * TSMAP_GROUP_SLOTS + slot];
}

/* M3: the keys whose births are stamped and whose lifespans are measured: those whose
 * control byte (0x80 | 7 hash bits) has the bits of tsmap_mx_track_mask clear, 1 key in
 * 128 (TSMAP_MX_TRACK_MASK, every hash bit the byte has; the test suite sets 0 to track
 * every key). The others leave without touching the birth array or reading the clock:
 * only their departure is counted. 1 in 16 cost metered C about 3 points of wall time
 * (the stamps' lines and pages: bench/runtime/findings.md, issue 21, round 4), 1 in 64
 * about 3 points against 1 in 128 (round 6). */
#define TSMAP_MX_TRACK_MASK 0x7fu
extern TSMAP_HIDDEN _Atomic unsigned tsmap_mx_track_mask;
TSMAP_INLINE int tsmap_mx_tracked_byte(unsigned ctrl_byte) {
  return (ctrl_byte & atomic_load_explicit(&tsmap_mx_track_mask, memory_order_relaxed)) == 0;
}
TSMAP_INLINE int tsmap_mx_tracked(const tsmap_table *t, size_t g, unsigned slot) {
  return tsmap_mx_tracked_byte(tsmap_ctrl_get(t->wctrl[g], slot));
}

/* A value entered the slot at `pos` (insert or overwrite; shard lock held). */
TSMAP_HIDDEN void tsmap_mx_born(const tsmap *m, const tsmap_pos *pos);
/* The value in slot `slot` of group `g` of `t` leaves the map for `why` (shard lock held,
 * or a detached table at close): counted, with its lifespan. */
TSMAP_HIDDEN void tsmap_mx_left(const tsmap *m, const tsmap_table *t, size_t g, unsigned slot,
                                tsmap_evict_reason why);

/* The value at `pos` is overwritten: it leaves (replaced) and the new one is born. */
TSMAP_HIDDEN void tsmap_mx_replaced(const tsmap *m, const tsmap_pos *pos);
/* The same in the fast 8/8 put, which counts the departure with its status (fast_put):
 * the lifespan only, in life_fast. */
TSMAP_HIDDEN void tsmap_mx_replaced_fast(const tsmap *m, const tsmap_pos *pos);

/* A value of an untracked key leaves for `why`: counted, no lifespan. The cached stripe
 * is private (only those are cached), so a load and a store do. */
TSMAP_HIDDEN void tsmap_mx_gone_slow(const tsmap *m, tsmap_evict_reason why);
TSMAP_INLINE void tsmap_mx_gone(const tsmap *m, tsmap_evict_reason why) {
  tsmap_thread *t = tsmap_tls_self;
  if (TSMAP_UNLIKELY(!tsmap_mx_cached(t, m->mx_id))) {
    tsmap_mx_gone_slow(m, why);
    return;
  }
  tsmap_mx_ctr *c = &t->mx_st->left[(unsigned)why < TSMAP_MX_REASONS ? (unsigned)why : 0];
  atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                        memory_order_relaxed);
}


/* Site macros: a table's birth array exists only on a metered map. */
#define TSMAP_MX_REPLACED(m, pos)                                                          \
  do {                                                                                     \
    if (TSMAP_UNLIKELY((pos)->t->birth != NULL)) {                                         \
      if (tsmap_mx_tracked((pos)->t, (pos)->g, (pos)->slot))                               \
        tsmap_mx_replaced((m), (pos));                                                     \
      else                                                                                 \
        tsmap_mx_gone((m), TSMAP_EVICT_REPLACED);                                          \
    }                                                                                      \
  } while (0)
/* The same in the 8/8 put of a metered map, whose tables all have a birth array: whether
 * the key is tracked is known, and on the fast path (`fast`: the put's `metered` is
 * TSMAP_MX_FAST) every departure is counted with the put's status, at its end
 * (tsmap_mx_fast_put_end), not here. */
#define TSMAP_MX_FAST 2 /* store body's `metered`: the fast path, the pair names the map */
#define TSMAP_MX_REPLACED8(m, pos, tracked, fast)                                          \
  do {                                                                                     \
    if (tracked) { /* a copy: the put's own pos stays in registers (no 3 stores a put) */  \
      tsmap_pos mx_pos_ = *(pos);                                                          \
      if (fast)                                                                            \
        tsmap_mx_replaced_fast((m), &mx_pos_);                                             \
      else                                                                                 \
        tsmap_mx_replaced((m), &mx_pos_);                                                  \
    } else if (!(fast))                                                                    \
      tsmap_mx_gone((m), TSMAP_EVICT_REPLACED);                                            \
  } while (0)
#define TSMAP_MX_BORN(m, pos)                                                              \
  do {                                                                                     \
    if (TSMAP_UNLIKELY((pos)->t->birth != NULL) &&                                         \
        tsmap_mx_tracked((pos)->t, (pos)->g, (pos)->slot))                                 \
      tsmap_mx_born((m), (pos));                                                           \
  } while (0)
#define TSMAP_MX_LEFT(m, t, g, slot, why)                                                  \
  do {                                                                                     \
    if (TSMAP_UNLIKELY((t)->birth != NULL)) {                                              \
      if (tsmap_mx_tracked((t), (g), (slot)))                                              \
        tsmap_mx_left((m), (t), (g), (slot), (why));                                       \
      else                                                                                 \
        tsmap_mx_gone((m), (why));                                                         \
    }                                                                                      \
  } while (0)

/* G16 (e): the named maps' registry lock (fork.c takes it before the maps' shard locks:
 * an exposition takes those under it). */
TSMAP_HIDDEN pthread_mutex_t *tsmap_mx_registry_lock(void);

#endif /* TSMAP_METRICS_H */
