// RUN: %clang -std=c17 -x c-header %S/Inputs/gate-pch.h -o %t.pch
// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback %t -- -- -std=c17 -include-pch %t.pch
//
// The annotated prototype comes from a precompiled header, whose identifiers
// reach the translation unit's table only as the reader loads them: the
// checks must not skip the unit.

static int g_loads;

static int count_load(void *ctx) {
  (void)ctx;
  return ++g_loads;
}

int warm(void) {
  return cache_fill(count_load, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:21: warning: callback 'count_load' passed to 'cache_fill' is not idempotent: it may run more than once, and each run increments 'g_loads' [tsmap-non-idempotent-callback]
}
