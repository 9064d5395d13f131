// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback %t
//
// Function pointers held in struct fields resolve to what the translation
// unit stores into the field (`ops->load = load_rule;`, designated
// initializers): as a callback argument and as a call inside a callback.
// A field also given something unresolved (a parameter) stays unknown.

#include <tsmap/annotations.h>

struct TSMAP_THREAD_SAFE_MAP store;
typedef int (*loader)(const char *key, void *ctx, TSMAP_OUT int *out);
int store_compute(struct store *s, const char *key, TSMAP_CALLBACK loader fn, void *ctx);
TSMAP_NON_IDEMPOTENT int http_post(const char *url);

struct rule_ops { loader load; int (*notify)(const char *key); int (*fetch)(const char *key); };
static long g_loads;

static int load_rule(const char *key, void *ctx, int *out) {
  g_loads++;
  *out = 1;
  return 0;
}
static int load_pure(const char *key, void *ctx, int *out) { *out = 2; return 0; }
static int notify_peer(const char *key) { return http_post(key); }
static int fetch_local(const char *key) { return key[0]; }

static struct rule_ops g_ops;
static const struct rule_ops pure_ops = {.load = load_pure, .notify = 0, .fetch = fetch_local};

void setup(struct rule_ops *ops, int (*given)(const char *)) {
  ops->load = load_rule;
  ops->notify = notify_peer;
  g_ops.fetch = given; // unresolved: 'fetch' has no known target
}

static int load_and_notify(const char *key, void *ctx, int *out) {
  struct rule_ops *ops = ctx;
  *out = 0;
  return ops->notify(key);
}
static int load_and_fetch(const char *key, void *ctx, int *out) {
  struct rule_ops *ops = ctx;
  *out = ops->fetch(key);
  return 0;
}

void run(struct store *s, struct rule_ops *ops) {
  store_compute(s, "k", ops->load, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:25: warning: callback 'load_rule' passed to 'store_compute' is not idempotent: it may run more than once, and each run increments 'g_loads'
  store_compute(s, "k", load_and_notify, ops);
  // CHECK-MESSAGES: :[[@LINE-1]]:25: warning: callback 'load_and_notify' passed to 'store_compute' is not idempotent: it may run more than once, and each run calls 'http_post'
  store_compute(s, "k", load_and_fetch, ops); // fetch: unknown target, quiet by default
}

// A field of a struct embedded in another (`&c->base`, also through a helper's
// parameter) goes only to the functions stored into that embedding field's
// own: a cache's base never runs the peer's notify (bench/realworld R32).
struct base { int (*start)(struct base *b); };
struct cache { struct base base; int hits; };
struct peer { struct base base; const char *url; };
static int cache_start(struct base *b) { return 0; }
static int peer_start(struct base *b) { return http_post(((struct peer *)b)->url); }
static int base_start(struct base *b) { return b->start(b); }
void cache_init(struct cache *c) { c->base.start = cache_start; }
void peer_init(struct peer *p) { p->base.start = peer_start; }

static int load_cache(const char *key, void *ctx, int *out) {
  struct cache *c = ctx;
  *out = base_start(&c->base);
  return 0;
}
static int load_peer(const char *key, void *ctx, int *out) {
  struct peer *p = ctx;
  *out = base_start(&p->base);
  return 0;
}

void run_bases(struct store *s, struct cache *c, struct peer *p) {
  store_compute(s, "k", load_cache, c);
  store_compute(s, "k", load_peer, p);
  // CHECK-MESSAGES: :[[@LINE-1]]:25: warning: callback 'load_peer' passed to 'store_compute' is not idempotent: it may run more than once, and each run calls 'http_post'
}
