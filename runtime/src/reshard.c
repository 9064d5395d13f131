/*
 * reshard.c - live resharding (G15, invariants R1-R10 in reshard.h): tsmap_reshard, the
 * phases that move entries between the shards of a pair, the routing of readers and
 * writers while a phase runs, and the auto policy that grows a contended map.
 *
 * A phase's life: started under the state's mutex (the route gets DIVERT and the phase's
 * from/to counts; R1; the helper thread takes it on, R10), then MIGRATING once the epoch
 * advanced twice (R2) and the helper prepared every destination (R10), then each pair's
 * source is scanned a few groups per write (and per tsmap_maintain), moving its moving
 * keys to the pair's destination (R3, R4); the writer that completes the last pair ends
 * the phase (route: the new mask, clean) and starts the next one if the target is not
 * reached yet.
 */
#include "reshard.h"
#include "metrics.h"
#include "reshard_mem.h"
#include "versions.h"

#include <sched.h>
#include <stdlib.h>
#include <time.h>

typedef struct tsmap_rstate {
  pthread_mutex_t mu;          /* phase starts and ends, target, foreach_active */
  size_t target;               /* mu: the shard count asked for */
  unsigned foreach_active;     /* mu: walks in progress (R6) */
  unsigned auto_strikes;       /* mu: consecutive contended windows (auto policy) */
  _Atomic size_t from, to;     /* the phase's counts, stored before the route shows it */
  _Atomic uint64_t phase;      /* phase id: a source shard's scan state belongs to one */
  _Atomic uint64_t start_epoch; /* the epoch when DIVERT was published (R2) */
  _Atomic size_t pairs_left;   /* pairs whose source still holds moving keys */
  _Atomic size_t help_next;    /* the pair tsmap_maintain continues with */
  _Atomic unsigned advance_tries; /* diverted writes that waited for R2 */
  _Atomic size_t shrinks;      /* R8: shards marked to get a smaller table (rs_shrink) */
  tsmap_rsmem *mem;            /* R10: the helper thread's state; NULL: writers do it all */
  /* Per source shard: how far its scan got this phase, in groups of its table, published
   * every TSMAP_RESHARD_HINT_EVERY groups. Only a hint for readers (R3): a moving key
   * whose home group lies below it has most likely moved, so look in the destination
   * first. shard_cap entries. */
  _Atomic uint32_t scanned[];
} tsmap_rstate;

#define TSMAP_RESHARD_HINT_EVERY 16 /* groups between two stores of a source's scan hint */

#define TSMAP_EPOCH_UNKNOWN (~(uint64_t)0)

static size_t tsmap_rs_bytes(const tsmap *m) {
  return sizeof(tsmap_rstate) + m->shard_cap * sizeof(_Atomic uint32_t);
}

static tsmap_rstate *tsmap_rs(const tsmap *m) {
  return atomic_load_explicit(&((tsmap *)m)->rs, memory_order_acquire);
}

pthread_mutex_t *tsmap_reshard_mutex(tsmap *m) {
  tsmap_rstate *rs = tsmap_rs(m);
  return rs ? &rs->mu : NULL;
}

/* Replace the route by one with mask `count - 1` and `flags`, its counter bumped. Fails
 * (0) once the map is closed: close owns the route from then on. */
static int tsmap_route_set(tsmap *m, size_t count, uint64_t flags) {
  uint64_t r = atomic_load(&m->route);
  for (;;) {
    if (r & TSMAP_ROUTE_CLOSED)
      return 0;
    uint64_t n = (((r & TSMAP_ROUTE_CTR) + TSMAP_ROUTE_TICK) & TSMAP_ROUTE_CTR) |
                 (uint64_t)(count - 1) | flags;
    if (atomic_compare_exchange_weak(&m->route, &r, n))
      return 1;
  }
}

/* ---- Phases ----------------------------------------------------------------------------- */

static size_t tsmap_route_count(uint64_t r) { return (size_t)(uint32_t)r + 1; }

/* mu held, no phase running: start the next phase towards the target, if any. The
 * helper takes it on before its route is published (R10); `may_start`: the caller may
 * start one (not a write ending the last phase). */
static void tsmap_phase_start(tsmap *m, tsmap_rstate *rs, int may_start) {
  uint64_t r = atomic_load(&m->route);
  size_t from = tsmap_route_count(r);
  if ((r & TSMAP_ROUTE_DIVERT) || rs->foreach_active || rs->target == from)
    return;
  size_t to = rs->target > from ? from * 2 : from / 2;
  atomic_store(&rs->from, from);
  atomic_store(&rs->to, to);
  atomic_store(&rs->pairs_left, from < to ? from : to);
  for (size_t i = 0; i < m->shard_cap; i++) /* the readers' hints of the last phase (R3) */
    atomic_store_explicit(&rs->scanned[i], 0, memory_order_relaxed);
  uint64_t phase = atomic_fetch_add(&rs->phase, 1) + 1;
  if (rs->mem)
    tsmap_rsmem_phase(m, rs->mem, phase, from, to, may_start);
  atomic_store(&rs->start_epoch, TSMAP_EPOCH_UNKNOWN); /* until read after DIVERT */
  if (!tsmap_route_set(m, from, TSMAP_ROUTE_DIVERT))
    return;
  atomic_store(&rs->start_epoch, atomic_load(&tsmap_global_epoch)); /* R2: after DIVERT */
}

/* mu held: the last pair is done: route by the new count, then go on towards the target. */
static void tsmap_phase_end(tsmap *m, tsmap_rstate *rs) {
  uint64_t r = atomic_load(&m->route);
  if (!(r & TSMAP_ROUTE_DIVERT) || atomic_load(&rs->pairs_left) != 0)
    return;
  if (!tsmap_route_set(m, atomic_load(&rs->to), 0))
    return;
  tsmap_phase_start(m, rs, 0); /* inside a write: the running helper goes on, no new one */
  if (rs->mem && !(atomic_load(&m->route) & TSMAP_ROUTE_DIVERT))
    tsmap_rsmem_idle(rs->mem); /* the target is reached */
}

/* A pair completed its last move: end the phase (whoever holds mu will, if we cannot). */
static void tsmap_pair_done(tsmap *m, tsmap_rstate *rs) {
  if (atomic_fetch_sub(&rs->pairs_left, 1) != 1)
    return;
  pthread_mutex_lock(&rs->mu);
  tsmap_phase_end(m, rs);
  pthread_mutex_unlock(&rs->mu);
}

/* Has the helper not yet answered for every destination of the phase running now (R10)? */
static int tsmap_helper_pending(tsmap_rstate *rs) {
  return rs->mem && !tsmap_rsmem_prepared(rs->mem, atomic_load(&rs->phase));
}

/* Route `r` is a phase not yet MIGRATING: switch it once the grace period is over (R2)
 * and the helper has prepared every destination (R10).
 * Returns 1 if the route changed (by us or by someone else). */
static int tsmap_try_migrate(tsmap *m, tsmap_rstate *rs, uint64_t r) {
  uint64_t start = atomic_load(&rs->start_epoch);
  if (start == TSMAP_EPOCH_UNKNOWN) /* the phase's start is still being published */
    return atomic_load(&m->route) != r;
  uint64_t target = start + 2;
  if (atomic_load(&tsmap_global_epoch) < target) {
    /* every 8th waiting write pushes the epoch: a try is a membarrier (an IPI to every
     * CPU running the process), too dear for every write of the window */
    if ((atomic_fetch_add_explicit(&rs->advance_tries, 1, memory_order_relaxed) & 7) == 0)
      tsmap_ebr_try_advance();
    if (atomic_load(&tsmap_global_epoch) < target)
      return atomic_load(&m->route) != r;
  }
  if (tsmap_helper_pending(rs)) /* R10: nothing moves before every destination is ready */
    return atomic_load(&m->route) != r;
  uint64_t n = (((r & TSMAP_ROUTE_CTR) + TSMAP_ROUTE_TICK) & TSMAP_ROUTE_CTR) |
               (r & (0xffffffffull | TSMAP_ROUTE_CLOSED)) | TSMAP_ROUTE_DIVERT |
               TSMAP_ROUTE_MIGRATING;
  atomic_compare_exchange_strong(&m->route, &r, n);
  return 1;
}

/* ---- Moving a pair's entries (both locks held) ------------------------------------------ */

typedef struct tsmap_pair {
  tsmap_shard *lo, *hi, *src, *dst;
  size_t n;       /* the smaller count: bit n of a shard index says the key moves */
  uint64_t phase; /* the phase from, to and the pairing belong to */
} tsmap_pair;

/* The pair of shard index i in the phase running now. The caller checks afterwards that
 * the route is still the one it read first: then from, to and phase are that phase's
 * (phase_start stores them before it publishes the route). */
static tsmap_pair tsmap_pair_of(tsmap *m, tsmap_rstate *rs, size_t i) {
  tsmap_pair p;
  p.phase = atomic_load(&rs->phase);
  size_t from = atomic_load(&rs->from), to = atomic_load(&rs->to);
  p.n = from < to ? from : to;
  p.lo = &m->shards[i & (p.n - 1)];
  p.hi = p.lo + p.n;
  p.src = from < to ? p.lo : p.hi;
  p.dst = from < to ? p.hi : p.lo;
  return p;
}

static void tsmap_pair_lock(const tsmap_pair *p) {
  tsmap_lock_acquire(&p->lo->lock); /* lo before hi: the one order (no deadlock) */
  tsmap_lock_acquire(&p->hi->lock);
  tsmap_ver_follow(p->dst, p->src); /* G12, V1: versions stay above the source's */
}
/* R9: the pair's lo's rs_seq, odd from its first move under these locks, is made even
 * again before they are released (a seqlock's writer side; the two counts are its data). */
static void tsmap_pair_seq_end(const tsmap_pair *p) {
  unsigned seq = atomic_load_explicit(&p->lo->rs_seq, memory_order_relaxed);
  if (seq & 1)
    atomic_store_explicit(&p->lo->rs_seq, seq + 1, memory_order_release);
}
static void tsmap_pair_unlock(const tsmap_pair *p) {
  tsmap_pair_seq_end(p);
  tsmap_lock_release(&p->hi->lock);
  tsmap_lock_release(&p->lo->lock);
}

/* What held a pair step up (tsmap_pair_step's *starved). */
#define TSMAP_RS_STARVED 1 /* its destination could not grow */
#define TSMAP_RS_WAITING 2 /* the helper has not answered for its destination yet (R10) */

static int tsmap_key_moves(const tsmap_pair *p, uint64_t hash) {
  return ((hash >> 32) & p->n) != 0;
}

/* Move the entry at `pos` of the source (both locks held), the pair's rs_seq odd first
 * (R9): its count stores follow the release fence, so a size that saw one sees the odd
 * seq. Only moves make it odd: a pair whose scan is done never makes a size retry. */
static int tsmap_pair_move(tsmap *m, const tsmap_pair *p, tsmap_pos *pos, uint64_t hash) {
  unsigned seq = atomic_load_explicit(&p->lo->rs_seq, memory_order_relaxed);
  if (!(seq & 1)) {
    atomic_store_explicit(&p->lo->rs_seq, seq + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
  }
  return tsmap_shard_move(m, p->src, pos, p->dst, hash);
}

/* Publish how far the source's scan got (the readers' hint, R3). */
static void tsmap_scan_hint(tsmap_rstate *rs, const tsmap *m, const tsmap_shard *s, size_t pos) {
  uint32_t at = (uint32_t)(pos < UINT32_MAX ? pos : UINT32_MAX);
  atomic_store_explicit(&rs->scanned[s - m->shards], at, memory_order_relaxed);
}

/* Prefetch, to be written, what a lookup or an insert of `hash` in shard s (locked)
 * touches first: its home group's writers' control word and the group's first two lines.
 * A hint: a table replaced meanwhile only wastes it. */
static void tsmap_prefetch_home(const tsmap_shard *s, uint64_t hash) {
  const tsmap_table *t = atomic_load_explicit(&((tsmap_shard *)s)->cur, memory_order_relaxed);
  if (!t)
    return;
  const char *g = (const char *)tsmap_table_group(t, hash & t->mask);
  __builtin_prefetch(&t->wctrl[hash & t->mask], 1);
  __builtin_prefetch(g, 1); /* both lines of an 8/8 group: seq and control, and slots */
  __builtin_prefetch(g + 64, 1);
}

/* Move the moving keys of group `gi` of the source's table `t` from slot `*from` on, at
 * most `*moves` of them (R4: the cap bounds a write's share). Returns 1 if the group holds
 * none any more, 0 if the cap stopped it, -1 if the destination could not grow; then
 * *from is the first slot not looked at yet: the slots below it hold keys that stay, or
 * none (moved, or a key that stays inserted since: moving keys are inserted into the
 * destination only), so the next step goes on from there without hashing them again.
 * The moves' destination groups are prefetched before the first move, so their misses
 * overlap instead of following one another. */
static int tsmap_group_move(tsmap *m, const tsmap_pair *p, tsmap_table *t, size_t gi,
                            size_t *moves, unsigned char *from) {
  uint64_t w[TSMAP_MAX_KEY_WORDS], hash[TSMAP_GROUP_SLOTS];
  unsigned slot[TSMAP_GROUP_SLOTS], n = 0;
  for (uint64_t full = tsmap_ctrl_full(t->wctrl[gi]) & (~0ull << (8 * *from)); full;
       full &= full - 1) {
    unsigned i = tsmap_first_slot(full);
    tsmap_word *sl = tsmap_slot(tsmap_table_group(t, gi), m->slot_words, i);
    uint64_t h;
    if (m->fast8 || m->fast8_meta) { /* an 8-byte key: its hash inline (tsmap_slot_hash) */
      h = tsmap_hash_u64(tsmap_ld(&sl[0]), m->seed);
    } else {
      for (size_t k = 0; k < m->key_words; k++)
        w[k] = tsmap_ld(&sl[k]);
      h = tsmap_slot_hash_of(m, w);
    }
    if (!tsmap_key_moves(p, h))
      continue;
    hash[n] = h;
    slot[n++] = i;
    if (n > *moves) /* one more than the cap may take: the group is not done */
      break;
    tsmap_prefetch_home(p->dst, h);
  }
  for (unsigned i = 0; i < n; i++) {
    *from = (unsigned char)slot[i];
    if (*moves == 0)
      return 0;
    tsmap_pos pos = {t, gi, slot[i]};
    if (tsmap_pair_move(m, p, &pos, hash[i]))
      return -1;
    --*moves;
  }
  *from = 0;
  return 1;
}

/* Prefetch the groups of the source the pair's next step scans (and their control words):
 * that step comes many writes later, by when the lines are in the cache, so a write's
 * share misses only in its moves' destinations. A hint: a table replaced meanwhile only
 * wastes it. */
static void tsmap_scan_prefetch(tsmap_shard *s) {
  const tsmap_table *t = atomic_load_explicit(&s->cur, memory_order_relaxed);
  if (!t || t != s->rs_table)
    return;
  for (size_t gi = s->rs_pos; gi < s->rs_pos + TSMAP_RESHARD_GROUPS && gi < t->ngroups; gi++) {
    const char *g = (const char *)tsmap_table_group(t, gi);
    for (size_t off = 0; off < t->stride; off += 64)
      __builtin_prefetch(g + off);
  }
  if (s->rs_pos < t->ngroups)
    __builtin_prefetch(&t->wctrl[s->rs_pos]);
}

/* R8: a step of giving back a scanned source's emptied pages. Returns 1 when this step
 * completed the pair (nothing, or nothing more, to give back), 0 otherwise and ever after
 * (rs_dropped SIZE_MAX: completed). A halving the helper took on completes at once: the
 * helper gives its sources back once the phase is over (R10; only a halving's sources
 * receive nothing until the next phase moves entries, which waits for the helper). */
static int tsmap_source_drop(tsmap *m, tsmap_rstate *rs, const tsmap_pair *p) {
  tsmap_shard *s = p->src;
  if (s->rs_dropped == SIZE_MAX)
    return 0;
  int helped = p->src == p->hi && rs->mem && tsmap_rsmem_helps(rs->mem, p->phase);
  if (!helped && !tsmap_shard_drop_step(s, &s->rs_dropped))
    return 0;
  if (p->src == p->hi) /* a halving's: an allocator's table is shed (black-box round 16) */
    tsmap_shard_shed(m, s, p->dst);
  s->rs_dropped = SIZE_MAX;
  return 1;
}

/* R7 and R10: the pair's destination gets room for what will move before the scan moves
 * anything: the table the helper prepared, once it answered (0 until then: the scan
 * waits), or, without a helper or without a table from it, one the writers allocate and
 * fault in (tsmap_shard_presize, stepped by tsmap_shard_presize_step). */
static int tsmap_pair_prepare(tsmap *m, tsmap_rstate *rs, const tsmap_pair *p) {
  size_t live = atomic_load_explicit(&p->src->count, memory_order_relaxed);
  size_t incoming = p->src == p->lo ? live / 2 : live;
  tsmap_table *t = NULL;
  if (rs->mem && tsmap_rsmem_helps(rs->mem, p->phase) &&
      !tsmap_rsmem_take_table(rs->mem, (size_t)(p->dst - m->shards), p->phase, &t))
    return 0;
  if (t && !p->dst->rs_next)
    p->dst->rs_next = t; /* faulted in: tsmap_shard_presize_step only publishes it */
  else if (t)
    tsmap_table_free(m, t); /* not reached: a pair's table is published before it ends */
  else
    tsmap_shard_presize(m, p->dst, incoming);
  p->src->rs_dst_ready = 1;
  return 1;
}

/* Scan up to `groups` groups of the pair's source, moving its moving keys (R3), at most
 * `moves` of them. Returns 1 if this call completed the pair. A destination that cannot
 * grow stops the scan where it is (tried again later) and sets TSMAP_RS_STARVED in
 * *starved; one the helper has not answered for yet, TSMAP_RS_WAITING (R10). */
static int tsmap_pair_step(tsmap *m, tsmap_rstate *rs, const tsmap_pair *p, size_t groups,
                           size_t moves, int *starved) {
  tsmap_shard *s = p->src;
  /* The phase may have ended since the caller checked the route, but only if this pair
   * was done already (its locks are held): then there is nothing to move by its rules. */
  if (atomic_load(&rs->phase) != p->phase)
    return 0;
  if (s->rs_phase != p->phase) {
    s->rs_phase = p->phase;
    s->rs_pos = 0;
    s->rs_slot = 0;
    s->rs_table = NULL;
    s->rs_done = 0;
    s->rs_dropped = 0;
    s->rs_dst_ready = 0;
    tsmap_scan_hint(rs, m, s, 0);
  }
  /* R7: the destination gets room for what will move, faulted in before the scan moves
   * anything (else its growths and their first-touch faults land in the writes) */
  if (!s->rs_dst_ready && !tsmap_pair_prepare(m, rs, p)) {
    *starved |= TSMAP_RS_WAITING;
    return 0;
  }
  if (s->rs_done) /* R8: an emptied source gives its pages back before the pair ends */
    return tsmap_source_drop(m, rs, p);
  while (groups > 0) {
    /* R7's preparation, while there is one (the test spares its call once it is over) */
    int prep = p->dst->rs_next ? tsmap_shard_presize_step(m, p->dst) : 0;
    if (prep < 0) { /* the destination's growth needs memory: this pair later */
      *starved |= TSMAP_RS_STARVED;
      break;
    }
    if (prep == 2) { /* a chunk of pages costs a writer's whole share */
      groups = groups > TSMAP_RESHARD_GROUPS ? groups - TSMAP_RESHARD_GROUPS : 0;
      continue;
    }
    groups--;
    if (prep)
      continue;
    if (atomic_load_explicit(&s->old, memory_order_relaxed)) { /* its own growth first */
      if (tsmap_shard_growth_step(m, s) < 0) { /* its rebuild found no memory (I3) */
        *starved |= TSMAP_RS_STARVED;
        break;
      }
      continue;
    }
    tsmap_table *t = atomic_load_explicit(&s->cur, memory_order_relaxed);
    if (t != s->rs_table) { /* a growth replaced the table: its entries are all in t */
      s->rs_table = t;
      s->rs_pos = 0;
      s->rs_slot = 0;
      tsmap_scan_hint(rs, m, s, 0);
    }
    if (s->rs_pos >= t->ngroups) {
      s->rs_done = 1;
      tsmap_scan_hint(rs, m, s, SIZE_MAX);
      if (p->src == p->lo && !s->rs_shrink) { /* R8: tsmap_maintain decides, later */
        s->rs_shrink = 1;
        atomic_fetch_add_explicit(&rs->shrinks, 1, memory_order_relaxed);
      }
      return tsmap_source_drop(m, rs, p);
    }
    int r = tsmap_group_move(m, p, t, s->rs_pos, &moves, &s->rs_slot);
    if (r <= 0) { /* the cap, or no memory for the destination's growth: this group later */
      *starved |= r < 0 ? TSMAP_RS_STARVED : 0;
      break;
    }
    if (++s->rs_pos % TSMAP_RESHARD_HINT_EVERY == 0)
      tsmap_scan_hint(rs, m, s, s->rs_pos);
  }
  tsmap_scan_prefetch(s);
  return 0;
}

/* Has the scan of the pair's source most likely passed the key (its home group below the
 * published position)? A stale or wrong answer costs a probe, never a result. */
static int tsmap_likely_moved(const tsmap *m, tsmap_rstate *rs, const tsmap_pair *p,
                              const tsmap_key *q) {
  uint64_t w = atomic_load_explicit(&m->probe8[2 * (size_t)(p->src - m->shards)],
                                    memory_order_relaxed); /* cur's size, from its probe word */
  size_t mask = ((size_t)1 << (w & TSMAP_PROBE8_LG)) - 1;
  uint32_t scanned = atomic_load_explicit(&rs->scanned[p->src - m->shards], memory_order_relaxed);
  return (q->hash & mask) < scanned;
}

/* ---- Writers (R4) ------------------------------------------------------------------------ */

int tsmap_reroute(tsmap *m, tsmap_key *q) {
  q->route = tsmap_route(m);
  q->shard = &m->shards[(q->hash >> 32) & q->route];
  return tsmap_writer_route(m, q);
}

/* For test_reshard.c: called by a writer that is about to route its key during a reshard
 * (after its operation's checks), so a test can close the map from another thread just
 * then. NULL outside that test. */
TSMAP_HIDDEN void (*_Atomic tsmap_test_before_reshard_route)(tsmap *m);
void (*_Atomic tsmap_test_before_reshard_route)(tsmap *m);

int tsmap_reshard_route(tsmap *m, tsmap_key *q, int keep) {
  void (*hook)(tsmap *) = atomic_load_explicit(&tsmap_test_before_reshard_route,
                                               memory_order_relaxed);
  if (TSMAP_UNLIKELY(hook != NULL))
    hook(m);
  tsmap_rstate *rs = tsmap_rs(m);
  for (;;) {
    uint64_t r = tsmap_route(m);
    q->route = r;
    q->shard = &m->shards[(q->hash >> 32) & r];
    if (!(r & TSMAP_ROUTE_DIVERT) || !rs)
      return 0; /* clean: the writer sees under its lock whether it still is */
    if (tsmap_is_closed(m)) { /* r may be close's own route, which no later change moves: */
      q->route = r ^ TSMAP_ROUTE_DIVERT; /* one that is never current, so the writer sees the */
      return 0;                          /* closure under its lock (its shard: r's) */
    }
    if (!(r & TSMAP_ROUTE_MIGRATING)) {
      if (tsmap_try_migrate(m, rs, r))
        continue;
      return 0; /* nothing moves yet: the key's old shard (R2) */
    }
    tsmap_pair p = tsmap_pair_of(m, rs, (size_t)(q->hash >> 32));
    if (tsmap_route(m) != r)
      continue; /* from/to belong to a later phase */
    int moves = tsmap_key_moves(&p, q->hash), done = 0, stuck = 0;
    /* A moving key the source's scan has likely passed is looked for in the destination
     * first (found there, it is in no other shard: R3), so its source lines, a page walk
     * of their own, are not fetched. Else the key's lines in its old and new shard are
     * fetched while the locks are taken and the share moves others (their misses
     * overlap); the share may move the key itself. */
    int moved = moves && tsmap_likely_moved(m, rs, &p, q);
    tsmap_shard_prefetch8(m, (size_t)((moves ? p.dst : p.lo) - m->shards), q->hash);
    if (moves && !moved)
      tsmap_shard_prefetch8(m, (size_t)(p.src - m->shards), q->hash);
    tsmap_pair_lock(&p);
    if (tsmap_route(m) == r && !tsmap_is_closed(m)) {
      tsmap_pos pos;
      int starved = 0; /* the write's own key decides its status (stuck, below) */
      done = tsmap_pair_step(m, rs, &p, TSMAP_RESHARD_GROUPS, TSMAP_RESHARD_MOVES, &starved);
      /* A key that cannot move (its new shard cannot grow) fails the write: working on
       * it in the source could reinsert it there behind the scan (an expired entry is
       * reaped, then the key inserted again), and the phase would end without it. */
      if (moves && !(moved && tsmap_shard_find(m, p.dst, q, &pos)) &&
          tsmap_shard_find(m, p.src, q, &pos) && tsmap_pair_move(m, &p, &pos, q->hash))
        stuck = 1;
    }
    tsmap_shard *dst = moves ? p.dst : p.lo;
    if (keep && !done && !stuck && tsmap_route(m) == r) {
      /* R4: the route was checked under both locks, so under dst's: the writer keeps
       * that one and works there (no second acquisition, no second check) */
      tsmap_pair_seq_end(&p);
      tsmap_lock_release(dst == p.lo ? &p.hi->lock : &p.lo->lock);
      q->shard = dst;
      return 1;
    }
    tsmap_pair_unlock(&p);
    if (done)
      tsmap_pair_done(m, rs);
    if (stuck)
      return -1;
    if (tsmap_route(m) != r)
      continue;
    q->shard = dst;
    return 0;
  }
}

/* ---- Readers (R2, R3) --------------------------------------------------------------------- */

/* One shard's look for the key: tsmap_shard_probe, or tsmap_shard_probe8 (8-byte keys). */
typedef int (*tsmap_probe_fn)(const tsmap *m, tsmap_shard *s, const tsmap_key *q,
                              uint64_t *vbuf, tsmap_token *tok);

/* Prefetch, to be read, the home group of `hash` in shard si of an 8-byte-key map, from
 * its probe word (no descriptor load). A hint: a stale word only wastes it. */
static inline void tsmap_reader_prefetch8(const tsmap *m, size_t si, uint64_t hash) {
  uint64_t w = atomic_load_explicit(&m->probe8[2 * si], memory_order_relaxed);
  const char *g = (const char *)tsmap_probe8_home(w, hash, tsmap_group_bytes(m));
  __builtin_prefetch(g);
  __builtin_prefetch(g + 64);
}

/* A moving key's read (R3). A moving key leaves its source at most once a phase and is
 * never inserted there again, so: old, then new; or, where it has likely moved, new,
 * then old, then new once more (a miss in the new shard may be an entry that moved
 * before the old one was probed: the move inserts it before deleting it). */
TSMAP_INLINE int tsmap_moving_read(const tsmap *m, tsmap_rstate *rs, const tsmap_pair *p,
                                   const tsmap_key *q, uint64_t *vbuf, tsmap_token *tok,
                                   const tsmap_probe_fn probe) {
  int f;
  /* The key's home group in its new shard is fetched while the old one is looked at: a
   * key its own write moved ahead of the scan is missed in the old shard (a whole probe
   * sequence), and the look in the new one then finds its line in the cache (G15). */
  if (probe == tsmap_shard_probe8)
    tsmap_reader_prefetch8(m, (size_t)(p->dst - m->shards), q->hash);
  if (tsmap_likely_moved(m, rs, p, q)) {
    f = probe(m, p->dst, q, vbuf, tok);
    if (f != 0)
      return f;
  }
  f = probe(m, p->src, q, vbuf, tok);
  if (f == 0)
    f = probe(m, p->dst, q, vbuf, tok);
  return f;
}

/* The reader's side of R2 and R3, with `probe` (a constant where it is inlined). */
TSMAP_INLINE int tsmap_read_routed(tsmap *m, const tsmap_key *q, uint64_t *vbuf,
                                   tsmap_token *tok, const tsmap_probe_fn probe) {
  tsmap_rstate *rs = tsmap_rs(m);
  for (;;) {
    uint64_t r = tsmap_route(m);
    if (tsmap_is_closed(m) || ((r & TSMAP_ROUTE_DIVERT) && !rs))
      return -1;
    tsmap_shard *s = &m->shards[(q->hash >> 32) & r];
    if (!(r & TSMAP_ROUTE_DIVERT))
      return probe(m, s, q, vbuf, tok); /* clean, read inside the section: R2 */
    int f;
    if (!(r & TSMAP_ROUTE_MIGRATING)) {
      f = probe(m, s, q, vbuf, tok);
    } else {
      tsmap_pair p = tsmap_pair_of(m, rs, (size_t)(q->hash >> 32));
      if (tsmap_route(m) != r)
        continue;
      if (!tsmap_key_moves(&p, q->hash))
        f = probe(m, p.lo, q, vbuf, tok);
      else
        f = tsmap_moving_read(m, rs, &p, q, vbuf, tok, probe);
    }
    if (f != 0)
      return f;
    atomic_thread_fence(memory_order_acquire);
    if (tsmap_route(m) == r)
      return 0;
  }
}

int tsmap_reshard_read(const tsmap *cm, const tsmap_key *q, uint64_t *vbuf, tsmap_token *tok) {
  return tsmap_read_routed((tsmap *)(uintptr_t)cm, q, vbuf, tok, tsmap_shard_probe);
}

/* The 8-byte get's way through a phase: no key preparation, the 8-byte group reader, and
 * the same shards in the same order as any read (R2, R3). Inside a read-side section. */
TSMAP_INLINE int tsmap_reshard_read8(tsmap *m, const void *key, uint64_t *v) {
  tsmap_key q;
  tsmap_token tok;
  memcpy(&q.w[0], key, 8);
  q.hash = tsmap_hash_u64(q.w[0], m->seed);
  return tsmap_read_routed(m, &q, v, &tok, tsmap_shard_probe8);
}

/* From the generic get (a get in another section, a thread's first call). */
int tsmap_reshard_get8(tsmap *m, const void *key, uint64_t *v) {
  tsmap_thread *self = tsmap_tls_self;
  if (!self || self->computing || !(tsmap_route(m) & TSMAP_ROUTE_DIVERT))
    return -2;
  tsmap_read_enter(self);
  int r = tsmap_reshard_read8(m, key, v);
  tsmap_read_exit(self);
  return r;
}

/* From tsmap_get8's -3, straight from the public get: no generic get, no nesting count. */
tsmap_status tsmap_reshard_get8v(tsmap *m, const void *key, size_t n, void *value_out) {
  tsmap_thread *self = tsmap_tls_self; /* registered, in no section (tsmap_get8) */
  uint64_t v;
  tsmap_read_enter_outer(self);
  int r = tsmap_reshard_read8(m, key, &v);
  tsmap_read_exit_outer(self);
  if (r == 1) {
    if (value_out && n == 8) /* the 8/8 map's: one store, no memcpy call */
      memcpy(value_out, &v, 8);
    else if (value_out)
      memcpy(value_out, &v, n);
    return TSMAP_OK;
  }
  return r == 0 ? TSMAP_NOT_FOUND : TSMAP_CLOSED;
}

/* ---- The call ------------------------------------------------------------------------------ */

static tsmap_status tsmap_rs_get(tsmap *m, tsmap_rstate **out) {
  tsmap_rstate *rs = tsmap_rs(m);
  if (!rs) {
    tsmap_rstate *n = (tsmap_rstate *)tsmap_mem_zalloc(m, tsmap_rs_bytes(m));
    if (!n)
      return TSMAP_NO_MEMORY;
    if (pthread_mutex_init(&n->mu, NULL) != 0) {
      tsmap_mem_free(m, n, tsmap_rs_bytes(m));
      return TSMAP_NO_MEMORY;
    }
    /* where the map is: a call that fails after this (its first tables) leaves no target
     * behind for a later phase start (foreach's end) to move towards (0 halved the map) */
    n->target = tsmap_shard_count(m);
    /* R10: a helper for the memory work, unless configured off or of no use (a custom
     * allocator's tables are never mapped); without its state the writers do it all */
    if (!m->cfg.reshard_no_helper && !m->alloc.alloc)
      n->mem = tsmap_rsmem_new(m);
    tsmap_rstate *expect = NULL;
    if (atomic_compare_exchange_strong(&m->rs, &expect, n)) {
      rs = n;
    } else {
      tsmap_rsmem_free(m, n->mem);
      pthread_mutex_destroy(&n->mu);
      tsmap_mem_free(m, n, tsmap_rs_bytes(m));
      rs = expect;
    }
  }
  *out = rs;
  return TSMAP_OK;
}

static tsmap_status tsmap_reshard_body(tsmap *map, size_t new_count) {
  if (!map)
    return TSMAP_INVALID_ARGUMENT;
  if (tsmap_is_closed(map))
    return TSMAP_CLOSED;
  if (new_count == 0 || (new_count & (new_count - 1)) != 0 || new_count > map->shard_cap ||
      map->bounded || map->replicas) /* G13: tombstones stay in their shard */
    return TSMAP_INVALID_ARGUMENT;
  tsmap_rstate *rs;
  tsmap_status st = tsmap_rs_get(map, &rs);
  if (st != TSMAP_OK)
    return st;
  pthread_mutex_lock(&rs->mu);
  if (tsmap_is_closed(map)) {
    pthread_mutex_unlock(&rs->mu);
    return TSMAP_CLOSED;
  }
  for (size_t i = tsmap_shard_hw(map); i < new_count; i++) { /* first tables: G1 */
    if (tsmap_shard_init_table(map, i) != TSMAP_OK) {
      pthread_mutex_unlock(&rs->mu);
      return TSMAP_NO_MEMORY;
    }
    atomic_store(&map->shard_hw, i + 1);
  }
  rs->target = new_count;
  tsmap_phase_start(map, rs, 1); /* unless one runs: it goes on to the target when it ends */
  pthread_mutex_unlock(&rs->mu);
  return TSMAP_OK;
}

tsmap_status tsmap_reshard(tsmap *map, size_t new_count) {
  TSMAP_OP_RUN(map, TSMAP_OP_RESHARD, tsmap_reshard_body(map, new_count));
}

tsmap_status tsmap_shard_counts(tsmap *map, size_t *count_out, size_t *target_out) {
  if (!map)
    return TSMAP_INVALID_ARGUMENT;
  if (tsmap_is_closed(map))
    return TSMAP_CLOSED;
  tsmap_rstate *rs = tsmap_rs(map);
  size_t n = tsmap_shard_count(map), target = n;
  if (rs) {
    pthread_mutex_lock(&rs->mu); /* phases start and end under it: a consistent view */
    target = rs->target ? rs->target : n;
    n = tsmap_shard_count(map);
    /* a phase runs even when the target was set back to where it started from: then the
     * map is on its way to the phase's end first */
    if ((tsmap_route(map) & TSMAP_ROUTE_DIVERT) && target == n)
      target = atomic_load(&rs->to);
    pthread_mutex_unlock(&rs->mu);
  }
  if (count_out)
    *count_out = n;
  if (target_out)
    *target_out = target;
  return TSMAP_OK;
}

/* ---- Size and placement (R9) ------------------------------------------------------------- */

/* Whether route `r` (just read) is a phase's: 1 with the phase's shard counts in *from
 * and *to, read while the route still was `r`; 0 when it is none (clean, or closed); -1
 * when the route moved meanwhile (read it again). */
static int tsmap_phase_of(tsmap *m, tsmap_rstate *rs, uint64_t r, size_t *from, size_t *to) {
  if (!(r & TSMAP_ROUTE_DIVERT) || (r & TSMAP_ROUTE_CLOSED) || !rs)
    return 0;
  *from = atomic_load(&rs->from);
  *to = atomic_load(&rs->to);
  return tsmap_route(m) == r ? 1 : -1;
}

/* The entries of the pair lo = shards[i], hi = lo + n, as of a moment with no move half
 * done: read between two equal even values of lo's rs_seq (a seqlock over both counts).
 * No lock: a try fails only while a move runs in the pair or when one ran meanwhile,
 * and a phase moves each of the pair's moving entries once. */
static size_t tsmap_pair_size(tsmap *m, size_t i, size_t n) {
  tsmap_shard *lo = &m->shards[i], *hi = lo + n;
  for (unsigned t = 1;; t++) {
    unsigned seq = atomic_load_explicit(&lo->rs_seq, memory_order_acquire);
    if (!(seq & 1)) {
      size_t c = atomic_load_explicit(&lo->count, memory_order_relaxed) +
                 atomic_load_explicit(&hi->count, memory_order_relaxed);
      atomic_thread_fence(memory_order_acquire);
      if (atomic_load_explicit(&lo->rs_seq, memory_order_relaxed) == seq)
        return c;
    }
    if (t % 64 == 0) /* a mover preempted with its seq odd */
      sched_yield();
  }
}

/* R9. With a clean route no entry moves unless the route changes first (a mover read the
 * route MIGRATING before the release fence of tsmap_pair_move, so a sum that saw a move's
 * count reads a changed route after its acquire fence): sum the shards, and keep the sum
 * if the route is the same after it. During a phase, each pair's two counts are read together
 * (tsmap_pair_size) and the shards beyond the phase's pairs, which nothing moves to or
 * from, plainly; the route must again be the same after (the pairs are that route's).
 * A route changes three times a phase, so this retries about as often as a get (R3). */
size_t tsmap_reshard_size(tsmap *m) {
  tsmap_rstate *rs = tsmap_rs(m);
  for (;;) {
    uint64_t r = tsmap_route(m);
    size_t n = 0, sum = 0, hw = tsmap_shard_hw(m), from, to;
    int phase = tsmap_phase_of(m, rs, r, &from, &to);
    if (phase < 0)
      continue;
    if (phase)
      n = from < to ? from : to; /* the phase's pairs */
    for (size_t i = 0; i < n; i++)
      sum += tsmap_pair_size(m, i, n);
    for (size_t i = 2 * n; i < hw; i++)
      sum += atomic_load_explicit(&m->shards[i].count, memory_order_relaxed);
    atomic_thread_fence(memory_order_acquire);
    if (tsmap_route(m) == r || tsmap_is_closed(m))
      return sum;
  }
}

size_t tsmap_reshard_span(tsmap *m) {
  tsmap_rstate *rs = tsmap_rs(m);
  for (;;) {
    uint64_t r = tsmap_route(m);
    size_t from, to;
    int phase = tsmap_phase_of(m, rs, r, &from, &to);
    if (phase >= 0)
      return phase ? (from > to ? from : to) : tsmap_route_count(r);
  }
}

/* ---- Helpers: tsmap_maintain, foreach, close ------------------------------------------------ */

/* One round of help: scan up to `groups` groups, pair by pair. Returns 1 while a phase
 * runs (0: none, or closed); *starved is set when a destination could not grow (or a
 * source's own growth could not rebuild, I3), which ends the round. */
static int tsmap_help_round(tsmap *m, tsmap_rstate *rs, size_t groups, int *starved) {
  uint64_t r = tsmap_route(m);
  if (!(r & TSMAP_ROUTE_DIVERT) || tsmap_is_closed(m))
    return 0;
  if (!(r & TSMAP_ROUTE_MIGRATING)) {
    tsmap_try_migrate(m, rs, r);
    return 1;
  }
  size_t from = atomic_load(&rs->from), to = atomic_load(&rs->to);
  size_t n = from < to ? from : to;
  if (tsmap_route(m) != r)
    return 1;
  while (groups > 0) {
    size_t chunk = groups < 64 ? groups : 64;
    groups -= chunk;
    tsmap_pair p = tsmap_pair_of(m, rs, atomic_fetch_add(&rs->help_next, 1) & (n - 1));
    tsmap_pair_lock(&p);
    int done = 0;
    if (tsmap_route(m) == r && !tsmap_is_closed(m))
      done = tsmap_pair_step(m, rs, &p, chunk, SIZE_MAX, starved);
    tsmap_pair_unlock(&p);
    if (done)
      tsmap_pair_done(m, rs);
    /* a destination without memory: the phase waits for it, and so does this round (a
     * budget of SIZE_MAX, tsmap_maintain's one pass, looped for ever: black-box round 7) */
    if (tsmap_route(m) != r || (*starved & TSMAP_RS_STARVED))
      break;
  }
  return 1;
}

/* R8: once no reshard runs, the sources of past doublings (marked when their scan
 * completed) are fitted, up to `n` of them: tsmap_shard_fit gives those whose table is
 * over twice their need a smaller one. Not at the end of the scan
 * that left them so: a reshard back down would grow them again at once (G's down phase:
 * 40% more time a put, 12 times the page faults, when it did). */
static void tsmap_shrink_marked(tsmap *m, tsmap_rstate *rs, size_t n) {
  size_t hw = tsmap_shard_hw(m);
  for (size_t i = 0; i < hw && n > 0 && atomic_load_explicit(&rs->shrinks, memory_order_relaxed);
       i++) {
    tsmap_shard *s = &m->shards[i];
    tsmap_lock_acquire(&s->lock);
    if (s->rs_shrink && !(tsmap_route(m) & TSMAP_ROUTE_DIVERT)) {
      s->rs_shrink = 0;
      atomic_fetch_sub_explicit(&rs->shrinks, 1, memory_order_relaxed);
      if (i < tsmap_shard_count(m))
        tsmap_shard_fit(m, s);
      n--;
    }
    tsmap_lock_release(&s->lock);
  }
}

void tsmap_reshard_help(tsmap *m, size_t groups) {
  tsmap_rstate *rs = tsmap_rs(m);
  int starved = 0; /* tried again at the next call */
  if (rs && groups && !tsmap_help_round(m, rs, groups, &starved) && !tsmap_is_closed(m) &&
      atomic_load_explicit(&rs->shrinks, memory_order_relaxed))
    tsmap_shrink_marked(m, rs, groups / 64 + 1);
}

/* Drive phases until none runs (foreach; no lock held, outside any read-side section).
 * TSMAP_NO_MEMORY when a destination could not grow: the phase cannot finish until
 * memory comes back, and waiting for it would spin for ever (an independent test's
 * foreach did, under a failing allocator). */
static tsmap_status tsmap_reshard_finish(tsmap *m, tsmap_rstate *rs) {
  int starved = 0;
  while (tsmap_help_round(m, rs, 1024, &starved)) {
    if (starved & TSMAP_RS_STARVED)
      return TSMAP_NO_MEMORY;
    uint64_t r = tsmap_route(m);
    int waiting = (starved & TSMAP_RS_WAITING) != 0; /* for the helper's tables (R10) */
    starved = 0;
    if (waiting || ((r & TSMAP_ROUTE_DIVERT) && !(r & TSMAP_ROUTE_MIGRATING) &&
                    (tsmap_helper_pending(rs) || !tsmap_ebr_try_advance()))) {
      struct timespec ts = {0, 50000}; /* for readers to leave their sections, or the helper */
      nanosleep(&ts, NULL);
    }
  }
  return TSMAP_OK;
}

/* Can a phase ever run on this map? Not on those tsmap_reshard refuses (bounded,
 * replicated) nor on one with a single shard and no room for more. */
static int tsmap_reshardable(const tsmap *m) {
  return !m->bounded && !m->replicas && m->shard_cap > 1;
}

/* R6. The state is made here if no reshard made it yet: a walk that found none and went on
 * without counting itself let a reshard asked for by its visitor, or by another thread
 * between the look and the walk, start a phase in the middle of the walk (an independent
 * tester's foreach missed 1,522 of 3,000 keys, or visited 2,252 twice), and its exit then
 * took foreach_active below zero: from then on a phase could start only while a walk ran. */
tsmap_status tsmap_reshard_foreach_enter(tsmap *m) {
  if (tsmap_is_closed(m)) /* the walk's own status, before the state's allocation can fail */
    return TSMAP_CLOSED;
  if (!tsmap_reshardable(m))
    return TSMAP_OK;
  tsmap_rstate *rs;
  tsmap_status st = tsmap_rs_get(m, &rs);
  if (st != TSMAP_OK)
    return st;
  pthread_mutex_lock(&rs->mu);
  rs->foreach_active++;
  pthread_mutex_unlock(&rs->mu);
  st = tsmap_reshard_finish(m, rs);
  if (st != TSMAP_OK)
    tsmap_reshard_foreach_exit(m); /* no walk: the caller does not call exit */
  return st;
}

/* After a tsmap_reshard_foreach_enter that returned TSMAP_OK, once the walk is over. */
void tsmap_reshard_foreach_exit(tsmap *m) {
  tsmap_rstate *rs = tsmap_rs(m);
  if (!rs || !tsmap_reshardable(m))
    return;
  pthread_mutex_lock(&rs->mu);
  rs->foreach_active--;
  tsmap_phase_start(m, rs, 1); /* one asked for during the walk */
  pthread_mutex_unlock(&rs->mu);
}

/* After mu, no call starts a helper (each looks at the closure under mu); the helper is
 * stopped and joined without mu: a writer may wait for mu holding a shard lock (the auto
 * policy) that the helper may be waiting for (R10). */
void tsmap_reshard_close_barrier(tsmap *m) {
  tsmap_rstate *rs = tsmap_rs(m);
  if (rs) {
    pthread_mutex_lock(&rs->mu);
    pthread_mutex_unlock(&rs->mu);
    tsmap_rsmem_stop(m, rs->mem);
  }
}

void tsmap_reshard_free(tsmap *m) {
  tsmap_rstate *rs = tsmap_rs(m);
  if (rs) {
    tsmap_rsmem_free(m, rs->mem);
    pthread_mutex_destroy(&rs->mu);
    tsmap_mem_free(m, rs, tsmap_rs_bytes(m));
    atomic_store(&m->rs, NULL);
  }
}

size_t tsmap_reshard_prepared_bytes(tsmap *m) {
  tsmap_rstate *rs = tsmap_rs(m);
  return rs ? tsmap_rsmem_ready_bytes(rs->mem) : 0;
}

/* Test support (test_reshard.c): shard i's entries, and a write's share (R4). */
TSMAP_HIDDEN size_t tsmap_debug_shard_entries(tsmap *m, size_t i);
size_t tsmap_debug_shard_entries(tsmap *m, size_t i) { return atomic_load(&m->shards[i].count); }
TSMAP_HIDDEN size_t tsmap_debug_reshard_moves(void);
size_t tsmap_debug_reshard_moves(void) { return TSMAP_RESHARD_MOVES; }
/* ... and what the helper did (R10): destination tables prepared, sources given back;
 * whether it still runs. */
TSMAP_HIDDEN int tsmap_debug_reshard_helper(tsmap *m, size_t *tables, size_t *sources);
int tsmap_debug_reshard_helper(tsmap *m, size_t *tables, size_t *sources) {
  tsmap_rstate *rs = tsmap_rs(m);
  int running;
  tsmap_rsmem_counts(rs ? rs->mem : NULL, tables, sources, &running);
  return running;
}

/* ---- The auto policy ------------------------------------------------------------------------ */

/* A reshard_auto map's state, made by tsmap_create: the policy below runs with a shard
 * lock held, and making the state there added its helper's fork watch under that lock,
 * waiting for the fork handlers' mutex, which a fork's prepare handler holds while it
 * waits for that same shard lock (1 s): the fork went on with the lock held, and the
 * child's writes to that shard hung (black-box round 15, test_first_use.c's
 * auto_reshard_vs_fork: 4 of 8 children). */
tsmap_status tsmap_reshard_auto_prepare(tsmap *m) {
  tsmap_rstate *rs;
  return m->cfg.reshard_auto ? tsmap_rs_get(m, &rs) : TSMAP_OK;
}

/* Shard s's lock was contended (held now). Every TSMAP_RESHARD_AUTO_WAITS waits the shard
 * looks at how many writes it took (its chores counter counts writes): more than
 * permille/1000 waits per write is a contended window; two in a row (hysteresis: one
 * burst does not reshard) double the count, unless a reshard runs already. */
void tsmap_reshard_note_wait(tsmap *m, tsmap_shard *s) {
  if (++s->rs_waits < TSMAP_RESHARD_AUTO_WAITS)
    return;
  unsigned writes = s->chores - s->rs_window_start;
  s->rs_waits = 0;
  s->rs_window_start = s->chores;
  unsigned permille = m->cfg.reshard_auto_permille ? m->cfg.reshard_auto_permille : 20;
  int hot = (uint64_t)TSMAP_RESHARD_AUTO_WAITS * 1000 > (uint64_t)writes * permille;
  tsmap_rstate *rs = tsmap_rs(m); /* made at create: never here, under the shard lock */
  if (!rs || pthread_mutex_trylock(&rs->mu) != 0)
    return;
  size_t n = tsmap_shard_count(m);
  rs->auto_strikes = hot ? rs->auto_strikes + 1 : 0;
  if (rs->auto_strikes >= 2 && !(tsmap_route(m) & TSMAP_ROUTE_DIVERT) && n * 2 <= m->shard_cap &&
      (rs->target == 0 || rs->target == n)) {
    rs->auto_strikes = 0;
    pthread_mutex_unlock(&rs->mu);
    (void)tsmap_reshard(m, n * 2); /* takes mu itself */
    return;
  }
  pthread_mutex_unlock(&rs->mu);
}
