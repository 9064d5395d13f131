/*
 * test_linearizable.c - black-box round 13: concurrent histories of a few keys, checked
 * for linearizability against a sequential model of one register per key.
 *
 * tsmap.h promises that every keyed call takes effect atomically at one instant between
 * its call and its return, while readers are lock-free, tables grow incrementally, shards
 * reshard live (G15) and compute callbacks run with no lock held (G4). This file checks
 * that promise from the header alone:
 *   - 2-4 threads run random operations on 1-3 keys for a round (a "window": at most 60
 *     operations on a key); every operation takes a ticket from one atomic counter before
 *     its call and after its return (its [call, ret] interval in one total order), and
 *     records its arguments and results (status, value read, old value, version);
 *   - every written value is unique (a write id in the high bits), so a read names the
 *     write it saw; compute callbacks derive their result from their input and the call's
 *     id, so the model can replay them and see which old value each one was given;
 *   - linearizability is local (Herlihy & Wing), so each key's window is checked on its
 *     own: a Wing & Gong search with Lowe's memo of (linearized set, model state) looks
 *     for an order of the operations that respects real time and the sequential model;
 *   - each window starts from a state set sequentially (removed, or a known value and
 *     version) and ends with a sequential read, which must be explained too.
 * Scenarios: a plain map; 8-byte and 16-byte keys; variable-length keys (the empty key,
 * long keys, 24- and 56-byte values that would show a torn read); a map growing under a
 * background inserter; live reshards (from a thread, and from the workers between their
 * calls, with and without the helper); versions (the *_if_version calls); a replicated
 * map's local writes, and merges of dominating changes racing them; a racing close (G9);
 * bounded and weight-bounded maps (a capacity eviction is a legal removal only of the
 * value its hook reported); expiry's paths (nothing expires in a window); metrics on.
 * Single flight (G4) is counted by the compute_if_absent callbacks themselves. The
 * mutation checks show the checker is not vacuous: fake histories that are not
 * linearizable are rejected and their legal twins accepted, and a compute and a
 * put_if_absent built from a get and a put (not atomic) are caught by real runs.
 * TSMAP_LIN_SCALE=n runs every scenario n times longer (a campaign by hand).
 */
#include "tsmap_test.h"

#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#ifdef TSMAP_STRESS_SMALL
#define SCALE 8
#else
#define SCALE 1
#endif

#define MAX_THREADS 4
#define MAX_KEYS 3
#define WINDOW_OPS 60          /* operations of all threads in one round (at most) */
#define BOUNDED_WINDOW_OPS 40  /* on a bounded map: room for evictions in the window */
#define MAX_HIST 64            /* a key's window: WINDOW_OPS + the closing read */
#define ROUNDS (20000 / SCALE) /* per scenario, unless its time runs out first */
#define SCENARIO_SECONDS (1.4 / SCALE)
#define MIN_ROUNDS 32 /* per map, however loaded the machine: the time is a soft cap */

/* TSMAP_LIN_SCALE=n (a longer campaign by hand): n times the rounds and the time. */
static double campaign_scale(void) {
  const char *e = getenv("TSMAP_LIN_SCALE");
  double n = e ? atof(e) : 1.0;
  return n >= 1.0 ? n : 1.0;
}

/* ---- Values: unique per write, replayable by the model -------------------------------- */

/* A value is a 64-bit word: a write id (unique per call) above 24 bits of digest. A put
 * stores id << 24; a compute stores id << 24 | digest(old), so its result says which old
 * value it was computed from. The map holds value_size bytes: the word, then copies of it
 * scrambled per word, so a read that mixed two values (torn) is told apart. */
#define DIGEST_ABSENT 0xFFFFFFu
#define UNSET_BYTE 0xA5
#define VALUE_TORN (~(uint64_t)0)  /* decoded from mixed words */
#define VALUE_UNSET (~(uint64_t)1) /* the out buffer was not written */
#define VALUE_POISON (~(uint64_t)2) /* a callback's call on another key failed */

static uint64_t digest_of(int present, uint64_t old) {
  return present ? ((old ^ (old >> 24)) & 0xFFFFFF) : DIGEST_ABSENT;
}

static uint64_t word_scramble(size_t i) { return (uint64_t)i * 0x9E3779B97F4A7C15u; }

static void value_encode(uint64_t v, void *buf, size_t value_size) {
  for (size_t i = 0; i < value_size / 8; i++) {
    uint64_t w = v ^ word_scramble(i);
    memcpy((char *)buf + i * 8, &w, 8);
  }
}

static uint64_t value_decode(const void *buf, size_t value_size) {
  const unsigned char *b = buf;
  size_t unset = 0;
  for (size_t i = 0; i < value_size; i++)
    unset += b[i] == UNSET_BYTE;
  if (unset == value_size)
    return VALUE_UNSET;
  uint64_t v;
  memcpy(&v, b, 8);
  for (size_t i = 1; i < value_size / 8; i++) {
    uint64_t w;
    memcpy(&w, b + i * 8, 8);
    if ((w ^ word_scramble(i)) != v)
      return VALUE_TORN;
  }
  return v;
}

/* ---- Operations and their records ----------------------------------------------------- */

typedef enum op_kind {
  OP_GET,
  OP_PUT,
  OP_PUT_IF_ABSENT,
  OP_REMOVE,
  OP_COMPUTE_IF_ABSENT,
  OP_COMPUTE,
  OP_COMPUTE_IF_PRESENT,
  OP_GET_VERSION,
  OP_PUT_IF_VERSION,
  OP_REMOVE_IF_VERSION,
  OP_COMPUTE_IF_VERSION,
  OP_CLOSE, /* tsmap_close: an operation on every key (G9) */
  OP_EVICT, /* a bounded map's capacity eviction its hook reported (G11): not a call */
  OP_FILL,  /* a put of another key: pressure on a bounded map, in no key's history */
  OP_RESHARD,  /* tsmap_reshard to 1..64 shards from a worker, in no key's history */
  OP_MAINTAIN, /* tsmap_maintain: moves a reshard's entries, in no key's history */
  OP_MERGE,    /* tsmap_merge of a peer's change that dominates (G13): a put or a remove */
  OP_KINDS
} op_kind;

static const char *const op_names[OP_KINDS] = {
    "get",     "put",     "put_if_absent",  "remove",           "compute_if_absent",
    "compute", "compute_if_present", "get_version", "put_if_version", "remove_if_version",
    "compute_if_version", "close", "evicted", "fill", "reshard", "maintain", "merge"};

#define ALL_KEYS 0xFF /* the key of an operation on every key (close) */
#define NO_KEY 0xFE   /* the key of an operation in no key's history (fill) */

/* One call as recorded: its interval in ticket order, what it was given, what it got. */
typedef struct lin_op {
  uint64_t call, ret;  /* tickets taken before the call and after the return */
  uint64_t id;         /* unique: the value a put writes is id << 24; a callback's tag */
  uint64_t expected;   /* the *_if_version calls' expected version */
  uint64_t out;        /* value read / old / existing / value_out (VALUE_UNSET: untouched) */
  uint64_t ver_out;    /* version_out (VERSION_UNSET: untouched) */
  uint8_t kind, thread, key, vsel;
  uint8_t status;
} lin_op;

#define VERSION_UNSET (~(uint64_t)1)

/* A compute callback's verdict from its selector and its input: absent, or the old
 * value's write id even or odd. Deterministic, so the model replays it. */
static const tsmap_verdict verdicts[4][3] = {
    {TSMAP_STORE, TSMAP_STORE, TSMAP_STORE},
    {TSMAP_STORE, TSMAP_KEEP, TSMAP_DELETE},
    {TSMAP_KEEP, TSMAP_STORE, TSMAP_STORE},
    {TSMAP_DELETE, TSMAP_DELETE, TSMAP_STORE},
};

static tsmap_verdict verdict_of(unsigned vsel, int present, uint64_t old) {
  return verdicts[vsel & 3][present ? 1 + ((old >> 24) & 1) : 0];
}

/* compute_if_absent's callback fails for one id in 7 (TSMAP_CALLBACK_FAILED). */
static int absent_fails(uint64_t id) { return id % 7 == 0; }

static uint64_t computed_value(uint64_t id, int present, uint64_t old) {
  return id << 24 | digest_of(present, old);
}

typedef struct cb_ctx {
  uint64_t id;
  unsigned vsel;
  size_t value_size;
  int key; /* the round's key index (MAX_KEYS and above: no key of the round) */
  tsmap *map;
  size_t other_len; /* the length of the other key it reads (the map's key size) */
} cb_ctx;

/* A callback reads another key of its map now and then: it runs with no lock held, so
 * that is allowed (tsmap.h, "Calling the map"), concurrently with every other call.
 * Returns 0 when that read got a status other than OK, NOT_FOUND or CLOSED: the callback
 * then stores VALUE_POISON, which no model explains (so the window fails, and shows it). */
static int callback_reads_another_key(const cb_ctx *c) {
  static const unsigned char other[48] = {0xF1, 1, 2, 3, 4, 5, 6, 7}; /* no key of a round */
  if (c->id % 8 != 5)
    return 1;
  unsigned char v[64];
  tsmap_status st = tsmap_get(c->map, other, c->other_len, v);
  return st == TSMAP_OK || st == TSMAP_NOT_FOUND || st == TSMAP_CLOSED;
}

/* Single flight (G4): compute_if_absent callbacks running at once for one key. Counted
 * by the callbacks themselves (a side effect that undoes itself) and checked beside the
 * linearizability of the results. */
static _Atomic int absent_running[MAX_KEYS];
static _Atomic long single_flight_overlaps;

static void absent_enter(const cb_ctx *c) {
  if (c->key < MAX_KEYS && atomic_fetch_add(&absent_running[c->key], 1) > 0)
    atomic_fetch_add(&single_flight_overlaps, 1);
}

static void absent_leave(const cb_ctx *c) {
  if (c->key < MAX_KEYS)
    atomic_fetch_sub(&absent_running[c->key], 1);
}

/* A callback yields for one call in 4 (by its id, so its result stays a function of its
 * input): other threads' calls on the key then run while it computes, with no lock held
 * (G4), which is what the compute paths' retries are for. On a loaded machine with
 * fewer cores than threads this is most of the real overlap a window gets. */
static void callback_pause(uint64_t id) {
  if (id % 4 == 1)
    sched_yield();
}

static tsmap_verdict compute_cb(const void *key, size_t key_len, const void *old_value,
                                void *ctx, void *new_value) {
  (void)key, (void)key_len;
  const cb_ctx *c = ctx;
  callback_pause(c->id);
  if (!callback_reads_another_key(c)) {
    value_encode(VALUE_POISON, new_value, c->value_size);
    return TSMAP_STORE;
  }
  int present = old_value != NULL;
  uint64_t old = present ? value_decode(old_value, c->value_size) : 0;
  tsmap_verdict v = verdict_of(c->vsel, present, old);
  if (v == TSMAP_STORE)
    value_encode(computed_value(c->id, present, old), new_value, c->value_size);
  return v;
}

static int absent_cb(const void *key, size_t key_len, void *ctx, void *value_out) {
  (void)key, (void)key_len;
  const cb_ctx *c = ctx;
  absent_enter(c);
  int other_ok = callback_reads_another_key(c);
  sched_yield(); /* a window for a second caller of the key: it must wait (G4) */
  absent_leave(c);
  if (absent_fails(c->id))
    return 1;
  value_encode(other_ok ? computed_value(c->id, 0, 0) : VALUE_POISON, value_out,
               c->value_size);
  return 0;
}

/* ---- The sequential model: one register with a version -------------------------------- */

/* The key's state. Versions: `ver` is the present value's version (0 absent, the header's
 * TSMAP_VERSION_ABSENT); a write whose call does not report its version leaves it
 * unknown (ver_known 0) until a read or a conditional call reveals it; `floor` is a lower
 * bound of every version the key had (a new version must be above it, G12 (a)). */
typedef struct model {
  uint64_t value, ver, floor;
  uint8_t present, ver_known;
  uint8_t closed; /* after tsmap_close every call returns TSMAP_CLOSED (G9) */
  uint64_t local_ret; /* the return ticket of the local write that made the state (0: none) */
} model;

typedef struct model_opts {
  int versioned, replicated, bounded;
  size_t value_size;
} model_opts;

/* Learn an unknown version from a call that reported v: it must be above the floor. */
static int ver_learn(model *s, uint64_t v) {
  if (s->ver_known)
    return s->ver == v;
  if (v <= s->floor)
    return 0;
  s->ver = v, s->floor = v, s->ver_known = 1;
  return 1;
}

/* A write that reports its new version w (0: it does not report one). */
static int ver_write(model *s, const model_opts *o, uint64_t w, int reported) {
  if (!o->versioned)
    return 1;
  if (!reported || (o->bounded && w == TSMAP_VERSION_ABSENT)) {
    /* Some version above the floor; on a bounded map, version 0 reports an insert that
     * admission refused (it took no version; its eviction follows, G11 (d)). */
    s->ver_known = 0;
    return 1;
  }
  if (w <= s->floor || (s->ver_known && w <= s->ver))
    return 0;
  s->ver = w, s->floor = w, s->ver_known = 1;
  return 1;
}

static void set_value(model *s, uint64_t v) { s->present = 1, s->value = v; }

/* A removal. A replicated map's remove takes a version (its tombstone's); reported says
 * whether the call told it (w). */
static int set_absent(model *s, const model_opts *o, uint64_t w, int reported) {
  s->present = 0, s->value = 0;
  if (!o->versioned)
    return 1;
  if (o->replicated && reported) {
    if (w <= s->floor)
      return 0;
    s->floor = w;
  }
  s->ver = 0, s->ver_known = 1;
  return 1;
}

/* Does the key's current version equal `e` (a concrete version or ABSENT)? With an unknown
 * version the call's own result decides: `matched` is what the call claims. */
static int ver_matches(model *s, uint64_t e, int matched, int *ok) {
  *ok = 1;
  if (!s->present)
    return e == TSMAP_VERSION_ABSENT;
  if (e == TSMAP_VERSION_ABSENT)
    return 0;
  if (s->ver_known)
    return s->ver == e;
  if (matched)
    *ok = ver_learn(s, e);
  return matched;
}

static int apply_verdict(model *s, const model_opts *o, const lin_op *op, int with_version);

/* A TSMAP_CONFLICT: it reports the current version (0 when absent), not the expected. */
static int conflict_ok(model *s, const lin_op *op) {
  if (op->status != TSMAP_CONFLICT || op->ver_out == op->expected)
    return 0;
  return s->present ? ver_learn(s, op->ver_out) : op->ver_out == 0;
}

/* Apply `op` to the model; 0 when its recorded results are impossible from state *s. */
static int model_apply_op(model *s, const model_opts *o, const lin_op *op, int variant);

/* How many outcomes the model allows `op`: a merge that returned TSMAP_OK either stored
 * its change or lost to a racing local write (see OP_MERGE); every other call, one. */
static int variants_of(const lin_op *op) {
  return op->kind == OP_MERGE && op->status == TSMAP_OK ? 2 : 1;
}

/* Apply `op` (its outcome `variant`), and note which local write made the key's state
 * (the merge's rule). */
static int model_apply(model *s, const model_opts *o, const lin_op *op, int variant) {
  uint8_t was = s->present;
  uint64_t before = s->value;
  if (!model_apply_op(s, o, op, variant))
    return 0;
  if (op->kind == OP_MERGE)
    s->local_ret = 0;
  else if (was != s->present || before != s->value)
    s->local_ret = op->ret;
  return 1;
}

static int model_apply_op(model *s, const model_opts *o, const lin_op *op, int variant) {
  tsmap_status st = (tsmap_status)op->status;
  if (st == TSMAP_NO_MEMORY)
    return 1; /* a failure changes nothing (G1); counted, never expected with malloc */
  if (s->closed || st == TSMAP_CLOSED) /* ordered after the close, or before it */
    return s->closed && st == TSMAP_CLOSED;
  switch ((op_kind)op->kind) {
  case OP_CLOSE:
    s->closed = 1;
    return st == TSMAP_OK;
  case OP_MERGE: { /* a dominating change replaces the local side: value or tombstone */
    int was = s->present;
    /* A local write racing the merge takes a version above the counter the merge raised
     * (V3), so it is concurrent with the change, and its larger stamp wins the resolver:
     * TSMAP_OK, nothing stored. Only for a write that returned after the merge began. */
    if (variant == 1) {
      if (s->local_ret <= op->call)
        return 0;
      s->ver_known = 0; /* the clock joined: perhaps a new version */
      return 1;
    }
    if (st != (was ? TSMAP_REPLACED : TSMAP_OK) || (was && op->out != s->value))
      return 0;
    if (op->vsel) /* a tombstone */
      return set_absent(s, o, 0, 0);
    set_value(s, op->id << 24);
    return ver_write(s, o, 0, 0);
  }
  case OP_EVICT: /* a spontaneous removal, legal only of the value the hook was given */
    if (!s->present || s->value != op->out)
      return 0;
    return set_absent(s, o, 0, 0);
  case OP_GET:
    if (!s->present)
      return st == TSMAP_NOT_FOUND;
    return st == TSMAP_OK && op->out == s->value;
  case OP_GET_VERSION:
    if (!s->present)
      return st == TSMAP_NOT_FOUND;
    return st == TSMAP_OK && op->out == s->value && ver_learn(s, op->ver_out);
  case OP_PUT: {
    int was = s->present;
    uint64_t old = s->value;
    if (st != (was ? TSMAP_REPLACED : TSMAP_OK) || (was && op->out != old))
      return 0;
    set_value(s, op->id << 24);
    return ver_write(s, o, 0, 0);
  }
  case OP_PUT_IF_ABSENT:
    if (s->present)
      return st == TSMAP_EXISTS && op->out == s->value;
    if (st != TSMAP_OK)
      return 0;
    set_value(s, op->id << 24);
    return ver_write(s, o, 0, 0);
  case OP_REMOVE:
    if (!s->present)
      return st == TSMAP_NOT_FOUND;
    if (st != TSMAP_OK || op->out != s->value)
      return 0;
    return set_absent(s, o, 0, 0);
  case OP_COMPUTE_IF_ABSENT:
    if (s->present)
      return st == TSMAP_OK && op->out == s->value;
    if (absent_fails(op->id))
      return st == TSMAP_CALLBACK_FAILED;
    if (st != TSMAP_OK || op->out != computed_value(op->id, 0, 0))
      return 0;
    set_value(s, op->out);
    return ver_write(s, o, 0, 0);
  case OP_COMPUTE_IF_PRESENT:
    if (!s->present)
      return st == TSMAP_NOT_FOUND && op->out == VALUE_UNSET;
    return apply_verdict(s, o, op, 0);
  case OP_COMPUTE:
    return apply_verdict(s, o, op, 0);
  case OP_PUT_IF_VERSION: {
    int ok = 1, any = op->expected == TSMAP_VERSION_ANY;
    int match = any || ver_matches(s, op->expected, st != TSMAP_CONFLICT, &ok);
    if (!ok)
      return 0;
    if (!match)
      return conflict_ok(s, op);
    int was = s->present;
    if (st != (was ? TSMAP_REPLACED : TSMAP_OK) || (was && op->out != s->value))
      return 0;
    set_value(s, op->id << 24);
    return ver_write(s, o, op->ver_out, 1);
  }
  case OP_REMOVE_IF_VERSION: {
    int any = op->expected == TSMAP_VERSION_ANY;
    if (!s->present) {
      if (any || op->expected == TSMAP_VERSION_ABSENT)
        return st == TSMAP_NOT_FOUND;
      return st == TSMAP_CONFLICT && op->ver_out == 0;
    }
    int ok = 1;
    int match = any || ver_matches(s, op->expected, st != TSMAP_CONFLICT, &ok);
    if (!ok)
      return 0;
    if (!match)
      return conflict_ok(s, op);
    if (st != TSMAP_OK || op->out != s->value)
      return 0;
    if (!o->replicated && op->ver_out != 0)
      return 0;
    return set_absent(s, o, op->ver_out, 1);
  }
  case OP_COMPUTE_IF_VERSION: {
    if (op->expected == TSMAP_VERSION_ANY)
      return apply_verdict(s, o, op, 1);
    int ok = 1;
    int match = ver_matches(s, op->expected, st != TSMAP_CONFLICT, &ok);
    if (!ok)
      return 0;
    if (!match)
      return conflict_ok(s, op);
    return apply_verdict(s, o, op, 1);
  }
  default:
    return 0;
  }
}

/* compute / compute_if_present / compute_if_version after its condition held: replay the
 * callback on the model's value and check the status, value_out and (with_version) the
 * version afterwards. */
static int apply_verdict(model *s, const model_opts *o, const lin_op *op, int with_version) {
  tsmap_status st = (tsmap_status)op->status;
  int was = s->present;
  tsmap_verdict v = verdict_of(op->vsel, was, s->value);
  if (v == TSMAP_STORE) {
    uint64_t nv = computed_value(op->id, was, s->value);
    if (st != TSMAP_OK || op->out != nv)
      return 0;
    set_value(s, nv);
    return ver_write(s, o, op->ver_out, with_version);
  }
  if (!was) /* KEEP or DELETE of an absent key: nothing to apply */
    return st == TSMAP_NOT_FOUND && op->out == VALUE_UNSET;
  if (v == TSMAP_KEEP)
    return st == TSMAP_OK && op->out == s->value && (!with_version || ver_learn(s, op->ver_out));
  if (st != TSMAP_REMOVED || op->out != VALUE_UNSET)
    return 0;
  if (with_version && !o->replicated && op->ver_out != 0)
    return 0;
  /* compute_if_version's version afterwards: a replicated map's tombstone's (G13) */
  return set_absent(s, o, op->ver_out, with_version && o->replicated);
}

/* ---- The search (Wing & Gong, with Lowe's memo) --------------------------------------- */

#define MEMO_SLOTS 8192
#define SEARCH_BUDGET 4000000

typedef struct memo_entry {
  uint64_t mask;
  model state;
  uint32_t gen;
} memo_entry;

typedef struct search {
  const lin_op *ops; /* sorted by call */
  int n;
  uint64_t all;
  const model_opts *opts;
  memo_entry *memo;
  uint32_t gen;
  long steps;
  int undecided;
} search;

static uint64_t memo_hash(uint64_t mask, const model *s) {
  uint64_t h = mask * 0x9E3779B97F4A7C15u;
  h ^= s->value + 0x632BE59BD9B4E019u + (h << 6) + (h >> 2);
  h ^= s->ver + ((uint64_t)s->closed << 2 | (uint64_t)s->present << 1 | s->ver_known) +
       (h << 6) + (h >> 2);
  h ^= s->floor + (h << 6) + (h >> 2);
  h ^= s->local_ret + (h << 6) + (h >> 2);
  return h;
}

static int same_state(const model *a, const model *b) {
  return a->value == b->value && a->ver == b->ver && a->floor == b->floor &&
         a->present == b->present && a->ver_known == b->ver_known && a->closed == b->closed &&
         a->local_ret == b->local_ret;
}

/* Seen (mask, state) before (and it led nowhere)? Records it otherwise. */
static int memo_seen(search *se, uint64_t mask, const model *s) {
  uint64_t h = memo_hash(mask, s);
  for (int probe = 0; probe < 16; probe++) {
    memo_entry *e = &se->memo[(h + (uint64_t)probe) & (MEMO_SLOTS - 1)];
    if (e->gen != se->gen) {
      e->gen = se->gen, e->mask = mask, e->state = *s;
      return 0;
    }
    if (e->mask == mask && same_state(&e->state, s))
      return 1;
  }
  return 0; /* full there: search on without the memo */
}

static int linearize_from(search *se, uint64_t done, const model *s) {
  if (done == se->all)
    return 1;
  if (++se->steps > SEARCH_BUDGET) {
    se->undecided = 1;
    return 1;
  }
  if (memo_seen(se, done, s))
    return 0;
  uint64_t min_ret = UINT64_MAX;
  for (int i = 0; i < se->n; i++)
    if (!(done >> i & 1) && se->ops[i].ret < min_ret)
      min_ret = se->ops[i].ret;
  /* A minimal operation: called before every pending one returned. */
  for (int i = 0; i < se->n && se->ops[i].call < min_ret; i++) {
    if (done >> i & 1)
      continue;
    for (int variant = 0; variant < variants_of(&se->ops[i]); variant++) {
      model next = *s;
      if (model_apply(&next, se->opts, &se->ops[i], variant) &&
          linearize_from(se, done | (uint64_t)1 << i, &next))
        return 1;
    }
  }
  return 0;
}

static memo_entry lin_memo[MEMO_SLOTS];
static uint32_t lin_memo_gen;

/* Is the history (n <= 64 operations, sorted by call) linearizable from `init`? Returns 1
 * yes, 0 no, -1 undecided (the search budget ran out). */
static int linearizable(const lin_op *ops, int n, const model *init, const model_opts *o) {
  search se = {ops, n, n == 64 ? ~(uint64_t)0 : ((uint64_t)1 << n) - 1, o, lin_memo, 0, 0, 0};
  se.gen = ++lin_memo_gen;
  int r = linearize_from(&se, 0, init);
  return se.undecided ? -1 : r;
}

static int by_call(const void *a, const void *b) {
  const lin_op *x = a, *y = b;
  return (x->call > y->call) - (x->call < y->call);
}

/* ---- Printing a history that is not linearizable -------------------------------------- */

static void print_value(uint64_t v) {
  if (v == VALUE_UNSET)
    fprintf(stderr, "-");
  else if (v == VALUE_TORN)
    fprintf(stderr, "TORN");
  else if (v == VALUE_POISON)
    fprintf(stderr, "POISON (the callback's read of another key failed)");
  else if ((v & 0xFFFFFF) == 0)
    fprintf(stderr, "w%" PRIu64, v >> 24);
  else
    fprintf(stderr, "w%" PRIu64 "(from %06" PRIx64 ")", v >> 24, v & 0xFFFFFF);
}

static void print_op(const lin_op *op, uint64_t base) {
  fprintf(stderr, "    [%4" PRIu64 ", %4" PRIu64 "] T%u %s", op->call - base, op->ret - base,
          op->thread, op_names[op->kind]);
  switch ((op_kind)op->kind) {
  case OP_PUT:
  case OP_PUT_IF_ABSENT:
    fprintf(stderr, "(w%" PRIu64 ")", op->id);
    break;
  case OP_PUT_IF_VERSION:
    fprintf(stderr, "(w%" PRIu64 ", expected %" PRIu64 ")", op->id, op->expected);
    break;
  case OP_REMOVE_IF_VERSION:
    fprintf(stderr, "(expected %" PRIu64 ")", op->expected);
    break;
  case OP_COMPUTE_IF_VERSION:
    fprintf(stderr, "(id %" PRIu64 ", verdicts %u, expected %" PRIu64 ")", op->id, op->vsel,
            op->expected);
    break;
  case OP_COMPUTE:
  case OP_COMPUTE_IF_PRESENT:
    fprintf(stderr, "(id %" PRIu64 ", verdicts %u)", op->id, op->vsel);
    break;
  case OP_COMPUTE_IF_ABSENT:
    fprintf(stderr, "(id %" PRIu64 "%s)", op->id, absent_fails(op->id) ? ", fails" : "");
    break;
  case OP_MERGE:
    if (op->vsel)
      fprintf(stderr, "(tombstone)");
    else
      fprintf(stderr, "(w%" PRIu64 ")", op->id);
    break;
  default:
    break;
  }
  fprintf(stderr, " -> %s ", tsmap_status_name((tsmap_status)op->status));
  print_value(op->out);
  if (op->ver_out != VERSION_UNSET)
    fprintf(stderr, " version %" PRIu64, op->ver_out);
  fprintf(stderr, "\n");
}

/* The operations that must come with the first k + 1 (by call): every one called before
 * one of them returned (it may be what they saw). */
static int closure_of_prefix(const lin_op *ops, int n, int k) {
  uint64_t horizon = 0;
  int m = 0;
  for (; m < n && (m <= k || ops[m].call < horizon); m++)
    if (ops[m].ret > horizon)
      horizon = ops[m].ret;
  return m;
}

/* The shortest prefix-closed part of the history that is already not linearizable. */
static int shortest_failing_prefix(const lin_op *ops, int n, const model *init,
                                   const model_opts *o) {
  for (int k = 0; k < n; k++) {
    int c = closure_of_prefix(ops, n, k);
    if (linearizable(ops, c, init, o) == 0)
      return c;
  }
  return n;
}

/* A read, or a call whose status says it changed nothing. */
static int changes_nothing(const lin_op *op) {
  tsmap_status st = (tsmap_status)op->status;
  return op->kind == OP_GET || op->kind == OP_GET_VERSION || st == TSMAP_NOT_FOUND ||
         st == TSMAP_EXISTS || st == TSMAP_CONFLICT || st == TSMAP_CALLBACK_FAILED;
}

/* Drop the reads the violation does not need (and the calls that changed nothing): such
 * a call changes no state, so a history still not linearizable without it shows the same
 * fault with one line less. (Writes stay: without one, a read of its value would fail
 * for another reason.) */
static int drop_needless_reads(lin_op *ops, int n, const model *init, const model_opts *o) {
  for (int i = n - 1; i >= 0; i--) {
    if (!changes_nothing(&ops[i]))
      continue;
    lin_op saved = ops[i];
    memmove(&ops[i], &ops[i + 1], (size_t)(n - 1 - i) * sizeof ops[0]);
    if (linearizable(ops, n - 1, init, o) == 0) {
      n--;
      continue;
    }
    memmove(&ops[i + 1], &ops[i], (size_t)(n - 1 - i) * sizeof ops[0]);
    ops[i] = saved;
  }
  return n;
}

/* Print a history that is not linearizable, cut down to what shows why: each operation
 * with its [call, return] interval (tickets from the window's first call), its thread,
 * its arguments and its results. */
static void print_violation(const char *scenario, const lin_op *ops, int n, const model *init,
                            const model_opts *o) {
  lin_op cut[MAX_HIST];
  int m = shortest_failing_prefix(ops, n, init, o);
  memcpy(cut, ops, (size_t)m * sizeof cut[0]);
  m = drop_needless_reads(cut, m, init, o);
  fprintf(stderr, "  %s: not linearizable (%d of %d operations shown; from ", scenario, m, n);
  if (init->present)
    print_value(init->value);
  else
    fprintf(stderr, "absent");
  if (o->versioned)
    fprintf(stderr, ", version %" PRIu64 ", floor %" PRIu64, init->ver, init->floor);
  fprintf(stderr, "):\n");
  for (int i = 0; i < m; i++)
    print_op(&cut[i], ops[0].call);
}

/* ---- Running operations on the map ---------------------------------------------------- */

typedef struct key_def {
  unsigned char bytes[48];
  size_t len;
} key_def;

static _Atomic uint64_t ticket;
static _Atomic uint64_t next_id = 1;

static uint64_t rng_next(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

typedef struct op_choice {
  op_kind kind;
  uint64_t expected;
  unsigned vsel;
} op_choice;

/* What a call writes back, decoded. */
typedef struct op_bufs {
  unsigned char out[64];
  unsigned char in[64];
  uint64_t ver;
} op_bufs;

/* A put_if_absent built from a get and a put: not atomic (two callers may both insert).
 * Only the mutation check uses it. */
static tsmap_status fake_put_if_absent(tsmap *m, const key_def *k, const void *in, void *out) {
  tsmap_status st = tsmap_get(m, k->bytes, k->len, out);
  if (st != TSMAP_NOT_FOUND)
    return st == TSMAP_OK ? TSMAP_EXISTS : st;
  sched_yield();
  st = tsmap_put(m, k->bytes, k->len, in, NULL);
  return st == TSMAP_REPLACED ? TSMAP_OK : st;
}

/* A compute built from a get and a put: not atomic. Only the mutation check uses it, to
 * show that the checker catches a lost update the real runs could make. */
static tsmap_status fake_compute(tsmap *m, const key_def *k, const cb_ctx *c, void *out) {
  unsigned char old[64];
  tsmap_status st = tsmap_get(m, k->bytes, k->len, old);
  if (st != TSMAP_OK && st != TSMAP_NOT_FOUND)
    return st;
  int present = st == TSMAP_OK;
  uint64_t ov = present ? value_decode(old, c->value_size) : 0;
  tsmap_verdict v = verdict_of(c->vsel, present, ov);
  for (int i = 0; i < 4; i++)
    sched_yield(); /* widen the gap a real compute closes under its lock */
  if (v == TSMAP_STORE) {
    value_encode(computed_value(c->id, present, ov), out, c->value_size);
    tsmap_status put = tsmap_put(m, k->bytes, k->len, out, NULL);
    return put == TSMAP_REPLACED ? TSMAP_OK : put;
  }
  if (!present)
    return TSMAP_NOT_FOUND;
  if (v == TSMAP_KEEP) {
    memcpy(out, old, c->value_size);
    return TSMAP_OK;
  }
  return tsmap_remove(m, k->bytes, k->len, NULL) == TSMAP_OK ? TSMAP_REMOVED : TSMAP_NOT_FOUND;
}

/* A change from replica 1 that dominates what the key held when the merge was called:
 * its clock's counter for this replica is above every local version taken before (each
 * merge raises the version counter to it, and the next merge's is 2^20 above: fewer
 * local writes come between), and replica 1's counter rises with each. Only one thread
 * merges, so every merge dominates the last one too: a merge is then a put (or, vsel 1,
 * a remove) whose old value comes back in old_out, unless a local write of the key races
 * it (see OP_MERGE in the model). */
static uint64_t merges_done;

static tsmap_status merge_dominating(tsmap *m, const key_def *k, const void *value,
                                     unsigned tombstone, void *old_out) {
  merges_done++;
  uint64_t clock[2] = {((uint64_t)1 << 32) + merges_done * ((uint64_t)1 << 20), merges_done};
  tsmap_change ch = {k->bytes, k->len, tombstone ? NULL : value, clock, 2,
                     merges_done << 8 | 1, 0};
  return tsmap_merge(m, &ch, NULL, NULL, old_out);
}

/* Now and then a call waits, inside its interval, until another thread takes a ticket
 * (or 16 yields pass: the others may be done with the round, and a background thread
 * may take a whole time slice a yield). On a loaded machine a single yield often hands
 * the core to another process, and a round then runs one thread after the other with
 * no overlap at all. */
static void let_another_call_start(uint64_t my_call) {
  for (int i = 0; i < 16 && atomic_load(&ticket) == my_call + 1; i++)
    sched_yield();
}

/* Make the call `ch` describes on key k, recording its interval and results in *op. */
static void run_op(tsmap *m, const key_def *k, size_t vs, const op_choice *ch, int fake,
                   lin_op *op) {
  op_bufs b;
  memset(b.out, UNSET_BYTE, sizeof b.out);
  b.ver = VERSION_UNSET;
  op->kind = (uint8_t)ch->kind;
  op->expected = ch->expected;
  op->vsel = (uint8_t)ch->vsel;
  op->id = atomic_fetch_add(&next_id, 1);
  value_encode(op->id << 24, b.in, vs);
  cb_ctx c = {op->id, ch->vsel, vs, op->key, m, k->len ? k->len : 8};
  const void *kb = k->bytes;
  size_t kl = k->len;
  tsmap_status st = TSMAP_INVALID_ARGUMENT;
  op->call = atomic_fetch_add(&ticket, 1);
  if (op->id % 16 == 3)
    let_another_call_start(op->call);
  switch (ch->kind) {
  case OP_GET: st = tsmap_get(m, kb, kl, b.out); break;
  case OP_PUT: st = tsmap_put(m, kb, kl, b.in, b.out); break;
  case OP_PUT_IF_ABSENT:
    st = fake ? fake_put_if_absent(m, k, b.in, b.out) : tsmap_put_if_absent(m, kb, kl, b.in, b.out);
    break;
  case OP_REMOVE: st = tsmap_remove(m, kb, kl, b.out); break;
  case OP_COMPUTE_IF_ABSENT:
    st = tsmap_compute_if_absent(m, kb, kl, absent_cb, &c, b.out);  // NOLINT(tsmap-non-idempotent-callback): it counts itself in and out of absent_running, on purpose (the single-flight check)
    break;
  case OP_COMPUTE:
    st = fake ? fake_compute(m, k, &c, b.out) : tsmap_compute(m, kb, kl, compute_cb, &c, b.out);
    break;
  case OP_COMPUTE_IF_PRESENT:
    st = tsmap_compute_if_present(m, kb, kl, compute_cb, &c, b.out);
    break;
  case OP_GET_VERSION: st = tsmap_get_version(m, kb, kl, b.out, &b.ver); break;
  case OP_PUT_IF_VERSION:
    st = tsmap_put_if_version(m, kb, kl, b.in, ch->expected, &b.ver, b.out);
    break;
  case OP_REMOVE_IF_VERSION:
    st = tsmap_remove_if_version(m, kb, kl, ch->expected, &b.ver, b.out);
    break;
  case OP_COMPUTE_IF_VERSION:
    st = tsmap_compute_if_version(m, kb, kl, ch->expected, compute_cb, &c, &b.ver, b.out);
    break;
  case OP_CLOSE: st = tsmap_close(m); break;
  case OP_FILL: st = tsmap_put(m, kb, kl, b.in, NULL); break;
  case OP_RESHARD: st = tsmap_reshard(m, (size_t)1 << (op->id % 7)); break;
  case OP_MAINTAIN: st = tsmap_maintain(m, 64); break;
  case OP_MERGE: st = merge_dominating(m, k, b.in, ch->vsel, b.out); break;
  default: break;
  }
  op->ret = atomic_fetch_add(&ticket, 1);
  op->status = (uint8_t)st;
  op->out = value_decode(b.out, vs);
  op->ver_out = b.ver;
}

/* ---- Scenarios ------------------------------------------------------------------------ */

typedef enum background { BG_NONE, BG_GROW, BG_RESHARD } background;

typedef struct scenario {
  const char *name;
  int threads;
  size_t key_size, value_size;
  int versioned, replicated, metrics, fake_compute;
  int close_race; /* a map a round, closed by worker 0 in the middle of it */
  size_t max_entries; /* a bounded map (G11): its evictions of the keys join the history */
  uint64_t max_weight; /* a bound on weight (G11 (e)), the same way */
  int expiry;          /* deadlines an hour away and a maintenance thread: the generic
                          paths of expiry (G10), with nothing expiring in a window */
  int no_helper;       /* reshard_no_helper: the writes do the reshard's memory work */
  int worker_reshards; /* workers also reshard (1..64 shards), maintain and fill */
  int merges;          /* a replicated map: worker 0 also merges dominating changes */
  background bg;
  size_t shard_count, max_shard_count;
  const op_kind *kinds;
  size_t n_kinds;
} scenario;

static int bounded(const scenario *sc) { return sc->max_entries || sc->max_weight; }

typedef struct round_state {
  const scenario *sc;
  tsmap *map;
  key_def keys[MAX_KEYS];
  int nkeys;
  lin_op log[MAX_THREADS][WINDOW_OPS];
  int nlog[MAX_THREADS];
  uint64_t last_ver[MAX_THREADS][MAX_KEYS];
  _Atomic unsigned long go; /* a new round starts when it changes */
  _Atomic int finished;     /* workers done with the round */
  _Atomic int stop;
  uint64_t seed;
} round_state;

/* A bounded map's capacity evictions of the round's keys, as its hook reported them: the
 * value, and a ticket taken in the hook (the eviction happened before it). */
typedef struct evict_rec {
  int key;
  uint64_t value, at;
} evict_rec;
#define MAX_EVICTS 4096
static evict_rec evict_log[MAX_EVICTS];
static _Atomic int evict_count;

static void record_eviction(const void *key, size_t key_len, void *value,
                            tsmap_evict_reason why, void *ctx) {
  const round_state *rs = ctx;
  if (why != TSMAP_EVICT_CAPACITY)
    return;
  uint64_t at = atomic_fetch_add(&ticket, 1);
  for (int k = 0; k < MAX_KEYS; k++) {
    const key_def *kd = &rs->keys[k];
    if (kd->len != key_len || (key_len && memcmp(kd->bytes, key, key_len) != 0))
      continue;
    int i = atomic_fetch_add(&evict_count, 1);
    if (i < MAX_EVICTS)
      evict_log[i] = (evict_rec){k, value_decode(value, rs->sc->value_size), at};
  }
}

typedef struct worker_arg {
  round_state *rs;
  int id;
} worker_arg;

static op_choice choose_op(const scenario *sc, uint64_t *rng, uint64_t last_ver) {
  op_choice ch = {sc->kinds[rng_next(rng) % sc->n_kinds], TSMAP_VERSION_ANY, 0};
  uint64_t r = rng_next(rng);
  static const unsigned vsel_weights[8] = {0, 0, 0, 0, 1, 1, 2, 3};
  ch.vsel = vsel_weights[r & 7];
  switch ((r >> 3) % 5) { /* expected: any, absent, the last seen, a stale or wrong one */
  case 0: ch.expected = TSMAP_VERSION_ANY; break;
  case 1: ch.expected = TSMAP_VERSION_ABSENT; break;
  case 4: ch.expected = last_ver + 1; break;
  default: ch.expected = last_ver ? last_ver : TSMAP_VERSION_ANY; break;
  }
  return ch;
}

/* Vary the interleaving on 2 cores: now and then spin a little or yield. */
static void jitter(uint64_t *rng) {
  uint64_t r = rng_next(rng);
  if ((r & 15) == 0)
    sched_yield();
  else if ((r & 3) == 0)
    for (volatile unsigned i = 0; i < (r >> 8) % 400; i++)
      ;
}

/* Wait for round `round` spinning, not sleeping: a thread woken from a futex starts
 * tens of microseconds late, when the other has long finished its round (no overlap). */
static void spin_until_round(round_state *rs, unsigned long round) {
  for (unsigned i = 1; atomic_load(&rs->go) < round; i++)
    if (i % 64 == 0)
      sched_yield();
}

/* Main: start a round and wait for every worker to finish it. */
static void run_one_round(round_state *rs) {
  atomic_store(&rs->finished, 0);
  atomic_fetch_add(&rs->go, 1);
  while (atomic_load(&rs->finished) < rs->sc->threads)
    sched_yield();
}

static void filler_key(const scenario *sc, uint64_t i, key_def *k);

static void *worker(void *p) {
  worker_arg *a = p;
  round_state *rs = a->rs;
  const scenario *sc = rs->sc;
  uint64_t rng = rs->seed * 0x9E3779B97F4A7C15u + (uint64_t)a->id * 7919 + 1;
  int per_thread = (bounded(sc) ? BOUNDED_WINDOW_OPS : WINDOW_OPS) / sc->threads;
  for (unsigned long seen = 0;; seen++) {
    spin_until_round(rs, seen + 1);
    if (atomic_load(&rs->stop))
      return NULL;
    int close_at =
        sc->close_race && a->id == 0 ? (int)(rng_next(&rng) % (uint64_t)per_thread) : -1;
    for (int i = 0; i < per_thread; i++) {
      int k = (int)(rng_next(&rng) % (uint64_t)rs->nkeys);
      op_choice ch = choose_op(sc, &rng, rs->last_ver[a->id][k]);
      uint64_t side = rng_next(&rng) % 12;
      if ((bounded(sc) || sc->worker_reshards) && side < 4)
        ch.kind = OP_FILL, k = NO_KEY;
      if (sc->worker_reshards && side >= 10)
        ch.kind = side == 10 ? OP_RESHARD : OP_MAINTAIN, k = NO_KEY;
      if (sc->merges && a->id == 0 && side % 4 == 0)
        ch.kind = OP_MERGE, ch.vsel = side % 3 == 0; /* one in 3 a tombstone */
      if (i == close_at)
        ch.kind = OP_CLOSE, k = ALL_KEYS;
      lin_op *op = &rs->log[a->id][i];
      op->thread = (uint8_t)a->id;
      op->key = (uint8_t)k;
      key_def fill;
      if (k == NO_KEY)
        filler_key(sc, rng_next(&rng) % (sc->worker_reshards ? 256 : 48), &fill);
      run_op(rs->map, k == NO_KEY ? &fill : &rs->keys[k >= MAX_KEYS ? 0 : k], sc->value_size,
             &ch, sc->fake_compute, op);
      if (k < MAX_KEYS && op->ver_out != VERSION_UNSET && op->ver_out != 0 &&
          op->status != TSMAP_NOT_FOUND)
        rs->last_ver[a->id][k] = op->ver_out;
      jitter(&rng);
    }
    rs->nlog[a->id] = per_thread;
    atomic_fetch_add(&rs->finished, 1);
  }
}

/* ---- Background load: growth and reshards --------------------------------------------- */

typedef struct bg_arg {
  round_state *rs;
  _Atomic int quit;
  long inserted, reshards;
} bg_arg;

static void filler_key(const scenario *sc, uint64_t i, key_def *k) {
  memset(k->bytes, 0, sizeof k->bytes);
  k->bytes[0] = 0xF0; /* checked keys never start with 0xF0 */
  memcpy(k->bytes + 1, &i, 7);
  k->len = sc->key_size ? sc->key_size : 8 + (size_t)(i % 3) * 9;
}

/* Insert new keys until told to quit: the map keeps growing (G5) under the rounds. */
static void *grow_thread(void *p) {
  bg_arg *a = p;
  const scenario *sc = a->rs->sc;
  unsigned char v[64] = {0};
  key_def k;
  for (uint64_t i = 0; !atomic_load(&a->quit); i++) {
    filler_key(sc, i, &k);
    tsmap_put(a->rs->map, k.bytes, k.len, v, NULL);
    a->inserted++;
    if (i % 64 == 0)
      sched_yield();
  }
  return NULL;
}

/* Reshard between 1 and max_shard_count shards, moving entries with maintain meanwhile. */
static void *reshard_thread(void *p) {
  bg_arg *a = p;
  const scenario *sc = a->rs->sc;
  uint64_t rng = 12345;
  while (!atomic_load(&a->quit)) {
    size_t n = (size_t)1 << (rng_next(&rng) % 7);
    if (n > sc->max_shard_count)
      n = sc->max_shard_count;
    if (tsmap_reshard(a->rs->map, n) == TSMAP_OK)
      a->reshards++;
    for (int i = 0; i < 20 && !atomic_load(&a->quit); i++) {
      tsmap_maintain(a->rs->map, 64);
      sched_yield();
    }
  }
  return NULL;
}

/* ---- A scenario's rounds -------------------------------------------------------------- */

typedef struct tally {
  long windows, overlapping, ops, violations, undecided, no_memory;
  long evictions, crowded; /* evictions in the windows; windows too full to check */
  long single_flight;      /* compute_if_absent callbacks that ran beside another */
} tally;

/* A weight from the value alone (1..3), the same while it is in the map. */
static uint64_t value_weight(const void *key, size_t key_len, const void *value, void *ctx) {
  (void)key, (void)key_len, (void)ctx;
  uint64_t v;
  memcpy(&v, value, 8);
  return 1 + (v >> 24) % 3;
}

static tsmap *make_map(const scenario *sc, round_state *rs) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, sc->value_size);
  cfg.key_size = sc->key_size;
  cfg.shard_count = sc->shard_count;
  cfg.max_shard_count = sc->max_shard_count;
  cfg.versions = sc->versioned;
  cfg.metrics = sc->metrics;
  if (sc->replicated)
    cfg.replicas = 2, cfg.replica_id = 0;
  if (sc->max_entries || sc->max_weight) {
    cfg.max_entries = sc->max_entries;
    cfg.max_weight = sc->max_weight;
    cfg.weight = sc->max_weight ? value_weight : NULL;
    cfg.on_entry_evicted = record_eviction;
    cfg.hook_ctx = rs;
  }
  if (sc->expiry) {
    cfg.default_ttl_ns = 3600ull * 1000000000u;
    cfg.maintain_interval_ns = 100000;
  }
  cfg.reshard_no_helper = sc->no_helper;
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  return m;
}

/* The epoch's keys (a round uses the first 1..MAX_KEYS of them): fixed for the map's
 * life, so a key's version floor carries from round to round. */
static void pick_keys(round_state *rs, uint64_t *rng) {
  const scenario *sc = rs->sc;
  for (int k = 0; k < MAX_KEYS; k++) {
    key_def *kd = &rs->keys[k];
    memset(kd->bytes, 0, sizeof kd->bytes);
    kd->bytes[0] = (unsigned char)(0x10 + k); /* distinct, never a filler's 0xF0 */
    static const size_t var_lens[] = {0, 3, 8, 17, 40};
    kd->len = sc->key_size ? sc->key_size : var_lens[(rng_next(rng) + (uint64_t)k) % 5];
    if (kd->len == 0 && k > 0)
      kd->len = 1 + (size_t)k; /* one empty key at most: they are all the same key */
    for (size_t i = 1; i < kd->len; i++)
      kd->bytes[i] = (unsigned char)(k * 31 + (int)i);
  }
}

/* A bounded map may have refused the value just put (admission, G11): start from what
 * the key holds. */
static void read_back(round_state *rs, int k, model *init) {
  const key_def *kd = &rs->keys[k];
  unsigned char buf[64];
  uint64_t ver = 0;
  tsmap_status st = rs->sc->versioned
                        ? tsmap_get_version(rs->map, kd->bytes, kd->len, buf, &ver)
                        : tsmap_get(rs->map, kd->bytes, kd->len, buf);
  CHECK(st == TSMAP_OK || st == TSMAP_NOT_FOUND);
  init->present = st == TSMAP_OK;
  init->value = init->present ? value_decode(buf, rs->sc->value_size) : 0;
  init->ver = init->present ? ver : 0;
}

/* Set key k to a known state before the round: absent, or a fresh value (and learn its
 * version). The floor is every version the key has shown so far. */
static void setup_key(round_state *rs, int k, uint64_t *rng, model *init, uint64_t floor) {
  const scenario *sc = rs->sc;
  const key_def *kd = &rs->keys[k];
  unsigned char buf[64];
  uint64_t ver = 0;
  memset(init, 0, sizeof *init);
  init->ver_known = 1;
  init->floor = floor;
  if (rng_next(rng) % 3 == 0) {
    if (sc->versioned) {
      tsmap_status st = tsmap_remove_if_version(rs->map, kd->bytes, kd->len,
                                                TSMAP_VERSION_ANY, &ver, buf);
      if (st == TSMAP_OK && ver > init->floor)
        init->floor = ver;
    } else {
      tsmap_remove(rs->map, kd->bytes, kd->len, buf);
    }
    return;
  }
  uint64_t v = atomic_fetch_add(&next_id, 1) << 24;
  value_encode(v, buf, sc->value_size);
  if (sc->versioned) {
    CHECK(tsmap_put_if_version(rs->map, kd->bytes, kd->len, buf, TSMAP_VERSION_ANY, &ver,
                               NULL) <= TSMAP_REPLACED);
    CHECK(ver > floor || (bounded(sc) && ver == TSMAP_VERSION_ABSENT));
    init->ver = ver;
    if (ver > init->floor)
      init->floor = ver;
  } else {
    CHECK(tsmap_put(rs->map, kd->bytes, kd->len, buf, NULL) <= TSMAP_REPLACED);
  }
  init->present = 1, init->value = v;
}

/* The closing read of key k, after every worker stopped: the window's last operation. */
static void closing_read(round_state *rs, int k, lin_op *op) {
  op_choice ch = {rs->sc->versioned ? OP_GET_VERSION : OP_GET, 0, 0};
  op->thread = MAX_THREADS; /* the main thread */
  op->key = (uint8_t)k;
  run_op(rs->map, &rs->keys[k], rs->sc->value_size, &ch, 0, op);
}

static uint64_t max_version_in(const lin_op *ops, int n, uint64_t floor) {
  for (int i = 0; i < n; i++)
    if (ops[i].ver_out != VERSION_UNSET && ops[i].ver_out > floor)
      floor = ops[i].ver_out;
  return floor;
}

/* Two operations of different threads whose intervals intersect? */
static int has_overlap(const lin_op *ops, int n) {
  uint64_t horizon = 0;
  for (int i = 0; i < n; i++) {
    if (ops[i].call < horizon)
      return 1;
    if (ops[i].ret > horizon)
      horizon = ops[i].ret;
  }
  return 0;
}

/* Key k's evictions in the window, as operations: each happened after the window began
 * and before its hook's ticket. */
static int eviction_ops(int k, uint64_t start, lin_op *out) {
  int n = 0, count = atomic_load(&evict_count);
  for (int i = 0; i < count && i < MAX_EVICTS; i++) {
    if (evict_log[i].key != k)
      continue;
    lin_op op = {.call = start, .ret = evict_log[i].at, .out = evict_log[i].value,
                 .ver_out = VERSION_UNSET, .kind = OP_EVICT, .thread = MAX_THREADS + 1,
                 .key = (uint8_t)k};
    out[n++] = op;
  }
  return n;
}

/* Check key k's window: gather its operations, sort by call, search. */
static void check_window(round_state *rs, int k, const model *init, uint64_t *floor,
                         uint64_t start, tally *t, int quiet) {
  lin_op hist[MAX_HIST + MAX_EVICTS];
  int n = 0;
  for (int th = 0; th < rs->sc->threads; th++)
    for (int i = 0; i < rs->nlog[th]; i++)
      if (rs->log[th][i].key == k || rs->log[th][i].key == ALL_KEYS)
        hist[n++] = rs->log[th][i];
  closing_read(rs, k, &hist[n++]);
  n += eviction_ops(k, start, hist + n);
  if (n > MAX_HIST) {
    t->crowded++;
    return;
  }
  qsort(hist, (size_t)n, sizeof hist[0], by_call);
  model_opts o = {rs->sc->versioned, rs->sc->replicated, bounded(rs->sc),
                  rs->sc->value_size};
  for (int i = 0; i < n; i++)
    t->no_memory += hist[i].status == TSMAP_NO_MEMORY;
  t->windows++;
  t->ops += n;
  t->overlapping += has_overlap(hist, n);
  int r = linearizable(hist, n, init, &o);
  if (r < 0)
    t->undecided++;
  if (r == 0) {
    if (t->violations++ < (quiet ? 1 : 3)) /* a mutant: its first one, as an example */
      print_violation(rs->sc->name, hist, n, init, &o);
  }
  *floor = max_version_in(hist, n, *floor);
}

/* The rounds of one map: until `rounds` or the deadline. */
static void run_rounds(round_state *rs, long rounds, double deadline, tally *t, int quiet) {
  uint64_t rng = rs->seed ^ 0xC0FFEE;
  uint64_t floors[MAX_KEYS] = {0};
  pick_keys(rs, &rng);
  memset(rs->last_ver, 0, sizeof rs->last_ver);
  for (long r = 0; r < rounds && (r < MIN_ROUNDS || tsmap_test_now() < deadline); r++) {
    model init[MAX_KEYS];
    rs->nkeys = 1 + (int)(rng_next(&rng) % MAX_KEYS);
    if (rs->sc->close_race) { /* a fresh map, closed during the round */
      rs->map = make_map(rs->sc, rs);
      memset(floors, 0, sizeof floors);
    }
    for (int k = 0; k < rs->nkeys; k++)
      setup_key(rs, k, &rng, &init[k], floors[k]);
    for (int k = 0; k < rs->nkeys && bounded(rs->sc); k++)
      read_back(rs, k, &init[k]); /* after every setup: one may have evicted another */
    atomic_store(&evict_count, 0);
    uint64_t start = atomic_load(&ticket);
    run_one_round(rs);
    t->evictions += atomic_load(&evict_count);
    for (int k = 0; k < rs->nkeys; k++)
      check_window(rs, k, &init[k], &floors[k], start, t, quiet);
    if (rs->sc->close_race)
      tsmap_destroy(rs->map);
  }
}

/* Run a scenario: its maps (a fresh one per epoch under growth, so each grows from
 * empty), its workers and background thread. Returns the tally. */
static tally run_scenario(const scenario *sc, double seconds, int quiet) {
  static round_state rs;
  memset(&rs, 0, sizeof rs);
  rs.sc = sc;
  rs.seed = 0x5EED0000u + (uint64_t)sc->threads;
  pthread_t w[MAX_THREADS];
  worker_arg wa[MAX_THREADS];
  tally t = {0};
  atomic_store(&single_flight_overlaps, 0);
  double deadline = tsmap_test_now() + seconds;
  int epochs = sc->bg == BG_GROW ? 8 : 4; /* a fresh map (and keys) an epoch */
  long rounds = (long)(ROUNDS * campaign_scale()) / epochs;
  for (int e = 0; e < epochs; e++) {
    rs.map = sc->close_race ? NULL : make_map(sc, &rs);
    rs.seed += (uint64_t)e * 1000003;
    atomic_store(&rs.stop, 0);
    atomic_store(&rs.go, 0);
    for (int i = 0; i < sc->threads; i++) {
      wa[i] = (worker_arg){&rs, i};
      pthread_create(&w[i], NULL, worker, &wa[i]);
    }
    bg_arg bg = {&rs, 0, 0, 0};
    pthread_t bgt;
    if (sc->bg == BG_RESHARD) { /* entries to move */
      key_def k;
      unsigned char v[64] = {0};
      for (uint64_t i = 0; i < 4000; i++) {
        filler_key(sc, i, &k);
        tsmap_put(rs.map, k.bytes, k.len, v, NULL);
      }
    }
    if (sc->bg != BG_NONE)
      pthread_create(&bgt, NULL, sc->bg == BG_GROW ? grow_thread : reshard_thread, &bg);
    double epoch_end = tsmap_test_now() + seconds / epochs;
    run_rounds(&rs, rounds, epoch_end < deadline ? epoch_end : deadline, &t, quiet);
    atomic_store(&rs.stop, 1);
    atomic_fetch_add(&rs.go, 1);
    for (int i = 0; i < sc->threads; i++)
      pthread_join(w[i], NULL);
    if (sc->bg != BG_NONE) {
      atomic_store(&bg.quit, 1);
      pthread_join(bgt, NULL);
    }
    if (!quiet && sc->bg == BG_GROW && e == 0)
      fprintf(stderr, "  %s: %ld keys inserted meanwhile (epoch 1 of %d)\n", sc->name,
              bg.inserted, epochs);
    if (!quiet && sc->bg == BG_RESHARD)
      fprintf(stderr, "  %s: %ld reshards meanwhile\n", sc->name, bg.reshards);
    if (!sc->close_race)
      tsmap_destroy(rs.map);
  }
  t.single_flight = atomic_load(&single_flight_overlaps);
  return t;
}

static void report(const scenario *sc, const tally *t) {
  fprintf(stderr,
          "  %s: %ld windows (%ld with overlapping calls), %ld operations, %ld not "
          "linearizable, %ld undecided, %ld NO_MEMORY",
          sc->name, t->windows, t->overlapping, t->ops, t->violations, t->undecided,
          t->no_memory);
  fprintf(stderr, ", %ld compute_if_absent callbacks beside another", t->single_flight);
  if (bounded(sc))
    fprintf(stderr, ", %ld evictions of the keys, %ld windows too full to check", t->evictions,
            t->crowded);
  fprintf(stderr, "\n");
}

/* A real scenario must be linearizable and must have exercised concurrency. */
static void check_scenario(const scenario *sc) {
  tally t = run_scenario(sc, SCENARIO_SECONDS * campaign_scale(), 0);
  report(sc, &t);
  CHECK(t.violations == 0);
  CHECK(t.undecided == 0);
  CHECK(t.no_memory == 0);
  CHECK(t.windows >= 100);
  CHECK(t.overlapping * 10 >= t.windows); /* a tenth at least had overlapping calls */
  /* Across a reshard's routing change two callbacks may run (G15, Limits). */
  if (sc->bg != BG_RESHARD && !sc->worker_reshards)
    CHECK(t.single_flight == 0);
}

static const op_kind plain_ops[] = {OP_GET, OP_GET, OP_PUT, OP_PUT_IF_ABSENT, OP_REMOVE,
                                    OP_COMPUTE_IF_ABSENT, OP_COMPUTE, OP_COMPUTE_IF_PRESENT};
static const op_kind versioned_ops[] = {
    OP_GET,         OP_GET_VERSION,       OP_GET_VERSION,        OP_PUT,
    OP_PUT_IF_ABSENT, OP_REMOVE,          OP_COMPUTE_IF_ABSENT,  OP_COMPUTE,
    OP_COMPUTE_IF_PRESENT, OP_PUT_IF_VERSION, OP_PUT_IF_VERSION, OP_REMOVE_IF_VERSION,
    OP_COMPUTE_IF_VERSION, OP_COMPUTE_IF_VERSION};
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static void test_lin_plain_map(void) {
  scenario sc = {.name = "plain", .threads = 3, .key_size = 0, .value_size = 8, .shard_count = 4,
                   .kinds = plain_ops, .n_kinds = N_OF(plain_ops)};
  check_scenario(&sc);
}

static void test_lin_8byte_keys(void) {
  scenario sc = {.name = "8-byte keys", .threads = 2, .key_size = 8, .value_size = 8,
                   .shard_count = 2, .kinds = plain_ops, .n_kinds = N_OF(plain_ops)};
  check_scenario(&sc);
}

static void test_lin_variable_keys(void) {
  scenario sc = {.name = "variable-length keys", .threads = 4, .key_size = 0, .value_size = 24,
                   .shard_count = 1, .kinds = plain_ops, .n_kinds = N_OF(plain_ops)};
  check_scenario(&sc);
}

static void test_lin_growing_map(void) {
  scenario sc = {.name = "growing map, 8-byte keys", .threads = 2, .key_size = 8, .value_size = 8,
                   .bg = BG_GROW, .shard_count = 1, .kinds = plain_ops, .n_kinds = N_OF(plain_ops)};
  check_scenario(&sc);
  scenario sv = {.name = "growing map, variable keys", .threads = 3, .key_size = 0,
                   .value_size = 24, .bg = BG_GROW, .shard_count = 2, .kinds = plain_ops,
                   .n_kinds = N_OF(plain_ops)};
  check_scenario(&sv);
  scenario s16 = {.name = "growing map, 16-byte keys, 56-byte values", .threads = 2, .key_size = 16,
                   .value_size = 56, .bg = BG_GROW, .shard_count = 1, .kinds = plain_ops,
                   .n_kinds = N_OF(plain_ops)};
  check_scenario(&s16);
}

static void test_lin_live_reshards(void) {
  scenario sc = {.name = "reshards, 8-byte keys", .threads = 2, .key_size = 8, .value_size = 8,
                   .bg = BG_RESHARD, .shard_count = 1, .max_shard_count = 64, .kinds = plain_ops,
                   .n_kinds = N_OF(plain_ops)};
  check_scenario(&sc);
  scenario sv = {.name = "reshards, versions", .threads = 3, .key_size = 0, .value_size = 8,
                   .versioned = 1, .bg = BG_RESHARD, .shard_count = 2, .max_shard_count = 64,
                   .kinds = versioned_ops, .n_kinds = N_OF(versioned_ops)};
  check_scenario(&sv);
  scenario s8 = {.name = "reshards, versioned 8-byte keys", .threads = 2, .key_size = 8,
                   .value_size = 8, .versioned = 1, .bg = BG_RESHARD, .shard_count = 1,
                   .max_shard_count = 64, .kinds = versioned_ops, .n_kinds = N_OF(versioned_ops)};
  check_scenario(&s8);
  scenario sk = {.name = "reshards, variable keys", .threads = 4, .key_size = 0, .value_size = 24,
                   .metrics = 1, .bg = BG_RESHARD, .shard_count = 4, .max_shard_count = 64,
                   .kinds = plain_ops, .n_kinds = N_OF(plain_ops)};
  check_scenario(&sk);
}

static void test_lin_versioned_map(void) {
  scenario sc = {.name = "versioned, 8-byte keys", .threads = 3, .key_size = 8, .value_size = 8,
                   .versioned = 1, .shard_count = 2, .kinds = versioned_ops,
                   .n_kinds = N_OF(versioned_ops)};
  check_scenario(&sc);
  scenario sv = {.name = "versioned, growing, variable keys", .threads = 2, .key_size = 0,
                   .value_size = 24, .versioned = 1, .bg = BG_GROW, .shard_count = 1,
                   .kinds = versioned_ops, .n_kinds = N_OF(versioned_ops)};
  check_scenario(&sv);
  scenario sg = {.name = "versioned, growing, 8-byte keys", .threads = 3, .key_size = 8,
                   .value_size = 8, .versioned = 1, .metrics = 1, .bg = BG_GROW, .shard_count = 1,
                   .kinds = versioned_ops, .n_kinds = N_OF(versioned_ops)};
  check_scenario(&sg);
}

static void test_lin_replicated_local_writes(void) {
  scenario sc = {.name = "replicated (local)", .threads = 3, .key_size = 8, .value_size = 8,
                   .versioned = 1, .replicated = 1, .shard_count = 2, .kinds = versioned_ops,
                   .n_kinds = N_OF(versioned_ops)};
  check_scenario(&sc);
  scenario sm = {.name = "replicated, merges racing local writes", .threads = 3, .key_size = 0,
                 .value_size = 24, .versioned = 1, .replicated = 1, .merges = 1, .shard_count = 2,
                 .kinds = versioned_ops, .n_kinds = N_OF(versioned_ops)};
  check_scenario(&sm);
  scenario sg = {.name = "replicated, growing, variable keys", .threads = 2, .key_size = 0,
                   .value_size = 24, .versioned = 1, .replicated = 1, .bg = BG_GROW,
                   .shard_count = 1, .kinds = versioned_ops, .n_kinds = N_OF(versioned_ops)};
  check_scenario(&sg);
}

/* G9: a close racing the calls. Each is ordered before the close (its usual result) or
 * returns TSMAP_CLOSED, consistently with one instant of the close. */
static void test_lin_racing_close(void) {
  scenario sc = {.name = "racing close", .threads = 3, .key_size = 8, .value_size = 8,
                   .close_race = 1, .shard_count = 2, .kinds = plain_ops,
                   .n_kinds = N_OF(plain_ops)};
  check_scenario(&sc);
  scenario sv = {.name = "racing close, versions", .threads = 2, .key_size = 0, .value_size = 24,
                   .versioned = 1, .close_race = 1, .shard_count = 2, .kinds = versioned_ops,
                   .n_kinds = N_OF(versioned_ops)};
  check_scenario(&sv);
}

/* G11: a bounded map, kept full by puts of other keys. A capacity eviction (or an
 * admission refusal) of a checked key is a legal removal, but only of the value its hook
 * was given, and only before the hook ran. */
static void test_lin_bounded_map(void) {
  scenario sc = {.name = "bounded", .threads = 2, .key_size = 8, .value_size = 8, .max_entries = 8,
                   .shard_count = 1, .kinds = plain_ops, .n_kinds = N_OF(plain_ops)};
  check_scenario(&sc);
  scenario sv = {.name = "bounded, versions", .threads = 3, .key_size = 0, .value_size = 24,
                   .versioned = 1, .max_entries = 8, .shard_count = 2, .kinds = versioned_ops,
                   .n_kinds = N_OF(versioned_ops)};
  check_scenario(&sv);
}

static void test_lin_weight_bound(void) {
  scenario sc = {.name = "weight bound", .threads = 3, .key_size = 0, .value_size = 8,
                   .max_weight = 16, .shard_count = 1, .kinds = plain_ops,
                   .n_kinds = N_OF(plain_ops)};
  check_scenario(&sc);
}

static void test_lin_expiry_paths(void) {
  scenario sc = {.name = "expiry paths, 8-byte keys", .threads = 2, .key_size = 8, .value_size = 8,
                   .expiry = 1, .shard_count = 2, .kinds = plain_ops, .n_kinds = N_OF(plain_ops)};
  check_scenario(&sc);
  scenario sv = {.name = "expiry paths, versions, reshards", .threads = 3, .key_size = 0,
                   .value_size = 24, .versioned = 1, .expiry = 1, .no_helper = 1, .bg = BG_RESHARD,
                   .shard_count = 1, .max_shard_count = 64, .kinds = versioned_ops,
                   .n_kinds = N_OF(versioned_ops)};
  check_scenario(&sv);
}

/* Reshards asked for by the workers themselves, between their calls on the keys: with a
 * racing close (a map a round, so every round starts a reshard from 1 shard), with
 * metrics and the 8-byte paths, with expiry's paths. */
static void test_lin_reshards_from_the_workers(void) {
  scenario sc = {.name = "worker reshards, racing close", .threads = 3, .key_size = 8,
                   .value_size = 8, .close_race = 1, .worker_reshards = 1, .shard_count = 1,
                   .max_shard_count = 64, .kinds = plain_ops, .n_kinds = N_OF(plain_ops)};
  check_scenario(&sc);
  scenario sm = {.name = "worker reshards, metrics", .threads = 2, .key_size = 8, .value_size = 8,
                   .metrics = 1, .worker_reshards = 1, .shard_count = 2, .max_shard_count = 64,
                   .kinds = plain_ops, .n_kinds = N_OF(plain_ops)};
  check_scenario(&sm);
  scenario se = {.name = "worker reshards, expiry paths, versions", .threads = 3, .key_size = 0,
                   .value_size = 24, .versioned = 1, .expiry = 1, .worker_reshards = 1,
                   .shard_count = 1, .max_shard_count = 64, .kinds = versioned_ops,
                   .n_kinds = N_OF(versioned_ops)};
  check_scenario(&se);
}

static void test_lin_metrics_on(void) {
  scenario sc = {.name = "metrics on", .threads = 4, .key_size = 8, .value_size = 8, .metrics = 1,
                   .shard_count = 2, .kinds = plain_ops, .n_kinds = N_OF(plain_ops)};
  check_scenario(&sc);
}

/* ---- Mutation checks: the checker is not vacuous -------------------------------------- */

static lin_op fake(uint64_t call, uint64_t ret, op_kind kind, uint64_t id, tsmap_status st,
                   uint64_t out) {
  lin_op op = {call, ret, id, TSMAP_VERSION_ANY, out, VERSION_UNSET, (uint8_t)kind, 0, 0, 0,
               (uint8_t)st};
  return op;
}

static int check_fake(const char *what, lin_op *ops, int n, const model *init,
                      const model_opts *o) {
  qsort(ops, (size_t)n, sizeof ops[0], by_call);
  int r = linearizable(ops, n, init, o);
  fprintf(stderr, "  %s: %s\n", what, r == 1 ? "linearizable" : r == 0 ? "rejected" : "undecided");
  if (r == 0)
    print_violation(what, ops, n, init, o);
  return r;
}

static void test_lin_mutation_fake_histories(void) {
  model absent = {.ver_known = 1};
  model_opts o = {0, 0, 0, 8};
  /* A get that returned w5 before put(w5) was called. */
  lin_op early[] = {fake(0, 1, OP_GET, 1, TSMAP_OK, 5ull << 24),
                    fake(2, 3, OP_PUT, 5, TSMAP_OK, VALUE_UNSET)};
  early[0].thread = 1;
  CHECK(check_fake("a read before its write", early, 2, &absent, &o) == 0);

  /* The same get overlapping the put: legal. */
  lin_op overlap[] = {fake(0, 3, OP_GET, 1, TSMAP_OK, 5ull << 24),
                      fake(1, 2, OP_PUT, 5, TSMAP_OK, VALUE_UNSET)};
  overlap[0].thread = 1;
  CHECK(check_fake("a read overlapping its write", overlap, 2, &absent, &o) == 1);

  /* A lost update: two overlapping computes (always STORE) both computed from w1, and
   * both report success; the second one must have seen the first's result. */
  model one = {.value = 1ull << 24, .present = 1, .ver_known = 1};
  uint64_t from1 = digest_of(1, 1ull << 24);
  lin_op lost[] = {fake(0, 3, OP_COMPUTE, 7, TSMAP_OK, 7ull << 24 | from1),
                   fake(1, 2, OP_COMPUTE, 8, TSMAP_OK, 8ull << 24 | from1),
                   fake(4, 5, OP_GET, 9, TSMAP_OK, 8ull << 24 | from1)};
  lost[1].thread = 1, lost[2].thread = 2;
  CHECK(check_fake("a lost update in compute", lost, 3, &one, &o) == 0);

  /* The same computes chained (the second from the first's result): legal. */
  lin_op chained[] = {fake(0, 3, OP_COMPUTE, 7, TSMAP_OK, 7ull << 24 | from1),
                      fake(1, 2, OP_COMPUTE, 8, TSMAP_OK,
                           8ull << 24 | digest_of(1, 7ull << 24 | from1)),
                      fake(4, 5, OP_GET, 9, TSMAP_OK,
                           8ull << 24 | digest_of(1, 7ull << 24 | from1))};
  chained[1].thread = 1, chained[2].thread = 2;
  CHECK(check_fake("chained computes", chained, 3, &one, &o) == 1);

  /* Two successful put_if_absent on an absent key: only one may insert. */
  lin_op twice[] = {fake(0, 3, OP_PUT_IF_ABSENT, 3, TSMAP_OK, VALUE_UNSET),
                    fake(1, 2, OP_PUT_IF_ABSENT, 4, TSMAP_OK, VALUE_UNSET)};
  twice[1].thread = 1;
  CHECK(check_fake("two inserts of one absent key", twice, 2, &absent, &o) == 0);

  /* Versions: a version that goes back for the same key. */
  model_opts vo = {1, 0, 0, 8};
  lin_op back[] = {fake(0, 1, OP_PUT_IF_VERSION, 3, TSMAP_OK, VALUE_UNSET),
                   fake(2, 3, OP_PUT_IF_VERSION, 4, TSMAP_REPLACED, 3ull << 24)};
  back[0].ver_out = 10, back[1].ver_out = 9;
  CHECK(check_fake("a version that went back", back, 2, &absent, &vo) == 0);

  /* A torn read: the value's words mixed from two writes. */
  lin_op torn[] = {fake(0, 1, OP_PUT, 3, TSMAP_OK, VALUE_UNSET),
                   fake(2, 3, OP_GET, 4, TSMAP_OK, VALUE_TORN)};
  CHECK(check_fake("a torn read", torn, 2, &absent, &o) == 0);
}

/* A compute, and a put_if_absent, made of a get and a put (fake_compute) on real threads:
 * lost updates and double inserts happen, and the checker must reject some windows. */
static void test_lin_mutation_non_atomic_calls(void) {
  static const op_kind ops[] = {OP_COMPUTE, OP_COMPUTE, OP_GET};
  static const op_kind pia[] = {OP_PUT_IF_ABSENT, OP_REMOVE, OP_GET};
  scenario sc = {.name = "non-atomic compute (mutant)", .threads = 2, .key_size = 8,
                   .value_size = 8, .fake_compute = 1, .shard_count = 2, .kinds = ops,
                   .n_kinds = N_OF(ops)};
  tally t = run_scenario(&sc, 1.0, 1);
  report(&sc, &t);
  CHECK(t.violations > 0);
  scenario sp = {.name = "non-atomic put_if_absent (mutant)", .threads = 3, .key_size = 0,
                   .value_size = 24, .fake_compute = 1, .shard_count = 2, .kinds = pia,
                   .n_kinds = N_OF(pia)};
  t = run_scenario(&sp, 1.0, 1);
  report(&sp, &t);
  CHECK(t.violations > 0);
}

TEST_MAIN(T(test_lin_mutation_fake_histories), T(test_lin_mutation_non_atomic_calls),
          T(test_lin_plain_map), T(test_lin_8byte_keys), T(test_lin_variable_keys),
          T(test_lin_growing_map), T(test_lin_live_reshards), T(test_lin_versioned_map),
          T(test_lin_replicated_local_writes), T(test_lin_racing_close), T(test_lin_bounded_map),
          T(test_lin_weight_bound), T(test_lin_expiry_paths),
          T(test_lin_reshards_from_the_workers),
          T(test_lin_metrics_on))
