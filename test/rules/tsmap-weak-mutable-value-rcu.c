// RUN: %check_tsmap_tidy %s tsmap-weak-mutable-value %t -- -- -I%S/Inputs
// RUN: %check_tsmap_tidy %s tsmap-weak-mutable-value %t -- -- -I%S/Inputs -D_LGPL_SOURCE
//
// An object published with rcu_assign_pointer is read by RCU readers with no
// lock until it is unpublished and a grace period has passed: a function that
// loads it with rcu_dereference and writes into it, itself or through a
// helper, changes memory readers may be reading (bench/realworld R24,
// multipathd's reconfigure). Both of liburcu's spellings: the rcu_*_sym
// calls, and the inline forms under _LGPL_SOURCE.

#include "fake_urcu.h"
#include "fake_urcu_pointer.h"
#include "fake_urcu_ref.h"

struct vec { int allocated; char **slot; };
struct config { struct vec attrs; int seq; volatile int hits; int lock; struct rcu_head rcu; };
void lock_config(int *l);
void unlock_config(int *l);
void free_conf(struct rcu_head *h);

static struct config *conf_ptr;   // published below
static struct config *private_ptr; // never published: no RCU readers

int reader(int i) {
  rcu_read_lock();
  struct config *c = rcu_dereference(conf_ptr);
  int n = i < c->attrs.allocated ? c->seq : -1;
  rcu_read_unlock();
  return n;
}

static void keep_attrs(struct config *old, struct config *conf) {
  conf->attrs = old->attrs;
  old->attrs.allocated = 0;
  old->attrs.slot = 0;
}

void reconfigure(struct config *conf) {
  struct config *old = rcu_dereference(conf_ptr);
  conf->attrs = old->attrs;
  old->attrs.allocated = 0;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'old->attrs.allocated' while 'old' is published through 'conf_ptr'; RCU readers may be reading it: change a copy and publish that, or write after a grace period [tsmap-weak-mutable-value]
  // CHECK-MESSAGES: :[[@LINE-4]]:24: note: 'old' is loaded from 'conf_ptr' here
  // CHECK-MESSAGES: :[[@LINE+2]]:3: note: 'conf_ptr' is published with 'rcu_assign_pointer' here
  conf->seq = old->seq + 1;
  rcu_assign_pointer(conf_ptr, conf);
  call_rcu(&old->rcu, free_conf);
}

// Through a helper of the file, and through a local alias.
void reconfigure_helper(struct config *conf) {
  struct config *old;
  old = rcu_dereference(conf_ptr);
  keep_attrs(old, conf);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'keep_attrs' writes through 'old' while it is published through 'conf_ptr'
  struct config *same = old;
  same->seq++;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'same->seq' while 'same' is published through 'conf_ptr'
  rcu_assign_pointer(conf_ptr, conf);
  call_rcu(&old->rcu, free_conf);
}

// Quiet: after it is unpublished and a grace period has passed, the old
// object is the updater's alone.
void reconfigure_after_grace(struct config *conf) {
  struct config *old = rcu_dereference(conf_ptr);
  conf->attrs = old->attrs;
  rcu_assign_pointer(conf_ptr, conf);
  synchronize_rcu();
  old->attrs.allocated = 0;
  free(old);
}

// Quiet: a new object, written before it is published.
void publish_new(void) {
  struct config *c = rcu_dereference(conf_ptr);
  if (!c) {
    c = malloc(sizeof *c);
    c->seq = 1;
    rcu_assign_pointer(conf_ptr, c);
  }
}

// Quiet: a volatile store (CMM_STORE_SHARED), and a write under the object's
// own lock, which its readers take too.
void count_hit(void) {
  struct config *c = rcu_dereference(conf_ptr);
  c->hits = c->hits + 1;
  lock_config(&c->lock);
  c->seq++;
  unlock_config(&c->lock);
}

// Reported: the updater's own lock keeps no RCU reader out.
static int update_lock;
void bump(void) {
  lock_config(&update_lock);
  struct config *c = rcu_dereference(conf_ptr);
  c->seq++;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'c->seq' while 'c' is published through 'conf_ptr'
  unlock_config(&update_lock);
}

// Quiet: a pointer this file never publishes has no RCU readers here.
void touch_private(void) {
  struct config *p = rcu_dereference(private_ptr);
  p->seq = 0;
}

// The object a publish swaps out: readers may hold it until a grace period.
static struct config *swap_ptr;
void swap_in(struct config *conf) {
  struct config *old = rcu_xchg_pointer(&swap_ptr, conf);
  old->seq = 0;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'old->seq' before a grace period has passed since 'old' was swapped out; RCU readers may still be reading it: write after synchronize_rcu, or in its call_rcu callback [tsmap-weak-mutable-value]
  // CHECK-MESSAGES: :[[@LINE-3]]:24: note: 'old' is swapped out with 'rcu_xchg_pointer' here
  synchronize_rcu();
  old->attrs.allocated = 0; // quiet: after the grace period
  free(old);
}

// Quiet: a callee that waits for a grace period on every path before it
// writes (as reclaim helpers do).
static void reclaim(struct config *old) {
  synchronize_rcu();
  old->attrs.slot = 0;
  free(old);
}
void swap_and_reclaim(struct config *conf) {
  struct config *old = rcu_xchg_pointer(&swap_ptr, conf);
  reclaim(old);
}
void reconfigure_and_reclaim(struct config *conf) {
  struct config *old = rcu_dereference(conf_ptr);
  rcu_assign_pointer(conf_ptr, conf);
  reclaim(old);
}

// Reported: a callee that writes before it waits.
static void clear_then_wait(struct config *old) {
  old->attrs.slot = 0;
  synchronize_rcu();
}
void swap_and_clear(struct config *conf) {
  struct config *old = rcu_xchg_pointer(&swap_ptr, conf);
  clear_then_wait(old);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'clear_then_wait' writes through 'old' before a grace period has passed since it was swapped out
}

// Quiet: a library's inline primitive on the object (an atomic reference
// count), even one that writes through its parameter.
struct counted { struct urcu_ref ref; int seq; };
static struct counted *counted_ptr;
void publish_counted(struct counted *c) { rcu_assign_pointer(counted_ptr, c); }
void hold_counted(void) {
  rcu_read_lock();
  struct counted *c = rcu_dereference(counted_ptr);
  urcu_ref_get(&c->ref);
  urcu_ref_reset(&c->ref);
  rcu_read_unlock();
}
