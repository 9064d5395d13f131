// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback %t
//
// A function stored into a field by an initializer list resolves like one
// stored by an assignment (`ops->load = fn;`), with no assignment anywhere in
// the translation unit: designated, positional, with braces elided, nested,
// in an array of structs, static and local. The quiet twins put an
// idempotent callback in the same places.

#include <tsmap/annotations.h>

struct TSMAP_THREAD_SAFE_MAP store;
typedef int (*loader)(const char *key, void *ctx, TSMAP_OUT int *out);
int store_compute(struct store *s, const char *key, TSMAP_CALLBACK loader fn, void *ctx);

static long g_loads;
static int count_designated(const char *key, void *ctx, int *out) { g_loads++; *out = 1; return 0; }
static int count_positional(const char *key, void *ctx, int *out) { g_loads++; *out = 2; return 0; }
static int count_nested(const char *key, void *ctx, int *out) { g_loads++; *out = 3; return 0; }
static int count_elided(const char *key, void *ctx, int *out) { g_loads++; *out = 4; return 0; }
static int count_table(const char *key, void *ctx, int *out) { g_loads++; *out = 5; return 0; }
static int count_local(const char *key, void *ctx, int *out) { g_loads++; *out = 6; return 0; }
static int pure_designated(const char *key, void *ctx, int *out) { *out = 1; return 0; }
static int pure_positional(const char *key, void *ctx, int *out) { *out = 2; return 0; }
static int pure_nested(const char *key, void *ctx, int *out) { *out = 3; return 0; }
static int pure_local(const char *key, void *ctx, int *out) { *out = 6; return 0; }

struct designated_ops { const char *name; loader load; };
struct positional_ops { loader load; const char *name; };
struct inner_ops { int version; loader load; };
struct nested_ops { const char *name; struct inner_ops in; };
struct elided_inner { int version; loader load; };
struct elided_ops { const char *name; struct elided_inner in; };
struct table_ops { loader load; };
struct local_ops { loader load; int flags; };
struct pure_designated_ops { loader load; };
struct pure_positional_ops { const char *name; loader load; };
struct pure_nested_ops { struct inner_ops in; };
struct pure_inner_ops { struct pure_designated_ops ops; };
struct pure_local_ops { loader load; };

static const struct designated_ops DESIGNATED = {.load = count_designated, .name = "d"};
static const struct positional_ops POSITIONAL = {count_positional, "p"};
static const struct nested_ops NESTED = {.name = "n", .in = {.version = 1, .load = count_nested}};
static const struct elided_ops ELIDED = {"e", 2, count_elided};
static const struct table_ops TABLE[] = {{.load = count_table}, {0}};

void run(struct store *s, const struct designated_ops *ops, const struct positional_ops *p,
         const struct elided_ops *e) {
  store_compute(s, "k", DESIGNATED.load, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:25: warning: callback 'count_designated' passed to 'store_compute' is not idempotent: it may run more than once, and each run increments 'g_loads'
  store_compute(s, "k", ops->load, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:25: warning: callback 'count_designated' passed to 'store_compute' is not idempotent: it may run more than once, and each run increments 'g_loads'
  store_compute(s, "k", p->load, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:25: warning: callback 'count_positional' passed to 'store_compute' is not idempotent: it may run more than once, and each run increments 'g_loads'
  store_compute(s, "k", NESTED.in.load, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:25: warning: callback 'count_nested' passed to 'store_compute' is not idempotent: it may run more than once, and each run increments 'g_loads'
  store_compute(s, "k", e->in.load, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:25: warning: callback 'count_elided' passed to 'store_compute' is not idempotent: it may run more than once, and each run increments 'g_loads'
  store_compute(s, "k", TABLE[0].load, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:25: warning: callback 'count_table' passed to 'store_compute' is not idempotent: it may run more than once, and each run increments 'g_loads'
}

void run_local(struct store *s) {
  struct local_ops ops = {.load = count_local};
  store_compute(s, "k", ops.load, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:25: warning: callback 'count_local' passed to 'store_compute' is not idempotent: it may run more than once, and each run increments 'g_loads'
}

// ---- Quiet: idempotent callbacks stored the same ways --------------------

static const struct pure_designated_ops PURE_DESIGNATED = {.load = pure_designated};
static const struct pure_positional_ops PURE_POSITIONAL = {"p", pure_positional};
static const struct pure_inner_ops PURE_NESTED = {{pure_nested}};

void quiet(struct store *s, const struct pure_positional_ops *p) {
  struct pure_local_ops local = {pure_local};
  store_compute(s, "k", PURE_DESIGNATED.load, 0);
  store_compute(s, "k", p->load, 0);
  store_compute(s, "k", PURE_NESTED.ops.load, 0);
  store_compute(s, "k", local.load, 0);
}
