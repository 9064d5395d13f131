// RUN: %check_tsmap_tidy -check-suffixes=FREE %s tsmap-non-idempotent-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-non-idempotent-callback.NonIdempotentFunctions: 'billing::charge_card'}}" -- -std=c++17
// RUN: %check_tsmap_tidy -check-suffixes=MEMBER %s tsmap-non-idempotent-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-non-idempotent-callback.NonIdempotentFunctions: 'Billing::charge'}}" -- -std=c++17
// RUN: %check_tsmap_tidy -check-suffixes=TRUSTED %s tsmap-non-idempotent-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-non-idempotent-callback.IdempotentFunctions: 'stats::note_hit'}}" -- -std=c++17
//
// A name in the function-name options matches a function's plain name, its
// qualified name, or a tail of it at a `::`: `billing::charge_card` (a
// namespaced free function), `Billing::charge` (a member of a class inside a
// namespace), `stats::note_hit`.
#include <tsmap/annotations.h>

template <class K, class V> class TSMAP_THREAD_SAFE_MAP Map {
public:
  template <class F> V compute(const K &k, F &&fn TSMAP_CALLBACK) { return v_ = fn(k); }

private:
  V v_;
};
namespace billing {
struct Billing {
  int charge(int cents);
};
int charge_card(int cents);
} // namespace billing
namespace stats {
extern int g_hits;
inline int note_hit(int n) {
  g_hits++;
  return n;
}
} // namespace stats

int go(Map<int, int> &m, billing::Billing &b) {
  m.compute(1, [&](int k) { return b.charge(k); });
  // CHECK-MESSAGES-MEMBER: :[[@LINE-1]]:16: warning: callback 'lambda at line {{[0-9]+}}' passed to 'compute' is not idempotent: it may run more than once, and each run calls 'charge'
  m.compute(2, [&](int k) { return billing::charge_card(k); });
  // CHECK-MESSAGES-FREE: :[[@LINE-1]]:16: warning: callback 'lambda at line {{[0-9]+}}' passed to 'compute' is not idempotent: it may run more than once, and each run calls 'charge_card'
  m.compute(3, [&](int k) { return stats::note_hit(k); });
  // CHECK-MESSAGES-FREE: :[[@LINE-1]]:16: warning: callback 'lambda at line {{[0-9]+}}' passed to 'compute' is not idempotent: it may run more than once, and each run increments 'g_hits'
  // CHECK-MESSAGES-MEMBER: :[[@LINE-2]]:16: warning: callback 'lambda at line {{[0-9]+}}' passed to 'compute' is not idempotent: it may run more than once, and each run increments 'g_hits'
  return 0;
}
