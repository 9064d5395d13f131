// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-non-idempotent-callback.NonIdempotentFunctions: 'bad name;post-it;charge_card', \
// RUN:                            tsmap-non-idempotent-callback.IdempotentFunctions: ';;', \
// RUN:                            tsmap-non-idempotent-callback.MaxCallDepth: 'deep', \
// RUN:                            tsmap-non-idempotent-callback.StrictUnknownCalls: 'maybe'}}" -- -I%S/Inputs
//
// Malformed options are reported as configuration problems, and the check
// still runs with what it could read (defaults for the rest). Never a crash.

// CHECK-MESSAGES: warning: invalid configuration value 'deep' for option 'tsmap-non-idempotent-callback.MaxCallDepth'; expected an integer from 0 to 64 [clang-tidy-config]
// CHECK-MESSAGES: warning: invalid configuration value 'maybe' for option 'tsmap-non-idempotent-callback.StrictUnknownCalls'; expected a bool [clang-tidy-config]
// CHECK-MESSAGES: warning: invalid function name 'bad name' in option 'tsmap-non-idempotent-callback.NonIdempotentFunctions'; expected a semicolon-separated list of names [clang-tidy-config]
// CHECK-MESSAGES: warning: invalid function name 'post-it' in option 'tsmap-non-idempotent-callback.NonIdempotentFunctions'; expected a semicolon-separated list of names [clang-tidy-config]

#include "rule_store_api.h"

int charge_card(int account, int cents);

static int load_charges(const char *key, void *ctx, struct rule *out) {
  return charge_card(1, 100);
}
static int load_opaque(const char *key, void *ctx, struct rule *out) {
  return opaque_lookup(key, out); // StrictUnknownCalls fell back to false
}

void use(rule_store *s) {
  rules_compute_if_absent(s, "k", load_charges, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: callback 'load_charges' {{.*}} calls 'charge_card', which is listed in NonIdempotentFunctions
  rules_compute_if_absent(s, "k", load_opaque, 0);
}
