// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback %t
//
// A hop of the chain that calls through a function pointer field says which
// field (`g_ops.notify(m)` calls 'do_notify' through field 'notify'), also
// when the call dereferences it (`(*o->notify)(m)`), and where the field is
// set to that function.
#include <string.h>
#include <tsmap/annotations.h>
#include <tsmap/tsmap.h>

TSMAP_NON_IDEMPOTENT void audit_post(const char *msg);
struct ops { void (*notify)(const char *); };
static void do_notify(const char *m) { audit_post(m); }
static struct ops g_ops = { .notify = do_notify };

static int load_field(const void *k, size_t n, void *ctx, void *out) {
  (void)n; (void)ctx; (void)out;
  g_ops.notify(k);
  return 0;
}
static int load_deref(const void *k, size_t n, void *ctx, void *out) {
  struct ops *o = &g_ops;
  (void)n; (void)ctx; (void)out;
  (*o->notify)(k);
  return 0;
}
static int load_direct(const void *k, size_t n, void *ctx, void *out) {
  (void)n; (void)ctx; (void)out;
  do_notify(k);
  return 0;
}

int get(tsmap *m, const char *k) {
  int r = tsmap_compute_if_absent(m, k, strlen(k), load_field, NULL, NULL);
  // CHECK-NOTES: :[[@LINE-1]]:52: warning: callback 'load_field' passed to 'tsmap_compute_if_absent' is not idempotent: it may run more than once, and each run calls 'audit_post', which is declared TSMAP_NON_IDEMPOTENT [tsmap-non-idempotent-callback]
  // CHECK-NOTES: :18:3: note: 'load_field' calls 'do_notify' through field 'notify' here
  // CHECK-NOTES: :14:39: note: field 'notify' is set to 'do_notify' here
  // CHECK-NOTES: :13:40: note: 'do_notify' calls 'audit_post' here
  // CHECK-NOTES: :11:1: note: 'audit_post' is declared TSMAP_NON_IDEMPOTENT here
  // CHECK-NOTES: :16:12: note: if running 'load_field' twice is harmless, declare it TSMAP_IDEMPOTENT
  r |= tsmap_compute_if_absent(m, k, strlen(k), load_deref, NULL, NULL);
  // CHECK-NOTES: :[[@LINE-1]]:49: warning: callback 'load_deref' passed to 'tsmap_compute_if_absent' is not idempotent: it may run more than once, and each run calls 'audit_post', which is declared TSMAP_NON_IDEMPOTENT [tsmap-non-idempotent-callback]
  // CHECK-NOTES: :24:3: note: 'load_deref' calls 'do_notify' through field 'notify' here
  // CHECK-NOTES: :14:39: note: field 'notify' is set to 'do_notify' here
  // CHECK-NOTES: :13:40: note: 'do_notify' calls 'audit_post' here
  // CHECK-NOTES: :11:1: note: 'audit_post' is declared TSMAP_NON_IDEMPOTENT here
  // CHECK-NOTES: :21:12: note: if running 'load_deref' twice is harmless, declare it TSMAP_IDEMPOTENT
  r |= tsmap_compute_if_absent(m, k, strlen(k), load_direct, NULL, NULL);
  // CHECK-NOTES: :[[@LINE-1]]:49: warning: callback 'load_direct' passed to 'tsmap_compute_if_absent' is not idempotent: it may run more than once, and each run calls 'audit_post', which is declared TSMAP_NON_IDEMPOTENT [tsmap-non-idempotent-callback]
  // CHECK-NOTES: :29:3: note: 'load_direct' calls 'do_notify' here
  // CHECK-NOTES: :13:40: note: 'do_notify' calls 'audit_post' here
  // CHECK-NOTES: :11:1: note: 'audit_post' is declared TSMAP_NON_IDEMPOTENT here
  // CHECK-NOTES: :27:12: note: if running 'load_direct' twice is harmless, declare it TSMAP_IDEMPOTENT
  return r;
}
