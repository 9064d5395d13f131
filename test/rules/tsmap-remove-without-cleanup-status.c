// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=ZERO %s tsmap-remove-without-cleanup %t -- -config="{CheckOptions: {tsmap-remove-without-cleanup.StatusConvention: zero-is-success}}" -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=NONZERO %s tsmap-remove-without-cleanup %t -- -config="{CheckOptions: {tsmap-remove-without-cleanup.StatusConvention: nonzero-is-success}}" -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=BAD %s tsmap-remove-without-cleanup %t -- -config="{CheckOptions: {tsmap-remove-without-cleanup.StatusConvention: zero}}" -- -I%S/Inputs
// The C status convention: a plain `int` result tested against 0 has two
// readings (0 is success, or non-zero is). A path that leaks under every
// reading is reported whatever the convention; one that leaks under only one
// reading is reported only when option StatusConvention says that reading
// holds. Statuses are also read by the names of #define'd constants and of
// the enumerators of the callee's enum return type, and a callee whose body
// returns only 0 and negative constants says that 0 is success.
#include "removal-session.h"

// CHECK-MESSAGES-BAD: warning: invalid value 'zero' for option 'tsmap-remove-without-cleanup.StatusConvention'; expected 'zero-is-success', 'nonzero-is-success' or 'unknown' [clang-tidy-config]

typedef struct TSMAP_THREAD_SAFE_MAP kv kv;
int kv_remove(kv *m, int id, TSMAP_REMOVED_OUT void *out); /* convention unknown */
#define KV_OK 0
#define KV_ENOENT 2
enum kv_rc { KV_RC_OK, KV_RC_MISSING };
enum kv_rc kv_pop(kv *m, TSMAP_REMOVED_OUT void *out);
extern kv *g_kv;

/* Returns 0, or a negative errno: the body says 0 is success. */
static int kv_evict(kv *m, int id, TSMAP_REMOVED_OUT void *out) {
  if (!m)
    return -22;
  return kv_remove(m, id, out) == KV_OK ? 0 : -2;
}

// ---- Every reading leaks: reported whatever the convention -------------------

int drop_ne(int id) {
  struct session *s;
  if (kv_remove(g_kv, id, &s) != 0)
    return -1; /* non-zero is success: leaks here */
  free(s);     /* zero is success: leaks here */
  return 0;
}
// CHECK-MESSAGES: :[[@LINE-5]]:7: warning: value removed by 'kv_remove' into 's' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
// CHECK-MESSAGES-BAD: :[[@LINE-6]]:7: warning: value removed by
// CHECK-MESSAGES-ZERO: :[[@LINE-7]]:7: warning: value removed by 'kv_remove' into 's'
// CHECK-MESSAGES-NONZERO: :[[@LINE-8]]:7: warning: value removed by 'kv_remove' into 's'

void drop_goto(int id) {
  struct session *s;
  if (kv_remove(g_kv, id, &s))
    goto out;
  free(s);
out:
  return;
}
// CHECK-MESSAGES: :[[@LINE-6]]:7: warning: value removed by 'kv_remove' into 's'
// CHECK-MESSAGES-BAD: :[[@LINE-7]]:7: warning: value removed by
// CHECK-MESSAGES-ZERO: :[[@LINE-8]]:7: warning: value removed by 'kv_remove' into 's'
// CHECK-MESSAGES-NONZERO: :[[@LINE-9]]:7: warning: value removed by 'kv_remove' into 's'

// ---- One reading leaks: reported under that convention only --------------------

int drop_rc(int id) {
  struct session *s;
  int rc = kv_remove(g_kv, id, &s);
  if (rc)
    return rc; /* leaks only if non-zero means "removed" */
  timer_cancel(s->idle);
  free(s);
  return 0;
}
// CHECK-MESSAGES-NONZERO: :[[@LINE-7]]:12: warning: value removed by 'kv_remove' into 's'

int drop_ok(int id) {
  struct session *s;
  if (kv_remove(g_kv, id, &s) != 0)
    return -1;
  timer_cancel(s->idle);
  free(s);
  return 0;
}
// CHECK-MESSAGES-NONZERO: :[[@LINE-6]]:7: warning: value removed by 'kv_remove' into 's'

int drop_if_true(int id) {
  struct session *s;
  if (kv_remove(g_kv, id, &s) == 1) {
    timer_cancel(s->idle);
    free(s);
  }
  return 0;
}
// CHECK-MESSAGES-ZERO: :[[@LINE-6]]:7: warning: value removed by 'kv_remove' into 's'

// ---- Names: #define'd constants, the callee's enum --------------------------------

void drop_define(int id) {
  struct session *s;
  if (kv_remove(g_kv, id, &s) == KV_ENOENT)
    return;
  free(s);
}
// CHECK-MESSAGES: :[[@LINE-4]]:7: warning: value removed by 'kv_remove' into 's'
// CHECK-MESSAGES-BAD: :[[@LINE-5]]:7: warning: value removed by
// CHECK-MESSAGES-ZERO: :[[@LINE-6]]:7: warning: value removed by 'kv_remove' into 's'
// CHECK-MESSAGES-NONZERO: :[[@LINE-7]]:7: warning: value removed by 'kv_remove' into 's'

void drop_define_clean(int id) {
  struct session *s;
  if (kv_remove(g_kv, id, &s) != KV_OK)
    return;
  timer_cancel(s->idle);
  free(s);
}

void drop_enum_value(void) {
  struct session *s;
  if (kv_pop(g_kv, &s) == 1) /* KV_RC_MISSING */
    return;
  free(s);
}
// CHECK-MESSAGES: :[[@LINE-4]]:7: warning: value removed by 'kv_pop' into 's'
// CHECK-MESSAGES-BAD: :[[@LINE-5]]:7: warning: value removed by
// CHECK-MESSAGES-ZERO: :[[@LINE-6]]:7: warning: value removed by 'kv_pop' into 's'
// CHECK-MESSAGES-NONZERO: :[[@LINE-7]]:7: warning: value removed by 'kv_pop' into 's'

void drop_enum_clean(void) {
  struct session *s;
  if (kv_pop(g_kv, &s) == 1)
    return;
  timer_cancel(s->idle);
  free(s);
}

// ---- The callee's body says 0 is success ------------------------------------------

void evict_leak(int id) {
  struct session *s;
  if (kv_evict(g_kv, id, &s))
    return;
  free(s);
}
// CHECK-MESSAGES: :[[@LINE-4]]:7: warning: value removed by 'kv_evict' into 's'
// CHECK-MESSAGES-BAD: :[[@LINE-5]]:7: warning: value removed by
// CHECK-MESSAGES-ZERO: :[[@LINE-6]]:7: warning: value removed by 'kv_evict' into 's'
// CHECK-MESSAGES-NONZERO: :[[@LINE-7]]:7: warning: value removed by 'kv_evict' into 's'

void evict_clean(int id) {
  struct session *s;
  if (kv_evict(g_kv, id, &s) != 0)
    return;
  timer_cancel(s->idle);
  free(s);
}
