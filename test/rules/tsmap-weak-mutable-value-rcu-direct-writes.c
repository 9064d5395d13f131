// RUN: %check_tsmap_tidy %s tsmap-weak-mutable-value %t -- -- -I%S/Inputs
// RUN: %check_tsmap_tidy %s tsmap-weak-mutable-value %t -- -- -I%S/Inputs -D_LGPL_SOURCE
//
// A write straight through the load, with no local in between
// (`rcu_dereference (gconf)->n = 1`, `...->hits++`), writes the published
// object as one through a local given the load does (bench/realworld R58). A
// read through it, a volatile store, and a pointer the file never publishes
// are not reported.

#include "fake_urcu.h"
#include "fake_urcu_pointer.h"

struct conf { int n; int hits; int slots[4]; };
static struct conf *gconf;
static struct conf *private_conf;

void publish(struct conf *c) { rcu_assign_pointer(gconf, c); }

void store_direct(void) {
  rcu_read_lock();
  rcu_dereference(gconf)->n = 1;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'rcu_dereference(gconf)->n' while it is published through 'gconf'; RCU readers may be reading it: change a copy and publish that, or write after a grace period [tsmap-weak-mutable-value]
  // CHECK-MESSAGES: :[[@LINE-6]]:32: note: 'gconf' is published with 'rcu_assign_pointer' here
  rcu_dereference(gconf)->hits++;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'rcu_dereference(gconf)->hits' while it is published through 'gconf'
  rcu_dereference(gconf)->slots[2] += 3;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'rcu_dereference(gconf)->slots[2]' while it is published through 'gconf'
  rcu_read_unlock();
}

int quiet(void) {
  rcu_read_lock();
  int n = rcu_dereference(gconf)->n;
  *(volatile int *)&rcu_dereference(gconf)->hits = 0;
  rcu_dereference(private_conf)->n = n;
  rcu_read_unlock();
  return n;
}
