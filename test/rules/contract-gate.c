// RUN: %check_tsmap_tidy -check-suffixes=RAW %s tsmap-non-idempotent-callback %t -- -- -DRAW
// RUN: %check_tsmap_tidy -check-suffixes=UNDERSCORED %s tsmap-non-idempotent-callback %t -- -- -DUNDERSCORED
// RUN: %check_tsmap_tidy -check-suffixes=OPTION %s tsmap-non-idempotent-callback %t -- \
// RUN:   -config="{CheckOptions: {Contracts: 'cache_fill(cb)=callback'}}" --
// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback %t -- -- -DNAMED_IN_NO_OPTION
//
// The tsmap checks run their matchers only in translation units that can
// hold a contract (checker/GatedMatchPass.h). These are the ways in that do
// not go through <tsmap/annotations.h>: an annotation written by hand, in
// either spelling of the attribute, and a contract given by the `Contracts`
// option to a function no header annotates. Each must still be checked.
// The last run is the negative: the same code with no contract anywhere.

#if defined(RAW)
#define CALLBACK_PARAM __attribute__((annotate("tsmap::callback")))
#elif defined(UNDERSCORED)
#define CALLBACK_PARAM __attribute__((__annotate__("tsmap::callback")))
#else
#define CALLBACK_PARAM
#endif

typedef int (*fill_fn)(void *ctx);
int cache_fill(fill_fn cb CALLBACK_PARAM, void *ctx);

static int g_loads;

static int count_load(void *ctx) {
  (void)ctx;
  return ++g_loads;
}

int warm(void) {
  return cache_fill(count_load, 0);
  // CHECK-MESSAGES-RAW: :[[@LINE-1]]:21: warning: callback 'count_load' passed to 'cache_fill' is not idempotent: it may run more than once, and each run increments 'g_loads' [tsmap-non-idempotent-callback]
  // CHECK-MESSAGES-UNDERSCORED: :[[@LINE-2]]:21: warning: callback 'count_load' passed to 'cache_fill' is not idempotent: it may run more than once, and each run increments 'g_loads' [tsmap-non-idempotent-callback]
  // CHECK-MESSAGES-OPTION: :[[@LINE-3]]:21: warning: callback 'count_load' passed to 'cache_fill' is not idempotent: it may run more than once, and each run increments 'g_loads' [tsmap-non-idempotent-callback]
}
