// RUN: %check_tsmap_tidy %s tsmap-weak-mutable-value %t
// RUN: %check_tsmap_tidy -check-suffixes=ZERO %s tsmap-weak-mutable-value %t -- -config="{CheckOptions: {tsmap-weak-mutable-value.StatusConvention: zero-is-success}}"
// RUN: %check_tsmap_tidy -check-suffixes=NONZERO %s tsmap-weak-mutable-value %t -- -config="{CheckOptions: {tsmap-weak-mutable-value.StatusConvention: nonzero-is-success}}"
// RUN: %check_tsmap_tidy -check-suffixes=BAD %s tsmap-weak-mutable-value %t -- -config="{CheckOptions: {tsmap-weak-mutable-value.StatusConvention: sometimes}}"
// Failure paths of a publish, read the way tsmap-remove-without-cleanup reads
// removals (checker/CallOutcome): a switch on the status (a `case` named like
// a failure, a `default:` when the cases name the success), a `goto fail;`
// whose label only failed publishes (or code before the publish) reach, and
// the two readings of a plain int status.
#include <stdlib.h>
#include <tsmap/annotations.h>

// CHECK-MESSAGES-BAD: warning: invalid value 'sometimes' for option 'tsmap-weak-mutable-value.StatusConvention'; expected 'zero-is-success', 'nonzero-is-success' or 'unknown' [clang-tidy-config]

typedef struct TSMAP_THREAD_SAFE_MAP hooks hooks;
#define HOOK_OK 0
#define HOOK_DUPLICATE 1
#define HOOK_FULL 2
int hook_add(hooks *hs, const char *name, TSMAP_PUBLISHES void *hook);
enum reg_status { REG_OK, REG_REPLACED, REG_EXISTS };
enum reg_status reg_put(hooks *hs, const char *name, TSMAP_PUBLISHES void *hook);
struct hook { const char *name; int prio; };

// ---- switch on the status ------------------------------------------------------

int add_switch(hooks *hs, const char *name) {
  struct hook *h = calloc(1, sizeof *h);
  if (!h)
    return -1;
  switch (hook_add(hs, name, h)) {
  case HOOK_DUPLICATE:
  case HOOK_FULL:
    h->prio = -1; /* quiet: never published */
    free(h);
    return -1;
  case HOOK_OK:
    h->prio = 1;
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: write to 'h->prio' after 'h' was published by 'hook_add'; other threads may be reading it through the map [tsmap-weak-mutable-value]
    // CHECK-MESSAGES-ZERO: :[[@LINE-2]]:5: warning: write to 'h->prio'
    // CHECK-MESSAGES-NONZERO: :[[@LINE-3]]:5: warning: write to 'h->prio'
    // CHECK-MESSAGES-BAD: :[[@LINE-4]]:5: warning: write to 'h->prio'
    return 0;
  }
  return 0;
}

int add_default(hooks *hs, const char *name) {
  struct hook *h = calloc(1, sizeof *h);
  if (!h)
    return -1;
  switch (hook_add(hs, name, h)) {
  case HOOK_OK:
    return 0;
  default:
    h->prio = -1; /* quiet: every status but HOOK_OK is a failure */
    free(h);
    return -1;
  }
}

int add_enum_default(hooks *hs, const char *name) {
  struct hook *h = calloc(1, sizeof *h);
  if (!h)
    return -1;
  switch (reg_put(hs, name, h)) {
  case REG_OK:
  case REG_REPLACED:
    return 0;
  default:
    h->prio = -1; /* quiet: both successes are named */
    free(h);
    return -1;
  }
}

int add_enum_default_replaced(hooks *hs, const char *name) {
  struct hook *h = calloc(1, sizeof *h);
  if (!h)
    return -1;
  switch (reg_put(hs, name, h)) {
  case REG_OK:
    return 0;
  default:
    h->prio = -1; /* REG_REPLACED published it too */
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: write to 'h->prio' after 'h' was published by 'reg_put'; other threads may be reading it through the map [tsmap-weak-mutable-value]
    // CHECK-MESSAGES-ZERO: :[[@LINE-2]]:5: warning: write to 'h->prio'
    // CHECK-MESSAGES-NONZERO: :[[@LINE-3]]:5: warning: write to 'h->prio'
    // CHECK-MESSAGES-BAD: :[[@LINE-4]]:5: warning: write to 'h->prio'
    return -1;
  }
}

// ---- goto fail -------------------------------------------------------------------

int add_goto(hooks *hs, const char *name) {
  struct hook *h = calloc(1, sizeof *h);
  if (!h)
    goto fail;
  h->name = name;
  if (hook_add(hs, name, h) != HOOK_OK)
    goto fail;
  return 0;
fail:
  if (h)
    h->prio = -1; /* quiet: only before the publish or after it failed */
  free(h);
  return -1;
}

int add_goto_late(hooks *hs, const char *name) {
  struct hook *h = calloc(1, sizeof *h);
  if (!h)
    goto fail;
  if (hook_add(hs, name, h) != HOOK_OK)
    goto fail;
  if (!name[0])
    goto fail; /* after a successful publish */
  return 0;
fail:
  if (h)
    h->prio = -1;
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: write to 'h->prio' after 'h' was published by 'hook_add'; other threads may be reading it through the map [tsmap-weak-mutable-value]
  // CHECK-MESSAGES-ZERO: :[[@LINE-2]]:5: warning: write to 'h->prio'
  // CHECK-MESSAGES-NONZERO: :[[@LINE-3]]:5: warning: write to 'h->prio'
  // CHECK-MESSAGES-BAD: :[[@LINE-4]]:5: warning: write to 'h->prio'
  return -1;
}

// ---- A plain int status: two readings ------------------------------------------------

int add_ne_zero(hooks *hs, const char *name) {
  struct hook *h = calloc(1, sizeof *h);
  if (!h)
    return -1;
  if (hook_add(hs, name, h) != 0)
    return -1;
  h->prio = 1; /* after success only if 0 means success */
  // CHECK-MESSAGES-ZERO: :[[@LINE-1]]:3: warning: write to 'h->prio'
  return 0;
}

int add_rc(hooks *hs, const char *name) {
  struct hook *h = calloc(1, sizeof *h);
  if (!h)
    return -1;
  int rc = hook_add(hs, name, h);
  if (rc) {
    h->prio = -1; /* after success only if non-zero means success */
    // CHECK-MESSAGES-NONZERO: :[[@LINE-1]]:5: warning: write to 'h->prio'
    free(h);
    return rc;
  }
  return 0;
}

int add_ne_ok(hooks *hs, const char *name) {
  struct hook *h = calloc(1, sizeof *h);
  if (!h)
    return -1;
  if (hook_add(hs, name, h) != HOOK_OK) /* named: readable */
    return -1;
  h->prio = 1;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'h->prio' after 'h' was published by 'hook_add'; other threads may be reading it through the map [tsmap-weak-mutable-value]
  // CHECK-MESSAGES-ZERO: :[[@LINE-2]]:3: warning: write to 'h->prio'
  // CHECK-MESSAGES-NONZERO: :[[@LINE-3]]:3: warning: write to 'h->prio'
  // CHECK-MESSAGES-BAD: :[[@LINE-4]]:3: warning: write to 'h->prio'
  return 0;
}

int add_either_way(hooks *hs, const char *name) {
  struct hook *h = calloc(1, sizeof *h);
  if (!h)
    return -1;
  int rc = hook_add(hs, name, h);
  h->prio = rc; /* before any test: after the publish whatever it returned */
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'h->prio' after 'h' was published by 'hook_add'; other threads may be reading it through the map [tsmap-weak-mutable-value]
  // CHECK-MESSAGES-ZERO: :[[@LINE-2]]:3: warning: write to 'h->prio'
  // CHECK-MESSAGES-NONZERO: :[[@LINE-3]]:3: warning: write to 'h->prio'
  // CHECK-MESSAGES-BAD: :[[@LINE-4]]:3: warning: write to 'h->prio'
  return rc;
}
