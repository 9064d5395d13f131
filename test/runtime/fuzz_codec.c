/*
 * fuzz_codec.c - libFuzzer target for the replication wire format and merge (G13),
 * written from tsmap.h and runtime/DESIGN.md alone (black-box round 14).
 *
 * Every chunk of input bytes goes to tsmap_change_decode in a malloc of exactly its
 * length (ASan sees any read past it), decoded in place as a stream (so at any
 * alignment), with the value size the input picks (0 up to SIZE_MAX). fuzz_codec_check.h asserts what the header promises of a decode and an
 * encode. Each change that decodes is merged into one of three replicas and the result
 * compared with fuzz_codec_model.h (status, value, clock, stamp, size, hooks, old_out,
 * merge_stored's flag, the resolver's two sides, the feed); at the end the same changes
 * merged in reverse order into a fresh replica must give every key the same clock and
 * the same presence (the merge rule makes both the join of what was merged). A second
 * mode runs a real history (local writes on three replicas, exchanged through the
 * codec): replaying every exchanged change in two orders, with duplicates, into fresh
 * replicas must give the originals' state, each key as its largest-stamped change
 * (G13 (e) with tsmap_resolve_latest).
 *
 * Input: byte 0: bits 0-3 the value size (VALUE_SIZES), bit 4 replica 2 takes 8-byte keys,
 * bits 5-7 the replica count (REPLICAS). Byte 1: bits 0-2 the resolver (RES_*: NULL,
 * tsmap_resolve_latest, a symmetric max, one storing its own result, a bad verdict; a
 * history takes one of the first two), bit 3 merges pass old_out, bit 6 the history mode. Then commands (fuzz_codec.c's run_changes
 * and run_history say their bytes).
 *
 * Mutations (each made by hand in runtime/src and reverted; black-box round 14), against
 * the bounded run runtime.fuzz.codec makes (12,000 runs, -seed=1, from the seeds):
 *   caught, codec.c: decode's length bound one counter short; encode not checking the
 *     stamp's replica part; flags 2 accepted; the version read as 4 bytes; 17 counters
 *     accepted both ways;
 *   caught, replica.c: equal clocks taken as dominating; a KEEP not joining the clocks;
 *     the smaller stamp kept on a resolve; the stamp-time check refusing a stamp equal
 *     to its counter, or dropped; TSMAP_REPLACED never returned; a bytewise-equal value
 *     replacing (hooks run); merge_stored's flag always 1; a counter of exactly
 *     TSMAP_CLOCK_LIMIT accepted;
 *   caught, tombs.c: forget ignoring the last counter, or dropping a tombstone one above
 *     the horizon;
 *   missed: the key-length limit off by one (test_codec.c's key_length_limit catches
 *     it); the merge's cap at the headroom mark removed (a counter past the mark refuses
 *     local writes either way: nothing the header promises tells them apart);
 *     tsmap_resolve_latest storing on equal stamps (the header leaves ties open, and in
 *     a real history a tie pairs equal values).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tsmap/tsmap.h>

static long g_decodes[16];
#define FC_COUNT_DECODE(st) (g_decodes[(st) & 15]++)
#include "fuzz_codec_check.h"
#include "fuzz_codec_model.h"

static const size_t VALUE_SIZES[16] = {
    0, 1, 2, 7, 8, 9, 16, 24, 31, 64, 255, 4096,
    4097, SIZE_MAX, SIZE_MAX - 31, (size_t)1 << 62}; /* past 4096: decode and encode only */
static const size_t REPLICAS[5] = {1, 2, 3, 4, 16};
enum { RES_NULL, RES_LATEST, RES_MAX, RES_XOR, RES_BAD, RES_COUNT };
#define NREP 3

/* ---- Hooks: what the map hands out, checked against the model after each call ---------- */

static struct {
  long created, evicted, discarded;
  tsmap_evict_reason why;
  unsigned char created_value[FM_VALUE_MAX], evicted_value[FM_VALUE_MAX];
  size_t value_size;
} hk;

static void on_created(const void *k, size_t kl, const void *v, void *ctx) {
  (void)k, (void)kl, (void)ctx;
  hk.created++;
  memcpy(hk.created_value, v, hk.value_size);
}
static void on_evicted(const void *k, size_t kl, void *v, tsmap_evict_reason why, void *ctx) {
  (void)k, (void)kl, (void)ctx;
  if (why == TSMAP_EVICT_DISCARDED) { /* single-threaded: no merge starts over */
    hk.discarded++;
    return;
  }
  hk.evicted++;
  hk.why = why;
  memcpy(hk.evicted_value, v, hk.value_size);
}

/* ---- Resolvers --------------------------------------------------------------------- */

typedef struct res_ctx {
  int mode;
  tsmap *map;                  /* the map merging: its key is the resolver's to leave */
  const fm_replica *model;     /* to check the sides the map passes */
  const tsmap_change *remote;  /* the change being merged */
  int ran, verdict; /* ran: a flag, not a count (the resolver must be idempotent) */
  unsigned char merged[FM_VALUE_MAX];
} res_ctx;

static void same_change(const tsmap_change *a, const tsmap_change *b, size_t vs) {
  REQUIRE(a->key_len == b->key_len);
  REQUIRE(a->key_len == 0 || memcmp(a->key, b->key, a->key_len) == 0);
  REQUIRE((a->value == NULL) == (b->value == NULL));
  REQUIRE(!a->value || vs == 0 || memcmp(a->value, b->value, vs) == 0);
  REQUIRE(a->stamp == b->stamp);
  for (size_t i = 0; i < TSMAP_MAX_REPLICAS; i++)
    REQUIRE(fm_counter(a, i) == fm_counter(b, i));
}

/* The documented rule of tsmap_resolve_latest: the larger stamp wins (ties: whatever it
 * says, the header leaves them open). */
static int latest_verdict(const tsmap_change *local, const tsmap_change *remote,
                          size_t vs, void *merged) {
  if (local->stamp == remote->stamp) { /* merged holds the remote value (DESIGN.md) */
    if (remote->value)
      memcpy(merged, remote->value, vs);
    return tsmap_resolve_latest(local->key, local->key_len, local, remote, NULL, merged);
  }
  if (local->stamp > remote->stamp)
    return TSMAP_KEEP;
  if (!remote->value)
    return TSMAP_DELETE;
  memcpy(merged, remote->value, vs);
  return TSMAP_STORE;
}

/* The verdict of a resolver mode on two sides (the model's oracle and the map's
 * resolver). */
static int verdict_of(int mode, const tsmap_change *local, const tsmap_change *remote,
                      size_t vs, unsigned char *merged) {
  if (mode == RES_LATEST || mode == RES_NULL)
    return latest_verdict(local, remote, vs, merged);
  if (mode == RES_BAD)
    return 7;
  if (mode == RES_MAX) { /* symmetric: the larger value wins, a tombstone the smallest */
    int c = !local->value ? (remote->value ? -1 : 0)
            : !remote->value ? 1 : (vs ? memcmp(local->value, remote->value, vs) : 0);
    if (c >= 0)
      return TSMAP_KEEP;
    memcpy(merged, remote->value, vs);
    return TSMAP_STORE;
  }
  /* RES_XOR: a result of its own (or a tombstone if either side is one) */
  if (!local->value || !remote->value)
    return TSMAP_DELETE;
  for (size_t i = 0; i < vs; i++)
    merged[i] = ((const unsigned char *)local->value)[i] ^
                ((const unsigned char *)remote->value)[i];
  return TSMAP_STORE;
}

static tsmap_verdict fz_resolve(const void *key, size_t key_len, const tsmap_change *local,
                                const tsmap_change *remote, void *ctx, void *merged) {
  res_ctx *rc = ctx;
  size_t vs = rc->model->value_size;
  /* The sides: the model's local state and the change as given. */
  fm_key *k = fm_find((fm_replica *)rc->model, key, key_len);
  REQUIRE(k && k->state != FM_NONE);
  tsmap_change want;
  fm_as_change(rc->model, k, &want);
  same_change(local, &want, vs);
  same_change(remote, rc->remote, vs);
  REQUIRE(fm_compare(want.clock, k->clock, rc->model->replicas) == 0);
  /* "its calls on key return TSMAP_REENTERED"; another key is fine */
  REQUIRE(tsmap_get(rc->map, key, key_len, NULL) == TSMAP_REENTERED);
  static const char other[7] = "\xff-other";
  if (key_len != 7 || memcmp(key, other, 7) != 0) {
    fm_key *o = fm_find((fm_replica *)rc->model, other, 7);
    REQUIRE(tsmap_get(rc->map, other, 7, NULL) ==
            (rc->model->key_size ? TSMAP_INVALID_ARGUMENT
             : o && o->state == FM_VALUE ? TSMAP_OK : TSMAP_NOT_FOUND));
  }
  rc->ran = 1;
  if (rc->mode == RES_LATEST) { /* the library's resolver, checked against its rule */
    unsigned char mine[FM_VALUE_MAX];
    int v = tsmap_resolve_latest(key, key_len, local, remote, NULL, merged);
    int w = latest_verdict(local, remote, vs, mine);
    REQUIRE(v == w);
    REQUIRE(v != TSMAP_STORE || vs == 0 || memcmp(merged, mine, vs) == 0);
    rc->verdict = v;
  } else {
    rc->verdict = verdict_of(rc->mode, local, remote, vs, merged);
  }
  if (vs)
    memcpy(rc->merged, merged, vs);
  return (tsmap_verdict)rc->verdict;
}

/* ---- Replicas ------------------------------------------------------------------------ */

typedef struct replica {
  tsmap *map;
  fm_replica model;
  uint64_t since;     /* the feed's watermark */
  uint64_t max_stamp; /* the largest stamp it has held (history mode) */
} replica;

static tsmap *make_map(size_t replicas, size_t id, size_t vs, size_t key_size) {
  tsmap_config cfg;
  REQUIRE(tsmap_config_init(&cfg, vs) == TSMAP_OK);
  cfg.replicas = replicas;
  cfg.replica_id = id;
  cfg.key_size = key_size;
  cfg.shard_count = 2;
  cfg.seed = 1;
  cfg.on_entry_created = on_created;
  cfg.on_entry_evicted = on_evicted;
  tsmap *m = NULL;
  REQUIRE(tsmap_create(&cfg, &m) == TSMAP_OK);
  return m;
}

/* ---- The state a map exports, against its model --------------------------------------- */

typedef struct visit {
  const fm_replica *model;
  unsigned char seen[FM_KEYS];
  size_t count;
  const void *want_key; /* the feed: this key must be visited */
  size_t want_len;
  int found;
} visit;

static int visit_change(const tsmap_change *c, void *ctx) {
  visit *v = ctx;
  REQUIRE(c->clock_len <= v->model->replicas);
  if (v->want_key && c->key_len == v->want_len &&
      (c->key_len == 0 || memcmp(c->key, v->want_key, c->key_len) == 0))
    v->found = 1;
  fm_key *k = fm_find((fm_replica *)v->model, c->key, c->key_len);
  REQUIRE(k && k->state != FM_NONE); /* no state the model does not hold */
  tsmap_change want;
  fm_as_change(v->model, k, &want);
  same_change(c, &want, v->model->value_size);
  size_t i = (size_t)(k - v->model->keys);
  v->count += !v->seen[i];
  v->seen[i] = 1;
  return 0;
}

/* The map holds exactly the model: every entry and tombstone exported once with its
 * value, clock and stamp; gets and size agree. */
static void check_state(replica *r) {
  visit v;
  memset(&v, 0, sizeof v);
  v.model = &r->model;
  REQUIRE(tsmap_export(r->map, 0, visit_change, &v, NULL) == TSMAP_OK);
  size_t states = 0, values = 0;
  unsigned char got[FM_VALUE_MAX + 1];
  for (size_t i = 0; i < r->model.nkeys; i++) {
    const fm_key *k = &r->model.keys[i];
    states += k->state != FM_NONE;
    values += k->state == FM_VALUE;
    tsmap_status st = tsmap_get(r->map, k->key, k->len, got);
    REQUIRE(st == (k->state == FM_VALUE ? TSMAP_OK : TSMAP_NOT_FOUND));
    REQUIRE(st != TSMAP_OK || r->model.value_size == 0 ||
            memcmp(got, k->value, r->model.value_size) == 0);
  }
  REQUIRE(v.count == states);
  size_t size = 0;
  REQUIRE(tsmap_size(r->map, &size) == TSMAP_OK && size == values);
}

/* The feed since the last watermark lists `c`'s key (every change takes a version). */
static void check_feed(replica *r, const tsmap_change *c, int changed) {
  visit v;
  memset(&v, 0, sizeof v);
  v.model = &r->model;
  v.want_key = c->key;
  v.want_len = c->key_len;
  uint64_t next = 0;
  REQUIRE(tsmap_export(r->map, r->since, visit_change, &v, &next) == TSMAP_OK);
  REQUIRE(!changed || v.found);
  r->since = next;
}

/* Merge statuses, resolver runs, decode statuses and local writes seen, printed at exit
 * with FUZZ_CODEC_STATS set (to see what a campaign reached). */
static long g_merges[16], g_resolved, g_writes;
__attribute__((destructor)) static void print_stats(void) {
  if (!getenv("FUZZ_CODEC_STATS"))
    return;
  for (int i = 0; i < 16; i++)
    if (g_merges[i] || g_decodes[i])
      fprintf(stderr, "%-24s merges %ld decodes %ld\n", tsmap_status_name((tsmap_status)i),
              g_merges[i], g_decodes[i]);
  fprintf(stderr, "resolver runs %ld, local writes %ld\n", g_resolved, g_writes);
}

/* Replays check each merge's effects but the whole state only at their end (speed). */
static int g_replaying;

/* Merge `c` into r and compare everything with the model. Returns the status. */
static tsmap_status merge_checked(replica *r, const tsmap_change *c, int mode, int use_old,
                                  int use_stored) {
  size_t vs = r->model.value_size;
  if (!fm_find(&r->model, c->key, c->key_len) && r->model.nkeys == FM_KEYS &&
      fm_valid(&r->model, c))
    return TSMAP_NO_MEMORY; /* the model is full: this key is not merged */
  res_ctx rc;
  memset(&rc, 0, sizeof rc);
  rc.mode = mode;
  rc.map = r->map;
  rc.model = &r->model;
  rc.remote = c;
  rc.verdict = -1;
  unsigned char old[FM_VALUE_MAX + 1], model_old[FM_VALUE_MAX + 1];
  memset(old, 0xa5, sizeof old);
  long created = hk.created, evicted = hk.evicted;
  int stored = -1;
  tsmap_resolve_fn fn = mode == RES_NULL ? NULL : fz_resolve;
  tsmap_status st =
      use_stored ? tsmap_merge_stored(r->map, c, fn, &rc, use_old ? old : NULL, &stored)
                 : tsmap_merge(r->map, c, fn, &rc, use_old ? old : NULL);
  /* The model's verdict: the resolver's own, or for NULL the documented rule. */
  int verdict = rc.verdict;
  unsigned char *merged = rc.merged;
  fm_key *k = fm_find(&r->model, c->key, c->key_len);
  if (mode == RES_NULL && fm_valid(&r->model, c) && fm_order(&r->model, k, c) == 2) {
    tsmap_change local;
    fm_as_change(&r->model, k, &local);
    verdict = verdict_of(mode, &local, c, vs, merged);
  }
  fm_effect e = fm_merge(&r->model, c, verdict, merged, model_old);
  if (st != e.status)
    fprintf(stderr, "fuzz_codec: merge returned %s, the model %s\n", tsmap_status_name(st),
            tsmap_status_name(e.status));
  REQUIRE(st == e.status);
  g_merges[st & 15]++;
  g_resolved += e.resolves;
  REQUIRE(mode == RES_NULL || rc.ran == e.resolves);
  REQUIRE(hk.created - created == e.created);
  if (e.created && vs)
    REQUIRE(memcmp(hk.created_value, fm_find(&r->model, c->key, c->key_len)->value, vs) == 0);
  REQUIRE(hk.evicted - evicted == (e.left && !use_old));
  if (e.left && !use_old)
    REQUIRE(hk.why == e.why && (vs == 0 || memcmp(hk.evicted_value, model_old, vs) == 0));
  if (e.left && use_old && vs)
    REQUIRE(memcmp(old, model_old, vs) == 0);
  if (!e.left && use_old)
    REQUIRE(old[0] == 0xa5); /* nothing written to old_out */
  if (use_stored)
    REQUIRE(stored == e.stored_remote);
  REQUIRE(hk.discarded == 0);
  int changed = st == TSMAP_OK || st == TSMAP_REPLACED;
  check_feed(r, c, changed);
  if (!g_replaying)
    check_state(r);
  return st;
}

/* ---- Local writes: their clocks learned from the export, checked against the rule ---- */

typedef struct learn {
  const void *key;
  size_t len;
  int found, tomb;
  uint64_t clock[TSMAP_MAX_REPLICAS], stamp;
  unsigned char value[FM_VALUE_MAX];
  size_t vs;
} learn;

static int learn_visit(const tsmap_change *c, void *ctx) {
  learn *l = ctx;
  if (c->key_len != l->len || (l->len && memcmp(c->key, l->key, l->len) != 0))
    return 0;
  l->found = 1;
  l->tomb = c->value == NULL;
  if (c->value && l->vs)
    memcpy(l->value, c->value, l->vs);
  for (size_t i = 0; i < TSMAP_MAX_REPLICAS; i++)
    l->clock[i] = fm_counter(c, i);
  l->stamp = c->stamp;
  return 0;
}

/* The largest counter or stamp time in c, for the clock headroom (V6). */
static uint64_t change_top(const tsmap_change *c) {
  uint64_t top = c->stamp >> 8;
  for (size_t i = 0; i < c->clock_len; i++)
    top = c->clock[i] > top ? c->clock[i] : top;
  return top;
}

typedef struct headroom {
  uint64_t sure, maybe; /* the largest top merged surely / perhaps into the counter */
  uint64_t ops;         /* merges and writes so far: versions they may have taken */
} headroom;

/* A put (value) or remove (NULL) of `key` on replica r (id `id`), checked: its status
 * and hooks as a plain map's; the refusal at the clock headroom; and the new clock
 * dominating the old one by this replica's counter alone, which is the write's version
 * and names it in the stamp, a stamp above every stamp the replica held (G13 (a)). */
static void local_write(replica *r, size_t id, const void *key, size_t len, const void *value,
                        int use_old, headroom *hr) {
  fm_replica *m = &r->model;
  size_t vs = m->value_size;
  fm_key *k = fm_slot(m, key, len);
  if (!k)
    return;
  unsigned char old[FM_VALUE_MAX + 1];
  memset(old, 0xa5, sizeof old);
  long created = hk.created, evicted = hk.evicted;
  int had = k->state == FM_VALUE;
  tsmap_status st = value ? tsmap_put(r->map, key, len, value, use_old ? old : NULL)
                          : tsmap_remove(r->map, key, len, use_old ? old : NULL);
  const uint64_t mark = TSMAP_CLOCK_LIMIT - TSMAP_CLOCK_HEADROOM;
  hr->ops++;
  g_writes++;
  if (hr->sure >= mark)
    REQUIRE(st == TSMAP_INVALID_ARGUMENT);
  if (st == TSMAP_INVALID_ARGUMENT) {
    REQUIRE(hr->maybe + hr->ops >= mark);
    REQUIRE(hk.created == created && hk.evicted == evicted);
    check_state(r);
    return;
  }
  if (!value && !had) { /* nothing to remove: nothing changes */
    REQUIRE(st == TSMAP_NOT_FOUND);
    check_state(r);
    return;
  }
  REQUIRE(st == (value ? (had ? TSMAP_REPLACED : TSMAP_OK) : TSMAP_OK));
  REQUIRE(hk.created - created == (value != NULL));
  REQUIRE(hk.evicted - evicted == (had && !use_old));
  if (had && !use_old)
    REQUIRE(hk.why == (value ? TSMAP_EVICT_REPLACED : TSMAP_EVICT_REMOVED) &&
            (vs == 0 || memcmp(hk.evicted_value, k->value, vs) == 0));
  if (had && use_old && vs)
    REQUIRE(memcmp(old, k->value, vs) == 0);
  learn l;
  memset(&l, 0, sizeof l);
  l.key = key;
  l.len = len;
  l.vs = vs;
  REQUIRE(tsmap_export(r->map, 0, learn_visit, &l, NULL) == TSMAP_OK && l.found);
  REQUIRE(l.tomb == (value == NULL));
  for (size_t i = 0; i < m->replicas; i++)
    REQUIRE(i == id ? l.clock[i] > (k->state ? k->clock[i] : 0)
                    : l.clock[i] == (k->state ? k->clock[i] : 0));
  REQUIRE(l.clock[id] < TSMAP_CLOCK_LIMIT);
  REQUIRE((l.stamp & 0xff) == id && (l.stamp >> 8) == l.clock[id]);
  REQUIRE(l.stamp > r->max_stamp);
  uint64_t version = 0;
  REQUIRE(tsmap_get_version(r->map, key, len, NULL, &version) ==
          (value ? TSMAP_OK : TSMAP_NOT_FOUND));
  REQUIRE(!value || version == l.clock[id]);
  memcpy(k->clock, l.clock, sizeof k->clock);
  k->stamp = l.stamp;
  k->state = value ? FM_VALUE : FM_TOMB;
  if (value && vs)
    memcpy(k->value, value, vs);
  r->max_stamp = l.stamp;
  check_feed(r, &(tsmap_change){.key = key, .key_len = len}, 1);
  check_state(r);
}

/* After a merge: the replica's largest stamp and the headroom's bounds. */
static void note_merge(replica *r, headroom *hr, const tsmap_change *c, tsmap_status st) {
  hr->ops++;
  if (!fm_valid(&r->model, c))
    return;
  uint64_t top = change_top(c);
  hr->maybe = top > hr->maybe ? top : hr->maybe;
  if (st == TSMAP_OK || st == TSMAP_REPLACED || st == TSMAP_EXISTS) {
    hr->sure = top > hr->sure ? top : hr->sure;
    fm_key *k = fm_find(&r->model, c->key, c->key_len);
    if (k && k->stamp > r->max_stamp)
      r->max_stamp = k->stamp;
  }
}

/* ---- Input reading ----------------------------------------------------------------- */

typedef struct input {
  const uint8_t *p;
  size_t n;
} input;

static unsigned next(input *in) {
  if (!in->n)
    return 0;
  in->n--;
  return *in->p++;
}

/* ---- Mode 1: changes from the input ------------------------------------------------- */

typedef struct logged {
  unsigned char *bytes;
  size_t len;
} logged;

static logged *g_log;
static size_t g_nlog, g_caplog;

/* Keep the encoding `bytes` (the log owns it from here). */
static void log_bytes(unsigned char *bytes, size_t len) {
  if (g_nlog == g_caplog) {
    g_caplog = g_caplog ? 2 * g_caplog : 256;
    g_log = realloc(g_log, g_caplog * sizeof *g_log);
    REQUIRE(g_log);
  }
  g_log[g_nlog].bytes = bytes;
  g_log[g_nlog++].len = len;
}

static void log_change(const tsmap_change *c, size_t vs) {
  size_t n = 0;
  unsigned char *b = fc_encode_exact(c, vs, &n);
  REQUIRE(b);
  log_bytes(b, n);
}

static void clear_log(void) {
  for (size_t i = 0; i < g_nlog; i++)
    free(g_log[i].bytes);
  g_nlog = 0;
}

/* A fresh replica `id` given every logged change in reverse order: each key's clock is
 * the join of its changes' and its presence the same as `ref`'s, whatever the order. */
static void check_order_free(replica *ref, size_t id, size_t key_size, int mode) {
  fm_replica *m = &ref->model;
  replica fresh;
  memset(&fresh, 0, sizeof fresh);
  fresh.map = make_map(m->replicas, id, m->value_size, key_size);
  fm_init(&fresh.model, m->replicas, m->value_size, key_size);
  g_replaying = 1;
  for (size_t i = g_nlog; i-- > 0;) {
    fc_decoded d;
    unsigned char *b = NULL;
    REQUIRE(fc_decode_exact(g_log[i].bytes, g_log[i].len, m->value_size, &b, &d) ==
            TSMAP_OK);
    merge_checked(&fresh, &d.change, mode, 0, 0);
    free(b);
  }
  g_replaying = 0;
  check_state(&fresh);
  for (size_t i = 0; i < m->nkeys; i++) {
    const fm_key *a = &m->keys[i];
    const fm_key *b = fm_find(&fresh.model, a->key, a->len);
    REQUIRE((a->state != FM_NONE) == (b && b->state != FM_NONE));
    if (a->state != FM_NONE)
      REQUIRE(fm_compare(a->clock, b->clock, m->replicas) == 0);
  }
  fm_free(&fresh.model);
  tsmap_destroy(fresh.map);
}

/* Commands: op byte, then
 *   op % 8 < 5: a chunk (2 length bytes, then that many) decoded as a stream of changes,
 *               each merged into replica (op >> 3) % 3 (tsmap_merge_stored when op bit 6);
 *   5: tsmap_forget on replica (op >> 3) % 3: a count byte, then that many counter bytes
 *      (shifted left by 47 when op bit 7: near the clock limit);
 *   6: tsmap_change_encode of a change made of the next bytes;
 *   7: a local put (op bit 6: remove) of key index (next byte) on replica (op >> 3) % 3. */
static void run_changes(input *in, size_t vs, size_t replicas, int fixed2, int mode,
                        int use_old) {
  int maps = vs <= TSMAP_MAX_VALUE_SIZE;
  replica rep[NREP];
  headroom hr[NREP];
  memset(rep, 0, sizeof rep);
  memset(hr, 0, sizeof hr);
  size_t key_size[NREP] = {0, 0, fixed2 ? 8 : 0};
  for (size_t i = 0; maps && i < NREP; i++) {
    rep[i].map = make_map(replicas, i % replicas, vs, key_size[i]);
    fm_init(&rep[i].model, replicas, vs, key_size[i]);
  }
  int forgot = 0;
  unsigned char value[FM_VALUE_MAX + 1];
  while (in->n) {
    unsigned op = next(in);
    size_t ri = (op >> 3) % NREP;
    if (op % 8 < 5) {
      size_t len = next(in);
      len |= (size_t)next(in) << 8;
      len = len < in->n ? len : in->n;
      /* the chunk in a malloc of its size: decoded in place, a stream of changes at any
       * alignment, the last one ending where the allocation ends */
      unsigned char *chunk = malloc(len ? len : 1);
      REQUIRE(chunk);
      if (len)
        memcpy(chunk, in->p, len);
      for (size_t pos = 0; pos < len || pos == 0;) {
        fc_decoded d;
        if (fc_check_decode(chunk + pos, len - pos, vs, &d) != TSMAP_OK)
          break;
        pos += d.used;
        if (maps) {
          tsmap_status st = merge_checked(&rep[ri], &d.change, mode, use_old, op >> 6 & 1);
          note_merge(&rep[ri], &hr[ri], &d.change, st);
          if (ri == 0 && st != TSMAP_NO_MEMORY)
            log_change(&d.change, vs);
        }
      }
      free(chunk);
      in->p += len;
      in->n -= len;
    } else if (op % 8 == 5 && maps) {
      uint64_t h[TSMAP_MAX_REPLICAS] = {0};
      size_t hl = next(in) % (replicas + 1);
      for (size_t i = 0; i < hl; i++)
        h[i] = (uint64_t)next(in) << (op & 0x80 ? 47 : 0);
      size_t n = 99;
      REQUIRE(tsmap_forget(rep[ri].map, hl ? h : NULL, hl, &n) == TSMAP_OK);
      REQUIRE(n == fm_forget(&rep[ri].model, h, hl));
      check_state(&rep[ri]);
      forgot |= ri == 0;
    } else if (op % 8 == 6 && vs <= TSMAP_MAX_VALUE_SIZE) {
      uint64_t clock[24];
      unsigned char key[40];
      tsmap_change c;
      memset(&c, 0, sizeof c);
      c.clock_len = next(in) % 20;
      for (size_t i = 0; i < c.clock_len; i++)
        clock[i] = (uint64_t)next(in) << (next(in) % 64);
      c.clock = clock;
      c.stamp = (uint64_t)next(in) << 8 | next(in) % 20;
      c.key_len = next(in) % 41;
      for (size_t i = 0; i < c.key_len; i++)
        key[i] = (unsigned char)next(in);
      c.key = c.key_len ? key : NULL;
      memset(value, (int)next(in), vs);
      c.value = op & 0x40 ? NULL : value;
      c.version = next(in);
      fc_check_encode(&c, vs);
    } else if (op % 8 == 7 && maps) {
      unsigned char key[8] = {0};
      key[0] = (unsigned char)next(in);
      size_t len = key_size[ri] ? 8 : key[0] % 9;
      memset(value + 1, (int)next(in), vs); /* at an odd address: values need no alignment */
      local_write(&rep[ri], ri % replicas, key, len, op & 0x40 ? NULL : value + 1, use_old,
                  &hr[ri]);
      forgot |= ri == 0; /* a local write is not in the log: the replay would differ */
    }
  }
  if (maps && !forgot && mode != RES_BAD)
    check_order_free(&rep[0], 0, key_size[0], mode);
  for (size_t i = 0; maps && i < NREP; i++) {
    fm_free(&rep[i].model);
    tsmap_destroy(rep[i].map);
  }
  clear_log();
}

/* ---- Mode 2: a real history, exchanged through the codec ------------------------------ */

#define HKEYS 8
#define HOPS 64 /* commands of a history: its replays grow with their square */

static size_t history_key(size_t i, int fixed, unsigned char *key) {
  static const size_t lens[HKEYS] = {0, 1, 3, 8, 9, 16, 2, 5};
  size_t len = fixed ? 8 : lens[i];
  for (size_t b = 0; b < len; b++)
    key[b] = (unsigned char)(i * 37 + b);
  return len;
}

typedef struct shipment {
  logged items[256];
  size_t n;
  size_t vs;
} shipment;

static int collect(const tsmap_change *c, void *ctx) {
  shipment *s = ctx;
  REQUIRE(s->n < 256);
  size_t n = 0;
  s->items[s->n].bytes = fc_encode_exact(c, s->vs, &n);
  s->items[s->n++].len = n;
  return 0;
}

/* Everything `from` changed since *since goes to `to` through encode and decode. */
static void ship(replica *from, replica *to, headroom *hr, uint64_t *since, int mode) {
  shipment s;
  s.n = 0;
  s.vs = from->model.value_size;
  uint64_t next = 0;
  REQUIRE(tsmap_export(from->map, *since, collect, &s, &next) == TSMAP_OK);
  *since = next;
  for (size_t i = 0; i < s.n; i++) {
    fc_decoded d;
    REQUIRE(fc_check_decode(s.items[i].bytes, s.items[i].len, s.vs, &d) == TSMAP_OK);
    tsmap_status st = merge_checked(to, &d.change, mode, 0, 0);
    REQUIRE(st == TSMAP_OK || st == TSMAP_REPLACED || st == TSMAP_EXISTS);
    note_merge(to, hr, &d.change, st);
    log_bytes(s.items[i].bytes, s.items[i].len);
  }
}

/* Two models hold the same keys, values, tombstones, clocks and stamps. */
static void same_models(const fm_replica *a, const fm_replica *b) {
  for (int pass = 0; pass < 2; pass++, (void)0) {
    const fm_replica *x = pass ? b : a, *y = pass ? a : b;
    for (size_t i = 0; i < x->nkeys; i++) {
      const fm_key *k = &x->keys[i];
      const fm_key *o = fm_find((fm_replica *)y, k->key, k->len);
      if (k->state == FM_NONE) {
        REQUIRE(!o || o->state == FM_NONE);
        continue;
      }
      if (!o || o->state != k->state || o->stamp != k->stamp) {
        fprintf(stderr, "fuzz_codec: key of %zu bytes: %d stamp %llx clock %llu,%llu,%llu; "
                "other: %d stamp %llx clock %llu,%llu,%llu\n", k->len, k->state,
                (unsigned long long)k->stamp, (unsigned long long)k->clock[0],
                (unsigned long long)k->clock[1], (unsigned long long)k->clock[2],
                o ? o->state : -1, o ? (unsigned long long)o->stamp : 0ull,
                o ? (unsigned long long)o->clock[0] : 0ull, o ? (unsigned long long)o->clock[1] : 0ull,
                o ? (unsigned long long)o->clock[2] : 0ull);
        REQUIRE(0);
      }
      REQUIRE(fm_compare(o->clock, k->clock, x->replicas) == 0);
      REQUIRE(k->state != FM_VALUE || x->value_size == 0 ||
              memcmp(o->value, k->value, x->value_size) == 0);
    }
  }
}

/* Every logged change replayed into a fresh replica, forwards or backwards with each
 * delivered twice: the originals' state. */
static void replay(const fm_replica *want, int backwards, int fixed, int mode) {
  replica fresh;
  memset(&fresh, 0, sizeof fresh);
  fresh.map = make_map(want->replicas, 0, want->value_size, fixed ? 8 : 0);
  fm_init(&fresh.model, want->replicas, want->value_size, fixed ? 8 : 0);
  g_replaying = 1;
  for (size_t j = 0; j < g_nlog * (backwards ? 2 : 1); j++) {
    size_t i = backwards ? g_nlog - 1 - j / 2 : j;
    fc_decoded d;
    unsigned char *b = NULL;
    REQUIRE(fc_decode_exact(g_log[i].bytes, g_log[i].len, want->value_size, &b, &d) ==
            TSMAP_OK);
    tsmap_status st = merge_checked(&fresh, &d.change, mode, 0, 0);
    REQUIRE(st == TSMAP_OK || st == TSMAP_REPLACED || st == TSMAP_EXISTS);
    free(b);
  }
  g_replaying = 0;
  check_state(&fresh);
  same_models(want, &fresh.model);
  fm_free(&fresh.model);
  tsmap_destroy(fresh.map);
}

/* With tsmap_resolve_latest each key ends as its largest-stamped change (G13 (e)). */
static void check_latest(const fm_replica *m) {
  for (size_t i = 0; i < m->nkeys; i++) {
    const fm_key *k = &m->keys[i];
    fc_decoded best;
    unsigned char *best_b = NULL;
    for (size_t j = 0; j < g_nlog; j++) {
      fc_decoded d;
      unsigned char *b = NULL;
      REQUIRE(fc_decode_exact(g_log[j].bytes, g_log[j].len, m->value_size, &b, &d) ==
              TSMAP_OK);
      if (d.change.key_len != k->len ||
          (k->len && memcmp(d.change.key, k->key, k->len) != 0) ||
          (best_b && d.change.stamp <= best.change.stamp)) {
        free(b);
        continue;
      }
      free(best_b);
      best = d;
      best.change.clock = best.clock;
      best_b = b;
    }
    if (!best_b) {
      REQUIRE(k->state == FM_NONE);
      continue;
    }
    REQUIRE(k->stamp == best.change.stamp);
    REQUIRE(k->state == (best.change.value ? FM_VALUE : FM_TOMB));
    REQUIRE(!best.change.value || m->value_size == 0 ||
            memcmp(k->value, best.change.value, m->value_size) == 0);
    free(best_b);
  }
}

/* Commands (the first HOPS): op byte, then
 *   op % 4 == 0: put of key (next byte % 8) with a value of bytes (next byte) on replica
 *                (op >> 2) % 3; 1: remove of that key;
 *   2, 3: ship replica (op >> 2) % 3's changes to (op >> 4) % 3 (another one), since its
 *         last shipment (2) or since 0 (3: duplicates). */
static void run_history(input *in, size_t vs, int fixed, int mode, int use_old) {
  replica rep[NREP];
  headroom hr[NREP];
  uint64_t since[NREP][NREP];
  memset(rep, 0, sizeof rep);
  memset(hr, 0, sizeof hr);
  memset(since, 0, sizeof since);
  for (size_t i = 0; i < NREP; i++) {
    rep[i].map = make_map(NREP, i, vs, fixed ? 8 : 0);
    fm_init(&rep[i].model, NREP, vs, fixed ? 8 : 0);
  }
  unsigned char key[16], value[FM_VALUE_MAX];
  for (int ops = 0; in->n && ops < HOPS; ops++) {
    unsigned op = next(in);
    size_t a = (op >> 2) % NREP, b = (op >> 4) % NREP;
    if (b == a)
      b = (a + 1) % NREP;
    if (op % 4 < 2) {
      size_t len = history_key(next(in) % HKEYS, fixed, key);
      memset(value, (int)next(in), vs);
      local_write(&rep[a], a, key, len, op % 4 == 0 ? value : NULL, use_old, &hr[a]);
    } else {
      uint64_t zero = 0;
      ship(&rep[a], &rep[b], &hr[b], op % 4 == 2 ? &since[a][b] : &zero, mode);
    }
  }
  for (int round = 0; round < 2; round++)
    for (size_t a = 0; a < NREP; a++)
      for (size_t b = 0; b < NREP; b++)
        if (a != b) {
          uint64_t zero = 0;
          ship(&rep[a], &rep[b], &hr[b], &zero, mode);
        }
  for (size_t i = 1; i < NREP; i++)
    same_models(&rep[0].model, &rep[i].model);
  replay(&rep[0].model, 0, fixed, mode);
  replay(&rep[0].model, 1, fixed, mode);
  check_latest(&rep[0].model);
  for (size_t i = 0; i < NREP; i++) {
    fm_free(&rep[i].model);
    tsmap_destroy(rep[i].map);
  }
  clear_log();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  input in = {data, size};
  unsigned b0 = next(&in), b1 = next(&in);
  size_t vs = VALUE_SIZES[b0 & 15];
  size_t replicas = REPLICAS[(b0 >> 5) % 5];
  int mode = (int)(b1 & 7) % RES_COUNT;
  hk.value_size = vs <= TSMAP_MAX_VALUE_SIZE ? vs : 0;
  hk.discarded = 0;
  if (b1 & 0x40) {
    if (vs > TSMAP_MAX_VALUE_SIZE)
      vs = hk.value_size = 8;
    run_history(&in, vs, b0 >> 4 & 1, mode & 1, b1 >> 3 & 1); /* only latest converges */
  } else {
    run_changes(&in, vs, replicas, b0 >> 4 & 1, mode, b1 >> 3 & 1);
  }
  return 0;
}
