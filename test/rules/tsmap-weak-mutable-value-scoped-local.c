// RUN: %check_tsmap_tidy %s tsmap-weak-mutable-value %t
// A local published for the length of a call and removed before it returns:
// a path on which the publish reported failure held nothing in the map, so an
// early return there is not a dangling pointer (an independent tester's false
// positive, round 3). The twins: a failure test that lets TSMAP_REPLACED
// through, and a success path that never removes.
#include <string.h>
#include <tsmap/tsmap.h>

struct pending_req { const char *path; int waiters; };
void wait_for_completion(const char *path);

int scoped_if_absent(tsmap *inflight, const char *path) {
  struct pending_req req = {path, 0};
  if (tsmap_put_ptr_if_absent(inflight, path, strlen(path), &req, NULL) != TSMAP_OK)
    return -1; // quiet: not published
  wait_for_completion(path);
  tsmap_remove(inflight, path, strlen(path), NULL);
  return 0;
}

int scoped_put(tsmap *inflight, const char *path) {
  struct pending_req req = {path, 0};
  tsmap_status st = tsmap_put_ptr(inflight, path, strlen(path), &req, NULL);
  if (st != TSMAP_OK && st != TSMAP_REPLACED)
    return -1; // quiet: not published
  wait_for_completion(path);
  tsmap_remove(inflight, path, strlen(path), NULL);
  return 0;
}

int scoped_put_replaced_leaks(tsmap *inflight, const char *path) {
  struct pending_req req = {path, 0};
  if (tsmap_put_ptr(inflight, path, strlen(path), &req, NULL) != TSMAP_OK)
    // CHECK-MESSAGES: :[[@LINE-1]]:51: warning: 'tsmap_put_ptr' publishes the address of local variable 'req', which has automatic storage; the map keeps the pointer after 'scoped_put_replaced_leaks' returns [tsmap-weak-mutable-value]
    return -1; // TSMAP_REPLACED published it, and nothing removes it
  wait_for_completion(path);
  tsmap_remove(inflight, path, strlen(path), NULL);
  return 0;
}

int scoped_forgets(tsmap *inflight, const char *path) {
  struct pending_req req = {path, 0};
  if (tsmap_put_ptr_if_absent(inflight, path, strlen(path), &req, NULL) != TSMAP_OK)
    // CHECK-MESSAGES: :[[@LINE-1]]:61: warning: 'tsmap_put_ptr_if_absent' publishes the address of local variable 'req', which has automatic storage; the map keeps the pointer after 'scoped_forgets' returns [tsmap-weak-mutable-value]
    return -1;
  wait_for_completion(path);
  return 0;
}
