// The runner must fail when an expectation is wrong: here the column is off by one.
// RUN: not %check_tsmap_tidy %s misc-redundant-expression %t 2>&1 | FileCheck %s --check-prefix=RUNNER

int f(int a) {
  return a == a;
  // CHECK-MESSAGES: :[[@LINE-1]]:13: warning: both sides of operator are equivalent [misc-redundant-expression]
}
// RUNNER: check_tsmap_tidy: FAIL: diagnostics differ from the expectations
