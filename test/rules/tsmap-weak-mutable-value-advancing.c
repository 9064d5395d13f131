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

// The same by index: `arr[i]` published, then `i++` moves to another element.
int publish_all_by_index(tsmap *m, struct cfg *arr, int n) { // quiet
  for (int i = 0; i < n; i++) {
    arr[i].port = 80 + i;
    tsmap_put_ptr(m, arr[i].name, strlen(arr[i].name), &arr[i], NULL);
  }
  return 0;
}

int publish_by_index_then_write(tsmap *m, struct cfg *arr, int n) {
  for (int i = 0; i < n; i++) {
    tsmap_put_ptr(m, arr[i].name, strlen(arr[i].name), &arr[i], NULL);
    arr[i].port = 80;
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: write to 'arr[i].port' after 'arr[i]' was published
  }
  return 0;
}

int publish_by_index_write_other(tsmap *m, struct cfg *arr, int n, int j) {
  tsmap_put_ptr(m, arr[j].name, strlen(arr[j].name), &arr[j], NULL);
  j++;
  arr[0].port = 80; // another index expression: still the array the element is in
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'arr[0].port' after 'arr[j]' was published
  return 0;
}
