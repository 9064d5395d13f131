// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback %t
//
// Annotations this check relies on (callback, out, idempotent, non_idempotent,
// callback_fn) and unknown `tsmap::` names are reported where they are written
// when they would otherwise be silently ignored.

#include <tsmap/annotations.h>

typedef struct TSMAP_THREAD_SAFE_MAP store store;

int compute(store *s, TSMAP_CALLBACK int n, void *ctx);
// CHECK-MESSAGES: :[[@LINE-1]]:23: warning: TSMAP_CALLBACK goes on a function-pointer parameter; on a parameter of type 'int' it means nothing [tsmap-non-idempotent-callback]
TSMAP_OUT int g_out;
// CHECK-MESSAGES: :[[@LINE-1]]:1: warning: TSMAP_OUT goes on a pointer parameter of a callback; on a variable of type 'int' it means nothing [tsmap-non-idempotent-callback]
TSMAP_IDEMPOTENT int g_trusted;
// CHECK-MESSAGES: :[[@LINE-1]]:1: warning: TSMAP_IDEMPOTENT goes on a function; on a variable of type 'int' it means nothing [tsmap-non-idempotent-callback]
__attribute__((annotate("tsmap::calback"))) int misspelled(void);
// CHECK-MESSAGES: :[[@LINE-1]]:16: warning: unknown tsmap annotation 'tsmap::calback' is ignored; did you mean 'tsmap::callback' (TSMAP_CALLBACK)? [tsmap-non-idempotent-callback]

// Quiet: every annotation where it belongs, and kinds other checks own.
typedef int (*loader)(const char *key, void *ctx, TSMAP_OUT void *out);
int compute_ok(store *s, TSMAP_CALLBACK loader fn, void *ctx);
TSMAP_NON_IDEMPOTENT int post(const char *what);
TSMAP_IDEMPOTENT int lookup(const char *what);
TSMAP_CLEANUP(no_such_fn) int owned_by_remove_without_cleanup;
