// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t
// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup,tsmap-non-idempotent-callback %t
// Annotations this check relies on that name nothing or sit where they mean
// nothing: removed_out, replaces, returns_removed, cleanup, evicts_with.
#include <stddef.h>
#include <tsmap/annotations.h>

struct timer;
void timer_cancel(struct timer *t);
typedef struct TSMAP_THREAD_SAFE_MAP dict dict;

struct entry {
  TSMAP_CLEANUP(timer_cancle) struct timer *t;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: TSMAP_CLEANUP(timer_cancle) names no function declared in this translation unit, so the contract cannot be checked; did you mean 'timer_cancel'? [tsmap-remove-without-cleanup]
};

int dict_del(dict *d, int key, TSMAP_REMOVED_OUT int flags);
// CHECK-MESSAGES: :[[@LINE-1]]:32: warning: TSMAP_REMOVED_OUT goes on a pointer out-parameter; on a parameter of type 'int' it means nothing [tsmap-remove-without-cleanup]

void dict_clear(dict *d, TSMAP_EVICTS_WITH(timer_cancel) int unused);
// CHECK-MESSAGES: :[[@LINE-1]]:26: warning: TSMAP_EVICTS_WITH goes on a map variable or field; on a parameter of type 'int' it means nothing [tsmap-remove-without-cleanup]

// A malformed TSMAP_CLEANUP is this check's, also when it runs alone, and is
// reported once when tsmap-non-idempotent-callback (which reports unknown
// names) runs too.
struct bad_cleanups {
  TSMAP_CLEANUP(42) struct timer *a;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: malformed tsmap annotation 'tsmap::cleanup(42)': contract 'cleanup' needs a function name: cleanup(fn) [tsmap-remove-without-cleanup]
  TSMAP_CLEANUP() struct timer *b;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: malformed tsmap annotation 'tsmap::cleanup()': contract 'cleanup' needs a function name: cleanup(fn) [tsmap-remove-without-cleanup]
  struct timer *c __attribute__((annotate("tsmap::cleanup(timer_cancel")));
  // CHECK-MESSAGES: :[[@LINE-1]]:34: warning: malformed tsmap annotation 'tsmap::cleanup(timer_cancel': contract 'cleanup' needs a function name: cleanup(fn) [tsmap-remove-without-cleanup]
};

// ---- Quiet: well-placed annotations; other checks' kinds are not ours ---------

struct good {
  TSMAP_CLEANUP(timer_cancel) struct timer *t;
};
int dict_take(dict *d, int key, TSMAP_REMOVED_OUT void *out);
TSMAP_REPLACES int dict_set(dict *d, int key, void *value);
TSMAP_CALLBACK_FN int not_ours(int x);
