// The runner must fail on a diagnostic nobody expected: this file lists none.
// RUN: not %check_tsmap_tidy %s misc-redundant-expression %t 2>&1 | FileCheck %s --check-prefix=RUNNER

int f(int a) {
  return a == a;
}
// RUNNER: check_tsmap_tidy: FAIL: expected no diagnostics
