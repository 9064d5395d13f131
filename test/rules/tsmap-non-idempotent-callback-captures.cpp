// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback %t
//
// C++ callbacks: lambdas passed to `F &&fn TSMAP_CALLBACK` and to a
// std::function TSMAP_CALLBACK parameter. A by-reference capture (or a
// pointer captured by copy) is shared state, like the context pointer: a
// read-modify-write of it repeats with every run. The lambda's parameters
// and locals, and its by-value copies, are its own. std::atomic's fetch_add
// is a read-modify-write; store is idempotent.

#include <tsmap/annotations.h>
#include <atomic>
#include <functional>
#include <string>

template <class K, class V> class TSMAP_THREAD_SAFE_MAP Map {
public:
  template <class F> V compute_if_absent(const K &k, F &&fn TSMAP_CALLBACK) {
    return fn(k);
  }
  V compute(const K &k, std::function<V(const K &)> fn TSMAP_CALLBACK);
};

void load_all(Map<std::string, int> &m, std::atomic<int> &loads) {
  int misses = 0;
  std::atomic<long> bytes{0};
  std::atomic<bool> seen{false};
  int *counter = &misses;
  m.compute_if_absent("a", [&](const std::string &k) { ++misses; return 1; });
  // CHECK-MESSAGES: :[[@LINE-1]]:28: warning: callback 'lambda at line {{[0-9]+}}' passed to 'compute_if_absent' is not idempotent: it may run more than once, and each run increments 'misses'
  m.compute_if_absent("b", [&loads](const std::string &k) { loads.fetch_add(1); return 2; });
  // CHECK-MESSAGES: :[[@LINE-1]]:28: warning: callback 'lambda at line {{[0-9]+}}' passed to 'compute_if_absent' is not idempotent: it may run more than once, and each run increments 'loads'
  m.compute("c", [&](const std::string &k) { bytes += k.size(); return 3; });
  // CHECK-MESSAGES: :[[@LINE-1]]:18: warning: callback 'lambda at line {{[0-9]+}}' passed to 'compute' is not idempotent: it may run more than once, and each run increments 'bytes'
  m.compute("d", [counter](const std::string &k) { (*counter)++; return 4; });
  // CHECK-MESSAGES: :[[@LINE-1]]:18: warning: callback 'lambda at line {{[0-9]+}}' passed to 'compute' is not idempotent: it may run more than once, and each run increments 'counter'

  // Quiet: its own parameters and locals, by-value copies, idempotent stores.
  m.compute_if_absent("e", [misses](const std::string &k) mutable { return ++misses; });
  m.compute_if_absent("f", [&](const std::string &k) { int n = 0; n++; return n + misses; });
  m.compute("g", [&](const std::string &k) { seen.store(true); return loads.load(); });
  m.compute("h", [&](const std::string &k) { misses = 7; return 5; });
}
