/*
 * fuzz_differential.c - libFuzzer differential test: decode the input into a map
 * configuration and a sequence of operations, run them on libtsmap and on a trivial
 * sequential model (an array of 64 keys), and abort on the first difference in a status,
 * a value, the size, a foreach visit, or the hook accounting (G1, G6, G8). The input can
 * also make allocations fail, so TSMAP_NO_MEMORY paths are compared too (the model is
 * unchanged by them). With expiry on (G10), the map runs on the model's clock: stores
 * carry TTLs, time steps forward, tsmap_maintain sweeps, and the model holds a deadline
 * per key (an entry past it is absent; a write may then also fail with TSMAP_NO_MEMORY).
 * With a bound (G11), the model learns each eviction from the hook: the evicted entry
 * must be one the model holds, with its value (or the refused value of the store running,
 * B5), and the size never exceeds the bound. With a bound on weight (8-byte values, bound
 * and fixed seed bits), a value weighs its first byte mod 12 and each shard holds 8: a
 * heavier one is refused (TSMAP_TOO_HEAVY) and the live weight never exceeds the bound.
 *
 * With versions (G12, on with the fixed seed), every operation runs on slots that carry a
 * version word too: the model must not see it.
 *
 * Input: byte 0 configures (key mode, value size, shards, expiry, default TTL, bound); then 4
 * bytes per operation: opcode, key index, value byte, flags (bits 2-3: which TTL a store
 * passes; bit 4: the time step also runs tsmap_maintain; bits 5-6 both set: the step
 * reshards instead (G15), to 1 << (key byte % 5) shards, and bit 4 then also runs
 * tsmap_maintain, which moves entries: every later operation runs against a map halfway
 * through a reshard, or past it).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tsmap/tsmap.h>

#define NK 64
#define MAXV 24

#define REQUIRE(c)                                                             \
  do {                                                                         \
    if (!(c)) {                                                                \
      fprintf(stderr, "fuzz_differential: %s:%d: %s\n", __FILE__, __LINE__, #c); \
      abort();                                                                 \
    }                                                                          \
  } while (0)

typedef struct model {
  int present[NK];
  uint64_t deadline[NK]; /* 0: none */
  int expiry;
  uint64_t now, default_ttl;
  size_t bound; /* max_entries, 0: none */
  uint64_t max_weight; /* 0: none; else 8 per shard (B6) */
  unsigned char value[NK][MAXV];
  size_t vsize;
  int fixed; /* key_size 8 */
  int closed;
  int resharding; /* G15: a reshard is in progress (any write may fail for memory) */
  long created, left;
  long fail_next; /* allocations still to fail */
  long live;      /* allocator balance */
  int inflight;   /* the key of the operation running (G11, B5: its value may be refused) */
  unsigned char inflight_v[MAXV];
  int refused;    /* the operation's value was evicted as it entered (not admitted) */
} model;

static model g;

/* B6: a value's weight, 0..11. */
static uint64_t fz_weight_of(const unsigned char *v) { return v[0] % 12u; }
static uint64_t fz_weight(const void *k, size_t kl, const void *v, void *ctx) {
  (void)k, (void)kl, (void)ctx;
  return fz_weight_of((const unsigned char *)v);
}
/* The store of v is refused for its weight. */
static int too_heavy(const unsigned char *v) {
  return g.max_weight && fz_weight_of(v) > 8;
}

static uint64_t fz_clock(void *ctx) {
  (void)ctx;
  return g.now;
}
/* Key i has a value the map must show. */
static int live(int i) { return g.present[i] && (!g.deadline[i] || g.now < g.deadline[i]); }
/* Key i has an expired value the map may still hold (a write may need memory to reap it). */
static int stale(int i) { return g.present[i] && !live(i); }

static void *fz_alloc(size_t size, void *ctx) {
  (void)ctx;
  if (g.fail_next > 0) {
    g.fail_next--;
    return NULL;
  }
  g.live++;
  return malloc(size);
}
static void fz_free(void *p, size_t size, void *ctx) {
  (void)size, (void)ctx;
  g.live--;
  free(p);
}

static void on_created(const void *k, size_t kl, const void *v, void *ctx) {
  (void)k, (void)kl, (void)v, (void)ctx;
  g.created++;
}
static size_t key_of(int i, unsigned char *buf);

/* A capacity eviction (G11) takes an entry the model holds, with its value. */
static void model_evicted(const void *k, size_t kl, const void *v) {
  unsigned char kb[40];
  for (int i = 0; i < NK; i++)
    if (key_of(i, kb) == kl && memcmp(kb, k, kl) == 0) {
      if (i == g.inflight && !live(i) && !g.refused &&
          memcmp(v, g.inflight_v, g.vsize) == 0) { /* B5: the insert was not admitted */
        g.refused = 1;
        return;
      }
      REQUIRE(g.present[i] && memcmp(v, g.value[i], g.vsize) == 0);
      g.present[i] = 0;
      return;
    }
  REQUIRE(0);
}

static void on_evicted(const void *k, size_t kl, void *v, tsmap_evict_reason why, void *ctx) {
  (void)ctx;
  if (why != TSMAP_EVICT_DISCARDED)
    g.left++;
  if (why == TSMAP_EVICT_CAPACITY) {
    REQUIRE(g.bound != 0);
    model_evicted(k, kl, v);
  }
}

/* Key i: fixed mode 8 bytes; variable mode one of several lengths, some long. */
static size_t key_of(int i, unsigned char *buf) {
  static const size_t lens[] = {0, 1, 5, 8, 9, 16, 31};
  size_t len = g.fixed ? 8 : lens[i % 7];
  memset(buf, 0, 40);
  for (size_t b = 0; b < len; b++)
    buf[b] = (unsigned char)(i * 31 + b);
  if (len)
    buf[0] = (unsigned char)i; /* distinct keys of one length */
  if (len == 0 && i >= 7)
    len = 2, buf[0] = (unsigned char)i, buf[1] = 0xee; /* only one empty key */
  return len;
}

static void value_of(unsigned char vb, unsigned step, unsigned char *out) {
  for (size_t b = 0; b < MAXV; b++)
    out[b] = (unsigned char)(vb + b * 7 + step);
}

static unsigned g_op; /* the operation being checked, for messages */
static tsmap_verdict g_verdict;
static unsigned char g_newval[MAXV];

static tsmap_verdict cb_compute(const void *key, size_t key_len, const void *old, void *ctx,
                                TSMAP_OUT void *out) {
  (void)key, (void)key_len, (void)old, (void)ctx;
  memcpy(out, g_newval, g.vsize);
  return g_verdict;
}

static int g_absent_rc;
static int cb_absent(const void *key, size_t key_len, void *ctx, TSMAP_OUT void *out) {
  (void)key, (void)key_len, (void)ctx;
  memcpy(out, g_newval, g.vsize);
  return g_absent_rc;
}

typedef struct visit {
  long count;
  int bad;
} visit;

static int on_visit(const void *key, size_t key_len, const void *value, void *ctx) {
  visit *v = (visit *)ctx;
  unsigned char k[40];
  v->count++;
  for (int i = 0; i < NK; i++)
    if (key_of(i, k) == key_len && memcmp(k, key, key_len) == 0) {
      v->bad += !live(i) || memcmp(value, g.value[i], g.vsize) != 0;
      return 0;
    }
  v->bad++;
  return 0;
}

/* The status the model expects when nothing special happens; NO_MEMORY is allowed for
 * calls that may allocate and then the model must be unchanged. */
static void check_status(tsmap_status got, tsmap_status want, int may_oom) {
  if (g.closed) {
    REQUIRE(got == TSMAP_CLOSED);
    return;
  }
  if ((may_oom || g.resharding) && got == TSMAP_NO_MEMORY)
    return; /* G15: a write whose key cannot move to its new shard fails, changing nothing */
  if (got != want)
    fprintf(stderr, "fuzz_differential: op %u returned %s, model says %s\n", g_op,
            tsmap_status_name(got), tsmap_status_name(want));
  REQUIRE(got == want);
}

/* The TTL a store passes (flags bits 2-3), or TSMAP_TTL_DEFAULT for the call without one
 * (*use_ttl 0), and the deadline the model gives what it stores. */
static uint64_t pick_ttl(uint8_t flags, int *use_ttl, uint64_t *deadline) {
  static const uint64_t ttls[] = {TSMAP_TTL_DEFAULT, TSMAP_TTL_NEVER, 3, TSMAP_TTL_DEFAULT};
  unsigned kind = g.expiry ? (flags >> 2) & 3 : 0;
  uint64_t ttl = ttls[kind];
  if (kind == 2)
    ttl = 1 + (flags >> 4) % 8;
  *use_ttl = kind != 0;
  uint64_t t = ttl == TSMAP_TTL_DEFAULT ? g.default_ttl : ttl;
  *deadline = t ? g.now + t : 0;
  return ttl;
}

/* A store on key i succeeded (the model's side). */
static void model_store(int i, const unsigned char *v, uint64_t deadline) {
  g.present[i] = 1;
  memcpy(g.value[i], v, g.vsize);
  g.deadline[i] = deadline;
}

static void op(tsmap *m, const uint8_t *d, unsigned step) {
  unsigned char k[40], v[MAXV], out[MAXV];
  int i = d[1] % NK;
  size_t kl = key_of(i, k);
  value_of(d[2], step, v);
  int p = live(i), old = stale(i), use_ttl;
  uint64_t deadline, ttl = pick_ttl(d[3], &use_ttl, &deadline);
  tsmap_status st;
  memset(out, 0, sizeof out);
  g_op = (unsigned)(d[0] % 10) | (unsigned)i << 8 | (unsigned)(d[2] % 3) << 16;
  size_t shards_now = 0, shards_target = 0;
  g.resharding = !g.closed && tsmap_shard_counts(m, &shards_now, &shards_target) == TSMAP_OK &&
                 shards_now != shards_target;
  g.inflight = i;
  memcpy(g.inflight_v, v, sizeof v);
  g.refused = 0;
  if (d[3] & 0x80)
    g.fail_next = d[3] & 3; /* fail the next 0..3 allocations */
  switch (d[0] % 10) {
  case 0:
    st = tsmap_get(m, k, kl, out);
    check_status(st, p ? TSMAP_OK : TSMAP_NOT_FOUND, 0);
    if (st == TSMAP_OK)
      REQUIRE(memcmp(out, g.value[i], g.vsize) == 0);
    break;
  case 1:
  case 2:
    st = use_ttl ? tsmap_put_ttl(m, k, kl, v, ttl, (d[3] & 1) ? out : NULL)
                 : tsmap_put(m, k, kl, v, (d[3] & 1) ? out : NULL);
    check_status(st, too_heavy(v) ? TSMAP_TOO_HEAVY : p ? TSMAP_REPLACED : TSMAP_OK,
                 !p || g.max_weight); /* a heavier overwrite may evict, with records */
    if (st == TSMAP_REPLACED && (d[3] & 1)) {
      REQUIRE(memcmp(out, g.value[i], g.vsize) == 0);
      g.left++;
    }
    if (st == TSMAP_OK || st == TSMAP_REPLACED)
      model_store(i, v, deadline);
    break;
  case 3:
    st = use_ttl ? tsmap_put_if_absent_ttl(m, k, kl, v, ttl, out)
                 : tsmap_put_if_absent(m, k, kl, v, out);
    check_status(st, too_heavy(v) ? TSMAP_TOO_HEAVY : p ? TSMAP_EXISTS : TSMAP_OK, !p);
    if (st == TSMAP_EXISTS)
      REQUIRE(memcmp(out, g.value[i], g.vsize) == 0);
    if (st == TSMAP_OK)
      model_store(i, v, deadline);
    break;
  case 4:
    st = tsmap_remove(m, k, kl, (d[3] & 1) ? out : NULL);
    /* G10: an expired key is absent, memory or not (a removal allocates nothing for it) */
    check_status(st, p ? TSMAP_OK : TSMAP_NOT_FOUND, 0);
    if (st == TSMAP_NOT_FOUND && !old)
      g.present[i] = 0; /* (an expired value may still be there, reaped or not: kept) */
    if (st == TSMAP_OK) {
      if (d[3] & 1) {
        REQUIRE(memcmp(out, g.value[i], g.vsize) == 0);
        g.left++;
      }
      g.present[i] = 0;
    }
    break;
  case 5:
  case 6: {
    int if_present = d[0] % 10 == 6;
    g_verdict = (tsmap_verdict)(d[2] % 3);
    memcpy(g_newval, v, sizeof v);
    if (use_ttl)
      st = if_present ? tsmap_compute_if_present_ttl(m, k, kl, cb_compute, NULL, ttl, out)
                      : tsmap_compute_ttl(m, k, kl, cb_compute, NULL, ttl, out);
    else
      st = if_present ? tsmap_compute_if_present(m, k, kl, cb_compute, NULL, out)
                      : tsmap_compute(m, k, kl, cb_compute, NULL, out);
    int runs = p || !if_present;
    int store = runs && g_verdict == TSMAP_STORE;
    int after = store || (p && runs && g_verdict == TSMAP_KEEP) || (p && !runs);
    int removed = p && runs && g_verdict == TSMAP_DELETE;
    int heavy = store && !(p && memcmp(g.value[i], v, g.vsize) == 0) && too_heavy(v);
    check_status(st, heavy     ? TSMAP_TOO_HEAVY
                     : after   ? TSMAP_OK
                     : removed ? TSMAP_REMOVED
                               : TSMAP_NOT_FOUND,
                 store && (!p || g.max_weight));
    if (st == TSMAP_OK && store) {
      int same = p && memcmp(g.value[i], v, g.vsize) == 0; /* a no-op: keeps its deadline */
      model_store(i, v, same ? g.deadline[i] : deadline);
    } else if (st == TSMAP_REMOVED || (st == TSMAP_NOT_FOUND && !old)) {
      g.present[i] = 0; /* (after NOT_FOUND an expired value may still be there: kept) */
    }
    if (st == TSMAP_OK)
      REQUIRE(memcmp(out, g.value[i], g.vsize) == 0);
    break;
  }
  case 7:
    g_absent_rc = (d[2] & 7) == 0;
    memcpy(g_newval, v, sizeof v);
    st = use_ttl ? tsmap_compute_if_absent_ttl(m, k, kl, cb_absent, NULL, ttl, out)
                 : tsmap_compute_if_absent(m, k, kl, cb_absent, NULL, out);
    check_status(st, p             ? TSMAP_OK
                     : g_absent_rc ? TSMAP_CALLBACK_FAILED
                     : too_heavy(v) ? TSMAP_TOO_HEAVY
                                    : TSMAP_OK,
                 !p);
    if (st == TSMAP_OK && !p)
      model_store(i, v, deadline);
    if (st == TSMAP_OK)
      REQUIRE(memcmp(out, g.value[i], g.vsize) == 0);
    break;
  case 8: {
    size_t n = 0, want = 0, unreaped = 0;
    uint64_t weight = 0;
    for (int j = 0; j < NK; j++) {
      weight += live(j) ? fz_weight_of(g.value[j]) : 0;
      want += (size_t)live(j);
      unreaped += (size_t)stale(j);
    }
    st = tsmap_size(m, &n);
    check_status(st, TSMAP_OK, 0);
    if (st == TSMAP_OK) /* expired values count until reaped */
      REQUIRE(n >= want && n <= want + unreaped && (!g.bound || n <= g.bound));
    REQUIRE(!g.max_weight || weight <= g.max_weight); /* B6 */
    visit vis = {0, 0};
    st = tsmap_foreach(m, on_visit, &vis);
    check_status(st, TSMAP_OK, 1);
    if (st == TSMAP_OK)
      REQUIRE(vis.bad == 0 && (size_t)vis.count == want);
    break;
  }
  default:
    if (d[2] == 0xc1) { /* rare: close */
      st = tsmap_close(m);
      REQUIRE(st == (g.closed ? TSMAP_CLOSED : TSMAP_OK));
      g.closed = 1;
    } else if ((d[3] & 0x60) == 0x60) { /* G15: reshard to 1..16 shards, moved on a bit */
      st = tsmap_reshard(m, (size_t)1 << (d[1] % 5));
      check_status(st, g.bound ? TSMAP_INVALID_ARGUMENT : TSMAP_OK, 1);
      if (d[3] & 0x10)
        check_status(tsmap_maintain(m, (size_t)d[2] * 2), TSMAP_OK, 0);
    } else if (g.expiry) { /* time passes; maybe a sweep */
      g.now += d[2] % 8;
      if (d[3] & 0x10)
        check_status(tsmap_maintain(m, (size_t)d[1] * 4), TSMAP_OK, 0);
    }
    break;
  }
  if (g.refused) /* B5: its value entered and was evicted at once */
    g.present[i] = 0;
  g.inflight = -1;
  g.fail_next = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1)
    return 0;
  memset(&g, 0, sizeof g);
  g.fixed = data[0] & 1;
  g.vsize = (data[0] & 2) ? MAXV : 8;
  tsmap_allocator al = {fz_alloc, fz_free, NULL};
  tsmap_config cfg;
  tsmap_config_init(&cfg, g.vsize);
  cfg.key_size = g.fixed ? 8 : 0;
  cfg.shard_count = (size_t)1 << ((data[0] >> 2) & 3);
  cfg.allocator = &al;
  cfg.on_entry_created = on_created;
  cfg.on_entry_evicted = on_evicted;
  cfg.seed = (data[0] & 0x10) ? 0x1234 : 0;
  cfg.versions = (data[0] & 0x10) != 0; /* G12: a version word after the other meta words */
  g.expiry = (data[0] & 0x20) != 0;
  g.default_ttl = (data[0] & 0x40) ? 6 : 0;
  g.now = 1;
  cfg.expiry = g.expiry;
  cfg.default_ttl_ns = g.expiry ? g.default_ttl : 0;
  cfg.clock = fz_clock;
  g.bound = (data[0] & 0x80) ? 16 : 0; /* at least the shard count (<= 8) */
  cfg.max_entries = g.bound;
  cfg.max_shard_count = 16; /* G15: reshard steps go up to 16 */
  if (g.bound && g.vsize == 8 && (data[0] & 0x10)) { /* B6: a bound on weight too */
    g.max_weight = 8 * cfg.shard_count;
    cfg.max_weight = g.max_weight;
    cfg.weight = fz_weight;
  }
  tsmap *m = NULL;
  REQUIRE(tsmap_create(&cfg, &m) == TSMAP_OK);
  unsigned step = 0;
  for (size_t off = 1; off + 4 <= size; off += 4)
    op(m, data + off, step++);
  for (int i = 0; i < NK && !g.closed; i++) { /* final full comparison */
    unsigned char k[40], out[MAXV];
    size_t kl = key_of(i, k);
    tsmap_status st = tsmap_get(m, k, kl, out);
    REQUIRE(st == (live(i) ? TSMAP_OK : TSMAP_NOT_FOUND));
    if (st == TSMAP_OK)
      REQUIRE(memcmp(out, g.value[i], g.vsize) == 0);
  }
  REQUIRE(tsmap_destroy(m) == TSMAP_OK);
  REQUIRE(g.created == g.left); /* G6: every value that entered left exactly once */
  REQUIRE(g.live == 0);         /* nothing leaked, even after failed allocations */
  return 0;
}
