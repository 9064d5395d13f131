/*
 * test_contract.c - what tsmap.h promises a first-time user, one test per decision:
 * what hooks and visitors may call (compute callbacks: test_unit.c, test_g4_*), the
 * empty key, tsmap_destroy(NULL), how compute reports its own DELETE, and what an
 * eviction hook owns. Single-threaded; the ASan build checks the ownership test for
 * leaks and double frees.
 */
#include "tsmap_test.h"

#include <stdint.h>

/* ---- hooks and visitors may call the map ------------------------------------------------- */

typedef struct reentrant_hooks {
  tsmap *m;
  long created, evicted, own_key_found, other_puts, closed_calls;
  tsmap_status during_close; /* what a call from the closing hook returned */
} reentrant_hooks;

static void rh_created(const void *key, size_t key_len, const void *value, void *ctx) {
  (void)value;
  reentrant_hooks *h = (reentrant_hooks *)ctx;
  h->created++;
  if (key_len == 1 && tsmap_get(h->m, key, key_len, NULL) == TSMAP_OK) /* its own key */
    h->own_key_found++;
}

static void rh_evicted(const void *key, size_t key_len, void *value, tsmap_evict_reason why,
                       void *ctx) {
  (void)value;
  reentrant_hooks *h = (reentrant_hooks *)ctx;
  h->evicted++;
  int64_t v = 1;
  if (key_len != 1 && why != TSMAP_EVICT_CLOSED)
    return; /* "other" and "visited" replaced: no call, or puts would evict each other */
  if (why == TSMAP_EVICT_CLOSED) {
    h->during_close = tsmap_put(h->m, "z", 1, &v, NULL);
    return;
  }
  /* the hook's own key (gone or replaced already), then another key */
  if (tsmap_get(h->m, key, key_len, NULL) != TSMAP_REENTERED &&
      tsmap_put(h->m, "other", 5, &v, NULL) != TSMAP_REENTERED)
    h->other_puts++;
}

static void rh_closed(void *ctx) {
  reentrant_hooks *h = (reentrant_hooks *)ctx;
  h->closed_calls++;
  size_t n;
  if (tsmap_size(h->m, &n) != TSMAP_CLOSED)
    h->during_close = TSMAP_OK;
}

/* A visitor that removes what it visits and puts a key of its own. */
static int visit_and_rewrite(const void *key, size_t key_len, const void *value, void *ctx) {
  (void)value;
  tsmap *m = (tsmap *)ctx;
  if (key_len == 1 && tsmap_remove(m, key, key_len, NULL) != TSMAP_OK)
    return 1;
  int64_t v = 3;
  tsmap_status st = tsmap_put(m, "visited", 7, &v, NULL);
  return st != TSMAP_OK && st != TSMAP_REPLACED;
}

static void test_hooks_and_visitors_may_call_the_map(void) {
  reentrant_hooks h = {NULL, 0, 0, 0, 0, 0, TSMAP_CLOSED};
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.on_entry_created = rh_created;
  cfg.on_entry_evicted = rh_evicted;
  cfg.on_map_closed = rh_closed;
  cfg.hook_ctx = &h;
  CHECK_ST(tsmap_create(&cfg, &h.m), TSMAP_OK);
  if (!h.m)
    return;
  int64_t v = 7;
  CHECK_ST(tsmap_put(h.m, "a", 1, &v, NULL), TSMAP_OK);
  CHECK_ST(tsmap_put(h.m, "a", 1, &v, NULL), TSMAP_REPLACED); /* evicted: puts "other" */
  CHECK_ST(tsmap_remove(h.m, "a", 1, NULL), TSMAP_OK);        /* again, replacing it */
  CHECK(h.own_key_found == 2);
  CHECK(h.other_puts == 2);
  CHECK_ST(tsmap_get(h.m, "other", 5, NULL), TSMAP_OK);
  for (char c = 'b'; c <= 'e'; c++)
    CHECK_ST(tsmap_put(h.m, &c, 1, &v, NULL), TSMAP_OK);
  CHECK_ST(tsmap_foreach(h.m, visit_and_rewrite, h.m), TSMAP_OK);
  size_t n = 0;
  CHECK_ST(tsmap_size(h.m, &n), TSMAP_OK);
  CHECK(n == 2); /* "other" and "visited" */
  long evicted_before_close = h.evicted;
  CHECK_ST(tsmap_close(h.m), TSMAP_OK);
  CHECK(h.evicted == evicted_before_close + 2);
  CHECK(h.during_close == TSMAP_CLOSED); /* a hook's call during close: TSMAP_CLOSED */
  CHECK(h.closed_calls == 1);
  CHECK(h.created == h.evicted);
  CHECK_ST(tsmap_destroy(h.m), TSMAP_OK);
}

/* ---- keys and lifecycle --------------------------------------------------------------------- */

static int g_null_keys, g_hook_calls;
static void hook_created_key(const void *k, size_t kl, const void *v, void *ctx) {
  (void)kl, (void)v, (void)ctx;
  g_null_keys += k == NULL;
  g_hook_calls++;
}
static void hook_evicted_key(const void *k, size_t kl, void *v, tsmap_evict_reason why,
                             void *ctx) {
  (void)kl, (void)v, (void)why, (void)ctx;
  g_null_keys += k == NULL;
  g_hook_calls++;
}

/* (NULL, 0) and ("", 0) are one key, the empty key, in a variable-length map; a fixed-size
 * map has no empty key; a null key with a length is invalid. */
static void test_empty_key_is_null_or_empty_string(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  int64_t v = 5, out = 0;
  CHECK_ST(tsmap_put(m, NULL, 0, &v, NULL), TSMAP_OK);
  CHECK_ST(tsmap_get(m, "", 0, &out), TSMAP_OK);
  CHECK(out == 5);
  CHECK_ST(tsmap_put_if_absent(m, "", 0, &v, NULL), TSMAP_EXISTS);
  CHECK_ST(tsmap_remove(m, "", 0, &out), TSMAP_OK);
  CHECK_ST(tsmap_get(m, NULL, 0, NULL), TSMAP_NOT_FOUND);
  CHECK_ST(tsmap_get(m, NULL, 1, NULL), TSMAP_INVALID_ARGUMENT);
  tsmap_destroy(m);
  /* hooks are handed a key pointer that is not null, for (NULL, 0) too: a hook's
   * memcpy(dst, key, key_len) is then defined */
  cfg.on_entry_created = hook_created_key;
  cfg.on_entry_evicted = hook_evicted_key;
  g_null_keys = g_hook_calls = 0;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  CHECK_ST(tsmap_put(m, NULL, 0, &v, NULL), TSMAP_OK);
  CHECK_ST(tsmap_put(m, NULL, 0, &v, NULL), TSMAP_REPLACED);
  tsmap_destroy(m);
  CHECK(g_hook_calls == 4 && g_null_keys == 0);
  cfg.on_entry_created = NULL;
  cfg.on_entry_evicted = NULL;
  cfg.key_size = 8;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  CHECK_ST(tsmap_put(m, NULL, 0, &v, NULL), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_get(m, "", 0, NULL), TSMAP_INVALID_ARGUMENT);
  tsmap_destroy(m);
}

/* tsmap_destroy(NULL) is a no-op that succeeds (cleanup after a failed create). */
static void test_destroy_null_is_a_no_op(void) {
  tsmap *m = NULL;
  CHECK_ST(tsmap_destroy(m), TSMAP_OK);
}

/* ---- compute reports its own DELETE ------------------------------------------------------ */

static tsmap_verdict cb_delete(const void *key, size_t key_len, const void *old, void *ctx,
                               TSMAP_OUT void *out) {
  (void)key, (void)key_len, (void)old, (void)ctx, (void)out;
  return TSMAP_DELETE;
}

/* TSMAP_REMOVED when this call's DELETE removed the entry; TSMAP_NOT_FOUND when the key was
 * absent and nothing was applied. */
static void test_compute_reports_its_own_delete(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.key_size = 8;
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  uint64_t k = 1;
  int64_t v = 4;
  CHECK_ST(tsmap_put(m, &k, 8, &v, NULL), TSMAP_OK);
  CHECK_ST(tsmap_compute_if_present(m, &k, 8, cb_delete, NULL, NULL), TSMAP_REMOVED);
  CHECK_ST(tsmap_compute_if_present(m, &k, 8, cb_delete, NULL, NULL), TSMAP_NOT_FOUND);
  CHECK_ST(tsmap_put(m, &k, 8, &v, NULL), TSMAP_OK);
  CHECK_ST(tsmap_compute(m, &k, 8, cb_delete, NULL, NULL), TSMAP_REMOVED);
  CHECK_ST(tsmap_compute(m, &k, 8, cb_delete, NULL, NULL), TSMAP_NOT_FOUND);
  CHECK_ST(tsmap_get(m, &k, 8, NULL), TSMAP_NOT_FOUND);
  tsmap_destroy(m);
}

/* ---- what an eviction hook owns ----------------------------------------------------------- */

typedef struct owned {
  long freed;
} owned;

/* The hook owns the object a pointer value points to: it frees *(void **)value (never
 * value itself, which is the map's copy, valid only during the call). */
static void free_pointee(const void *key, size_t key_len, void *value, tsmap_evict_reason why,
                         void *ctx) {
  (void)key, (void)key_len, (void)why;
  void *obj;
  memcpy(&obj, value, sizeof obj);
  free(obj);
  ((owned *)ctx)->freed++;
}

static void test_eviction_hook_owns_the_pointee(void) {
  owned o = {0};
  tsmap_config cfg;
  tsmap_config_init(&cfg, sizeof(void *));
  cfg.on_entry_evicted = free_pointee;
  cfg.hook_ctx = &o;
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  long made = 0;
  for (int i = 0; i < 40; i++, made++) /* ten keys, each replaced three times */
    CHECK(tsmap_put_ptr(m, &(char){(char)('a' + i % 10)}, 1, malloc(32), NULL) ==
          (i < 10 ? TSMAP_OK : TSMAP_REPLACED));
  CHECK_ST(tsmap_remove(m, "a", 1, NULL), TSMAP_OK); /* to the hook */
  void *mine = NULL;
  CHECK_ST(tsmap_remove(m, "b", 1, &mine), TSMAP_OK); /* to the caller */
  free(mine);
  CHECK_ST(tsmap_destroy(m), TSMAP_OK); /* the other eight, reason closed */
  CHECK(o.freed == made - 1);           /* ASan: no leak, no double free */
}

TEST_MAIN(T(test_hooks_and_visitors_may_call_the_map), T(test_empty_key_is_null_or_empty_string),
          T(test_destroy_null_is_a_no_op), T(test_compute_reports_its_own_delete),
          T(test_eviction_hook_owns_the_pointee))
