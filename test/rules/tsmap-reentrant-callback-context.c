// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t
//
// Context structs that carry the map: the callback reaches the map through a
// field of the context object, filled by stores (`rc.aliases = table;`), by a
// designated initializer, or through a pointer to the struct. Two maps in two
// fields are two maps.

#include <tsmap/annotations.h>

typedef struct TSMAP_THREAD_SAFE_MAP alias_map alias_map;
typedef int (*resolver)(const char *name, void *ctx);
int compute_locked(alias_map *m, const char *name,
                   TSMAP_CALLBACK_LOCKED resolver fn, void *ctx);
int alias_put(alias_map *m, const char *name, const char *target);
void *malloc(unsigned long n);

struct resolve_ctx { alias_map *aliases; alias_map *cache; int depth; };

static int resolve_alias(const char *name, void *ctx) {
  struct resolve_ctx *rc = ctx;
  return alias_put(rc->aliases, name, "x");
}
static int fill_cache(const char *name, void *ctx) {
  return alias_put(((struct resolve_ctx *)ctx)->cache, name, "x");
}

int by_stores(alias_map *table, alias_map *cache, const char *name) {
  struct resolve_ctx rc;
  rc.aliases = table;
  rc.cache = cache;
  rc.depth = 0;
  compute_locked(table, name, fill_cache, &rc); // fills the other map: quiet
  return compute_locked(table, name, resolve_alias, &rc);
  // CHECK-MESSAGES: :[[@LINE-1]]:38: warning: callback 'resolve_alias' passed to 'compute_locked' re-enters the same map: it calls 'alias_put' on 'table'
}

int by_designated(alias_map *table, alias_map *cache, const char *name) {
  struct resolve_ctx rc = {.cache = cache, .aliases = table};
  compute_locked(cache, name, resolve_alias, &rc); // resolves into 'table': quiet
  return compute_locked(cache, name, fill_cache, &rc);
  // CHECK-MESSAGES: :[[@LINE-1]]:38: warning: callback 'fill_cache' passed to 'compute_locked' re-enters the same map: it calls 'alias_put' on 'cache'
}

int by_pointer(alias_map *table, alias_map *cache, const char *name) {
  struct resolve_ctx *pc = malloc(sizeof *pc);
  pc->aliases = table;
  pc->cache = cache;
  compute_locked(table, name, fill_cache, pc); // quiet
  return compute_locked(table, name, resolve_alias, pc);
  // CHECK-MESSAGES: :[[@LINE-1]]:38: warning: callback 'resolve_alias' passed to 'compute_locked' re-enters the same map: it calls 'alias_put' on 'table'
}

int by_pointer_to_local(alias_map *table, alias_map *cache, const char *name) {
  struct resolve_ctx rc = {table, cache, 0};
  struct resolve_ctx *pc = &rc;
  compute_locked(cache, name, resolve_alias, pc); // quiet
  return compute_locked(table, name, resolve_alias, pc);
  // CHECK-MESSAGES: :[[@LINE-1]]:38: warning: callback 'resolve_alias' passed to 'compute_locked' re-enters the same map: it calls 'alias_put' on 'table'
}

// Stored twice: which map the field holds at the call is not read (quiet).
int stored_twice(alias_map *table, alias_map *cache, const char *name) {
  struct resolve_ctx rc;
  rc.aliases = cache;
  rc.aliases = table;
  return compute_locked(cache, name, resolve_alias, &rc);
}
