/*
 * test_crossfire.c - black-box round 17: capabilities racing each other, written from
 * tsmap.h and runtime/DESIGN.md alone (the sources read only after a failure).
 *
 *   - CAS under contention during reshards (G12 (a), (c); G15 (b)): threads increment
 *     counters by put_if_version, compute_if_version (an exact version and ANY) and
 *     compute while a thread reshards 1 <-> 64 and maintains; the sums are exact, each
 *     thread's successful writes of a key take rising versions, and a reader never sees a
 *     version go down or a larger version with a smaller count.
 *   - a change feed followed during reshards (G12 (d), G15 (b)): a follower passing
 *     next_since back, two writers, a resharding thread; the follower ends with the map.
 *   - fork while a growth is in progress and the maintenance thread reclaims (G5, G16,
 *     G3): each child finds every stable key, finishes the growth with its own writes,
 *     maintains, closes and exits 0.
 *   - replicas written locally, merging both ways and forgetting tombstones up to the
 *     cursors both passed, at once (G13 (b), (d), (e)): they converge, and removals made
 *     after that horizon stay removed.
 *   - tsmap_maintain reclaiming in a loop under readers of long keys a writer removes
 *     (G3: ASan sees no read of freed memory).
 *   - NUMA placement on a one-node machine (G14): every shard, and every shard a reshard
 *     adds, on node 0 under both policies; what tsmap_placement says is consistent. A
 *     fake one-node tree, and this machine's sysfs when it has one node.
 *   - exactly once across reshards, expiry, a maintenance thread, discarded callbacks and
 *     a racing close (G6, G9, G10, G15 (c)), long keys removed under readers (G3: run
 *     under ASan, a reader never reads what maintain or a write freed).
 */
#include "tsmap_test.h"

#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>

#ifdef TSMAP_STRESS_SMALL
#define SCALE 8
#else
#define SCALE 1
#endif

static void nap_us(long us) {
  struct timespec ts = {us / 1000000, us % 1000000 * 1000};
  nanosleep(&ts, NULL);
}

/* A thread that reshards through `counts` (a cycle), each reshard driven to its end by
 * tsmap_maintain (writes move entries too), until *stop. */
typedef struct resharder {
  tsmap *m;
  const size_t *counts;
  size_t ncounts;
  _Atomic int *stop;
  _Atomic long reshards; /* finished */
} resharder;

#define MIN_RESHARDS 12 /* the workers of a scenario go on until this many finished */

static void *reshard_main(void *arg) {
  resharder *r = (resharder *)arg;
  for (size_t i = 0; !atomic_load(r->stop); i++) {
    if (tsmap_reshard(r->m, r->counts[i % r->ncounts]) != TSMAP_OK)
      break;
    size_t n = 0, target = 1;
    while (n != target && !atomic_load(r->stop)) {
      if (tsmap_maintain(r->m, 512) != TSMAP_OK ||
          tsmap_shard_counts(r->m, &n, &target) != TSMAP_OK)
        return NULL;
      nap_us(20);
    }
    r->reshards += n == target;
  }
  return NULL;
}

/* ======================================================================================
 * CAS under contention during reshards
 * ====================================================================================== */

#define CAS_KEYS 4
#define CAS_THREADS 3

typedef struct cas_worker {
  tsmap *m;
  resharder *rs;
  unsigned id;
  long iters;
  long done[CAS_KEYS];  /* successful increments */
  long bad;             /* contract breaches seen */
} cas_worker;

/* One increment of key k by method `how`; returns the version it wrote, 0 on a conflict. */
static uint64_t cas_try(cas_worker *w, uint64_t k, unsigned how) {
  uint64_t v = 0, ver = 0, nv = 0, out = 0;
  tsmap_status st = tsmap_get_version(w->m, &k, 8, &v, &ver);
  if (st == TSMAP_NOT_FOUND) {
    v = 0;
    ver = TSMAP_VERSION_ABSENT;
  } else if (st != TSMAP_OK) {
    w->bad++;
    return 0;
  }
  if (how == 0) {
    uint64_t n = v + 1;
    st = tsmap_put_if_version(w->m, &k, 8, &n, ver, &nv, NULL);
    if (st == TSMAP_CONFLICT)
      return 0;
    w->bad += st != (ver == TSMAP_VERSION_ABSENT ? TSMAP_OK : TSMAP_REPLACED);
  } else {
    uint64_t expected = how == 1 ? ver : TSMAP_VERSION_ANY;
    st = tsmap_compute_if_version(w->m, &k, 8, expected, tsmap_test_add_one, NULL, &nv, &out);
    if (st == TSMAP_CONFLICT && how == 1)
      return 0;
    w->bad += st != TSMAP_OK || (how == 1 && out != v + 1);
  }
  w->bad += nv == TSMAP_VERSION_ABSENT || (ver != TSMAP_VERSION_ABSENT && nv <= ver);
  return nv;
}

static void *cas_main(void *arg) {
  cas_worker *w = (cas_worker *)arg;
  uint64_t last[CAS_KEYS] = {0};
  for (long i = 0; i < w->iters || atomic_load(&w->rs->reshards) < MIN_RESHARDS; i++) {
    uint64_t k = (uint64_t)(i + w->id) % CAS_KEYS;
    uint64_t nv;
    while ((nv = cas_try(w, k, (unsigned)(i % 3))) == 0 && !w->bad)
      ;
    w->bad += nv <= last[k]; /* G12 (a): this thread's later write, a larger version */
    last[k] = nv;
    w->done[k]++;
  }
  return NULL;
}

typedef struct cas_reader {
  tsmap *m;
  _Atomic int *stop;
  long bad, reads;
} cas_reader;

/* Counts only rise, one a write: a larger version never comes with a smaller count. */
static void *cas_read_main(void *arg) {
  cas_reader *r = (cas_reader *)arg;
  uint64_t seen_ver[CAS_KEYS] = {0}, seen_val[CAS_KEYS] = {0};
  while (!atomic_load(r->stop)) {
    for (uint64_t k = 0; k < CAS_KEYS; k++) {
      uint64_t v = 0, ver = 0;
      tsmap_status st = tsmap_get_version(r->m, &k, 8, &v, &ver);
      if (st == TSMAP_NOT_FOUND) {
        r->bad += seen_ver[k] != 0; /* never removed once written */
        continue;
      }
      r->reads++;
      r->bad += st != TSMAP_OK || ver < seen_ver[k] || v < seen_val[k] ||
                (ver == seen_ver[k] && v != seen_val[k]);
      seen_ver[k] = ver;
      seen_val[k] = v;
    }
  }
  return NULL;
}

static void test_cas_under_contention_during_reshards(void) {
  tsmap_test_watchdog("test_cas_under_contention_during_reshards", 120);
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.key_size = 8;
  cfg.versions = 1;
  cfg.shard_count = 1;
  cfg.max_shard_count = 64;
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  if (!m)
    return;
  _Atomic int stop = 0;
  static const size_t counts[] = {16, 2, 64, 1, 8, 4};
  resharder rs = {m, counts, 6, &stop, 0};
  cas_reader rd = {m, &stop, 0, 0};
  cas_worker w[CAS_THREADS];
  pthread_t t[CAS_THREADS], tr, trd;
  pthread_create(&tr, NULL, reshard_main, &rs);
  pthread_create(&trd, NULL, cas_read_main, &rd);
  for (unsigned i = 0; i < CAS_THREADS; i++) {
    memset(&w[i], 0, sizeof w[i]);
    w[i].m = m;
    w[i].rs = &rs;
    w[i].id = i;
    w[i].iters = 60000 / SCALE;
    pthread_create(&t[i], NULL, cas_main, &w[i]);
  }
  long bad = 0;
  for (unsigned i = 0; i < CAS_THREADS; i++) {
    pthread_join(t[i], NULL);
    bad += w[i].bad;
  }
  atomic_store(&stop, 1);
  pthread_join(tr, NULL);
  pthread_join(trd, NULL);
  CHECK(bad == 0);
  CHECK(rd.bad == 0);
  CHECK(rs.reshards >= MIN_RESHARDS);
  for (uint64_t k = 0; k < CAS_KEYS; k++) {
    long want = 0;
    for (unsigned i = 0; i < CAS_THREADS; i++)
      want += w[i].done[k];
    uint64_t v = 0;
    CHECK_ST(tsmap_get(m, &k, 8, &v), TSMAP_OK);
    CHECK(v == (uint64_t)want);
    if (v != (uint64_t)want)
      fprintf(stderr, "  key %llu: %llu, want %ld\n", (unsigned long long)k,
              (unsigned long long)v, want);
  }
  if (bad || rd.bad || getenv("TSMAP_CROSSFIRE_PRINT"))
    fprintf(stderr, "  breaches: workers %ld, reader %ld (%ld reads, %ld reshards)\n", bad,
            rd.bad, rd.reads, rs.reshards);
  tsmap_destroy(m);
  alarm(0);
}

/* ======================================================================================
 * A change feed followed during reshards
 * ====================================================================================== */

#define FEED_KEYS 2048

typedef struct feed_copy {
  uint64_t val[FEED_KEYS], ver[FEED_KEYS];
  uint64_t since;
  long bad, visits;
} feed_copy;

static int feed_visit(const tsmap_change *c, void *ctx) {
  feed_copy *f = (feed_copy *)ctx;
  uint64_t k = 0;
  f->visits++;
  if (c->key_len != 8 || !c->value || c->version <= f->since) {
    f->bad++;
    return 0;
  }
  memcpy(&k, c->key, 8);
  if (k >= FEED_KEYS) {
    f->bad++;
    return 0;
  }
  if (c->version > f->ver[k]) { /* a change may be visited twice (G12 (d)) */
    f->ver[k] = c->version;
    memcpy(&f->val[k], c->value, 8);
  }
  return 0;
}

static tsmap_status feed_pull(tsmap *m, feed_copy *f) {
  uint64_t next = 0;
  tsmap_status st = tsmap_foreach_since(m, f->since, feed_visit, f, &next);
  if (st == TSMAP_OK)
    f->since = next;
  return st;
}

static _Atomic int feed_writers_done;

typedef struct feed_writer {
  tsmap *m;
  resharder *rs;
  unsigned id;
  long ops;
  long bad;
} feed_writer;

static void *feed_write_main(void *arg) {
  feed_writer *w = (feed_writer *)arg;
  uint64_t x = 0x9e37u + w->id;
  for (long i = 0; i < w->ops || atomic_load(&w->rs->reshards) < MIN_RESHARDS; i++) {
    x = tsmap_test_mix(x);
    uint64_t k = x % FEED_KEYS, v = ((uint64_t)w->id << 40) | (uint64_t)i;
    tsmap_status st = tsmap_put(w->m, &k, 8, &v, NULL);
    w->bad += st != TSMAP_OK && st != TSMAP_REPLACED;
  }
  atomic_fetch_add(&feed_writers_done, 1);
  return NULL;
}

static void test_feed_followed_during_reshards(void) {
  tsmap_test_watchdog("test_feed_followed_during_reshards", 120);
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.key_size = 8;
  cfg.versions = 1;
  cfg.shard_count = 2;
  cfg.max_shard_count = 32;
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  if (!m)
    return;
  static feed_copy f;
  memset(&f, 0, sizeof f);
  atomic_store(&feed_writers_done, 0);
  _Atomic int stop = 0;
  static const size_t counts[] = {32, 4, 1, 16, 2};
  resharder rs = {m, counts, 5, &stop, 0};
  feed_writer w[2] = {{m, &rs, 1, 150000 / SCALE, 0}, {m, &rs, 2, 150000 / SCALE, 0}};
  pthread_t tw[2], tr;
  pthread_create(&tr, NULL, reshard_main, &rs);
  for (int i = 0; i < 2; i++)
    pthread_create(&tw[i], NULL, feed_write_main, &w[i]);
  long pulls = 0;
  while (atomic_load(&feed_writers_done) < 2) { /* follow while they write */
    CHECK_ST(feed_pull(m, &f), TSMAP_OK);
    pulls++;
  }
  for (int i = 0; i < 2; i++)
    pthread_join(tw[i], NULL);
  atomic_store(&stop, 1);
  pthread_join(tr, NULL);
  CHECK_ST(feed_pull(m, &f), TSMAP_OK); /* the changes after the last pull */
  CHECK(w[0].bad == 0 && w[1].bad == 0);
  CHECK(f.bad == 0);
  long wrong = 0;
  for (uint64_t k = 0; k < FEED_KEYS; k++) {
    uint64_t v = 0, ver = 0;
    tsmap_status st = tsmap_get_version(m, &k, 8, &v, &ver);
    if (st == TSMAP_NOT_FOUND)
      wrong += f.ver[k] != 0;
    else
      wrong += st != TSMAP_OK || v != f.val[k] || ver != f.ver[k];
  }
  CHECK(wrong == 0);
  if (wrong || f.bad || getenv("TSMAP_CROSSFIRE_PRINT"))
    fprintf(stderr, "  %ld keys differ from the feed's copy, %ld bad visits (%ld pulls, %ld "
            "reshards)\n", wrong, f.bad, pulls, rs.reshards);
  tsmap_destroy(m);
  alarm(0);
}

/* ======================================================================================
 * fork while a growth is in progress and the maintenance thread reclaims
 * ====================================================================================== */

#define FORK_STABLE 20000u

static void long_key(char *buf, size_t len, uint64_t k) {
  memset(buf, 'a' + (int)(k % 26), len);
  memcpy(buf, &k, sizeof k);
}

typedef struct churner {
  tsmap *m;
  _Atomic int *stop;
  long bad;
} churner;

/* Inserts fresh long keys and removes them 30,000 later (retired key blocks, tables). */
static void *churn_main(void *arg) {
  churner *c = (churner *)arg;
  char key[40];
  for (uint64_t k = (uint64_t)1 << 30; !atomic_load(c->stop); k++) {
    long_key(key, sizeof key, k);
    tsmap_status st = tsmap_put(c->m, key, sizeof key, &k, NULL);
    c->bad += st != TSMAP_OK;
    if (k >= ((uint64_t)1 << 30) + 30000) { /* a window of 30,000: rehashes, growths */
      long_key(key, sizeof key, k - 30000);
      c->bad += tsmap_remove(c->m, key, sizeof key, NULL) != TSMAP_OK;
    }
  }
  return NULL;
}

static int child_checks(tsmap *m) {
  char key[40];
  int bad = 0;
  for (uint64_t k = 0; k < FORK_STABLE; k++) {
    uint64_t v = 0;
    long_key(key, sizeof key, k);
    bad += tsmap_get(m, key, sizeof key, &v) != TSMAP_OK || v != k;
  }
  for (uint64_t k = (uint64_t)1 << 40; k < ((uint64_t)1 << 40) + 10000; k++) { /* moves growths on */
    long_key(key, sizeof key, k);
    bad += tsmap_put(m, key, sizeof key, &k, NULL) != TSMAP_OK;
  }
  bad += tsmap_maintain(m, SIZE_MAX) != TSMAP_OK;
  size_t n = 0;
  bad += tsmap_size(m, &n) != TSMAP_OK || n < FORK_STABLE + 10000;
  bad += tsmap_close(m) != TSMAP_OK;
  tsmap_destroy(m);
  return bad;
}

static void test_fork_during_growth_and_reclaim(void) {
  tsmap_test_watchdog("test_fork_during_growth_and_reclaim", 120);
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.shard_count = 2;
  cfg.maintain_interval_ns = 100000; /* 100 us: the thread reclaims all along */
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  if (!m)
    return;
  char key[40];
  for (uint64_t k = 0; k < FORK_STABLE; k++) {
    long_key(key, sizeof key, k);
    CHECK_ST(tsmap_put(m, key, sizeof key, &k, NULL), TSMAP_OK);
  }
  _Atomic int stop = 0;
  churner c = {m, &stop, 0};
  pthread_t t;
  pthread_create(&t, NULL, churn_main, &c);
  int children = SCALE > 1 ? 4 : 10, failed = 0;
  for (int i = 0; i < children; i++) {
    nap_us(20000);
    pid_t pid = fork();
    if (pid == 0) {
      alarm(30); /* a child that hangs (a lock inherited held) exits 3 (the watchdog) */
      _exit(child_checks(m) ? 1 : 0);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    failed += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
  }
  atomic_store(&stop, 1);
  pthread_join(t, NULL);
  CHECK(failed == 0);
  CHECK(c.bad == 0);
  for (uint64_t k = 0; k < FORK_STABLE; k += 7) {
    uint64_t v = 0;
    long_key(key, sizeof key, k);
    CHECK_ST(tsmap_get(m, key, sizeof key, &v), TSMAP_OK);
  }
  tsmap_destroy(m);
  alarm(0);
}

/* ======================================================================================
 * tsmap_maintain reclaiming under readers (G3)
 * ====================================================================================== */

typedef struct window {
  tsmap *m;
  _Atomic uint64_t lo;   /* keys lo .. lo + 63 are present (the writer's window) */
  _Atomic int stop;
  _Atomic long bad, reads_at;
} window;

/* A sliding window of long keys: insert the next, remove the oldest. Every removal retires
 * a key block, and the DELETED slots bring same-size rehashes that retire tables. */
static void *window_write_main(void *arg) {
  window *w = (window *)arg;
  char key[40];
  for (uint64_t k = 64; !atomic_load(&w->stop); k++) {
    long_key(key, sizeof key, k);
    w->bad += tsmap_put(w->m, key, sizeof key, &k, NULL) != TSMAP_OK;
    atomic_store(&w->lo, k - 63);
    long_key(key, sizeof key, k - 64);
    w->bad += tsmap_remove(w->m, key, sizeof key, NULL) != TSMAP_OK;
  }
  return NULL;
}

/* Reads the window's keys: a key read is its own number, or absent (removed meanwhile). */
static void *window_read_main(void *arg) {
  window *w = (window *)arg;
  char key[40];
  for (uint64_t x = 1; !atomic_load(&w->stop); x++) {
    uint64_t k = atomic_load(&w->lo) + x % 64, v = 0;
    long_key(key, sizeof key, k);
    tsmap_status st = tsmap_get(w->m, key, sizeof key, &v);
    w->bad += st == TSMAP_OK ? v != k : st != TSMAP_NOT_FOUND;
    atomic_fetch_add(&w->reads_at, 1);
  }
  return NULL;
}

static void *window_maintain_main(void *arg) {
  window *w = (window *)arg;
  while (!atomic_load(&w->stop))
    w->bad += tsmap_maintain(w->m, SIZE_MAX) != TSMAP_OK;
  return NULL;
}

static void test_maintain_reclaims_under_readers(void) {
  tsmap_test_watchdog("test_maintain_reclaims_under_readers", 60);
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.shard_count = 1;
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  if (!m)
    return;
  char key[40];
  for (uint64_t k = 0; k < 64; k++) {
    long_key(key, sizeof key, k);
    CHECK_ST(tsmap_put(m, key, sizeof key, &k, NULL), TSMAP_OK);
  }
  static window w[1];
  memset(w, 0, sizeof w);
  w[0].m = m;
  pthread_t t[4];
  void *(*mains[4])(void *) = {window_write_main, window_read_main, window_read_main,
                               window_maintain_main};
  for (int i = 0; i < 4; i++) /* one writer, two readers, one maintainer */
    pthread_create(&t[i], NULL, mains[i], &w[0]);
  nap_us(SCALE > 1 ? 600000 : 1500000);
  atomic_store(&w[0].stop, 1);
  for (int i = 0; i < 4; i++)
    pthread_join(t[i], NULL);
  CHECK(w[0].bad == 0);
  CHECK(atomic_load(&w[0].reads_at) > 1000);
  tsmap_destroy(m);
  alarm(0);
}

/* ======================================================================================
 * Replicas: local writes, merges both ways and tsmap_forget at once (G13 (b), (d), (e))
 * ====================================================================================== */

#define REP_KEYS 16384

typedef struct rep_pair {
  tsmap *r[2];
  _Atomic int stop;
  _Atomic uint64_t horizon[2]; /* every change at or below was delivered both ways */
  _Atomic long forgotten, bad;
} rep_pair;

typedef struct rep_send {
  tsmap *to;
  long bad, sent;
} rep_send;

static int rep_visit(const tsmap_change *c, void *ctx) {
  rep_send *s = (rep_send *)ctx;
  tsmap_status st = tsmap_merge(s->to, c, NULL, NULL, NULL);
  s->bad += st != TSMAP_OK && st != TSMAP_REPLACED && st != TSMAP_EXISTS;
  s->sent++;
  return 0;
}

/* Export r[from] since *since into r[1 - from]; *since moves on. */
static long rep_deliver(rep_pair *p, int from, uint64_t *since) {
  rep_send s = {p->r[1 - from], 0, 0};
  uint64_t next = 0;
  if (tsmap_export(p->r[from], *since, rep_visit, &s, &next) != TSMAP_OK)
    s.bad++;
  else
    *since = next;
  p->bad += s.bad;
  return s.sent;
}

static void *rep_write_main(void *arg) {
  rep_pair *p = (rep_pair *)arg;
  static _Atomic unsigned seeds;
  unsigned id = atomic_fetch_add(&seeds, 1);
  uint64_t x = 0xabcdu + id;
  tsmap *m = p->r[id % 2];
  while (!atomic_load(&p->stop)) {
    x = tsmap_test_mix(x);
    uint64_t k = x % REP_KEYS, v = x >> 8;
    int put = (x >> 40) & 3; /* 3 in 4; bits the key does not use */
    tsmap_status st = put ? tsmap_put(m, &k, 8, &v, NULL) : tsmap_remove(m, &k, 8, NULL);
    p->bad += st != TSMAP_OK && st != TSMAP_REPLACED && st != TSMAP_NOT_FOUND;
  }
  return NULL;
}

/* Delivers both ways; a replica's changes up to the cursor an export returned have all
 * reached the other (G12 (d)), so the two cursors make a horizon both have passed. */
static void *rep_exchange_main(void *arg) {
  rep_pair *p = (rep_pair *)arg;
  uint64_t since[2] = {0, 0};
  while (!atomic_load(&p->stop)) {
    for (int from = 0; from < 2; from++) {
      rep_deliver(p, from, &since[from]);
      atomic_store(&p->horizon[from], since[from]);
    }
  }
  return NULL;
}

static void *rep_forget_main(void *arg) {
  rep_pair *p = (rep_pair *)arg;
  while (!atomic_load(&p->stop)) {
    uint64_t h[2] = {atomic_load(&p->horizon[0]), atomic_load(&p->horizon[1])};
    for (int i = 0; i < 2; i++) {
      size_t n = 0;
      p->bad += tsmap_forget(p->r[i], h, 2, &n) != TSMAP_OK;
      p->forgotten += (long)n;
    }

    nap_us(200);
  }
  return NULL;
}

static void test_replicas_merge_write_and_forget_at_once(void) {
  tsmap_test_watchdog("test_replicas_merge_write_and_forget_at_once", 120);
  static rep_pair p;
  memset(&p, 0, sizeof p);
  for (int i = 0; i < 2; i++) {
    tsmap_config cfg;
    tsmap_config_init(&cfg, 8);
    cfg.key_size = 8;
    cfg.shard_count = 4;
    cfg.replicas = 2;
    cfg.replica_id = (size_t)i;
    CHECK_ST(tsmap_create(&cfg, &p.r[i]), TSMAP_OK);
    if (!p.r[i])
      return;
  }
  pthread_t t[4];
  void *(*mains[4])(void *) = {rep_write_main, rep_write_main, rep_exchange_main,
                               rep_forget_main};
  for (int i = 0; i < 4; i++)
    pthread_create(&t[i], NULL, mains[i], &p);
  nap_us(SCALE > 1 ? 500000 : 1500000);
  for (int i = 0; i < 100 && atomic_load(&p.forgotten) < 100; i++)
    nap_us(100000); /* until forget has dropped some while the others run */
  atomic_store(&p.stop, 1);
  for (int i = 0; i < 4; i++)
    pthread_join(t[i], NULL);
  uint64_t since[2] = {0, 0};
  long rounds = 0, moved;
  do /* to a fixed point: full exchanges both ways */
    moved = rep_deliver(&p, 0, &since[0]) + rep_deliver(&p, 1, &since[1]);
  while (moved && ++rounds < 20);
  /* Removals after the horizon both replicas passed: forgetting up to it keeps their
   * tombstones, so the other replica's older values do not bring the keys back. */
  uint64_t h[2] = {since[0], since[1]};
  for (uint64_t k = 0; k < 64; k++)
    (void)tsmap_remove(p.r[0], &k, 8, NULL);
  for (int i = 0; i < 2; i++)
    CHECK_ST(tsmap_forget(p.r[i], h, 2, NULL), TSMAP_OK);
  do
    moved = rep_deliver(&p, 0, &since[0]) + rep_deliver(&p, 1, &since[1]);
  while (moved && ++rounds < 40);
  long back = 0;
  for (uint64_t k = 0; k < 64; k++)
    for (int i = 0; i < 2; i++)
      back += tsmap_get(p.r[i], &k, 8, NULL) != TSMAP_NOT_FOUND;
  CHECK(back == 0);
  long differ = 0;
  for (uint64_t k = 0; k < REP_KEYS; k++) {
    uint64_t v[2] = {0, 0};
    tsmap_status st[2];
    for (int i = 0; i < 2; i++)
      st[i] = tsmap_get(p.r[i], &k, 8, &v[i]);
    differ += st[0] != st[1] || v[0] != v[1];
  }
  CHECK(p.bad == 0);
  CHECK(differ == 0);
  CHECK(p.forgotten > 0);
  if (differ || back || p.bad || getenv("TSMAP_CROSSFIRE_PRINT"))
    fprintf(stderr, "  %ld keys differ, %ld removed keys back, %ld bad statuses, %ld tombstones "
            "forgotten, %ld exchanges after\n", differ, back, (long)p.bad, (long)p.forgotten,
            rounds + 1);
  tsmap_destroy(p.r[0]);
  tsmap_destroy(p.r[1]);
  alarm(0);
}

/* ======================================================================================
 * NUMA placement on a one-node machine
 * ====================================================================================== */

static int write_file(const char *dir, const char *name, const char *text) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f)
    return 0;
  fputs(text, f);
  return fclose(f) == 0;
}

static void check_one_node(tsmap *m, size_t shards) {
  for (size_t i = 0; i < shards; i++) {
    tsmap_shard_placement p;
    memset(&p, 0xa5, sizeof p);
    CHECK_ST(tsmap_placement(m, i, &p), TSMAP_OK);
    CHECK(p.node == 0);
    CHECK(p.node_count == 1);
    CHECK(p.reason != NULL);
    /* bound: every table bound, no errno, no reason; else an errno or a reason */
    CHECK(p.bound ? (p.error == 0 && p.reason[0] == '\0') : p.reason[0] != '\0');
  }
}

static void test_placement_on_a_one_node_machine(void) {
  char root[] = "/tmp/tsmap-one-node-XXXXXX";
  if (!mkdtemp(root)) {
    CHECK(!"mkdtemp");
    return;
  }
  char node[600];
  snprintf(node, sizeof node, "%s/node0", root);
  CHECK(mkdir(node, 0700) == 0);
  CHECK(write_file(root, "online", "0\n"));
  CHECK(write_file(node, "cpulist", "0-1023\n"));
  size_t n = 0;
  CHECK_ST(tsmap_numa_node_count(root, &n), TSMAP_OK);
  CHECK(n == 1);
  size_t real = 0; /* this machine's own sysfs too, when it has one node */
  int roots = tsmap_numa_node_count(NULL, &real) == TSMAP_OK && real == 1 ? 2 : 1;
  tsmap_placement_policy pol[] = {TSMAP_PLACE_INTERLEAVE, TSMAP_PLACE_LOCAL};
  for (int p = 0; p < 2 * roots; p++) {
    tsmap_config cfg;
    tsmap_config_init(&cfg, 8);
    cfg.key_size = 8;
    cfg.shard_count = 4;
    cfg.max_shard_count = 16;
    cfg.placement = pol[p % 2];
    cfg.numa_root = p < 2 ? root : NULL;
    tsmap *m = NULL;
    CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
    if (!m)
      continue;
    for (uint64_t k = 0; k < 50000; k++) /* growths: every table bound the same way */
      CHECK_ST(tsmap_put(m, &k, 8, &k, NULL), TSMAP_OK);
    check_one_node(m, 4);
    CHECK_ST(tsmap_reshard(m, 16), TSMAP_OK);
    tsmap_test_finish_reshard(m);
    check_one_node(m, 16); /* the shards a reshard adds: on the one node too */
    tsmap_shard_placement out;
    out.shard_count = 0;
    CHECK_ST(tsmap_placement(m, 16, &out), TSMAP_INVALID_ARGUMENT);
    CHECK(out.shard_count == 16);
    for (uint64_t k = 0; k < 50000; k += 101) {
      uint64_t v = 0;
      CHECK_ST(tsmap_get(m, &k, 8, &v), TSMAP_OK);
      CHECK(v == k);
    }
    tsmap_destroy(m);
  }
  char path[700];
  snprintf(path, sizeof path, "%s/cpulist", node);
  unlink(path);
  rmdir(node);
  snprintf(path, sizeof path, "%s/online", root);
  unlink(path);
  rmdir(root);
}

/* ======================================================================================
 * Exactly once across reshards, expiry, maintenance, discards and a racing close
 * ====================================================================================== */

#define LEDGER_IDS (1u << 23)

static _Atomic unsigned char led_in[LEDGER_IDS], led_out[LEDGER_IDS], led_discard[LEDGER_IDS];
/* What the test knows of an id: LED_CALLBACK, a callback's result (it enters or is
 * discarded, once); LED_STORED, a put that succeeded (it entered). */
static _Atomic unsigned char led_kind[LEDGER_IDS];
enum { LED_CALLBACK = 1, LED_STORED = 2 };
static _Atomic uint64_t led_next = 1;
static _Atomic long led_overflow;

static void led_created(const void *k, size_t kl, const void *v, void *ctx) {
  (void)k, (void)kl, (void)ctx;
  uint64_t id;
  memcpy(&id, v, 8);
  if (id < LEDGER_IDS)
    led_in[id]++;
}
static void led_evicted(const void *k, size_t kl, void *v, tsmap_evict_reason why,
                        void *ctx) {
  (void)k, (void)kl, (void)ctx;
  uint64_t id;
  memcpy(&id, v, 8);
  if (id >= LEDGER_IDS)
    return;
  if (why == TSMAP_EVICT_DISCARDED)
    led_discard[id]++;
  else
    led_out[id]++;
}
static uint64_t led_take(void) {
  uint64_t id = atomic_fetch_add(&led_next, 1);
  if (id >= LEDGER_IDS)
    led_overflow++;
  return id;
}

static int led_absent(const void *k, size_t kl, void *ctx, void *out) {
  (void)k, (void)kl, (void)ctx;
  uint64_t id = led_take();
  if (id < LEDGER_IDS)
    led_kind[id] = LED_CALLBACK;
  memcpy(out, &id, 8);
  return 0;
}
static tsmap_verdict led_compute(const void *k, size_t kl, const void *old, void *ctx,
                                 void *out) {
  (void)k, (void)kl, (void)ctx;
  if (old && (led_next & 3) == 0)
    return TSMAP_DELETE;
  uint64_t id = led_take();
  if (id < LEDGER_IDS)
    led_kind[id] = LED_CALLBACK;
  memcpy(out, &id, 8);
  return TSMAP_STORE;
}

typedef struct led_worker {
  tsmap *m;
  unsigned id;
  long closed_seen, bad;
} led_worker;

#define LED_KEYS 4096

/* A long key per number: its block is retired by every removal (G3). */
static void led_key(char *buf, uint64_t k) { long_key(buf, 48, k); }

static void led_op(led_worker *w, uint64_t x) {
  char key[48];
  led_key(key, x % LED_KEYS);
  uint64_t id, out = 0;
  uint64_t ttl = (x >> 20) % 3 == 0 ? TSMAP_TTL_NEVER : 200000 + (x >> 24) % 2000000;
  tsmap_status st;
  switch ((x >> 12) % 6) {
  case 0:
    id = led_take();
    st = tsmap_put_ttl(w->m, key, 48, &id, ttl, NULL);
    if ((st == TSMAP_OK || st == TSMAP_REPLACED) && id < LEDGER_IDS)
      led_kind[id] = LED_STORED;
    break;
  case 1: /* the caller owns what it removes */
    st = tsmap_remove(w->m, key, 48, &out);
    if (st == TSMAP_OK && out < LEDGER_IDS)
      led_out[out]++;
    break;
  case 2:
    st = tsmap_compute_if_absent_ttl(w->m, key, 48, led_absent, NULL, ttl, NULL); // NOLINT(tsmap-non-idempotent-callback): each run a fresh id, stored or discarded once (the ledger)
    break;
  case 3:
    st = tsmap_compute_ttl(w->m, key, 48, led_compute, NULL, ttl, NULL); // NOLINT(tsmap-non-idempotent-callback): each run a fresh id, stored or discarded once (the ledger)
    break;
  case 4: /* the old value handed to the caller */
    id = led_take();
    st = tsmap_put(w->m, key, 48, &id, &out);
    if ((st == TSMAP_OK || st == TSMAP_REPLACED) && id < LEDGER_IDS)
      led_kind[id] = LED_STORED;
    if (st == TSMAP_REPLACED && out < LEDGER_IDS)
      led_out[out]++;
    break;
  default:
    st = tsmap_get(w->m, key, 48, &out);
    break;
  }
  if (st == TSMAP_CLOSED)
    w->closed_seen++;
  else
    w->bad += st != TSMAP_OK && st != TSMAP_REPLACED && st != TSMAP_NOT_FOUND &&
              st != TSMAP_REMOVED;
}

static void *led_main(void *arg) {
  led_worker *w = (led_worker *)arg;
  uint64_t x = 0x51ed + w->id;
  while (w->closed_seen < 1000) {
    x = tsmap_test_mix(x);
    led_op(w, x);
  }
  return NULL;
}

/* One map: three workers, a resharder and the map's thread for `us`, then a close that
 * races them all. Returns the workers' bad statuses; adds the reshards to *reshards. */
static long led_round(long us, long *reshards) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.shard_count = 2;
  cfg.max_shard_count = 32;
  cfg.expiry = 1;
  cfg.maintain_interval_ns = 200000;
  cfg.maintain_budget = 256;
  cfg.on_entry_created = led_created;
  cfg.on_entry_evicted = led_evicted;
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  if (!m)
    return 1;
  _Atomic int stop = 0;
  static const size_t counts[] = {8, 32, 1, 4, 16, 2};
  resharder rs = {m, counts, 6, &stop, 0};
  led_worker w[3];
  pthread_t t[3], tr;
  pthread_create(&tr, NULL, reshard_main, &rs);
  for (unsigned i = 0; i < 3; i++) {
    memset(&w[i], 0, sizeof w[i]);
    w[i].m = m;
    w[i].id = i;
    pthread_create(&t[i], NULL, led_main, &w[i]);
  }
  nap_us(us);
  CHECK_ST(tsmap_close(m), TSMAP_OK); /* races the writers, the resharder, the thread */
  for (unsigned i = 0; i < 3; i++)
    pthread_join(t[i], NULL);
  atomic_store(&stop, 1);
  pthread_join(tr, NULL);
  tsmap_destroy(m);
  *reshards += rs.reshards;
  return w[0].bad + w[1].bad + w[2].bad;
}

static void test_exactly_once_across_reshards_expiry_and_close(void) {
  tsmap_test_watchdog("test_exactly_once_across_reshards_expiry_and_close", 120);
  memset(led_in, 0, sizeof led_in);
  memset(led_out, 0, sizeof led_out);
  memset(led_discard, 0, sizeof led_discard);
  memset(led_kind, 0, sizeof led_kind);
  long bad = 0, reshards = 0;
  for (int r = 0; r < 5; r++) /* closes at five moments */
    bad += led_round((SCALE > 1 ? 80000 : 200000) + r * 17000, &reshards);
  long entered = 0, wrong = 0, discards = 0;

  uint64_t ids = atomic_load(&led_next);
  for (uint64_t id = 1; id < ids && id < LEDGER_IDS; id++) {
    entered += led_in[id];
    discards += led_discard[id];
    /* entered once and left once; or never entered and at most discarded once */
    wrong += led_in[id] > 1 || led_out[id] != led_in[id] || led_discard[id] > 1 ||
             (led_in[id] && led_discard[id]) ||
             (led_kind[id] == LED_CALLBACK && led_in[id] + led_discard[id] != 1) ||
             (led_kind[id] == LED_STORED && led_in[id] != 1);
  }
  CHECK(bad == 0);
  CHECK(wrong == 0);
  CHECK(led_overflow == 0);
  CHECK(entered > 1000);
  CHECK(reshards >= 5);
  if (wrong || bad || getenv("TSMAP_CROSSFIRE_PRINT"))
    fprintf(stderr, "  %ld ids wrong, %ld bad statuses, %ld entered, %ld discarded, %ld "
            "reshards\n", wrong, bad, entered, discards, reshards);
  alarm(0);
}

TEST_MAIN(T(test_cas_under_contention_during_reshards), T(test_feed_followed_during_reshards),
          T(test_fork_during_growth_and_reclaim), T(test_maintain_reclaims_under_readers),
          T(test_replicas_merge_write_and_forget_at_once), T(test_placement_on_a_one_node_machine),
          T(test_exactly_once_across_reshards_expiry_and_close))
