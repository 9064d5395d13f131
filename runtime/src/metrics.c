/*
 * metrics.c - per-map metrics and their Prometheus text exposition (format 0.0.4).
 *
 * A metered map (config.metrics) counts every operation by kind and status, times one in
 * TSMAP_MX_SAMPLE of them, and counts every value that leaves it by reason with its
 * lifespan. Counters live in stripes, one per thread record and map (M1 in metrics.h):
 * an operation writes only its own thread's stripe, so no cache line is shared between
 * threads; tsmap_metrics_write sums the stripes. Gauges (entries, table bytes, growth)
 * are read from the shards under their locks at exposition time, for every map.
 *
 * A map with a config.name is registered (a global list under g_registry_lock) so that
 * tsmap_metrics_write_all can write every named map of the process in one exposition:
 * each metric family once, with one series per map.
 */
#include "metrics.h"
#include "reshard.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* ======================================================================================
 * Layout
 * ====================================================================================== */

static pthread_mutex_t g_registry_lock = PTHREAD_MUTEX_INITIALIZER;

pthread_mutex_t *tsmap_mx_registry_lock(void) { return &g_registry_lock; }
/* Non-zero while this thread's tsmap_metrics_write_all holds g_registry_lock and runs its
 * writer: a nested write_all or a named create from that writer would take the lock
 * again and deadlock (black-box round 8); they return TSMAP_REENTERED instead. */
static _Thread_local unsigned char g_writing_all;
static struct tsmap_metrics *g_registry;
static _Atomic uint64_t g_next_id = 1; /* M1: metered maps' ids (0: not metered) */
_Atomic unsigned tsmap_mx_track_mask = TSMAP_MX_TRACK_MASK; /* M3 (tests: 0, every key) */

/* Upper bounds of the duration buckets, in ns and as the `le` label. */
static const uint64_t k_dur_ns[TSMAP_MX_DUR_BUCKETS] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 1000000,
    10000000, 100000000};
static const char *const k_dur_le[TSMAP_MX_DUR_BUCKETS] = {
    "1e-07", "2.5e-07", "5e-07", "1e-06", "2.5e-06", "5e-06", "1e-05", "2.5e-05", "5e-05",
    "0.0001", "0.00025", "0.001", "0.01", "0.1"};
/* Upper bounds of the lifespan buckets, in ms and as `le`. */
static const uint32_t k_life_ms[TSMAP_MX_LIFE_BUCKETS + 1] = {
    1, 10, 100, 1000, 10000, 60000, 600000, 3600000, 21600000, 86400000, 604800000,
    UINT32_MAX /* no ms exceeds it: tsmap_mx_life_bucket reads it for +Inf */};
static const char *const k_life_le[TSMAP_MX_LIFE_BUCKETS] = {
    "0.001", "0.01", "0.1", "1", "10", "60", "600", "3600", "21600", "86400", "604800"};

static const char *const k_op_names[TSMAP_OP_COUNT] = {
    "get", "put", "put_if_absent", "remove", "compute_if_absent", "compute_if_present",
    "compute", "maintain", "get_version", "put_if_version", "remove_if_version",
    "compute_if_version", "foreach_since", "export", "merge", "forget", "reshard"};
static const char *const k_reason_names[TSMAP_MX_REASONS] = {
    "removed", "replaced", "expired", "capacity", "closed", "discarded"};

/* ======================================================================================
 * Counting (M1, M2, M3)
 * ====================================================================================== */

static uint64_t tsmap_mx_clock_ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Add v to a counter of stripe st; returns the new value. Only the owner thread writes a
 * private stripe, so a load and a store do (no locked instruction). */
static uint64_t tsmap_mx_add(struct tsmap_mx_stripe *st, tsmap_mx_ctr *c, uint64_t v) {
  return tsmap_mx_bump(st, c, v);
}

static void tsmap_mx_set(tsmap_mx_ctr *c, uint64_t v) {
  atomic_store_explicit(c, v, memory_order_relaxed);
}

static uint64_t tsmap_mx_get(tsmap_mx_ctr *c) {
  return atomic_load_explicit(c, memory_order_relaxed);
}

/* A new private stripe, 64-byte aligned (its own cache lines), or NULL. */
static struct tsmap_mx_stripe *tsmap_mx_stripe_new(const tsmap *m) {
  size_t bytes = sizeof(struct tsmap_mx_stripe) + 128;
  unsigned char *raw = (unsigned char *)tsmap_mem_zalloc(m, bytes);
  if (!raw)
    return NULL;
  struct tsmap_mx_stripe *st =
      (struct tsmap_mx_stripe *)(void *)(raw + 64 - ((uintptr_t)raw & 63));
  st->raw = raw;
  for (int op = 0; op < TSMAP_OP_COUNT; op++) /* M2: a fast path's first call of each */
    for (int s = 0; s < TSMAP_MX_STATUSES; s++) /* status carries: its next one is timed */
      tsmap_mx_set(&st->ops[op][s], (uint64_t)0xff << 56);
  for (int s = 0; s < TSMAP_MX_STATUSES; s++)
    tsmap_mx_set(&st->fast_put[s], (uint64_t)0xff << 56);
  return st;
}

/* The calling thread's stripe of map m (allocated on its first metered operation). A
 * private stripe is cached in the thread's record for its next operations on m (M1): a
 * recycled record (ebr.c) comes with its stripes and that cache, which names one of
 * them. */
static struct tsmap_mx_stripe *tsmap_mx_stripe_of(const tsmap *m) {
  struct tsmap_metrics *mx = m->mx;
  tsmap_thread *self = tsmap_self();
  if (TSMAP_UNLIKELY(!self || self->id >= TSMAP_MX_STRIPES))
    return &mx->overflow;
  struct tsmap_mx_stripe *st = atomic_load_explicit(&mx->stripes[self->id], memory_order_acquire);
  if (TSMAP_UNLIKELY(st == NULL)) {
    st = tsmap_mx_stripe_new(m); /* only this thread's record has this id (ebr.c) */
    if (!st)
      return &mx->overflow;
    atomic_store_explicit(&mx->stripes[self->id], st, memory_order_release);
  }
  self->mx_id = m->mx_id; /* owner-private: the pair is never read by another thread */
  self->mx_st = st;
  return st;
}

/* The first metered operation of a thread on a map (or after one on another map), or a
 * thread without a private stripe. */
struct tsmap_mx_stripe *tsmap_mx_stripe_slow(const tsmap *m) { return tsmap_mx_stripe_of(m); }

/* M2 on the overflow stripe, whose countdowns are shared by its threads. */
void tsmap_mx_begin_shared(tsmap *m, tsmap_mx_span *sp) {
  _Atomic uint32_t *cd = &m->mx->overflow_countdown[sp->op];
  uint32_t left = atomic_load_explicit(cd, memory_order_relaxed);
  if (left == 0)
    sp->t0 = tsmap_mx_clock();
  atomic_store_explicit(cd, left ? left - 1 : TSMAP_MX_SAMPLE - 1, memory_order_relaxed);
}

uint64_t tsmap_mx_clock(void) { return tsmap_mx_clock_ns(CLOCK_MONOTONIC) | 1u; /* never 0 */ }

static unsigned tsmap_mx_bucket(const uint64_t *bounds, unsigned n, uint64_t v) {
  unsigned b = 0;
  while (b < n && v > bounds[b])
    b++;
  return b;
}

/* The lifespan bucket of `ms`, on every overwrite and removal of a metered map: the
 * first bound not below the smallest number of ms's bit length (k_life_start), then one
 * compare: no two bounds lie within a factor of 2 of each other, so at most one bound
 * has ms's bit length. */
static const unsigned char k_life_start[33] = {0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 4, 5, 5,
                                               6, 6, 6, 6, 7, 7, 8, 8, 8, 9, 9, 10, 10, 10, 11, 11};
static unsigned tsmap_mx_life_bucket(uint32_t ms) {
  unsigned b = k_life_start[32 - __builtin_clz(ms | 1)];
  return b + (ms > k_life_ms[b]);
}

/* Operations of kind op counted in stripe st (M2: the counters' low 56 bits; the fast
 * 8/8 put's are in fast_put). */
static uint64_t tsmap_mx_op_count(struct tsmap_mx_stripe *st, int op) {
  uint64_t n = 0;
  for (int s = 0; s < TSMAP_MX_STATUSES; s++) {
    n += TSMAP_MX_COUNT(tsmap_mx_get(&st->ops[op][s]));
    if (op == TSMAP_OP_PUT)
      n += TSMAP_MX_COUNT(tsmap_mx_get(&st->fast_put[s]));
  }
  return n;
}

/* The operations a timed one stands for: stripe st's count n of its kind less the count
 * when one was last timed, which becomes n. On the shared overflow stripe several threads
 * time operations at once (its countdown is shared too): a compare-and-swap that only
 * moves the mark forward, so that no operation is weighed twice (a plain load and store
 * did, and _count rose above the operation count: black-box round 12) and a count read
 * before another thread's mark weighs nothing instead of wrapping around. */
static uint64_t tsmap_mx_claim(struct tsmap_mx_stripe *st, tsmap_op op, uint64_t n) {
  tsmap_mx_ctr *mark = &st->sampled_at[op];
  uint64_t prev = tsmap_mx_get(mark);
  if (!st->shared) {
    tsmap_mx_set(mark, n);
    return n - prev;
  }
  do
    if (n <= prev)
      return 0;
  while (!atomic_compare_exchange_weak_explicit(mark, &prev, n, memory_order_relaxed,
                                                memory_order_relaxed));
  return n - prev;
}

/* M2: the timed operation stands for every operation of its kind since the last one. */
void tsmap_mx_sample(const tsmap_mx_span *sp) {
  struct tsmap_mx_stripe *st = sp->st;
  tsmap_op op = sp->op;
  uint64_t t1 = tsmap_mx_clock_ns(CLOCK_MONOTONIC), ns = t1 > sp->t0 ? t1 - sp->t0 : 0;
  uint64_t weight = tsmap_mx_claim(st, op, tsmap_mx_op_count(st, op));
  unsigned b = tsmap_mx_bucket(k_dur_ns, TSMAP_MX_DUR_BUCKETS, ns);
  if (weight == 0)
    return;
  tsmap_mx_add(st, &st->dur[op][b], weight);
  tsmap_mx_add(st, &st->dur_ns[op], weight * ns);
}

/* Test support (test_metrics.c): the calling thread's count of metered map m's
 * operations of kind op when one was last timed (0: none timed since the first). */
TSMAP_HIDDEN uint64_t tsmap_mx_debug_sampled_at(tsmap *m, int op);
uint64_t tsmap_mx_debug_sampled_at(tsmap *m, int op) {
  return tsmap_mx_get(&tsmap_mx_stripe(m)->sampled_at[op]);
}

void tsmap_mx_count_retry(tsmap *m) {
  struct tsmap_mx_stripe *st = tsmap_mx_stripe(m);
  tsmap_mx_add(st, &st->retries, 1);
}

void tsmap_mx_count_wait(tsmap *m) {
  struct tsmap_mx_stripe *st = tsmap_mx_stripe(m);
  tsmap_mx_add(st, &st->waits, 1);
}

void tsmap_mx_count_discarded(tsmap *m) {
  struct tsmap_mx_stripe *st = tsmap_mx_stripe(m);
  tsmap_mx_add(st, &st->left[TSMAP_EVICT_DISCARDED], 1);
}

/* M3: milliseconds since the map was created, modulo 2^32 (49.7 days). */
static uint32_t tsmap_mx_now_ms(const tsmap *m) {
  return (uint32_t)(tsmap_mx_clock_ns(CLOCK_MONOTONIC_COARSE) / 1000000u - m->mx->t0_ms);
}

size_t tsmap_mx_birth_bytes(const tsmap *m, size_t ngroups) {
  return tsmap_mx_on(m) ? ngroups * TSMAP_GROUP_SLOTS * sizeof(uint32_t) : 0;
}

void tsmap_mx_born(const tsmap *m, const tsmap_pos *pos) {
  *tsmap_mx_birth_at(pos->t, pos->g, pos->slot) = tsmap_mx_now_ms(m);
}

/* Count a tracked value leaving with its lifespan `ms`: its histogram's bucket and sum
 * (its departure is the bucket's count: evictions by reason sum both, at exposition). */
static void tsmap_mx_count_left(struct tsmap_mx_stripe *st, uint32_t ms, tsmap_evict_reason why) {
  unsigned r = (unsigned)why < TSMAP_MX_REASONS ? (unsigned)why : 0;
  tsmap_mx_ctr *b = &st->life[r][tsmap_mx_life_bucket(ms)];
  if (TSMAP_UNLIKELY(st->shared)) {
    atomic_fetch_add_explicit(b, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&st->life_ms[r], ms, memory_order_relaxed);
    return;
  }
  atomic_store_explicit(b, atomic_load_explicit(b, memory_order_relaxed) + 1,
                        memory_order_relaxed);
  atomic_store_explicit(&st->life_ms[r],
                        atomic_load_explicit(&st->life_ms[r], memory_order_relaxed) + ms,
                        memory_order_relaxed);
}

void tsmap_mx_gone_slow(const tsmap *m, tsmap_evict_reason why) {
  struct tsmap_mx_stripe *st = tsmap_mx_stripe(m);
  tsmap_mx_add(st, &st->left[(unsigned)why < TSMAP_MX_REASONS ? (unsigned)why : 0], 1);
}

void tsmap_mx_count_rejected(const tsmap *m) {
  tsmap_mx_gone_slow(m, TSMAP_EVICT_CAPACITY); /* it never entered: no lifespan (B5) */
}

void tsmap_mx_left(const tsmap *m, const tsmap_table *t, size_t g, unsigned slot,
                   tsmap_evict_reason why) {
  uint32_t now = tsmap_mx_now_ms(m);
  tsmap_mx_count_left(tsmap_mx_stripe(m), now - *tsmap_mx_birth_at(t, g, slot), why);
}

/* The value at `pos` is overwritten: its age (ms), and the new value's birth stamped. */
static uint32_t tsmap_mx_restamp(const tsmap *m, const tsmap_pos *pos) {
  uint32_t now = tsmap_mx_now_ms(m), *birth = tsmap_mx_birth_at(pos->t, pos->g, pos->slot);
  uint32_t ms = now - *birth;
  *birth = now;
  return ms;
}

void tsmap_mx_replaced(const tsmap *m, const tsmap_pos *pos) {
  tsmap_mx_count_left(tsmap_mx_stripe(m), tsmap_mx_restamp(m, pos), TSMAP_EVICT_REPLACED);
}

void tsmap_mx_replaced_fast(const tsmap *m, const tsmap_pos *pos) {
  uint32_t ms = tsmap_mx_restamp(m, pos);
  struct tsmap_mx_stripe *st = tsmap_mx_stripe(m); /* the fast put's: private */
  tsmap_mx_add(st, &st->life_fast[tsmap_mx_life_bucket(ms)], 1);
  tsmap_mx_add(st, &st->life_ms[TSMAP_EVICT_REPLACED], ms);
}

/* ======================================================================================
 * Create, destroy, registry
 * ====================================================================================== */

/* Is s valid UTF-8 (what the text format requires of a label value)? Overlong forms,
 * surrogates and code points past U+10FFFF are not. */
static int tsmap_mx_utf8(const unsigned char *s) {
  while (*s) {
    unsigned c = *s++, n = c < 0x80 ? 0 : c >= 0xc2 && c < 0xe0 ? 1 : c >= 0xe0 && c < 0xf0 ? 2
                                       : c >= 0xf0 && c < 0xf5 ? 3 : 4;
    if (n == 4)
      return 0;
    unsigned lo = 0x80, hi = 0xbf; /* the second byte's range */
    if (c == 0xe0)
      lo = 0xa0;
    else if (c == 0xed)
      hi = 0x9f;
    else if (c == 0xf0)
      lo = 0x90;
    else if (c == 0xf4)
      hi = 0x8f;
    for (unsigned i = 0; i < n; i++, s++, lo = 0x80, hi = 0xbf)
      if (*s < lo || *s > hi)
        return 0;
  }
  return 1;
}

tsmap_status tsmap_mx_create(tsmap *m) {
  m->mx_id8 = TSMAP_MX_NO_ID8; /* no thread caches this id (tsmap_mx_meters8) */
  if (!m->cfg.name && !m->cfg.metrics)
    return TSMAP_OK;
  if (m->cfg.name && !tsmap_mx_utf8((const unsigned char *)m->cfg.name))
    return TSMAP_INVALID_ARGUMENT; /* its label value would void every exposition */
  struct tsmap_metrics *mx = (struct tsmap_metrics *)tsmap_mem_zalloc(m, sizeof *mx);
  if (!mx)
    return TSMAP_NO_MEMORY;
  const char *name = m->cfg.name ? m->cfg.name : "";
  mx->name_bytes = strlen(name) + 1;
  mx->name = (char *)tsmap_mem_alloc(m, mx->name_bytes);
  size_t dir = TSMAP_MX_STRIPES * sizeof *mx->stripes;
  if (m->cfg.metrics)
    mx->stripes = (_Atomic(struct tsmap_mx_stripe *) *)tsmap_mem_zalloc(m, dir);
  if (!mx->name || (m->cfg.metrics && !mx->stripes)) {
    tsmap_mem_free(m, mx->name, mx->name_bytes);
    tsmap_mem_free(m, (void *)mx->stripes, dir);
    tsmap_mem_free(m, mx, sizeof *mx);
    return TSMAP_NO_MEMORY;
  }
  memcpy(mx->name, name, mx->name_bytes);
  mx->map = m;
  mx->on = m->cfg.metrics != 0;
  mx->overflow.shared = 1;
  mx->t0_ms = tsmap_mx_clock_ns(CLOCK_MONOTONIC_COARSE) / 1000000u;
  if (mx->on) /* M1: the key of the threads' stripe caches, never reused */
    m->mx_id = atomic_fetch_add_explicit(&g_next_id, 1, memory_order_relaxed);
  if (mx->on && m->fast8 && m->value_size == 8) /* the metered 8/8 paths' key (metrics.h) */
    m->mx_id8 = m->mx_id;
  m->cfg.name = mx->name; /* the caller's string need not outlive create */
  m->mx = mx;
  return TSMAP_OK;
}

tsmap_status tsmap_mx_register(tsmap *m) {
  struct tsmap_metrics *mx = m->mx;
  if (!mx || !mx->name[0])
    return TSMAP_OK;
  if (g_writing_all)
    return TSMAP_REENTERED;
  pthread_mutex_lock(&g_registry_lock);
  /* a name taken twice would give an exposition two series of each of its metrics,
   * which a Prometheus server rejects whole */
  for (struct tsmap_metrics *o = g_registry; o; o = o->next)
    if (strcmp(o->name, mx->name) == 0) {
      pthread_mutex_unlock(&g_registry_lock);
      return TSMAP_EXISTS;
    }
  mx->next = g_registry;
  g_registry = mx;
  mx->registered = 1;
  pthread_mutex_unlock(&g_registry_lock);
  return TSMAP_OK;
}

void tsmap_mx_destroy(tsmap *m) {
  struct tsmap_metrics *mx = m->mx;
  if (!mx)
    return;
  if (mx->registered) {
    pthread_mutex_lock(&g_registry_lock);
    struct tsmap_metrics **pp = &g_registry;
    while (*pp != mx)
      pp = &(*pp)->next;
    *pp = mx->next;
    pthread_mutex_unlock(&g_registry_lock);
  }
  for (size_t i = 0; mx->stripes && i < TSMAP_MX_STRIPES; i++) {
    struct tsmap_mx_stripe *st = atomic_load(&mx->stripes[i]);
    if (st)
      tsmap_mem_free(m, st->raw, sizeof *st + 128);
  }
  tsmap_mem_free(m, (void *)mx->stripes, TSMAP_MX_STRIPES * sizeof *mx->stripes);
  tsmap_mem_free(m, mx->name, mx->name_bytes);
  tsmap_mem_free(m, mx, sizeof *mx);
  m->mx = NULL;
}

/* ======================================================================================
 * Snapshots: stripes summed, gauges read under the shard locks
 * ====================================================================================== */

typedef struct tsmap_mx_snap {
  const char *name;
  int on;
  uint64_t entries, shards, table_bytes, retired_bytes, growing, migrated;
  uint64_t ops[TSMAP_OP_COUNT][TSMAP_MX_STATUSES];
  uint64_t n[TSMAP_OP_COUNT];
  uint64_t dur[TSMAP_OP_COUNT][TSMAP_MX_DUR_BUCKETS + 1];
  uint64_t dur_ns[TSMAP_OP_COUNT];
  uint64_t left[TSMAP_MX_REASONS];
  uint64_t life[TSMAP_MX_REASONS][TSMAP_MX_LIFE_BUCKETS + 1];
  uint64_t life_ms[TSMAP_MX_REASONS];
  uint64_t retries, waits, reentered;
} tsmap_mx_snap;

static void tsmap_mx_snap_gauges(tsmap *m, tsmap_mx_snap *sn) {
  sn->shards = tsmap_shard_count(m);
  for (size_t i = 0; i < tsmap_shard_hw(m); i++) { /* G15: a reshard's new shards too */
    tsmap_shard *s = &m->shards[i];
    tsmap_lock_acquire(&s->lock);
    tsmap_table *ts[4] = {atomic_load_explicit(&s->cur, memory_order_relaxed),
                          atomic_load_explicit(&s->old, memory_order_relaxed), s->next,
                          s->rs_next}; /* G15 (R7): a reshard destination's coming table */
    for (int k = 0; k < 4; k++)
      sn->table_bytes += ts[k] ? ts[k]->bytes : 0;
    sn->retired_bytes += s->retired_bytes; /* what readers may still see (I5) */
    sn->growing += ts[1] != NULL;
    sn->migrated += s->migrated;
    sn->entries += atomic_load_explicit(&s->count, memory_order_relaxed);
    tsmap_lock_release(&s->lock);
  }
  sn->table_bytes += tsmap_reshard_prepared_bytes(m); /* R10: the helper's, not taken yet */
}

/* M2: operations after a stripe's last timed one are not timed yet: they go to the +Inf
 * bucket only (and add nothing to _sum), so that the histogram's count is the exact
 * operation count and every bucket and _sum only ever grows. The next timed operation
 * puts them in its own bucket, which the +Inf bucket, cumulative, already counted.
 * (Putting them in the last timed one's bucket, as this once did, moved them out of it
 * when the next one was timed elsewhere: a bucket below went backwards between two
 * scrapes, which Prometheus reads as a counter reset.) */
static void tsmap_mx_snap_durations(struct tsmap_mx_stripe *st, tsmap_mx_snap *sn, int op) {
  uint64_t n = tsmap_mx_op_count(st, op), seen = 0;
  for (int b = 0; b <= TSMAP_MX_DUR_BUCKETS; b++) {
    uint64_t c = tsmap_mx_get(&st->dur[op][b]);
    sn->dur[op][b] += c;
    seen += c;
  }
  sn->dur_ns[op] += tsmap_mx_get(&st->dur_ns[op]);
  if (n > seen)
    sn->dur[op][TSMAP_MX_DUR_BUCKETS] += n - seen;
  sn->n[op] += n > seen ? n : seen;
}

static void tsmap_mx_snap_stripe(struct tsmap_mx_stripe *st, tsmap_mx_snap *sn) {
  for (int op = 0; op < TSMAP_OP_COUNT; op++) {
    for (int s = 0; s < TSMAP_MX_STATUSES; s++)
      sn->ops[op][s] += TSMAP_MX_COUNT(tsmap_mx_get(&st->ops[op][s])); /* M2 */
    tsmap_mx_snap_durations(st, sn, op);
  }
  for (int r = 0; r < TSMAP_MX_REASONS; r++) {
    sn->left[r] += tsmap_mx_get(&st->left[r]); /* untracked keys (M3), and discarded */
    sn->life_ms[r] += tsmap_mx_get(&st->life_ms[r]);
    for (int b = 0; b <= TSMAP_MX_LIFE_BUCKETS; b++) {
      uint64_t c = tsmap_mx_get(&st->life[r][b]);
      sn->life[r][b] += c;
      sn->left[r] += c; /* tracked keys' departures (M3) */
    }
  }
  for (int s = 0; s < TSMAP_MX_STATUSES; s++) /* the fast put's statuses (M2) */
    sn->ops[TSMAP_OP_PUT][s] += TSMAP_MX_COUNT(tsmap_mx_get(&st->fast_put[s]));
  /* its overwrites' departures, every key's; the tracked ones' lifespans (M3) */
  sn->left[TSMAP_EVICT_REPLACED] +=
      TSMAP_MX_COUNT(tsmap_mx_get(&st->fast_put[TSMAP_REPLACED]));
  for (int b = 0; b <= TSMAP_MX_LIFE_BUCKETS; b++)
    sn->life[TSMAP_EVICT_REPLACED][b] += tsmap_mx_get(&st->life_fast[b]);
  sn->retries += tsmap_mx_get(&st->retries);
  sn->waits += tsmap_mx_get(&st->waits);
}

/* Sum map m's counters into *sn. Returns TSMAP_CLOSED for a closed map. */
static tsmap_status tsmap_mx_snap_map(tsmap *m, tsmap_mx_snap *sn) {
  memset(sn, 0, sizeof *sn);
  if (tsmap_is_closed(m))
    return TSMAP_CLOSED;
  sn->name = m->mx ? m->mx->name : "";
  tsmap_mx_snap_gauges(m, sn);
  if (!tsmap_mx_on(m))
    return TSMAP_OK;
  sn->on = 1;
  tsmap_mx_snap_stripe(&m->mx->overflow, sn);
  for (size_t i = 0; i < TSMAP_MX_STRIPES; i++) {
    struct tsmap_mx_stripe *st = atomic_load_explicit(&m->mx->stripes[i], memory_order_acquire);
    if (st)
      tsmap_mx_snap_stripe(st, sn);
  }
  for (int op = 0; op < TSMAP_OP_COUNT; op++)
    sn->reentered += sn->ops[op][TSMAP_REENTERED];
  return TSMAP_OK;
}

/* ======================================================================================
 * Text output
 * ====================================================================================== */

typedef struct tsmap_mx_out {
  tsmap_metrics_writer writer;
  void *ctx;
  int stopped;
  size_t len;
  char buf[4096];
} tsmap_mx_out;

static void tsmap_mx_flush(tsmap_mx_out *o) {
  if (o->len && !o->stopped && o->writer(o->buf, o->len, o->ctx) != 0)
    o->stopped = 1;
  o->len = 0;
}

static void tsmap_mx_put(tsmap_mx_out *o, const char *s, size_t n) {
  while (n > 0) {
    if (o->len == sizeof o->buf)
      tsmap_mx_flush(o);
    size_t k = sizeof o->buf - o->len < n ? sizeof o->buf - o->len : n;
    memcpy(o->buf + o->len, s, k);
    o->len += k;
    s += k;
    n -= k;
  }
}

static void tsmap_mx_puts(tsmap_mx_out *o, const char *s) { tsmap_mx_put(o, s, strlen(s)); }

static void tsmap_mx_printf(tsmap_mx_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void tsmap_mx_printf(tsmap_mx_out *o, const char *fmt, ...) {
  char tmp[64];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n > 0)
    tsmap_mx_put(o, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* A label value, escaped as the format says: backslash, double quote and line feed. */
static void tsmap_mx_label_value(tsmap_mx_out *o, const char *v) {
  for (; *v; v++) {
    if (*v == '\\')
      tsmap_mx_puts(o, "\\\\");
    else if (*v == '"')
      tsmap_mx_puts(o, "\\\"");
    else if (*v == '\n')
      tsmap_mx_puts(o, "\\n");
    else
      tsmap_mx_put(o, v, 1);
  }
}

/* `name{map="...",k1="v1",k2="v2"`: the series up to its closing brace. */
static void tsmap_mx_series(tsmap_mx_out *o, const char *name, const tsmap_mx_snap *sn,
                            const char *k1, const char *v1, const char *k2, const char *v2) {
  tsmap_mx_puts(o, name);
  tsmap_mx_puts(o, "{map=\"");
  tsmap_mx_label_value(o, sn->name);
  tsmap_mx_puts(o, "\"");
  const char *k[2] = {k1, k2}, *v[2] = {v1, v2};
  for (int i = 0; i < 2 && k[i]; i++) {
    tsmap_mx_printf(o, ",%s=\"", k[i]);
    tsmap_mx_label_value(o, v[i]);
    tsmap_mx_puts(o, "\"");
  }
}

static void tsmap_mx_value(tsmap_mx_out *o, uint64_t v) {
  tsmap_mx_printf(o, "} %llu\n", (unsigned long long)v);
}

/* A histogram's series: cumulative buckets, _sum (seconds) and _count. */
static void tsmap_mx_histogram(tsmap_mx_out *o, const char *name, const tsmap_mx_snap *sn,
                               const char *k, const char *v, const uint64_t *counts,
                               const char *const *le, int nb, double sum) {
  char series[96];
  uint64_t cum = 0;
  snprintf(series, sizeof series, "%s_bucket", name);
  for (int b = 0; b <= nb; b++) {
    cum += counts[b];
    tsmap_mx_series(o, series, sn, k, v, "le", b < nb ? le[b] : "+Inf");
    tsmap_mx_value(o, cum);
  }
  snprintf(series, sizeof series, "%s_sum", name);
  tsmap_mx_series(o, series, sn, k, v, NULL, NULL);
  tsmap_mx_printf(o, "} %.9g\n", sum);
  snprintf(series, sizeof series, "%s_count", name);
  tsmap_mx_series(o, series, sn, k, v, NULL, NULL);
  tsmap_mx_value(o, cum);
}

/* A status name as a label value: "TSMAP_NOT_FOUND" -> "not_found". */
static void tsmap_mx_status_label(tsmap_status s, char *out, size_t cap) {
  const char *n = tsmap_status_name(s) + 6;
  size_t i = 0;
  for (; n[i] && i + 1 < cap; i++)
    out[i] = (char)(n[i] >= 'A' && n[i] <= 'Z' ? n[i] - 'A' + 'a' : n[i]);
  out[i] = '\0';
}

static void tsmap_mx_emit_ops(tsmap_mx_out *o, const tsmap_mx_snap *sn) {
  char status[32];
  for (int op = 0; op < TSMAP_OP_COUNT; op++)
    for (int s = 0; s < TSMAP_MX_STATUSES; s++) {
      if (!sn->ops[op][s])
        continue;
      tsmap_mx_status_label((tsmap_status)s, status, sizeof status);
      tsmap_mx_series(o, "tsmap_operations_total", sn, "op", k_op_names[op], "status", status);
      tsmap_mx_value(o, sn->ops[op][s]);
    }
}

static void tsmap_mx_emit_durations(tsmap_mx_out *o, const tsmap_mx_snap *sn) {
  for (int op = 0; op < TSMAP_OP_COUNT; op++)
    if (sn->n[op])
      tsmap_mx_histogram(o, "tsmap_operation_duration_seconds", sn, "op", k_op_names[op],
                         sn->dur[op], k_dur_le, TSMAP_MX_DUR_BUCKETS, (double)sn->dur_ns[op] / 1e9);
}

static void tsmap_mx_emit_evictions(tsmap_mx_out *o, const tsmap_mx_snap *sn) {
  for (int r = 0; r < TSMAP_MX_REASONS; r++) {
    tsmap_mx_series(o, "tsmap_evictions_total", sn, "reason", k_reason_names[r], NULL, NULL);
    tsmap_mx_value(o, sn->left[r]);
  }
}

static void tsmap_mx_emit_lifespans(tsmap_mx_out *o, const tsmap_mx_snap *sn) {
  for (int r = 0; r < TSMAP_MX_REASONS; r++)
    if (r != TSMAP_EVICT_DISCARDED) /* never entered: no lifespan */
      tsmap_mx_histogram(o, "tsmap_entry_lifespan_seconds", sn, "reason", k_reason_names[r],
                         sn->life[r], k_life_le, TSMAP_MX_LIFE_BUCKETS,
                         (double)sn->life_ms[r] / 1e3);
}

/* A metric family: a single value per map (`field`, an offset in tsmap_mx_snap) or
 * labelled series (`emit`). `metered`: only maps created with config.metrics have it. */
typedef struct tsmap_mx_family_def {
  const char *name, *type, *help;
  size_t field;
  void (*emit)(tsmap_mx_out *o, const tsmap_mx_snap *sn);
  int metered;
} tsmap_mx_family_def;

#define TSMAP_MX_FIELD(f) offsetof(tsmap_mx_snap, f)
static const tsmap_mx_family_def k_families[] = {
    {"tsmap_operations_total", "counter",
     "Map operations completed, by operation and returned status.", 0, tsmap_mx_emit_ops, 1},
    {"tsmap_operation_duration_seconds", "histogram",
     "Duration of map operations. The count is exact; the timer runs on about 1 in "
     TSMAP_MX_SAMPLE_TEXT " operations of each kind per thread, each timed one standing for "
     "those since the last.",
     0, tsmap_mx_emit_durations, 1},
    {"tsmap_entries", "gauge", "Entries in the map.", TSMAP_MX_FIELD(entries), NULL, 0},
    {"tsmap_shards", "gauge", "Shards of the map.", TSMAP_MX_FIELD(shards), NULL, 0},
    {"tsmap_table_bytes", "gauge",
     "Bytes of the map's tables: current, old while growing, and those prepared for a "
     "growth or a reshard.",
     TSMAP_MX_FIELD(table_bytes), NULL, 0},
    {"tsmap_retired_bytes", "gauge",
     "Bytes the map has retired (old tables, removed long keys' blocks) and not freed yet, "
     "because a reader may still see them; freed by later writes or tsmap_maintain once no "
     "reader can.",
     TSMAP_MX_FIELD(retired_bytes), NULL, 0},
    {"tsmap_growth_in_progress", "gauge",
     "Shards whose entries are being moved to a larger table.", TSMAP_MX_FIELD(growing), NULL, 0},
    {"tsmap_migrated_groups_total", "counter",
     "Groups of 7 slots moved from an old table to a new one by growths.",
     TSMAP_MX_FIELD(migrated), NULL, 0},
    {"tsmap_evictions_total", "counter",
     "Values that left the map (to the eviction hook or to the caller), by reason; "
     "discarded: callback results that never entered.", 0, tsmap_mx_emit_evictions, 1},
    {"tsmap_entry_lifespan_seconds", "histogram",
     "Time from a value's insertion to its leaving the map, by reason, measured for the "
     "keys whose hash has 7 given bits clear (1 in 128): a sample of tsmap_evictions_total.",
     0,
     tsmap_mx_emit_lifespans, 1},
    {"tsmap_compute_retries_total", "counter",
     "compute and compute_if_present callbacks run again because the entry changed.",
     TSMAP_MX_FIELD(retries), NULL, 1},
    {"tsmap_single_flight_waits_total", "counter",
     "compute_if_absent calls that waited for another thread's callback for the same key.",
     TSMAP_MX_FIELD(waits), NULL, 1},
    {"tsmap_reentered_total", "counter",
     "Operations refused with TSMAP_REENTERED (a callback calling its own key, or a wait "
     "cycle).", TSMAP_MX_FIELD(reentered), NULL, 1},
};

/* Every family, each once, with the series of every snapshot. */
static void tsmap_mx_emit_all(tsmap_mx_out *o, const tsmap_mx_snap *sn, size_t n) {
  for (size_t f = 0; f < sizeof k_families / sizeof k_families[0]; f++) {
    const tsmap_mx_family_def *d = &k_families[f];
    int any = 0;
    for (size_t i = 0; i < n; i++)
      any |= sn[i].on || !d->metered;
    if (!any)
      continue;
    tsmap_mx_printf(o, "# HELP %s ", d->name);
    tsmap_mx_puts(o, d->help);
    tsmap_mx_printf(o, "\n# TYPE %s %s\n", d->name, d->type);
    for (size_t i = 0; i < n; i++) {
      if (d->metered && !sn[i].on)
        continue;
      if (d->emit) {
        d->emit(o, &sn[i]);
        continue;
      }
      uint64_t v;
      memcpy(&v, (const char *)&sn[i] + d->field, sizeof v);
      tsmap_mx_series(o, d->name, &sn[i], NULL, NULL, NULL, NULL);
      tsmap_mx_value(o, v);
    }
  }
  tsmap_mx_flush(o);
}

/* ======================================================================================
 * The public calls
 * ====================================================================================== */

static tsmap_mx_out *tsmap_mx_out_init(tsmap_mx_out *o, tsmap_metrics_writer writer, void *ctx) {
  if (o) {
    o->writer = writer;
    o->ctx = ctx;
    o->stopped = 0;
    o->len = 0;
  }
  return o;
}

static tsmap_mx_out *tsmap_mx_out_new(tsmap_metrics_writer writer, void *ctx) {
  return tsmap_mx_out_init((tsmap_mx_out *)malloc(sizeof(tsmap_mx_out)), writer, ctx);
}

tsmap_status tsmap_metrics_write(tsmap *map, tsmap_metrics_writer writer, void *ctx) {
  if (!map || !writer)
    return TSMAP_INVALID_ARGUMENT;
  /* G1: one map's scratch comes from its allocator, like foreach's copies (tsmap.h) */
  tsmap_mx_snap *sn = (tsmap_mx_snap *)tsmap_mem_alloc(map, sizeof *sn);
  tsmap_mx_out *o = tsmap_mx_out_init((tsmap_mx_out *)tsmap_mem_alloc(map, sizeof *o), writer, ctx);
  tsmap_status st = sn && o ? tsmap_mx_snap_map(map, sn) : TSMAP_NO_MEMORY;
  if (st == TSMAP_OK) {
    tsmap_mx_emit_all(o, sn, 1);
    st = o->stopped ? TSMAP_STOPPED : TSMAP_OK;
  }
  tsmap_mem_free(map, sn, sizeof *sn);
  tsmap_mem_free(map, o, sizeof *o);
  return st;
}

tsmap_status tsmap_metrics_write_all(tsmap_metrics_writer writer, void *ctx) {
  if (!writer)
    return TSMAP_INVALID_ARGUMENT;
  if (g_writing_all)
    return TSMAP_REENTERED;
  pthread_mutex_lock(&g_registry_lock);
  size_t n = 0, k = 0;
  for (struct tsmap_metrics *mx = g_registry; mx; mx = mx->next)
    n++;
  tsmap_mx_snap *sn = (tsmap_mx_snap *)malloc((n ? n : 1) * sizeof *sn);
  tsmap_mx_out *o = tsmap_mx_out_new(writer, ctx);
  tsmap_status st = sn && o ? TSMAP_OK : TSMAP_NO_MEMORY;
  for (struct tsmap_metrics *mx = g_registry; st == TSMAP_OK && mx; mx = mx->next)
    if (tsmap_mx_snap_map(mx->map, &sn[k]) == TSMAP_OK) /* closed maps are left out */
      k++;
  if (st == TSMAP_OK) {
    g_writing_all = 1;
    tsmap_mx_emit_all(o, sn, k);
    g_writing_all = 0;
    st = o->stopped ? TSMAP_STOPPED : TSMAP_OK;
  }
  pthread_mutex_unlock(&g_registry_lock);
  free(sn);
  free(o);
  return st;
}

/* tsmap_metrics_format's writer: copy what fits, count everything. */
typedef struct tsmap_mx_buf {
  char *buf;
  size_t cap, len;
} tsmap_mx_buf;

static int tsmap_mx_buf_write(const char *text, size_t len, void *ctx) {
  tsmap_mx_buf *b = (tsmap_mx_buf *)ctx;
  if (b->len < b->cap) {
    size_t room = b->cap - b->len;
    memcpy(b->buf + b->len, text, len < room ? len : room);
  }
  b->len += len;
  return 0;
}

tsmap_status tsmap_metrics_format(tsmap *map, char *buf, size_t cap, size_t *len_out) {
  if (!len_out || (!buf && cap)) /* (NULL, 0): only the length */
    return TSMAP_INVALID_ARGUMENT;
  tsmap_mx_buf b = {buf, cap, 0};
  tsmap_status st = map ? tsmap_metrics_write(map, tsmap_mx_buf_write, &b)
                        : tsmap_metrics_write_all(tsmap_mx_buf_write, &b);
  if (cap)
    buf[b.len < cap ? b.len : cap - 1] = '\0';
  *len_out = b.len;
  if (st == TSMAP_OK && buf && b.len >= cap)
    return TSMAP_NO_MEMORY; /* a buffer too small; (NULL, 0) asked for the length only */
  return st;
}
