// RUN: %check_tsmap_tidy %s tsmap-weak-mutable-value %t -- -- -I%S/Inputs
// RUN: %check_tsmap_tidy %s tsmap-weak-mutable-value %t -- -- -I%S/Inputs -D_LGPL_SOURCE
//
// An updater that holds its own lock often reads the published global with a
// plain load (`old = conf_ptr`), not rcu_dereference: the object is as
// published either way, and RCU readers take no lock. A write into it before
// it is unpublished and a grace period has passed is reported as after
// rcu_dereference. A global the file never publishes, a local re-pointed at a
// copy, and writes after synchronize_rcu are not.

#include "fake_urcu.h"
#include "fake_urcu_pointer.h"

struct config { int seq; int refs; struct rcu_head rcu; };
void free_conf(struct rcu_head *h);
struct config *config_copy(const struct config *c);
void update_lock(void);
void update_unlock(void);

static struct config *conf_ptr;   // published below
static struct config *private_ptr; // never published

void bump(void) {
  update_lock();
  struct config *old = conf_ptr;
  old->seq++;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'old->seq' while 'old' is published through 'conf_ptr'; RCU readers may be reading it: change a copy and publish that, or write after a grace period [tsmap-weak-mutable-value]
  // CHECK-MESSAGES: :[[@LINE-3]]:24: note: 'old' is loaded from 'conf_ptr' here
  // CHECK-MESSAGES: :[[@LINE+10]]:3: note: 'conf_ptr' is published with 'rcu_assign_pointer' here
  update_unlock();
}

// The fix: change a copy, publish it, free the old one after a grace period.
void bump_copy(void) {
  update_lock();
  struct config *old = conf_ptr;
  struct config *c = config_copy(old);
  c->seq = old->seq + 1;
  rcu_assign_pointer(conf_ptr, c);
  update_unlock();
  call_rcu(&old->rcu, free_conf);
}

void replace(struct config *c) {
  rcu_assign_pointer(conf_ptr, c);
}

// Re-pointed at a new object before the write.
void bump_repointed(void) {
  struct config *p = conf_ptr;
  p = config_copy(p);
  p->seq++;
  rcu_assign_pointer(conf_ptr, p);
}

// After a grace period: unpublished first, then no reader can hold it.
void retire(void) {
  struct config *old = conf_ptr;
  rcu_assign_pointer(conf_ptr, 0);
  synchronize_rcu();
  old->refs = 0;
}

// A global the file never publishes has no RCU readers.
void bump_private(void) {
  struct config *p = private_ptr;
  p->seq++;
}
