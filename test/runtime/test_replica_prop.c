/*
 * test_replica_prop.c - the replication property (G13): three replicas (maps in this
 * process) take random concurrent puts and removes from several threads while another
 * thread moves deltas between them (tsmap_export since a per-pair cursor, sometimes from
 * an older cursor, so duplicates; encoded and decoded; merged in a random order, some
 * twice). After the writers stop, full exchanges run until nothing changes. Then:
 *   P1  every replica holds the same entries and tombstones (value, stamp, clock);
 *   P2  no write is lost: the final clock of each key covers every recorded write and
 *       remove of it (event (r, v) is covered when clock[r] >= v);
 *   P3  nothing that happened after is lost to what happened before: each key ends as
 *       its recorded event with the largest stamp (a Lamport timestamp: a write that
 *       happened after another has a larger one), value or removal;
 *   P4  every value that entered a replica (on_entry_created) left it exactly once
 *       (on_entry_evicted: replaced, removed, or closed at the end; G6, G13 c);
 * for every seed. Usage: tsmap_rt_replica_prop [seeds] [first seed].
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>

#include "tsmap_test.h"

#ifdef TSMAP_STRESS_SMALL
#define SEEDS 300
#else
#define SEEDS 2000
#endif
#define NREP 3
#define WRITERS 3
#define OPS 120
#define KEYS 6
#define MIN_SHIPS 12  /* deltas per seed, at least: some after the writers stopped */
#define MAX_SHIPS 400 /* and at most, so a seed's time is bounded */

static _Atomic long g_entered, g_left;

static void on_created(const void *k, size_t kl, const void *v, void *ctx) {
  (void)k, (void)kl, (void)v, (void)ctx;
  g_entered++;
}
static void on_evicted(const void *k, size_t kl, void *v, tsmap_evict_reason why, void *ctx) {
  (void)k, (void)kl, (void)v, (void)ctx;
  if (why != TSMAP_EVICT_DISCARDED) /* a resolver result that never entered */
    g_left++;
}

typedef struct event {
  uint64_t key, version, value;
  unsigned replica;
  int removed;
} event;

typedef struct world {
  tsmap *rep[NREP];
  uint64_t cursor[NREP][NREP];
  event ev[WRITERS][OPS];
  int nev[WRITERS];
  _Atomic int writers_done;
  uint64_t seed;
} world;

static uint64_t rnd(uint64_t *s) {
  *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
  return *s;
}

/* ---- Writers ---------------------------------------------------------------------------- */

typedef struct writer_arg {
  world *w;
  int id;
} writer_arg;

static void *writer(void *p) {
  writer_arg *a = (writer_arg *)p;
  world *w = a->w;
  uint64_t s = w->seed * 31 + (uint64_t)a->id + 1;
  for (int i = 0; i < OPS; i++) {
    unsigned r = (unsigned)(rnd(&s) % NREP);
    uint64_t k = rnd(&s) % KEYS, ver = 0;
    uint64_t val = ((uint64_t)a->id << 32) | (uint64_t)i; /* unique */
    event *e = &w->ev[a->id][w->nev[a->id]];
    if (rnd(&s) % 4 == 0) {
      if (tsmap_remove_if_version(w->rep[r], &k, 8, TSMAP_VERSION_ANY, &ver, NULL) != TSMAP_OK)
        continue;
      *e = (event){k, ver, 0, r, 1};
    } else {
      CHECK(tsmap_put_if_version(w->rep[r], &k, 8, &val, TSMAP_VERSION_ANY, &ver, NULL) <=
            TSMAP_REPLACED);
      *e = (event){k, ver, val, r, 0};
    }
    w->nev[a->id]++;
  }
  w->writers_done++;
  return NULL;
}

/* ---- Deltas ------------------------------------------------------------------------------ */

typedef struct delta {
  unsigned char *buf;
  size_t len, cap;
  size_t off[4096];
  size_t n;
} delta;

static int collect(const tsmap_change *c, void *ctx) {
  delta *d = (delta *)ctx;
  size_t need = 0;
  tsmap_change_encode(c, 8, NULL, 0, &need);
  if (d->len + need > d->cap || d->n == 4096)
    return 1;
  CHECK_ST(tsmap_change_encode(c, 8, d->buf + d->len, d->cap - d->len, &need), TSMAP_OK);
  d->off[d->n++] = d->len;
  d->len += need;
  return 0;
}

/* Export src since `since` and merge it into dst in a random order, some changes twice.
 * Returns how many merges changed dst; *next the cursor to keep. */
static int ship(world *w, unsigned src, unsigned dst, uint64_t since, uint64_t *next,
                uint64_t *s) {
  static _Thread_local unsigned char space[1 << 18];
  delta *d = (delta *)malloc(sizeof *d);
  d->buf = space;
  d->len = d->n = 0;
  d->cap = sizeof space;
  tsmap_status st = tsmap_export(w->rep[src], since, collect, d, next);
  CHECK(st == TSMAP_OK);
  for (size_t i = d->n; i > 1; i--) { /* shuffle */
    size_t j = rnd(s) % i, t = d->off[i - 1];
    d->off[i - 1] = d->off[j];
    d->off[j] = t;
  }
  int changed = 0;
  for (size_t i = 0; i < d->n; i++) {
    tsmap_change c;
    uint64_t clock[TSMAP_MAX_REPLICAS];
    size_t used;
    CHECK_ST(tsmap_change_decode(d->buf + d->off[i], d->len - d->off[i], 8, &c, clock, &used),
             TSMAP_OK);
    for (int twice = rnd(s) % 5 == 0; twice >= 0; twice--) {
      tsmap_status m = tsmap_merge(w->rep[dst], &c, NULL, NULL, NULL);
      CHECK(m == TSMAP_OK || m == TSMAP_REPLACED || m == TSMAP_EXISTS);
      changed += m != TSMAP_EXISTS;
    }
  }
  free(d);
  return changed;
}

static void *exchanger(void *p) {
  world *w = (world *)p;
  uint64_t s = w->seed * 7 + 3;
  for (int ships = 0; ships < MAX_SHIPS && (w->writers_done < WRITERS || ships < MIN_SHIPS);
       ships++) {
    unsigned src = (unsigned)(rnd(&s) % NREP), dst = (unsigned)((src + 1 + rnd(&s) % 2) % NREP);
    uint64_t since = rnd(&s) % 4 == 0 ? w->cursor[src][dst] / 2 : w->cursor[src][dst];
    uint64_t next = 0;
    ship(w, src, dst, since, &next, &s);
    if (next > w->cursor[src][dst])
      w->cursor[src][dst] = next;
    if (ships % 4 == 3)
      sched_yield(); /* let the writers run too (2 cores, 4 threads) */
  }
  return NULL;
}

/* ---- Checks ------------------------------------------------------------------------------ */

typedef struct final {
  int kind[KEYS]; /* 0 never seen, 1 value, 2 tombstone */
  uint64_t value[KEYS], stamp[KEYS], clock[KEYS][NREP];
} final;

static int grab(const tsmap_change *c, void *ctx) {
  final *f = (final *)ctx;
  uint64_t k;
  memcpy(&k, c->key, 8);
  f->kind[k] = c->value ? 1 : 2;
  if (c->value)
    memcpy(&f->value[k], c->value, 8);
  f->stamp[k] = c->stamp;
  for (int i = 0; i < NREP; i++)
    f->clock[k][i] = c->clock[i];
  return 0;
}

static int check_world(world *w) {
  final f[NREP];
  int bad = 0;
  memset(f, 0, sizeof f);
  for (int r = 0; r < NREP; r++)
    tsmap_export(w->rep[r], 0, grab, &f[r], NULL);
  for (int r = 1; r < NREP; r++) /* P1 */
    bad += memcmp(&f[0], &f[r], sizeof f[0]) != 0;
  for (uint64_t k = 0; k < KEYS; k++) {
    const event *last = NULL;
    for (int t = 0; t < WRITERS; t++) {
      for (int i = 0; i < w->nev[t]; i++) {
        const event *e = &w->ev[t][i];
        if (e->key != k)
          continue;
        bad += f[0].clock[k][e->replica] < e->version; /* P2 */
        uint64_t st = (e->version << 8) | e->replica;
        if (!last || st > ((last->version << 8) | last->replica))
          last = e;
      }
    }
    if (!last)
      continue;
    bad += f[0].stamp[k] != ((last->version << 8) | last->replica); /* P3 */
    bad += last->removed ? f[0].kind[k] != 2 : (f[0].kind[k] != 1 || f[0].value[k] != last->value);
  }
  return bad;
}

static int run_seed(uint64_t seed) {
  world *w = (world *)calloc(1, sizeof *w);
  w->seed = seed;
  for (unsigned r = 0; r < NREP; r++) {
    tsmap_config cfg;
    tsmap_config_init(&cfg, 8);
    cfg.key_size = 8;
    cfg.shard_count = 2;
    cfg.replicas = NREP;
    cfg.replica_id = r;
    cfg.on_entry_created = on_created;
    cfg.on_entry_evicted = on_evicted;
    tsmap_create(&cfg, &w->rep[r]);
  }
  pthread_t th[WRITERS], ex;
  writer_arg args[WRITERS];
  pthread_create(&ex, NULL, exchanger, w);
  for (int i = 0; i < WRITERS; i++) {
    args[i] = (writer_arg){w, i};
    pthread_create(&th[i], NULL, writer, &args[i]);
  }
  for (int i = 0; i < WRITERS; i++)
    pthread_join(th[i], NULL);
  pthread_join(ex, NULL);
  uint64_t s = seed + 99;
  for (int round = 0, changed = 1; changed && round < 10; round++) { /* full exchanges */
    changed = 0;
    for (unsigned a = 0; a < NREP; a++)
      for (unsigned b = 0; b < NREP; b++)
        if (a != b) {
          uint64_t next;
          changed += ship(w, a, b, 0, &next, &s);
        }
  }
  int bad = check_world(w);
  for (unsigned r = 0; r < NREP; r++)
    tsmap_destroy(w->rep[r]);
  bad += g_entered != g_left; /* P4 */
  g_entered = g_left = 0;
  free(w);
  return bad;
}

static int g_argc;
static char **g_argv;

static void test_g13_replicas_converge_and_lose_nothing(void) {
  long seeds = g_argc > 1 ? atol(g_argv[1]) : SEEDS, first = g_argc > 2 ? atol(g_argv[2]) : 1;
  int failed = 0;
  for (long i = first; i < first + seeds; i++) {
    int bad = run_seed((uint64_t)i);
    if (bad && failed++ < 5)
      fprintf(stderr, "seed %ld: %d violations\n", i, bad);
  }
  CHECK(failed == 0);
  fprintf(stderr, "  %ld seeds, %d failed\n", seeds, failed);
}

int main(int argc, char **argv) {
  static const tsmap_test_case cases[] = {T(test_g13_replicas_converge_and_lose_nothing)};
  g_argc = argc;
  g_argv = argv;
  return tsmap_test_run(cases, 1, 1, argv);
}
