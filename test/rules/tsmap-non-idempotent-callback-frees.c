// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback %t
// RUN: %check_tsmap_tidy -check-suffixes=DEALLOC %s tsmap-non-idempotent-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-non-idempotent-callback.Deallocators: 'pool_release'}}"
//
// Freeing memory the callback did not allocate is wrong to repeat (a retry
// frees it twice), unless the freed field is given a new value on every path
// before the callback returns: null, a fresh allocation, or the result of
// the realloc that freed it. Then a retry frees that new value, not the old
// one. g_free and the Deallocators option count as free.

#include <tsmap/annotations.h>
#include <stdlib.h>
#include <string.h>

struct TSMAP_THREAD_SAFE_MAP store;
typedef int (*loader)(const char *key, void *ctx, TSMAP_OUT int *out);
int store_compute(struct store *s, const char *key, TSMAP_CALLBACK loader fn, void *ctx);
void g_free(void *mem);
char *g_strndup(const char *s, size_t n);
void pool_release(void *mem);

struct scratch { char *buf; size_t cap; char *tmp; };
struct vec { int *items; size_t len, cap; };
static struct vec g_pending;

static int vec_push(struct vec *v, int x) {
  if (v->len == v->cap) {
    size_t nc = v->cap ? v->cap * 2 : 4;
    int *n = realloc(v->items, nc * sizeof *n);
    if (!n)
      return -1;
    v->items = n;
    v->cap = nc;
  }
  v->items[v->len++] = x;
  return 0;
}

// ---- Loud: the old block is freed and the field still points at it -------

static int frees_plain(const char *key, void *ctx, int *out) {
  struct scratch *s = ctx;
  free(s->tmp);
  *out = 0;
  return 0;
}
static int frees_g_free(const char *key, void *ctx, int *out) {
  struct scratch *s = ctx;
  g_free(s->tmp);
  *out = 0;
  return 0;
}
static int frees_then_maybe_clears(const char *key, void *ctx, int *out) {
  struct scratch *s = ctx;
  free(s->tmp);
  if (key[0])
    s->tmp = NULL; // not on every path
  *out = 0;
  return 0;
}
static int frees_then_returns(const char *key, void *ctx, int *out) {
  struct scratch *s = ctx;
  free(s->tmp);
  if (!key[0])
    return -1; // leaves with 's->tmp' dangling
  s->tmp = NULL;
  *out = 0;
  return 0;
}
static int frees_other_field(const char *key, void *ctx, int *out) {
  struct scratch *s = ctx;
  free(s->tmp);
  s->buf = NULL;
  *out = 0;
  return 0;
}
static int reallocs_drops_result(const char *key, void *ctx, int *out) {
  struct scratch *s = ctx;
  char *nb = realloc(s->buf, strlen(key) + 1);
  *out = nb != NULL;
  free(nb);
  return 0;
}
static int pushes(const char *key, void *ctx, int *out) {
  vec_push(&g_pending, (int)strlen(key));
  *out = 1;
  return 0;
}
static int pool_frees(const char *key, void *ctx, int *out) {
  struct scratch *s = ctx;
  pool_release(s->tmp);
  *out = 0;
  return 0;
}

void loud(struct store *st, struct scratch *s) {
  store_compute(st, "k", frees_plain, s);
  // CHECK-MESSAGES: :[[@LINE-1]]:26: warning: callback 'frees_plain' passed to 'store_compute' is not idempotent: it may run more than once, and each run frees 's->tmp', which it did not allocate
  // CHECK-MESSAGES-DEALLOC: :[[@LINE-2]]:26: warning: callback 'frees_plain' {{.*}} frees 's->tmp'
  store_compute(st, "k", frees_g_free, s);
  // CHECK-MESSAGES: :[[@LINE-1]]:26: warning: callback 'frees_g_free' passed to 'store_compute' is not idempotent: it may run more than once, and each run frees 's->tmp', which it did not allocate
  store_compute(st, "k", frees_then_maybe_clears, s);
  // CHECK-MESSAGES: :[[@LINE-1]]:26: warning: callback 'frees_then_maybe_clears' {{.*}} frees 's->tmp'
  // CHECK-MESSAGES-DEALLOC: :[[@LINE-2]]:26: warning: callback 'frees_then_maybe_clears' {{.*}} frees 's->tmp'
  store_compute(st, "k", frees_then_returns, s);
  // CHECK-MESSAGES: :[[@LINE-1]]:26: warning: callback 'frees_then_returns' {{.*}} frees 's->tmp'
  // CHECK-MESSAGES-DEALLOC: :[[@LINE-2]]:26: warning: callback 'frees_then_returns' {{.*}} frees 's->tmp'
  store_compute(st, "k", frees_other_field, s);
  // CHECK-MESSAGES: :[[@LINE-1]]:26: warning: callback 'frees_other_field' {{.*}} frees 's->tmp'
  // CHECK-MESSAGES-DEALLOC: :[[@LINE-2]]:26: warning: callback 'frees_other_field' {{.*}} frees 's->tmp'
  store_compute(st, "k", reallocs_drops_result, s);
  // CHECK-MESSAGES: :[[@LINE-1]]:26: warning: callback 'reallocs_drops_result' {{.*}} frees 's->buf'
  // CHECK-MESSAGES-DEALLOC: :[[@LINE-2]]:26: warning: callback 'reallocs_drops_result' {{.*}} frees 's->buf'
  store_compute(st, "k", pushes, s);
  // CHECK-MESSAGES: :[[@LINE-1]]:26: warning: callback 'pushes' passed to 'store_compute' is not idempotent: it may run more than once, and each run increments 'g_pending.len'
  // CHECK-MESSAGES-DEALLOC: :[[@LINE-2]]:26: warning: callback 'pushes' {{.*}} increments 'g_pending.len'
  store_compute(st, "k", pool_frees, s);
  // CHECK-MESSAGES-DEALLOC: :[[@LINE-1]]:26: warning: callback 'pool_frees' passed to 'store_compute' is not idempotent: it may run more than once, and each run frees 's->tmp', which it did not allocate
}

// ---- Quiet: the field is given a new value before the callback returns ---

static int grows_buffer(const char *key, void *ctx, int *out) {
  struct scratch *s = ctx;
  size_t n = strlen(key);
  if (s->cap < n + 1) {
    char *nb = realloc(s->buf, n + 1);
    if (!nb)
      return -1; // realloc failed: it freed nothing
    s->buf = nb;
    s->cap = n + 1;
  }
  memcpy(s->buf, key, n + 1);
  *out = (int)n;
  return 0;
}
static int grows_in_place(const char *key, void *ctx, int *out) {
  struct scratch *s = ctx;
  s->buf = realloc(s->buf, strlen(key) + 1);
  *out = s->buf != NULL;
  return 0;
}
static int frees_and_clears(const char *key, void *ctx, int *out) {
  struct scratch *s = ctx;
  free(s->tmp);
  s->tmp = NULL;
  *out = 0;
  return 0;
}
static int g_frees_and_replaces(const char *key, void *ctx, int *out) {
  struct scratch *s = ctx;
  g_free(s->tmp);
  s->tmp = g_strndup(key, strlen(key));
  *out = 0;
  return 0;
}
static int frees_if_set_and_clears(const char *key, void *ctx, int *out) {
  struct scratch *s = ctx;
  if (s->tmp)
    free(s->tmp);
  s->tmp = malloc(16);
  *out = 0;
  return 0;
}

// A project's allocator declared __attribute__((malloc)) (GLib's
// G_GNUC_MALLOC, wireshark's wmem_alloc) makes a fresh allocation too; one
// without the attribute is not known to.
void *arena_alloc(size_t n) __attribute__((malloc));
void *arena_take(size_t n);
static int frees_and_arena_allocs(const char *key, void *ctx, int *out) {
  struct scratch *s = ctx;
  free(s->tmp);
  s->tmp = arena_alloc(16);
  *out = 0;
  return 0;
}
static int frees_and_arena_takes(const char *key, void *ctx, int *out) {
  struct scratch *s = ctx;
  free(s->tmp);
  s->tmp = arena_take(16);
  *out = 0;
  return 0;
}

void arenas(struct store *st, struct scratch *s) {
  store_compute(st, "k", frees_and_arena_allocs, s);
  store_compute(st, "k", frees_and_arena_takes, s);
  // CHECK-MESSAGES: :[[@LINE-1]]:26: warning: callback 'frees_and_arena_takes' {{.*}} frees 's->tmp', which it did not allocate
  // CHECK-MESSAGES-DEALLOC: :[[@LINE-2]]:26: warning: callback 'frees_and_arena_takes' {{.*}} frees 's->tmp', which it did not allocate
}

void quiet(struct store *st, struct scratch *s) {
  store_compute(st, "k", grows_buffer, s);
  store_compute(st, "k", grows_in_place, s);
  store_compute(st, "k", frees_and_clears, s);
  store_compute(st, "k", g_frees_and_replaces, s);
  store_compute(st, "k", frees_if_set_and_clears, s);
}

// g_clear_pointer(&s->tmp, g_free), as GLib expands it: the field is cleared
// before the copy of its old value is freed.
static int clears_pointer(const char *key, void *ctx, int *out) {
  struct scratch *s = ctx;
  do {
    char **pp = &s->tmp;
    char *ptr = *pp;
    *pp = NULL;
    if (ptr)
      (g_free)(ptr);
  } while (0);
  *out = 0;
  return 0;
}
static int copies_then_frees(const char *key, void *ctx, int *out) {
  struct scratch *s = ctx;
  char *old = s->tmp;
  free(old); // the field still points at the freed block
  *out = 0;
  return 0;
}

void steals(struct store *st, struct scratch *s) {
  store_compute(st, "k", clears_pointer, s);
  store_compute(st, "k", copies_then_frees, s);
  // CHECK-MESSAGES: :[[@LINE-1]]:26: warning: callback 'copies_then_frees' {{.*}} frees 'ctx->tmp'
  // CHECK-MESSAGES-DEALLOC: :[[@LINE-2]]:26: warning: callback 'copies_then_frees' {{.*}} frees 'ctx->tmp'
}
