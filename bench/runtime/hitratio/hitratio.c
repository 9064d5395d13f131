/*
 * hitratio.c - issue 20's benchmark of bounded maps (G11): the hit ratio of a tsmap with
 * max_entries = capacity against exact LRU and exact LFU simulated on the same traces,
 * and the cost of a bound on workload A (95% get, 5% put) compared with an unbounded map.
 *
 *   tsmap_bench_hitratio [capacity [accesses]]          hit ratios (default 10000, 2000000)
 *   tsmap_bench_hitratio --throughput keys ops threads [unbounded|never|half]
 *       A: unbounded, bound never reached (2x the keys), bound at half the keys; one of
 *       them alone for `valgrind --tool=callgrind --toggle-collect=a_run`
 *
 * Traces (keys are 8-byte integers; a miss inserts the key, as a cache does):
 *   zipf-0.8, zipf-0.99  Zipf over 10x the capacity;
 *   scan                 Zipf 0.99 with a pass over 5x the capacity (keys of the same
 *                        space, in order) every 10% of the trace;
 *   scan-0.8             the same passes over Zipf 0.8 (the issue names no exponent for
 *                        its scan trace; both are reported, each against LRU + 10);
 *   moving               Zipf 0.99 whose hot set moves to other keys halfway.
 * Exact LRU: a list, most recent first. Exact LFU: a heap on (count, last use), counts
 * kept while the key is cached. OPT (Belady's MIN, evicting the key used again last) is
 * the ceiling no policy passes; top-C, the capacity's most accessed keys kept all along,
 * is about the best a policy that cannot see the future does on independent draws (the
 * scan trace's LRU + 10 target lies above it); A0, the capacity's most probable keys by
 * the generator's ranks, is that best exactly (in expectation), and lies lower still.
 * Deterministic: fixed seeds.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tsmap/tsmap.h>

static uint64_t rng_next(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

/* ---- Traces ----------------------------------------------------------------------------- */

typedef struct zipf {
  double *cdf;
  size_t n;
} zipf;

static zipf zipf_new(size_t n, double s) {
  zipf z = {malloc(n * sizeof(double)), n};
  double sum = 0;
  for (size_t i = 0; i < n; i++)
    sum += 1.0 / pow((double)(i + 1), s);
  double acc = 0;
  for (size_t i = 0; i < n; i++) {
    acc += 1.0 / pow((double)(i + 1), s) / sum;
    z.cdf[i] = acc;
  }
  return z;
}

static size_t zipf_draw(const zipf *z, uint64_t *rng) {
  double u = (double)(rng_next(rng) >> 11) / 9007199254740992.0;
  size_t lo = 0, hi = z->n - 1;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (z->cdf[mid] < u)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* Rank r's key under permutation `perm` of a space of n keys (a multiplicative bijection). */
static uint64_t rank_key(size_t r, size_t n, uint64_t perm) {
  return (uint64_t)((r * 2654435761u + perm) % n);
}

/* Fill `t` (len accesses) with trace `kind` for `cap`. Keys are < 10 * cap. */
static void make_trace(const char *kind, size_t cap, uint64_t *t, size_t len) {
  size_t n = 10 * cap;
  int scans = strncmp(kind, "scan", 4) == 0;
  zipf z = zipf_new(n, strcmp(kind, "zipf-0.8") == 0 || strcmp(kind, "scan-0.8") == 0 ? 0.8 : 0.99);
  uint64_t rng = 0x9e3779b97f4a7c15ull;
  size_t scan_every = len / 10, scan_len = 5 * cap, scan_at = 0, pass = 0;
  for (size_t i = 0; i < len; i++) {
    if (scans && i >= scan_every && i % scan_every == 0)
      scan_at = scan_len; /* start a pass */
    if (scan_at) {
      t[i] = (uint64_t)((pass * scan_len + (scan_len - scan_at)) % n);
      if (--scan_at == 0)
        pass++;
      continue;
    }
    uint64_t perm = strcmp(kind, "moving") == 0 && i >= len / 2 ? n / 2 + 7 : 0;
    t[i] = rank_key(zipf_draw(&z, &rng), n, perm);
  }
  free(z.cdf);
}

/* ---- Exact LRU ---------------------------------------------------------------------------- */

static double lru_hits(const uint64_t *t, size_t len, size_t cap, size_t keys) {
  long *prev = malloc(keys * sizeof(long)), *next = malloc(keys * sizeof(long));
  char *in = calloc(keys, 1);
  long head = -1, tail = -1;
  size_t size = 0, hits = 0;
  for (size_t i = 0; i < len; i++) {
    long k = (long)t[i];
    if (in[k]) { /* unlink, then push front */
      hits++;
      if (prev[k] >= 0) next[prev[k]] = next[k]; else head = next[k];
      if (next[k] >= 0) prev[next[k]] = prev[k]; else tail = prev[k];
    } else if (size == cap) { /* evict the tail */
      long v = tail;
      tail = prev[v];
      if (tail >= 0) next[tail] = -1; else head = -1;
      in[v] = 0;
    } else {
      size++;
    }
    in[k] = 1;
    prev[k] = -1;
    next[k] = head;
    if (head >= 0) prev[head] = k;
    head = k;
    if (tail < 0) tail = k;
  }
  free(prev), free(next), free(in);
  return (double)hits / (double)len;
}

/* ---- Exact LFU: a min-heap on (count, last use) ---------------------------------------------- */

typedef struct lfu {
  uint64_t *key, *count, *used;
  long *pos; /* per key: index in the heap, -1 when not cached */
  size_t n;
} lfu;

static int lfu_less(const lfu *h, size_t a, size_t b) {
  return h->count[a] != h->count[b] ? h->count[a] < h->count[b] : h->used[a] < h->used[b];
}
static void lfu_swap(lfu *h, size_t a, size_t b) {
  uint64_t k = h->key[a], c = h->count[a], u = h->used[a];
  h->key[a] = h->key[b], h->count[a] = h->count[b], h->used[a] = h->used[b];
  h->key[b] = k, h->count[b] = c, h->used[b] = u;
  h->pos[h->key[a]] = (long)a;
  h->pos[h->key[b]] = (long)b;
}
static void lfu_down(lfu *h, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < h->n && lfu_less(h, l, m)) m = l;
    if (r < h->n && lfu_less(h, r, m)) m = r;
    if (m == i) return;
    lfu_swap(h, i, m);
    i = m;
  }
}
static void lfu_up(lfu *h, size_t i) {
  while (i > 0 && lfu_less(h, i, (i - 1) / 2)) {
    lfu_swap(h, i, (i - 1) / 2);
    i = (i - 1) / 2;
  }
}

static lfu lfu_new(size_t cap, size_t keys) {
  lfu h = {malloc(cap * 8), malloc(cap * 8), malloc(cap * 8), malloc(keys * sizeof(long)), 0};
  for (size_t k = 0; k < keys; k++)
    h.pos[k] = -1;
  return h;
}

/* Cache key k with (count, used), evicting the root first when the heap holds `cap`. */
static void lfu_insert(lfu *h, size_t cap, uint64_t k, uint64_t count, uint64_t used) {
  if (h->n == cap) {
    h->pos[h->key[0]] = -1;
    h->n--;
    if (h->n) {
      h->key[0] = h->key[h->n], h->count[0] = h->count[h->n], h->used[0] = h->used[h->n];
      h->pos[h->key[0]] = 0;
      lfu_down(h, 0);
    }
  }
  h->key[h->n] = k, h->count[h->n] = count, h->used[h->n] = used;
  h->pos[k] = (long)h->n;
  lfu_up(h, h->n++);
}

static double lfu_hits(const uint64_t *t, size_t len, size_t cap, size_t keys) {
  lfu h = lfu_new(cap, keys);
  size_t hits = 0;
  for (size_t i = 0; i < len; i++) {
    uint64_t k = t[i];
    if (h.pos[k] >= 0) {
      hits++;
      size_t p = (size_t)h.pos[k];
      h.count[p]++;
      h.used[p] = i;
      lfu_down(&h, p);
      continue;
    }
    lfu_insert(&h, cap, k, 1, i);
  }
  free(h.key), free(h.count), free(h.used), free(h.pos);
  return (double)hits / (double)len;
}

/* OPT: the same heap, ordered by the next use (the farthest is the root). */
static double opt_hits(const uint64_t *t, size_t len, size_t cap, size_t keys) {
  uint64_t *nxt = malloc(len * 8), *last = malloc(keys * 8);
  for (size_t k = 0; k < keys; k++)
    last[k] = UINT64_MAX;
  for (size_t i = len; i-- > 0;) {
    nxt[i] = last[t[i]];
    last[t[i]] = i;
  }
  lfu h = lfu_new(cap, keys);
  size_t hits = 0;
  for (size_t i = 0; i < len; i++) {
    uint64_t k = t[i];
    if (h.pos[k] >= 0) {
      hits++;
      size_t p = (size_t)h.pos[k];
      h.count[p] = ~nxt[i];
      lfu_up(&h, p);
      lfu_down(&h, (size_t)h.pos[k]);
      continue;
    }
    lfu_insert(&h, cap, k, ~nxt[i], i);
  }
  free(nxt), free(last), free(h.key), free(h.count), free(h.used), free(h.pos);
  return (double)hits / (double)len;
}

/* The best fixed set in hindsight: the `cap` keys accessed most often over the whole
 * trace, never changed. On a trace of independent draws no online policy beats it by more
 * than noise; a trace whose popularity moves lets policies that follow it pass it. */
static int count_desc(const void *a, const void *b) {
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return x < y ? 1 : x > y ? -1 : 0;
}
static double topc_hits(const uint64_t *t, size_t len, size_t cap, size_t keys) {
  size_t *n = calloc(keys, sizeof *n), hits = 0;
  for (size_t i = 0; i < len; i++)
    n[t[i]]++;
  qsort(n, keys, sizeof *n, count_desc);
  for (size_t i = 0; i < cap && i < keys; i++)
    hits += n[i];
  free(n);
  return (double)hits / (double)len;
}

/* A0 (Aho, Denning and Ullman 1971): keep the `cap` keys the generator draws most often,
 * as a policy that knows the popularity (but not the draws) does; the optimal online
 * policy for independent draws. A key is a hit when it is among them and was accessed
 * since it last joined them (the moving trace's ranks change halfway). On the scan trace
 * it is what any online policy can hope for: a scan's keys are not used again soon. */
static double a0_hits(const char *kind, const uint64_t *t, size_t len, size_t cap,
                      size_t keys) {
  char *hot = calloc(keys, 1), *seen = calloc(keys, 1);
  size_t hits = 0;
  for (size_t r = 0; r < cap; r++)
    hot[rank_key(r, keys, 0)] = 1;
  for (size_t i = 0; i < len; i++) {
    if (strcmp(kind, "moving") == 0 && i == len / 2) { /* the ranks move */
      memset(hot, 0, keys);
      for (size_t r = 0; r < cap; r++)
        hot[rank_key(r, keys, keys / 2 + 7)] = 1;
      for (size_t k = 0; k < keys; k++)
        seen[k] &= hot[k];
    }
    hits += hot[t[i]] && seen[t[i]];
    seen[t[i]] |= hot[t[i]];
  }
  free(hot), free(seen);
  return (double)hits / (double)len;
}

/* ---- tsmap with max_entries ----------------------------------------------------------------- */

static tsmap *bounded(size_t max, size_t shards) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.key_size = 8;
  cfg.max_entries = max;
  cfg.shard_count = shards;
  cfg.seed = 42; /* the same placement every run: callgrind counts repeat */
  tsmap *m = NULL;
  if (tsmap_create(&cfg, &m) != TSMAP_OK) {
    fprintf(stderr, "hitratio: tsmap_create failed\n");
    exit(1);
  }
  return m;
}

static double tsmap_hits(const uint64_t *t, size_t len, size_t cap, size_t shards) {
  tsmap *m = bounded(cap, shards);
  size_t hits = 0;
  for (size_t i = 0; i < len; i++) {
    if (tsmap_get(m, &t[i], 8, NULL) == TSMAP_OK)
      hits++;
    else
      tsmap_put(m, &t[i], 8, &t[i], NULL);
  }
  tsmap_destroy(m);
  return (double)hits / (double)len;
}

static int hit_ratios(size_t cap, size_t len) {
  static const char *const kinds[] = {"zipf-0.8", "zipf-0.99", "scan", "scan-0.8", "moving"};
  uint64_t *t = malloc(len * sizeof *t);
  int bad = 0;
  printf("capacity %zu, %zu accesses per trace (hit ratio, %%)\n", cap, len);
  printf("%-10s %8s %8s %8s %8s %8s %14s %14s %8s\n", "trace", "OPT", "top-C", "A0", "LRU",
         "LFU", "tsmap", "tsmap 1 shard", "vs LRU");
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    make_trace(kinds[i], cap, t, len);
    double lru = lru_hits(t, len, cap, 10 * cap), lf = lfu_hits(t, len, cap, 10 * cap);
    double opt = opt_hits(t, len, cap, 10 * cap), top = topc_hits(t, len, cap, 10 * cap);
    double a0 = a0_hits(kinds[i], t, len, cap, 10 * cap);
    double ts = tsmap_hits(t, len, cap, 0), ts1 = tsmap_hits(t, len, cap, 1);
    double need = lru + (strncmp(kinds[i], "scan", 4) == 0 ? 0.10 : 0.0);
    int ok = ts >= need;
    bad += !ok;
    printf("%-10s %8.2f %8.2f %8.2f %8.2f %8.2f %14.2f %14.2f %+8.2f %s\n", kinds[i],
           100 * opt, 100 * top, 100 * a0, 100 * lru, 100 * lf, 100 * ts, 100 * ts1,
           100 * (ts - lru),
           ok ? "ok" : "BELOW TARGET");
  }
  free(t);
  return bad;
}

/* ---- Workload A with and without a bound ----------------------------------------------------- */

typedef struct a_arg {
  tsmap *m;
  size_t keys, ops;
  uint64_t seed;
} a_arg;

static void *a_run(void *p) {
  a_arg *a = (a_arg *)p;
  uint64_t rng = a->seed;
  for (size_t i = 0; i < a->ops; i++) {
    uint64_t r = rng_next(&rng), k = (r >> 8) % a->keys;
    if (r % 100 < 95)
      (void)tsmap_get(a->m, &k, 8, NULL);
    else
      (void)tsmap_put(a->m, &k, 8, &k, NULL);
  }
  return NULL;
}

static double a_mops(size_t max, size_t keys, size_t ops, int threads) {
  tsmap *m = bounded(max, 0);
  for (uint64_t k = 0; k < keys; k++)
    tsmap_put(m, &k, 8, &k, NULL);
  a_arg args[16];
  pthread_t th[16];
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 0; i < threads; i++) {
    args[i] = (a_arg){m, keys, ops, 0x2545f4914f6cdd1dull * (uint64_t)(i + 1)};
    pthread_create(&th[i], NULL, a_run, &args[i]);
  }
  for (int i = 0; i < threads; i++)
    pthread_join(th[i], NULL);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  tsmap_destroy(m);
  double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
  return (double)ops * threads / s / 1e6;
}

static void throughput(size_t keys, size_t ops, int threads) {
  double u = a_mops(0, keys, ops, threads), never = a_mops(2 * keys, keys, ops, threads);
  double half = a_mops(keys / 2, keys, ops, threads);
  printf("A, %zu keys, %d thread(s), %zu ops each: unbounded %.2f Mops/s; bound never "
         "reached %.2f (%.2fx); bound at half the keys %.2f (%.2fx)\n",
         keys, threads, ops, u, never, never / u, half, half / u);
}

int main(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "--throughput") == 0) {
    size_t keys = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000;
    size_t ops = argc > 3 ? strtoul(argv[3], NULL, 10) : 2000000;
    int threads = argc > 4 ? atoi(argv[4]) : 1;
    threads = threads < 1 ? 1 : threads > 16 ? 16 : threads;
    if (argc > 5) { /* one configuration */
      size_t max = strcmp(argv[5], "never") == 0 ? 2 * keys
                   : strcmp(argv[5], "half") == 0 ? keys / 2 : 0;
      printf("%s: %.2f Mops/s\n", argv[5], a_mops(max, keys, ops, threads));
      return 0;
    }
    throughput(keys, ops, threads);
    return 0;
  }
  size_t cap = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
  size_t len = argc > 2 ? strtoul(argv[2], NULL, 10) : 2000000;
  if (cap < 64 || len < 1000) {
    fprintf(stderr, "usage: %s [capacity >= 64 [accesses >= 1000]]\n", argv[0]);
    return 2;
  }
  return hit_ratios(cap, len) ? 1 : 0;
}
