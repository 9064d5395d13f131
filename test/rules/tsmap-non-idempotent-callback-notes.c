// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback %t -- -- -I%S/Inputs
//
// The notes walk from the callback argument to the effect, hop by hop, in
// chain order (so the expectations below name absolute lines).

#include "rule_store_api.h"
#include <stdatomic.h>

struct audit { int pending; atomic_int sent; };
static struct audit g_audit;

static int record(const char *key) {
  return audit_post("rule-loaded", key);
}
static int note_load(const char *key) {
  return record(key);
}
static int load_rule(const char *key, void *ctx, struct rule *out) {
  out->id = 7;
  return note_load(key);
}

static void enqueue(struct audit *a) {
  a->pending += 1;
}
static int load_and_queue(const char *key, void *ctx, struct rule *out) {
  enqueue(&g_audit);
  return 0;
}

static int load_counts_sent(const char *key, void *ctx, struct rule *out) {
  struct audit *a = ctx;
  atomic_fetch_add(&a->sent, 1);
  return 0;
}

static int g_checks;
#define CHECK_OK(c) do { g_checks++; (void)(c); } while (0)
static int load_checked(const char *key, void *ctx, struct rule *out) {
  CHECK_OK(key);
  return 0;
}

void run(rule_store *s, int fast) {
  rules_compute_if_absent(s, "r1", load_rule, 0);
  // CHECK-NOTES: :[[@LINE-1]]:36: warning: callback 'load_rule' passed to 'rules_compute_if_absent' is not idempotent: it may run more than once, and each run calls 'audit_post', which is declared TSMAP_NON_IDEMPOTENT [tsmap-non-idempotent-callback]
  // CHECK-NOTES: :20:10: note: 'load_rule' calls 'note_load' here
  // CHECK-NOTES: :16:10: note: 'note_load' calls 'record' here
  // CHECK-NOTES: :13:10: note: 'record' calls 'audit_post' here
  // CHECK-NOTES: rule_store_api.h:33:1: note: 'audit_post' is declared TSMAP_NON_IDEMPOTENT here
  // CHECK-NOTES: :18:12: note: if running 'load_rule' twice is harmless, declare it TSMAP_IDEMPOTENT

  rule_loader handler;
  handler = fast ? load_and_queue : load_and_queue;
  rules_compute_if_absent(s, "r2", handler, 0);
  // CHECK-NOTES: :[[@LINE-1]]:36: warning: callback 'load_and_queue' passed to 'rules_compute_if_absent' is not idempotent: it may run more than once, and each run increments 'g_audit.pending' [tsmap-non-idempotent-callback]
  // CHECK-NOTES: :54:3: note: 'handler' is set to 'load_and_queue' here
  // CHECK-NOTES: :27:3: note: 'load_and_queue' calls 'enqueue' here
  // CHECK-NOTES: :24:3: note: 'enqueue' increments 'a->pending' here
  // CHECK-NOTES: :26:12: note: if running 'load_and_queue' twice is harmless, declare it TSMAP_IDEMPOTENT

  rules_compute_if_absent(s, "r3", load_counts_sent, &g_audit);
  // CHECK-NOTES: :[[@LINE-1]]:36: warning: callback 'load_counts_sent' {{.*}} and each run increments 'a->sent' [tsmap-non-idempotent-callback]
  // CHECK-NOTES: :33:3: note: 'load_counts_sent' increments 'a->sent' here
  // CHECK-NOTES: :31:12: note: if running 'load_counts_sent' twice is harmless, declare it TSMAP_IDEMPOTENT

  // The effect is written in a macro: the note names it as the macro spells it.
  rules_compute_if_absent(s, "r4", load_checked, 0);
  // CHECK-NOTES: :[[@LINE-1]]:36: warning: callback 'load_checked' {{.*}} and each run increments 'g_checks' [tsmap-non-idempotent-callback]
  // CHECK-NOTES: :40:3: note: 'load_checked' increments 'g_checks' here
  // CHECK-NOTES: :38:26: note: expanded from macro 'CHECK_OK'
  // CHECK-NOTES: :39:12: note: if running 'load_checked' twice is harmless, declare it TSMAP_IDEMPOTENT
}

// Resolved through a struct field: a note where the field got the callback.
struct loader_entry { const char *prefix; rule_loader load; };
static const struct loader_entry g_loaders[] = {{"a", load_rule}};
void run_table(rule_store *s, int i) {
  rules_compute_if_absent(s, "r5", g_loaders[i].load, 0);
  // CHECK-NOTES: :[[@LINE-1]]:36: warning: callback 'load_rule' passed to 'rules_compute_if_absent' is not idempotent: it may run more than once, and each run calls 'audit_post', which is declared TSMAP_NON_IDEMPOTENT [tsmap-non-idempotent-callback]
  // CHECK-NOTES: :[[@LINE-4]]:55: note: field 'load' is set to 'load_rule' here
  // CHECK-NOTES: :20:10: note: 'load_rule' calls 'note_load' here
  // CHECK-NOTES: :16:10: note: 'note_load' calls 'record' here
  // CHECK-NOTES: :13:10: note: 'record' calls 'audit_post' here
  // CHECK-NOTES: rule_store_api.h:33:1: note: 'audit_post' is declared TSMAP_NON_IDEMPOTENT here
  // CHECK-NOTES: :18:12: note: if running 'load_rule' twice is harmless, declare it TSMAP_IDEMPOTENT
}
