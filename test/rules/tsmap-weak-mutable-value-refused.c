// RUN: %check_tsmap_tidy %s tsmap-weak-mutable-value %t
// A publish the map refused published nothing: a write on a path where the
// status says so is not a write after publication. tsmap_put_ptr stores with
// TSMAP_OK and TSMAP_REPLACED, tsmap_put_ptr_if_absent only with TSMAP_OK
// (tsmap.h); a path is a refusal once the tests on it rule out each status
// that stores, whether in one condition or in several along the path (an
// `else if` chain, nested `if`s, early returns, a `switch` and an `if` in its
// `default:`). Still reported: a write where the stored path reaches, a test
// that leaves a storing status, and a test of a status local given another
// call's status first, or of another call's status. The same reading decides
// whether a published local is released on every path that stored it.
#include <stdbool.h>
#include <stdlib.h>
#include <tsmap/tsmap.h>

struct obj { int magic; int refs; int x; };

static void obj_free(struct obj *o) {
  o->magic = 0;
  free(o);
}

// ---- refusals: quiet -------------------------------------------------------------

// test/runtime/test_ownership.c's visitor: REPLACED handled first, then "not
// OK" in the `else`: neither storing status is left.
void replaced_else_not_ok(tsmap *m, struct obj *o) {
  void *old = NULL;
  tsmap_status st = tsmap_put_ptr(m, "k", 1, o, &old);
  if (st == TSMAP_REPLACED)
    obj_free(old);
  else if (st != TSMAP_OK) {
    o->refs = 0; // quiet: refused
    obj_free(o);
  }
}

void nested_not_ok_not_replaced(tsmap *m, struct obj *o) {
  tsmap_status st = tsmap_put_ptr(m, "k", 1, o, NULL);
  if (st != TSMAP_OK) {
    if (st != TSMAP_REPLACED) {
      o->refs = 0; // quiet
      obj_free(o);
    }
  }
}

int early_returns(tsmap *m, struct obj *o) {
  tsmap_status st = tsmap_put_ptr(m, "k", 1, o, NULL);
  if (st == TSMAP_OK)
    return 0;
  if (st == TSMAP_REPLACED)
    return 0;
  o->refs = 0; // quiet: both storing statuses returned above
  obj_free(o);
  return st;
}

int else_chain(tsmap *m, struct obj *o) {
  tsmap_status st = tsmap_put_ptr(m, "k", 1, o, NULL);
  if (st == TSMAP_OK) {
    return 0;
  } else if (st == TSMAP_REPLACED) {
    return 1;
  } else {
    o->refs = 0; // quiet
    obj_free(o);
  }
  return -1;
}

int else_branch(tsmap *m, struct obj *o) {
  if (tsmap_put_ptr_if_absent(m, "k", 1, o, NULL) == TSMAP_OK) {
    return 0;
  } else {
    o->refs = 0; // quiet: TSMAP_OK is its only storing status
    obj_free(o);
  }
  return -1;
}

int refusal_statuses(tsmap *m, struct obj *o) {
  tsmap_status st = tsmap_put_ptr(m, "k", 1, o, NULL);
  if (st == TSMAP_TOO_HEAVY || st == TSMAP_CLOSED || st == TSMAP_NO_MEMORY ||
      st == TSMAP_INVALID_ARGUMENT) {
    o->refs = 0; // quiet: statuses that store nothing
    obj_free(o);
    return -1;
  }
  return 0;
}

int if_absent_exists(tsmap *m, struct obj *o) {
  tsmap_status st = tsmap_put_ptr_if_absent_ttl(m, "k", 1, o, 1000, NULL);
  if (st == TSMAP_EXISTS) {
    o->refs = 0; // quiet
    obj_free(o);
    return 1;
  }
  return 0;
}

// The example of the issue, with the call whose only storing status is OK.
int if_absent_not_ok(tsmap *m, struct obj *o) {
  tsmap_status st = tsmap_put_ptr_if_absent(m, "k", 1, o, NULL);
  if (st != TSMAP_OK) {
    o->refs = 0; // quiet: never published
    obj_free(o);
    return st;
  }
  o->x = 1;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'o->x' after 'o' was published by 'tsmap_put_ptr_if_absent'; other threads may be reading it through the map [tsmap-weak-mutable-value]
  return 0;
}

int switch_cases(tsmap *m, struct obj *o) {
  tsmap_status st = tsmap_put_ptr(m, "k", 1, o, NULL);
  switch (st) {
  case TSMAP_OK:
  case TSMAP_REPLACED:
    return 0;
  case TSMAP_CLOSED:
    o->refs = 0; // quiet
    obj_free(o);
    return -1;
  default:
    o->refs = -1; // quiet: both storing statuses are named
    obj_free(o);
    return -1;
  }
}

// `default:` after the OK case rules OK out; the `if` in it, REPLACED.
int switch_then_if(tsmap *m, struct obj *o) {
  tsmap_status st = tsmap_put_ptr(m, "k", 1, o, NULL);
  switch (st) {
  case TSMAP_OK:
    return 0;
  default:
    if (st == TSMAP_REPLACED)
      return 0;
    o->refs = 0; // quiet
    obj_free(o);
    return -1;
  }
}

int helper_bool(tsmap *m, struct obj *o) {
  tsmap_status st = tsmap_put_ptr(m, "k", 1, o, NULL);
  bool ok = st == TSMAP_OK;
  if (!ok) {
    if (st == TSMAP_REPLACED)
      return 0;
    o->refs = 0; // quiet
    obj_free(o);
    return -1;
  }
  return 0;
}

// Each turn publishes a new object: a refused one is freed.
void loop_refused(tsmap *m, int n) {
  for (int i = 0; i < n; i++) {
    struct obj *o = calloc(1, sizeof *o);
    if (!o)
      return;
    tsmap_status st = tsmap_put_ptr(m, "k", 1, o, NULL);
    if (st == TSMAP_REPLACED)
      continue;
    if (st != TSMAP_OK) {
      o->refs = 0; // quiet
      obj_free(o);
    }
  }
}

// ---- still reported ---------------------------------------------------------------

// Refused branch and stored path merge: the write after them is on both.
int merged_back(tsmap *m, struct obj *o) {
  tsmap_status st = tsmap_put_ptr_if_absent(m, "k", 1, o, NULL);
  if (st == TSMAP_EXISTS)
    o->refs = 0; // quiet
  o->x = 1;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'o->x' after 'o' was published by 'tsmap_put_ptr_if_absent'
  return st;
}

int stored_then_write(tsmap *m, struct obj *o) {
  tsmap_status st = tsmap_put_ptr(m, "k", 1, o, NULL);
  if (st != TSMAP_OK && st != TSMAP_REPLACED) {
    obj_free(o);
    return -1;
  }
  o->x = 1;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'o->x' after 'o' was published by 'tsmap_put_ptr'
  return 0;
}

void untested(tsmap *m, struct obj *o) {
  (void)tsmap_put_ptr(m, "k", 1, o, NULL);
  o->x = 1;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'o->x' after 'o' was published by 'tsmap_put_ptr'
}

// "Not OK" leaves REPLACED, which stored it.
int put_ptr_not_ok(tsmap *m, struct obj *o) {
  tsmap_status st = tsmap_put_ptr(m, "k", 1, o, NULL);
  if (st != TSMAP_OK) {
    o->refs = 0;
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: write to 'o->refs' after 'o' was published by 'tsmap_put_ptr'
    return st;
  }
  return 0;
}

// The REPLACED side goes on to the "not OK" test too: it stored the value.
void replaced_then_not_ok(tsmap *m, struct obj *o) {
  void *old = NULL;
  tsmap_status st = tsmap_put_ptr(m, "k", 1, o, &old);
  if (st == TSMAP_REPLACED)
    obj_free(old);
  if (st != TSMAP_OK)
    o->refs = 0;
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: write to 'o->refs' after 'o' was published by 'tsmap_put_ptr'
}

// The `else` of REPLACED rules it out; EXISTS is not OK.
void replaced_else_not_exists(tsmap *m, struct obj *o) {
  tsmap_status st = tsmap_put_ptr(m, "k", 1, o, NULL);
  if (st == TSMAP_REPLACED)
    return;
  else if (st != TSMAP_EXISTS)
    o->refs = 0;
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: write to 'o->refs' after 'o' was published by 'tsmap_put_ptr'
}

// The local holds another call's status by the time it is tested.
void status_reassigned(tsmap *m, struct obj *o, long n) {
  tsmap_status st = tsmap_put_ptr(m, "k", 1, o, NULL);
  st = tsmap_put(m, "n", 1, &n, NULL);
  if (st != TSMAP_OK && st != TSMAP_REPLACED)
    o->refs = 0;
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: write to 'o->refs' after 'o' was published by 'tsmap_put_ptr'
}

void test_reassigned(tsmap *m, struct obj *o, long n) {
  tsmap_status st = tsmap_put_ptr_if_absent(m, "k", 1, o, NULL);
  st = tsmap_put(m, "n", 1, &n, NULL);
  bool stored = st == TSMAP_OK;
  if (!stored)
    o->refs = 0;
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: write to 'o->refs' after 'o' was published by 'tsmap_put_ptr_if_absent'
}

// Reassigned on one path only: the other still reads the publish.
void reassigned_on_one_path(tsmap *m, struct obj *o, long n, int again) {
  tsmap_status st = tsmap_put_ptr_if_absent(m, "k", 1, o, NULL);
  if (again)
    st = tsmap_put(m, "n", 1, &n, NULL);
  if (st == TSMAP_EXISTS)
    o->refs = 0;
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: write to 'o->refs' after 'o' was published by 'tsmap_put_ptr_if_absent'
}

void reassigned_after_test(tsmap *m, struct obj *o, long n) {
  tsmap_status st = tsmap_put_ptr_if_absent(m, "k", 1, o, NULL);
  if (st == TSMAP_EXISTS) {
    st = tsmap_put(m, "n", 1, &n, NULL);
    o->refs = 0; // quiet: tested before the local was given another status
  }
}

void other_call_tested(tsmap *m, struct obj *o, long n) {
  tsmap_status st = tsmap_put_ptr_if_absent(m, "k", 1, o, NULL);
  tsmap_status put = tsmap_put(m, "n", 1, &n, NULL);
  if (put == TSMAP_NO_MEMORY)
    o->refs = 0;
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: write to 'o->refs' after 'o' was published by 'tsmap_put_ptr_if_absent'
}

// ---- a local published for the call: released on each storing path ----------------

void scoped_local(tsmap *m) {
  struct obj local = {0};
  tsmap_status st = tsmap_put_ptr(m, "t", 1, &local, NULL);
  if (st == TSMAP_OK) {
    tsmap_remove(m, "t", 1, NULL);
    return;
  }
  if (st == TSMAP_REPLACED) {
    tsmap_remove(m, "t", 1, NULL);
    return;
  }
  // quiet: refused, the map holds nothing
}

void scoped_local_replaced_kept(tsmap *m) {
  struct obj local = {0};
  tsmap_status st = tsmap_put_ptr(m, "t", 1, &local, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:46: warning: 'tsmap_put_ptr' publishes the address of local variable 'local', which has automatic storage; the map keeps the pointer after 'scoped_local_replaced_kept' returns [tsmap-weak-mutable-value]
  if (st == TSMAP_OK) {
    tsmap_remove(m, "t", 1, NULL);
    return;
  }
  if (st == TSMAP_EXISTS)
    return;
}

// ---- the status kept in a copy or read through a flag ------------------------------

int flag_refused(tsmap *m, struct obj *o) {
  bool stored = false;
  if (tsmap_put_ptr_if_absent(m, "k", 1, o, NULL) == TSMAP_OK)
    stored = true;
  if (!stored) {
    o->refs = 0; // quiet: never published
    obj_free(o);
    return -1;
  }
  return 0;
}

int flag_stored(tsmap *m, struct obj *o) {
  bool stored = false;
  if (tsmap_put_ptr_if_absent(m, "k", 1, o, NULL) == TSMAP_OK)
    stored = true;
  if (stored)
    o->x = 1;
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: write to 'o->x' after 'o' was published by 'tsmap_put_ptr_if_absent'; other threads may be reading it through the map [tsmap-weak-mutable-value]
  return 0;
}

int copy_before_reassigned(tsmap *m, struct obj *o) {
  tsmap_status st = tsmap_put_ptr_if_absent(m, "k", 1, o, NULL);
  int rc = st;
  st = tsmap_remove(m, "j", 1, NULL);
  if (rc != TSMAP_OK) {
    o->refs = 0; // quiet: rc is still the publish's status
    obj_free(o);
  }
  return st;
}

int error_code_refused(tsmap *m, struct obj *o) {
  int err = 0;
  switch (tsmap_put_ptr_if_absent(m, "k", 1, o, NULL)) {
  case TSMAP_OK:
    break;
  default:
    err = 1;
    break;
  }
  if (err) {
    o->refs = 0; // quiet: err is still 0 where the publish stored
    obj_free(o);
    return -1;
  }
  return 0;
}
