// RUN: %check_tsmap_tidy %s tsmap-weak-mutable-value %t -- -- -I%S/Inputs
//
// RCU readers take no lock: a callee that writes an RCU-loaded object under
// the updater's own lock still writes under readers, and is reported (unlike
// a callee's locked write after a map publish, whose readers take the lock).
// A callee's atomic write is not reported.

#include "fake_urcu.h"
#include "fake_urcu_pointer.h"

struct conf { int n; int hits; };
void update_lock(void);
void update_unlock(void);
static struct conf *gconf;

void publish(struct conf *c) { rcu_assign_pointer(gconf, c); }

static void set_n(struct conf *c, int v) {
  update_lock();
  c->n = v;
  update_unlock();
}
static void count_hit(struct conf *c) { __atomic_fetch_add(&c->hits, 1, __ATOMIC_RELAXED); }

void update(int v) {
  struct conf *c = rcu_dereference(gconf);
  set_n(c, v);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'set_n' writes through 'c' while it is published through 'gconf'; RCU readers may be reading it: change a copy and publish that, or write after a grace period [tsmap-weak-mutable-value]
  count_hit(c);
}
