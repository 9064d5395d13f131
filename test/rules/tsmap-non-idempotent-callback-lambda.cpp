// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback %t
//
// C++: lambdas are resolved, through the conversion to a function pointer and
// as template arguments.

#include <tsmap/annotations.h>

struct TSMAP_THREAD_SAFE_MAP store;
typedef int (*loader)(const char *key, void *ctx, TSMAP_OUT int *out);
int compute(store *s, const char *key, TSMAP_CALLBACK loader fn, void *ctx);
template <class F> int compute_t(store *s, TSMAP_CALLBACK F fn) {
  int v = 0;
  return fn(&v);
}

static int g_hits;
struct Counter {
  int n;
  void bump() { n++; }
};
static Counter g_counter;

void use(store *s) {
  compute(s, "k", [](const char *, void *, int *out) { g_hits++; *out = 1; return 0; }, nullptr);
  // CHECK-MESSAGES: :[[@LINE-1]]:19: warning: callback 'lambda at line {{[0-9]+}}' passed to 'compute' is not idempotent: it may run more than once, and each run increments 'g_hits' [tsmap-non-idempotent-callback]
  compute_t(s, [](int *out) { g_hits += 2; return *out; });
  // CHECK-MESSAGES: :[[@LINE-1]]:16: warning: callback 'lambda at line {{[0-9]+}}' passed to 'compute_t' is not idempotent: it may run more than once, and each run increments 'g_hits' [tsmap-non-idempotent-callback]

  // Quiet: the lambda writes only its own output, or a local.
  compute(s, "k", [](const char *, void *, int *out) { *out += 1; return 0; }, nullptr);
  compute_t(s, [](int *out) { int local = 0; local++; return *out + local; });
  // A method's `this` is the object it is called on: the global's counter.
  compute_t(s, [](int *out) { g_counter.bump(); return *out; });
  // CHECK-MESSAGES: :[[@LINE-1]]:16: warning: callback 'lambda at line {{[0-9]+}}' passed to 'compute_t' is not idempotent: it may run more than once, and each run increments 'g_counter.n' [tsmap-non-idempotent-callback]
}

// A lambda in a method, capturing `this`: the object's members outlive each
// run; a local object's method counts on the local (quiet).
struct Cache {
  store *s;
  int misses;
  void fill();
};
void Cache::fill() {
  compute_t(s, [this](int *out) { misses++; return *out; });
  // CHECK-MESSAGES: :[[@LINE-1]]:16: warning: callback 'lambda at line {{[0-9]+}}' passed to 'compute_t' is not idempotent: it may run more than once, and each run increments 'this->misses' [tsmap-non-idempotent-callback]
  compute_t(s, [](int *out) { Counter c{0}; c.bump(); return *out + c.n; });
}
