// RUN: %check_tsmap_tidy -check-suffixes=DEFAULT %s tsmap-non-idempotent-callback %t -- -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=LISTS %s tsmap-non-idempotent-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-non-idempotent-callback.NonIdempotentFunctions: 'charge_card; enqueue_job', \
// RUN:                            tsmap-non-idempotent-callback.IdempotentFunctions: 'write;bump_stat'}}" -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=DEFAULT,STRICT %s tsmap-non-idempotent-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-non-idempotent-callback.StrictUnknownCalls: true}}" -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=SHALLOW %s tsmap-non-idempotent-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-non-idempotent-callback.MaxCallDepth: 2}}" -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=DEPTH3 %s tsmap-non-idempotent-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-non-idempotent-callback.MaxCallDepth: 3, \
// RUN:                            tsmap-non-idempotent-callback.IdempotentFunctions: 'write;bump_stat;enqueue_job'}}" -- -I%S/Inputs
//
// Each option, with its default and with a value.

#include "rule_store_api.h"
#include <unistd.h>

int charge_card(int account, int cents);
int enqueue_job(const char *name);
static int g_stat;
static void bump_stat(void) { g_stat++; }

static int load_charges(const char *key, void *ctx, struct rule *out) {
  // Non-idempotent by option. Not an unknown call even when strict: a
  // function of scalars that returns a value looks like a reader.
  return charge_card(1, 100);
}
static int load_writes(const char *key, void *ctx, struct rule *out) {
  return (int)write(2, key, 1); // default list; trusted by option
}
static int load_stat(const char *key, void *ctx, struct rule *out) {
  bump_stat(); // a counter; trusted by option
  return 0;
}
static int load_opaque(const char *key, void *ctx, struct rule *out) {
  // No body, and fills the context, not the callback's own output (which
  // would be its product): reported only when strict.
  return opaque_lookup(key, (struct rule *)ctx);
}
static int hop3(void) { return enqueue_job("x") + (g_stat++); }
static int hop2(void) { return hop3(); }
static int hop1(void) { return hop2(); }
static int load_deep(const char *key, void *ctx, struct rule *out) {
  return hop1(); // 3 hops to g_stat++: beyond MaxCallDepth=2
}
static int load_near(const char *key, void *ctx, struct rule *out) {
  return hop2(); // 2 hops: within MaxCallDepth=2
}
// Reaches g_stat++ twice: through hop2 (2 hops) and through hop3 (1 hop). The
// short path is the one that stays within MaxCallDepth from load_mid.
static int both(void) { return hop2() + hop3(); }
static int mid(void) { return both(); }
static int load_mid(const char *key, void *ctx, struct rule *out) {
  return mid(); // load_mid -> mid -> both -> hop3: 3 hops
}

void use(rule_store *s) {
  rules_compute_if_absent(s, "k", load_charges, 0);
  // CHECK-MESSAGES-LISTS: :[[@LINE-1]]:35: warning: callback 'load_charges' {{.*}} and each run calls 'charge_card', which is listed in NonIdempotentFunctions
  rules_compute_if_absent(s, "k", load_writes, 0);
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:35: warning: callback 'load_writes' {{.*}} and each run calls 'write', which sends data
  // CHECK-MESSAGES-SHALLOW: :[[@LINE-2]]:35: warning: callback 'load_writes' {{.*}} and each run calls 'write', which sends data
  rules_compute_if_absent(s, "k", load_stat, 0);
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:35: warning: callback 'load_stat' {{.*}} and each run increments 'g_stat'
  // CHECK-MESSAGES-SHALLOW: :[[@LINE-2]]:35: warning: callback 'load_stat' {{.*}} and each run increments 'g_stat'
  rules_compute_if_absent(s, "k", load_opaque, 0);
  // CHECK-MESSAGES-STRICT: :[[@LINE-1]]:35: warning: callback 'load_opaque' {{.*}} and each run calls 'opaque_lookup', whose body is not visible
  rules_compute_if_absent(s, "k", load_deep, 0);
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:35: warning: callback 'load_deep' {{.*}} and each run increments 'g_stat'
  // CHECK-MESSAGES-LISTS: :[[@LINE-2]]:35: warning: callback 'load_deep' {{.*}} and each run calls 'enqueue_job', which is listed in NonIdempotentFunctions
  // CHECK-MESSAGES-DEPTH3: :[[@LINE-3]]:35: warning: callback 'load_deep' {{.*}} and each run increments 'g_stat'
  rules_compute_if_absent(s, "k", load_near, 0);
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:35: warning: callback 'load_near' {{.*}} and each run increments 'g_stat'
  // CHECK-MESSAGES-LISTS: :[[@LINE-2]]:35: warning: callback 'load_near' {{.*}} and each run calls 'enqueue_job', which is listed in NonIdempotentFunctions
  // CHECK-MESSAGES-SHALLOW: :[[@LINE-3]]:35: warning: callback 'load_near' {{.*}} and each run increments 'g_stat'
  // CHECK-MESSAGES-DEPTH3: :[[@LINE-4]]:35: warning: callback 'load_near' {{.*}} and each run increments 'g_stat'
  rules_compute_if_absent(s, "k", load_mid, 0);
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:35: warning: callback 'load_mid' {{.*}} and each run increments 'g_stat'
  // CHECK-MESSAGES-LISTS: :[[@LINE-2]]:35: warning: callback 'load_mid' {{.*}} and each run calls 'enqueue_job', which is listed in NonIdempotentFunctions
  // CHECK-MESSAGES-DEPTH3: :[[@LINE-3]]:35: warning: callback 'load_mid' {{.*}} and each run increments 'g_stat'
}
