/*
 * test_first_use.c - first-use races (black-box round 15): what a process initialises on
 * its first call of a kind races with nothing, even when two threads make that first
 * call at the same moment.
 *
 * A race of that class shows only in a fresh process, and only when two threads arrive
 * at once: an independent tester's `static size_t page` (test_firstgrowth.c) was
 * reported by ThreadSanitizer in about a third of fresh processes. So the driver (main
 * without arguments) runs every scenario below in many fresh processes: it forks and
 * execs /proc/self/exe with `--child <scenario>`, so that each child starts with nothing
 * of the library initialised. In a child, 2 to 5 threads wait at a gate and then make
 * their first call of the scenario's kind at once; the child exits non-zero on any wrong
 * result, and under a sanitizer on its first report (halt_on_error, exitcode 66; the
 * driver also fails a child whose stderr holds a report). The driver names the scenario
 * and the child that failed, with that child's stderr. Run one scenario's children with
 * `tsmap_rt_first_use <scenario>...`, one child with `--child <scenario>`;
 * TSMAP_FIRST_USE_CHILDREN overrides how many children each scenario gets, and
 * TSMAP_FIRST_USE_ALL=1 runs them all after a failure (to count how many fail).
 *
 * Mutation check (step 3 of the round): tsmap_page_size's cache (tables.c) made a plain
 * lazily set `static size_t page` again, as it was before test_firstgrowth.c, is caught
 * by runtime.tsan.first_use in its first scenario: with TSMAP_FIRST_USE_ALL=1 and 32
 * children each, create_plain, _metered, _expiring, _versioned, _maintained and
 * fork_vs_first_create failed in 32 of 32 children, create_numa 19, create_bounded 17,
 * create_replicated 17, create_named 15, named_vs_write_all 14 (each first create maps
 * its shard array, whose length is rounded to the page). first_growth does not catch it:
 * create has read the page size by then (so test_firstgrowth.c no longer can either).
 *
 * Found by it (fixed in runtime/src; each scenario is the fix's regression test): a fork
 * while a reshard_auto map's writers reached their first policy window left the child a
 * shard lock held for ever (auto_reshard_vs_fork: 4 of 8 forked children hung, plain
 * build). And a fork while another thread ran the library's one-time setup (its
 * pthread_once, on the process's first tsmap_create) left the once in progress in the
 * child for ever under TSan: fork_vs_first_create's forked children hung in 14 of 64.
 * The setup now runs when the library is loaded (ebr.c).
 * And a fork while another thread gave a freed small table back to its map's slab (under
 * the slab's lock, with no shard lock held) left the child that lock held: first_fork's
 * children hung writing in 2 of 600 under TSan (and once in 24 in a loaded ctest run);
 * fork_vs_small_tables, made for it, in 2 of 16 plain and 2 of 16 under TSan. Fork's
 * prepare handler now takes each map's slab lock too (fork.c).
 *
 * ---- The process-global and lazily initialised state of runtime/src, and what makes it
 * safe (audited for this round; "once" = pthread_once, "lock" = the mutex named). There
 * is no section on threads in runtime/DESIGN.md: the table lives here, beside its test.
 *
 *  ebr.c      g_once, g_thread_key          once, run at load by a constructor (and
 *                                           tsmap_ebr_init, called by tsmap_create and
 *                                           every thread's registration, finds it done)
 *             tsmap_ebr_fence_mode (int)    written only inside that once; read by a thread
 *                                           only after its own ebr_init (create, or the
 *                                           registration that gave it a record)
 *             getenv("TSMAP_NO_MEMBARRIER") inside the once; membarrier registration too
 *             tsmap_global_epoch            atomic
 *             g_threads (record list)       atomic push (CAS), never unlinked; a record
 *                                           is claimed by CAS on its in_use
 *             g_thread_ids                  atomic fetch_add (a record keeps its id)
 *             tsmap_tls_self                __thread: the thread's own
 *             tsmap_debug_fail_thread_records  test hook, atomic
 *  fork.c     tsmap_fork_once               once (pthread_atfork registered once, from
 *                                           ebr's once, before any thread of ours)
 *             tsmap_fork_registered         written inside that once, read after it
 *             tsmap_fork_list, _registry_held  lock (tsmap_fork_mu)
 *             tsmap_fork_mu, tsmap_fork_rw  static initialisers; made new in the child
 *  tables.c   page (tsmap_page_size)        atomic; every racer stores the same value
 *  lifecycle.c sysconf(_SC_NPROCESSORS_ONLN), sysconf(_SC_PHYS_PAGES)  read per create
 *             into locals: no cache
 *             status names                  const
 *  hash.c     tsmap_random_seed             getrandom per create, into the map: no cache
 *  metrics.c  g_registry (named maps)       lock (g_registry_lock, static initialiser)
 *             g_writing_all                 _Thread_local
 *             g_next_id                     atomic fetch_add
 *             tsmap_mx_track_mask           test hook, atomic
 *             k_* tables                    const
 *             a map's stripes[id]           atomic pointer; only the record that has id
 *                                           stores it (ids are unique, records are
 *                                           claimed by CAS); ids past TSMAP_MX_STRIPES
 *                                           share the overflow stripe (atomic adds)
 *  compute.c  g_wait_lock                   static initialiser; made new in the child
 *  bound.c    tsmap_read_rng/_skip/_gap     __thread
 *  topology.c, placement.c  the NUMA topology  read per create (and per
 *             tsmap_numa_node_count) into memory of that call: no cache
 *             tsmap_place_fail_errno        test hook, atomic
 *  reshard.c  a map's rs (reshard state)    made on the map's first reshard call:
 *                                           published by CAS, the loser frees its own;
 *                                           a reshard_auto map's by tsmap_create (its
 *                                           policy runs under a shard lock: see
 *                                           auto_reshard_vs_fork)
 *             tsmap_test_before_reshard_route  test hook, atomic
 *  reshard_mem.c a map's helper thread      started under the state's mutex (running,
 *                                           joinable); its CPU set written before
 *                                           pthread_create, which orders it
 *             sysconf(_SC_NPROCESSORS_CONF) per call, no cache
 *             tsmap_test_rsmem_no_thread, _no_mapping  test hooks, atomic
 *  expiry.c   a map's maintenance thread    started by create (tsmap_maint_start) before
 *                                           the map is returned, joined at close
 *  probes.h   USDT probes                   no semaphores: no state of their own
 *
 * The scenarios and their children (8-40 each, plain and TSan; half under ASan+UBSan) are
 * in k_scenarios.
 */
#include "tsmap_test.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* ASan+UBSan children get half the count: it finds no race, only what a race breaks.
 * TSan's get all of them (its children take about 3 times as long). */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FIRST_USE_HALVED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define FIRST_USE_HALVED 1
#endif
#ifndef FIRST_USE_HALVED
#define FIRST_USE_HALVED 0
#endif

/* ======================================================================================
 * The gate: threads that passed it make their next call at once
 * ====================================================================================== */

enum { MAX_RACERS = 8 };

static _Atomic int g_arrived;
static int g_racers;

/* Wait until all g_racers threads arrived `round` times (rounds from 1). A spin on one
 * counter, not a futex barrier: they leave within a few nanoseconds of each other. The
 * counter orders what each did before the gate with what all do after it, and nothing
 * after it: their first calls are ordered by nothing but the library. */
static void gate(int round) {
  atomic_fetch_add(&g_arrived, 1);
  for (unsigned spins = 0; atomic_load(&g_arrived) < round * g_racers; spins++)
    if ((spins & 1023) == 1023)
      sched_yield(); /* 4 threads on 2 cores: let the late ones arrive */
}

typedef struct racer {
  int i;
  void (*fn)(int i);
} racer;

static void *racer_main(void *arg) {
  racer *r = (racer *)arg;
  gate(1);
  r->fn(r->i);
  return NULL;
}

/* Run fn(0) .. fn(n - 1) on n new threads, released together; join them. */
static void race(int n, void (*fn)(int i)) {
  pthread_t t[MAX_RACERS];
  racer r[MAX_RACERS];
  atomic_store(&g_arrived, 0);
  g_racers = n;
  for (int i = 0; i < n; i++) {
    r[i] = (racer){i, fn};
    CHECK(pthread_create(&t[i], NULL, racer_main, &r[i]) == 0);
  }
  for (int i = 0; i < n; i++)
    pthread_join(t[i], NULL);
}

/* ======================================================================================
 * Helpers
 * ====================================================================================== */

static tsmap_config config8(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.key_size = 8;
  return cfg;
}

/* Put keys [from, to) with value key * 3 + 1; how many did not return TSMAP_OK. */
static int put_keys(tsmap *m, uint64_t from, uint64_t to) {
  int bad = 0;
  for (uint64_t k = from; k < to; k++) {
    uint64_t v = k * 3 + 1;
    bad += tsmap_put(m, &k, 8, &v, NULL) != TSMAP_OK;
  }
  return bad;
}

/* How many of keys [from, to) are missing or wrong. */
static int check_keys(tsmap *m, uint64_t from, uint64_t to) {
  int bad = 0;
  for (uint64_t k = from; k < to; k++) {
    uint64_t v = 0;
    bad += tsmap_get(m, &k, 8, &v) != TSMAP_OK || v != k * 3 + 1;
  }
  return bad;
}

/* Puts then gets [from, to) on m: the basic use every created map gets. */
static void use_map(tsmap *m, uint64_t from, uint64_t to) {
  CHECK(put_keys(m, from, to) == 0);
  CHECK(check_keys(m, from, to) == 0);
}

static size_t map_size(tsmap *m) {
  size_t n = 0;
  CHECK_ST(tsmap_size(m, &n), TSMAP_OK);
  return n;
}


/* A text a metrics call wrote, in a buffer of its own (the writer's ctx). */
typedef struct text_buf {
  char text[1 << 16];
  size_t len;
} text_buf;

static int text_write(const char *text, size_t len, void *ctx) {
  text_buf *b = (text_buf *)ctx;
  if (b->len + len >= sizeof b->text)
    return 1;
  memcpy(b->text + b->len, text, len);
  b->len += len;
  b->text[b->len] = '\0';
  return 0;
}

/* Map `name`'s tsmap_operations_total for puts and for gets that returned ok: n each
 * (nothing checked if the text's buffer cannot be allocated). */
static void check_ok_puts_and_gets(tsmap *m, const char *name, long long n) {
  text_buf *b = (text_buf *)calloc(1, sizeof *b);
  if (!b)
    return;
  CHECK_ST(tsmap_metrics_write(m, text_write, b), TSMAP_OK);
  static const char *const ops[] = {"put", "get"};
  for (int i = 0; i < 2; i++) {
    char series[128];
    snprintf(series, sizeof series, "tsmap_operations_total{map=\"%s\",op=\"%s\",status=\"ok\"}",
             name, ops[i]);
    CHECK(tsmap_test_series_value(b->text, series) == n);
  }
  free(b);
}

static tsmap *g_map[64];

/* ======================================================================================
 * Scenarios: the first creates of each kind of map
 * ====================================================================================== */

/* The process's first creates: the thread-record and fork-handler onces, the page size
 * (the shard array's mapping is rounded to it), the default shard count (sysconf). Fast
 * 8-byte maps on even threads, variable keys on odd ones. */
static void first_create_plain(int i) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  if (i % 2 == 0)
    cfg.key_size = 8;
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  if (!m)
    return;
  use_map(m, 0, 300);
  CHECK(map_size(m) == 300);
  CHECK_ST(tsmap_destroy(m), TSMAP_OK);
}
static void sc_create_plain(void) { race(4, first_create_plain); }

/* The first named maps: the registry's first entries. Threads 0 and 1 ask for one name:
 * exactly one of them gets it. */
static _Atomic int g_named_ok, g_named_exists;
static void first_create_named(int i) {
  static const char *const names[] = {"first_use_same", "first_use_same", "first_use_2",
                                      "first_use_3"};
  tsmap_config cfg = config8();
  cfg.name = names[i];
  tsmap *m = NULL;
  tsmap_status st = tsmap_create(&cfg, &m);
  if (i < 2) {
    CHECK(st == TSMAP_OK || st == TSMAP_EXISTS);
    atomic_fetch_add(st == TSMAP_OK ? &g_named_ok : &g_named_exists, 1);
  } else {
    CHECK_ST(st, TSMAP_OK);
  }
  if (m)
    use_map(m, 0, 100);
  gate(2); /* every create before any destroy: the name is still taken */
  if (m)
    CHECK_ST(tsmap_destroy(m), TSMAP_OK);
}
static void sc_create_named(void) {
  race(4, first_create_named);
  CHECK(g_named_ok == 1 && g_named_exists == 1);
}

/* The first metered maps: their ids, the threads' first stripes. Named ones on even
 * threads (their series carry the name), unnamed on odd ones. */
static void first_create_metered(int i) {
  static const char *const names[] = {"metered_0", "", "metered_2", ""};
  tsmap_config cfg = config8();
  cfg.metrics = 1;
  cfg.name = names[i];
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  if (!m)
    return;
  use_map(m, 0, 200);
  text_buf *b = (text_buf *)calloc(1, sizeof *b);
  CHECK(b != NULL);
  if (b) {
    CHECK_ST(tsmap_metrics_write(m, text_write, b), TSMAP_OK);
    char series[128];
    snprintf(series, sizeof series, "tsmap_operations_total{map=\"%s\",op=\"put\",status=\"ok\"}",
             names[i]);
    CHECK(tsmap_test_series_value(b->text, series) == 200);
    snprintf(series, sizeof series, "tsmap_entries{map=\"%s\"}", names[i]);
    CHECK(tsmap_test_series_value(b->text, series) == 200);
    free(b);
  }
  CHECK_ST(tsmap_destroy(m), TSMAP_OK);
}
static void sc_create_metered(void) { race(4, first_create_metered); }

/* The first expiring maps: their clocks, their first deadlines. */
static void first_create_expiring(int i) {
  tsmap_config cfg = config8();
  cfg.default_ttl_ns = 3600ull * 1000000000u;
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  if (!m)
    return;
  use_map(m, 0, 100);
  uint64_t k = 1000 + (uint64_t)i, v = 7, got = 0;
  CHECK_ST(tsmap_put_ttl(m, &k, 8, &v, TSMAP_TTL_NEVER, NULL), TSMAP_OK);
  CHECK(tsmap_get(m, &k, 8, &got) == TSMAP_OK && got == 7);
  CHECK_ST(tsmap_destroy(m), TSMAP_OK);
}
static void sc_create_expiring(void) { race(4, first_create_expiring); }

/* The first bounded maps: their sketches, their first evictions. */
static void first_create_bounded(int i) {
  (void)i;
  tsmap_config cfg = config8();
  cfg.shard_count = 4;
  cfg.max_entries = 64;
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  if (!m)
    return;
  CHECK(put_keys(m, 0, 1000) == 0);
  size_t n = map_size(m);
  CHECK(n > 0 && n <= 64);
  CHECK_ST(tsmap_destroy(m), TSMAP_OK);
}
static void sc_create_bounded(void) { race(4, first_create_bounded); }

/* The first versioned maps: a key's versions go up. */
static void first_create_versioned(int i) {
  (void)i;
  tsmap_config cfg = config8();
  cfg.versions = 1;
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  if (!m)
    return;
  use_map(m, 0, 100);
  uint64_t k = 5, v = 0, v1 = 0, v2 = 0, nv = 99;
  CHECK_ST(tsmap_get_version(m, &k, 8, &v, &v1), TSMAP_OK);
  CHECK_ST(tsmap_put(m, &k, 8, &nv, NULL), TSMAP_REPLACED);
  CHECK_ST(tsmap_get_version(m, &k, 8, &v, &v2), TSMAP_OK);
  CHECK(v == 99 && v2 > v1);
  CHECK_ST(tsmap_destroy(m), TSMAP_OK);
}
static void sc_create_versioned(void) { race(4, first_create_versioned); }

/* The first replicated maps: threads 0 and 2 are replica 0, 1 and 3 replica 1, of two
 * maps; each exports its own keys, then (once its peer exported) merges its peer's. */
enum { REPL_KEYS = 50 };
typedef struct exported {
  tsmap_change c[REPL_KEYS];
  uint64_t key[REPL_KEYS], value[REPL_KEYS], clock[REPL_KEYS][2];
  size_t n;
} exported;
static exported g_exported[4];
static int export_one(const tsmap_change *c, void *ctx) {
  exported *e = (exported *)ctx;
  if (e->n == REPL_KEYS || c->key_len != 8 || !c->value || c->clock_len > 2)
    return 1;
  size_t n = e->n++; /* the change's pointers are valid in the call only: copies */
  e->c[n] = *c;
  memcpy(&e->key[n], c->key, 8);
  memcpy(&e->value[n], c->value, 8);
  memcpy(e->clock[n], c->clock, c->clock_len * sizeof(uint64_t));
  e->c[n].key = &e->key[n];
  e->c[n].value = &e->value[n];
  e->c[n].clock = e->clock[n];
  return 0;
}
static void first_create_replicated(int i) {
  tsmap_config cfg = config8();
  cfg.replicas = 2;
  cfg.replica_id = (size_t)(i % 2);
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  uint64_t base = 1000 * (uint64_t)i, peer = 1000 * (uint64_t)(i ^ 1);
  if (m) {
    use_map(m, base, base + REPL_KEYS);
    CHECK_ST(tsmap_export(m, 0, export_one, &g_exported[i], NULL), TSMAP_OK);
  }
  CHECK(g_exported[i].n == REPL_KEYS);
  gate(2);
  if (!m)
    return;
  const exported *e = &g_exported[i ^ 1];
  for (size_t n = 0; n < e->n; n++)
    CHECK_ST(tsmap_merge(m, &e->c[n], NULL, NULL, NULL), TSMAP_OK);
  CHECK(check_keys(m, peer, peer + e->n) == 0);
  CHECK(map_size(m) == REPL_KEYS + e->n);
  CHECK_ST(tsmap_destroy(m), TSMAP_OK);
}
static void sc_create_replicated(void) { race(4, first_create_replicated); }

/* The first NUMA-placed maps: topology read by each create (sysfs, and the fake 2-node
 * machine where the build names it), tsmap_numa_node_count at the same time. */
static void first_create_numa(int i) {
  if (i == 3) {
    size_t n = 0;
    tsmap_status st = tsmap_numa_node_count(NULL, &n);
    CHECK(st == TSMAP_OK || st == TSMAP_INVALID_ARGUMENT); /* no sysfs in a container */
    return;
  }
  tsmap_config cfg = config8();
  cfg.shard_count = 4;
  cfg.placement = i == 1 ? TSMAP_PLACE_LOCAL : TSMAP_PLACE_INTERLEAVE;
#ifdef TSMAP_NUMA_TREES
  if (i == 2)
    cfg.numa_root = TSMAP_NUMA_TREES "/two-node";
#endif
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  if (!m)
    return;
  use_map(m, 0, 2000); /* growths: tables bound (or not) as they come */
  tsmap_shard_placement p;
  for (size_t s = 0; s < 4; s++) {
    CHECK_ST(tsmap_placement(m, s, &p), TSMAP_OK);
    CHECK(p.shard_count == 4 && p.reason != NULL);
#ifdef TSMAP_NUMA_TREES
    if (i == 2)
      CHECK(p.node_count == 2 && p.node == (int)(s % 2));
#endif
  }
  CHECK_ST(tsmap_destroy(m), TSMAP_OK);
}
static void sc_create_numa(void) { race(4, first_create_numa); }

/* The first maps with maintenance threads of their own, started at once. */
static void first_create_maintained(int i) {
  (void)i;
  tsmap_config cfg = config8();
  cfg.expiry = 1;
  cfg.maintain_interval_ns = 1000000; /* 1 ms */
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  if (!m)
    return;
  for (uint64_t k = 0; k < 100; k++) {
    uint64_t v = k;
    CHECK_ST(tsmap_put_ttl(m, &k, 8, &v, k % 2 ? 1000 : TSMAP_TTL_NEVER, NULL), TSMAP_OK);
  }
  struct timespec nap = {0, 20000000};
  nanosleep(&nap, NULL);
  size_t left = 0;
  for (uint64_t k = 0; k < 100; k += 2)
    left += tsmap_get(m, &k, 8, NULL) == TSMAP_OK;
  CHECK(left == 50);
  CHECK_ST(tsmap_destroy(m), TSMAP_OK);
}
static void sc_create_maintained(void) { race(4, first_create_maintained); }

/* ======================================================================================
 * Scenarios: first calls of fresh threads on maps that exist
 * ====================================================================================== */

/* A map created by main (the onces done); four threads' first calls on it at once: their
 * records (registry push, ids), their first metered stripes. Each thread's first call is
 * another operation. */
static _Atomic int g_computed;
static int compute_once(const void *key, size_t key_len, void *ctx, void *value_out) {
  (void)key, (void)key_len, (void)ctx;
  atomic_fetch_add(&g_computed, 1);
  uint64_t v = 42;
  memcpy(value_out, &v, 8);
  return 0;
}
static void first_calls(int i) {
  tsmap *m = g_map[0];
  uint64_t k = 1u << 20, v = 42, got = 0;
  switch (i) {
  case 0: {
    tsmap_status st = tsmap_get(m, &k, 8, &got);
    CHECK((st == TSMAP_OK && got == 42) || st == TSMAP_NOT_FOUND);
    break;
  }
  case 1: {
    tsmap_status st = tsmap_put_if_absent(m, &k, 8, &v, NULL);
    CHECK(st == TSMAP_OK || st == TSMAP_EXISTS);
    break;
  }
  case 2:
    CHECK_ST(tsmap_compute_if_absent(m, &k, 8, compute_once, NULL, &got), TSMAP_OK); // NOLINT(tsmap-non-idempotent-callback): counts its runs
    CHECK(got == 42);
    break;
  default: {
    uint64_t k2 = 7, v2 = 7 * 3 + 1;
    CHECK_ST(tsmap_put(m, &k2, 8, &v2, NULL), TSMAP_REPLACED);
    break;
  }
  }
  uint64_t base = 10000 * (uint64_t)(i + 1);
  use_map(m, base, base + 200);
}
static void sc_first_calls(void) {
  tsmap_config cfg = config8();
  cfg.metrics = 1;
  cfg.name = "shared";
  CHECK_ST(tsmap_create(&cfg, &g_map[0]), TSMAP_OK);
  if (!g_map[0])
    return;
  CHECK(put_keys(g_map[0], 0, 100) == 0); /* main's record, made first */
  race(4, first_calls);
  CHECK(check_keys(g_map[0], 0, 100) == 0);
  CHECK(map_size(g_map[0]) == 100 + 1 + 4 * 200);
  CHECK(atomic_load(&g_computed) <= 1);
  text_buf *b = (text_buf *)calloc(1, sizeof *b);
  if (b) {
    CHECK_ST(tsmap_metrics_write(g_map[0], text_write, b), TSMAP_OK);
    CHECK(tsmap_test_series_value(
              b->text, "tsmap_operations_total{map=\"shared\",op=\"put\",status=\"ok\"}") ==
          100 + 4 * 200);
    free(b);
  }
  CHECK_ST(tsmap_destroy(g_map[0]), TSMAP_OK);
}

/* Records given back at four threads' exits, claimed again by four new threads' first
 * calls at once (a CAS on each record's in_use), with the records' stripes of a metered
 * map: each new thread counts on a stripe it took over, and every count is kept. */
static void recycled_calls(int i) {
  uint64_t base = 10000 * (uint64_t)(i + 1) + (uint64_t)atomic_load(&g_computed) * 1000;
  use_map(g_map[0], base, base + 100);
}
static void sc_recycled_records(void) {
  tsmap_config cfg = config8();
  cfg.metrics = 1;
  cfg.name = "recycled";
  CHECK_ST(tsmap_create(&cfg, &g_map[0]), TSMAP_OK);
  if (!g_map[0])
    return;
  race(4, recycled_calls); /* four records, given back as their threads exit */
  atomic_store(&g_computed, 1); /* other keys for the second round */
  race(4, recycled_calls);
  CHECK(map_size(g_map[0]) == 800);
  check_ok_puts_and_gets(g_map[0], "recycled", 800);
  CHECK_ST(tsmap_destroy(g_map[0]), TSMAP_OK);
}

/* compute_if_absent of one key as four threads' first calls: one callback, one value. */
static void first_compute(int i) {
  (void)i;
  uint64_t k = 77, got = 0;
  CHECK_ST(tsmap_compute_if_absent(g_map[0], &k, 8, compute_once, NULL, &got), TSMAP_OK); // NOLINT(tsmap-non-idempotent-callback): counts its runs (one)
  CHECK(got == 42);
}
static void sc_first_compute(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8); /* variable keys: the generic path */
  CHECK_ST(tsmap_create(&cfg, &g_map[0]), TSMAP_OK);
  if (!g_map[0])
    return;
  race(4, first_compute);
  CHECK(atomic_load(&g_computed) == 1);
  CHECK_ST(tsmap_destroy(g_map[0]), TSMAP_OK);
}

/* The first growths of two shards at once (test_firstgrowth.c's case, from empty): each
 * thread's first call is a put into its own shard, and it goes on through the shard's
 * growths, heap tables first, then mapped ones. */
enum { GROWTH_KEYS = 1500 };
static void first_growth(int i) {
  for (unsigned n = 0; n < GROWTH_KEYS; n++) {
    uint64_t k = tsmap_test_shard_key((unsigned)i, n), v = k * 3 + 1;
    CHECK_ST(tsmap_put(g_map[0], &k, 8, &v, NULL), TSMAP_OK);
  }
}
static void sc_first_growth(void) {
  tsmap_config cfg = config8();
  cfg.shard_count = 2;
  cfg.hash = tsmap_test_key_hash; /* the scenario chooses each key's shard */
  CHECK_ST(tsmap_create(&cfg, &g_map[0]), TSMAP_OK);
  if (!g_map[0])
    return;
  race(2, first_growth);
  CHECK(map_size(g_map[0]) == 2 * GROWTH_KEYS);
  for (unsigned s = 0; s < 2; s++)
    for (unsigned n = 0; n < GROWTH_KEYS; n++) {
      uint64_t k = tsmap_test_shard_key(s, n), v = 0;
      CHECK(tsmap_get(g_map[0], &k, 8, &v) == TSMAP_OK && v == k * 3 + 1);
    }
  CHECK_ST(tsmap_destroy(g_map[0]), TSMAP_OK);
}

/* The first thread records past TSMAP_MX_STRIPES (1024, metrics.h): 1024 threads keep a
 * record each (parked), then four threads' first metered calls at once get ids past the
 * stripes and share the map's overflow stripe. Its counts stay exact. */
enum { PARKED = 1024 };
static pthread_barrier_t g_park;
static void *parked(void *arg) {
  uint64_t k = 0;
  CHECK(tsmap_get((tsmap *)arg, &k, 8, NULL) == TSMAP_NOT_FOUND); /* a record of its own */
  pthread_barrier_wait(&g_park); /* every record taken */
  pthread_barrier_wait(&g_park); /* the racers are done */
  return NULL;
}
static void overflow_calls(int i) {
  uint64_t base = 10000 * (uint64_t)(i + 1);
  use_map(g_map[0], base, base + 100);
}
static void sc_stripe_overflow(void) {
  tsmap_config cfg = config8();
  cfg.metrics = 1;
  cfg.name = "overflow";
  CHECK_ST(tsmap_create(&cfg, &g_map[0]), TSMAP_OK);
  if (!g_map[0])
    return;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 128 << 10);
  static pthread_t t[PARKED];
  pthread_barrier_init(&g_park, NULL, PARKED + 1);
  int made = 0;
  for (; made < PARKED; made++)
    if (pthread_create(&t[made], &attr, parked, g_map[0]) != 0)
      break;
  CHECK(made == PARKED);
  if (made == PARKED) {
    pthread_barrier_wait(&g_park);
    race(4, overflow_calls);
    pthread_barrier_wait(&g_park);
  }
  for (int i = 0; i < made; i++)
    pthread_join(t[i], NULL);
  pthread_barrier_destroy(&g_park);
  pthread_attr_destroy(&attr);
  if (made == PARKED)
    check_ok_puts_and_gets(g_map[0], "overflow", 400);
  CHECK_ST(tsmap_destroy(g_map[0]), TSMAP_OK);
}

/* ======================================================================================
 * Scenarios: the first reshards (their state, their helper threads)
 * ====================================================================================== */

enum { RESHARD_KEYS = 3000 };

static tsmap *reshardable_map(void) {
  tsmap_config cfg = config8();
  cfg.shard_count = 2;
  cfg.max_shard_count = 16;
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  if (m)
    CHECK(put_keys(m, 0, RESHARD_KEYS) == 0);
  return m;
}

/* Two maps' first reshards at once: two helper threads started together. Each thread
 * then writes while its reshard runs, and drives it to its end. */
static void first_reshard_own(int i) {
  tsmap *m = g_map[i];
  CHECK_ST(tsmap_reshard(m, 8), TSMAP_OK);
  use_map(m, RESHARD_KEYS, RESHARD_KEYS + 500);
  tsmap_test_finish_reshard(m);
}
/* One map's first reshard asked for by two threads at once (its state made once). */
static void first_reshard_shared(int i) {
  CHECK_ST(tsmap_reshard(g_map[0], i == 0 ? 8 : 4), TSMAP_OK);
  uint64_t base = RESHARD_KEYS + 1000 * (uint64_t)i;
  use_map(g_map[0], base, base + 500);
}
static void check_resharded(tsmap *m, size_t extra_from, size_t extra_to) {
  tsmap_test_finish_reshard(m);
  CHECK(check_keys(m, 0, RESHARD_KEYS) == 0);
  CHECK(check_keys(m, extra_from, extra_to) == 0);
}
static void sc_reshard_two_maps(void) {
  g_map[0] = reshardable_map();
  g_map[1] = reshardable_map();
  if (g_map[0] && g_map[1]) {
    race(2, first_reshard_own);
    for (int i = 0; i < 2; i++) {
      size_t n = 0;
      CHECK_ST(tsmap_shard_counts(g_map[i], &n, NULL), TSMAP_OK);
      CHECK(n == 8);
      check_resharded(g_map[i], RESHARD_KEYS, RESHARD_KEYS + 500);
    }
  }
  for (int i = 0; i < 2; i++)
    if (g_map[i])
      CHECK_ST(tsmap_destroy(g_map[i]), TSMAP_OK);
}
static void sc_reshard_one_map(void) {
  g_map[0] = reshardable_map();
  if (!g_map[0])
    return;
  race(2, first_reshard_shared);
  check_resharded(g_map[0], RESHARD_KEYS, RESHARD_KEYS + 500);
  CHECK(check_keys(g_map[0], RESHARD_KEYS + 1000, RESHARD_KEYS + 1500) == 0);
  size_t n = 0, target = 0;
  CHECK_ST(tsmap_shard_counts(g_map[0], &n, &target), TSMAP_OK);
  CHECK(n == target && (n == 8 || n == 4));
  CHECK_ST(tsmap_destroy(g_map[0]), TSMAP_OK);
}

/* ======================================================================================
 * Scenarios: expositions, forks and destroys beside first uses
 * ====================================================================================== */

/* tsmap_metrics_write_all and _format(NULL) while the process's first named maps are
 * created (and destroyed): every exposition succeeds and shows each map whole or not. */
static void first_named_vs_write_all(int i) {
  if (i < 2) {
    tsmap_config cfg = config8();
    cfg.metrics = i == 0;
    cfg.name = i == 0 ? "exposed_a" : "exposed_b";
    tsmap *m = NULL;
    CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
    if (m)
      use_map(m, 0, 10);
    gate(2);
    if (m)
      CHECK_ST(tsmap_destroy(m), TSMAP_OK);
    return;
  }
  text_buf *b = (text_buf *)calloc(1, sizeof *b);
  CHECK(b != NULL);
  if (!b)
    return;
  for (int round = 0; round < 8; round++) {
    b->len = 0;
    b->text[0] = '\0';
    if (i == 2) {
      CHECK_ST(tsmap_metrics_write_all(text_write, b), TSMAP_OK);
    } else {
      size_t len = 0;
      tsmap_status st = tsmap_metrics_format(NULL, b->text, sizeof b->text, &len);
      CHECK_ST(st, TSMAP_OK);
      CHECK(st != TSMAP_OK || len == strlen(b->text));
    }
    long long a = tsmap_test_series_value(b->text, "tsmap_entries{map=\"exposed_a\"}");
    long long bb = tsmap_test_series_value(b->text, "tsmap_entries{map=\"exposed_b\"}");
    CHECK(a >= -1 && a <= 10 && bb >= -1 && bb <= 10);
  }
  free(b);
  gate(2);
}
static void sc_named_vs_write_all(void) { race(4, first_named_vs_write_all); }

/* Name the step a child of fork is at, for its watchdog's message (alarm set once). */
static void fork_child_at(const char *step) { *tsmap_test_watch_name() = step; }

/* fork(), saying so when it took long: fork waits at most 1 s in all for the shard locks
 * other threads hold (G16 (e)), and then goes on with a lock held. */
static pid_t timed_fork(void) {
  fflush(NULL);
  double t0 = tsmap_test_now();
  pid_t pid = fork();
  double took = tsmap_test_now() - t0;
  if (pid > 0 && took > 0.5)
    fprintf(stderr, "fork took %.2f s\n", took);
  return pid;
}

/* Wait for the child of a fork at most `seconds` (its own alarm may never be delivered:
 * ThreadSanitizer defers a signal while the thread waits inside an interceptor); kills
 * it then. Whether it exited with 0; else says how it ended. */
static int fork_child_passed(pid_t pid, double seconds) {
  int status = 0;
  pid_t got;
  double t0 = tsmap_test_now();
  while ((got = waitpid(pid, &status, WNOHANG)) == 0 && tsmap_test_now() - t0 < seconds) {
    struct timespec nap = {0, 1000000};
    nanosleep(&nap, NULL);
  }
  if (got == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    fprintf(stderr, "the child of the fork did not end in %.0f s: killed\n", seconds);
    return 0;
  }
  if (got != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "the child of the fork: status %#x\n", (unsigned)status);
    return 0;
  }
  return 1;
}

/* The first fork of a process that has a map, while other threads make their first
 * calls on it and create the process's second map: the child of the fork reads what was
 * there before, writes, and ends (alarm: a hang fails it). */
static void first_fork(int i) {
  tsmap *m = g_map[0];
  if (i == 0) {
    pid_t pid = timed_fork();
    CHECK(pid >= 0);
    if (pid == 0) {
      tsmap_test_watchdog("first_fork's child: reading the map", 10);
      int bad = check_keys(m, 0, 500);
      fork_child_at("first_fork's child: writing the map");
      bad += put_keys(m, 100000, 100500) + check_keys(m, 100000, 100500);
      fork_child_at("first_fork's child: a map of its own");
      tsmap_config cfg = config8();
      tsmap *n = NULL;
      bad += tsmap_create(&cfg, &n) != TSMAP_OK;
      if (n) {
        bad += put_keys(n, 0, 100) + check_keys(n, 0, 100);
        bad += tsmap_destroy(n) != TSMAP_OK;
      }
      fork_child_at("first_fork's child: destroying the map");
      bad += tsmap_destroy(m) != TSMAP_OK;
      _exit(bad ? 1 : 0);
    }
    CHECK(pid > 0 && fork_child_passed(pid, 15));
    return;
  }
  if (i == 1) {
    tsmap_config cfg = config8();
    cfg.name = "born_at_fork";
    tsmap *n = NULL;
    CHECK_ST(tsmap_create(&cfg, &n), TSMAP_OK);
    if (n) {
      use_map(n, 0, 300);
      CHECK_ST(tsmap_destroy(n), TSMAP_OK);
    }
    return;
  }
  uint64_t base = 1000 * (uint64_t)i;
  use_map(m, base, base + 300);
}
static void sc_first_fork(void) {
  tsmap_config cfg = config8();
  cfg.name = "forked";
  CHECK_ST(tsmap_create(&cfg, &g_map[0]), TSMAP_OK);
  if (!g_map[0])
    return;
  CHECK(put_keys(g_map[0], 0, 500) == 0);
  race(3, first_fork);
  CHECK(check_keys(g_map[0], 0, 500) == 0 && check_keys(g_map[0], 2000, 2300) == 0);
  CHECK_ST(tsmap_destroy(g_map[0]), TSMAP_OK);
}

/* A fork racing the process's first creates (the fork handlers' registration). */
static void fork_vs_first_create(int i) {
  if (i == 0) {
    pid_t pid = timed_fork();
    CHECK(pid >= 0);
    if (pid == 0) {
      tsmap_test_watchdog("fork_vs_first_create's child", 10);
      tsmap_config cfg = config8();
      tsmap *n = NULL;
      int bad = tsmap_create(&cfg, &n) != TSMAP_OK;
      if (n) {
        bad += put_keys(n, 0, 300) + check_keys(n, 0, 300);
        bad += tsmap_destroy(n) != TSMAP_OK;
      }
      _exit(bad ? 1 : 0);
    }
    CHECK(pid > 0 && fork_child_passed(pid, 15));
    return;
  }
  first_create_plain(i);
}
static void sc_fork_vs_first_create(void) { race(3, fork_vs_first_create); }

/* tsmap_destroy of one map racing the first use of another: thread 0 destroys a named,
 * metered map; thread 1's first calls are on another such map; thread 2 creates a map of
 * the dying one's name (OK, or EXISTS while it still has it); thread 3 exposes them all. */
static void destroy_vs_first_use(int i) {
  switch (i) {
  case 0:
    CHECK_ST(tsmap_destroy(g_map[0]), TSMAP_OK);
    break;
  case 1:
    use_map(g_map[1], 0, 300);
    break;
  case 2: {
    tsmap_config cfg = config8();
    cfg.name = "doomed";
    tsmap *m = NULL;
    tsmap_status st = tsmap_create(&cfg, &m);
    CHECK(st == TSMAP_OK || st == TSMAP_EXISTS);
    if (m) {
      use_map(m, 0, 100);
      CHECK_ST(tsmap_destroy(m), TSMAP_OK);
    }
    break;
  }
  default: {
    size_t len = 0;
    CHECK_ST(tsmap_metrics_format(NULL, NULL, 0, &len), TSMAP_OK);
    break;
  }
  }
}
static void sc_destroy_vs_first_use(void) {
  static const char *const names[] = {"doomed", "kept"};
  for (int i = 0; i < 2; i++) {
    tsmap_config cfg = config8();
    cfg.metrics = 1;
    cfg.name = names[i];
    CHECK_ST(tsmap_create(&cfg, &g_map[i]), TSMAP_OK);
  }
  if (!g_map[0] || !g_map[1])
    return;
  race(4, destroy_vs_first_use);
  CHECK(check_keys(g_map[1], 0, 300) == 0 && map_size(g_map[1]) == 300);
  CHECK_ST(tsmap_destroy(g_map[1]), TSMAP_OK);
}

/* Forks while another thread's first fills of fresh maps give their shards' small tables
 * back to the map's slab (tsmap_after_run, no shard lock held: under the slab's lock);
 * each child of a fork then fills every map there was, which takes small tables from
 * their slabs (a slab's lock held at the fork hung it). Thread 0 makes and fills maps
 * until thread 1 made its forks. */
enum { SLAB_MAPS = 64, SLAB_FORKS = 12, SLAB_KEYS = 1500 };
static _Atomic int g_slab_maps, g_slab_stop;
static void fork_vs_small_tables(int i) {
  if (i == 0) {
    for (int k = 0; k < SLAB_MAPS && !atomic_load(&g_slab_stop); k++) {
      tsmap_config cfg = config8();
      cfg.shard_count = 32;
      CHECK_ST(tsmap_create(&cfg, &g_map[k]), TSMAP_OK);
      if (!g_map[k])
        break;
      atomic_store(&g_slab_maps, k + 1);
      CHECK(put_keys(g_map[k], 0, SLAB_KEYS) == 0); /* each shard's small tables, freed */
    }
    return;
  }
  while (atomic_load(&g_slab_maps) == 0)
    tsmap_test_pause();
  for (int f = 0; f < SLAB_FORKS; f++) {
    pid_t pid = timed_fork();
    CHECK(pid >= 0);
    if (pid == 0) {
      tsmap_test_watchdog("fork_vs_small_tables' child: filling every map", 10);
      int bad = 0, n = atomic_load(&g_slab_maps);
      for (int k = 0; k < n; k++)
        bad += put_keys(g_map[k], 1000000, 1000000 + SLAB_KEYS);
      _exit(bad ? 1 : 0);
    }
    CHECK(pid > 0 && fork_child_passed(pid, 15));
  }
  atomic_store(&g_slab_stop, 1);
}
static void sc_fork_vs_small_tables(void) {
  race(2, fork_vs_small_tables);
  for (int k = 0; k < atomic_load(&g_slab_maps); k++) {
    CHECK(check_keys(g_map[k], 0, SLAB_KEYS) == 0);
    CHECK_ST(tsmap_destroy(g_map[k]), TSMAP_OK);
  }
}

/* A fork while a reshard_auto map's writers reach their first policy window, the one
 * that makes the map's reshard state. The fork's prepare handler holds the fork
 * handlers' mutex from its start, and is made to hold it for 300 ms (its first wait is
 * for the metrics registry's lock, which a slow tsmap_metrics_write_all writer holds);
 * meanwhile the writers contend. Thread 0 exposes, 1 forks, 2-4 write; the child of the
 * fork then writes the map (a shard lock it inherited held would hang it). */
static _Atomic int g_exposing;
static int slow_writer(const char *text, size_t len, void *ctx) {
  (void)text, (void)len, (void)ctx;
  if (!atomic_exchange(&g_exposing, 1)) {
    struct timespec nap = {0, 300000000};
    nanosleep(&nap, NULL);
  }
  return 0;
}
static void wait_flag(_Atomic int *flag) {
  while (!atomic_load(flag))
    tsmap_test_pause();
}
static void auto_reshard_vs_fork(int i) {
  tsmap *m = g_map[0];
  if (i == 0) {
    CHECK_ST(tsmap_metrics_write_all(slow_writer, NULL), TSMAP_OK);
  } else if (i == 1) {
    wait_flag(&g_exposing);
    pid_t pid = timed_fork();
    CHECK(pid >= 0);
    if (pid == 0) {
      tsmap_test_watchdog("auto_reshard_vs_fork's child", 10);
      int bad = put_keys(m, 1u << 20, (1u << 20) + 200) + check_keys(m, 1u << 20, (1u << 20) + 200);
      _exit(bad ? 1 : 0);
    }
    CHECK(pid > 0 && fork_child_passed(pid, 10));
  } else {
    wait_flag(&g_exposing);
    struct timespec nap = {0, 50000000}; /* the fork is in its prepare handler by now */
    nanosleep(&nap, NULL);
    uint64_t base = 100000 * (uint64_t)i;
    CHECK(put_keys(m, base, base + 3000) == 0);
  }
}
static void sc_auto_reshard_vs_fork(void) {
  tsmap_config cfg = config8();
  cfg.shard_count = 1;
  cfg.max_shard_count = 16;
  cfg.reshard_auto = 1;
  CHECK_ST(tsmap_create(&cfg, &g_map[0]), TSMAP_OK);
  tsmap_config named = config8();
  named.name = "exposed_slowly";
  CHECK_ST(tsmap_create(&named, &g_map[1]), TSMAP_OK);
  if (g_map[0] && g_map[1]) {
    race(5, auto_reshard_vs_fork);
    for (uint64_t i = 2; i < 5; i++)
      CHECK(check_keys(g_map[0], 100000 * i, 100000 * i + 3000) == 0);
  }
  for (int i = 0; i < 2; i++)
    if (g_map[i])
      CHECK_ST(tsmap_destroy(g_map[i]), TSMAP_OK);
}

/* ======================================================================================
 * The driver
 * ====================================================================================== */

typedef struct scenario {
  const char *name;
  void (*run)(void);
  int children; /* fresh processes (ASan: half) */
} scenario;

static const scenario k_scenarios[] = {
    {"create_plain", sc_create_plain, 40},
    {"create_named", sc_create_named, 40},
    {"create_metered", sc_create_metered, 40},
    {"create_expiring", sc_create_expiring, 32},
    {"create_bounded", sc_create_bounded, 32},
    {"create_versioned", sc_create_versioned, 32},
    {"create_replicated", sc_create_replicated, 32},
    {"create_numa", sc_create_numa, 32},
    {"create_maintained", sc_create_maintained, 32},
    {"first_calls", sc_first_calls, 40},
    {"first_compute", sc_first_compute, 32},
    {"recycled_records", sc_recycled_records, 32},
    {"first_growth", sc_first_growth, 32},
    {"stripe_overflow", sc_stripe_overflow, 8},
    {"reshard_two_maps", sc_reshard_two_maps, 32},
    {"reshard_one_map", sc_reshard_one_map, 32},
    {"named_vs_write_all", sc_named_vs_write_all, 40},
    {"first_fork", sc_first_fork, 32},
    {"fork_vs_first_create", sc_fork_vs_first_create, 32},
    {"fork_vs_small_tables", sc_fork_vs_small_tables, 12},
    {"destroy_vs_first_use", sc_destroy_vs_first_use, 32},
    {"auto_reshard_vs_fork", sc_auto_reshard_vs_fork, 8},
};
enum { N_SCENARIOS = sizeof k_scenarios / sizeof k_scenarios[0] };

static int run_child(const char *name) {
  for (size_t s = 0; s < N_SCENARIOS; s++)
    if (strcmp(k_scenarios[s].name, name) == 0) {
      tsmap_test_watchdog(name, 60);
      k_scenarios[s].run();
      return tsmap_test_failures != 0 || tsmap_test_checks == 0;
    }
  fprintf(stderr, "no scenario %s\n", name);
  return 2;
}

/* The sanitizers' options for the children: a report ends the child, with status 66. */
static void child_env(void) {
  static char tsan[512], asan[512];
  const char *t = getenv("TSAN_OPTIONS"), *a = getenv("ASAN_OPTIONS");
  snprintf(tsan, sizeof tsan, "%s%shalt_on_error=1:exitcode=66", t ? t : "", t && *t ? ":" : "");
  snprintf(asan, sizeof asan, "%s%sexitcode=66", a ? a : "", a && *a ? ":" : "");
  setenv("TSAN_OPTIONS", tsan, 1);
  setenv("ASAN_OPTIONS", asan, 1);
}

/* The child's stderr: a report in it fails the child whatever its status. */
static int has_report(const char *err) {
  return strstr(err, "ThreadSanitizer") || strstr(err, "AddressSanitizer") ||
         strstr(err, "LeakSanitizer") || strstr(err, "runtime error:");
}

/* One fresh child running scenario `name`; 0 if it passed, else (`say`) prints why. */
static int run_one(const char *name, int index, int say) {
  int fd = memfd_create("first_use_stderr", MFD_CLOEXEC);
  if (fd < 0) {
    perror("memfd_create");
    return 1;
  }
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    close(fd);
    return 1;
  }
  if (pid == 0) {
    dup2(fd, 2);
    execl("/proc/self/exe", "tsmap_rt_first_use", "--child", name, (char *)NULL);
    _exit(127);
  }
  int status = 0;
  double t0 = tsmap_test_now();
  pid_t got;
  while ((got = waitpid(pid, &status, WNOHANG)) == 0 && tsmap_test_now() - t0 < 120) {
    struct timespec nap = {0, 2000000};
    nanosleep(&nap, NULL);
  }
  int timed_out = got == 0;
  if (timed_out) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  off_t size = lseek(fd, 0, SEEK_END);
  char *err = (char *)calloc(1, (size_t)(size > 0 ? size : 0) + 1);
  if (err && size > 0)
    (void)!pread(fd, err, (size_t)size, 0);
  close(fd);
  int ok = !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
           !(err && has_report(err));
  if (!ok && say) {
    fprintf(stderr, "FAILED: scenario %s, child %d (pid %d): ", name, index, (int)pid);
    if (timed_out)
      fprintf(stderr, "no end after 120 s, killed\n");
    else if (WIFEXITED(status))
      fprintf(stderr, "exit status %d%s\n", WEXITSTATUS(status),
              WEXITSTATUS(status) == 66 ? " (a sanitizer's report)" : "");
    else
      fprintf(stderr, "killed by signal %d\n", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    fprintf(stderr, "---- its stderr ----\n%s---- end ----\n", err ? err : "");
  }
  free(err);
  return !ok;
}

static int run_driver(int argc, char **argv) {
  child_env();
  const char *over = getenv("TSMAP_FIRST_USE_CHILDREN");
  int all = getenv("TSMAP_FIRST_USE_ALL") != NULL; /* every child, to count failures */
  int failed = 0, ran = 0;
  for (size_t s = 0; s < N_SCENARIOS; s++) {
    const scenario *sc = &k_scenarios[s];
    int selected = argc < 2;
    for (int a = 1; a < argc; a++)
      selected |= strcmp(argv[a], sc->name) == 0;
    if (!selected)
      continue;
    int n = over ? atoi(over) : FIRST_USE_HALVED ? sc->children / 2 : sc->children;
    int bad = 0, c;
    double t0 = tsmap_test_now();
    for (c = 0; c < n && (!bad || all); c++) /* the first failure ends the scenario */
      bad += run_one(sc->name, c, !bad);
    fprintf(stderr, "%-24s %s (%d of %d children failed, %.2fs)\n", sc->name,
            bad ? "FAILED" : "ok", bad, c, tsmap_test_now() - t0);
    failed += bad;
    ran++;
  }
  fprintf(stderr, "%d scenarios, %d failed\n", ran, failed);
  return failed != 0 || ran == 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--child") == 0)
    return run_child(argv[2]);
  return run_driver(argc, argv);
}
