// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-non-idempotent-callback.StrictUnknownCalls: true}}"
//
// Under StrictUnknownCalls, a reader with no body (it returns a value and
// takes scalars and pointers to const) that is also given the callback's own
// output fills that output, the callback's product: `return fetch(k, out)`,
// also through a helper or a typed local alias of it (`struct rule *r = out;`).
// A block the callback has just allocated is its own, as a local is
// (`r = calloc(...); rule_parse(k, r)`). Given the context or another
// parameter (also in a local that held the block before), or returning nothing,
// it stays an unknown call.

#include <tsmap/tsmap.h>
#include <stdlib.h>
#include <string.h>

int lookup_remote(const char *k, void *out);     // another file; fills *out
void fetch_into(const char *k, void *out);       // returns nothing

static int load(const void *k, size_t n, void *ctx, void *out) {
  return lookup_remote(k, out);
}
static int fill(const char *k, void *dst) { return lookup_remote(k, dst); }
static int load_helper(const void *k, size_t n, void *ctx, void *out) {
  return fill(k, out);
}
static int load_ctx(const void *k, size_t n, void *ctx, void *out) {
  return lookup_remote(k, ctx);
}
static int load_both(const void *k, size_t n, void *ctx, void *out) {
  return lookup_remote(k, out) || lookup_remote(k, ctx);
}
struct rule { int id; };
int rule_parse(const char *k, struct rule *r); // another file; fills *r
static int load_alias(const void *k, size_t n, void *ctx, void *out) {
  struct rule *r = out; // a typed alias of the output (round 3)
  return rule_parse(k, r);
}
static int load_alias_ctx(const void *k, size_t n, void *ctx, void *out) {
  struct rule *r = ctx; // an alias of the context: not the product
  return rule_parse(k, r);
}
static int load_heap(const void *k, size_t n, void *ctx, void *out) {
  struct rule *r = calloc(1, sizeof *r); // the callback's own block
  if (!r)
    return -1;
  if (rule_parse(k, r) != 0) {
    free(r);
    return -1;
  }
  *(struct rule **)out = r;
  return 0;
}
static int load_heap_ctx(const void *k, size_t n, void *ctx, void *out) {
  struct rule *r = calloc(1, sizeof *r);
  if (!r)
    return -1;
  r = ctx; // no longer the block it allocated
  return rule_parse(k, r);
}
static int load_void(const void *k, size_t n, void *ctx, void *out) {
  fetch_into(k, out);
  return 0;
}

int get(tsmap *m, const char *k, void *c) {
  int r = tsmap_compute_if_absent(m, k, strlen(k), load, c, NULL);
  r |= tsmap_compute_if_absent(m, k, strlen(k), load_helper, c, NULL);
  r |= tsmap_compute_if_absent(m, k, strlen(k), load_ctx, c, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:49: warning: callback 'load_ctx' passed to 'tsmap_compute_if_absent' is not idempotent: it may run more than once, and each run calls 'lookup_remote', whose body is not visible
  r |= tsmap_compute_if_absent(m, k, strlen(k), load_both, c, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:49: warning: callback 'load_both' passed to 'tsmap_compute_if_absent' is not idempotent: it may run more than once, and each run calls 'lookup_remote', whose body is not visible
  r |= tsmap_compute_if_absent(m, k, strlen(k), load_alias, c, NULL);
  r |= tsmap_compute_if_absent(m, k, strlen(k), load_alias_ctx, c, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:49: warning: callback 'load_alias_ctx' passed to 'tsmap_compute_if_absent' is not idempotent: it may run more than once, and each run calls 'rule_parse', whose body is not visible
  r |= tsmap_compute_if_absent(m, k, strlen(k), load_heap, c, NULL);
  r |= tsmap_compute_if_absent(m, k, strlen(k), load_heap_ctx, c, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:49: warning: callback 'load_heap_ctx' passed to 'tsmap_compute_if_absent' is not idempotent: it may run more than once, and each run calls 'rule_parse', whose body is not visible
  r |= tsmap_compute_if_absent(m, k, strlen(k), load_void, c, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:49: warning: callback 'load_void' passed to 'tsmap_compute_if_absent' is not idempotent: it may run more than once, and each run calls 'fetch_into', whose body is not visible
  return r;
}
