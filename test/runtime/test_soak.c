/*
 * test_soak.c - black-box round 16: nothing grows without bound while a program's map
 * content stays steady. Leak checkers see only memory unreachable at exit; a server dies
 * of memory still referenced and freed only at destroy, or of threads, mappings,
 * descriptors and registry entries that pile up. Written from tsmap.h, runtime/DESIGN.md
 * and docs/spec.md section 3 alone.
 *
 * Each scenario runs many cycles of a workload whose steady state is fixed and samples,
 * after every cycle, the figures below; then the plateau check: the largest value over
 * the second half of the cycles (one that held two samples in a row: soak_halves) is at
 * most the largest over the first half plus a slack (soak_slack), which is small beside
 * what a leak of one block (or table, thread, mapping, descriptor) per cycle adds over
 * half the cycles. Figures:
 *   alloc    bytes live in a counting config.allocator (the header: every allocation the
 *            map makes but the 64-byte thread records goes through it);
 *   table    tsmap_table_bytes of the scenario's maps (their metrics);
 *   size     tsmap_size of the scenario's maps;
 *   heap     malloc's bytes in use (mallinfo2: thread records, a map without an
 *            allocator's long keys and snapshots, the registry, tsmap_metrics_write_all);
 *   rss, data  VmRSS and VmData of /proc/self/status (KiB);
 *   maps     lines of /proc/self/maps;  threads  entries of /proc/self/task;
 *   fds      entries of /proc/self/fd.
 * Under AddressSanitizer (runtime.asan.soak) malloc is ASan's, whose quarantine grows the
 * heap, RSS and mappings by design: those figures are not checked there; the allocator's,
 * the maps' own, threads and descriptors are, and LeakSanitizer runs at exit.
 *
 * Found: a halving's emptied shards kept a custom allocator's tables until destroy
 * (tsmap_shard_shed since). Mutation-checked: see the DESIGN.md row of runtime.soak.
 *
 * Environment: TSMAP_SOAK_SCALE=n runs n times the cycles; TSMAP_SOAK_PRINT prints every
 * series; TSMAP_SOAK_KINDS=<mask> runs only some kinds of the create/destroy scenario;
 * TSMAP_SOAK_DEBUG prints a scenario's own details.
 */
#include "tsmap_test.h"

#include <dirent.h>
#include <malloc.h>
#include <sched.h>
#include <stdint.h>
#include <sys/wait.h>

#ifdef TSMAP_STRESS_SMALL
#define SCALE 4
#else
#define SCALE 1
#endif

#if defined(__SANITIZE_ADDRESS__)
#define SOAK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SOAK_ASAN 1
#endif
#endif
#ifndef SOAK_ASAN
#define SOAK_ASAN 0
#endif

/* ---- A counting allocator ------------------------------------------------------------- */

typedef struct soak_alloc {
  _Atomic long live_bytes;
  _Atomic long live_blocks;
} soak_alloc;

static void *soak_alloc_fn(size_t size, void *ctx) {
  soak_alloc *a = (soak_alloc *)ctx;
  void *p = NULL;
  if (posix_memalign(&p, 16, size ? size : 16) != 0)
    return NULL;
  a->live_bytes += (long)size;
  a->live_blocks++;
  return p;
}
static void soak_free_fn(void *p, size_t size, void *ctx) {
  soak_alloc *a = (soak_alloc *)ctx;
  if (!p)
    return;
  a->live_bytes -= (long)size;
  a->live_blocks--;
  free(p);
}

/* ---- Figures of the process ------------------------------------------------------------ */

enum { FIG_ALLOC, FIG_TABLE, FIG_SIZE, FIG_HEAP, FIG_RSS, FIG_DATA, FIG_MAPS, FIG_THREADS,
       FIG_FDS, FIG_N };
static const char *const fig_name[FIG_N] = {"alloc", "table", "size",    "heap", "rss",
                                            "data",  "maps",  "threads", "fds"};

static long count_lines(const char *path) {
  FILE *f = fopen(path, "r");
  long n = 0;
  int c;
  while (f && (c = getc(f)) != EOF)
    n += c == '\n';
  if (f)
    fclose(f);
  return f ? n : -1;
}

static long count_entries(const char *path) {
  DIR *d = opendir(path);
  long n = 0;
  struct dirent *e;
  while (d && (e = readdir(d)) != NULL)
    n += e->d_name[0] != '.';
  if (d)
    closedir(d);
  return d ? n : -1;
}

/* malloc's per-thread caches (tcache: up to 7 freed blocks of each size a thread used) count
 * as in use in mallinfo2 and fill as a workload meets new sizes, a creep of a few KiB
 * that is no leak. The test re-executes itself once with them off, so that `heap` is the
 * bytes the program and the library hold (not under ASan, whose malloc is its own). */
extern char **environ;
__attribute__((constructor)) static void soak_without_tcache(int argc, char **argv) {
  (void)argc;
  if (SOAK_ASAN || getenv("TSMAP_SOAK_REEXECUTED"))
    return;
  setenv("TSMAP_SOAK_REEXECUTED", "1", 1);
  setenv("GLIBC_TUNABLES", "glibc.malloc.tcache_count=0", 1);
  execv("/proc/self/exe", argv); /* on failure, go on: `heap` then has the creep */
}

static long heap_in_use(void) {
  struct mallinfo2 mi = mallinfo2();
  return (long)(mi.uordblks + mi.hblkhd);
}

/* A writer into a growing buffer, for tsmap_metrics_write and _write_all. */
typedef struct soak_text {
  char buf[1 << 16];
  size_t len;
} soak_text;
static int soak_text_put(const char *text, size_t len, void *ctx) {
  soak_text *t = (soak_text *)ctx;
  size_t n = len < sizeof t->buf - 1 - t->len ? len : sizeof t->buf - 1 - t->len;
  memcpy(t->buf + t->len, text, n);
  t->len += n;
  t->buf[t->len] = '\0';
  return 0;
}

/* The value of the first sample of `family` in the map's exposition, or -1. */
static long metric_of(tsmap *m, const char *family) {
  static soak_text t;
  t.len = 0;
  t.buf[0] = '\0';
  if (tsmap_metrics_write(m, soak_text_put, &t) != TSMAP_OK)
    return -1;
  size_t n = strlen(family);
  for (const char *p = t.buf; (p = strstr(p, family)) != NULL; p += n)
    if ((p == t.buf || p[-1] == '\n') && (p[n] == '{' || p[n] == ' ')) {
      const char *v = strchr(p, ' ');
      return v ? atol(v + 1) : -1;
    }
  return -1;
}

/* ---- The plateau check ----------------------------------------------------------------- */

#define SOAK_MAX_CYCLES 1024

/* A scenario's cycles: `n`, times TSMAP_SOAK_SCALE for a longer soak (at most 1,024). */
static int soak_cycles(int n) {
  static int scale;
  if (!scale) {
    const char *e = getenv("TSMAP_SOAK_SCALE");
    scale = e && atoi(e) > 0 ? atoi(e) : 1;
  }
  return n * scale < SOAK_MAX_CYCLES ? n * scale : SOAK_MAX_CYCLES;
}
#define SOAK_MAX_MAPS 8

typedef struct soak {
  const char *name;
  tsmap *maps[SOAK_MAX_MAPS]; /* whose table bytes and sizes are summed */
  size_t nmaps;
  soak_alloc *alloc[2];       /* counting allocators whose bytes are summed */
  int process;                /* sample the process-wide figures */
  long slack[FIG_N];          /* absolute slack by figure (soak_init) */
  int one_more_table;         /* each shard may hold one more table (soak_slack) */
  long mapped_shards;         /* shards of its maps whose tables are mapped (no allocator) */
  int n;
  long v[SOAK_MAX_CYCLES][FIG_N];
} soak;

/* Wait up to 2 s for the process's threads to come down to `want` (a helper or
 * maintenance thread exits on its own after its map is done with it). */
static void soak_wait_threads(long want) {
  for (int i = 0; i < 200 && count_entries("/proc/self/task") > want; i++) {
    struct timespec nap = {0, 10000000};
    nanosleep(&nap, NULL);
  }
}

static void soak_sample(soak *s) {
  long *v = s->v[s->n < SOAK_MAX_CYCLES ? s->n++ : SOAK_MAX_CYCLES - 1];
  for (int f = 0; f < FIG_N; f++)
    v[f] = -1;
  if (s->alloc[0]) {
    v[FIG_ALLOC] = 0;
    for (int i = 0; i < 2; i++)
      v[FIG_ALLOC] += s->alloc[i] ? atomic_load(&s->alloc[i]->live_bytes) : 0;
  }
  if (s->nmaps) {
    v[FIG_TABLE] = v[FIG_SIZE] = 0;
    for (size_t i = 0; i < s->nmaps; i++) {
      size_t size = 0;
      CHECK_ST(tsmap_size(s->maps[i], &size), TSMAP_OK);
      v[FIG_SIZE] += (long)size;
      v[FIG_TABLE] += metric_of(s->maps[i], "tsmap_table_bytes");
    }
  }
  if (s->process) {
    v[FIG_THREADS] = count_entries("/proc/self/task");
    v[FIG_FDS] = count_entries("/proc/self/fd");
    if (!SOAK_ASAN) {
      v[FIG_HEAP] = heap_in_use();
      v[FIG_RSS] = tsmap_test_status_kib("VmRSS");
      v[FIG_DATA] = tsmap_test_status_kib("VmData");
      v[FIG_MAPS] = count_lines("/proc/self/maps");
    }
  }
}

/* Default slacks, each far below what one leaked object per cycle adds over the second
 * half's cycles (>= 10 of them): alloc 0 (exact: a scenario that holds memory in flight
 * at a sample sets its own); table 0; size 0; heap 16 KiB (glibc's per-thread caches and
 * stdio's buffers come and go); rss 2 MiB and data 2 MiB (a malloc arena's top chunk is
 * trimmed lazily: 128 KiB pad, and a thread arena's heap grows in 64 KiB..1 MiB steps);
 * maps 4 (an arena heap or a thread stack cached by glibc comes and goes); threads 0 and
 * fds 0 (each is sampled once every thread of the map's is gone: soak_wait_threads). */
static void soak_init(soak *s, const char *name) {
  memset(s, 0, sizeof *s);
  s->name = name;
  s->slack[FIG_HEAP] = 16 << 10;
  s->slack[FIG_RSS] = 2048;
  s->slack[FIG_DATA] = 2048;
  s->slack[FIG_MAPS] = 4;
}

static void soak_print_series(const soak *s, int f) {
  fprintf(stderr, "    %s %s:", s->name, fig_name[f]);
  for (int i = 0; i < s->n; i++)
    fprintf(stderr, " %ld", s->v[i][f]);
  fprintf(stderr, "\n");
}

/* The plateau check, and a line of figures: first-half max -> second-half max. */
/* The largest value of figure f over the first half of the cycles, and over the second
 * half the largest that held for two samples in a row (the smaller of each sample and the
 * one before it): a level that stays, as any accumulation does, and not a transient one
 * sample caught (a growth or a helper's give-backs still running at that moment: once in
 * five runs of the reshards on a loaded machine, RSS +3 MB for one cycle of 12). */
static void soak_halves(const soak *s, int f, long *first, long *second) {
  *first = *second = -1;
  for (int i = 0; i < s->n; i++) {
    long v = s->v[i][f];
    if (i >= s->n / 2 && i > 0 && s->v[i - 1][f] < v)
      v = s->v[i - 1][f];
    long *half = i < s->n / 2 ? first : second;
    if (v > *half)
      *half = v;
  }
}

/* One more table a shard. A shard's table doubles when a growth finds more than 7/16 of
 * its slots live, else it is rehashed at the same size (DESIGN, Writes and growth), and a
 * growth starts when inserts used up its EMPTY slots; a removal makes its slot EMPTY again
 * unless the group was full, so DELETED slots pile up slowly and a churning map rehashes
 * each shard every hundred-odd cycles here (the 8-byte churn with room: first after 155
 * cycles, found by a 192-cycle soak). While one runs the shard holds two tables (its old
 * one, or cur and the next one prepared), and a mapped shard takes a new mapping the
 * first time (a table's mapping is 4x its size, at least 4 MiB; the one it leaves is kept
 * as a spare, G5). And where the live count peaks within a cycle, whether a map grown from
 * empty doubles depends on the phase at which its growths fall, which drifts: it may
 * double each shard once more, late (the tombstones' replicas did at cycle 28 of 48),
 * then never again. So a finite soak may meet any of these in either half: scenarios whose
 * maps see new keys (one_more_table) get one table of every shard as slack in the figures
 * that hold tables (the first half's table bytes), and a mapping of 4 MiB a mapped shard.
 * A leak of a table each rehash, or of anything each cycle, still shows beyond that. */
static long soak_slack(const soak *s, int f) {
  long first = 0, second = 0;
  if (!s->one_more_table)
    return s->slack[f];
  soak_halves(s, FIG_TABLE, &first, &second);
  switch (f) {
  case FIG_TABLE: case FIG_ALLOC: case FIG_HEAP:
    return s->slack[f] + first;
  case FIG_RSS:
    return s->slack[f] + first / 1024;
  case FIG_DATA:
    return s->slack[f] + first / 1024 + s->mapped_shards * 4096;
  case FIG_MAPS:
    return s->slack[f] + s->mapped_shards;
  default:
    return s->slack[f];
  }
}

static void soak_check(const soak *s) {
  char line[512];
  int at = snprintf(line, sizeof line, "  %-22s %3d cycles:", s->name, s->n);
  CHECK(s->n >= 8);
  for (int f = 0; f < FIG_N; f++) {
    long first = -1, second = -1, slack = soak_slack(s, f);
    soak_halves(s, f, &first, &second);
    if (first < 0)
      continue;
    if (at < (int)sizeof line)
      at += snprintf(line + at, sizeof line - (size_t)at, " %s %ld->%ld", fig_name[f], first,
                     second);
    if (second > first + slack) {
      tsmap_test_failures++;
      fprintf(stderr, "%s: %s grows: max %ld over the first half, %ld over the second "
              "(slack %ld)\n", s->name, fig_name[f], first, second, slack);
      soak_print_series(s, f);
    }
    tsmap_test_checks++;
  }
  fprintf(stderr, "%s\n", line);
  if (getenv("TSMAP_SOAK_PRINT"))
    for (int f = 0; f < FIG_N; f++)
      if (s->v[0][f] >= 0)
        soak_print_series(s, f);
}

/* ---- Values that are objects: a live count --------------------------------------------- */

static _Atomic long g_live_objects;

static void *obj_new(uint64_t tag) {
  uint64_t *o = malloc(32);
  o[0] = tag;
  g_live_objects++;
  return o;
}
static void obj_free(void *o) {
  if (o) {
    g_live_objects--;
    free(o);
  }
}
static void obj_evicted(const void *k, size_t kl, void *v, tsmap_evict_reason why, void *c) {
  (void)k, (void)kl, (void)why, (void)c;
  void *o;
  memcpy(&o, v, sizeof o);
  obj_free(o);
}

/* A config for a map of `value_size`-byte values with `al`'s counting allocator (or
 * none); SOAK_OBJECTS as the value size: a map of pointers to objects, which its eviction
 * hook frees. */
#define SOAK_OBJECTS ((size_t)-1)
static tsmap_allocator soak_allocator(soak_alloc *a) {
  tsmap_allocator al = {soak_alloc_fn, soak_free_fn, a};
  return al;
}
static void soak_config(tsmap_config *cfg, size_t value_size, const tsmap_allocator *al) {
  tsmap_config_init(cfg, value_size == SOAK_OBJECTS ? sizeof(void *) : value_size);
  cfg->allocator = al;
  if (value_size == SOAK_OBJECTS)
    cfg->on_entry_evicted = obj_evicted;
}

/* Keys: 8 bytes, or a long key (40..103 bytes) of the same number. */
static size_t long_key(uint64_t n, unsigned char *out) {
  size_t len = 40 + (size_t)(tsmap_test_mix(n) % 64);
  for (size_t i = 0; i < len; i += 8) {
    uint64_t w = tsmap_test_mix(n + i);
    memcpy(out + i, &w, len - i < 8 ? len - i : 8);
  }
  memcpy(out, &n, 8);
  return len;
}

/* A reader that keeps calling: gets of keys around the churn's window. */
typedef struct reader {
  tsmap *m;
  int long_keys;
  _Atomic uint64_t *hi;
  _Atomic int stop, pause, paused;
  long calls;
} reader;

static void *read_until_stopped(void *arg) {
  reader *r = (reader *)arg;
  unsigned char key[128];
  uint64_t x = 1;
  while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
    x = tsmap_test_mix(x);
    uint64_t hi = atomic_load_explicit(r->hi, memory_order_relaxed);
    uint64_t n = hi ? hi - 1 - x % (hi < 4096 ? hi : 4096) : 0;
    size_t len = 8;
    if (r->long_keys)
      len = long_key(n, key);
    else
      memcpy(key, &n, 8);
    void *v = NULL;
    (void)tsmap_get(r->m, key, len, &v); /* a look only: the object may be freed meanwhile */
    r->calls++;
    if (atomic_load_explicit(&r->pause, memory_order_relaxed)) {
      atomic_store(&r->paused, 1);
      while (atomic_load(&r->pause) && !atomic_load(&r->stop))
        tsmap_test_pause();
      atomic_store(&r->paused, 0);
    }
  }
  return NULL;
}

/* Memory a removal retired is freed once the epoch advanced twice, by later writes of the
 * same shard (DESIGN, Reclamation: a writer tries every 16th write, or once 64 wait),
 * which a reader in its section holds back: a reader descheduled there on a loaded
 * machine holds a whole cycle's key blocks. A sample is taken quiet, as a leak would stay:
 * the reader paused outside any call, then writes of 8-byte keys (inline: they retire
 * nothing) on every shard. What may still wait then: up to 64 blocks a shard (128 bytes
 * each, malloc's rounding of a long key's block) of the last writes. */
enum { QUIET_SLACK = 4 * 64 * 128 };
static void quiet_sample(soak *s, reader *r, tsmap *m) {
  atomic_store(&r->pause, 1);
  while (!atomic_load(&r->paused))
    tsmap_test_pause();
  for (uint64_t i = 0; i < 1024; i++) {
    uint64_t k = ~i; /* no churn key: those count up from 0 */
    void *none = NULL;
    CHECK(tsmap_put(m, &k, 8, &none, NULL) == TSMAP_OK);
    CHECK(tsmap_remove(m, &k, 8, NULL) == TSMAP_OK);
  }
  soak_sample(s);
  atomic_store(&r->pause, 0);
}

/* ---- Churn at constant size ------------------------------------------------------------ */

enum { CHURN_WINDOW = 16384 / SCALE, CHURN_STEP = 4096 / SCALE, CHURN_CYCLES = 48 };

typedef struct churn {
  tsmap *m;
  int long_keys;
  uint64_t lo;             /* the oldest live key */
  _Atomic uint64_t hi;     /* one past the newest */
} churn;

static int absent_obj(const void *key, size_t key_len, void *ctx, void *value_out) {
  (void)key_len, (void)ctx;
  uint64_t n;
  memcpy(&n, key, 8);
  if (n % 5 == 0)
    return 1; /* a failed callback: nothing stored, the next call tries again */
  void *o = obj_new(n);
  memcpy(value_out, &o, sizeof o);
  return 0;
}
static int count_visit(const void *k, size_t kl, const void *v, void *ctx) {
  (void)k, (void)kl, (void)v;
  ++*(long *)ctx;
  return 0;
}

/* One cycle: CHURN_STEP new keys by put (every other through compute_if_absent, whose
 * callback fails now and then and is retried), the oldest removed down to the window
 * (half with an out-parameter, half through the hook), a foreach. */
static void churn_cycle(churn *c) {
  unsigned char key[128];
  int bad = 0;
  for (int i = 0; i < CHURN_STEP; i++) {
    uint64_t n = atomic_load(&c->hi);
    size_t len = c->long_keys ? long_key(n, key) : (memcpy(key, &n, 8), 8);
    if (n % 2) {
      tsmap_status st = tsmap_compute_if_absent(c->m, key, len, absent_obj, NULL, NULL); // NOLINT(tsmap-non-idempotent-callback): each run's object is counted, and a discarded run's leaves through obj_evicted (TSMAP_EVICT_DISCARDED), which uncounts it
      if (st == TSMAP_CALLBACK_FAILED) {
        void *o = obj_new(n);
        st = tsmap_put_ptr(c->m, key, len, o, NULL);
      }
      bad += st != TSMAP_OK;
    } else {
      bad += tsmap_put_ptr(c->m, key, len, obj_new(n), NULL) != TSMAP_OK;
    }
    atomic_store(&c->hi, n + 1);
  }
  while (atomic_load(&c->hi) - c->lo > CHURN_WINDOW) {
    uint64_t n = c->lo++;
    size_t len = c->long_keys ? long_key(n, key) : (memcpy(key, &n, 8), 8);
    void *o = NULL;
    if (n % 2) {
      bad += tsmap_remove(c->m, key, len, &o) != TSMAP_OK;
      obj_free(o);
    } else {
      bad += tsmap_remove(c->m, key, len, NULL) != TSMAP_OK;
    }
  }
  long visited = 0;
  CHECK_ST(tsmap_foreach(c->m, count_visit, &visited), TSMAP_OK);
  CHECK(bad == 0);
}

/* The window of one churn in `cfg`'s map, with a reader, over CHURN_CYCLES (soak_slack:
 * one more table a shard, for a rehash or a late doubling). */
static void churn_run(const char *name, tsmap_config *cfg, int long_keys, soak_alloc *a) {
  soak s;
  soak_init(&s, name);
  churn c = {.long_keys = long_keys};
  CHECK_ST(tsmap_create(cfg, &c.m), TSMAP_OK);
  s.maps[s.nmaps++] = c.m;
  s.alloc[0] = a;
  s.process = 1;
  s.one_more_table = 1;
  s.mapped_shards = a ? 0 : (long)cfg->shard_count;
  if (long_keys) {
    s.slack[FIG_ALLOC] = QUIET_SLACK;
    s.slack[FIG_HEAP] += QUIET_SLACK;
  }
  g_live_objects = 0;
  reader r = {.m = c.m, .long_keys = long_keys, .hi = &c.hi};
  pthread_t t;
  pthread_create(&t, NULL, read_until_stopped, &r);
  for (int cycle = 0; cycle < soak_cycles(CHURN_CYCLES); cycle++) {
    churn_cycle(&c);
    quiet_sample(&s, &r, c.m);
    long want = (long)(atomic_load(&c.hi) - c.lo);
    CHECK(s.v[s.n - 1][FIG_SIZE] == want && g_live_objects == want);
  }
  atomic_store(&r.stop, 1);
  pthread_join(t, NULL);
  CHECK(r.calls > 0);
  soak_check(&s);
  CHECK_ST(tsmap_destroy(c.m), TSMAP_OK);
  CHECK(g_live_objects == 0);
  CHECK(!a || a->live_bytes == 0);
}

static void test_soak_churn_at_constant_size(void) {
  tsmap_test_watchdog(__func__, 120);
  soak_alloc a = {0};
  tsmap_allocator al = soak_allocator(&a);
  tsmap_config cfg;
  size_t room = 2 * (CHURN_WINDOW + CHURN_STEP); /* twice the peak: no doubling */
  soak_config(&cfg, SOAK_OBJECTS, &al);
  cfg.key_size = 8;
  cfg.shard_count = 4;
  cfg.initial_capacity = room;
  churn_run("churn 8-byte", &cfg, 0, &a);
  soak_config(&cfg, SOAK_OBJECTS, &al);
  cfg.shard_count = 4;
  cfg.initial_capacity = room;
  churn_run("churn long keys", &cfg, 1, &a);
  soak_config(&cfg, SOAK_OBJECTS, &al);
  cfg.key_size = 8;
  churn_run("churn 8-byte, grows", &cfg, 0, &a);
  /* The default allocator: mapped tables, their spares and the slab (G5). */
  soak_config(&cfg, SOAK_OBJECTS, NULL);
  cfg.key_size = 8;
  cfg.shard_count = 4;
  cfg.initial_capacity = room;
  churn_run("churn 8-byte, mmap", &cfg, 0, NULL);
  soak_config(&cfg, SOAK_OBJECTS, NULL);
  cfg.shard_count = 4;
  cfg.initial_capacity = room;
  churn_run("churn long, mmap", &cfg, 1, NULL);
  soak_config(&cfg, SOAK_OBJECTS, NULL);
  cfg.shard_count = 4;
  churn_run("churn long, mmap, grows", &cfg, 1, NULL);
}

/* ---- Threads that come and go ----------------------------------------------------------- */

enum { THREAD_CYCLES = 40, THREADS_PER_CYCLE = 96 / SCALE, THREADS_AT_ONCE = 4 };

typedef struct visitor {
  tsmap *plain, *metered, *expiring;
  uint64_t base;
  int bad;
  pthread_barrier_t *all_in; /* non-NULL: wait there before exiting */
} visitor;

/* A short-lived thread: a few keyed calls on each map (its first ones allocate or reclaim
 * its reader record, and on the metered map its counters), all of its own keys removed. */
static void *visit_and_exit(void *arg) {
  visitor *v = (visitor *)arg;
  tsmap *maps[3] = {v->plain, v->metered, v->expiring};
  for (int m = 0; m < 3; m++)
    for (uint64_t k = v->base; k < v->base + 3; k++) {
      uint64_t val = k;
      v->bad += tsmap_put(maps[m], &k, 8, &val, NULL) != TSMAP_OK;
      v->bad += tsmap_get(maps[m], &k, 8, &val) != TSMAP_OK;
      v->bad += tsmap_remove(maps[m], &k, 8, NULL) != TSMAP_OK;
    }
  if (v->all_in)
    pthread_barrier_wait(v->all_in);
  return NULL;
}

static void test_soak_threads_that_come_and_go(void) {
  tsmap_test_watchdog(__func__, 120);
  soak s;
  soak_init(&s, "thread churn");
  soak_alloc a = {0};
  tsmap_allocator al = soak_allocator(&a);
  tsmap_config cfg;
  visitor v[THREADS_AT_ONCE];
  memset(v, 0, sizeof v);
  /* room: a shard's tiny table that meets a few keys at once would double (soak_slack) */
  soak_config(&cfg, 8, NULL);
  cfg.initial_capacity = 1024;
  CHECK_ST(tsmap_create(&cfg, &v[0].plain), TSMAP_OK);
  soak_config(&cfg, 8, &al);
  cfg.metrics = 1;
  cfg.name = "soak_threads";
  cfg.initial_capacity = 1024;
  CHECK_ST(tsmap_create(&cfg, &v[0].metered), TSMAP_OK);
  soak_config(&cfg, 8, &al);
  cfg.initial_capacity = 1024;
  cfg.default_ttl_ns = 60ull * 1000000000u;
  CHECK_ST(tsmap_create(&cfg, &v[0].expiring), TSMAP_OK);
  s.maps[s.nmaps++] = v[0].plain;
  s.maps[s.nmaps++] = v[0].metered;
  s.maps[s.nmaps++] = v[0].expiring;
  s.alloc[0] = &a;
  s.process = 1;
  /* no one_more_table: each thread removes its keys at once, so no group ever fills and
   * no DELETED slot is left to bring a rehash (soak_slack) */
  /* The peak first: THREADS_AT_ONCE threads alive at once, each with its thread record
   * and, on the metered map, its stripe of counters (M1). Records are recycled, never
   * freed, so the pool and the stripes grow to the most threads that were ever calling
   * at once (a stripe each, up to 1,024: DESIGN, Metrics) and no further: with the peak
   * reached here, the cycles below may add nothing. */
  pthread_barrier_t all_in;
  pthread_barrier_init(&all_in, NULL, THREADS_AT_ONCE);
  pthread_t peak[THREADS_AT_ONCE];
  uint64_t next = 0;
  for (int j = 0; j < THREADS_AT_ONCE; j++) {
    v[j].plain = v[0].plain, v[j].metered = v[0].metered, v[j].expiring = v[0].expiring;
    v[j].base = next, next += 3;
    v[j].all_in = &all_in;
    pthread_create(&peak[j], NULL, visit_and_exit, &v[j]);
  }
  for (int j = 0; j < THREADS_AT_ONCE; j++) {
    pthread_join(peak[j], NULL);
    v[j].all_in = NULL;
  }
  pthread_barrier_destroy(&all_in);
  long base_threads = count_entries("/proc/self/task");
  for (int cycle = 0; cycle < soak_cycles(THREAD_CYCLES); cycle++) {
    for (int i = 0; i < THREADS_PER_CYCLE; i += THREADS_AT_ONCE) {
      pthread_t t[THREADS_AT_ONCE];
      for (int j = 0; j < THREADS_AT_ONCE; j++) {
        v[j].plain = v[0].plain, v[j].metered = v[0].metered, v[j].expiring = v[0].expiring;
        v[j].base = next, next += 3;
        pthread_create(&t[j], NULL, visit_and_exit, &v[j]);
      }
      for (int j = 0; j < THREADS_AT_ONCE; j++)
        pthread_join(t[j], NULL);
    }
    soak_wait_threads(base_threads);
    soak_sample(&s);
  }
  for (int j = 0; j < THREADS_AT_ONCE; j++)
    CHECK(v[j].bad == 0);
  CHECK(s.v[s.n - 1][FIG_THREADS] == base_threads);
  soak_check(&s);
  CHECK_ST(tsmap_destroy(v[0].plain), TSMAP_OK);
  CHECK_ST(tsmap_destroy(v[0].metered), TSMAP_OK);
  CHECK_ST(tsmap_destroy(v[0].expiring), TSMAP_OK);
  CHECK(a.live_bytes == 0);
}

/* ---- A long-lived second thread that calls the maps it is given ------------------------ */

typedef struct worker {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  tsmap *job; /* a map to call, NULL: none */
  int quit, bad;
  pthread_t t;
} worker;

static void *work_until_quit(void *arg) {
  worker *w = (worker *)arg;
  pthread_mutex_lock(&w->mu);
  for (;;) {
    while (!w->job && !w->quit)
      pthread_cond_wait(&w->cv, &w->mu);
    if (w->quit)
      break;
    uint64_t k = 0x5eedull, v = 7, key_size = 8;
    (void)key_size;
    /* put, get and remove one key of its own; a bounded map may refuse it at once */
    tsmap_status st = tsmap_put(w->job, &k, 8, &v, NULL);
    w->bad += st != TSMAP_OK && st != TSMAP_REPLACED;
    (void)tsmap_get(w->job, &k, 8, &v);
    (void)tsmap_remove(w->job, &k, 8, NULL);
    w->job = NULL;
    pthread_cond_broadcast(&w->cv);
  }
  pthread_mutex_unlock(&w->mu);
  return NULL;
}
static void worker_start(worker *w) {
  memset(w, 0, sizeof *w);
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv, NULL);
  pthread_create(&w->t, NULL, work_until_quit, w);
}
/* Has the worker call `m` (8-byte keys and values), and waits until it did. */
static void worker_call(worker *w, tsmap *m) {
  pthread_mutex_lock(&w->mu);
  w->job = m;
  pthread_cond_broadcast(&w->cv);
  while (w->job)
    pthread_cond_wait(&w->cv, &w->mu);
  pthread_mutex_unlock(&w->mu);
}
static void worker_stop(worker *w) {
  pthread_mutex_lock(&w->mu);
  w->quit = 1;
  pthread_cond_broadcast(&w->cv);
  pthread_mutex_unlock(&w->mu);
  pthread_join(w->t, NULL);
  CHECK(w->bad == 0);
}

/* ---- Maps of every kind, created and destroyed ----------------------------------------- */

static worker g_worker;

/* Puts keys [from, to) (value = key), and checks them back. */
static void fill(tsmap *m, uint64_t from, uint64_t to) {
  int bad = 0;
  for (uint64_t k = from; k < to; k++) {
    tsmap_status st = tsmap_put(m, &k, 8, &k, NULL);
    bad += st != TSMAP_OK && st != TSMAP_REPLACED;
  }
  CHECK(bad == 0);
}

static tsmap *create_or_null(const tsmap_config *cfg) {
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(cfg, &m), TSMAP_OK);
  return m;
}

/* A named, metered map (the same name every cycle, or one of its own), exposed. */
static void kind_named(const tsmap_allocator *al, int cycle) {
  static char name[64];
  tsmap_config cfg;
  soak_config(&cfg, 8, al);
  snprintf(name, sizeof name, cycle % 2 ? "soak_named" : "soak_named_%d", cycle);
  cfg.name = name;
  cfg.metrics = 1;
  tsmap *m = create_or_null(&cfg);
  if (!m)
    return;
  fill(m, 0, 300);
  worker_call(&g_worker, m);
  soak_text *t = malloc(sizeof *t);
  t->len = 0;
  CHECK_ST(tsmap_metrics_write_all(soak_text_put, t), TSMAP_OK);
  CHECK(strstr(t->buf, name) != NULL);
  free(t);
  CHECK_ST(tsmap_destroy(m), TSMAP_OK);
}

/* Versions: conditional writes and the feed. */
static int count_change(const tsmap_change *c, void *ctx) {
  (void)c;
  ++*(long *)ctx;
  return 0;
}
static void kind_versions(const tsmap_allocator *al, int cycle) {
  (void)cycle;
  tsmap_config cfg;
  soak_config(&cfg, 8, al);
  cfg.versions = 1;
  tsmap *m = create_or_null(&cfg);
  if (!m)
    return;
  fill(m, 0, 300);
  uint64_t k = 5, v = 1, ver = 0;
  CHECK_ST(tsmap_get_version(m, &k, 8, NULL, &ver), TSMAP_OK);
  CHECK_ST(tsmap_put_if_version(m, &k, 8, &v, ver, &ver, NULL), TSMAP_REPLACED);
  CHECK_ST(tsmap_remove_if_version(m, &k, 8, ver, NULL, NULL), TSMAP_OK);
  long n = 0;
  CHECK_ST(tsmap_foreach_since(m, 0, count_change, &n, NULL), TSMAP_OK);
  CHECK(n == 299);
  worker_call(&g_worker, m);
  CHECK_ST(tsmap_destroy(m), TSMAP_OK);
}

/* Replicas: changes exported, encoded, decoded and merged both ways, then forgotten. */
typedef struct exchange {
  tsmap *to;
  size_t value_size;
  uint64_t horizon[TSMAP_MAX_REPLICAS];
  int bad;
} exchange;
static int merge_encoded(const tsmap_change *c, void *ctx) {
  exchange *x = (exchange *)ctx;
  unsigned char buf[512];
  uint64_t clock[TSMAP_MAX_REPLICAS];
  size_t len = 0, used = 0;
  tsmap_change d;
  x->bad += tsmap_change_encode(c, x->value_size, buf, sizeof buf, &len) != TSMAP_OK;
  x->bad += tsmap_change_decode(buf, len, x->value_size, &d, clock, &used) != TSMAP_OK;
  for (size_t i = 0; i < d.clock_len; i++)
    if (d.clock[i] > x->horizon[i])
      x->horizon[i] = d.clock[i];
  tsmap_status st = tsmap_merge(x->to, &d, NULL, NULL, NULL);
  x->bad += st != TSMAP_OK && st != TSMAP_REPLACED && st != TSMAP_EXISTS;
  return 0;
}
/* Exports from -> to since *since (advanced); the clocks seen raise x->horizon. */
static void ship(tsmap *from, exchange *x, uint64_t *since) {
  CHECK_ST(tsmap_export(from, *since, merge_encoded, x, since), TSMAP_OK);
  CHECK(x->bad == 0);
}
static void kind_replicas(const tsmap_allocator *al, int cycle) {
  (void)cycle;
  tsmap_config cfg;
  soak_config(&cfg, 8, al);
  cfg.replicas = 2;
  tsmap *a = create_or_null(&cfg);
  cfg.replica_id = 1;
  tsmap *b = create_or_null(&cfg);
  if (!a || !b)
    goto out;
  fill(a, 0, 200);
  fill(b, 100, 300);
  for (uint64_t k = 0; k < 300; k += 3)
    (void)tsmap_remove(k % 2 ? a : b, &k, 8, NULL);
  exchange x = {.value_size = 8};
  uint64_t sa = 0, sb = 0;
  x.to = b;
  ship(a, &x, &sa);
  x.to = a;
  ship(b, &x, &sb);
  size_t fa = 0, fb = 0;
  CHECK_ST(tsmap_forget(a, x.horizon, 2, &fa), TSMAP_OK);
  CHECK_ST(tsmap_forget(b, x.horizon, 2, &fb), TSMAP_OK);
  CHECK(fa > 0 && fb > 0);
  worker_call(&g_worker, a);
out:
  CHECK_ST(tsmap_destroy(a), TSMAP_OK);
  CHECK_ST(tsmap_destroy(b), TSMAP_OK);
}

/* Expiry with a maintenance thread (1 ms TTL, a tick of 0.5 ms). */
static void kind_expiry_thread(const tsmap_allocator *al, int cycle) {
  (void)cycle;
  tsmap_config cfg;
  soak_config(&cfg, 8, al);
  cfg.default_ttl_ns = 1000000;
  cfg.maintain_interval_ns = 500000;
  tsmap *m = create_or_null(&cfg);
  if (!m)
    return;
  fill(m, 0, 300);
  worker_call(&g_worker, m);
  struct timespec nap = {0, 2000000};
  nanosleep(&nap, NULL);
  CHECK_ST(tsmap_destroy(m), TSMAP_OK);
}

/* Bounded by count, and by weight. */
static uint64_t weigh(const void *k, size_t kl, const void *v, void *ctx) {
  (void)k, (void)kl, (void)ctx;
  void *o;
  memcpy(&o, v, sizeof o);
  return 1 + *(uint64_t *)o % 7;
}
static void kind_bounded(const tsmap_allocator *al, int cycle) {
  (void)cycle;
  tsmap_config cfg;
  soak_config(&cfg, 8, al);
  cfg.max_entries = 64;
  cfg.shard_count = 4;
  tsmap *m = create_or_null(&cfg);
  if (m) {
    fill(m, 0, 500);
    worker_call(&g_worker, m);
    CHECK_ST(tsmap_destroy(m), TSMAP_OK);
  }
  soak_config(&cfg, SOAK_OBJECTS, al);
  cfg.max_weight = 256;
  cfg.weight = weigh;
  cfg.shard_count = 4;
  m = create_or_null(&cfg);
  if (!m)
    return;
  int bad = 0;
  for (uint64_t k = 0; k < 500; k++)
    bad += tsmap_put_ptr(m, &k, 8, obj_new(k), NULL) != TSMAP_OK;
  CHECK(bad == 0);
  CHECK_ST(tsmap_destroy(m), TSMAP_OK);
}

/* reshard_auto, and explicit reshards up and down (the helper thread with the default
 * allocator), left finished or destroyed halfway on alternate cycles. */
static void kind_reshard(const tsmap_allocator *al, int cycle) {
  tsmap_config cfg;
  soak_config(&cfg, 8, al);
  cfg.reshard_auto = 1;
  cfg.shard_count = 1;
  cfg.max_shard_count = 8;
  tsmap *m = create_or_null(&cfg);
  if (m) {
    fill(m, 0, 2000);
    worker_call(&g_worker, m);
    CHECK_ST(tsmap_destroy(m), TSMAP_OK);
  }
  soak_config(&cfg, 8, al);
  cfg.shard_count = 2;
  cfg.max_shard_count = 16;
  m = create_or_null(&cfg);
  if (!m)
    return;
  fill(m, 0, 3000);
  CHECK_ST(tsmap_reshard(m, 16), TSMAP_OK);
  fill(m, 0, 500);
  if (cycle % 2 == 0) {
    tsmap_test_finish_reshard(m);
    CHECK_ST(tsmap_reshard(m, 2), TSMAP_OK);
    fill(m, 500, 1000);
    worker_call(&g_worker, m);
    tsmap_test_finish_reshard(m);
  }
  CHECK_ST(tsmap_destroy(m), TSMAP_OK);
}

/* NUMA placement on this machine's topology, both policies. */
static void kind_placement(const tsmap_allocator *al, int cycle) {
  tsmap_config cfg;
  soak_config(&cfg, 8, al);
  cfg.placement = cycle % 2 ? TSMAP_PLACE_INTERLEAVE : TSMAP_PLACE_LOCAL;
  cfg.shard_count = 4;
  tsmap *m = create_or_null(&cfg);
  if (!m)
    return;
  fill(m, 0, 2000);
  tsmap_shard_placement p;
  CHECK_ST(tsmap_placement(m, 0, &p), TSMAP_OK);
  worker_call(&g_worker, m);
  CHECK_ST(tsmap_destroy(m), TSMAP_OK);
}

/* Closed first, then destroyed; a compute_if_absent, long keys and a foreach meanwhile. */
static int absent_value(const void *key, size_t key_len, void *ctx, void *value_out) {
  (void)key, (void)ctx;
  uint64_t v = key_len;
  memcpy(value_out, &v, 8);
  return 0;
}
static void kind_closed(const tsmap_allocator *al, int cycle) {
  (void)cycle;
  tsmap_config cfg;
  soak_config(&cfg, 8, al);
  tsmap *m = create_or_null(&cfg);
  if (!m)
    return;
  unsigned char key[128];
  for (uint64_t n = 0; n < 300; n++)
    CHECK_ST(tsmap_compute_if_absent(m, key, long_key(n, key), absent_value, NULL, NULL),
             TSMAP_OK);
  long visited = 0;
  CHECK_ST(tsmap_foreach(m, count_visit, &visited), TSMAP_OK);
  CHECK(visited == 300);
  CHECK_ST(tsmap_close(m), TSMAP_OK);
  CHECK_ST(tsmap_destroy(m), TSMAP_OK);
}

typedef void (*kind_fn)(const tsmap_allocator *al, int cycle);
static const kind_fn g_kinds[] = {kind_named,   kind_versions, kind_replicas,
                                  kind_expiry_thread, kind_bounded, kind_reshard,
                                  kind_placement, kind_closed};
enum { LIFECYCLE_CYCLES = 240 / SCALE };

static void test_soak_maps_created_and_destroyed(void) {
  tsmap_test_watchdog(__func__, 150);
  soak s;
  soak_init(&s, "every kind");
  soak_alloc a = {0};
  tsmap_allocator al = soak_allocator(&a);
  s.alloc[0] = &a;
  s.process = 1;
  worker_start(&g_worker);
  long base_threads = count_entries("/proc/self/task");
  g_live_objects = 0;
  /* TSMAP_SOAK_KINDS=<mask>: only those kinds (bit k: g_kinds[k]), to find a leak's kind */
  unsigned long mask = getenv("TSMAP_SOAK_KINDS") ? strtoul(getenv("TSMAP_SOAK_KINDS"), NULL, 0)
                                                  : ~0ul;
  for (int cycle = 0; cycle < soak_cycles(LIFECYCLE_CYCLES); cycle++) {
    for (size_t k = 0; k < sizeof g_kinds / sizeof g_kinds[0]; k++) {
      if (!(mask >> k & 1))
        continue;
      g_kinds[k](&al, cycle);
      CHECK(a.live_bytes == 0); /* the header: every allocation of a map but the records */
      g_kinds[k](NULL, cycle);
    }
    soak_wait_threads(base_threads);
    soak_sample(&s);
  }
  CHECK(g_live_objects == 0);
  CHECK(s.v[s.n - 1][FIG_THREADS] == base_threads);
  soak_check(&s);
  worker_stop(&g_worker);
}

/* ---- Replicas: tombstones, and tsmap_forget -------------------------------------------- */

/* A stepped clock for expiry. */
static _Atomic uint64_t g_clock;
static uint64_t stepped_clock(void *ctx) {
  (void)ctx;
  return atomic_load(&g_clock);
}

/* A change visitor: raises the clock at ctx to every change's. */
static int raise_horizon(const tsmap_change *c, void *ctx) {
  uint64_t *h = (uint64_t *)ctx;
  for (size_t i = 0; i < c->clock_len; i++)
    h[i] = c->clock[i] > h[i] ? c->clock[i] : h[i];
  return 0;
}

enum { TOMB_LIVE = 4096 / SCALE, TOMB_STEP = 1024 / SCALE, TOMB_CYCLES = 48 };

/* Two replicas whose live content is fixed (TOMB_LIVE keys each side writes; every cycle
 * TOMB_STEP of them removed, which leaves tombstones, and as many new ones written),
 * exchanging deltas, and a third, expiring one, whose entries expire into tombstones
 * (G10 (f)). Each cycle ends with tsmap_forget at a horizon both have passed: the header
 * says a tombstone is kept until then, so what they hold afterwards must not grow. */
static void test_soak_tombstones_forgotten(void) {
  tsmap_test_watchdog(__func__, 120);
  soak s;
  soak_init(&s, "tombstones forgotten");
  soak_alloc a = {0};
  tsmap_allocator al = soak_allocator(&a);
  tsmap_config cfg;
  soak_config(&cfg, 8, &al);
  cfg.replicas = 2;
  cfg.shard_count = 4;
  cfg.initial_capacity = 2 * 2 * TOMB_LIVE; /* twice the peak: no doubling (soak_slack) */
  tsmap *r0 = create_or_null(&cfg);
  cfg.replica_id = 1;
  tsmap *r1 = create_or_null(&cfg);
  soak_config(&cfg, 8, &al);
  cfg.replicas = 1;
  cfg.shard_count = 4;
  cfg.default_ttl_ns = 10;
  cfg.clock = stepped_clock;
  cfg.initial_capacity = 2 * TOMB_STEP;
  tsmap *ex = create_or_null(&cfg);
  if (!r0 || !r1 || !ex)
    return;
  s.maps[s.nmaps++] = r0, s.maps[s.nmaps++] = r1, s.maps[s.nmaps++] = ex;
  s.alloc[0] = &a;
  s.process = 1;
  s.one_more_table = 1; /* new keys all along (soak_slack) */
  exchange x = {.value_size = 8};
  uint64_t s0 = 0, s1 = 0, lo = 0, hi = 0, ex_next = 0;
  size_t forgotten = 0, ex_forgotten = 0;
  for (int cycle = 0; cycle < soak_cycles(TOMB_CYCLES); cycle++) {
    for (; hi - lo < TOMB_LIVE; hi++) { /* keys 2n on r0, 2n + 1 on r1 */
      uint64_t k0 = 2 * hi, k1 = 2 * hi + 1;
      CHECK_ST(tsmap_put(r0, &k0, 8, &k0, NULL), TSMAP_OK);
      CHECK_ST(tsmap_put(r1, &k1, 8, &k1, NULL), TSMAP_OK);
    }
    for (uint64_t end = lo + TOMB_STEP; lo < end; lo++) {
      uint64_t k0 = 2 * lo, k1 = 2 * lo + 1;
      CHECK_ST(tsmap_remove(r0, &k0, 8, NULL), TSMAP_OK);
      CHECK_ST(tsmap_remove(r1, &k1, 8, NULL), TSMAP_OK);
    }
    x.to = r1;
    ship(r0, &x, &s0);
    x.to = r0;
    ship(r1, &x, &s1);
    size_t f0 = 0, f1 = 0;
    CHECK_ST(tsmap_forget(r0, x.horizon, 2, &f0), TSMAP_OK);
    CHECK_ST(tsmap_forget(r1, x.horizon, 2, &f1), TSMAP_OK);
    forgotten += f0 + f1;
    /* the expiring replica: TOMB_STEP entries that live one cycle */
    for (uint64_t end = ex_next + TOMB_STEP; ex_next < end; ex_next++)
      CHECK_ST(tsmap_put(ex, &ex_next, 8, &ex_next, NULL), TSMAP_OK);
    g_clock += 100;
    CHECK_ST(tsmap_maintain(ex, SIZE_MAX), TSMAP_OK);
    uint64_t top[TSMAP_MAX_REPLICAS] = {0}, ex_since = 0; /* every clock it exports */
    CHECK_ST(tsmap_export(ex, ex_since, raise_horizon, top, NULL), TSMAP_OK);
    size_t fe = 0;
    CHECK_ST(tsmap_forget(ex, top, 1, &fe), TSMAP_OK);
    ex_forgotten += fe;
    if (getenv("TSMAP_SOAK_DEBUG"))
      fprintf(stderr, "cycle %d: tables %ld %ld %ld\n", cycle, metric_of(r0, "tsmap_table_bytes"),
              metric_of(r1, "tsmap_table_bytes"), metric_of(ex, "tsmap_table_bytes"));
    soak_sample(&s);
    /* the content: what each side keeps of its keys, on both; nothing on the expiring one */
    CHECK(s.v[s.n - 1][FIG_SIZE] == 4 * (TOMB_LIVE - TOMB_STEP));
  }
  CHECK(forgotten == 2 * 2 * (size_t)TOMB_STEP * (size_t)soak_cycles(TOMB_CYCLES));
  CHECK(ex_forgotten == (size_t)TOMB_STEP * (size_t)soak_cycles(TOMB_CYCLES));
  soak_check(&s);
  CHECK_ST(tsmap_destroy(r0), TSMAP_OK);
  CHECK_ST(tsmap_destroy(r1), TSMAP_OK);
  CHECK_ST(tsmap_destroy(ex), TSMAP_OK);
  CHECK(a.live_bytes == 0);
}

/* ---- Expiry: entries that expire steadily ---------------------------------------------- */

enum { EXP_STEP = 4096 / SCALE, EXP_CYCLES = 48 };

/* Every cycle EXP_STEP new keys with a TTL of 2 cycles on a stepped clock, then the clock
 * stepped one cycle (EXP_STEP live); the expired ones reclaimed by the writes' sweeps
 * alone (mode 0), by tsmap_maintain (mode 1), or by the map's maintenance thread (mode 2,
 * waited for). Also long keys, whose reclaim retires key blocks, with a reader calling
 * all along. */
static void expiry_run(const char *name, int mode, int long_keys) {
  soak s;
  soak_init(&s, name);
  soak_alloc a = {0};
  tsmap_allocator al = soak_allocator(&a);
  tsmap_config cfg;
  soak_config(&cfg, 8, &al);
  cfg.shard_count = 4;
  cfg.expiry = 1;
  cfg.clock = stepped_clock;
  cfg.initial_capacity = 6 * EXP_STEP; /* twice the peak (soak_slack) */
  if (mode == 2) {
    cfg.maintain_interval_ns = 250000;
    cfg.maintain_budget = 4096;
  }
  uint64_t ttl = 200;
  churn c = {.long_keys = long_keys};
  CHECK_ST(tsmap_create(&cfg, &c.m), TSMAP_OK);
  s.maps[s.nmaps++] = c.m;
  s.alloc[0] = &a;
  s.process = 1;
  s.one_more_table = 1; /* new keys all along (soak_slack) */
  s.slack[FIG_ALLOC] = long_keys ? QUIET_SLACK : 0;
  s.slack[FIG_HEAP] += s.slack[FIG_ALLOC];
  /* live entries: those of the last 2 cycles, and the third's not reclaimed yet */
  s.slack[FIG_SIZE] = EXP_STEP;
  reader r = {.m = c.m, .long_keys = long_keys, .hi = &c.hi};
  pthread_t t;
  pthread_create(&t, NULL, read_until_stopped, &r);
  unsigned char key[128];
  for (int cycle = 0; cycle < soak_cycles(EXP_CYCLES); cycle++) {
    int bad = 0;
    for (int i = 0; i < EXP_STEP; i++) {
      uint64_t n = atomic_load(&c.hi);
      size_t len = long_keys ? long_key(n, key) : (memcpy(key, &n, 8), 8);
      bad += tsmap_put_ttl(c.m, key, len, &n, ttl, NULL) != TSMAP_OK;
      atomic_store(&c.hi, n + 1);
    }
    CHECK(bad == 0);
    g_clock += 100; /* the previous cycle's entries expire */
    if (mode == 1)
      CHECK_ST(tsmap_maintain(c.m, SIZE_MAX), TSMAP_OK);
    size_t size = 0;
    for (int i = 0; mode == 2 && i < 2000; i++) { /* the thread reclaims them */
      CHECK_ST(tsmap_size(c.m, &size), TSMAP_OK);
      if (size <= EXP_STEP)
        break;
      struct timespec nap = {0, 1000000};
      nanosleep(&nap, NULL);
    }
    quiet_sample(&s, &r, c.m);
    if (mode > 0)
      CHECK(s.v[s.n - 1][FIG_SIZE] == EXP_STEP);
  }
  atomic_store(&r.stop, 1);
  pthread_join(t, NULL);
  soak_check(&s);
  CHECK_ST(tsmap_destroy(c.m), TSMAP_OK);
  CHECK(a.live_bytes == 0);
}

static void test_soak_entries_expiring_steadily(void) {
  tsmap_test_watchdog(__func__, 120);
  expiry_run("expiry, writes sweep", 0, 0);
  expiry_run("expiry long, writes", 0, 1);
  expiry_run("expiry, maintain", 1, 0);
  expiry_run("expiry long, maintain", 1, 1);
  expiry_run("expiry, thread", 2, 0);
  expiry_run("expiry long, thread", 2, 1);
}

/* ---- Reshards up and down under writers ------------------------------------------------ */

enum { RS_KEYS = 131072 / SCALE, RS_CYCLES = 12, RS_LOW = 2, RS_HIGH = 16 };

typedef struct rs_writer {
  tsmap *m;
  _Atomic int stop;
  unsigned seed;
  long writes, bad;
} rs_writer;

/* Overwrites keys of [0, RS_KEYS) at random, its own (k % 2 == seed % 2), and removes and
 * puts back some: the content stays (every key present at every quiet moment). */
static void *rewrite_until_stopped(void *arg) {
  rs_writer *w = (rs_writer *)arg;
  uint64_t x = w->seed;
  while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
    x = tsmap_test_mix(x);
    uint64_t k = (x % RS_KEYS & ~1ull) | (w->seed & 1);
    tsmap_status st = tsmap_put(w->m, &k, 8, &k, NULL);
    w->bad += st != TSMAP_REPLACED && st != TSMAP_OK;
    if (x % 8 == 0) {
      w->bad += tsmap_remove(w->m, &k, 8, NULL) != TSMAP_OK;
      st = tsmap_put(w->m, &k, 8, &k, NULL); /* REPLACED: reshard_settle's put came first */
      w->bad += st != TSMAP_OK && st != TSMAP_REPLACED;
    }
    w->writes++;
  }
  return NULL;
}

/* Reshard to `to`, and settle: tsmap_maintain fits the sources (G15 (g), R8), each as a
 * growth its writes complete, so passes of writes over every key until the map reports
 * no growth in progress (its tsmap_growth_in_progress gauge). */
static void reshard_settle(tsmap *m, size_t to) {
  CHECK_ST(tsmap_reshard(m, to), TSMAP_OK);
  tsmap_test_finish_reshard(m);
  CHECK_ST(tsmap_maintain(m, SIZE_MAX), TSMAP_OK);
  int bad = 0, pass = 0, idle = 0;
  do { /* and one more pass after: a dead table's pages go back 8 KiB a write (G5) */
    idle = metric_of(m, "tsmap_growth_in_progress") == 0;
    for (uint64_t k = 0; k < RS_KEYS; k++) {
      tsmap_status st = tsmap_put(m, &k, 8, &k, NULL); /* a writer may have removed it */
      bad += st != TSMAP_REPLACED && st != TSMAP_OK;
    }
  } while (!idle && ++pass < 16);
  CHECK(bad == 0 && pass < 16);
}

/* RS_CYCLES of 2 -> 16 -> 2 shards while two threads write; sampled at 16 and back at 2,
 * each a plateau, and the tables' resident memory against G15 (g)'s figures. */
static void reshard_run(const char *name, int no_helper, soak_alloc *a) {
  soak up, down;
  soak_init(&up, "  ...at 16 shards");
  soak_init(&down, "  ...back at 2");
  tsmap_allocator al = soak_allocator(a);
  tsmap_config cfg;
  soak_config(&cfg, 8, a ? &al : NULL);
  cfg.shard_count = RS_LOW;
  cfg.max_shard_count = RS_HIGH;
  cfg.reshard_no_helper = no_helper;
  malloc_trim(0); /* what earlier scenarios freed leaves now, not while this one runs */
  long rss0 = tsmap_test_status_kib("VmRSS");
  tsmap *m = create_or_null(&cfg);
  if (!m)
    return;
  fill(m, 0, RS_KEYS);
  up.maps[up.nmaps++] = down.maps[down.nmaps++] = m;
  up.alloc[0] = down.alloc[0] = a;
  up.process = down.process = 1;
  /* A shard keeps up to 2 emptied mappings as spares, 4 MiB at least (G5), which its
   * growths and a reshard's tables take and leave at times of their own: virtual memory
   * and mappings, not memory (rss and table are checked exactly). */
  up.slack[FIG_DATA] = down.slack[FIG_DATA] = RS_HIGH * 2 * 4096;
  up.slack[FIG_MAPS] = down.slack[FIG_MAPS] = RS_HIGH * 2;
  long base_threads = count_entries("/proc/self/task");
  rs_writer w[2] = {{.m = m, .seed = 1}, {.m = m, .seed = 2}};
  pthread_t t[3];
  for (int i = 0; i < 2; i++)
    pthread_create(&t[i], NULL, rewrite_until_stopped, &w[i]);
  /* and a reader in the tables the reshards replace and shed (ASan: none read freed) */
  _Atomic uint64_t keys = RS_KEYS;
  reader r = {.m = m, .hi = &keys};
  pthread_create(&t[2], NULL, read_until_stopped, &r);
  base_threads += 3;
  reshard_settle(m, RS_LOW); /* the fill's last growths done, as after every reshard */
  long first = tsmap_test_status_kib("VmRSS") - rss0; /* the tables, and the writers' stacks */
  long first_alloc = a ? atomic_load(&a->live_bytes) : 0;
  if (a) { /* what the allocator frees is malloc's to keep or unmap at its own pace */
    up.slack[FIG_RSS] = down.slack[FIG_RSS] = 4 * first_alloc / 1024;
    up.slack[FIG_DATA] = down.slack[FIG_DATA] += 4 * first_alloc / 1024;
  }
  if (getenv("TSMAP_SOAK_DEBUG"))
    fprintf(stderr, "rss0 %ld first %ld table %ld\n", rss0, first, metric_of(m, "tsmap_table_bytes"));
  for (int cycle = 0; cycle < soak_cycles(RS_CYCLES); cycle++) {
    reshard_settle(m, RS_HIGH);
    soak_wait_threads(base_threads); /* the helper exits when the target is reached */
    soak_sample(&up);
    reshard_settle(m, RS_LOW);
    soak_wait_threads(base_threads);
    soak_sample(&down);
  }
  for (int i = 0; i < 2; i++) {
    atomic_store(&w[i].stop, 1);
    pthread_join(t[i], NULL);
    CHECK(w[i].writes > 0 && w[i].bad == 0);
  }
  atomic_store(&r.stop, 1);
  pthread_join(t[2], NULL);
  CHECK(r.calls > 0);
  /* G15 (g), R8: a reshard up leaves no shard more than twice its entries' tables (so at
   * most 2x in all; 1.25x where the tables were just grown: DESIGN), and one back holds
   * what the map held before, 1.00x (resident: RSS above the process's before the map) */
  long hi = 0, lo = 0, ign = 0;
  soak_halves(&up, FIG_RSS, &ign, &hi);
  soak_halves(&down, FIG_RSS, &ign, &lo);
  double rhi = (double)(hi - rss0) / (double)first, rlo = (double)(lo - rss0) / (double)first;
  if (!SOAK_ASAN && !a)
    fprintf(stderr, "  %-22s %ld KiB resident at %d shards, %.2fx at %d, %.2fx back at %d\n",
            name, first, RS_LOW, rhi, RS_HIGH, rlo, RS_LOW);
  if (!SOAK_ASAN && !a)
    CHECK(rhi <= 2.1 && rlo <= 1.1);
  /* With an allocator, whose tables are not mapped, the shards a halving empties give
   * their tables back whole (R8): back at 2 the allocator holds what it held before, and
   * not the tables of the 16 (2.50x until black-box round 16). */
  long alo = 0;
  soak_halves(&down, FIG_ALLOC, &ign, &alo);
  if (a) {
    fprintf(stderr, "  %-22s allocator: %ld bytes at %d shards, %.2fx back at %d\n", name,
            first_alloc, RS_LOW, (double)alo / (double)first_alloc, RS_LOW);
    CHECK(alo <= first_alloc + first_alloc / 32);
  }
  soak_check(&up);
  soak_check(&down);
  CHECK_ST(tsmap_destroy(m), TSMAP_OK);
  CHECK(!a || a->live_bytes == 0);
}

static void test_soak_reshards_up_and_down(void) {
  tsmap_test_watchdog(__func__, 150);
  reshard_run("reshard, helper", 0, NULL);
  reshard_run("reshard, no helper", 1, NULL);
  soak_alloc a = {0};
  reshard_run("reshard, allocator", 0, &a);
}

/* ---- Metrics written again and again ---------------------------------------------------- */

enum { MX_CYCLES = 40, MX_WRITES = 50 / SCALE };

typedef struct mx_writer {
  tsmap *maps[4];
  _Atomic int stop, pause, paused;
} mx_writer;

/* Holds the writer between two calls while the test samples: what a call has allocated
 * (an eviction's record, from the map's allocator, until its hook ran) is back by then. */
static void writer_pause(mx_writer *w, int on) {
  atomic_store(&w->pause, on);
  while (on && !atomic_load(&w->paused))
    sched_yield();
}

static void *touch_until_stopped(void *arg) {
  mx_writer *w = (mx_writer *)arg;
  uint64_t x = 3;
  while (!atomic_load_explicit(&w->stop, memory_order_relaxed)) {
    if (atomic_load_explicit(&w->pause, memory_order_relaxed)) {
      atomic_store(&w->paused, 1);
      while (atomic_load(&w->pause) && !atomic_load(&w->stop))
        sched_yield();
      atomic_store(&w->paused, 0);
      continue;
    }
    x = tsmap_test_mix(x);
    uint64_t k = x % 1024;
    tsmap *m = w->maps[x >> 62];
    (void)tsmap_put(m, &k, 8, &k, NULL);
    (void)tsmap_get(m, &k, 8, NULL);
    if (x % 4 == 0)
      (void)tsmap_remove(m, &k, 8, NULL);
  }
  return NULL;
}

/* Three named metered maps (one expiring and bounded, so every family is there) and an
 * unnamed one, written by another thread, exposed MX_WRITES times a cycle by each of
 * tsmap_metrics_write, _write_all and _format (a NULL map, the length first). */
static void test_soak_metrics_written_repeatedly(void) {
  tsmap_test_watchdog(__func__, 120);
  soak s;
  soak_init(&s, "metrics written");
  soak_alloc a = {0};
  tsmap_allocator al = soak_allocator(&a);
  mx_writer w = {0};
  const char *names[4] = {"soak_mx_a", "soak_mx_b", "soak_mx_c", NULL};
  for (int i = 0; i < 4; i++) {
    tsmap_config cfg;
    soak_config(&cfg, 8, &al);
    cfg.name = names[i];
    cfg.metrics = 1;
    cfg.initial_capacity = 2048; /* twice the peak: no doubling (soak_slack) */
    if (i == 2) {
      cfg.default_ttl_ns = 1000000;
      cfg.max_entries = 512;
      cfg.shard_count = 4;
    }
    w.maps[i] = create_or_null(&cfg);
    if (!w.maps[i])
      return;
    fill(w.maps[i], 0, 1024);
  }
  s.alloc[0] = &a;
  s.process = 1;
  pthread_t t;
  pthread_create(&t, NULL, touch_until_stopped, &w);
  size_t cap = 1 << 16;
  char *buf = malloc(cap);
  soak_text *text = malloc(sizeof *text);
  for (int cycle = 0; cycle < soak_cycles(MX_CYCLES); cycle++) {
    for (int i = 0; i < MX_WRITES; i++) {
      text->len = 0;
      CHECK_ST(tsmap_metrics_write(w.maps[i % 4], soak_text_put, text), TSMAP_OK);
      text->len = 0;
      CHECK_ST(tsmap_metrics_write_all(soak_text_put, text), TSMAP_OK);
      size_t len = 0;
      CHECK_ST(tsmap_metrics_format(NULL, NULL, 0, &len), TSMAP_OK);
      if (len + 1 > cap)
        buf = realloc(buf, cap = 2 * (len + 1));
      tsmap_status st = tsmap_metrics_format(NULL, buf, cap, &len);
      CHECK(st == TSMAP_OK);
    }
    CHECK(strstr(text->buf, "soak_mx_c") != NULL);
    writer_pause(&w, 1);
    soak_sample(&s);
    writer_pause(&w, 0);
  }
  atomic_store(&w.stop, 1);
  pthread_join(t, NULL);
  free(buf);
  free(text);
  soak_check(&s);
  for (int i = 0; i < 4; i++)
    CHECK_ST(tsmap_destroy(w.maps[i]), TSMAP_OK);
  CHECK(a.live_bytes == 0);
}

/* ---- fork(): children that exit ------------------------------------------------------- */

enum { FORK_CYCLES = 40 / SCALE };

/* The child: writes every map, finishes a reshard the parent had running, makes and
 * destroys a named map of its own and exposes the metrics; exits 0 when all went well. */
static void fork_child(tsmap *const *maps, size_t n) {
  alarm(20);
  int bad = 0;
  for (size_t i = 0; i < n; i++)
    for (uint64_t k = 0; k < 256; k++) {
      tsmap_status st = tsmap_put(maps[i], &k, 8, &k, NULL);
      bad += st != TSMAP_OK && st != TSMAP_REPLACED;
    }
  size_t count = 0, target = 0;
  bad += tsmap_shard_counts(maps[0], &count, &target) != TSMAP_OK;
  for (long i = 0; count != target && i < 10000000; i++) {
    bad += tsmap_maintain(maps[0], 1024) != TSMAP_OK;
    bad += tsmap_shard_counts(maps[0], &count, &target) != TSMAP_OK;
  }
  bad += count != target;
  tsmap_config cfg;
  soak_config(&cfg, 8, NULL);
  cfg.name = "soak_fork_child";
  cfg.metrics = 1;
  tsmap *m = NULL;
  bad += tsmap_create(&cfg, &m) != TSMAP_OK;
  soak_text *text = malloc(sizeof *text);
  text->len = 0;
  bad += tsmap_metrics_write_all(soak_text_put, text) != TSMAP_OK;
  bad += strstr(text->buf, "soak_fork_child") == NULL;
  bad += tsmap_destroy(m) != TSMAP_OK;
  _exit(bad ? 1 : 0);
}

/* A map resharding up and down (its helper thread), one with a maintenance thread, a
 * named metered one, and a writer thread; each cycle the parent starts a reshard, makes
 * and destroys a named map, and forks a child that exits. The parent's figures must not
 * grow: descriptors, mappings, threads, heap, the allocator (G16). */
static void test_soak_forked_children_that_exit(void) {
  tsmap_test_watchdog(__func__, 150);
  soak s;
  soak_init(&s, "fork children");
  soak_alloc a = {0};
  tsmap_allocator al = soak_allocator(&a);
  tsmap_config cfg;
  tsmap *maps[3];
  soak_config(&cfg, 8, NULL);
  cfg.shard_count = 2;
  cfg.max_shard_count = 16;
  maps[0] = create_or_null(&cfg);
  soak_config(&cfg, 8, &al);
  cfg.default_ttl_ns = 1000000;
  cfg.maintain_interval_ns = 500000;
  maps[1] = create_or_null(&cfg);
  soak_config(&cfg, 8, &al);
  cfg.name = "soak_fork_parent";
  cfg.metrics = 1;
  cfg.initial_capacity = 2048; /* twice the peak: no doubling (soak_slack) */
  maps[2] = create_or_null(&cfg);
  if (!maps[0] || !maps[1] || !maps[2])
    return;
  /* Few entries: at any shard count its tables stay under 4 KiB, in the map's slab (G5),
   * so the process's mappings are not those a growing shard makes and keeps as spares. */
  fill(maps[0], 0, 100);
  fill(maps[1], 0, 100); /* they expire, and the thread reclaims them: then it idles */
  mx_writer w = {.maps = {maps[2], maps[2], maps[2], maps[2]}};
  pthread_t t;
  pthread_create(&t, NULL, touch_until_stopped, &w);
  s.alloc[0] = &a;
  s.process = 1;
  worker_start(&g_worker); /* kind_named's second thread */
  long base_threads = count_entries("/proc/self/task");
  int failed = 0;
  for (int cycle = 0; cycle < soak_cycles(FORK_CYCLES); cycle++) {
    CHECK_ST(tsmap_reshard(maps[0], cycle % 2 ? 2 : 16), TSMAP_OK);
    kind_named(&al, cycle);
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0)
      fork_child(maps, 3);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    failed += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    tsmap_test_finish_reshard(maps[0]);
    soak_wait_threads(base_threads);
    writer_pause(&w, 1);
    soak_sample(&s);
    writer_pause(&w, 0);
  }
  CHECK(failed == 0);
  atomic_store(&w.stop, 1);
  pthread_join(t, NULL);
  worker_stop(&g_worker);
  soak_check(&s);
  for (int i = 0; i < 3; i++)
    CHECK_ST(tsmap_destroy(maps[i]), TSMAP_OK);
  CHECK(a.live_bytes == 0);
}

/* ---- A bounded cache that runs for ever ----------------------------------------------- */

enum { CACHE_CYCLES = 48, CACHE_INSERTS = 16384 / SCALE, CACHE_BOUND = 4096 / SCALE };

static uint64_t weigh_four(const void *k, size_t kl, const void *v, void *ctx) {
  (void)k, (void)kl, (void)v, (void)ctx;
  return 4;
}

/* A count-bounded map and a weight-bounded map (long keys) of objects taking a stream of keys, hot
 * ones again and again and new ones always (capacity evictions, refused newcomers, the
 * admission sketch's resets): the bound holds the content, and nothing else may grow. */
static void test_soak_bounded_cache(void) {
  tsmap_test_watchdog(__func__, 120);
  soak s;
  soak_init(&s, "bounded cache");
  soak_alloc a = {0};
  tsmap_allocator al = soak_allocator(&a);
  tsmap_config cfg;
  soak_config(&cfg, SOAK_OBJECTS, &al);
  cfg.max_entries = CACHE_BOUND;
  cfg.shard_count = 4;
  cfg.initial_capacity = 2 * CACHE_BOUND; /* twice the peak: no doubling (soak_slack) */
  tsmap *count = create_or_null(&cfg);
  cfg.initial_capacity = 2 * CACHE_BOUND; /* twice the peak: no doubling (soak_slack) */
  soak_config(&cfg, SOAK_OBJECTS, &al);
  cfg.max_weight = 4 * CACHE_BOUND;
  cfg.weight = weigh_four; /* full, it holds CACHE_BOUND entries, whichever they are */
  cfg.shard_count = 4;
  cfg.initial_capacity = 2 * CACHE_BOUND;
  tsmap *weight = create_or_null(&cfg);
  if (!count || !weight)
    return;
  s.maps[s.nmaps++] = count, s.maps[s.nmaps++] = weight;
  s.alloc[0] = &a;
  s.process = 1;
  s.one_more_table = 1; /* new keys all along (soak_slack) */
  /* Which long keys the weighted map holds (40..103 bytes each) varies, and so do the key
   * blocks its evictions retired that wait for the epoch (up to 64 a shard, DESIGN,
   * Reclamation: every 16th write, or once 64 wait): 4 shards x 64 x 128 bytes. */
  s.slack[FIG_ALLOC] = s.slack[FIG_HEAP] = 4 * 64 * 128;
  g_live_objects = 0;
  uint64_t x = 11, fresh = 1u << 20;
  unsigned char key[128];
  for (int cycle = 0; cycle < soak_cycles(CACHE_CYCLES); cycle++) {
    int bad = 0;
    for (int i = 0; i < CACHE_INSERTS; i++) {
      x = tsmap_test_mix(x);
      uint64_t n = x % 4 ? x % 1024 : fresh++; /* 3 in 4 of 1,024 hot keys */
      bad += tsmap_put_ptr(count, &n, 8, obj_new(n), NULL) != TSMAP_OK &&
             tsmap_get(count, &n, 8, NULL) != TSMAP_OK;
      size_t len = long_key(n, key);
      tsmap_status st = tsmap_put_ptr(weight, key, len, obj_new(n), NULL);
      bad += st != TSMAP_OK && st != TSMAP_REPLACED;
    }
    CHECK(bad == 0);
    soak_sample(&s);
    CHECK(s.v[s.n - 1][FIG_SIZE] <= 2 * CACHE_BOUND);
    CHECK(g_live_objects == s.v[s.n - 1][FIG_SIZE]);
  }
  soak_check(&s);
  CHECK_ST(tsmap_destroy(count), TSMAP_OK);
  CHECK_ST(tsmap_destroy(weight), TSMAP_OK);
  CHECK(g_live_objects == 0 && a.live_bytes == 0);
}

TEST_MAIN(T(test_soak_churn_at_constant_size), T(test_soak_threads_that_come_and_go),
          T(test_soak_maps_created_and_destroyed), T(test_soak_tombstones_forgotten),
          T(test_soak_entries_expiring_steadily), T(test_soak_reshards_up_and_down),
          T(test_soak_metrics_written_repeatedly), T(test_soak_forked_children_that_exit),
          T(test_soak_bounded_cache))
