// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback %t -- \
// RUN:   -config="{CheckOptions: {Contracts: 'audit_send=non_idempotent'}}" -- -I%S/Inputs
//
// Notes name what they point at truthfully: an effect a macro builds around
// its argument is named as the macro's user wrote the argument (not the
// macro's parameter), and a function that is non-idempotent by option
// Contracts, not by an annotation, is said to be so.

#include "rule_store_api.h"

struct loader { long loads; int refs; };

#define COUNT_LOAD(c) ((c)->loads += 1)
static int load_macro(const char *key, void *ctx, struct rule *out) {
  struct loader *l = ctx;
  COUNT_LOAD(l);
  return 0;
}

/* Shaped like GLib's g_atomic_int_inc. */
#define my_atomic_int_inc(atomic) \
  (__extension__({ (void)__atomic_fetch_add((atomic), 1, __ATOMIC_SEQ_CST); }))
static int load_atomic(const char *key, void *ctx, struct rule *out) {
  struct loader *l = ctx;
  my_atomic_int_inc(&l->refs);
  return 0;
}

/* The macro's body names the variable itself: its spelling there. */
static int g_checks;
#define CHECK_OK(c) do { g_checks++; (void)(c); } while (0)
static int load_checked(const char *key, void *ctx, struct rule *out) {
  CHECK_OK(key);
  return 0;
}

int audit_send(const char *what);
static int load_sent(const char *key, void *ctx, struct rule *out) {
  audit_send(key);
  return 0;
}
static int load_posted(const char *key, void *ctx, struct rule *out) {
  audit_post("loaded", key);
  return 0;
}

void run(rule_store *s, struct loader *l) {
  rules_compute_if_absent(s, "r1", load_macro, l);
  // CHECK-NOTES: :[[@LINE-1]]:36: warning: callback 'load_macro' {{.*}} and each run increments 'l->loads' [tsmap-non-idempotent-callback]
  // CHECK-NOTES: :16:3: note: 'load_macro' increments 'l->loads' here
  // CHECK-NOTES: :13:24: note: expanded from macro 'COUNT_LOAD'
  // CHECK-NOTES: :14:12: note: if running 'load_macro' twice is harmless, declare it TSMAP_IDEMPOTENT

  rules_compute_if_absent(s, "r2", load_atomic, l);
  // CHECK-NOTES: :[[@LINE-1]]:36: warning: callback 'load_atomic' {{.*}} and each run increments 'l->refs' [tsmap-non-idempotent-callback]
  // CHECK-NOTES: :25:3: note: 'load_atomic' increments 'l->refs' here
  // CHECK-NOTES: :22:26: note: expanded from macro 'my_atomic_int_inc'
  // CHECK-NOTES: :23:12: note: if running 'load_atomic' twice is harmless, declare it TSMAP_IDEMPOTENT

  rules_compute_if_absent(s, "r3", load_checked, 0);
  // CHECK-NOTES: :[[@LINE-1]]:36: warning: callback 'load_checked' {{.*}} and each run increments 'g_checks' [tsmap-non-idempotent-callback]
  // CHECK-NOTES: :33:3: note: 'load_checked' increments 'g_checks' here
  // CHECK-NOTES: :31:26: note: expanded from macro 'CHECK_OK'
  // CHECK-NOTES: :32:12: note: if running 'load_checked' twice is harmless, declare it TSMAP_IDEMPOTENT

  rules_compute_if_absent(s, "r4", load_sent, 0);
  // CHECK-NOTES: :[[@LINE-1]]:36: warning: callback 'load_sent' passed to 'rules_compute_if_absent' is not idempotent: it may run more than once, and each run calls 'audit_send', which is declared non-idempotent by option 'Contracts' [tsmap-non-idempotent-callback]
  // CHECK-NOTES: :39:3: note: 'load_sent' calls 'audit_send' here
  // CHECK-NOTES: :37:5: note: 'audit_send' is declared here; option 'Contracts' declares it non-idempotent
  // CHECK-NOTES: :38:12: note: if running 'load_sent' twice is harmless, declare it TSMAP_IDEMPOTENT

  rules_compute_if_absent(s, "r5", load_posted, 0);
  // CHECK-NOTES: :[[@LINE-1]]:36: warning: callback 'load_posted' passed to 'rules_compute_if_absent' is not idempotent: it may run more than once, and each run calls 'audit_post', which is declared TSMAP_NON_IDEMPOTENT [tsmap-non-idempotent-callback]
  // CHECK-NOTES: :43:3: note: 'load_posted' calls 'audit_post' here
  // CHECK-NOTES: rule_store_api.h:33:1: note: 'audit_post' is declared TSMAP_NON_IDEMPOTENT here
  // CHECK-NOTES: :42:12: note: if running 'load_posted' twice is harmless, declare it TSMAP_IDEMPOTENT
}
