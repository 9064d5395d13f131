// The runner must fail when an expected diagnostic does not come.
// RUN: not %check_tsmap_tidy %s misc-redundant-expression %t 2>&1 | FileCheck %s --check-prefix=RUNNER

int f(int a, int b) {
  return a == b;
  // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: both sides of operator are equivalent [misc-redundant-expression]
}
// RUNNER: check_tsmap_tidy: FAIL: diagnostics differ from the expectations
