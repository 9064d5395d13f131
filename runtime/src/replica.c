/*
 * replica.c - merging a peer's change into a replicated map (G13): vector clocks
 * compared, the dominating side kept, concurrent sides handed to the resolver with no
 * lock held, clocks joined; tsmap_resolve_latest; the transport encoding of a change.
 *
 * A merge locks the key's shard and looks at what the key has: a live entry, a
 * tombstone, or nothing (clock zero). If the remote clock is dominated or equal, nothing
 * changes. If it dominates, the remote value or tombstone replaces the local side, with
 * the remote clock and stamp. If the clocks are concurrent, the merge copies the local
 * side, unlocks, runs the resolver, relocks and applies the verdict only if the local
 * side's version did not move meanwhile (else it starts over: the resolver may run more
 * than once). Every change takes a new local version (V1), so export passes it on.
 */
#include "versions.h"
#include "bound.h"
#include "expiry.h"
#include "metrics.h"

/* ======================================================================================
 * Clocks
 * ====================================================================================== */

#define TSMAP_CLOCK_LT 1 /* some counter of a is below b's */
#define TSMAP_CLOCK_GT 2 /* some counter of a is above b's */

static unsigned tsmap_clock_cmp(const uint64_t *a, const uint64_t *b, size_t n) {
  unsigned r = 0;
  for (size_t i = 0; i < n; i++)
    r |= (a[i] < b[i] ? TSMAP_CLOCK_LT : 0) | (a[i] > b[i] ? TSMAP_CLOCK_GT : 0);
  return r;
}

static void tsmap_clock_join(uint64_t *dst, const uint64_t *a, const uint64_t *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    dst[i] = a[i] > b[i] ? a[i] : b[i];
}

/* Raise the version counter to at least `t` (V3: local stamps stay above remote ones). */
static void tsmap_ver_bump(tsmap *m, uint64_t t) {
  uint64_t cur = atomic_load_explicit(&m->version_next, memory_order_relaxed);
  while (cur < t && !atomic_compare_exchange_weak_explicit(&m->version_next, &cur, t,
                                                           memory_order_relaxed,
                                                           memory_order_relaxed)) {
  }
}

/* ======================================================================================
 * The local side of a key (shard lock held)
 * ====================================================================================== */

enum { TSMAP_SIDE_NONE, TSMAP_SIDE_ENTRY, TSMAP_SIDE_TOMB };

typedef struct tsmap_side {
  int kind;
  tsmap_pos pos;                      /* ENTRY */
  uint64_t vw[TSMAP_MAX_VALUE_WORDS]; /* ENTRY: value and meta words */
  uint64_t clock[TSMAP_MAX_REPLICAS];
  uint64_t stamp, version;
  int local; /* TOMB: a capacity eviction's (V4) */
} tsmap_side;

/* Look `q` up: 0, or -1 when an expired entry could not be reaped (G10). */
static int tsmap_side_look(tsmap *m, const tsmap_key *q, tsmap_after *after, tsmap_side *l) {
  int found = tsmap_shard_find_live(m, q->shard, q, &l->pos, after);
  if (found < 0)
    return -1;
  size_t at = tsmap_ver_at(m), st = tsmap_stamp_at(m);
  tsmap_tomb *t = found ? NULL : tsmap_tomb_find(m, q);
  l->kind = found ? TSMAP_SIDE_ENTRY : t ? TSMAP_SIDE_TOMB : TSMAP_SIDE_NONE;
  if (found)
    tsmap_pos_read_value(m, &l->pos, l->vw);
  for (size_t i = 0; i < m->replicas; i++)
    l->clock[i] = found ? l->vw[st + 1 + i] : t ? t->w[i] : 0;
  l->stamp = found ? l->vw[st] : t ? t->stamp : 0;
  l->version = found ? l->vw[at] : t ? t->version : 0;
  l->local = t ? t->local : 0;
  return 0;
}

/* The side as a change, for the resolver. */
static tsmap_change tsmap_side_change(const tsmap *m, const tsmap_key *q, const tsmap_side *l) {
  tsmap_change c;
  c.key = q->p;
  c.key_len = q->len;
  c.value = l->kind == TSMAP_SIDE_ENTRY ? l->vw : NULL;
  c.clock = l->clock;
  c.clock_len = m->replicas;
  c.stamp = l->stamp;
  c.version = l->version;
  return c;
}

/* ======================================================================================
 * Applying an outcome (shard lock held)
 * ====================================================================================== */

/* What a merge did, for the hooks once unlocked. */
typedef struct tsmap_merge_out {
  const void *created;         /* a value stored (on_entry_created), or NULL */
  int left;                    /* the local value left */
  tsmap_evict_reason why;      /* ... replaced or removed */
  int rejected;                /* G11, B5: the value stored was not admitted */
} tsmap_merge_out;

/* The weight of `value` on a weighted map (G11, B6; no lock held: the user's function), else 0. */
static uint64_t tsmap_merge_weigh(const tsmap *m, const tsmap_key *q, const void *value) {
  return m->weighted && value ? m->cfg.weight(q->p, q->len, value, m->cfg.weight_ctx) : 0;
}

/* Make the key hold `value` (NULL: a tombstone) with `clock` and `stamp`; `weight`: the
 * value's, weighed beforehand with no lock held (a weighted map). */
static tsmap_status tsmap_side_set(tsmap *m, tsmap_key *q, const tsmap_side *l,
                                   const void *value, uint64_t weight, const uint64_t *clock,
                                   uint64_t stamp, tsmap_after *after, tsmap_merge_out *out) {
  tsmap_ver_in in = {clock, stamp};
  tsmap_status st = TSMAP_OK;
  if (TSMAP_UNLIKELY(m->weighted) && value) { /* G11, B6: as every other store */
    if (weight > q->shard->max_weight)
      return TSMAP_TOO_HEAVY; /* nothing changed */
    q->weight = weight;       /* the insert makes room for it (tsmap_bound_make_room) */
    if (l->kind == TSMAP_SIDE_ENTRY &&
        tsmap_bound_fit_overwrite(m, q->shard, &l->pos, q, after) != 0)
      return TSMAP_NO_MEMORY; /* no room could be made: nothing changed */
  }
  q->ver = &in;
  if (value && l->kind == TSMAP_SIDE_ENTRY) {
    tsmap_pos_write_value(m, &l->pos, q, value);
  } else if (value) {
    /* G11, B5 on a bounded map: a value admission refuses is a capacity eviction, and
     * leaves a tombstone with its clock as one (V4), else an older write of the key got
     * in later (black-box round 8); its record first, so that none fails after */
    if (TSMAP_UNLIKELY(m->bounded) && tsmap_tomb_reserve(m, q) != 0)
      st = TSMAP_NO_MEMORY;
    else
      st = tsmap_shard_insert(m, q->shard, q, value, after); /* takes the tombstone */
    if (st == TSMAP_OK && after->rejected)
      (void)tsmap_tomb_set(m, q, clock, stamp, 0, 1); /* local (V4): reserved above */
  } else if (tsmap_tomb_reserve(m, q) != 0) {
    st = TSMAP_NO_MEMORY; /* no room for the tombstone: nothing changed */
  } else {
    if (l->kind == TSMAP_SIDE_ENTRY)
      tsmap_shard_erase(m, q->shard, &l->pos, TSMAP_EVICT_REMOVED); /* V4 */
    (void)tsmap_tomb_set(m, q, clock, stamp, 0, 0); /* fills the erase's (or the reserve) */
  }
  q->ver = NULL;
  if (st != TSMAP_OK)
    return st;
  /* a value bytewise equal to the local one stays, as a compute's equal STORE (G6): no
   * hook, or one that frees what a pointer value refers to would free a live value */
  int same = value && l->kind == TSMAP_SIDE_ENTRY &&
             (value == l->vw || memcmp(value, l->vw, m->value_size) == 0);
  out->created = same ? NULL : value;
  out->left = l->kind == TSMAP_SIDE_ENTRY && !same;
  out->why = value ? TSMAP_EVICT_REPLACED : TSMAP_EVICT_REMOVED;
  return out->left ? TSMAP_REPLACED : TSMAP_OK;
}

/* Apply a resolver's verdict: the joined clock, and the larger stamp, whatever the
 * verdict. The peer resolving the same pair the other way round (its KEEP is this side's
 * STORE of the remote value) must end with the same stamp, or a later concurrent write
 * that tsmap_resolve_latest (or any resolver reading stamps) weighs against it resolves
 * differently on the two, which then never converge: KEEP used to keep the local stamp. */
static tsmap_status tsmap_side_resolve(tsmap *m, tsmap_key *q, const tsmap_side *l,
                                       const tsmap_change *rc, const uint64_t *rclock,
                                       tsmap_verdict v, const uint64_t *merged,
                                       uint64_t merged_weight, tsmap_after *after,
                                       tsmap_merge_out *out) {
  uint64_t j[TSMAP_MAX_REPLICAS];
  tsmap_clock_join(j, l->clock, rclock, m->replicas);
  uint64_t stamp = rc->stamp > l->stamp ? rc->stamp : l->stamp;
  if (v == TSMAP_KEEP) { /* the local value stays, with the weight it has (B6) */
    int entry = l->kind == TSMAP_SIDE_ENTRY;
    uint64_t w = entry && m->weighted ? tsmap_ld(tsmap_freq_at(m, &l->pos)) >> 16 : 0;
    tsmap_status st = tsmap_side_set(m, q, l, entry ? l->vw : NULL, w, j, stamp, after, out);
    out->created = NULL; /* the same value stays: no hook */
    return st;
  }
  return tsmap_side_set(m, q, l, v == TSMAP_STORE ? merged : NULL, merged_weight, j, stamp,
                        after, out);
}

/* ======================================================================================
 * tsmap_merge
 * ====================================================================================== */

/* A resolution carried from an unlocked resolver call to the relocked merge. */
typedef struct tsmap_resolution {
  int have;         /* 0 none, 1 resolved, 2 applied */
  uint64_t version; /* of the local side the resolver saw */
  int kind;
  tsmap_verdict verdict;
  uint64_t merged[TSMAP_MAX_VALUE_WORDS];
  uint64_t weight; /* of merged, for a STORE on a weighted map (B6) */
} tsmap_resolution;

/* A resolver's STORE result the merge did not store goes to the hook as DISCARDED, unless
 * it is the remote's value as given (a resolver that took it as is, tsmap_resolve_latest
 * included): those bytes are remote->value, the caller's until a merge stores them. Hooked,
 * a retry stored the value the hook had just been told never entered (a pointer map's
 * hook freed it: a use after free), and a refused one was the hook's and the caller's. */
static void tsmap_merge_discard(tsmap *m, const tsmap_key *q, const tsmap_resolution *res,
                                const tsmap_change *rc) {
  if (rc->value && memcmp(res->merged, rc->value, m->value_size) == 0)
    return;
  tsmap_hook_evicted(m, q, res->merged, TSMAP_EVICT_DISCARDED);
}

/* Run the resolver on a copy of the local side (no lock held). */
static void tsmap_merge_resolve(tsmap *m, const tsmap_key *q, const tsmap_side *l,
                                const tsmap_change *rc, const uint64_t *rclock,
                                tsmap_resolve_fn resolve, void *ctx, tsmap_resolution *res) {
  if (res->have && res->verdict == TSMAP_STORE)
    tsmap_merge_discard(m, q, res, rc); /* a retry: unused */
  tsmap_change local = tsmap_side_change(m, q, l), remote = *rc;
  remote.clock = rclock;
  remote.clock_len = m->replicas;
  memset(res->merged, 0, m->value_words * 8);
  if (rc->value && m->value_size)
    memcpy(res->merged, rc->value, m->value_size); /* STORE as is takes the remote value */
  res->verdict = tsmap_resolve_run(m, q, tsmap_self(), resolve, &local, &remote, ctx,
                                   res->merged);
  /* A STORE of the local value as given is a KEEP (the same value stays, no hook): those
   * bytes are the local entry's, not a result to weigh or discard. Weighed, the user's
   * function read a pointer value a local write may have replaced (and a pointer map's
   * hook freed) meanwhile; discarded on a retry, the hook freed the entry's object while
   * it was in the map, or a second time after its replacement hooked it REPLACED (black-box
   * round 10, test_ownership). */
  if (res->verdict == TSMAP_STORE && local.value &&
      memcmp(res->merged, local.value, m->value_size) == 0)
    res->verdict = TSMAP_KEEP;
  res->weight = res->verdict == TSMAP_STORE ? tsmap_merge_weigh(m, q, res->merged) : 0;
  res->have = 1;
  res->version = l->version;
  res->kind = l->kind;
}

/* A change concurrent with a capacity eviction's tombstone (V4): the evicted value is
 * gone, so no resolver can weigh it (one that saw a tombstone would resolve otherwise than
 * the peers that hold the value, and what this replica then exported would spread it).
 * The tombstone joins the change's clock and stays local: TSMAP_EXISTS, nothing stored;
 * a later change that dominates the join gets in. */
static int tsmap_merge_past_local(tsmap *m, const tsmap_key *q, const tsmap_side *l,
                                  const tsmap_change *rc, const uint64_t *rclock) {
  uint64_t j[TSMAP_MAX_REPLICAS];
  tsmap_clock_join(j, l->clock, rclock, m->replicas);
  /* the key's own record: set cannot fail */
  (void)tsmap_tomb_set(m, q, j, rc->stamp > l->stamp ? rc->stamp : l->stamp, 0, 1);
  return TSMAP_EXISTS;
}

/* One locked look. Returns a status, or -1 after running the resolver (look again). */
static int tsmap_merge_round(tsmap *m, tsmap_key *q, const tsmap_change *rc,
                             const uint64_t *rclock, uint64_t rweight, tsmap_resolve_fn resolve,
                             void *ctx, tsmap_resolution *res, tsmap_side *l,
                             tsmap_merge_out *out) {
  tsmap_after after = TSMAP_AFTER_INIT;
  int st = TSMAP_EXISTS;
  tsmap_writer_begin(m, q->shard, &after);
  if (tsmap_is_closed(m))
    st = TSMAP_CLOSED;
  else if (tsmap_side_look(m, q, &after, l) < 0)
    st = TSMAP_NO_MEMORY;
  unsigned cmp = st == TSMAP_EXISTS ? tsmap_clock_cmp(l->clock, rclock, m->replicas) : 0;
  int concurrent = cmp == (TSMAP_CLOCK_LT | TSMAP_CLOCK_GT);
  if (cmp == TSMAP_CLOCK_LT) /* the remote side dominates */
    st = tsmap_side_set(m, q, l, rc->value, rweight, rclock, rc->stamp, &after, out);
  else if (concurrent && l->kind == TSMAP_SIDE_TOMB && l->local)
    st = m->weighted && rc->value && rweight > q->shard->max_weight
             ? TSMAP_TOO_HEAVY /* G11, B6: as every store of it, nothing changed */
             : tsmap_merge_past_local(m, q, l, rc, rclock);
  else if (concurrent && res->have && res->version == l->version && res->kind == l->kind) {
    st = tsmap_side_resolve(m, q, l, rc, rclock, res->verdict, res->merged, res->weight,
                            &after, out);
    res->have = 2; /* used */
  }
  else if (concurrent)
    st = -1;
  tsmap_writer_end(m, q->shard, &after);
  tsmap_after_run(m, &after);
  out->rejected = after.rejected;
  if (st < 0) {
    tsmap_merge_resolve(m, q, l, rc, rclock, resolve, ctx, res);
    if (!tsmap_verdict_known(res->verdict))
      return TSMAP_INVALID_ARGUMENT;
  }
  return st;
}

/* The remote clock, padded with zeros to the map's replicas, into `c`; 0 or -1 (bad). A
 * counter or stamp time at TSMAP_CLOCK_LIMIT or above is bad: the merge raises the
 * version counter past it (V3), and from near 2^64 the next local version wrapped to 0
 * (G12 a) and the stamps built from it (<< 8) went backwards (G13 a). No replica takes
 * that many versions; bytes from a transport may say so (test_g13_garbage_bytes_...).
 * A stamp whose replica part (its low 8 bits, V3) names no replica of the map is bad
 * too: no write made it, and it would win every tie of tsmap_resolve_latest; so is one
 * whose time is above that replica's counter in the clock. */
static int tsmap_merge_args(const tsmap *m, const tsmap_change *rc, uint64_t *c) {
  if (rc->clock_len > m->replicas || (rc->clock_len && !rc->clock) ||
      (!rc->key && rc->key_len) || (rc->stamp >> 8) >= TSMAP_CLOCK_LIMIT ||
      (rc->stamp & 0xff) >= m->replicas)
    return -1;
  for (size_t i = 0; i < m->replicas; i++) {
    c[i] = i < rc->clock_len ? rc->clock[i] : 0;
    if (c[i] >= TSMAP_CLOCK_LIMIT)
      return -1;
  }
  /* the write the stamp names is one the clock includes (V3: stamp time v of replica r is
   * r's counter v); one above it names a write that did not happen (black-box round 8) */
  return (rc->stamp >> 8) > c[rc->stamp & 0xff] ? -1 : 0;
}

static tsmap_status tsmap_merge_body(tsmap *map, const tsmap_change *remote,
                                     tsmap_resolve_fn resolve, void *ctx, void *old_out,
                                     int *stored_out) {
  uint64_t rclock[TSMAP_MAX_REPLICAS], top;
  tsmap_side l;
  tsmap_key q;
  tsmap_thread *self;
  if (!map || !map->replicas || !remote || tsmap_merge_args(map, remote, rclock) != 0)
    return TSMAP_INVALID_ARGUMENT;
  tsmap_status st = tsmap_begin_keyed_op(map, remote->key, remote->key_len, &q, &self);
  if (st != TSMAP_OK)
    return st;
  top = remote->stamp >> 8;
  for (size_t i = 0; i < map->replicas; i++)
    top = rclock[i] > top ? rclock[i] : top;
  /* V3, V6: at most to the mark past which local writes are refused, so that what they
   * took meanwhile stays below TSMAP_CLOCK_LIMIT, which every peer accepts */
  if (top > TSMAP_CLOCK_LIMIT - TSMAP_CLOCK_HEADROOM)
    top = TSMAP_CLOCK_LIMIT - TSMAP_CLOCK_HEADROOM;
  tsmap_ver_bump(map, top);
  tsmap_resolution res;
  res.have = 0; /* 1: a resolution to apply; 2: applied */
  res.verdict = TSMAP_KEEP;
  tsmap_merge_out out = {NULL, 0, TSMAP_EVICT_REPLACED, 0};
  uint64_t rweight = tsmap_merge_weigh(map, &q, remote->value); /* G11, B6: no lock held */
  int r;
  while ((r = tsmap_merge_round(map, &q, remote, rclock, rweight,
                                resolve ? resolve : tsmap_resolve_latest, ctx, &res, &l,
                                &out)) < 0) {
  }
  if (res.verdict == TSMAP_STORE && (res.have == 1 || (r != TSMAP_OK && r != TSMAP_REPLACED)))
    tsmap_merge_discard(map, &q, &res, remote);
  /* the bytes stored are the remote's (taken as they came, or a resolver's STORE of them):
   * the map owns remote->value from here on, admitted or not */
  if (stored_out && out.created && remote->value)
    *stored_out = memcmp(out.created, remote->value, map->value_size) == 0;
  if (out.created)
    tsmap_hook_created(map, &q, out.created);
  if (out.created && out.rejected) /* G11, B5: not admitted */
    tsmap_bound_rejected(map, &q, out.created);
  if (out.left)
    tsmap_value_leaves(map, &q, l.vw, old_out, out.why);
  return (tsmap_status)r;
}

tsmap_status tsmap_merge(tsmap *map, const tsmap_change *remote, tsmap_resolve_fn resolve,
                         void *ctx, void *old_out) {
  TSMAP_OP_RUN(map, TSMAP_OP_MERGE, tsmap_merge_body(map, remote, resolve, ctx, old_out, NULL));
}

tsmap_status tsmap_merge_stored(tsmap *map, const tsmap_change *remote,
                                tsmap_resolve_fn resolve, void *ctx, void *old_out,
                                int *stored_out) {
  if (stored_out)
    *stored_out = 0; /* also for every refusal below */
  TSMAP_OP_RUN(map, TSMAP_OP_MERGE,
               tsmap_merge_body(map, remote, resolve, ctx, old_out, stored_out));
}

tsmap_verdict tsmap_resolve_latest(const void *key, size_t key_len, const tsmap_change *local,
                                   const tsmap_change *remote, void *ctx, void *merged) {
  (void)key, (void)key_len, (void)ctx, (void)merged; /* merged already holds remote's */
  if (remote->stamp <= local->stamp)
    return TSMAP_KEEP;
  return remote->value ? TSMAP_STORE : TSMAP_DELETE;
}
