// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t
//
// A visitor stored into a field by an initializer list (designated or
// positional, static or local) resolves like one stored by an assignment,
// with no assignment anywhere in the translation unit. The quiet twins store
// a visitor that leaves the map alone.

#include <tsmap/annotations.h>
#include <stddef.h>

typedef struct TSMAP_THREAD_SAFE_MAP cache cache;
typedef void (*cache_visit)(const char *k, void *v, void *ctx);
int cache_del(cache *c, const char *k);
void cache_each(cache *c, TSMAP_CALLBACK_LOCKED cache_visit visit, void *ctx);

struct server { cache *conns; int seen; };
struct designated_ops { const char *name; cache_visit visit; };
struct positional_ops { cache_visit visit; const char *name; };
struct local_ops { cache_visit visit; };
struct pure_ops { const char *name; cache_visit visit; };

static void evict_designated(const char *k, void *v, void *ctx) {
  struct server *s = ctx;
  if (!v) cache_del(s->conns, k);
}
static void evict_positional(const char *k, void *v, void *ctx) {
  struct server *s = ctx;
  if (!v) cache_del(s->conns, k);
}
static void evict_local(const char *k, void *v, void *ctx) {
  struct server *s = ctx;
  cache_del(s->conns, k);
}
static void count_seen(const char *k, void *v, void *ctx) {
  struct server *s = ctx;
  s->seen = 1;
}

static const struct designated_ops OPS_EVICT = {.name = "evict", .visit = evict_designated};
static const struct positional_ops OPS_POS = {evict_positional, "evict"};

void sweep(struct server *s, const struct positional_ops *p) {
  cache_each(s->conns, OPS_EVICT.visit, s);
  // CHECK-MESSAGES: :[[@LINE-1]]:24: warning: callback 'evict_designated' passed to 'cache_each' re-enters the same map
  cache_each(s->conns, p->visit, s);
  // CHECK-MESSAGES: :[[@LINE-1]]:24: warning: callback 'evict_positional' passed to 'cache_each' re-enters the same map
}

void sweep_local(struct server *s) {
  struct local_ops ops = {evict_local};
  cache_each(s->conns, ops.visit, s);
  // CHECK-MESSAGES: :[[@LINE-1]]:24: warning: callback 'evict_local' passed to 'cache_each' re-enters the same map
}

// ---- Quiet: a visitor that only stores into the context ------------------

static const struct pure_ops OPS_COUNT = {"count", count_seen};

void count(struct server *s) {
  struct pure_ops local = {.visit = count_seen};
  cache_each(s->conns, OPS_COUNT.visit, s);
  cache_each(s->conns, local.visit, s);
}
