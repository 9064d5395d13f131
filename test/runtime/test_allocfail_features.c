/*
 * test_allocfail_features.c - allocation failure (G1) over every feature, black-box
 * round 11: a counting allocator fails the n-th allocation (or every one from the n-th
 * on) for every n up to the number a scripted workload makes, on each map kind (plain,
 * fixed 8-byte keys, expiry with a stepped clock, max_entries, max_weight, versions,
 * replicas with either resolver, named and metered, resharded). Every call's status
 * must be one the header lists for it; a failed call changes nothing (the map equals a
 * sequential model after it); every value that enters leaves exactly once; a replica's
 * peer converges once allocation works again; after destroy no allocation is live.
 * Written from tsmap.h, DESIGN.md and docs/spec.md only.
 */
#include "tsmap_test.h"

#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>

/* ---- malloc watch: a map with an allocator calls neither malloc nor calloc ------------
 * The header: config.allocator is "used for every allocation the map makes", the thread
 * record (posix_memalign) excepted. In a build without a sanitizer (which owns malloc)
 * the test counts the malloc and calloc calls its thread makes inside map calls. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define WATCH_MALLOC 0
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#undef WATCH_MALLOC
#define WATCH_MALLOC 0
#endif
#ifndef WATCH_MALLOC
#define WATCH_MALLOC 1
#endif

static _Thread_local int watching; /* inside a map call of a map with an allocator */
static _Thread_local long heap_calls;

#if WATCH_MALLOC
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
void *malloc(size_t size) {
  heap_calls += watching;
  return __libc_malloc(size);
}
void *calloc(size_t n, size_t size) {
  heap_calls += watching;
  return __libc_calloc(n, size);
}
#endif

/* ---- The counting allocator ---------------------------------------------------------- */

typedef struct fail_alloc {
  _Atomic long count;    /* allocations attempted */
  _Atomic long fail_at;  /* the first allocation to fail (-1: never) */
  _Atomic int fail_rest; /* fail every allocation from fail_at on */
  _Atomic long live;     /* allocations not yet freed */
  _Atomic long live_bytes;
  _Atomic long failures;
} fail_alloc;

static void *fa_alloc(size_t size, void *ctx) {
  fail_alloc *a = (fail_alloc *)ctx;
  long n = a->count++, at = a->fail_at;
  if (at >= 0 && (n == at || (a->fail_rest && n > at))) {
    a->failures++;
    return NULL;
  }
  int was_watching = watching; /* the allocator's own malloc is the allocator's */
  watching = 0;
  void *p = malloc(size);
  watching = was_watching;
  if (p) {
    a->live++;
    a->live_bytes += (long)size;
  }
  return p;
}

static void fa_free(void *p, size_t size, void *ctx) {
  fail_alloc *a = (fail_alloc *)ctx;
  a->live--;
  a->live_bytes -= (long)size;
  free(p);
}

/* ---- Kinds, keys and values ---------------------------------------------------------- */

enum kind {
  K_PLAIN,       /* variable keys (every 4th long: its own allocation), growth from 0 */
  K_FIXED8,      /* 8-byte keys and values, one shard: the fast paths */
  K_EXPIRY,      /* a stepped clock, the *_ttl calls, tsmap_maintain */
  K_BOUND,       /* max_entries: capacity evictions and admission */
  K_WEIGHT,      /* max_weight with a weigh callback; TSMAP_TOO_HEAVY */
  K_VERSIONS,    /* the *_if_version calls and the feed */
  K_REPLICA,     /* two replicas, tsmap_resolve_latest */
  K_REPLICA_MAX, /* two replicas, a resolver storing a result of its own */
  K_METRICS,     /* named and metered: metrics write, format, write_all */
  K_RESHARD,     /* tsmap_reshard up and down, moved on by tsmap_maintain */
  K_EXPIRY_BOUND, /* expiry and max_entries together */
  K_RESHARD8,    /* 8-byte keys resharded, the helper thread allowed */
  K_PLACED,      /* NUMA interleave with a user allocator (G14: unbound, still works) */
  K_REPLICA_BOUND, /* replicas with max_entries: capacity tombstones (no convergence) */
  K_MAINT,       /* expiry, named, with a maintenance thread (that never ticks in a run) */
  K_VERSIONS_META, /* versions with expiry and max_entries */
  K_COUNT
};
static const char *const kind_names[K_COUNT] = {"plain",   "fixed8",      "expiry", "bound",
                                                "weight",  "versions",    "replica",
                                                "replica-max", "metrics", "reshard",
                                                "expiry-bound", "reshard8", "placed",
                                                "replica-bound", "maint",
                                                "versions-meta"};

#define NKEYS 32
#define STEPS 240
#define LEDGER 16384
#define HEAVY ((int64_t)1 << 20)    /* a value weighing more than a shard's share */
#define RESOLVED ((int64_t)1 << 21) /* a resolver's own result */
#define PEER_IDS 2048               /* the peer's values start here (ours below) */
#define DEFAULT_TTL 50

static int fixed_keys(int kind) {
  return kind == K_FIXED8 || kind == K_METRICS || kind == K_RESHARD8;
}
static int expiring(int kind) {
  return kind == K_EXPIRY || kind == K_EXPIRY_BOUND || kind == K_MAINT ||
         kind == K_VERSIONS_META;
}
static int replicated(int kind) {
  return kind == K_REPLICA || kind == K_REPLICA_MAX || kind == K_REPLICA_BOUND;
}
static int versioned(int kind) {
  return kind == K_VERSIONS || kind == K_VERSIONS_META || replicated(kind);
}

typedef struct key_buf {
  char bytes[64];
  size_t len;
} key_buf;

static key_buf key_of(int kind, int i) {
  key_buf k;
  if (fixed_keys(kind)) {
    uint64_t v = (uint64_t)i;
    memcpy(k.bytes, &v, 8);
    k.len = 8;
  } else {
    k.len = (size_t)snprintf(k.bytes, sizeof k.bytes,
                             i % 4 == 0 ? "a-long-key-number-%d-xxxxxxxx" : "k%d", i);
  }
  return k;
}

/* The key index of key bytes the map hands a hook (-1: not one of ours). */
static int key_index(int kind, const void *key, size_t len) {
  if (fixed_keys(kind)) {
    uint64_t v = 0;
    memcpy(&v, key, len < 8 ? len : 8);
    return v < NKEYS ? (int)v : -1;
  }
  const char *p = (const char *)key;
  int i = 0, digits = 0;
  for (size_t j = 0; j < len; j++)
    if (p[j] >= '0' && p[j] <= '9')
      i = i * 10 + (p[j] - '0'), digits++;
    else if (digits)
      break;
  return digits && i < NKEYS ? i : -1;
}

static long ledger_slot(int64_t v) { return (long)((v & 0xfff) | ((v >> 8) & 0x3000)); }

/* ---- Hooks: a ledger per map, and a log of the current call's own evictions ----------- */

typedef struct event {
  int key;
  int64_t value;
  tsmap_evict_reason why;
} event;

typedef struct ledger {
  int kind;
  unsigned char in[LEDGER], out[LEDGER]; /* per value: entered, left (hook or caller) */
  long discarded, created;
  event log[64];
  int nlog;
} ledger;

static void on_created(const void *k, size_t kl, const void *v, void *ctx) {
  (void)k, (void)kl;
  ledger *l = (ledger *)ctx;
  int64_t id;
  memcpy(&id, v, 8);
  l->in[ledger_slot(id)]++;
  l->created++;
}

static void on_evicted(const void *k, size_t kl, void *v, tsmap_evict_reason why, void *ctx) {
  ledger *l = (ledger *)ctx;
  int64_t id;
  memcpy(&id, v, 8);
  if (why == TSMAP_EVICT_DISCARDED) {
    l->discarded++;
    return;
  }
  l->out[ledger_slot(id)]++;
  if (l->nlog < (int)(sizeof l->log / sizeof l->log[0]))
    l->log[l->nlog++] = (event){key_index(l->kind, k, kl), id, why};
}

/* Values that left a different number of times than they entered, or entered more than
 * once where only one write could store them (`once`: a replica may take the same bytes
 * again from a change that dominates its capacity tombstone, G13). */
static long ledger_errors(const ledger *l, int once) {
  long bad = 0;
  for (long i = 0; i < LEDGER; i++)
    if ((once && l->in[i] > 1) || l->out[i] != l->in[i]) {
      if (bad < 4)
        fprintf(stderr, "    value slot %ld: in %d out %d\n", i, l->in[i], l->out[i]);
      bad++;
    }
  return bad;
}

/* ---- The sequential model ------------------------------------------------------------ */

typedef struct entry {
  int present;
  int64_t value;
  uint64_t deadline; /* 0: never */
  uint64_t version;  /* versioned kinds: the last version the map reported */
} entry;

typedef struct run {
  int kind;
  fail_alloc fa;
  tsmap_allocator al;
  tsmap *m, *peer;
  ledger *lg, *peer_lg;
  entry md[NKEYS];
  uint64_t now;
  int64_t next_id, peer_next_id;
  uint64_t since, peer_since;
  int first_call; /* the running op is the thread's first call */
  long bad;
  int step;
  unsigned char wire[1 << 16];
  size_t wire_len;
  int wire_full;
} run;

static void report(run *r, const char *what, tsmap_status st) {
  int was_watching = watching;
  watching = 0; /* stdio's buffers are not the map's */
  if (r->bad < 12)
    fprintf(stderr, "  [%s step %d, fail_at %ld%s] %s: %s\n", kind_names[r->kind], r->step,
            (long)r->fa.fail_at, r->fa.fail_rest ? "+" : "", what, tsmap_status_name(st));
  r->bad++;
  watching = was_watching;
}

static int visible(const run *r, int i) {
  const entry *e = &r->md[i];
  return e->present && (e->deadline == 0 || r->now < e->deadline);
}

static uint64_t clock_of(void *ctx) { return ((run *)ctx)->now; }

/* The deadline a store with `ttl` gets (expiry kind only). */
static uint64_t deadline_for(const run *r, uint64_t ttl) {
  if (!expiring(r->kind) || ttl == TSMAP_TTL_NEVER)
    return 0;
  return r->now + (ttl == TSMAP_TTL_DEFAULT ? DEFAULT_TTL : ttl);
}

static void model_store(run *r, int i, int64_t v, uint64_t ttl) {
  r->md[i] = (entry){1, v, deadline_for(r, ttl), r->md[i].version};
}

/* After a call: the evictions it made on its own (capacity, expiry) take their keys out of
 * the model when they took the model's value; anything else it hooked but DISCARDED was a
 * replaced or removed value, which the status accounts for. */
static void apply_log(run *r) {
  for (int j = 0; j < r->lg->nlog; j++) {
    event *e = &r->lg->log[j];
    if (e->key < 0)
      continue;
    entry *m = &r->md[e->key];
    if ((e->why == TSMAP_EVICT_CAPACITY || e->why == TSMAP_EVICT_EXPIRED) && m->present &&
        m->value == e->value)
      m->present = 0;
  }
  r->lg->nlog = 0;
}

/* A failed call (any status that changes nothing) hooked nothing but discarded results
 * and expired entries (a write's sweep may reclaim those: they were absent already). */
static void check_failed_call_hooked_nothing(run *r, const char *what) {
  for (int j = 0; j < r->lg->nlog; j++)
    if (r->lg->log[j].why != TSMAP_EVICT_EXPIRED)
      report(r, what, TSMAP_OK), fprintf(stderr, "    ^ a failed call evicted (reason %d)\n",
                                         r->lg->log[j].why);
}

/* The caller took a value out (old_out, remove's out): it leaves the map through us. */
static void caller_took(run *r, int i, int64_t v, const char *what) {
  if (!visible(r, i) || r->md[i].value != v)
    report(r, what, TSMAP_OK), fprintf(stderr, "    ^ handed out %" PRId64 "\n", v);
  r->lg->out[ledger_slot(v)]++;
}

/* ---- Statuses the header lists, per call --------------------------------------------- */

#define B(s) (1u << TSMAP_##s)
#define L_WRITE (B(OK) | B(REPLACED) | B(CLOSED) | B(NO_MEMORY) | B(INVALID_ARGUMENT) | \
                 B(REENTERED) | B(TOO_HEAVY))
#define L_PIA (B(OK) | B(EXISTS) | B(CLOSED) | B(NO_MEMORY) | B(INVALID_ARGUMENT) | \
               B(REENTERED) | B(TOO_HEAVY))
#define L_GET (B(OK) | B(NOT_FOUND) | B(CLOSED) | B(INVALID_ARGUMENT) | B(REENTERED))
#define L_REMOVE (L_GET) /* NO_MEMORY only in the cases remove_may_fail says */
#define L_CIA (B(OK) | B(CALLBACK_FAILED) | B(REENTERED) | B(CLOSED) | B(NO_MEMORY) | \
               B(INVALID_ARGUMENT) | B(TOO_HEAVY))
#define L_COMPUTE (B(OK) | B(REMOVED) | B(NOT_FOUND) | B(CLOSED) | B(NO_MEMORY) | \
                   B(INVALID_ARGUMENT) | B(REENTERED) | B(TOO_HEAVY))
#define L_WALK (B(OK) | B(STOPPED) | B(CLOSED) | B(NO_MEMORY) | B(INVALID_ARGUMENT))
#define L_MAINTAIN (B(OK) | B(CLOSED) | B(INVALID_ARGUMENT))
#define L_MERGE (B(OK) | B(REPLACED) | B(EXISTS) | B(INVALID_ARGUMENT) | B(CLOSED) | \
                 B(NO_MEMORY) | B(REENTERED) | B(TOO_HEAVY))
#define L_RESHARD (B(OK) | B(INVALID_ARGUMENT) | B(NO_MEMORY) | B(CLOSED))
#define L_MX_WRITE (B(OK) | B(STOPPED) | B(CLOSED) | B(NO_MEMORY) | B(INVALID_ARGUMENT))
#define L_MX_ALL (B(OK) | B(STOPPED) | B(NO_MEMORY) | B(INVALID_ARGUMENT) | B(REENTERED))
#define L_CLOSE (B(OK) | B(CLOSED) | B(INVALID_ARGUMENT))
#define L_CREATE (B(OK) | B(INVALID_ARGUMENT) | B(EXISTS) | B(REENTERED) | B(NO_MEMORY))

/* Is `st` listed for the call? A thread's first keyed call may also say NO_MEMORY. */
static int listed(run *r, const char *what, tsmap_status st, unsigned list) {
  if ((unsigned)st < 32 && (list & (1u << st)))
    return 1;
  if (st == TSMAP_NO_MEMORY && r->first_call)
    return 1;
  report(r, what, st);
  fprintf(stderr, "    ^ a status the header does not list for %s\n", what);
  return 0;
}

/* The status must be `want`, or NO_MEMORY when `may_fail`. Returns 1 when it is `want`. */
static int expect(run *r, const char *what, tsmap_status st, unsigned list, tsmap_status want,
                  int may_fail) {
  if (!listed(r, what, st, list))
    return 0;
  if (st == want)
    return 1;
  if (!(st == TSMAP_NO_MEMORY && (may_fail || r->first_call))) {
    report(r, what, st);
    fprintf(stderr, "    ^ expected %s\n", tsmap_status_name(want));
  }
  check_failed_call_hooked_nothing(r, what);
  return 0;
}

/* ---- Callbacks ------------------------------------------------------------------------ */

typedef struct cb_arg {
  int64_t id;
  tsmap_verdict verdict;
  int fail;
} cb_arg;

static int cb_absent(const void *key, size_t key_len, void *ctx, TSMAP_OUT void *out) {
  (void)key, (void)key_len;
  const cb_arg *a = (const cb_arg *)ctx;
  memcpy(out, &a->id, 8);
  return a->fail;
}

static tsmap_verdict cb_compute(const void *key, size_t key_len, const void *old, void *ctx,
                                TSMAP_OUT void *out) {
  (void)key, (void)key_len, (void)old;
  const cb_arg *a = (const cb_arg *)ctx;
  memcpy(out, &a->id, 8);
  return a->verdict;
}

static uint64_t weigh(const void *key, size_t key_len, const void *value, void *ctx) {
  (void)key, (void)key_len, (void)ctx;
  int64_t v;
  memcpy(&v, value, 8);
  return (v & HEAVY) ? (uint64_t)1 << 30 : 1 + (uint64_t)(v % 3);
}

/* Symmetric and idempotent: the larger value marked RESOLVED; a tombstone wins. */
static tsmap_verdict resolve_max(const void *key, size_t key_len, const tsmap_change *local,
                                 const tsmap_change *remote, void *ctx, TSMAP_OUT void *merged) {
  (void)key, (void)key_len, (void)ctx;
  if (!local->value || !remote->value)
    return TSMAP_DELETE;
  int64_t a, b;
  memcpy(&a, local->value, 8);
  memcpy(&b, remote->value, 8);
  int64_t v = (a > b ? a : b) | RESOLVED;
  memcpy(merged, &v, 8);
  return TSMAP_STORE;
}

static int count_visit(const void *k, size_t kl, const void *v, void *ctx) {
  (void)k, (void)kl, (void)v;
  ++*(long *)ctx;
  return 0;
}

static int count_text(const char *text, size_t len, void *ctx) {
  (void)text;
  *(size_t *)ctx += len;
  return 0;
}

/* ---- The operations ------------------------------------------------------------------- */

static int64_t new_id(run *r) {
  int64_t v = r->next_id++;
  if (r->kind == K_WEIGHT && r->step % 17 == 5)
    v |= HEAVY;
  return v;
}

/* The status a store of v should have on key i: TOO_HEAVY, or `otherwise`. */
static tsmap_status store_status(const run *r, int64_t v, tsmap_status otherwise) {
  return (r->kind == K_WEIGHT && (v & HEAVY)) ? TSMAP_TOO_HEAVY : otherwise;
}

static uint64_t ttl_for(const run *r) {
  static const uint64_t ttls[] = {TSMAP_TTL_DEFAULT, TSMAP_TTL_NEVER, 30, 120};
  return ttls[(r->step / 3) % 4];
}

static void op_put(run *r, int i, int with_ttl, int with_old) {
  key_buf k = key_of(r->kind, i);
  int64_t v = new_id(r), old = -1;
  uint64_t ttl = with_ttl ? ttl_for(r) : TSMAP_TTL_DEFAULT;
  tsmap_status st = with_ttl ? tsmap_put_ttl(r->m, k.bytes, k.len, &v, ttl, with_old ? &old : NULL)
                             : tsmap_put(r->m, k.bytes, k.len, &v, with_old ? &old : NULL);
  tsmap_status want = store_status(r, v, visible(r, i) ? TSMAP_REPLACED : TSMAP_OK);
  if (!expect(r, "put", st, L_WRITE, want, 1) || want == TSMAP_TOO_HEAVY)
    return;
  if (st == TSMAP_REPLACED && with_old)
    caller_took(r, i, old, "put old_out");
  model_store(r, i, v, ttl);
}

static void op_put_if_absent(run *r, int i, int with_ttl) {
  key_buf k = key_of(r->kind, i);
  int64_t v = new_id(r), existing = -1;
  uint64_t ttl = with_ttl ? ttl_for(r) : TSMAP_TTL_DEFAULT;
  tsmap_status st = with_ttl ? tsmap_put_if_absent_ttl(r->m, k.bytes, k.len, &v, ttl, &existing)
                             : tsmap_put_if_absent(r->m, k.bytes, k.len, &v, &existing);
  tsmap_status want = store_status(r, v, visible(r, i) ? TSMAP_EXISTS : TSMAP_OK);
  if (!expect(r, "put_if_absent", st, L_PIA, want, 1) || want == TSMAP_TOO_HEAVY)
    return;
  if (st == TSMAP_EXISTS && existing != r->md[i].value)
    report(r, "put_if_absent existing_out", st);
  if (st == TSMAP_OK)
    model_store(r, i, v, ttl);
}

/* remove may say NO_MEMORY in a replicated map (its tombstone) or during a reshard. */
static int remove_may_fail(run *r) {
  size_t n = 0, target = 0;
  tsmap_shard_counts(r->m, &n, &target);
  return replicated(r->kind) || n != target;
}

/* The pointer forms: the value's 8 bytes are the pointer itself (never dereferenced). */
static void op_put_ptr(run *r, int i, int with_ttl, int if_absent) {
  key_buf k = key_of(r->kind, i);
  int64_t v = new_id(r);
  void *p = (void *)(intptr_t)v, *other = NULL;
  uint64_t ttl = with_ttl ? ttl_for(r) : TSMAP_TTL_DEFAULT;
  tsmap_status st;
  if (if_absent)
    st = with_ttl ? tsmap_put_ptr_if_absent_ttl(r->m, k.bytes, k.len, p, ttl, &other)
                  : tsmap_put_ptr_if_absent(r->m, k.bytes, k.len, p, &other);
  else
    st = with_ttl ? tsmap_put_ptr_ttl(r->m, k.bytes, k.len, p, ttl, &other)
                  : tsmap_put_ptr(r->m, k.bytes, k.len, p, &other);
  int was = visible(r, i);
  tsmap_status want = store_status(r, v, !was ? TSMAP_OK : if_absent ? TSMAP_EXISTS
                                                                     : TSMAP_REPLACED);
  const char *what = if_absent ? "put_ptr_if_absent" : "put_ptr";
  if (!expect(r, what, st, if_absent ? L_PIA : L_WRITE, want, 1) || want == TSMAP_TOO_HEAVY)
    return;
  if (st == TSMAP_EXISTS) {
    if ((int64_t)(intptr_t)other != r->md[i].value)
      report(r, "put_ptr_if_absent existing_out", st);
    return;
  }
  if (st == TSMAP_REPLACED)
    caller_took(r, i, (int64_t)(intptr_t)other, "put_ptr old_out");
  model_store(r, i, v, ttl);
}

static void op_remove(run *r, int i, int with_out) {
  key_buf k = key_of(r->kind, i);
  int64_t out = -1;
  int may_fail = remove_may_fail(r);
  tsmap_status st = tsmap_remove(r->m, k.bytes, k.len, with_out ? &out : NULL);
  unsigned list = L_REMOVE | (may_fail ? B(NO_MEMORY) : 0);
  if (!expect(r, "remove", st, list, visible(r, i) ? TSMAP_OK : TSMAP_NOT_FOUND, may_fail))
    return;
  if (st == TSMAP_OK && with_out)
    caller_took(r, i, out, "remove out");
  if (st == TSMAP_OK)
    r->md[i].present = 0;
}

static void op_compute_if_absent(run *r, int i, int with_ttl) {
  key_buf k = key_of(r->kind, i);
  cb_arg a = {new_id(r), TSMAP_STORE, r->step % 11 == 3};
  int64_t out = -1;
  uint64_t ttl = with_ttl ? ttl_for(r) : TSMAP_TTL_DEFAULT;
  tsmap_status st =
      with_ttl ? tsmap_compute_if_absent_ttl(r->m, k.bytes, k.len, cb_absent, &a, ttl, &out)
               : tsmap_compute_if_absent(r->m, k.bytes, k.len, cb_absent, &a, &out);
  int was = visible(r, i);
  tsmap_status want = was ? TSMAP_OK : a.fail ? TSMAP_CALLBACK_FAILED
                                              : store_status(r, a.id, TSMAP_OK);
  if (!expect(r, "compute_if_absent", st, L_CIA, want, 1) || st != TSMAP_OK)
    return;
  if (!was)
    model_store(r, i, a.id, ttl);
  if (out != r->md[i].value)
    report(r, "compute_if_absent value_out", st);
}

/* compute (if_present 0) or compute_if_present (1), with a verdict by step. */
static void op_compute(run *r, int i, int if_present, int with_ttl) {
  static const tsmap_verdict verdicts[] = {TSMAP_STORE, TSMAP_STORE, TSMAP_DELETE, TSMAP_KEEP};
  key_buf k = key_of(r->kind, i);
  cb_arg a = {new_id(r), verdicts[r->step % 4], 0};
  int64_t out = -1;
  uint64_t ttl = with_ttl ? ttl_for(r) : TSMAP_TTL_DEFAULT;
  tsmap_status st;
  if (if_present)
    st = with_ttl ? tsmap_compute_if_present_ttl(r->m, k.bytes, k.len, cb_compute, &a, ttl, &out)
                  : tsmap_compute_if_present(r->m, k.bytes, k.len, cb_compute, &a, &out);
  else
    st = with_ttl ? tsmap_compute_ttl(r->m, k.bytes, k.len, cb_compute, &a, ttl, &out)
                  : tsmap_compute(r->m, k.bytes, k.len, cb_compute, &a, &out);
  int was = visible(r, i);
  tsmap_status want;
  if (!was)
    want = if_present || a.verdict != TSMAP_STORE ? TSMAP_NOT_FOUND
                                                  : store_status(r, a.id, TSMAP_OK);
  else
    want = a.verdict == TSMAP_DELETE  ? TSMAP_REMOVED
           : a.verdict == TSMAP_STORE ? store_status(r, a.id, TSMAP_OK)
                                      : TSMAP_OK;
  const char *what = if_present ? "compute_if_present" : "compute";
  if (!expect(r, what, st, L_COMPUTE, want, 1))
    return;
  if (st == TSMAP_REMOVED)
    r->md[i].present = 0;
  if (st == TSMAP_OK && a.verdict == TSMAP_STORE)
    model_store(r, i, a.id, ttl);
  if (st == TSMAP_OK && out != r->md[i].value)
    report(r, "compute value_out", st);
}

static void op_get(run *r, int i) {
  key_buf k = key_of(r->kind, i);
  int64_t out = -1;
  tsmap_status st = tsmap_get(r->m, k.bytes, k.len, &out);
  if (expect(r, "get", st, L_GET, visible(r, i) ? TSMAP_OK : TSMAP_NOT_FOUND, 0) &&
      st == TSMAP_OK && out != r->md[i].value)
    report(r, "get value", st);
}

static long model_count(const run *r) {
  long n = 0;
  for (int i = 0; i < NKEYS; i++)
    n += visible(r, i);
  return n;
}

static void op_foreach(run *r) {
  long n = 0;
  tsmap_status st = tsmap_foreach(r->m, count_visit, &n);
  if (expect(r, "foreach", st, L_WALK, TSMAP_OK, 1) && n != model_count(r))
    report(r, "foreach count", st);
}

/* ---- Calls from callbacks and visitors, under the same failures ---------------------- */

typedef struct nested {
  run *r;
  int key;     /* the key the callback computes */
  int64_t id;  /* its result */
  long visits; /* visitor: entries visited */
} nested;

/* A compute_if_absent callback that calls the map: its own key (REENTERED) and a put on
 * the next key, whose status and effect the model checks like any put. */
static int cb_absent_calls_the_map(const void *key, size_t key_len, void *ctx,
                                   TSMAP_OUT void *out) {
  nested *n = (nested *)ctx;
  tsmap_status st = tsmap_get(n->r->m, key, key_len, NULL);
  if (st != TSMAP_REENTERED)
    report(n->r, "get of the computed key from its callback", st);
  op_put(n->r, (n->key + 1) % NKEYS, 0, 0); // NOLINT(tsmap-non-idempotent-callback): one run, no contention; the model counts the put
  apply_log(n->r); /* the put's own evictions are not the outer call's */
  memcpy(out, &n->id, 8);
  return 0;
}

static void op_compute_if_absent_nested(run *r, int i) {
  key_buf k = key_of(r->kind, i);
  nested n = {r, i, new_id(r), 0};
  int64_t out = -1;
  int was = visible(r, i);
  tsmap_status st = tsmap_compute_if_absent(r->m, k.bytes, k.len, cb_absent_calls_the_map, &n, &out); // NOLINT(tsmap-non-idempotent-callback): see the callback
  tsmap_status want = was ? TSMAP_OK : store_status(r, n.id, TSMAP_OK);
  if (!expect(r, "compute_if_absent (callback calls the map)", st, L_CIA, want, 1) ||
      st != TSMAP_OK)
    return;
  if (!was)
    model_store(r, i, n.id, TSMAP_TTL_DEFAULT);
  if (out != r->md[i].value)
    report(r, "compute_if_absent (nested) value_out", st);
}

/* A visitor that removes every other entry it visits. */
static int visit_and_remove(const void *key, size_t key_len, const void *v, void *ctx) {
  (void)v;
  nested *n = (nested *)ctx;
  int i = key_index(n->r->kind, key, key_len);
  if (n->visits++ % 2 == 0 && i >= 0)
    op_remove(n->r, i, 0);
  apply_log(n->r);
  return 0;
}

static void op_foreach_removing(run *r) {
  nested n = {r, 0, 0, 0};
  long before = model_count(r);
  tsmap_status st = tsmap_foreach(r->m, visit_and_remove, &n);
  if (expect(r, "foreach (visitor removes)", st, L_WALK, TSMAP_OK, 1) && n.visits != before)
    report(r, "foreach (visitor removes) count", st);
}

static void op_maintain(run *r) {
  tsmap_status st = tsmap_maintain(r->m, r->step % 2 ? 64 : SIZE_MAX);
  expect(r, "maintain", st, L_MAINTAIN, TSMAP_OK, 0);
}

/* ---- Versions (G12) ------------------------------------------------------------------- */

/* The expected version to give: right, ANY, or wrong (by step). */
static uint64_t expected_version(const run *r, int i, int *right) {
  uint64_t cur = visible(r, i) ? r->md[i].version : TSMAP_VERSION_ABSENT;
  switch (r->step % 3) {
  case 0:
    *right = 1;
    return cur;
  case 1:
    *right = 1;
    return TSMAP_VERSION_ANY;
  default:
    *right = 0;
    return cur + 1000;
  }
}

static void check_conflict_version(run *r, int i, uint64_t got, const char *what) {
  if (got != (visible(r, i) ? r->md[i].version : TSMAP_VERSION_ABSENT))
    report(r, what, TSMAP_CONFLICT), fprintf(stderr, "    ^ version_out %" PRIu64 "\n", got);
}

static void op_put_if_version(run *r, int i) {
  key_buf k = key_of(r->kind, i);
  int right;
  uint64_t expected = expected_version(r, i, &right), ver = 0;
  int64_t v = new_id(r), old = -1;
  tsmap_status st = tsmap_put_if_version(r->m, k.bytes, k.len, &v, expected, &ver, &old);
  tsmap_status want = !right ? TSMAP_CONFLICT : visible(r, i) ? TSMAP_REPLACED : TSMAP_OK;
  if (!expect(r, "put_if_version", st, L_WRITE | B(CONFLICT), want, 1))
    return;
  if (st == TSMAP_CONFLICT) {
    check_conflict_version(r, i, ver, "put_if_version conflict");
    return;
  }
  if (st == TSMAP_REPLACED)
    caller_took(r, i, old, "put_if_version old_out");
  model_store(r, i, v, TSMAP_TTL_DEFAULT);
  r->md[i].version = ver;
}

static void op_remove_if_version(run *r, int i) {
  key_buf k = key_of(r->kind, i);
  int right;
  uint64_t expected = expected_version(r, i, &right), ver = 0;
  int64_t out = -1;
  int may_fail = remove_may_fail(r);
  tsmap_status st = tsmap_remove_if_version(r->m, k.bytes, k.len, expected, &ver, &out);
  tsmap_status want = !visible(r, i) && right ? TSMAP_NOT_FOUND
                      : right                 ? TSMAP_OK
                                              : TSMAP_CONFLICT;
  if (!visible(r, i) && expected == TSMAP_VERSION_ABSENT)
    want = TSMAP_NOT_FOUND;
  unsigned list = L_REMOVE | B(CONFLICT) | (may_fail ? B(NO_MEMORY) : 0);
  if (!expect(r, "remove_if_version", st, list, want, may_fail))
    return;
  if (st == TSMAP_CONFLICT)
    check_conflict_version(r, i, ver, "remove_if_version conflict");
  if (st == TSMAP_OK) {
    caller_took(r, i, out, "remove_if_version out");
    r->md[i].present = 0;
    r->md[i].version = ver;
  }
}

static void op_compute_if_version(run *r, int i) {
  key_buf k = key_of(r->kind, i);
  int right;
  uint64_t expected = expected_version(r, i, &right), ver = 0;
  cb_arg a = {new_id(r), r->step % 5 == 4 ? TSMAP_DELETE : TSMAP_STORE, 0};
  int64_t out = -1;
  tsmap_status st = tsmap_compute_if_version(r->m, k.bytes, k.len, expected, cb_compute, &a, &ver,
                                             &out);
  int was = visible(r, i);
  tsmap_status want = !right                          ? TSMAP_CONFLICT
                      : a.verdict == TSMAP_STORE      ? TSMAP_OK
                      : was                           ? TSMAP_REMOVED
                                                      : TSMAP_NOT_FOUND;
  if (!expect(r, "compute_if_version", st, L_COMPUTE | B(CONFLICT), want, 1))
    return;
  if (st == TSMAP_CONFLICT)
    check_conflict_version(r, i, ver, "compute_if_version conflict");
  if (st == TSMAP_REMOVED)
    r->md[i].present = 0;
  if (st == TSMAP_OK) {
    model_store(r, i, a.id, TSMAP_TTL_DEFAULT);
    r->md[i].version = ver;
  }
}

static int count_change(const tsmap_change *c, void *ctx) {
  (void)c;
  ++*(long *)ctx;
  return 0;
}

static void op_feed(run *r) {
  long n = 0;
  uint64_t next = 0;
  tsmap_status st = tsmap_foreach_since(r->m, 0, count_change, &n, &next);
  if (expect(r, "foreach_since", st, L_WALK, TSMAP_OK, 1) && !replicated(r->kind) &&
      n != model_count(r))
    report(r, "foreach_since count", st);
}

/* ---- Replicas (G13) ------------------------------------------------------------------- */

/* An export visitor: each change encoded onto r->wire. */
static int to_wire(const tsmap_change *c, void *ctx) {
  run *r = (run *)ctx;
  size_t len = 0;
  tsmap_status st = tsmap_change_encode(c, 8, NULL, 0, &len); /* the size alone */
  if (st != TSMAP_NO_MEMORY || len == 0)
    report(r, "change_encode (size)", st);
  st = tsmap_change_encode(c, 8, r->wire + r->wire_len,
                                        sizeof r->wire - r->wire_len, &len);
  if (st == TSMAP_OK)
    r->wire_len += len;
  else
    r->wire_full = 1;
  return st != TSMAP_OK;
}

static tsmap_resolve_fn resolver_of(const run *r) {
  return r->kind == K_REPLICA_MAX ? resolve_max : NULL;
}

/* Read key i of the map back into the model (after a merge the model cannot predict). */
static void refresh(run *r, int i) {
  key_buf k = key_of(r->kind, i);
  int64_t v = -1;
  uint64_t ver = 0;
  tsmap_status st = tsmap_get_version(r->m, k.bytes, k.len, &v, &ver);
  r->md[i] = (entry){st == TSMAP_OK, v, 0, ver};
}

/* Merge what is on the wire into `into` (our map: checked against the model). */
static void merge_wire(run *r, tsmap *into) {
  size_t off = 0, used = 0;
  uint64_t clock[TSMAP_MAX_REPLICAS];
  tsmap_change c;
  while (off < r->wire_len) {
    tsmap_status st = tsmap_change_decode(r->wire + off, r->wire_len - off, 8, &c, clock, &used);
    if (st != TSMAP_OK) {
      report(r, "change_decode", st);
      return;
    }
    off += used;
    r->lg->nlog = into == r->m ? 0 : r->lg->nlog;
    int i = key_index(r->kind, c.key, c.key_len);
    int64_t old = -1;
    int with_old = r->step % 2;
    st = tsmap_merge(into, &c, resolver_of(r), NULL, with_old ? &old : NULL);
    if (into != r->m) {
      if (st != TSMAP_OK && st != TSMAP_REPLACED && st != TSMAP_EXISTS)
        report(r, "peer merge", st);
      if (st == TSMAP_REPLACED && with_old)
        r->peer_lg->out[ledger_slot(old)]++;
      continue;
    }
    if (!listed(r, "merge", st, L_MERGE))
      continue;
    if (st != TSMAP_OK && st != TSMAP_REPLACED && st != TSMAP_EXISTS) {
      if (st != TSMAP_NO_MEMORY)
        report(r, "merge", st);
      check_failed_call_hooked_nothing(r, "merge");
      continue;
    }
    if (st == TSMAP_REPLACED && with_old)
      caller_took(r, i, old, "merge old_out");
    if (i >= 0)
      refresh(r, i);
    apply_log(r); /* a bounded replica's merge may evict other keys */
  }
}

/* Export `from` since *since onto the wire; returns the export's status. */
static tsmap_status export_to_wire(run *r, tsmap *from, uint64_t *since) {
  r->wire_len = 0;
  r->wire_full = 0;
  uint64_t next = *since;
  tsmap_status st = tsmap_export(from, *since, to_wire, r, &next);
  if (st == TSMAP_OK)
    *since = next;
  return st;
}

static void op_pull(run *r) { /* the peer's changes into our failing map */
  int was_watching = watching; /* the peer allocates with malloc */
  watching = 0;
  if (export_to_wire(r, r->peer, &r->peer_since) != TSMAP_OK)
    report(r, "peer export", TSMAP_OK);
  watching = was_watching;
  merge_wire(r, r->m);
}

static void op_push(run *r) { /* our changes (export under failure) into the peer */
  tsmap_status st = export_to_wire(r, r->m, &r->since);
  if (listed(r, "export", st, L_WALK) && st != TSMAP_OK && st != TSMAP_NO_MEMORY)
    report(r, "export", st);
  int was_watching = watching; /* the peer allocates with malloc */
  watching = 0;
  merge_wire(r, r->peer);
  watching = was_watching;
}

static void op_peer_write(run *r, int i) {
  key_buf k = key_of(r->kind, i);
  int64_t v = r->peer_next_id++;
  watching = 0; /* the peer allocates with malloc */
  tsmap_status st = r->step % 3 == 0 ? tsmap_remove(r->peer, k.bytes, k.len, NULL)
                                     : tsmap_put(r->peer, k.bytes, k.len, &v, NULL);
  if (st != TSMAP_OK && st != TSMAP_REPLACED && st != TSMAP_NOT_FOUND)
    report(r, "peer write", st);
}

static void op_forget(run *r) {
  uint64_t horizon[2] = {1, 1};
  size_t n = 0;
  tsmap_status st = tsmap_forget(r->m, horizon, 2, &n);
  expect(r, "forget", st, B(OK) | B(CLOSED) | B(INVALID_ARGUMENT), TSMAP_OK, 0);
}

/* ---- Metrics -------------------------------------------------------------------------- */

/* One of the metrics calls by step: an exposition is long, and the runs are many. */
static void op_metrics(run *r) {
  static char text[1 << 17];
  size_t n = 0, len = 0;
  tsmap_status st;
  watching = 1; /* one map's metrics: its allocator's business */
  switch ((r->step / 9) % 5) {
  case 0:
    st = tsmap_metrics_write(r->m, count_text, &n);
    expect(r, "metrics_write", st, L_MX_WRITE, TSMAP_OK, 1);
    break;
  case 1:
    st = tsmap_metrics_format(r->m, text, sizeof text, &len);
    if (expect(r, "metrics_format", st, L_MX_WRITE, TSMAP_OK, 1) &&
        tsmap_test_series_value(text, "tsmap_entries{map=\"rt11-allocfail\"}") != model_count(r))
      report(r, "tsmap_entries differs from the model", st);
    break;
  case 2:
    st = tsmap_metrics_format(r->m, NULL, 0, &len);
    expect(r, "metrics_format (length)", st, L_MX_WRITE, TSMAP_OK, 1);
    break;
  case 3: /* too small: NO_MEMORY, whether or not the snapshot could be had */
    st = tsmap_metrics_format(r->m, text, 16, &len);
    expect(r, "metrics_format (small)", st, L_MX_WRITE, TSMAP_NO_MEMORY, 0);
    break;
  default:
    watching = 0; /* every named map's: no one map's allocator */
    st = tsmap_metrics_write_all(count_text, &n);
    expect(r, "metrics_write_all", st, L_MX_ALL, TSMAP_OK, 1);
  }
  watching = 0;
}

/* ---- Reshard (G15) -------------------------------------------------------------------- */

static void op_reshard(run *r) {
  static const size_t targets[] = {8, 1, 4, 2};
  size_t n0 = 0, t0 = 0, n1 = 0, t1 = 0;
  tsmap_shard_counts(r->m, &n0, &t0);
  tsmap_status st = tsmap_reshard(r->m, targets[(r->step / 29) % 4]);
  tsmap_shard_counts(r->m, &n1, &t1);
  if (expect(r, "reshard", st, L_RESHARD, TSMAP_OK, 1))
    return;
  if (n1 != n0 || t1 != t0) /* no memory: nothing changed, no reshard starts */
    report(r, "reshard changed the shard counts", st);
}

/* ---- A thread's first call ------------------------------------------------------------ */

static void *first_call_thread(void *arg) {
  run *r = (run *)arg;
  r->first_call = 1; /* a read first: its metrics stripe (if metered) is allocated here */
  op_get(r, r->step % NKEYS);
  r->first_call = 0;
  op_put(r, r->step % NKEYS, 0, 1);
  return NULL;
}

static void op_new_thread(run *r) {
  pthread_t t;
  if (pthread_create(&t, NULL, first_call_thread, r) == 0)
    pthread_join(t, NULL);
}

/* ---- The script ----------------------------------------------------------------------- */

enum op {
  OP_PUT, OP_PUT_OLD, OP_PIA, OP_REMOVE, OP_REMOVE_OUT, OP_CIA, OP_COMPUTE, OP_CIP, OP_GET,
  OP_FOREACH, OP_PUT_TTL, OP_PIA_TTL, OP_CIA_TTL, OP_COMPUTE_TTL, OP_CIP_TTL, OP_TICK,
  OP_MAINTAIN, OP_PIV, OP_RIV, OP_CIV, OP_FEED, OP_PULL, OP_PUSH, OP_PEER, OP_FORGET,
  OP_METRICS, OP_RESHARD, OP_THREAD, OP_CIA_NESTED, OP_FOREACH_RM, OP_PUT_PTR, OP_PIA_PTR,
  OP_PUT_PTR_TTL, OP_PIA_PTR_TTL, OP_END
};

/* Each kind's rotation of operations (OP_END-terminated). */
static const enum op *ops_of(int kind) {
  static const enum op plain[] = {OP_PUT, OP_PUT_OLD, OP_CIA, OP_PIA, OP_COMPUTE, OP_PUT,
                                  OP_REMOVE, OP_CIP, OP_GET, OP_PUT, OP_REMOVE_OUT,
                                  OP_FOREACH, OP_CIA_NESTED, OP_PUT_PTR, OP_FOREACH_RM,
                                  OP_PIA_PTR, OP_END};
  static const enum op expiry[] = {OP_PUT_TTL, OP_PUT, OP_CIA_TTL, OP_TICK, OP_PIA_TTL,
                                   OP_COMPUTE_TTL, OP_MAINTAIN, OP_PUT_OLD, OP_CIP_TTL,
                                   OP_REMOVE, OP_TICK, OP_COMPUTE, OP_GET, OP_FOREACH,
                                   OP_PIA, OP_CIA, OP_PUT_PTR_TTL, OP_PIA_PTR_TTL, OP_END};
  static const enum op versions[] = {OP_PIV, OP_PUT, OP_CIV, OP_RIV, OP_PIV, OP_COMPUTE,
                                     OP_REMOVE, OP_CIV, OP_FEED, OP_PIV, OP_GET, OP_END};
  static const enum op versions_meta[] = {OP_PIV, OP_PUT_TTL, OP_CIV, OP_TICK, OP_RIV,
                                          OP_PIV, OP_COMPUTE_TTL, OP_MAINTAIN, OP_CIV,
                                          OP_FEED, OP_PIV, OP_REMOVE, OP_END};
  static const enum op replica[] = {OP_PUT, OP_PEER, OP_PIV, OP_PULL, OP_REMOVE, OP_PEER,
                                    OP_COMPUTE, OP_PUSH, OP_PUT_OLD, OP_PEER, OP_CIA,
                                    OP_PULL, OP_FORGET, OP_RIV, OP_PUSH, OP_END};
  static const enum op metrics[] = {OP_PUT, OP_PUT_OLD, OP_METRICS, OP_CIA, OP_REMOVE,
                                    OP_COMPUTE, OP_PUT, OP_GET, OP_PIA, OP_END};
  static const enum op reshard[] = {OP_PUT, OP_PUT, OP_RESHARD, OP_MAINTAIN, OP_PUT_OLD,
                                    OP_CIA, OP_REMOVE, OP_MAINTAIN, OP_COMPUTE, OP_PIA,
                                    OP_FOREACH, OP_CIP, OP_PUT, OP_REMOVE_OUT, OP_END};
  switch (kind) {
  case K_EXPIRY:
  case K_EXPIRY_BOUND:
  case K_MAINT:
    return expiry;
  case K_VERSIONS:
    return versions;
  case K_VERSIONS_META:
    return versions_meta;
  case K_REPLICA:
  case K_REPLICA_MAX:
  case K_REPLICA_BOUND:
    return replica;
  case K_METRICS:
    return metrics;
  case K_RESHARD:
  case K_RESHARD8:
    return reshard;
  default:
    return plain;
  }
}

static void do_op(run *r, enum op op, int i) {
  switch (op) {
  case OP_PUT: op_put(r, i, 0, 0); break;
  case OP_PUT_OLD: op_put(r, i, 0, 1); break;
  case OP_PIA: op_put_if_absent(r, i, 0); break;
  case OP_REMOVE: op_remove(r, i, 0); break;
  case OP_REMOVE_OUT: op_remove(r, i, 1); break;
  case OP_CIA: op_compute_if_absent(r, i, 0); break;
  case OP_COMPUTE: op_compute(r, i, 0, 0); break;
  case OP_CIP: op_compute(r, i, 1, 0); break;
  case OP_GET: op_get(r, i); break;
  case OP_FOREACH: op_foreach(r); break;
  case OP_PUT_TTL: op_put(r, i, 1, r->step % 2); break;
  case OP_PIA_TTL: op_put_if_absent(r, i, 1); break;
  case OP_CIA_TTL: op_compute_if_absent(r, i, 1); break;
  case OP_COMPUTE_TTL: op_compute(r, i, 0, 1); break;
  case OP_CIP_TTL: op_compute(r, i, 1, 1); break;
  case OP_TICK: r->now += 20; break;
  case OP_MAINTAIN: op_maintain(r); break;
  case OP_PIV: op_put_if_version(r, i); break;
  case OP_RIV: op_remove_if_version(r, i); break;
  case OP_CIV: op_compute_if_version(r, i); break;
  case OP_FEED: op_feed(r); break;
  case OP_PULL: op_pull(r); break;
  case OP_PUSH: op_push(r); break;
  case OP_PEER: op_peer_write(r, (i * 5 + 3) % NKEYS); break;
  case OP_FORGET: op_forget(r); break;
  case OP_METRICS: op_metrics(r); break;
  case OP_RESHARD: op_reshard(r); break;
  case OP_THREAD: op_new_thread(r); break;
  case OP_CIA_NESTED: op_compute_if_absent_nested(r, i); break;
  case OP_FOREACH_RM: op_foreach_removing(r); break;
  case OP_PUT_PTR: op_put_ptr(r, i, 0, 0); break;
  case OP_PIA_PTR: op_put_ptr(r, i, 0, 1); break;
  case OP_PUT_PTR_TTL: op_put_ptr(r, i, 1, 0); break;
  case OP_PIA_PTR_TTL: op_put_ptr(r, i, 1, 1); break;
  case OP_END: break;
  }
}

/* In a versioned map the model learns a write's version from the map: plain writes do not
 * report it. */
static void learn_versions(run *r) {
  if (!versioned(r->kind))
    return;
  for (int i = 0; i < NKEYS; i++) {
    key_buf k = key_of(r->kind, i);
    uint64_t ver = 0;
    if (tsmap_get_version(r->m, k.bytes, k.len, NULL, &ver) == TSMAP_OK)
      r->md[i].version = ver;
  }
}

/* Does the map hold exactly the model? */
static void check_model(run *r) {
  for (int i = 0; i < NKEYS; i++) {
    key_buf k = key_of(r->kind, i);
    int64_t v = -1;
    tsmap_status st = tsmap_get(r->m, k.bytes, k.len, &v);
    int want = visible(r, i);
    if (st != (want ? TSMAP_OK : TSMAP_NOT_FOUND) || (want && v != r->md[i].value)) {
      report(r, "the map differs from the model", st);
      fprintf(stderr, "    ^ key %d: model %s %" PRId64 ", map %" PRId64 "\n", i,
              want ? "holds" : "lacks", r->md[i].value, v);
    }
  }
  size_t n = 0;
  if (!expiring(r->kind) && tsmap_size(r->m, &n) == TSMAP_OK && (long)n != model_count(r))
    report(r, "size differs from the model", TSMAP_OK);
}

static int key_for_step(int step) { return (step * 7 + step / NKEYS) % NKEYS; }

static void script(run *r) {
  const enum op *ops = ops_of(r->kind);
  int nops = 0;
  while (ops[nops] != OP_END)
    nops++;
  for (r->step = 0; r->step < STEPS; r->step++) {
    long failures = r->fa.failures;
    enum op op = r->step == STEPS / 2 ? OP_THREAD : ops[r->step % nops];
    r->lg->nlog = 0;
    heap_calls = 0;
    watching = op != OP_THREAD && op != OP_METRICS; /* see op_metrics */
    do_op(r, op, key_for_step(r->step));
    watching = 0;
    if (heap_calls)
      report(r, "the map called malloc or calloc, not its allocator", TSMAP_OK);
    apply_log(r);
    learn_versions(r);
    if (r->fa.failures != failures || r->step % 16 == 0)
      check_model(r);
  }
}

/* ---- A run: create, script, converge, close, destroy ---------------------------------- */

static void config_for(run *r, tsmap_config *cfg, ledger *lg, const tsmap_allocator *al) {
  tsmap_config_init(cfg, 8);
  cfg->key_size = fixed_keys(r->kind) ? 8 : 0;
  cfg->shard_count = r->kind == K_FIXED8 ? 1 : 2;
  cfg->allocator = al;
  cfg->on_entry_created = on_created;
  cfg->on_entry_evicted = on_evicted;
  cfg->hook_ctx = lg;
  cfg->seed = 11;
  switch (r->kind) {
  case K_MAINT: /* its thread starts and stops with each map, and never ticks */
    cfg->maintain_interval_ns = (uint64_t)3600 * 1000000000u;
    cfg->name = "rt11-allocfail-maint";
    /* fall through */
  case K_EXPIRY_BOUND:
    cfg->max_entries = r->kind == K_EXPIRY_BOUND ? 12 : 0;
    /* fall through */
  case K_EXPIRY:
    cfg->expiry = 1;
    cfg->default_ttl_ns = DEFAULT_TTL;
    cfg->clock = clock_of;
    cfg->clock_ctx = r;
    break;
  case K_BOUND:
    cfg->max_entries = 16;
    break;
  case K_WEIGHT:
    cfg->weight = weigh;
    cfg->max_weight = 24;
    break;
  case K_VERSIONS_META:
    cfg->expiry = 1;
    cfg->default_ttl_ns = DEFAULT_TTL;
    cfg->clock = clock_of;
    cfg->clock_ctx = r;
    cfg->max_entries = 12;
    /* fall through */
  case K_VERSIONS:
    cfg->versions = 1;
    break;
  case K_REPLICA_BOUND:
    cfg->max_entries = 12;
    /* fall through */
  case K_REPLICA:
  case K_REPLICA_MAX:
    cfg->replicas = 2;
    cfg->replica_id = al ? 0 : 1;
    break;
  case K_METRICS:
    cfg->metrics = 1;
    cfg->name = "rt11-allocfail";
    break;
  case K_RESHARD:
    cfg->max_shard_count = 8;
    cfg->reshard_no_helper = 1; /* deterministic allocation counts: no helper thread */
    break;
  case K_RESHARD8:
    cfg->max_shard_count = 8;
    break;
  case K_PLACED:
    cfg->placement = TSMAP_PLACE_INTERLEAVE;
    cfg->initial_capacity = 100; /* larger first tables, at create */
    break;
  }
}

/* The peer (a replica on malloc) and ours exchange everything until both agree. */
static void converge(run *r) {
  for (int round = 0; round < 3; round++) {
    uint64_t zero = 0;
    if (export_to_wire(r, r->m, &zero) != TSMAP_OK)
      report(r, "export (no failure)", TSMAP_OK);
    merge_wire(r, r->peer);
    zero = 0;
    export_to_wire(r, r->peer, &zero);
    merge_wire(r, r->m);
    apply_log(r);
  }
  for (int i = 0; i < NKEYS && r->kind != K_REPLICA_BOUND; i++) { /* bounds are local */
    key_buf k = key_of(r->kind, i);
    int64_t a = -1, b = -1;
    tsmap_status sa = tsmap_get(r->m, k.bytes, k.len, &a);
    tsmap_status sb = tsmap_get(r->peer, k.bytes, k.len, &b);
    if (sa != sb || a != b) {
      report(r, "replicas differ after the failures", sa);
      fprintf(stderr, "    ^ key %d: ours %s %" PRId64 ", peer's %s %" PRId64 "\n", i,
              tsmap_status_name(sa), a, tsmap_status_name(sb), b);
    }
  }
}

/* A named map whose create failed left its name free. */
static void check_name_free(run *r) {
  tsmap_config cfg;
  ledger *lg = calloc(1, sizeof *lg);
  config_for(r, &cfg, lg, NULL);
  tsmap *m = NULL;
  tsmap_status st = tsmap_create(&cfg, &m);
  if (st != TSMAP_OK)
    report(r, "create again after a failed create", st);
  tsmap_destroy(m);
  free(lg);
}

static void make_peer(run *r) {
  tsmap_config cfg;
  config_for(r, &cfg, r->peer_lg, NULL);
  if (tsmap_create(&cfg, &r->peer) != TSMAP_OK)
    report(r, "peer create", TSMAP_OK);
}

static void check_after_destroy(run *r) {
  if (r->fa.live != 0 || r->fa.live_bytes != 0) {
    report(r, "allocations live after destroy", TSMAP_OK);
    fprintf(stderr, "    ^ %ld blocks, %ld bytes\n", (long)r->fa.live, (long)r->fa.live_bytes);
  }
  if (ledger_errors(r->lg, !replicated(r->kind)))
    report(r, "a value did not leave exactly once", TSMAP_OK);
  if (r->peer_lg && ledger_errors(r->peer_lg, 0))
    report(r, "a value did not leave the peer exactly once", TSMAP_OK);
}

/* Close (or destroy alone, which closes) with every allocation failing: still OK, every
 * value evicted once. */
static void end_without_memory(run *r, int close_first) {
  r->fa.fail_rest = 1;
  r->fa.fail_at = r->fa.count;
  heap_calls = 0;
  watching = 1;
  tsmap_status st = close_first ? tsmap_close(r->m) : TSMAP_OK;
  watching = 0;
  expect(r, "close", st, L_CLOSE, TSMAP_OK, 0);
  if (heap_calls)
    report(r, "close called malloc or calloc, not the allocator", st);
  tsmap_destroy(r->m);
}

/* One run with allocation `fail_at` failing (and every later one with fail_rest); returns
 * the allocations the run attempted; problems add to *bad. */
static long run_kind(int kind, long fail_at, int fail_rest, long *bad) {
  run *r = calloc(1, sizeof *r);
  r->kind = kind;
  r->fa.fail_at = fail_at;
  r->fa.fail_rest = fail_rest;
  r->al = (tsmap_allocator){fa_alloc, fa_free, &r->fa};
  r->lg = calloc(1, sizeof *r->lg);
  r->lg->kind = kind;
  r->now = 1000;
  r->next_id = 1;
  r->peer_next_id = PEER_IDS;
  if (replicated(kind)) {
    r->peer_lg = calloc(1, sizeof *r->peer_lg);
    r->peer_lg->kind = kind;
    make_peer(r);
  }
  tsmap_config cfg;
  config_for(r, &cfg, r->lg, &r->al);
  tsmap *sentinel = (tsmap *)(uintptr_t)0x5eed;
  r->m = sentinel;
  heap_calls = 0;
  watching = 1;
  tsmap_status st = tsmap_create(&cfg, &r->m);
  watching = 0;
  if (heap_calls)
    report(r, "create called malloc or calloc, not the allocator", st);
  if (st != TSMAP_OK) {
    if (listed(r, "create", st, L_CREATE) && st != TSMAP_NO_MEMORY)
      report(r, "create", st);
    if (r->m != sentinel)
      report(r, "create touched *map_out", st);
    r->m = NULL;
    if (kind == K_METRICS || kind == K_MAINT)
      check_name_free(r);
  } else {
    script(r);
    long at = r->fa.fail_at, rest = r->fa.fail_rest;
    r->fa.fail_at = -1; /* the failure lifted: a peer converges */
    if (replicated(kind))
      converge(r);
    r->fa.fail_at = at, r->fa.fail_rest = (int)rest;
    end_without_memory(r, fail_at % 2 == 0);
  }
  tsmap_destroy(r->peer);
  check_after_destroy(r);
  long count = r->fa.count;
  *bad += r->bad;
  free(r->peer_lg);
  free(r->lg);
  free(r);
  return count;
}

#ifdef TSMAP_STRESS_SMALL
#define MAX_SINGLE_RUNS 120
#define MAX_REST_RUNS 30
#else
#define MAX_SINGLE_RUNS 600
#define MAX_REST_RUNS 120
#endif

/* Every allocation of kind's script failing alone, then every one from the n-th on. */
static void allocfail_kind(int kind) {
  long bad = 0;
  long total = run_kind(kind, -1, 0, &bad);
  CHECK(bad == 0);
  CHECK(total > 4);
  long step = total / MAX_SINGLE_RUNS + 1, rest_step = total / MAX_REST_RUNS + 1;
  for (long n = 0; n < total; n += step) {
    long b = 0;
    run_kind(kind, n, 0, &b);
    bad += b;
  }
  for (long n = 0; n < total; n += rest_step) {
    long b = 0;
    run_kind(kind, n, 1, &b);
    bad += b;
  }
  CHECK(bad == 0);
  fprintf(stderr, "  %s: %ld allocations in the script, %ld problems\n", kind_names[kind],
          total, bad);
}

static void test_allocfail_plain(void) { allocfail_kind(K_PLAIN); }
static void test_allocfail_fixed8(void) { allocfail_kind(K_FIXED8); }
static void test_allocfail_expiry(void) { allocfail_kind(K_EXPIRY); }
static void test_allocfail_bound(void) { allocfail_kind(K_BOUND); }
static void test_allocfail_weight(void) { allocfail_kind(K_WEIGHT); }
static void test_allocfail_versions(void) { allocfail_kind(K_VERSIONS); }
static void test_allocfail_replica(void) { allocfail_kind(K_REPLICA); }
static void test_allocfail_replica_resolver(void) { allocfail_kind(K_REPLICA_MAX); }
static void test_allocfail_metrics(void) { allocfail_kind(K_METRICS); }
static void test_allocfail_reshard(void) { allocfail_kind(K_RESHARD); }
static void test_allocfail_expiry_bound(void) { allocfail_kind(K_EXPIRY_BOUND); }
static void test_allocfail_reshard8(void) { allocfail_kind(K_RESHARD8); }
static void test_allocfail_placed(void) { allocfail_kind(K_PLACED); }
static void test_allocfail_replica_bound(void) { allocfail_kind(K_REPLICA_BOUND); }
static void test_allocfail_maintenance_thread(void) { allocfail_kind(K_MAINT); }
static void test_allocfail_versions_meta(void) { allocfail_kind(K_VERSIONS_META); }

/* ---- Single flight (G4) when the owner's store fails --------------------------------- */

typedef struct flight {
  tsmap *m;
  fail_alloc *fa;
  _Atomic int started; /* the owner's callback runs */
  _Atomic long runs;   /* callbacks run, owner's and waiter's */
  tsmap_status st;
} flight;

static const char flight_key[] = "a-long-key-of-one-single-flight"; /* its store allocates */

/* The owner's callback: lets the waiter queue up, then makes every allocation fail, so its
 * own store (the long key's block) fails. */
static int cb_owner(const void *key, size_t key_len, void *ctx, TSMAP_OUT void *out) {
  (void)key, (void)key_len;
  flight *f = (flight *)ctx;
  f->runs++; // NOLINT(tsmap-non-idempotent-callback): counts the runs the test expects
  f->started = 1; // NOLINT(tsmap-non-idempotent-callback): a signal to the waiter's thread
  struct timespec nap = {0, 50 * 1000 * 1000};
  nanosleep(&nap, NULL); /* the waiter finds the flight in progress */
  f->fa->fail_rest = 1;
  f->fa->fail_at = f->fa->count; // NOLINT(tsmap-non-idempotent-callback): arms the failure once
  int64_t v = 1;
  memcpy(out, &v, 8);
  return 0;
}

static int cb_waiter(const void *key, size_t key_len, void *ctx, TSMAP_OUT void *out) {
  (void)key, (void)key_len;
  flight *f = (flight *)ctx;
  f->runs++; // NOLINT(tsmap-non-idempotent-callback): counts the runs the test expects
  int64_t v = 2;
  memcpy(out, &v, 8);
  return 0;
}

static void *flight_waiter(void *arg) {
  flight *f = (flight *)arg;
  while (!f->started)
    tsmap_test_pause();
  int64_t out = 0;
  f->st = tsmap_compute_if_absent(f->m, flight_key, sizeof flight_key - 1, cb_waiter, f, &out); // NOLINT(tsmap-non-idempotent-callback): see cb_waiter
  return NULL;
}

/* G4 with G1: the owner's store fails for memory while another caller waits for it. The
 * owner returns TSMAP_NO_MEMORY and its result is hooked DISCARDED; the waiter runs its
 * own callback (whose store fails too); the key stays absent; once memory is back the key
 * is computed; every value in and out once, nothing live after destroy. */
static void test_single_flight_owner_without_memory(void) {
  fail_alloc fa = {0, -1, 0, 0, 0, 0};
  tsmap_allocator al = {fa_alloc, fa_free, &fa};
  memset(&tsmap_test_hooks, 0, sizeof tsmap_test_hooks);
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.allocator = &al;
  tsmap_test_count_hooks(&cfg);
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  if (!m)
    return;
  flight f = {m, &fa, 0, 0, TSMAP_OK};
  pthread_t t;
  pthread_create(&t, NULL, flight_waiter, &f);
  int64_t out = 0;
  tsmap_status st = tsmap_compute_if_absent(m, flight_key, sizeof flight_key - 1, cb_owner, &f, &out); // NOLINT(tsmap-non-idempotent-callback): see cb_owner
  pthread_join(t, NULL);
  CHECK_ST(st, TSMAP_NO_MEMORY);
  CHECK(f.st == TSMAP_NO_MEMORY || f.st == TSMAP_OK);
  if (f.st != TSMAP_NO_MEMORY)
    fprintf(stderr, "  the waiter: %s\n", tsmap_status_name(f.st));
  CHECK(f.runs == 2 || (f.runs == 1 && f.st == TSMAP_NO_MEMORY)); /* ran its own, or its record failed */
  CHECK(tsmap_test_hooks.created == 0);
  CHECK(tsmap_test_hooks.evicted[TSMAP_EVICT_DISCARDED] == f.runs);
  fa.fail_at = -1;
  CHECK_ST(tsmap_get(m, flight_key, sizeof flight_key - 1, NULL), TSMAP_NOT_FOUND);
  CHECK_ST(tsmap_compute_if_absent(m, flight_key, sizeof flight_key - 1, cb_waiter, &f, &out), TSMAP_OK); // NOLINT(tsmap-non-idempotent-callback): see cb_waiter
  CHECK(out == 2);
  tsmap_destroy(m);
  CHECK(tsmap_test_hooks.created == 1 && tsmap_test_hooks.evicted[TSMAP_EVICT_CLOSED] == 1);
  CHECK(fa.live == 0 && fa.live_bytes == 0);
}

/* ---- A weighted store that must evict more than 16 (G11 (c)) -------------------------- */

static uint64_t weigh_low_byte(const void *key, size_t key_len, const void *value, void *ctx) {
  (void)key, (void)key_len, (void)ctx;
  int64_t v;
  memcpy(&v, value, 8);
  return (uint64_t)(v & 0xff);
}

/* One overwrite of key 0 with weight 60 in a one-shard map of 40 entries of weight 1 and
 * max_weight 64: it must evict 35 others. Allocation n of the overwrite failing: TSMAP_OK,
 * or TSMAP_NO_MEMORY with 0, 16 or 32 entries gone (the header's one exception: records
 * are allocated 16 at a time), each hooked once; the map holds exactly the rest. */
static long weighted_overwrite_run(long n, int rest, long *calls_allocs) {
  fail_alloc fa = {0, -1, 0, 0, 0, 0};
  tsmap_allocator al = {fa_alloc, fa_free, &fa};
  memset(&tsmap_test_hooks, 0, sizeof tsmap_test_hooks);
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.key_size = 8;
  cfg.shard_count = 1;
  cfg.allocator = &al;
  cfg.weight = weigh_low_byte;
  cfg.max_weight = 64;
  tsmap_test_count_hooks(&cfg);
  tsmap *m = NULL;
  long bad = tsmap_create(&cfg, &m) != TSMAP_OK;
  for (uint64_t k = 0; !bad && k < 40; k++) {
    int64_t v = (int64_t)(k << 8) | 1;
    bad += tsmap_put(m, &k, 8, &v, NULL) != TSMAP_OK;
  }
  if (bad) {
    tsmap_destroy(m);
    return bad;
  }
  long before = fa.count;
  fa.fail_at = n >= 0 ? before + n : -1;
  fa.fail_rest = rest;
  uint64_t k0 = 0;
  int64_t heavy = 60, old = 0;
  tsmap_status st = tsmap_put(m, &k0, 8, &heavy, &old);
  *calls_allocs = fa.count - before;
  fa.fail_at = -1;
  long gone = tsmap_test_hooks.evicted[TSMAP_EVICT_CAPACITY];
  size_t size = 0;
  tsmap_size(m, &size);
  int64_t now = 0;
  tsmap_get(m, &k0, 8, &now);
  if (st == TSMAP_REPLACED)
    bad += gone != 35 || now != 60 || old != 1 || (long)size != 40 - gone;
  else if (st == TSMAP_NO_MEMORY)
    bad += (gone != 0 && gone != 16 && gone != 32) || now != 1 || (long)size != 40 - gone;
  else
    bad++;
  if (bad)
    fprintf(stderr, "  allocation %ld%s of the overwrite failing: %s, %ld evicted, %zu left\n",
            n, rest ? " on" : "", tsmap_status_name(st), gone, size);
  tsmap_destroy(m);
  long left = tsmap_test_hooks.evicted[TSMAP_EVICT_CAPACITY] +
              tsmap_test_hooks.evicted[TSMAP_EVICT_CLOSED] + (st == TSMAP_REPLACED); /* old_out */
  bad += left != tsmap_test_hooks.created || fa.live != 0;
  return bad;
}

static void test_weighted_store_evicting_more_than_16_without_memory(void) {
  long allocs = 0, bad = weighted_overwrite_run(-1, 0, &allocs);
  CHECK(allocs >= 3); /* 35 records, 16 at a time */
  for (long n = 0; n <= allocs; n++) {
    long ignored;
    bad += weighted_overwrite_run(n, 0, &ignored) + weighted_overwrite_run(n, 1, &ignored);
  }
  CHECK(bad == 0);
}

/* The header lists the tables among what the allocator provides: a map created to hold
 * 1,024 8-byte entries without growing holds their 16 KiB in blocks of its allocator. */
static void test_tables_come_from_the_allocator(void) {
  for (int fixed = 0; fixed < 2; fixed++) {
    fail_alloc fa = {0, -1, 0, 0, 0, 0};
    tsmap_allocator al = {fa_alloc, fa_free, &fa};
    tsmap_config cfg;
    tsmap_config_init(&cfg, 8);
    cfg.key_size = fixed ? 8 : 0;
    cfg.shard_count = 2;
    cfg.initial_capacity = 1024;
    cfg.allocator = &al;
    tsmap *m = NULL;
    CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
    CHECK(fa.live_bytes >= 1024 * 16);
    if (fa.live_bytes < 1024 * 16)
      fprintf(stderr, "  key_size %zu: the allocator holds %ld bytes\n", cfg.key_size,
              (long)fa.live_bytes);
    tsmap_destroy(m);
    CHECK(fa.live == 0 && fa.live_bytes == 0);
  }
}

TEST_MAIN(T(test_allocfail_plain), T(test_allocfail_fixed8), T(test_allocfail_expiry),
          T(test_allocfail_bound), T(test_allocfail_weight), T(test_allocfail_versions),
          T(test_allocfail_replica), T(test_allocfail_replica_resolver),
          T(test_allocfail_metrics), T(test_allocfail_reshard), T(test_allocfail_expiry_bound),
          T(test_allocfail_reshard8), T(test_allocfail_placed), T(test_allocfail_replica_bound),
          T(test_allocfail_maintenance_thread), T(test_allocfail_versions_meta),
          T(test_single_flight_owner_without_memory),
          T(test_weighted_store_evicting_more_than_16_without_memory),
          T(test_tables_come_from_the_allocator))
