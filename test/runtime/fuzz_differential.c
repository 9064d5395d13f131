/*
 * fuzz_differential.c - libFuzzer differential test: decode the input into a map
 * configuration and a sequence of operations, run them on libtsmap and on a trivial
 * sequential model (an array of 64 keys), and abort on the first difference in a status,
 * a value, the size, a foreach visit, or the hook accounting (G1, G6, G8). The input can
 * also make allocations fail, so TSMAP_NO_MEMORY paths are compared too (the model is
 * unchanged by them).
 *
 * Input: byte 0 configures (key mode, value size, shards); then 4 bytes per operation:
 * opcode, key index, value byte, flags.
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
  unsigned char value[NK][MAXV];
  size_t vsize;
  int fixed; /* key_size 8 */
  int closed;
  long created, left;
  long fail_next; /* allocations still to fail */
  long live;      /* allocator balance */
} model;

static model g;

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
static void on_evicted(const void *k, size_t kl, void *v, tsmap_evict_reason why, void *ctx) {
  (void)k, (void)kl, (void)v, (void)ctx;
  if (why != TSMAP_EVICT_DISCARDED)
    g.left++;
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
      v->bad += !g.present[i] || memcmp(value, g.value[i], g.vsize) != 0;
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
  if (may_oom && got == TSMAP_NO_MEMORY)
    return;
  if (got != want)
    fprintf(stderr, "fuzz_differential: op %u returned %s, model says %s\n", g_op,
            tsmap_status_name(got), tsmap_status_name(want));
  REQUIRE(got == want);
}

static void op(tsmap *m, const uint8_t *d, unsigned step) {
  unsigned char k[40], v[MAXV], out[MAXV];
  int i = d[1] % NK;
  size_t kl = key_of(i, k);
  value_of(d[2], step, v);
  int p = g.present[i];
  tsmap_status st;
  memset(out, 0, sizeof out);
  g_op = (unsigned)(d[0] % 10) | (unsigned)i << 8 | (unsigned)(d[2] % 3) << 16;
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
    st = tsmap_put(m, k, kl, v, (d[3] & 1) ? out : NULL);
    check_status(st, p ? TSMAP_REPLACED : TSMAP_OK, !p);
    if (st == TSMAP_REPLACED && (d[3] & 1)) {
      REQUIRE(memcmp(out, g.value[i], g.vsize) == 0);
      g.left++;
    }
    if (st == TSMAP_OK || st == TSMAP_REPLACED) {
      g.present[i] = 1;
      memcpy(g.value[i], v, g.vsize);
    }
    break;
  case 3:
    st = tsmap_put_if_absent(m, k, kl, v, out);
    check_status(st, p ? TSMAP_EXISTS : TSMAP_OK, !p);
    if (st == TSMAP_EXISTS)
      REQUIRE(memcmp(out, g.value[i], g.vsize) == 0);
    if (st == TSMAP_OK) {
      g.present[i] = 1;
      memcpy(g.value[i], v, g.vsize);
    }
    break;
  case 4:
    st = tsmap_remove(m, k, kl, (d[3] & 1) ? out : NULL);
    check_status(st, p ? TSMAP_OK : TSMAP_NOT_FOUND, 0);
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
    st = if_present ? tsmap_compute_if_present(m, k, kl, cb_compute, NULL, out)
                    : tsmap_compute(m, k, kl, cb_compute, NULL, out);
    int runs = p || !if_present;
    int store = runs && g_verdict == TSMAP_STORE;
    int after = store || (p && runs && g_verdict == TSMAP_KEEP) || (p && !runs);
    int removed = p && runs && g_verdict == TSMAP_DELETE;
    check_status(st, after ? TSMAP_OK : removed ? TSMAP_REMOVED : TSMAP_NOT_FOUND,
                 store && !p);
    if (st == TSMAP_OK && store) {
      g.present[i] = 1;
      memcpy(g.value[i], v, g.vsize);
    } else if (st == TSMAP_NOT_FOUND || st == TSMAP_REMOVED) {
      g.present[i] = 0;
    }
    if (st == TSMAP_OK)
      REQUIRE(memcmp(out, g.value[i], g.vsize) == 0);
    break;
  }
  case 7:
    g_absent_rc = (d[2] & 7) == 0;
    memcpy(g_newval, v, sizeof v);
    st = tsmap_compute_if_absent(m, k, kl, cb_absent, NULL, out);
    check_status(st, p ? TSMAP_OK : g_absent_rc ? TSMAP_CALLBACK_FAILED : TSMAP_OK, !p);
    if (st == TSMAP_OK && !p) {
      g.present[i] = 1;
      memcpy(g.value[i], v, g.vsize);
    }
    if (st == TSMAP_OK)
      REQUIRE(memcmp(out, g.value[i], g.vsize) == 0);
    break;
  case 8: {
    size_t n = 0, want = 0;
    for (int j = 0; j < NK; j++)
      want += (size_t)g.present[j];
    st = tsmap_size(m, &n);
    check_status(st, TSMAP_OK, 0);
    if (st == TSMAP_OK)
      REQUIRE(n == want);
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
    }
    break;
  }
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
  tsmap *m = NULL;
  REQUIRE(tsmap_create(&cfg, &m) == TSMAP_OK);
  unsigned step = 0;
  for (size_t off = 1; off + 4 <= size; off += 4)
    op(m, data + off, step++);
  for (int i = 0; i < NK && !g.closed; i++) { /* final full comparison */
    unsigned char k[40], out[MAXV];
    size_t kl = key_of(i, k);
    tsmap_status st = tsmap_get(m, k, kl, out);
    REQUIRE(st == (g.present[i] ? TSMAP_OK : TSMAP_NOT_FOUND));
    if (st == TSMAP_OK)
      REQUIRE(memcmp(out, g.value[i], g.vsize) == 0);
  }
  REQUIRE(tsmap_destroy(m) == TSMAP_OK);
  REQUIRE(g.created == g.left); /* G6: every value that entered left exactly once */
  REQUIRE(g.live == 0);         /* nothing leaked, even after failed allocations */
  return 0;
}
