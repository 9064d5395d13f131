// RUN: %check_tsmap_tidy %s tsmap-weak-mutable-value %t
// A publish's outcome kept as a test in a local (`bool inserted =
// tsmap_put_ptr_if_absent (...) == TSMAP_OK;`) and branched on later reads as
// the test itself: the side where it failed published nothing, so a write
// there is not a write after publication. Still reported: the local assigned
// again, and a write on the side where the publish succeeded.
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <tsmap/tsmap.h>

struct cfg { int port; };

int add(tsmap *m, const char *k) { // quiet
  struct cfg *c = calloc(1, sizeof *c);
  if (!c)
    return -1;
  bool inserted = tsmap_put_ptr_if_absent(m, k, strlen(k), c, NULL) == TSMAP_OK;
  if (!inserted) {
    c->port = -1;
    free(c);
    return 1;
  }
  return 0;
}

int add_then_write(tsmap *m, const char *k) {
  struct cfg *c = calloc(1, sizeof *c);
  if (!c)
    return -1;
  bool inserted = tsmap_put_ptr_if_absent(m, k, strlen(k), c, NULL) == TSMAP_OK;
  if (inserted)
    c->port = 80;
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: write to 'c->port' after 'c' was published
  return 0;
}

int add_reassigned(tsmap *m, const char *k, bool quiet) {
  struct cfg *c = calloc(1, sizeof *c);
  if (!c)
    return -1;
  bool inserted = tsmap_put_ptr_if_absent(m, k, strlen(k), c, NULL) == TSMAP_OK;
  if (quiet)
    inserted = false;
  if (!inserted)
    c->port = -1;
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: write to 'c->port' after 'c' was published
  return 0;
}
