// With CHECK-NOTES, a note nobody expected fails the test as well; the same file
// passes under CHECK-MESSAGES, which ignores notes.
// RUN: not %check_tsmap_tidy %s bugprone-branch-clone %t 2>&1 | FileCheck %s --check-prefix=RUNNER

int f(int a) {
  if (a)
    return 1;
  else
    return 1;
  // CHECK-NOTES: :[[@LINE-4]]:3: warning: if with identical then and else branches [bugprone-branch-clone]
}
// RUNNER: check_tsmap_tidy: FAIL: diagnostics differ from the expectations
