/*
 * versions.c - versions and compare-and-set (G12): the version word, tsmap_get_version,
 * the *_if_version writes and the change feed (tsmap_foreach_since / tsmap_export).
 * Invariants V1-V4 are in versions.h; vector clocks, tombstones and merge in replica.c.
 *
 * The conditional writes take the shard lock, find the key as any writer does (an
 * expired entry is absent, G10), compare its version word with the expected one and
 * then store, insert or erase through map.c's writer-side operations, which fill the
 * version words through tsmap_meta_fill (expiry.c) -> tsmap_ver_fill. Hooks run after
 * the lock is released, as for every write (G6).
 */
#include "versions.h"
#include "bound.h"
#include "expiry.h"
#include "metrics.h"

/* ======================================================================================
 * Layout and version words
 * ====================================================================================== */

tsmap_status tsmap_ver_config_check(const tsmap_config *c) {
  if (c->replicas > TSMAP_MAX_REPLICAS)
    return TSMAP_INVALID_ARGUMENT;
  if (c->replica_id && c->replica_id >= c->replicas)
    return TSMAP_INVALID_ARGUMENT;
  return TSMAP_OK;
}

size_t tsmap_ver_layout(tsmap *m) {
  m->replicas = m->cfg.replicas;
  m->versioned = m->cfg.versions || m->replicas;
  m->ver_meta = (size_t)m->expiring + m->bounded; /* after the deadline and frequency */
  return m->replicas ? 1 + m->replicas : 0; /* the version is not in the slot (V5) */
}

uint64_t tsmap_ver_cursor(const tsmap *m) {
  if (m->replicas)
    return atomic_load_explicit(&((tsmap *)m)->version_next, memory_order_relaxed);
  uint64_t c = 0;
  for (size_t i = 0; i < tsmap_shard_hw(m); i++) {
    uint64_t v = tsmap_ld(&m->shards[i].ver_last);
    c = v > c ? v : c;
  }
  return c;
}

/* The clock a local write of `q` starts from (V3): the old value's, else the key's
 * tombstone's (which the insert takes), else zero. */
static void tsmap_ver_base_clock(const tsmap *m, const tsmap_key *q, const tsmap_word *old,
                                 uint64_t *clock) {
  if (old) {
    for (size_t i = 0; i < m->replicas; i++)
      clock[i] = tsmap_ld(&old[m->ver_meta + 1 + i]);
    return;
  }
  tsmap_tomb *t = tsmap_tomb_find(m, q);
  for (size_t i = 0; i < m->replicas; i++)
    clock[i] = t ? t->w[i] : 0;
}

void tsmap_ver_fill(const tsmap *m, const tsmap_key *q, uint64_t *vw, const tsmap_word *old) {
  uint64_t v = tsmap_ver_take(m, q->shard);
  vw[tsmap_ver_at(m)] = v;
  if (!m->replicas)
    return;
  size_t st = tsmap_stamp_at(m);
  uint64_t *clock = vw + st + 1;
  if (q->ver) { /* a merge: its clock and stamp */
    for (size_t i = 0; i < m->replicas; i++)
      clock[i] = q->ver->clock[i];
    vw[st] = q->ver->stamp;
  } else { /* a local write: this replica's counter becomes v (V3) */
    tsmap_ver_base_clock(m, q, old, clock);
    clock[m->cfg.replica_id] = v;
    vw[st] = (v << 8) | m->cfg.replica_id;
  }
  if (!old) /* the insert takes the key's tombstone (V4) */
    tsmap_tomb_drop(m, q);
}

void tsmap_value_leaves(const tsmap *m, const tsmap_key *q, const uint64_t *vw, void *out,
                        tsmap_evict_reason why) {
  if (out)
    tsmap_value_out(m, vw, out);
  else
    tsmap_hook_evicted(m, q, vw, why);
}

/* The version in value words `vw` read for an entry (0: none). */
static uint64_t tsmap_ver_of(const tsmap *m, const uint64_t *vw) { return vw[tsmap_ver_at(m)]; }

/* The version of the entry at `pos` (shard lock held; V5). */
static uint64_t tsmap_ver_at_pos(const tsmap *m, const tsmap_pos *pos) {
  (void)m;
  return tsmap_ld(tsmap_table_ver(pos->t, pos->g, pos->slot));
}

/* ======================================================================================
 * tsmap_get_version
 * ====================================================================================== */

static tsmap_status tsmap_get_version_body(tsmap *map, const void *key, size_t key_len,
                                           void *value_out, uint64_t *version_out) {
  uint64_t vbuf[TSMAP_MAX_VALUE_WORDS];
  if (!map || !map->versioned)
    return TSMAP_INVALID_ARGUMENT;
  tsmap_status st = tsmap_read_words8(map, key, key_len, vbuf); /* 8-byte keys: fast */
  if (version_out && (st == TSMAP_OK || st == TSMAP_NOT_FOUND))
    *version_out = st == TSMAP_OK ? tsmap_ver_of(map, vbuf) : TSMAP_VERSION_ABSENT;
  if (st == TSMAP_OK)
    tsmap_value_out(map, vbuf, value_out);
  return st;
}

tsmap_status tsmap_get_version(tsmap *map, const void *key, size_t key_len, void *value_out,
                               uint64_t *version_out) {
  TSMAP_OP_RUN(map, TSMAP_OP_GET_VERSION,
               tsmap_get_version_body(map, key, key_len, value_out, version_out));
}

/* ======================================================================================
 * Conditional writes
 * ====================================================================================== */

/* What a conditional write found under the lock. */
typedef struct tsmap_cas {
  tsmap_key q;
  tsmap_after after;
  tsmap_pos pos;
  int found;        /* 1 live entry at pos, 0 absent */
  uint64_t current; /* its version, or TSMAP_VERSION_ABSENT */
  uint64_t oldv[TSMAP_MAX_VALUE_WORDS];
} tsmap_cas;

int tsmap_writer_lock_routed(tsmap *m, tsmap_key *q, tsmap_after *after) {
  if (tsmap_writer_route(m, q) < 0)
    return -1;
  tsmap_writer_begin(m, q->shard, after);
  while (tsmap_route_moved(m, q) && !tsmap_is_closed(m)) { /* a reshard step meanwhile */
    tsmap_writer_end(m, q->shard, after);
    tsmap_after_run(m, after);
    *after = (tsmap_after)TSMAP_AFTER_INIT;
    if (tsmap_reroute(m, q) < 0)
      return -1;
    tsmap_writer_begin(m, q->shard, after);
  }
  return 0;
}

/* Lock the key's shard and find the key. TSMAP_OK (locked), or a status (unlocked).
 * `removal`: the call can only remove, so an expired entry whose reclaim finds no memory
 * is simply absent (it stays for a later reclaim, E2); a call that may store needs it
 * gone first, and fails with TSMAP_NO_MEMORY. */
static tsmap_status tsmap_cas_begin(tsmap *map, tsmap_cas *c, int removal) {
  c->after = (tsmap_after)TSMAP_AFTER_INIT;
  if (tsmap_writer_lock_routed(map, &c->q, &c->after) < 0)
    return TSMAP_NO_MEMORY; /* G15: its key could not move to its new shard */
  tsmap_status st = TSMAP_OK;
  c->found = 0;
  if (tsmap_is_closed(map))
    st = TSMAP_CLOSED;
  else if ((c->found = tsmap_shard_find_live(map, c->q.shard, &c->q, &c->pos, &c->after)) < 0) {
    c->found = 0; /* G10: expired, so absent, but its reclaim found no memory */
    if (!removal)
      st = TSMAP_NO_MEMORY; /* an insert needs it gone first */
  }
  if (st != TSMAP_OK) {
    tsmap_writer_end(map, c->q.shard, &c->after);
    tsmap_after_run(map, &c->after);
    return st;
  }
  c->current = TSMAP_VERSION_ABSENT;
  if (c->found) {
    tsmap_pos_read_value(map, &c->pos, c->oldv);
    c->current = tsmap_ver_of(map, c->oldv);
  }
  return TSMAP_OK;
}

/* The start of a conditional write: prepare the key, lock its shard, find it. */
static tsmap_status tsmap_cas_open(tsmap *map, const void *key, size_t key_len, tsmap_cas *c,
                                   int removal) {
  tsmap_thread *self;
  tsmap_status st = tsmap_begin_local_write(map, key, key_len, &c->q, &self);
  return st == TSMAP_OK ? tsmap_cas_begin(map, c, removal) : st;
}

static void tsmap_cas_end(tsmap *map, tsmap_cas *c) {
  tsmap_writer_end(map, c->q.shard, &c->after);
  tsmap_after_run(map, &c->after);
}

static int tsmap_ver_matches(uint64_t expected, uint64_t current) {
  return expected == TSMAP_VERSION_ANY || expected == current;
}

static void tsmap_ver_put(uint64_t *out, uint64_t v) {
  if (out)
    *out = v;
}

/* The version `q`'s entry has now (shard lock held): found after a store. */
static uint64_t tsmap_ver_now(tsmap *map, const tsmap_key *q) {
  tsmap_pos pos;
  return tsmap_shard_find(map, q->shard, q, &pos) ? tsmap_ver_at_pos(map, &pos)
                                                  : TSMAP_VERSION_ABSENT;
}

/* The tombstone version of a key just removed (replicated maps), else ABSENT. */
static uint64_t tsmap_ver_removed(tsmap *map, const tsmap_key *q) {
  tsmap_tomb *t = map->replicas ? tsmap_tomb_find(map, q) : NULL;
  return t ? t->version : TSMAP_VERSION_ABSENT;
}

static tsmap_status tsmap_put_if_version_body(tsmap *map, const void *key, size_t key_len,
                                              const void *value, uint64_t expected,
                                              uint64_t *version_out, void *old_out) {
  tsmap_cas c;
  tsmap_thread *self;
  if (!map || !map->versioned || (!value && map->value_size))
    return TSMAP_INVALID_ARGUMENT;
  tsmap_status st = tsmap_begin_local_write(map, key, key_len, &c.q, &self);
  if (st != TSMAP_OK)
    return st;
  /* G11, B6: weighed with no lock held, as tsmap_put does (TSMAP_TOO_HEAVY changes
   * nothing); the insert and the overwrite below make room for that weight */
  if (TSMAP_UNLIKELY(map->weighted) && (st = tsmap_bound_weigh(map, &c.q, value)) != TSMAP_OK)
    return st;
  st = tsmap_cas_begin(map, &c, 0);
  if (st != TSMAP_OK)
    return st;
  if (!tsmap_ver_matches(expected, c.current)) {
    st = TSMAP_CONFLICT;
  } else if (c.found) {
    if (TSMAP_UNLIKELY(map->weighted) &&
        tsmap_bound_fit_overwrite(map, c.q.shard, &c.pos, &c.q, &c.after) != 0) {
      st = TSMAP_NO_MEMORY; /* G11, B6: no room could be made, nothing changed */
    } else {
      tsmap_pos_write_value(map, &c.pos, &c.q, value);
      st = TSMAP_REPLACED;
    }
  } else {
    st = tsmap_shard_insert(map, c.q.shard, &c.q, value, &c.after);
  }
  tsmap_ver_put(version_out, st == TSMAP_NO_MEMORY ? c.current : tsmap_ver_now(map, &c.q));
  tsmap_cas_end(map, &c);
  if (st == TSMAP_OK || st == TSMAP_REPLACED)
    tsmap_hook_created(map, &c.q, value);
  if (c.after.rejected) /* G11, B5: not admitted */
    tsmap_bound_rejected(map, &c.q, value);
  if (st == TSMAP_REPLACED)
    tsmap_value_leaves(map, &c.q, c.oldv, old_out, TSMAP_EVICT_REPLACED);
  return st;
}

tsmap_status tsmap_put_if_version(tsmap *map, const void *key, size_t key_len, const void *value,
                                  uint64_t expected, uint64_t *version_out, void *old_out) {
  TSMAP_OP_RUN(map, TSMAP_OP_PUT_IF_VERSION,
               tsmap_put_if_version_body(map, key, key_len, value, expected, version_out, old_out));
}

static tsmap_status tsmap_remove_if_version_body(tsmap *map, const void *key, size_t key_len,
                                                 uint64_t expected, uint64_t *version_out,
                                                 void *value_out) {
  tsmap_cas c;
  if (!map || !map->versioned)
    return TSMAP_INVALID_ARGUMENT;
  tsmap_status st = tsmap_cas_open(map, key, key_len, &c, 1);
  if (st != TSMAP_OK)
    return st;
  if (!tsmap_ver_matches(expected, c.current)) {
    st = TSMAP_CONFLICT;
    tsmap_ver_put(version_out, c.current);
  } else if (!c.found) {
    st = TSMAP_NOT_FOUND;
    tsmap_ver_put(version_out, TSMAP_VERSION_ABSENT);
  } else if (map->replicas && tsmap_tomb_reserve(map, &c.q) != 0) {
    st = TSMAP_NO_MEMORY; /* G13: no room for the key's tombstone; nothing removed */
    tsmap_ver_put(version_out, c.current);
  } else {
    tsmap_shard_erase(map, c.q.shard, &c.pos, TSMAP_EVICT_REMOVED);
    tsmap_ver_put(version_out, tsmap_ver_removed(map, &c.q));
  }
  tsmap_cas_end(map, &c);
  if (st == TSMAP_OK)
    tsmap_value_leaves(map, &c.q, c.oldv, value_out, TSMAP_EVICT_REMOVED);
  return st;
}

tsmap_status tsmap_remove_if_version(tsmap *map, const void *key, size_t key_len, uint64_t expected,
                                     uint64_t *version_out, void *value_out) {
  TSMAP_OP_RUN(map, TSMAP_OP_REMOVE_IF_VERSION,
               tsmap_remove_if_version_body(map, key, key_len, expected, version_out, value_out));
}

/* ======================================================================================
 * tsmap_compute_if_version
 * ====================================================================================== */

/* Apply a verdict under the lock to what tsmap_cas_begin found. */
static tsmap_status tsmap_cas_apply(tsmap *map, tsmap_cas *c, tsmap_verdict verdict,
                                    const uint64_t *nv) {
  if (verdict == TSMAP_STORE && c->found) {
    if (TSMAP_UNLIKELY(map->weighted) &&
        tsmap_bound_fit_overwrite(map, c->q.shard, &c->pos, &c->q, &c->after) != 0)
      return TSMAP_NO_MEMORY; /* G11, B6: no room could be made, nothing changed */
    tsmap_pos_write_value(map, &c->pos, &c->q, nv);
    return TSMAP_OK;
  }
  if (verdict == TSMAP_STORE)
    return tsmap_shard_insert(map, c->q.shard, &c->q, nv, &c->after);
  if (map->replicas && tsmap_tomb_reserve(map, &c->q) != 0)
    return TSMAP_NO_MEMORY; /* G13: no room for the key's tombstone; nothing removed */
  tsmap_shard_erase(map, c->q.shard, &c->pos, TSMAP_EVICT_REMOVED); /* DELETE, found */
  return TSMAP_REMOVED;
}

/* Hooks and outputs of an applied verdict (no lock held). */
static void tsmap_cas_hooks(tsmap *map, const tsmap_cas *c, tsmap_verdict verdict,
                            const uint64_t *nv, tsmap_status st, void *value_out) {
  if (st == TSMAP_NO_MEMORY) {
    if (verdict == TSMAP_STORE)
      tsmap_hook_evicted(map, &c->q, nv, TSMAP_EVICT_DISCARDED);
    return;
  }
  if (verdict == TSMAP_STORE) {
    tsmap_hook_created(map, &c->q, nv);
    if (c->after.rejected) /* G11, B5: not admitted */
      tsmap_bound_rejected(map, &c->q, nv);
    tsmap_value_out(map, nv, value_out);
  }
  if (c->found)
    tsmap_hook_evicted(map, &c->q, c->oldv,
                       verdict == TSMAP_STORE ? TSMAP_EVICT_REPLACED : TSMAP_EVICT_REMOVED);
}

/* One round: read, run fn, then apply under the lock if the version did not move.
 * Returns a status, or -1 to retry (TSMAP_VERSION_ANY and the version moved). */
static int tsmap_compute_version_round(tsmap *map, tsmap_cas *c, tsmap_thread *self,
                                       uint64_t expected, tsmap_compute_fn fn, void *ctx,
                                       uint64_t *version_out, void *value_out) {
  uint64_t ov[TSMAP_MAX_VALUE_WORDS], nv[TSMAP_MAX_VALUE_WORDS];
  tsmap_token tok;
  tsmap_read_enter(self);
  int found = tsmap_shard_read(map, c->q.shard, &c->q, ov, &tok);
  tsmap_read_exit(self);
  if (found < 0)
    return TSMAP_CLOSED;
  uint64_t seen = found ? tsmap_ver_of(map, ov) : TSMAP_VERSION_ABSENT;
  tsmap_ver_put(version_out, seen);
  if (!tsmap_ver_matches(expected, seen))
    return TSMAP_CONFLICT;
  memset(nv, 0, map->value_words * 8);
  tsmap_verdict verdict = tsmap_compute_run(map, &c->q, self, fn, found ? ov : NULL, ctx, nv);
  if (!tsmap_verdict_known(verdict))
    return TSMAP_INVALID_ARGUMENT;
  int same = found && verdict == TSMAP_STORE && memcmp(ov, nv, map->value_size) == 0;
  if (verdict == TSMAP_KEEP || same || (verdict == TSMAP_DELETE && !found)) {
    if (found)
      tsmap_value_out(map, ov, value_out);
    return found ? TSMAP_OK : TSMAP_NOT_FOUND;
  }
  if (verdict == TSMAP_STORE && TSMAP_UNLIKELY(map->weighted) &&
      tsmap_bound_weigh(map, &c->q, nv) != TSMAP_OK) { /* G11, B6 (no lock held) */
    tsmap_hook_evicted(map, &c->q, nv, TSMAP_EVICT_DISCARDED);
    return TSMAP_TOO_HEAVY;
  }
  tsmap_status st = tsmap_cas_begin(map, c, 0);
  if (st != TSMAP_OK) {
    if (verdict == TSMAP_STORE)
      tsmap_hook_evicted(map, &c->q, nv, TSMAP_EVICT_DISCARDED);
    return st;
  }
  if (c->current != seen) {
    tsmap_ver_put(version_out, c->current);
    tsmap_cas_end(map, c);
    if (verdict == TSMAP_STORE)
      tsmap_hook_evicted(map, &c->q, nv, TSMAP_EVICT_DISCARDED);
    return expected == TSMAP_VERSION_ANY ? -1 : TSMAP_CONFLICT;
  }
  st = tsmap_cas_apply(map, c, verdict, nv);
  tsmap_ver_put(version_out, st == TSMAP_REMOVED ? tsmap_ver_removed(map, &c->q)
                             : st == TSMAP_NO_MEMORY ? seen : tsmap_ver_now(map, &c->q));
  tsmap_cas_end(map, c);
  tsmap_cas_hooks(map, c, verdict, nv, st, value_out);
  return st;
}

static tsmap_status tsmap_compute_if_version_body(tsmap *map, const void *key, size_t key_len,
                                                  uint64_t expected, tsmap_compute_fn fn, void *ctx,
                                                  uint64_t *version_out, void *value_out) {
  tsmap_cas c;
  tsmap_thread *self;
  if (!map || !map->versioned || !fn)
    return TSMAP_INVALID_ARGUMENT;
  tsmap_status st = tsmap_begin_local_write(map, key, key_len, &c.q, &self);
  if (st != TSMAP_OK)
    return st;
  int r;
  while ((r = tsmap_compute_version_round(map, &c, self, expected, fn, ctx, version_out,
                                          value_out)) < 0) {
  }
  return (tsmap_status)r;
}

tsmap_status tsmap_compute_if_version(tsmap *map, const void *key, size_t key_len,
                                      uint64_t expected, tsmap_compute_fn fn, void *ctx,
                                      uint64_t *version_out, void *value_out) {
  TSMAP_OP_RUN(
      map, TSMAP_OP_COMPUTE_IF_VERSION,
      tsmap_compute_if_version_body(map, key, key_len, expected, fn, ctx, version_out, value_out));
}
