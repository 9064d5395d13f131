/*
 * fuzz_codec_model.h - a sequential model of one replica (G13), written from tsmap.h and
 * runtime/DESIGN.md alone, for fuzz_codec.c: each key is nothing, a value or a tombstone,
 * with a clock and a stamp. The merge rule it states (tsmap_merge's comment):
 *   - refused (TSMAP_INVALID_ARGUMENT, nothing changed): clock_len above the replicas, a
 *     counter or a stamp time at or above TSMAP_CLOCK_LIMIT, a stamp naming a replica at
 *     or above the replicas, a stamp time above that replica's counter, a bad key;
 *   - the remote clock dominated by or equal to the local one (zero for nothing):
 *     TSMAP_EXISTS, nothing changed;
 *   - dominating: the remote side (value or tombstone) with its clock and stamp;
 *   - concurrent: the resolver's verdict (KEEP, STORE, DELETE; anything else applies
 *     nothing, TSMAP_INVALID_ARGUMENT), with the join of both clocks and the larger stamp;
 *   - a stored value bytewise equal to the local one replaces nothing (no hook, TSMAP_OK);
 *     a value that leaves goes to old_out or the hook, and the status is TSMAP_REPLACED;
 *     a stored value gets on_entry_created.
 * No bound and no expiry: those maps are fuzz_differential's and test_replica.c's.
 */
#ifndef TSMAP_FUZZ_CODEC_MODEL_H
#define TSMAP_FUZZ_CODEC_MODEL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <tsmap/tsmap.h>

#define FM_KEYS 96 /* distinct keys a replica's model holds; more are not merged */
#define FM_VALUE_MAX TSMAP_MAX_VALUE_SIZE

enum { FM_NONE = 0, FM_VALUE = 1, FM_TOMB = 2 };

typedef struct fm_key {
  unsigned char *key; /* malloc'd copy */
  size_t len;
  int state;
  unsigned char *value; /* value_size bytes, malloc'd once */
  uint64_t clock[TSMAP_MAX_REPLICAS];
  uint64_t stamp;
} fm_key;

typedef struct fm_replica {
  size_t replicas, value_size, key_size;
  size_t nkeys;
  fm_key keys[FM_KEYS];
} fm_replica;

/* What a merge must do, as the model says. */
typedef struct fm_effect {
  tsmap_status status;
  int created;           /* on_entry_created runs for `stored` */
  int left;              /* the old value leaves (old_out or the hook) */
  tsmap_evict_reason why; /* its reason when it goes to the hook */
  int resolves;          /* the resolver must run */
  int stored_remote;     /* merge_stored's flag: remote->value's bytes were stored */
} fm_effect;

/* The counter i of a change's clock (missing ones are 0). */
static inline uint64_t fm_counter(const tsmap_change *c, size_t i) {
  return i < c->clock_len ? c->clock[i] : 0;
}

/* -1: a < b (dominated), 0: equal, 1: a > b (dominates), 2: concurrent. */
static inline int fm_compare(const uint64_t *a, const uint64_t *b, size_t n) {
  int lt = 0, gt = 0;
  for (size_t i = 0; i < n; i++) {
    lt |= a[i] < b[i];
    gt |= a[i] > b[i];
  }
  return lt && gt ? 2 : gt ? 1 : lt ? -1 : 0;
}

static inline fm_key *fm_find(fm_replica *r, const void *key, size_t len) {
  for (size_t i = 0; i < r->nkeys; i++)
    if (r->keys[i].len == len && (len == 0 || memcmp(r->keys[i].key, key, len) == 0))
      return &r->keys[i];
  return NULL;
}

/* The key's record, made (as nothing) when new; NULL when the model is full. */
static inline fm_key *fm_slot(fm_replica *r, const void *key, size_t len) {
  fm_key *k = fm_find(r, key, len);
  if (k || r->nkeys == FM_KEYS)
    return k;
  k = &r->keys[r->nkeys++];
  memset(k, 0, sizeof *k);
  k->key = malloc(len ? len : 1);
  if (len)
    memcpy(k->key, key, len);
  k->len = len;
  k->value = calloc(1, r->value_size ? r->value_size : 1);
  return k;
}

static inline void fm_init(fm_replica *r, size_t replicas, size_t value_size, size_t key_size) {
  memset(r, 0, sizeof *r);
  r->replicas = replicas;
  r->value_size = value_size;
  r->key_size = key_size;
}

static inline void fm_free(fm_replica *r) {
  for (size_t i = 0; i < r->nkeys; i++) {
    free(r->keys[i].key);
    free(r->keys[i].value);
  }
  r->nkeys = 0;
}

/* The refusals tsmap_merge lists, decided from the change alone. */
static inline int fm_valid(const fm_replica *r, const tsmap_change *c) {
  if (c->clock_len > r->replicas || (c->key_len && !c->key))
    return 0;
  if (r->key_size && c->key_len != r->key_size)
    return 0;
  for (size_t i = 0; i < c->clock_len; i++)
    if (c->clock[i] >= TSMAP_CLOCK_LIMIT)
      return 0;
  uint64_t t = c->stamp >> 8, id = c->stamp & 0xff;
  return t < TSMAP_CLOCK_LIMIT && id < r->replicas && t <= fm_counter(c, (size_t)id);
}

/* The state `k` (a value or a tombstone) as the resolver's `local` side must see it. */
static inline void fm_as_change(const fm_replica *r, const fm_key *k, tsmap_change *out) {
  out->key = k->key;
  out->key_len = k->len;
  out->value = k->state == FM_VALUE ? k->value : NULL;
  out->clock = k->clock;
  out->clock_len = r->replicas;
  out->stamp = k->stamp;
  out->version = 0;
}

/* How the clocks of the local side and `c` compare (FM_NONE: zero). */
static inline int fm_order(const fm_replica *r, const fm_key *k, const tsmap_change *c) {
  uint64_t remote[TSMAP_MAX_REPLICAS], zero[TSMAP_MAX_REPLICAS] = {0};
  for (size_t i = 0; i < r->replicas; i++)
    remote[i] = fm_counter(c, i);
  return fm_compare(remote, k && k->state != FM_NONE ? k->clock : zero, r->replicas);
}

/* Store `value` (NULL: a tombstone) into k, filling `e` with what leaves and enters.
 * `remote_value`: the change's bytes, to say whether those were what got stored. */
static inline void fm_store(const fm_replica *r, fm_key *k, const void *value,
                            const void *remote_value, tsmap_evict_reason why_replaced,
                            fm_effect *e) {
  size_t vs = r->value_size;
  e->status = TSMAP_OK;
  if (value && k->state == FM_VALUE && memcmp(k->value, value, vs) == 0)
    return; /* bytewise equal: replaces nothing */
  if (k->state == FM_VALUE) {
    e->left = 1;
    e->why = value ? why_replaced : TSMAP_EVICT_REMOVED;
    e->status = TSMAP_REPLACED;
  }
  if (value) {
    e->created = 1;
    e->stored_remote = remote_value && memcmp(value, remote_value, vs) == 0;
    memmove(k->value, value, vs);
    k->state = FM_VALUE;
  } else {
    k->state = FM_TOMB;
  }
}

/* Apply a merge of `c` whose resolver (when one ran) returned `verdict` with `merged`.
 * `old_value` receives the value that left (when e->left). */
static inline fm_effect fm_merge(fm_replica *r, const tsmap_change *c, int verdict,
                                 const void *merged, void *old_value) {
  fm_effect e;
  memset(&e, 0, sizeof e);
  e.status = TSMAP_INVALID_ARGUMENT;
  if (!fm_valid(r, c))
    return e;
  fm_key *k = fm_find(r, c->key, c->key_len);
  int ord = fm_order(r, k, c);
  e.status = TSMAP_EXISTS;
  if (ord <= 0)
    return e;
  if (ord == 2)
    e.resolves = 1;
  if (ord == 2 && verdict != TSMAP_KEEP && verdict != TSMAP_STORE && verdict != TSMAP_DELETE) {
    e.status = TSMAP_INVALID_ARGUMENT;
    return e;
  }
  k = fm_slot(r, c->key, c->key_len);
  if (!k) {
    e.status = TSMAP_NO_MEMORY; /* the model is full: the driver merges no new key */
    return e;
  }
  if (k->state == FM_VALUE)
    memcpy(old_value, k->value, r->value_size);
  if (ord == 1) {
    fm_store(r, k, c->value, c->value, TSMAP_EVICT_REPLACED, &e);
    for (size_t i = 0; i < r->replicas; i++)
      k->clock[i] = fm_counter(c, i);
    k->stamp = c->stamp;
    return e;
  }
  if (verdict == TSMAP_STORE)
    fm_store(r, k, merged, c->value, TSMAP_EVICT_REPLACED, &e);
  else if (verdict == TSMAP_DELETE)
    fm_store(r, k, NULL, NULL, TSMAP_EVICT_REMOVED, &e);
  else
    e.status = TSMAP_OK; /* KEEP: the clock and stamp still change */
  for (size_t i = 0; i < r->replicas; i++)
    if (fm_counter(c, i) > k->clock[i])
      k->clock[i] = fm_counter(c, i);
  if (c->stamp > k->stamp)
    k->stamp = c->stamp;
  return e;
}

/* tsmap_forget: drop the tombstones whose clock is at most the horizon. */
static inline size_t fm_forget(fm_replica *r, const uint64_t *h, size_t hl) {
  size_t n = 0;
  for (size_t i = 0; i < r->nkeys; i++) {
    fm_key *k = &r->keys[i];
    if (k->state != FM_TOMB)
      continue;
    int below = 1;
    for (size_t j = 0; j < r->replicas; j++)
      below &= k->clock[j] <= (j < hl ? h[j] : 0);
    if (below) {
      k->state = FM_NONE;
      memset(k->clock, 0, sizeof k->clock);
      k->stamp = 0;
      n++;
    }
  }
  return n;
}

#endif /* TSMAP_FUZZ_CODEC_MODEL_H */
