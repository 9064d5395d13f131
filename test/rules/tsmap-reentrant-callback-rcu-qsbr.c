// RUN: %check_tsmap_tidy -check-suffixes=ALL %s tsmap-reentrant-callback %t -- -- -I%S/Inputs -DFAKE_URCU_QSBR -D_LGPL_SOURCE
// RUN: %check_tsmap_tidy -check-suffixes=ALL %s tsmap-reentrant-callback %t -- -- -I%S/Inputs -DFAKE_URCU_QSBR
// RUN: %check_tsmap_tidy -check-suffixes=ALL,MEMB %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
//
// The QSBR flavor (urcu-qsbr.h): an online registered thread is always in a
// read-side section, so loops are not checked, whether the calls go to the
// library (urcu_qsbr_*) or, under _LGPL_SOURCE, to the static inline
// _urcu_qsbr_* functions. The same file with the default flavor (urcu.h) is
// checked. A removed node freed before a grace period is reported in every
// flavor: online readers may still hold it.

#include "fake_urcu.h"

struct route { unsigned long key; struct cds_lfht_node node; };

int count(struct cds_lfht *ht) {
  struct cds_lfht_iter iter;
  struct route *r;
  int n = 0;
  cds_lfht_for_each_entry(ht, &iter, r, node)
  // CHECK-MESSAGES-MEMB: :[[@LINE-1]]:3: warning: 'cds_lfht_for_each_entry' iterates 'ht' outside an RCU read-side critical section
    n++;
  return n;
}
void drop(struct cds_lfht *ht, struct route *r) {
  cds_lfht_del(ht, &r->node);
  free(r);
  // CHECK-MESSAGES-ALL: :[[@LINE-1]]:3: warning: 'free' frees a node removed with 'cds_lfht_del' before a grace period
}
void drop_synchronized(struct cds_lfht *ht, struct route *r) {
  cds_lfht_del(ht, &r->node);
  synchronize_rcu();
  free(r);
}
#ifdef FAKE_URCU_QSBR
void *worker(void *arg) {
  rcu_register_thread();
  for (;;) {
    count(arg);
    rcu_quiescent_state();
  }
  return 0;
}
#endif
