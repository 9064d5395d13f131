// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback %t -- -- -I%S/Inputs
//
// Callbacks passed to an API annotated in a header (Inputs/rule_store_api.h),
// resolved through every form docs/spec.md lists, with the effects that are wrong
// to repeat and the look-alikes that are not.

#include "rule_store_api.h"
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int g_hits;
static int g_last;
static int g_base;
static atomic_int g_atomic_hits;
static atomic_int g_flags;
static char g_log[256];
struct counter { int n; int flags; char *buf; };
struct list { int len; void *items[16]; };
static struct list g_pending;

static void list_append(struct list *l, void *x) { l->items[l->len++] = x; }

// ---- Loud: each of these callbacks does something wrong to repeat ----------

static int load_posts(const char *key, void *ctx, struct rule *out) {
  audit_post("load", key);
  out->id = 1;
  return 0;
}
static int load_counts(const char *key, void *ctx, struct rule *out) {
  g_hits++;
  return 0;
}
static int load_ctx_add(const char *key, void *ctx, struct rule *out) {
  ((struct counter *)ctx)->n += 1;
  return 0;
}
static int load_x_plus_1(const char *key, void *ctx, struct rule *out) {
  g_hits = g_hits + 1;
  return 0;
}
static int load_atomic(const char *key, void *ctx, struct rule *out) {
  atomic_fetch_add(&g_atomic_hits, 1);
  return 0;
}
static int load_sync(const char *key, void *ctx, struct rule *out) {
  __sync_fetch_and_add(&g_hits, 1);
  return 0;
}
static int load_frees(const char *key, void *ctx, struct rule *out) {
  struct counter *c = ctx;
  free(c->buf);
  return 0;
}
static int load_appends(const char *key, void *ctx, struct rule *out) {
  list_append(&g_pending, (void *)key);
  return 0;
}
static int load_sends(const char *key, void *ctx, struct rule *out) {
  send(3, key, strlen(key), 0);
  return 0;
}
static int load_strcat(const char *key, void *ctx, struct rule *out) {
  strcat(g_log, key);
  return 0;
}
static int load_decrements(const char *key, void *ctx, struct rule *out) {
  struct counter *c = ctx;
  c->n--;
  return 0;
}
static int load_scales(const char *key, void *ctx, struct rule *out) {
  g_base *= 2;
  return 0;
}
static int load_toggles(const char *key, void *ctx, struct rule *out) {
  g_last = !g_last;
  return 0;
}
static int load_wraps(const char *key, void *ctx, struct rule *out) {
  g_base = (g_base + 1) % 16;
  return 0;
}
static void grow(struct counter *c) { c->n = c->n * 2 + 4; }
static int load_grows(const char *key, void *ctx, struct rule *out) {
  grow(ctx); // computed from the old value, not a step of it
  return 0;
}
static int load_adds_to(const char *key, void *ctx, struct rule *out) {
  g_base = 4 + g_base;
  return 0;
}
TSMAP_NON_IDEMPOTENT static int load_marked(const char *key, void *ctx,
                                            struct rule *out) {
  return 0;
}
static int upd_cur(struct rule *cur, void *ctx, struct rule *next) {
  cur->hits++; // `cur` is the value the store holds: shared memory.
  return 0;
}
static int depth3(const char *k) { return audit_post("deep", k); }
static int depth2(const char *k) { return depth3(k); }
static int depth1(const char *k) { return depth2(k); }
static int load_deep(const char *key, void *ctx, struct rule *out) {
  return depth1(key);
}
static int walk(const char *k, int n) {
  if (n == 0)
    return audit_post("walk", k);
  return walk(k, n - 1);
}
static int load_recursive(const char *key, void *ctx, struct rule *out) {
  return walk(key, 3);
}
static void ping(int n);
static void pong(int n) { if (n) ping(n - 1); else g_hits++; }
static void ping(int n) { if (n) pong(n - 1); }
static int load_mutual(const char *key, void *ctx, struct rule *out) {
  ping(4);
  return 0;
}

static const rule_loader k_loader = load_counts;

void loud(rule_store *s, struct counter *c, int flag) {
  rules_compute_if_absent(s, "a", load_posts, c);
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: callback 'load_posts' passed to 'rules_compute_if_absent' is not idempotent: it may run more than once, and each run calls 'audit_post', which is declared TSMAP_NON_IDEMPOTENT [tsmap-non-idempotent-callback]
  rules_compute_if_absent(s, "a", &load_counts, c);
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: callback 'load_counts' passed to 'rules_compute_if_absent' is not idempotent: it may run more than once, and each run increments 'g_hits'
  rules_compute_if_absent(s, "a", (rule_loader)&load_ctx_add, c);
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: callback 'load_ctx_add' {{.*}} and each run increments 'ctx->n'
  rules_compute_if_absent(s, "a", load_x_plus_1, c);
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: callback 'load_x_plus_1' {{.*}} and each run increments 'g_hits'
  rules_compute_if_absent(s, "a", load_atomic, c);
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: callback 'load_atomic' {{.*}} and each run increments 'g_atomic_hits'
  rules_compute_if_absent(s, "a", load_sync, c);
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: callback 'load_sync' {{.*}} and each run increments 'g_hits'
  rules_compute_if_absent(s, "a", load_frees, c);
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: callback 'load_frees' {{.*}} and each run frees 'c->buf', which it did not allocate
  rules_compute_if_absent(s, "a", load_appends, c);
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: callback 'load_appends' {{.*}} and each run increments 'g_pending.len'
  rules_compute_if_absent(s, "a", load_sends, c);
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: callback 'load_sends' {{.*}} and each run calls 'send', which sends data
  rules_compute_if_absent(s, "a", load_strcat, c);
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: callback 'load_strcat' {{.*}} and each run updates 'g_log' from its old value
  rules_compute_if_absent(s, "a", load_decrements, c);
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: callback 'load_decrements' {{.*}} and each run decrements 'c->n'
  rules_compute_if_absent(s, "a", load_scales, c);
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: callback 'load_scales' {{.*}} and each run updates 'g_base' from its old value
  rules_compute_if_absent(s, "a", load_toggles, c);
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: callback 'load_toggles' {{.*}} and each run updates 'g_last' from its old value
  rules_compute_if_absent(s, "a", load_wraps, c);
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: callback 'load_wraps' {{.*}} and each run updates 'g_base' from its old value
  rules_compute_if_absent(s, "a", load_grows, c);
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: callback 'load_grows' {{.*}} and each run updates 'ctx->n' from its old value
  rules_compute_if_absent(s, "a", load_adds_to, c);
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: callback 'load_adds_to' {{.*}} and each run increments 'g_base'
  rules_compute_if_absent(s, "a", load_marked, c);
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: callback 'load_marked' passed to 'rules_compute_if_absent' is not idempotent: it may run more than once, and it is declared TSMAP_NON_IDEMPOTENT
  rules_update(s, "a", upd_cur, c);
  // CHECK-MESSAGES: :[[@LINE-1]]:24: warning: callback 'upd_cur' passed to 'rules_update' {{.*}} and each run increments 'cur->hits'
  rules_compute_if_absent(s, "a", load_deep, c);
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: callback 'load_deep' {{.*}} and each run calls 'audit_post'
  rules_compute_if_absent(s, "a", load_recursive, c);
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: callback 'load_recursive' {{.*}} and each run calls 'audit_post'
  rules_compute_if_absent(s, "a", load_mutual, c);
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: callback 'load_mutual' {{.*}} and each run increments 'g_hits'
  rules_replace_locked(s, "a", load_counts, c);
  // CHECK-MESSAGES: :[[@LINE-1]]:32: warning: callback 'load_counts' passed to 'rules_replace_locked'

  // Resolution: variables and conditionals.
  rule_loader once = load_counts;
  rules_compute_if_absent(s, "b", once, c);
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: callback 'load_counts' {{.*}} increments 'g_hits'
  rule_loader later;
  later = &load_posts;
  rules_compute_if_absent(s, "b", later, c);
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: callback 'load_posts' {{.*}} calls 'audit_post'
  rules_compute_if_absent(s, "b", k_loader, c);
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: callback 'load_counts' {{.*}} increments 'g_hits'
  static const rule_loader local_static = load_sends;
  rules_compute_if_absent(s, "b", local_static, c);
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: callback 'load_sends' {{.*}} calls 'send'
  rules_compute_if_absent(s, "b", flag ? load_posts : load_counts, c);
  // Two warnings at one place come sorted by message.
  // CHECK-MESSAGES: :[[@LINE-2]]:35: warning: callback 'load_counts' {{.*}} increments 'g_hits'
  // CHECK-MESSAGES: :[[@LINE-3]]:35: warning: callback 'load_posts' {{.*}} calls 'audit_post'
  const rule_loader chained = flag ? (rule_loader)load_sends : once;
  rules_compute_if_absent(s, "b", chained, c);
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: callback 'load_counts' {{.*}} increments 'g_hits'
  // CHECK-MESSAGES: :[[@LINE-2]]:35: warning: callback 'load_sends' {{.*}} calls 'send'
}

// ---- Quiet: look-alikes that are safe to repeat -----------------------------

static int q_store(const char *key, void *ctx, struct rule *out) {
  g_last = 5; // a plain store: the second run stores the same
  g_last = g_base + 1; // computed from another place, not the old value
  return 0;
}
static int q_flags(const char *key, void *ctx, struct rule *out) {
  struct counter *c = ctx;
  c->flags |= 4;
  c->flags &= ~1;
  c->flags = c->flags | 8; // the same as |=
  c->flags = (c->flags & 3) | 16;
  return 0;
}
static int q_atomics(const char *key, void *ctx, struct rule *out) {
  atomic_store(&g_atomic_hits, 7);
  atomic_fetch_or(&g_flags, 2);
  atomic_fetch_and(&g_flags, 3);
  return 0;
}
static int q_locals(const char *key, void *ctx, struct rule *out) {
  int n = 0, a[4] = {0};
  int *p = &n;
  n++;
  a[1] += 2;
  (*p)--;
  key++; // the by-value parameter itself
  struct rule copy = {0};
  copy.hits++;
  return n + a[1];
}
static int q_own_output(const char *key, void *ctx, struct rule *out) {
  out->hits++; // TSMAP_OUT in the callback type: the callback's product
  out->id += 2;
  memset(out->name, 0, sizeof out->name);
  return 0;
}
static int q_named_out(struct rule *cur, void *ctx, struct rule *out) {
  *out = *cur;
  out->hits++; // named `out`: taken as the output
  return 0;
}
static int q_result_name(struct rule *cur, void *ctx, struct rule *result) {
  result->hits += cur->hits; // named `result`
  return 0;
}
TSMAP_IDEMPOTENT static void trusted_bump(void) { g_hits++; }
static int q_trusted_callee(const char *key, void *ctx, struct rule *out) {
  trusted_bump();
  return schema_fill(key, out);
}
TSMAP_IDEMPOTENT static int q_trusted_itself(const char *key, void *ctx,
                                             struct rule *out) {
  g_hits++;
  return 0;
}
static int q_unknown(const char *key, void *ctx, struct rule *out) {
  return opaque_lookup(key, out); // no body: assumed idempotent
}
static int q_copies(const char *key, void *ctx, struct rule *out) {
  struct counter *c = ctx;
  memcpy(c->buf, key, 4);
  strcpy(g_log, key);
  return 0;
}
static int q_own_alloc(const char *key, void *ctx, struct rule *out) {
  char *tmp = malloc(16);
  if (!tmp)
    return 1;
  free(tmp); // allocated by this run
  return 0;
}
static int q_static_local(const char *key, void *ctx, struct rule *out) {
  static int ready;
  ready = 1;
  return 0;
}
static unsigned depth_pure(unsigned n) { return n ? depth_pure(n - 1) + 1 : 0; }
static int q_pure_recursion(const char *key, void *ctx, struct rule *out) {
  out->id = (int)depth_pure(5);
  return 0;
}
static int q_calls_pointer(const char *key, void *ctx, struct rule *out) {
  int (*fn)(const char *) = (int (*)(const char *))ctx;
  return fn(key); // unknown target: quiet unless StrictUnknownCalls
}
static void only_elsewhere(void) { audit_post("cron", "all"); g_hits++; }
static void visit_counts(const struct rule *r, void *ctx) {
  ((struct counter *)ctx)->n++;
}
extern int load_elsewhere(const char *key, void *ctx, struct rule *out);

struct loader_ops { rule_loader load; };

void quiet(rule_store *s, struct counter *c, int flag, rule_loader from_param,
           struct loader_ops *ops) {
  rules_compute_if_absent(s, "q", q_store, c);
  rules_compute_if_absent(s, "q", q_flags, c);
  rules_compute_if_absent(s, "q", q_atomics, c);
  rules_compute_if_absent(s, "q", q_locals, c);
  rules_compute_if_absent(s, "q", q_own_output, c);
  rules_update(s, "q", q_named_out, c);
  rules_update(s, "q", q_result_name, c);
  rules_compute_if_absent(s, "q", q_trusted_callee, c);
  rules_compute_if_absent(s, "q", q_trusted_itself, c);
  rules_compute_if_absent(s, "q", q_unknown, c);
  rules_compute_if_absent(s, "q", q_copies, c);
  rules_compute_if_absent(s, "q", q_own_alloc, c);
  rules_compute_if_absent(s, "q", q_static_local, c);
  rules_compute_if_absent(s, "q", q_pure_recursion, c);
  rules_compute_if_absent(s, "q", q_calls_pointer, (void *)only_elsewhere);
  rules_compute_if_absent(s, "q", load_elsewhere, c); // no body in this TU
  only_elsewhere();

  // Only TSMAP_CALLBACK_LOCKED: runs once, under the lock.
  rules_foreach(s, visit_counts, c);
  // Not annotated at all.
  rules_register_hook(s, load_counts, c);
  // Resolution fails: stay quiet rather than guess.
  rules_compute_if_absent(s, "q", from_param, c);
  rules_compute_if_absent(s, "q", ops->load, c);
  rule_loader twice = q_store;
  if (flag)
    twice = load_counts;
  rules_compute_if_absent(s, "q", twice, c);
  rule_loader escaped = q_store;
  rule_loader *alias = &escaped;
  *alias = load_posts;
  rules_compute_if_absent(s, "q", escaped, c);
  rules_compute_if_absent(s, "q", flag ? q_store : q_flags, c);
  // Silenced where it is known and accepted.
  rules_compute_if_absent(s, "q", load_counts, c); // NOLINT(tsmap-non-idempotent-callback)
}
