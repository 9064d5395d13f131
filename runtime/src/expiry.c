/*
 * expiry.c - time-to-live (G10): the clock, deadlines, reaping expired entries (by the
 * writer that meets one, by each write's sweep, by tsmap_maintain and by an optional
 * maintenance thread), and the *_ttl forms of the put calls. Invariants E1-E3 are in
 * expiry.h.
 *
 * Reclamation follows Redis's active expiry: no background thread by default, and a
 * fixed amount of work per operation. Each write sweeps one group of its shard's current
 * table (7 slots) from a per-shard cursor, so a map whose entries all expire is emptied
 * by its own writes; an idle map is swept by tsmap_maintain, which the application calls
 * from its own timer, or by a thread the map starts when maintain_interval_ns is set.
 * Readers never reclaim: they only report an expired entry absent, and write nothing
 * (G2).
 */
#include "expiry.h"
#include "reshard.h"
#include "bound.h"
#include "metrics.h"
#include "versions.h"
#include "fork.h"

#include <errno.h>
#include <stddef.h>
#include <time.h>

/* ======================================================================================
 * Clock and deadlines
 * ====================================================================================== */

uint64_t tsmap_now(const tsmap *m) {
  if (m->cfg.clock)
    return m->cfg.clock(m->cfg.clock_ctx);
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void tsmap_meta_fill(const tsmap *m, const tsmap_key *q, uint64_t *vw,
                     const tsmap_word *old) {
  if (m->versioned) /* G12, G13: a new version (and clock) */
    tsmap_ver_fill(m, q, vw, old);
  if (m->bounded) /* G11: a new entry's frequency, or the old one's (after its deadline) */
    vw[m->value_words + m->expiring] = tsmap_freq_stored(m, q, old ? old + m->expiring : NULL);
  if (!m->expiring)
    return;
  uint64_t ttl = q->ttl == TSMAP_TTL_DEFAULT ? m->cfg.default_ttl_ns : q->ttl;
  uint64_t d = 0;
  if (ttl != TSMAP_TTL_NEVER) {
    uint64_t now = tsmap_now(m);
    d = ttl > UINT64_MAX - now ? UINT64_MAX : now + ttl; /* saturate: far future */
  }
  vw[m->value_words] = d;
}

/* ======================================================================================
 * Reaping (E2)
 * ====================================================================================== */

/* An expired entry taken out of the map: its value words, then its key's bytes. */
struct tsmap_reaped {
  struct tsmap_reaped *next;
  tsmap_evict_reason reason; /* EXPIRED, or CAPACITY (G11) */
  tsmap_tomb *tomb;          /* a replicated map's EXPIRED or CAPACITY: its tombstone's
                                record (V4) */
  size_t key_len;
  size_t bytes; /* of this record, for free */
  uint64_t w[];
};

tsmap_reaped *tsmap_reap_record(tsmap *m, const tsmap_pos *pos, tsmap_evict_reason why) {
  tsmap_word *sl = tsmap_slot(tsmap_table_group(pos->t, pos->g), m->slot_words, pos->slot);
  uint64_t kw[TSMAP_MAX_KEY_WORDS];
  for (size_t i = 0; i < m->key_words; i++)
    kw[i] = tsmap_ld(&sl[i]);
  size_t len, vwords = m->value_words + m->meta_words;
  const void *key = tsmap_slot_key(m, kw, &len); /* a long key is alive: we hold the lock */
  size_t bytes = sizeof(tsmap_reaped) + vwords * 8 + len;
  tsmap_reaped *r = (tsmap_reaped *)tsmap_mem_alloc(m, bytes);
  if (!r)
    return NULL;
  r->reason = why;
  r->tomb = NULL;
  /* G13, V4: a replicated map's entry that leaves without a write, expired or evicted
   * for room (G11), leaves a tombstone with its own clock */
  if (TSMAP_UNLIKELY(m->replicas) &&
      (why == TSMAP_EVICT_EXPIRED || why == TSMAP_EVICT_CAPACITY) &&
      !(r->tomb = tsmap_tomb_for_expiry(m, pos))) {
    tsmap_mem_free(m, r, bytes); /* no memory: the entry stays (E2) */
    return NULL;
  }
  r->key_len = len;
  r->bytes = bytes;
  for (size_t i = 0; i < vwords; i++)
    r->w[i] = tsmap_ld(&sl[m->key_words + i]);
  if (len)
    memcpy(r->w + vwords, key, len);
  return r;
}

void tsmap_reap_commit(tsmap *m, tsmap_shard *s, const tsmap_pos *pos, tsmap_reaped *r,
                       tsmap_after *after) {
  if (r->tomb) /* G13, V4: from the slot, before it is erased */
    tsmap_tomb_on_expire(m, pos, r->tomb, r->reason == TSMAP_EVICT_CAPACITY);
  r->tomb = NULL;
  tsmap_shard_erase(m, s, pos, r->reason); /* counted as its reason, not REMOVED (M3) */
  r->next = after->reaped;
  after->reaped = r;
}

void tsmap_reap_discard(tsmap *m, tsmap_reaped *r) {
  tsmap_tomb_release(m, r->tomb);
  tsmap_mem_free(m, r, r->bytes);
}

int tsmap_reap(tsmap *m, tsmap_shard *s, const tsmap_pos *pos, tsmap_after *after,
               tsmap_evict_reason why) {
  tsmap_reaped *r = tsmap_reap_record(m, pos, why);
  if (!r)
    return -1;
  tsmap_reap_commit(m, s, pos, r, after);
  return 0;
}

int tsmap_expiry_keep(tsmap *m, tsmap_shard *s, const tsmap_pos *pos, tsmap_after *after) {
  uint64_t vw[TSMAP_MAX_VALUE_WORDS];
  tsmap_pos_read_value(m, pos, vw);
  if (!tsmap_read_expired(m, vw))
    return 1;
  return tsmap_reap(m, s, pos, after, TSMAP_EVICT_EXPIRED) == 0 ? 0 : -1;
}

int tsmap_shard_find_live(tsmap *m, tsmap_shard *s, const tsmap_key *q, tsmap_pos *pos,
                          tsmap_after *after) {
  if (!tsmap_shard_find(m, s, q, pos))
    return 0;
  return TSMAP_LIKELY(!m->expiring) ? 1 : tsmap_expiry_keep(m, s, pos, after);
}

/* Reap the expired entries of group `gi` of `t` at time *now (read on first need). */
static void tsmap_sweep_group(tsmap *m, tsmap_shard *s, tsmap_table *t, size_t gi,
                              tsmap_after *after, uint64_t *now, int *have_now) {
  tsmap_group *g = tsmap_table_group(t, gi);
  for (uint64_t full = tsmap_ctrl_full(t->wctrl[gi]); full; full &= full - 1) {
    unsigned i = tsmap_first_slot(full);
    uint64_t d = tsmap_ld(tsmap_slot(g, m->slot_words, i) + m->key_words + m->value_words);
    if (d == 0)
      continue;
    if (!*have_now) {
      *now = tsmap_now(m);
      *have_now = 1;
    }
    tsmap_pos pos = {t, gi, i};
    if (*now >= d)
      (void)tsmap_reap(m, s, &pos, after, TSMAP_EVICT_EXPIRED); /* no memory: retried */
  }
}

void tsmap_expiry_sweep(tsmap *m, tsmap_shard *s, tsmap_after *after, size_t groups) {
  tsmap_table *t = atomic_load_explicit(&s->cur, memory_order_relaxed);
  if (!t) /* closed */
    return;
  uint64_t now = 0;
  int have_now = 0;
  if (groups > t->ngroups)
    groups = t->ngroups;
  for (size_t n = 0; n < groups; n++)
    tsmap_sweep_group(m, s, t, s->sweep_pos++ & t->mask, after, &now, &have_now);
}

void tsmap_reaped_run(tsmap *m, tsmap_after *after) {
  size_t vwords = m->value_words + m->meta_words;
  while (after->reaped) {
    tsmap_reaped *r = after->reaped;
    after->reaped = r->next;
    tsmap_key q;
    q.p = (const unsigned char *)(r->w + vwords);
    q.len = r->key_len;
    tsmap_hook_evicted(m, &q, r->w, r->reason);
    tsmap_mem_free(m, r, r->bytes);
  }
}

/* ======================================================================================
 * tsmap_maintain and the maintenance thread
 * ====================================================================================== */

static tsmap_status tsmap_maintain_body(tsmap *map, size_t budget);

tsmap_status tsmap_maintain(tsmap *map, size_t budget) {
  TSMAP_OP_RUN(map, TSMAP_OP_MAINTAIN, tsmap_maintain_body(map, budget));
}

static tsmap_status tsmap_maintain_body(tsmap *map, size_t budget) {
  if (!map)
    return TSMAP_INVALID_ARGUMENT;
  if (tsmap_is_closed(map))
    return TSMAP_CLOSED;
  size_t groups = budget / TSMAP_GROUP_SLOTS + (budget % TSMAP_GROUP_SLOTS != 0);
  size_t reclaim = groups;
  tsmap_reshard_help(map, groups); /* G15: moves a reshard on, finishes an idle one */
  /* A budget over the map's groups buys one pass: each visit looks at up to
   * TSMAP_MAINTAIN_CHUNK groups of a shard (a growth's old table first, where entries not
   * moved yet are and no sweep looks), shards round-robin, and the call ends after as many
   * rounds as the largest shard of the first round needs (its groups read under its lock). */
  size_t shards = tsmap_shard_count(map), visits = 0, rounds = 1;
  while (map->expiring && groups > 0 && visits < shards * rounds) {
    size_t i = atomic_fetch_add_explicit(&map->maintain_next, 1, memory_order_relaxed);
    tsmap_shard *s = &map->shards[i & (tsmap_shard_count(map) - 1)];
    tsmap_after after = TSMAP_AFTER_INIT;
    tsmap_writer_begin(map, s, &after); /* sweeps a group; moves a growth on (G5) */
    int closed = tsmap_is_closed(map);
    tsmap_table *old = atomic_load_explicit(&s->old, memory_order_relaxed);
    tsmap_table *t = atomic_load_explicit(&s->cur, memory_order_relaxed);
    if (visits++ < shards) {
      size_t held = (t ? t->ngroups : 1) + (old ? old->ngroups : 0);
      size_t need = (held + TSMAP_MAINTAIN_CHUNK - 1) / TSMAP_MAINTAIN_CHUNK;
      rounds = need > rounds ? need : rounds;
    }
    size_t moved = 0;
    while (!closed && moved < groups && moved < TSMAP_MAINTAIN_CHUNK &&
           atomic_load_explicit(&s->old, memory_order_relaxed)) {
      tsmap_shard_growth_step(map, s);
      moved += TSMAP_MIGRATE_GROUPS;
    }
    groups = groups > moved ? groups - moved : 0;
    t = atomic_load_explicit(&s->cur, memory_order_relaxed);
    size_t n = groups < TSMAP_MAINTAIN_CHUNK ? groups : TSMAP_MAINTAIN_CHUNK;
    if (t && n > t->ngroups)
      n = t->ngroups;
    if (!closed && n > 0 && moved > 0) {
      /* The write's own sweep (tsmap_writer_begin) looked at its group before the moves
       * above, which may have brought expired entries into it: that group again, then the
       * rest. Counting it as one of the n, a one-pass budget missed an entry or two in 3%
       * of seeds of a 2-shard map of 200 expired entries mid-growth (black-box round 19). */
      s->sweep_pos -= TSMAP_SWEEP_GROUPS;
      tsmap_expiry_sweep(map, s, &after, n);
    } else if (!closed && n > TSMAP_SWEEP_GROUPS) {
      tsmap_expiry_sweep(map, s, &after, n - TSMAP_SWEEP_GROUPS);
    }
    groups -= n;
    tsmap_writer_end(map, s, &after);
    tsmap_after_run(map, &after); /* the hooks: one may close the map */
    if (closed || tsmap_is_closed(map))
      return TSMAP_CLOSED;
  }
  return tsmap_reclaim_quiet(map, reclaim); /* G3: what quiet shards retired (reclaim.c) */
}

typedef struct tsmap_maint {
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  int stop;   /* lock */
  int joined; /* the closer; or a child of fork, which has no thread to join (G16) */
  tsmap_fork_watch fork;
} tsmap_maint;

/* The maintenance thread's wake-up: on the monotonic clock (its waits are intervals). */
static int tsmap_maint_cond_init(pthread_cond_t *c) {
  pthread_condattr_t ca;
  int ok = pthread_condattr_init(&ca) == 0;
  ok = ok && pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0;
  ok = ok && pthread_cond_init(c, &ca) == 0;
  return ok;
}

/* G16, in the child of a fork: the thread was not copied. Nothing to stop or join at
 * close; the child's map is maintained by its writes and tsmap_maintain calls. */
static void tsmap_maint_forked(tsmap_fork_watch *w) {
  tsmap_maint *mt = (tsmap_maint *)(void *)((char *)w - offsetof(tsmap_maint, fork));
  pthread_mutex_init(&mt->lock, NULL);
  (void)tsmap_maint_cond_init(&mt->wake);
  mt->stop = mt->joined = 1;
}

/* The maintenance thread: tsmap_maintain every maintain_interval_ns (real time, whatever
 * the map's clock) until tsmap_close stops it. */
static void *tsmap_maint_main(void *arg) {
  tsmap *m = (tsmap *)arg;
  tsmap_maint *mt = m->maint;
  size_t budget = m->cfg.maintain_budget ? m->cfg.maintain_budget : TSMAP_MAINTAIN_BUDGET;
  uint64_t step = m->cfg.maintain_interval_ns;
  pthread_mutex_lock(&mt->lock);
  while (!mt->stop) {
    struct timespec at;
    clock_gettime(CLOCK_MONOTONIC, &at);
    uint64_t ns = (uint64_t)at.tv_nsec + step % 1000000000u;
    at.tv_sec += (time_t)(step / 1000000000u + ns / 1000000000u);
    at.tv_nsec = (long)(ns % 1000000000u);
    if (pthread_cond_timedwait(&mt->wake, &mt->lock, &at) != ETIMEDOUT || mt->stop)
      continue;
    pthread_mutex_unlock(&mt->lock);
    (void)tsmap_maintain(m, budget);
    pthread_mutex_lock(&mt->lock);
  }
  pthread_mutex_unlock(&mt->lock);
  return NULL;
}

tsmap_status tsmap_maint_start(tsmap *m) {
  if (!m->cfg.maintain_interval_ns)
    return TSMAP_OK;
  tsmap_maint *mt = (tsmap_maint *)tsmap_mem_zalloc(m, sizeof *mt);
  if (!mt)
    return TSMAP_NO_MEMORY;
  int ok = tsmap_maint_cond_init(&mt->wake);
  if (ok && pthread_mutex_init(&mt->lock, NULL) != 0) {
    pthread_cond_destroy(&mt->wake);
    ok = 0;
  }
  m->maint = mt;
  mt->fork.child = tsmap_maint_forked;
  if (ok && !tsmap_fork_watch_add(&mt->fork)) {
    pthread_cond_destroy(&mt->wake);
    pthread_mutex_destroy(&mt->lock);
    ok = 0;
  }
  if (ok && pthread_create(&mt->thread, NULL, tsmap_maint_main, m) != 0) {
    tsmap_fork_watch_remove(&mt->fork);
    pthread_cond_destroy(&mt->wake);
    pthread_mutex_destroy(&mt->lock);
    ok = 0;
  }
  if (!ok) {
    m->maint = NULL;
    tsmap_mem_free(m, mt, sizeof *mt);
  }
  return ok ? TSMAP_OK : TSMAP_NO_MEMORY;
}

void tsmap_maint_stop(tsmap *m) {
  tsmap_maint *mt = m->maint;
  if (!mt)
    return;
  pthread_mutex_lock(&mt->lock);
  mt->stop = 1;
  pthread_cond_signal(&mt->wake);
  int gone = mt->joined; /* a child of fork's (G16) */
  pthread_mutex_unlock(&mt->lock);
  if (!gone && !pthread_equal(pthread_self(), mt->thread)) { /* else: a hook of it closed */
    pthread_join(mt->thread, NULL);
    mt->joined = 1;
  }
}

void tsmap_maint_free(tsmap *m) {
  tsmap_maint *mt = m->maint;
  if (!mt)
    return;
  if (!mt->joined)
    pthread_join(mt->thread, NULL);
  tsmap_fork_watch_remove(&mt->fork);
  pthread_cond_destroy(&mt->wake);
  pthread_mutex_destroy(&mt->lock);
  tsmap_mem_free(m, mt, sizeof *mt);
  m->maint = NULL;
}

/* ======================================================================================
 * The *_ttl put calls (tsmap.h): counted and timed as their plain forms (put,
 * put_if_absent) on a metered map; they take the generic put (a call's own TTL), not the
 * 8-byte put of a map with one meta word (map.c, put_meta: the default TTL only).
 * ====================================================================================== */

/* A map that takes a TTL: one created with expiry. */
static int tsmap_takes_ttl(const tsmap *map) { return map && map->expiring; }

/* put / put_if_absent (`replace`) with a TTL, of a map that takes one. */
static tsmap_status tsmap_store_ttl(tsmap *map, const void *key, size_t key_len,
                                    const void *value, void *old_out, int replace,
                                    uint64_t ttl_ns) {
  if (!tsmap_takes_ttl(map))
    return TSMAP_INVALID_ARGUMENT;
  return tsmap_store(map, key, key_len, value, old_out, replace, ttl_ns);
}

tsmap_status tsmap_put_ttl(tsmap *map, const void *key, size_t key_len, const void *value,
                           uint64_t ttl_ns, void *old_out) {
  TSMAP_OP_RUN(map, TSMAP_OP_PUT, tsmap_store_ttl(map, key, key_len, value, old_out, 1, ttl_ns));
}

tsmap_status tsmap_put_if_absent_ttl(tsmap *map, const void *key, size_t key_len,
                                     const void *value, uint64_t ttl_ns, void *existing_out) {
  TSMAP_OP_RUN(map, TSMAP_OP_PUT_IF_ABSENT,
               tsmap_store_ttl(map, key, key_len, value, existing_out, 0, ttl_ns));
}

/* The plain put_ptr forms check the value size before counting; so do these. */
tsmap_status tsmap_put_ptr_ttl(tsmap *map, const void *key, size_t key_len, void *value,
                               uint64_t ttl_ns, void **old_out) {
  if (!map || map->value_size != sizeof(void *))
    return TSMAP_INVALID_ARGUMENT;
  TSMAP_OP_RUN(map, TSMAP_OP_PUT, tsmap_store_ttl(map, key, key_len, &value, old_out, 1, ttl_ns));
}

tsmap_status tsmap_put_ptr_if_absent_ttl(tsmap *map, const void *key, size_t key_len,
                                         void *value, uint64_t ttl_ns, void **existing_out) {
  if (!map || map->value_size != sizeof(void *))
    return TSMAP_INVALID_ARGUMENT;
  TSMAP_OP_RUN(map, TSMAP_OP_PUT_IF_ABSENT,
               tsmap_store_ttl(map, key, key_len, &value, existing_out, 0, ttl_ns));
}
