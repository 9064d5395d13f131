// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -std=c++17
//
// docs/spec.md section 2 and rules/tsmap-reentrant-callback.md: C++ lambdas passed to
// a std::function TSMAP_CALLBACK_LOCKED parameter or a `F &&` one of a
// TSMAP_THREAD_SAFE_MAP class template (generic lambdas by the operator the call
// instantiated, a lambda held in a local first), whose capture of the map (by
// reference, or a pointer by copy) is the map of the function that made them, are
// reported when they change that map; a lambda changing another map is not.

#include <functional>
#include <string>
#include <tsmap/annotations.h>

template <class K, class V> class TSMAP_THREAD_SAFE_MAP Ledger {
public:
  void scan(std::function<void(const K &, V &)> fn TSMAP_CALLBACK_LOCKED);
  template <class F> void walk(F &&fn TSMAP_CALLBACK_LOCKED) { K k{}; V v{}; fn(k, v); }
  void drop(const K &);
  void put(const K &, const V &);
};
using Accounts = Ledger<std::string, long>;

void close_negative(Accounts &acc) {
  acc.scan([&](const std::string &who, long &bal) { if (bal < 0) acc.drop(who); });
  // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: callback 'lambda at line [[@LINE-1]]' passed to 'scan' re-enters the same map: it calls 'drop' on 'acc' while 'scan' runs it with the map locked or mid-iteration [tsmap-reentrant-callback]
}
void close_generic(Accounts *acc) {
  acc->walk([acc](const auto &who, auto &) { acc->drop(who); });
  // CHECK-MESSAGES: :[[@LINE-1]]:13: warning: callback 'lambda at line [[@LINE-1]]' passed to 'walk' re-enters the same map: it calls 'drop' on 'acc' while 'walk' runs it with the map locked or mid-iteration [tsmap-reentrant-callback]
}
void reopen(Accounts &acc) {
  auto again = [&](const std::string &who, long &) { acc.put(who, 0); };
  acc.walk(again);
  // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: callback 'lambda at line 32' passed to 'walk' re-enters the same map: it calls 'put' on 'acc' while 'walk' runs it with the map locked or mid-iteration [tsmap-reentrant-callback]
}
void mirror(Accounts &acc, Accounts &audit) {
  acc.walk([&audit](const std::string &who, long &) { audit.drop(who); });
}
