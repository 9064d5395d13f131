/*
 * compute.c - callbacks: single-flight compute_if_absent (G4) and optimistic
 * compute / compute_if_present (G4), with no lock held while a callback runs. Every
 * callback runs with its key marked on the thread's stack of keys being computed, so a
 * call on that key from inside it returns TSMAP_REENTERED.
 *
 * compute_if_absent. Under the shard lock, a caller that finds the key absent looks for a
 * `pending` record of the same key in the shard's list. If none, it becomes the owner:
 * it links one, unlocks, runs the callback, relocks, stores the result (or discards it
 * if a put raced in), unlinks the record and wakes the waiters. If there is one, it waits
 * on the record's condition variable (g_wait_lock) and then starts over: the value is
 * there, or the owner failed and a waiter becomes the next owner.
 *
 * Deadlock freedom. A thread keeps the records it owns on a private stack; every
 * operation first checks the caller's key against that stack and returns
 * TSMAP_REENTERED on a match (a callback touching its own key). Before waiting, a thread
 * follows the chain "record -> owner -> record it waits for -> owner ..." under
 * g_wait_lock; if the chain comes back to itself the wait would close a cycle, and it
 * returns TSMAP_REENTERED instead. Lock order: shard lock, then g_wait_lock.
 *
 * compute / compute_if_present. Read the entry without a lock, run the callback, then
 * lock and apply the verdict only if the key still holds the value the callback saw (or
 * is still absent); otherwise retry. A discarded STORE result goes to the eviction hook
 * (DISCARDED).
 */
#include "metrics.h"
#include "tsmap_internal.h"
#include "expiry.h"
#include "versions.h"
#include "bound.h"

#include <stdlib.h>

typedef struct tsmap_pending {
  struct tsmap_pending *next;  /* shard's list (shard lock) */
  struct tsmap_pending *outer; /* owner's stack (owner only) */
  const tsmap *map;
  const void *key;
  size_t key_len;
  uint64_t hash;
  tsmap_thread *owner;
  int done; /* g_wait_lock */
  int refs; /* g_wait_lock: owner + waiters */
  pthread_cond_t cond;
} tsmap_pending;

static pthread_mutex_t g_wait_lock = PTHREAD_MUTEX_INITIALIZER;

/* ======================================================================================
 * Entry checks
 * ====================================================================================== */

/* Is the calling thread computing this key of this map right now? */
static int tsmap_computing_key(const tsmap *m, const tsmap_thread *self, const tsmap_key *q) {
  for (const tsmap_pending *p = self->computing; p; p = p->outer)
    if (p->map == m && p->hash == q->hash && tsmap_key_equal_raw(m, p->key, p->key_len, q))
      return 1;
  return 0;
}

/* Checks every keyed operation makes first. */
tsmap_status tsmap_enter_op(tsmap *m, const tsmap_key *q, tsmap_thread **self) {
  if (tsmap_is_closed(m))
    return TSMAP_CLOSED;
  tsmap_thread *t = tsmap_self();
  if (TSMAP_UNLIKELY(!t))
    return TSMAP_NO_MEMORY;
  if (TSMAP_UNLIKELY(t->computing != NULL) && tsmap_computing_key(m, t, q)) {
    TSMAP_PROBE3(reentered, m, q->p, q->len);
    return TSMAP_REENTERED;
  }
  *self = t;
  return TSMAP_OK;
}

/* ======================================================================================
 * compute_if_absent (G4)
 * ====================================================================================== */

static tsmap_pending *tsmap_pending_find(tsmap_shard *s, const tsmap *m, const tsmap_key *q) {
  for (tsmap_pending *p = s->pending; p; p = p->next)
    if (p->hash == q->hash && tsmap_key_equal_raw(m, p->key, p->key_len, q))
      return p;
  return NULL;
}

static void tsmap_pending_unlink(tsmap_shard *s, tsmap_pending *p) {
  tsmap_pending **pp = &s->pending;
  while (*pp != p)
    pp = &(*pp)->next;
  *pp = p->next;
}

void tsmap_pending_forked(tsmap_shard *s) {
  const tsmap_thread *self = tsmap_tls_self;
  for (tsmap_pending **pp = &s->pending; *pp;) {
    if ((*pp)->owner != self)
      *pp = (*pp)->next; /* left allocated: the child cannot call a user allocator here */
    else
      pp = &(*pp)->next; /* the forking thread's own (fork from inside its callback) */
  }
}

void tsmap_compute_forked(void) { pthread_mutex_init(&g_wait_lock, NULL); }

/* Drop a reference (g_wait_lock held); the last one frees the record. */
static void tsmap_pending_unref(tsmap *m, tsmap_pending *p) {
  if (--p->refs == 0) {
    pthread_cond_destroy(&p->cond);
    tsmap_mem_free(m, p, sizeof *p);
  }
}

/* Would waiting on `p` close a cycle of waits back to `self`? (g_wait_lock held) */
static int tsmap_wait_cycles(const tsmap_pending *p, const tsmap_thread *self) {
  for (int hops = 0; p && hops < 1 << 16; hops++) {
    if (p->owner == self)
      return 1;
    p = p->owner->waiting_for;
  }
  return p != NULL;
}

/* Wait for `p` to finish. Called with the shard lock held; releases it. */
static tsmap_status tsmap_pending_wait(tsmap *m, tsmap_shard *s, tsmap_pending *p,
                                       tsmap_thread *self) {
  pthread_mutex_lock(&g_wait_lock);
  if (tsmap_wait_cycles(p, self)) {
    pthread_mutex_unlock(&g_wait_lock);
    tsmap_lock_release(&s->lock);
    TSMAP_PROBE3(reentered, m, p->key, p->key_len);
    return TSMAP_REENTERED;
  }
  p->refs++;
  self->waiting_for = p;
  tsmap_lock_release(&s->lock);
  if (tsmap_mx_on(m))
    tsmap_mx_count_wait(m);
  TSMAP_PROBE3(wait_start, m, p->key, p->key_len);
  while (!p->done)
    pthread_cond_wait(&p->cond, &g_wait_lock);
  TSMAP_PROBE3(wait_end, m, p->key, p->key_len);
  self->waiting_for = NULL;
  tsmap_pending_unref(m, p);
  pthread_mutex_unlock(&g_wait_lock);
  return TSMAP_OK;
}

/* A new pending record owned by `self` for key `q`, or NULL. */
static tsmap_pending *tsmap_pending_new(tsmap *m, const tsmap_key *q, tsmap_thread *self) {
  tsmap_pending *p = (tsmap_pending *)tsmap_mem_alloc(m, sizeof *p);
  if (!p)
    return NULL;
  memset(p, 0, sizeof *p);
  if (pthread_cond_init(&p->cond, NULL) != 0) {
    tsmap_mem_free(m, p, sizeof *p);
    return NULL;
  }
  p->map = m;
  p->key = q->p;
  p->key_len = q->len;
  p->hash = q->hash;
  p->owner = self;
  p->refs = 1;
  return p;
}

/* Owner: publish completion and drop the owner's reference. */
static void tsmap_pending_finish(tsmap *m, tsmap_pending *p) {
  pthread_mutex_lock(&g_wait_lock);
  p->done = 1;
  pthread_cond_broadcast(&p->cond);
  tsmap_pending_unref(m, p);
  pthread_mutex_unlock(&g_wait_lock);
}

/* Owner, after the callback succeeded: store `value` unless the key appeared meanwhile
 * (then copy the present value to `present`). Returns TSMAP_OK (stored), TSMAP_EXISTS,
 * TSMAP_CLOSED or TSMAP_NO_MEMORY. The record is unlinked either way. */
static tsmap_status tsmap_absent_commit(tsmap *m, const tsmap_key *q, tsmap_pending *p,
                                        const void *value, uint64_t *present, int *rejected) {
  tsmap_key k = *q; /* G15: routed anew if a reshard moved the key meanwhile */
  tsmap_shard *s = k.shard;
  tsmap_after after = TSMAP_AFTER_INIT;
  *rejected = 0;
  tsmap_status st;
  tsmap_pos pos;
  int found;
  tsmap_writer_begin(m, s, &after);
  tsmap_pending_unlink(s, p);
  while (tsmap_route_moved(m, &k) && !tsmap_is_closed(m)) {
    tsmap_writer_end(m, s, &after);
    if (tsmap_reroute(m, &k) < 0) { /* its key could not move: the value is discarded */
      tsmap_after_run(m, &after);
      return TSMAP_NO_MEMORY;
    }
    q = &k;
    s = k.shard;
    tsmap_writer_begin(m, s, &after);
  }
  if (tsmap_is_closed(m)) {
    st = TSMAP_CLOSED;
  } else if ((found = tsmap_shard_find_live(m, s, q, &pos, &after)) < 0) { /* G10 */
    st = TSMAP_NO_MEMORY;
  } else if (found) {
    tsmap_pos_read_value(m, &pos, present);
    st = TSMAP_EXISTS;
  } else {
    st = tsmap_shard_insert(m, s, q, value, &after);
  }
  tsmap_writer_end(m, s, &after);
  tsmap_after_run(m, &after);
  *rejected = after.rejected; /* G11, B5 */
  return st;
}

/* Owner: run the callback with no lock held, then commit its result. */
static tsmap_status tsmap_absent_run(tsmap *m, tsmap_key *q, tsmap_pending *p,
                                     tsmap_thread *self, tsmap_absent_fn fn, void *ctx,
                                     void *value_out) {
  uint64_t v[TSMAP_MAX_VALUE_WORDS], present[TSMAP_MAX_VALUE_WORDS];
  memset(v, 0, m->value_words * 8);
  p->outer = self->computing;
  self->computing = p;
  int rc = fn(q->p, q->len, ctx, v);
  self->computing = p->outer;
  tsmap_status st = TSMAP_OK;
  int rejected = 0;
  if (rc == 0 && TSMAP_UNLIKELY(m->weighted)) /* G11, B6 */
    st = tsmap_bound_weigh(m, q, v);
  if (rc != 0 || st != TSMAP_OK) {
    tsmap_after after = TSMAP_AFTER_INIT;
    tsmap_writer_begin(m, q->shard, &after);
    tsmap_pending_unlink(q->shard, p);
    tsmap_writer_end(m, q->shard, &after);
    tsmap_after_run(m, &after);
    st = rc != 0 ? TSMAP_CALLBACK_FAILED : st;
  } else {
    st = tsmap_absent_commit(m, q, p, v, present, &rejected);
  }
  tsmap_pending_finish(m, p);
  if (st == TSMAP_OK) {
    tsmap_hook_created(m, q, v);
    if (rejected) /* G11, B5: not admitted */
      tsmap_bound_rejected(m, q, v);
    tsmap_value_out(m, v, value_out);
  } else if (rc == 0) {
    tsmap_hook_evicted(m, q, v, TSMAP_EVICT_DISCARDED);
    if (st == TSMAP_EXISTS) {
      tsmap_value_out(m, present, value_out);
      st = TSMAP_OK;
    }
  }
  return st;
}

static tsmap_status tsmap_absent_impl(tsmap *map, const void *key, size_t key_len,
                                      tsmap_absent_fn fn, void *ctx, void *value_out,
                                      uint64_t ttl) {
  uint64_t v[TSMAP_MAX_VALUE_WORDS];
  tsmap_key q;
  tsmap_thread *self;
  if (!map || !fn)
    return TSMAP_INVALID_ARGUMENT;
  tsmap_status st = tsmap_begin_local_write(map, key, key_len, &q, &self);
  if (st != TSMAP_OK)
    return st;
  q.ttl = ttl;
  tsmap_token tok;
  tsmap_read_enter(self);
  int r = tsmap_shard_read(map, q.shard, &q, v, &tok); /* fast path: present */
  tsmap_read_exit(self);
  if (r < 0)
    return TSMAP_CLOSED;
  if (r > 0) {
    tsmap_value_out(map, v, value_out);
    return TSMAP_OK;
  }
  for (;;) {
    tsmap_pos pos;
    if (tsmap_writer_route(map, &q) < 0) /* G15: its key could not move */
      return TSMAP_NO_MEMORY;
    tsmap_shard *s = q.shard;
    tsmap_lock_acquire(&s->lock);
    if (tsmap_route_moved(map, &q)) { /* closed, or a reshard moved the key (G15) */
      tsmap_lock_release(&s->lock);
      if (tsmap_is_closed(map))
        return TSMAP_CLOSED;
      q.route = tsmap_route(map); /* routed again at the top */
      q.shard = &map->shards[(q.hash >> 32) & q.route];
      continue;
    }
    if (tsmap_shard_find(map, s, &q, &pos) &&
        (tsmap_pos_read_value(map, &pos, v), !tsmap_read_expired(map, v))) {
      /* an expired entry is absent (G10): the commit reaps it */
      tsmap_lock_release(&s->lock);
      tsmap_value_out(map, v, value_out);
      return TSMAP_OK;
    }
    tsmap_pending *p = tsmap_pending_find(s, map, &q);
    if (p) {
      st = tsmap_pending_wait(map, s, p, self); /* unlocks */
      if (st != TSMAP_OK)
        return st;
      continue;
    }
    p = tsmap_pending_new(map, &q, self);
    if (!p) {
      tsmap_lock_release(&s->lock);
      return TSMAP_NO_MEMORY;
    }
    p->next = s->pending;
    s->pending = p;
    tsmap_lock_release(&s->lock);
    return tsmap_absent_run(map, &q, p, self, fn, ctx, value_out);
  }
}

/* ======================================================================================
 * compute / compute_if_present (G4)
 * ====================================================================================== */

/* Does the key still hold the value the callback was given (or is it still absent)?
 * (shard lock held) 1 yes, 0 no, -1 no memory (an expired entry could not be reaped,
 * G10; an expired entry is absent). Validating by value, not by the group's seq or the slot's place,
 * means writes of other keys in the same group (including the callback's own) and
 * entries moving during a growth never force a retry: only a change of this key's value
 * does, so a callback that writes other keys cannot make its compute retry forever. A
 * value changed and changed back is fine: the verdict is then right for the state the
 * lock shows, and the value it replaces is the one in the map now. */
static int tsmap_still_as_read(tsmap *m, tsmap_shard *s, const tsmap_key *q, int found,
                               const uint64_t *ov, tsmap_after *after) {
  uint64_t now[TSMAP_MAX_VALUE_WORDS];
  tsmap_pos pos;
  int present = tsmap_shard_find_live(m, s, q, &pos, after);
  if (present < 0)
    return -1;
  if (!found || !present)
    return !found && !present;
  tsmap_pos_read_value(m, &pos, now);
  return memcmp(now, ov, m->value_words * 8) == 0;
}

/* Apply a verdict under the lock (the token was valid). Returns the call's status. */
static tsmap_status tsmap_apply(tsmap *m, tsmap_shard *s, const tsmap_key *q, int found,
                                tsmap_verdict verdict, const void *nv, tsmap_after *after) {
  tsmap_pos pos;
  if (found)
    tsmap_shard_find(m, s, q, &pos);
  if (verdict == TSMAP_STORE && found) {
    if (TSMAP_UNLIKELY(m->weighted) && tsmap_bound_fit_overwrite(m, s, &pos, q, after) != 0)
      return TSMAP_NO_MEMORY; /* G11, B6: no room could be made */
    tsmap_pos_write_value(m, &pos, q, nv);
    return TSMAP_OK;
  }
  if (verdict == TSMAP_STORE)
    return tsmap_shard_insert(m, s, q, nv, after);
  if (verdict == TSMAP_DELETE && found && m->replicas && tsmap_tomb_reserve(m, q) != 0)
    return TSMAP_NO_MEMORY; /* G13: no room for the key's tombstone; nothing removed */
  if (verdict == TSMAP_DELETE && found)
    tsmap_shard_erase(m, s, &pos, TSMAP_EVICT_REMOVED);
  return TSMAP_NOT_FOUND;
}

/* Hooks and output after a committed verdict (no lock held). */
static tsmap_status tsmap_after_verdict(tsmap *m, const tsmap_key *q, int found,
                                        tsmap_verdict verdict, const uint64_t *ov,
                                        const uint64_t *nv, tsmap_status st, int rejected,
                                        void *value_out) {
  if (st == TSMAP_NO_MEMORY || st == TSMAP_CLOSED) {
    if (verdict == TSMAP_STORE)
      tsmap_hook_evicted(m, q, nv, TSMAP_EVICT_DISCARDED);
    return st;
  }
  if (verdict == TSMAP_STORE) {
    tsmap_hook_created(m, q, nv);
    if (rejected) /* G11, B5: not admitted */
      tsmap_bound_rejected(m, q, nv);
    if (found)
      tsmap_hook_evicted(m, q, ov, TSMAP_EVICT_REPLACED);
    tsmap_value_out(m, nv, value_out);
    return TSMAP_OK;
  }
  if (verdict == TSMAP_DELETE && found) {
    tsmap_hook_evicted(m, q, ov, TSMAP_EVICT_REMOVED);
    return TSMAP_REMOVED; /* this call's DELETE took effect */
  }
  return TSMAP_NOT_FOUND;
}

/* Run a compute callback with the key marked as being computed by this thread, so that
 * the callback's calls on the same key return TSMAP_REENTERED (G4) instead of changing
 * the entry under it and making the compute retry forever. The mark is never linked to a
 * shard: nobody waits on it. */
static void tsmap_mark_key(tsmap_pending *mark, tsmap *m, const tsmap_key *q,
                           tsmap_thread *self) {
  memset(mark, 0, sizeof *mark);
  mark->map = m;
  mark->key = q->p;
  mark->key_len = q->len;
  mark->hash = q->hash;
  mark->owner = self;
  mark->outer = self->computing;
  self->computing = mark;
}

tsmap_verdict tsmap_compute_run(tsmap *m, const tsmap_key *q, tsmap_thread *self,
                                tsmap_compute_fn fn, const uint64_t *ov, void *ctx,
                                uint64_t *nv) {
  tsmap_pending mark;
  tsmap_mark_key(&mark, m, q, self);
  tsmap_verdict verdict = fn(q->p, q->len, ov, ctx, nv);
  self->computing = mark.outer;
  return verdict;
}

/* A resolver that wrote its own key would change the entry its merge then finds moved,
 * and the merge would run it again, for ever: its calls on the key are refused too. */
tsmap_verdict tsmap_resolve_run(tsmap *m, const tsmap_key *q, tsmap_thread *self,
                                tsmap_resolve_fn fn, const tsmap_change *local,
                                const tsmap_change *remote, void *ctx, void *merged) {
  tsmap_pending mark;
  tsmap_mark_key(&mark, m, q, self);
  tsmap_verdict verdict = fn(q->p, q->len, local, remote, ctx, merged);
  self->computing = mark.outer;
  return verdict;
}

/* Shared body of compute and compute_if_present. */
static tsmap_status tsmap_compute_impl(tsmap *map, const void *key, size_t key_len,
                                       tsmap_compute_fn fn, void *ctx, void *value_out,
                                       int if_present, uint64_t ttl) {
  uint64_t ov[TSMAP_MAX_VALUE_WORDS], nv[TSMAP_MAX_VALUE_WORDS];
  tsmap_key q;
  tsmap_thread *self;
  if (!map || !fn)
    return TSMAP_INVALID_ARGUMENT;
  tsmap_status st = tsmap_begin_local_write(map, key, key_len, &q, &self);
  if (st != TSMAP_OK)
    return st;
  q.ttl = ttl;
  for (;;) {
    tsmap_token tok;
    tsmap_read_enter(self);
    int found = tsmap_shard_read(map, q.shard, &q, ov, &tok);
    tsmap_read_exit(self);
    if (found < 0)
      return TSMAP_CLOSED;
    if (!found && if_present)
      return TSMAP_NOT_FOUND;
    memset(nv, 0, map->value_words * 8);
    tsmap_verdict verdict = tsmap_compute_run(map, &q, self, fn, found ? ov : NULL, ctx, nv);
    if (!tsmap_verdict_known(verdict))
      return TSMAP_INVALID_ARGUMENT;
    int same = found && verdict == TSMAP_STORE && memcmp(ov, nv, map->value_size) == 0;
    if (verdict == TSMAP_KEEP || same || (verdict == TSMAP_DELETE && !found)) {
      if (found)
        tsmap_value_out(map, ov, value_out);
      return found ? TSMAP_OK : TSMAP_NOT_FOUND;
    }
    if (verdict == TSMAP_STORE && TSMAP_UNLIKELY(map->weighted) &&
        tsmap_bound_weigh(map, &q, nv) != TSMAP_OK) { /* G11, B6 */
      tsmap_hook_evicted(map, &q, nv, TSMAP_EVICT_DISCARDED);
      return TSMAP_TOO_HEAVY;
    }
    tsmap_after after = TSMAP_AFTER_INIT;
    if (tsmap_writer_route(map, &q) < 0) /* G15: its key could not move */
      return tsmap_after_verdict(map, &q, found, verdict, ov, nv, TSMAP_NO_MEMORY, 0,
                                 value_out);
    tsmap_writer_begin(map, q.shard, &after);
    int moved = tsmap_route_moved(map, &q); /* closed, or a reshard moved the key (G15) */
    int closed = moved && tsmap_is_closed(map);
    int valid = moved ? 0 : tsmap_still_as_read(map, q.shard, &q, found, ov, &after);
    if (closed)
      st = TSMAP_CLOSED;
    else if (valid < 0)
      st = TSMAP_NO_MEMORY; /* G10: an expired entry in the way could not be reaped */
    else if (valid)
      st = tsmap_apply(map, q.shard, &q, found, verdict, nv, &after);
    tsmap_writer_end(map, q.shard, &after);
    tsmap_after_run(map, &after);
    if (closed || valid)
      return tsmap_after_verdict(map, &q, found, verdict, ov, nv, st, after.rejected,
                                 value_out);
    if (verdict == TSMAP_STORE)
      tsmap_hook_evicted(map, &q, nv, TSMAP_EVICT_DISCARDED); /* retry: result unused */
    if (moved) { /* routed again before the next write (its read needs no route) */
      q.route = tsmap_route(map);
      q.shard = &map->shards[(q.hash >> 32) & q.route];
    }
    if (tsmap_mx_on(map))
      tsmap_mx_count_retry(map);
  }
}

tsmap_status tsmap_compute_if_absent(tsmap *map, const void *key, size_t key_len,
                                     tsmap_absent_fn fn, void *ctx, void *value_out) {
  TSMAP_OP_RUN(map, TSMAP_OP_COMPUTE_IF_ABSENT,
               tsmap_absent_impl(map, key, key_len, fn, ctx, value_out, TSMAP_TTL_DEFAULT));
}

tsmap_status tsmap_compute_if_present(tsmap *map, const void *key, size_t key_len,
                                      tsmap_compute_fn fn, void *ctx, void *value_out) {
  TSMAP_OP_RUN(map, TSMAP_OP_COMPUTE_IF_PRESENT,
               tsmap_compute_impl(map, key, key_len, fn, ctx, value_out, 1, TSMAP_TTL_DEFAULT));
}

tsmap_status tsmap_compute(tsmap *map, const void *key, size_t key_len, tsmap_compute_fn fn,
                           void *ctx, void *value_out) {
  TSMAP_OP_RUN(map, TSMAP_OP_COMPUTE,
               tsmap_compute_impl(map, key, key_len, fn, ctx, value_out, 0, TSMAP_TTL_DEFAULT));
}

/* The *_ttl forms (G10): only on a map created with expiry; counted and timed as their
 * plain forms on a metered map (a map without expiry counts INVALID_ARGUMENT). */
static tsmap_status tsmap_compute_ttl_impl(tsmap *map, const void *key, size_t key_len,
                                           tsmap_compute_fn fn, void *ctx, void *value_out,
                                           int if_present, uint64_t ttl_ns) {
  if (!map || !map->expiring)
    return TSMAP_INVALID_ARGUMENT;
  return tsmap_compute_impl(map, key, key_len, fn, ctx, value_out, if_present, ttl_ns);
}

static tsmap_status tsmap_absent_ttl_impl(tsmap *map, const void *key, size_t key_len,
                                          tsmap_absent_fn fn, void *ctx, void *value_out,
                                          uint64_t ttl_ns) {
  if (!map || !map->expiring)
    return TSMAP_INVALID_ARGUMENT;
  return tsmap_absent_impl(map, key, key_len, fn, ctx, value_out, ttl_ns);
}

tsmap_status tsmap_compute_ttl(tsmap *map, const void *key, size_t key_len,
                               tsmap_compute_fn fn, void *ctx, uint64_t ttl_ns,
                               void *value_out) {
  TSMAP_OP_RUN(map, TSMAP_OP_COMPUTE,
               tsmap_compute_ttl_impl(map, key, key_len, fn, ctx, value_out, 0, ttl_ns));
}

tsmap_status tsmap_compute_if_present_ttl(tsmap *map, const void *key, size_t key_len,
                                          tsmap_compute_fn fn, void *ctx, uint64_t ttl_ns,
                                          void *value_out) {
  TSMAP_OP_RUN(map, TSMAP_OP_COMPUTE_IF_PRESENT,
               tsmap_compute_ttl_impl(map, key, key_len, fn, ctx, value_out, 1, ttl_ns));
}

tsmap_status tsmap_compute_if_absent_ttl(tsmap *map, const void *key, size_t key_len,
                                         tsmap_absent_fn fn, void *ctx, uint64_t ttl_ns,
                                         void *value_out) {
  TSMAP_OP_RUN(map, TSMAP_OP_COMPUTE_IF_ABSENT,
               tsmap_absent_ttl_impl(map, key, key_len, fn, ctx, value_out, ttl_ns));
}
