// RUN: %check_tsmap_tidy %s tsmap-weak-mutable-value %t
// A loop that fills and publishes the elements of an array through a pointer
// it advances (`p++`, `p += 1`): the write at the top of an iteration is to
// the next element, not to the one published before the back edge. A write
// after the publish in the same iteration is still reported.
#include <stdlib.h>
#include <string.h>
#include <tsmap/tsmap.h>

struct cfg { int port; char name[16]; };

int publish_all(tsmap *m, struct cfg *arr, int n) { // quiet
  for (struct cfg *p = arr; p < arr + n; p++) {
    p->port = 80;
    tsmap_put_ptr(m, p->name, strlen(p->name), p, NULL);
  }
  return 0;
}

int publish_every_other(tsmap *m, struct cfg *arr, int n) { // quiet
  for (struct cfg *p = arr; p < arr + n; p += 2) {
    p->port = 81;
    tsmap_put_ptr(m, p->name, strlen(p->name), p, NULL);
  }
  return 0;
}

int publish_then_write(tsmap *m, struct cfg *arr, int n) {
  for (struct cfg *p = arr; p < arr + n; p++) {
    tsmap_put_ptr(m, p->name, strlen(p->name), p, NULL);
    p->port = 82;
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: write to 'p->port' after 'p' was published
  }
  return 0;
}
