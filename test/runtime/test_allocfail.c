/*
 * test_allocfail.c - allocation-failure injection (G1): a counting allocator fails the
 * n-th allocation (or every allocation from the n-th on); for every n up to the number
 * of allocations a scripted workload makes, each call returns its normal status or
 * TSMAP_NO_MEMORY, the map still equals a sequential model afterwards, hooks balance,
 * and after destroy no byte is left allocated.
 */
#include "tsmap_test.h"

#include <pthread.h>
#include <stdint.h>

typedef struct fail_alloc {
  long count;      /* allocations attempted */
  long fail_at;    /* the first allocation to fail (-1: never) */
  int fail_rest;   /* fail every allocation from fail_at on */
  long live;       /* allocations not yet freed */
  size_t live_bytes;
  long failures;
} fail_alloc;

static void *fa_alloc(size_t size, void *ctx) {
  fail_alloc *a = (fail_alloc *)ctx;
  long n = a->count++;
  if (a->fail_at >= 0 && (n == a->fail_at || (a->fail_rest && n > a->fail_at))) {
    a->failures++;
    return NULL;
  }
  void *p = malloc(size);
  if (p) {
    a->live++;
    a->live_bytes += size;
  }
  return p;
}

static void fa_free(void *p, size_t size, void *ctx) {
  fail_alloc *a = (fail_alloc *)ctx;
  a->live--;
  a->live_bytes -= size;
  free(p);
}

#ifdef TSMAP_STRESS_SMALL
#define NKEYS 160
#else
#define NKEYS 400
#endif

typedef struct model {
  int present[NKEYS];
  int64_t value[NKEYS];
  long created, left; /* hook / caller accounting */
} model;

static void key_of(int i, char *buf, size_t *len) {
  int n = snprintf(buf, 64, i % 4 == 0 ? "a-long-key-number-%d-xxxxxxxx" : "k%d", i);
  *len = (size_t)n;
}

static void on_created(const void *k, size_t kl, const void *v, void *ctx) {
  (void)k, (void)kl, (void)v;
  ((model *)ctx)->created++;
}

static void on_evicted(const void *k, size_t kl, void *v, tsmap_evict_reason why, void *ctx) {
  (void)k, (void)kl, (void)v;
  if (why != TSMAP_EVICT_DISCARDED)
    ((model *)ctx)->left++;
}

static int cb_make(const void *key, size_t key_len, void *ctx, TSMAP_OUT void *out) {
  (void)key, (void)ctx;
  int64_t v = (int64_t)key_len * 1000;
  memcpy(out, &v, 8);
  return 0;
}

static tsmap_verdict cb_double(const void *key, size_t key_len, const void *old, void *ctx,
                               TSMAP_OUT void *out) {
  (void)key, (void)key_len, (void)ctx;
  int64_t v = old ? 0 : 5;
  if (old)
    memcpy(&v, old, 8);
  v = v * 2 + 1;
  memcpy(out, &v, 8);
  return TSMAP_STORE;
}

/* Does the map hold exactly the model? */
static int map_equals_model(tsmap *m, const model *md) {
  char k[64];
  size_t kl;
  for (int i = 0; i < NKEYS; i++) {
    int64_t v = 0;
    key_of(i, k, &kl);
    tsmap_status st = tsmap_get(m, k, kl, &v);
    if (st != (md->present[i] ? TSMAP_OK : TSMAP_NOT_FOUND) || (md->present[i] && v != md->value[i]))
      return 0;
  }
  return 1;
}

/* One scripted operation on key i; updates the model from the status. Returns 1 if the
 * status was acceptable. */
static int scripted_op(tsmap *m, model *md, int step) {
  int i = (step * 7) % NKEYS;
  char k[64];
  size_t kl;
  key_of(i, k, &kl);
  int64_t v = step, out = 0;
  tsmap_status st;
  switch (step % 5) {
  case 0:
  case 1:
    st = tsmap_put(m, k, kl, &v, NULL);
    if (st == TSMAP_OK || st == TSMAP_REPLACED) {
      if ((st == TSMAP_REPLACED) != md->present[i])
        return 0;
      md->present[i] = 1;
      md->value[i] = v;
    }
    break;
  case 2:
    st = tsmap_compute_if_absent(m, k, kl, cb_make, NULL, &out);
    if (st == TSMAP_OK) {
      if (!md->present[i])
        md->value[i] = (int64_t)kl * 1000;
      md->present[i] = 1;
      if (out != md->value[i])
        return 0;
    }
    break;
  case 3:
    st = tsmap_compute(m, k, kl, cb_double, NULL, &out);
    if (st == TSMAP_OK) {
      md->value[i] = md->present[i] ? md->value[i] * 2 + 1 : 11;
      md->present[i] = 1;
    }
    break;
  default:
    st = tsmap_remove(m, k, kl, &out);
    if (st == TSMAP_OK) {
      if (!md->present[i] || out != md->value[i])
        return 0;
      md->present[i] = 0;
      md->left++; /* caller-owned removal */
    } else if (st == TSMAP_NOT_FOUND && md->present[i]) {
      return 0;
    }
    break;
  }
  return st != TSMAP_INVALID_ARGUMENT && st != TSMAP_CLOSED && st != TSMAP_REENTERED;
}

static int visit_nothing(const void *k, size_t kl, const void *v, void *ctx) {
  (void)k, (void)kl, (void)v;
  ++*(long *)ctx;
  return 0;
}

/* Run the script with allocation `fail_at` failing; returns allocations attempted. */
static long run_script(long fail_at, int fail_rest, int *bad) {
  fail_alloc fa = {0, fail_at, fail_rest, 0, 0, 0};
  tsmap_allocator al = {fa_alloc, fa_free, &fa};
  static model md;
  memset(&md, 0, sizeof md);
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.shard_count = 2;
  cfg.allocator = &al;
  cfg.on_entry_created = on_created;
  cfg.on_entry_evicted = on_evicted;
  cfg.hook_ctx = &md;
  tsmap *m = NULL;
  tsmap_status st = tsmap_create(&cfg, &m);
  if (st != TSMAP_OK) {
    *bad += st != TSMAP_NO_MEMORY || fa.live != 0 || m != NULL;
    return fa.count;
  }
  for (int step = 0; step < NKEYS * 4; step++) {
    if (!scripted_op(m, &md, step))
      (*bad)++;
    if (fa.failures && step % 97 == 0 && !map_equals_model(m, &md))
      (*bad)++;
  }
  long visited = 0;
  st = tsmap_foreach(m, visit_nothing, &visited);
  *bad += !(st == TSMAP_OK || st == TSMAP_NO_MEMORY);
  if (!map_equals_model(m, &md))
    (*bad)++;
  tsmap_destroy(m);
  if (fa.live != 0 || fa.live_bytes != 0 || md.created != md.left) {
    fprintf(stderr, "  fail_at %ld: %ld blocks (%zu bytes) leaked, created %ld left %ld\n",
            fail_at, fa.live, fa.live_bytes, md.created, md.left);
    (*bad)++;
  }
  return fa.count;
}

static void test_g1_every_allocation_failure_is_a_status(void) {
  int bad = 0;
  long total = run_script(-1, 0, &bad);
  CHECK(bad == 0);
  CHECK(total > 20);
  long step = total > 400 ? total / 400 : 1; /* at most ~400 single-failure runs */
  for (long n = 0; n < total; n += step) {
    int b = 0;
    run_script(n, 0, &b);
    if (b)
      fprintf(stderr, "  single failure at allocation %ld: %d problems\n", n, b);
    bad += b;
  }
  CHECK(bad == 0);
  fprintf(stderr, "  %ld allocations in the script\n", total);
}

static void test_g1_failures_from_then_on(void) {
  int bad = 0, runs = 0;
  long total = run_script(-1, 0, &bad);
  for (long n = 0; n < total; n += total / 50 + 1, runs++)
    run_script(n, 1, &bad);
  CHECK(runs > 10);
  CHECK(bad == 0);
}

/* ---- A thread's first call ------------------------------------------------------------ */

/* ebr.c: while set, a thread's registration fails as if its record could not be had. */
extern _Atomic int tsmap_debug_fail_thread_records;

typedef struct first_call {
  tsmap *m;
  size_t key_len;
  int ttl;       /* the map expires (and is bounded): the *_ttl forms are called too */
  long runs;     /* callbacks run */
  int bad;       /* a status other than TSMAP_NO_MEMORY while records fail */
  int recovered; /* the thread's next call, records available again, worked */
} first_call;

static int cb_count_make(const void *key, size_t key_len, void *ctx, TSMAP_OUT void *out) {
  (void)key, (void)key_len;
  ((first_call *)ctx)->runs++;
  memset(out, 0, 8);
  return 0;
}

static tsmap_verdict cb_count_delete(const void *key, size_t key_len, const void *old,
                                     void *ctx, TSMAP_OUT void *out) {
  (void)key, (void)key_len, (void)old, (void)out;
  ((first_call *)ctx)->runs++;
  return TSMAP_DELETE;
}

/* Each of the `n` first-call statuses in `st` must be TSMAP_NO_MEMORY. */
static void expect_no_memory(first_call *f, const tsmap_status *st, size_t n, const char *what) {
  for (size_t i = 0; i < n; i++)
    if (st[i] != TSMAP_NO_MEMORY) {
      fprintf(stderr, "  first call %s %zu: %s, expected TSMAP_NO_MEMORY\n", what, i,
              tsmap_status_name(st[i]));
      f->bad++;
    }
}

/* Every keyed call of a thread with no record, on a present key `k` and an absent one. */
static void *first_calls(void *arg) {
  first_call *f = (first_call *)arg;
  unsigned char k[8] = "present", a[8] = "absent!";
  static int64_t obj; /* what the put_ptr calls would publish (they fail first) */
  int64_t v = 9, out = 0;
  void *p = NULL;
  tsmap_status st[] = {
      tsmap_get(f->m, k, f->key_len, &out),
      tsmap_get(f->m, a, f->key_len, &out),
      tsmap_put(f->m, k, f->key_len, &v, NULL),
      tsmap_put(f->m, a, f->key_len, &v, &out),
      tsmap_put_if_absent(f->m, a, f->key_len, &v, NULL),
      tsmap_put_ptr(f->m, a, f->key_len, &obj, &p),
      tsmap_put_ptr_if_absent(f->m, a, f->key_len, &obj, &p),
      tsmap_remove(f->m, k, f->key_len, NULL),
      tsmap_remove(f->m, k, f->key_len, &out),
      tsmap_compute_if_absent(f->m, a, f->key_len, cb_count_make, f, &out), // NOLINT(tsmap-non-idempotent-callback): counts runs (none)
      tsmap_compute_if_present(f->m, k, f->key_len, cb_count_delete, f, &out), // NOLINT(tsmap-non-idempotent-callback): counts runs (none)
      tsmap_compute(f->m, k, f->key_len, cb_count_delete, f, &out), // NOLINT(tsmap-non-idempotent-callback): counts runs (none)
  };
  expect_no_memory(f, st, sizeof st / sizeof st[0], "");
  if (f->ttl) { /* G10: the same contract as the calls without the suffix */
    tsmap_status tt[] = {
        tsmap_put_ttl(f->m, k, f->key_len, &v, 5, NULL),
        tsmap_put_ttl(f->m, a, f->key_len, &v, 5, &out),
        tsmap_put_if_absent_ttl(f->m, a, f->key_len, &v, 5, NULL),
        tsmap_put_ptr_ttl(f->m, a, f->key_len, &obj, 5, &p),
        tsmap_put_ptr_if_absent_ttl(f->m, a, f->key_len, &obj, 5, &p),
        tsmap_compute_if_absent_ttl(f->m, a, f->key_len, cb_count_make, f, 5, &out), // NOLINT(tsmap-non-idempotent-callback): counts runs (none)
        tsmap_compute_if_present_ttl(f->m, k, f->key_len, cb_count_delete, f, 5, &out), // NOLINT(tsmap-non-idempotent-callback): counts runs (none)
        tsmap_compute_ttl(f->m, k, f->key_len, cb_count_delete, f, 5, &out), // NOLINT(tsmap-non-idempotent-callback): counts runs (none)
    };
    expect_no_memory(f, tt, sizeof tt / sizeof tt[0], "_ttl");
  }
  size_t n = 0; /* whole-map calls need no record */
  f->bad += tsmap_size(f->m, &n) != TSMAP_OK || n != 1;
  f->bad += tsmap_maintain(f->m, 64) != TSMAP_OK;
  atomic_store(&tsmap_debug_fail_thread_records, 0);
  f->recovered = tsmap_get(f->m, k, f->key_len, &out) == TSMAP_OK && out == 7;
  return NULL;
}

/* G1 for a thread's first call: with its record impossible to allocate, every keyed call
 * returns TSMAP_NO_MEMORY, runs no callback or hook and changes nothing; whole-map calls
 * work; once a record can be had, the thread's next call works. The fixed 8-byte map
 * takes the specialised get and put, which hand a thread with no record to the generic
 * path; the third map expires and is bounded (G10, G11: the meta get, the *_ttl forms). */
static void test_g1_first_call_of_a_thread_without_a_record(void) {
  for (int kind = 0; kind < 3; kind++) {
    int fixed = kind != 0, meta = kind == 2;
    model md;
    memset(&md, 0, sizeof md);
    tsmap_config cfg;
    tsmap_config_init(&cfg, 8);
    cfg.key_size = fixed ? 8 : 0;
    cfg.on_entry_created = on_created;
    cfg.on_entry_evicted = on_evicted;
    cfg.hook_ctx = &md;
    cfg.expiry = meta;
    cfg.max_entries = meta ? 64 : 0;
    tsmap *m = NULL;
    CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
    if (!m)
      return;
    first_call f = {m, fixed ? 8 : 7, meta, 0, 0, 0};
    int64_t seven = 7;
    CHECK_ST(tsmap_put(m, "present", f.key_len, &seven, NULL), TSMAP_OK); /* main: has one */
    atomic_store(&tsmap_debug_fail_thread_records, 1);
    pthread_t t;
    pthread_create(&t, NULL, first_calls, &f);
    pthread_join(t, NULL);
    atomic_store(&tsmap_debug_fail_thread_records, 0);
    CHECK(f.bad == 0);
    CHECK(f.recovered);
    CHECK(f.runs == 0);
    CHECK(md.created == 1 && md.left == 0);
    int64_t v = 0;
    CHECK_ST(tsmap_get(m, "absent!", f.key_len, &v), TSMAP_NOT_FOUND);
    CHECK_ST(tsmap_get(m, "present", f.key_len, &v), TSMAP_OK);
    CHECK(v == 7);
    CHECK_ST(tsmap_destroy(m), TSMAP_OK);
  }
}

/* G10 with G1: a remove that meets its key's expired, unreclaimed entry tries to queue its
 * TSMAP_EVICT_EXPIRED record (DESIGN E2); when that allocation fails the key is still
 * absent, so the remove returns TSMAP_NOT_FOUND (it returned TSMAP_NO_MEMORY until
 * black-box round 7) and leaves the entry for a later reclaim, which hooks it once. */
static uint64_t g_rm_now = 100;
static uint64_t rm_clock(void *ctx) {
  (void)ctx;
  return g_rm_now;
}

static void test_g10_remove_of_an_expired_key_without_memory(void) {
  fail_alloc fa = {0, -1, 0, 0, 0, 0};
  tsmap_allocator al = {fa_alloc, fa_free, &fa};
  model md;
  memset(&md, 0, sizeof md);
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.key_size = 8;
  cfg.expiry = 1;
  cfg.clock = rm_clock;
  cfg.allocator = &al;
  cfg.on_entry_created = on_created;
  cfg.on_entry_evicted = on_evicted;
  cfg.hook_ctx = &md;
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  if (!m)
    return;
  uint64_t k = 7;
  int64_t v = 1;
  CHECK_ST(tsmap_put_ttl(m, &k, 8, &v, 10, NULL), TSMAP_OK);
  g_rm_now += 10;
  CHECK_ST(tsmap_get(m, &k, 8, &v), TSMAP_NOT_FOUND);
  fa.fail_at = fa.count;
  fa.fail_rest = 1;
  CHECK_ST(tsmap_remove(m, &k, 8, NULL), TSMAP_NOT_FOUND); /* absent: allocates nothing */
  CHECK(md.created == 1 && md.left == 0); /* the expired value stays for a later reclaim */
  fa.fail_at = -1;
  CHECK_ST(tsmap_remove(m, &k, 8, NULL), TSMAP_NOT_FOUND);
  CHECK_ST(tsmap_destroy(m), TSMAP_OK);
  CHECK(md.created == 1 && md.left == 1);
  CHECK(fa.live == 0 && fa.live_bytes == 0);
}

TEST_MAIN(T(test_g1_every_allocation_failure_is_a_status), T(test_g1_failures_from_then_on),
          T(test_g1_first_call_of_a_thread_without_a_record),
          T(test_g10_remove_of_an_expired_key_without_memory))
