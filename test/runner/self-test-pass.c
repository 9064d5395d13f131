// The runner accepts a diagnostic that matches its expectation.
// RUN: %check_tsmap_tidy %s misc-redundant-expression %t

int f(int a) {
  return a == a;
  // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: both sides of operator are equivalent [misc-redundant-expression]
}
