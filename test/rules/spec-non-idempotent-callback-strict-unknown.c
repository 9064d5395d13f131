// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-non-idempotent-callback.StrictUnknownCalls: true}}" --
// RUN: %check_tsmap_tidy -check-suffixes=DEFAULT %s tsmap-non-idempotent-callback %t -- --
//
// docs/spec.md section 2 and the rule page's StrictUnknownCalls: with the option on,
// an unknown call is reported: a variadic function or one with no prototype (they
// stay unknown even when they return a value), and a call through a function pointer
// the check cannot resolve. Known library functions (snprintf) and readers (a value
// returned from scalars and const pointers) are not unknown. With the option off
// (the default) all of these are quiet.

#include <stdio.h>
#include <tsmap/tsmap.h>

int trace_line(const char *fmt, ...);   /* variadic, body elsewhere */
int legacy_probe();                      /* no prototype */
unsigned key_digest(const char *s, int len);   /* a reader */
struct probe_ctx { int (*on_load)(int); };

static int via_variadic(const void *k, size_t n, void *ctx, TSMAP_OUT void *out) {
  return trace_line("load %zu", n);
}
static int via_no_proto(const void *k, size_t n, void *ctx, TSMAP_OUT void *out) {
  return legacy_probe(3);
}
static int via_pointer(const void *k, size_t n, void *ctx, TSMAP_OUT void *out) {
  struct probe_ctx *pc = ctx;
  return pc->on_load(1);
}
static int via_library(const void *k, size_t n, void *ctx, TSMAP_OUT void *out) {
  char tmp[16];
  return snprintf(tmp, sizeof tmp, "%zu", n);
}
static int via_reader(const void *k, size_t n, void *ctx, TSMAP_OUT void *out) {
  *(unsigned *)out = key_digest(k, (int)n);
  return 0;
}

void probe_all(tsmap *m, struct probe_ctx *pc, unsigned *v) {
  tsmap_compute_if_absent(m, "a", 1, via_variadic, pc, v);
  // CHECK-MESSAGES: :[[@LINE-1]]:38: warning: callback 'via_variadic' passed to 'tsmap_compute_if_absent' is not idempotent: it may run more than once, and each run calls 'trace_line', whose body is not visible and which is not known to be idempotent [tsmap-non-idempotent-callback]
  tsmap_compute_if_absent(m, "a", 1, via_no_proto, pc, v);
  // CHECK-MESSAGES: :[[@LINE-1]]:38: warning: callback 'via_no_proto' passed to 'tsmap_compute_if_absent' is not idempotent: it may run more than once, and each run calls 'legacy_probe', whose body is not visible and which is not known to be idempotent [tsmap-non-idempotent-callback]
  tsmap_compute_if_absent(m, "a", 1, via_pointer, pc, v);
  // CHECK-MESSAGES: :[[@LINE-1]]:38: warning: callback 'via_pointer' passed to 'tsmap_compute_if_absent' is not idempotent: it may run more than once, and each run calls a function through a pointer, which is not known to be idempotent [tsmap-non-idempotent-callback]
  tsmap_compute_if_absent(m, "a", 1, via_library, pc, v);
  tsmap_compute_if_absent(m, "a", 1, via_reader, pc, v);
}
// (The DEFAULT run has no CHECK-MESSAGES-DEFAULT lines: it must print no warning.)
