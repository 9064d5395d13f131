// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback %t -- -- -std=c++17
//
// A lambda that captures `*this` by copy (C++17 `[*this]`) changes its own copy,
// not the method's object: quiet, as a by-value capture is (spec audit S1).
// A callback handed over with std::move (or std::forward) is resolved like one
// passed directly (S7).

#include <utility>
#include <tsmap/annotations.h>

template <class F> int comp(F &&fn TSMAP_CALLBACK) { return fn(); }
typedef int (*plain_fn)(void);
int via_ptr(TSMAP_CALLBACK plain_fn f);

struct S {
  int x = 0;
  int by_ref() {
    return comp([this] { x++; return 0; });
    // CHECK-MESSAGES: :[[@LINE-1]]:17: warning: callback 'lambda at line [[@LINE-1]]' passed to 'comp' is not idempotent: it may run more than once, and each run increments 'this->x' [tsmap-non-idempotent-callback]
  }
  int by_copy() { return comp([*this]() mutable { x++; return 0; }); }
  int local_copy() {
    int n = x;
    return comp([n]() mutable { n++; return 0; });
  }
};

static int g_n;
static int bump(void) { return g_n++; }

int moved_lambda() {
  auto f = [&] { g_n++; return 0; };
  return comp(std::move(f));
  // CHECK-MESSAGES: :[[@LINE-1]]:15: warning: callback 'lambda at line [[@LINE-2]]' passed to 'comp' is not idempotent
}
int moved_pointer() {
  plain_fn p = bump;
  return via_ptr(std::move(p));
  // CHECK-MESSAGES: :[[@LINE-1]]:18: warning: callback 'bump' passed to 'via_ptr' is not idempotent
}
int moved_pure() {
  auto f = [] { return 1; };
  return comp(std::move(f));
}
