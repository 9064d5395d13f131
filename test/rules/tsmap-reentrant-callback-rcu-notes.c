// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
//
// The notes of the liburcu findings: the loop's function and the way out
// (one quote around each name), and the removal a free comes too early for.

#include "fake_urcu.h"

struct route { unsigned long key; struct cds_lfht_node node; };

int count_routes(struct cds_lfht *ht, int closing) {
  struct cds_lfht_iter iter;
  struct cds_lfht_node *node;
  int n = 0;
  rcu_read_lock();
  if (closing)
    rcu_read_unlock();
  cds_lfht_for_each(ht, &iter, node)
    n++;
  // CHECK-NOTES: :[[@LINE-2]]:3: warning: 'cds_lfht_for_each' iterates 'ht' outside an RCU read-side critical section; nodes it visits may be freed under it [tsmap-reentrant-callback]
  // CHECK-NOTES: :[[@LINE-10]]:5: note: 'count_routes' does not hold 'rcu_read_lock' on every path to the loop, and no caller in this file holds it; take the read lock around the loop, or say in the comment above 'count_routes' that its caller must hold it
  rcu_read_unlock();
  return n;
}

void route_drop(struct cds_lfht *ht, struct cds_lfht_iter *iter) {
  struct cds_lfht_node *node = cds_lfht_iter_get_node(iter);
  if (node && cds_lfht_del(ht, node) == 0) {
    struct route *r = caa_container_of(node, struct route, node);
    free(r);
    // CHECK-NOTES: :[[@LINE-1]]:5: warning: 'free' frees a node removed with 'cds_lfht_del' before a grace period; readers in a read-side critical section may still hold it [tsmap-reentrant-callback]
    // CHECK-NOTES: :[[@LINE-4]]:15: note: removed here; free it with 'call_rcu', or after 'synchronize_rcu'
  }
}
