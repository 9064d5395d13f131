// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback %t -- -- -I%S/Inputs
//
// A wrapper that passes its own function-pointer parameter, unchanged, to a
// TSMAP_CALLBACK parameter gives its parameter that contract: the callback
// its callers pass may run more than once too. Wrappers of wrappers are
// followed; a TSMAP_CALLBACK_LOCKED-only parameter (runs once) is not.

#include "rule_store_api.h"

static int g_hits;

int cache_load(rule_store *s, const char *key, rule_loader load, void *ctx) {
  return rules_compute_if_absent(s, key, load, ctx);
}
int cache_get(rule_store *s, const char *key, rule_loader fn, void *ctx) {
  return cache_load(s, key, fn, ctx);
}

static int load_counts(const char *key, void *ctx, struct rule *out) {
  g_hits++;
  return 0;
}

int use(rule_store *s) {
  cache_load(s, "a", load_counts, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:22: warning: callback 'load_counts' passed to 'cache_load' is not idempotent: it may run more than once, and each run increments 'g_hits' [tsmap-non-idempotent-callback]
  // CHECK-MESSAGES: :13:10: note: 'cache_load' passes 'load' to 'rules_compute_if_absent' here
  return cache_get(s, "b", load_counts, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:28: warning: callback 'load_counts' passed to 'cache_get' is not idempotent
  // CHECK-MESSAGES: :16:10: note: 'cache_get' passes 'fn' to 'cache_load' here
  // CHECK-MESSAGES: :13:10: note: 'cache_load' passes 'load' to 'rules_compute_if_absent' here
}

// ---- Quiet.

// Idempotent callback.
static int load_plain(const char *key, void *ctx, struct rule *out) {
  out->id = 1;
  return 0;
}
int use_plain(rule_store *s) { return cache_load(s, "a", load_plain, 0); }

// A wrapper of a locked-only parameter: runs once.
static void visit_counts(const struct rule *r, void *ctx) { g_hits++; }
void each(rule_store *s, rule_visitor v, void *ctx) { rules_foreach(s, v, ctx); }
void use_each(rule_store *s) { each(s, visit_counts, 0); }

// A wrapper that calls the loader itself, once.
int load_once(rule_store *s, const char *key, rule_loader load, void *ctx) {
  struct rule r;
  return load(key, ctx, &r);
}
int use_once(rule_store *s) { return load_once(s, "a", load_counts, 0); }

// A wrapper that passes a loader of its own.
int load_fixed(rule_store *s, const char *key, rule_loader load, void *ctx) {
  return rules_compute_if_absent(s, key, load_plain, ctx);
}
int use_fixed(rule_store *s) { return load_fixed(s, "a", load_counts, 0); }

// A wrapper that replaces its parameter before passing it.
int load_swapped(rule_store *s, const char *key, rule_loader load, void *ctx) {
  load = load_plain;
  return rules_compute_if_absent(s, key, load, ctx);
}
int use_swapped(rule_store *s) { return load_swapped(s, "a", load_counts, 0); }

// ---- liburcu: a lookup wrapper hands its match function to cds_lfht_lookup.
#include "fake_urcu.h"
static int g_matches;
static int match_counting(struct cds_lfht_node *node, const void *key) {
  g_matches++;
  return node != 0;
}
void find_node(struct cds_lfht *ht, unsigned long hash, cds_lfht_match_fct match,
               const void *key, struct cds_lfht_iter *iter) {
  cds_lfht_lookup(ht, hash, match, key, iter);
}
void use_find(struct cds_lfht *ht, struct cds_lfht_iter *iter) {
  find_node(ht, 1, match_counting, 0, iter);
  // CHECK-MESSAGES: :[[@LINE-1]]:20: warning: callback 'match_counting' passed to 'find_node' is not idempotent: it may run more than once, and each run increments 'g_matches'
  // CHECK-MESSAGES: :[[@LINE-5]]:3: note: 'find_node' passes 'match' to 'cds_lfht_lookup' here
}

// A local copy of the parameter, its one value.
int cache_load_copy(rule_store *s, const char *key, rule_loader load, void *ctx) {
  rule_loader f = load;
  return rules_compute_if_absent(s, key, f, ctx);
}
int use_copy(rule_store *s) {
  return cache_load_copy(s, "c", load_counts, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:34: warning: callback 'load_counts' passed to 'cache_load_copy' is not idempotent
}
