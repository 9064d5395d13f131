// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback %t
//
// Unknown `tsmap::` names, and the malformed or misplaced kinds owned by
// tsmap-non-idempotent-callback (callback, out, idempotent, non_idempotent,
// callback_fn), reported at the annotation; "did you mean" when a known name
// is close. A malformed annotation of another check's kind is that check's
// (tsmap-remove-without-cleanup-annotations.c).

#include <tsmap/annotations.h>

int g_a __attribute__((annotate("tsmap::calback")));
// CHECK-MESSAGES: :[[@LINE-1]]:24: warning: unknown tsmap annotation 'tsmap::calback' is ignored; did you mean 'tsmap::callback' (TSMAP_CALLBACK)? [tsmap-non-idempotent-callback]
int g_b __attribute__((annotate("tsmap::idempotnt")));
// CHECK-MESSAGES: :[[@LINE-1]]:24: warning: unknown tsmap annotation 'tsmap::idempotnt' is ignored; did you mean 'tsmap::idempotent' (TSMAP_IDEMPOTENT)?
int g_c __attribute__((annotate("tsmap::zzzzzzzzz")));
// CHECK-MESSAGES: :[[@LINE-1]]:24: warning: unknown tsmap annotation 'tsmap::zzzzzzzzz' is ignored [tsmap-non-idempotent-callback]
int g_d __attribute__((annotate("tsmap::callback(x)")));
// CHECK-MESSAGES: :[[@LINE-1]]:24: warning: malformed tsmap annotation 'tsmap::callback(x)': contract 'callback' takes no argument

void api(TSMAP_CALLBACK int n, TSMAP_OUT int out);
// CHECK-MESSAGES: :[[@LINE-1]]:10: warning: TSMAP_CALLBACK goes on a function-pointer parameter; on a parameter of type 'int' it means nothing
// CHECK-MESSAGES: :[[@LINE-2]]:32: warning: TSMAP_OUT goes on a pointer parameter of a callback; on a parameter of type 'int' it means nothing
TSMAP_IDEMPOTENT int g_e;
// CHECK-MESSAGES: :[[@LINE-1]]:1: warning: TSMAP_IDEMPOTENT goes on a function; on a variable of type 'int' it means nothing
struct t { TSMAP_NON_IDEMPOTENT int f; };
// CHECK-MESSAGES: :[[@LINE-1]]:12: warning: TSMAP_NON_IDEMPOTENT goes on a function; on a field of type 'int' it means nothing

// Quiet: well placed, and names that are not ours.
typedef int (*fill_fn)(int key, void *ctx, TSMAP_OUT int *out);
int cache_get(int key, TSMAP_CALLBACK fill_fn fill, void *ctx);
TSMAP_IDEMPOTENT int pure(int x);
TSMAP_NON_IDEMPOTENT int audit_post(const char *what);
int g_other __attribute__((annotate("mytool::calback")));
int g_plain __attribute__((annotate("callback")));
// Malformed, but of a kind tsmap-remove-without-cleanup owns: reported there.
struct s { int w __attribute__((annotate("tsmap::cleanup"))); };
