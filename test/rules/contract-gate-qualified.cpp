// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback %t -- \
// RUN:   -config="{CheckOptions: {Contracts: 'store::fill(cb)=callback'}}" -- -std=c++17
//
// A contract the option gives to a qualified name (docs/contracts-option.md:
// a name matches the plain or the qualified name). The translation unit
// spells only the unqualified 'fill' and must still be checked; 'other::fill'
// has no contract.

namespace store {
int fill(int (*cb)(void *), void *ctx);
}
namespace other {
int fill(int (*cb)(void *), void *ctx);
}

static int g_loads;
static int count_load(void *) { return ++g_loads; }

int warm() {
  other::fill(count_load, nullptr);
  return store::fill(count_load, nullptr);
  // CHECK-MESSAGES: :[[@LINE-1]]:22: warning: callback 'count_load' passed to 'fill' is not idempotent: it may run more than once, and each run increments 'g_loads' [tsmap-non-idempotent-callback]
}
