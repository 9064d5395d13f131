// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
//
// A node removed with cds_lfht_del and then freed at once by a function of the
// TU (the object's destroy helper, or the call_rcu callback called directly)
// is freed before a grace period, as a `free` written after the removal is
// (bench/realworld R36, a mutation of lttng-tools' remove_channel). Quiet: a
// helper that frees only on some paths (a reference count), defers with
// call_rcu itself, frees only a field, or is given another object.

#include <stddef.h>
#include "fake_urcu.h"

struct chan { struct cds_lfht_node node; char *name; int refs; struct rcu_head rcu_node; };
extern struct cds_lfht *channels_ht;

static void chan_free_rcu(struct rcu_head *head) {
  free(caa_container_of(head, struct chan, rcu_node));
}
static void chan_destroy(struct chan *c) {
  if (!c)
    return;
  free(c->name);
  free(c);
}
static void chan_destroy_twice_removed(struct chan *c) {
  chan_destroy(c);
}

void remove_destroy(struct chan *c) {
  rcu_read_lock();
  cds_lfht_del(channels_ht, &c->node);
  chan_destroy(c);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: call to 'chan_destroy' frees a node removed with 'cds_lfht_del' before a grace period; readers in a read-side critical section may still hold it [tsmap-reentrant-callback]
  // CHECK-MESSAGES: :[[@LINE-3]]:3: note: removed here; free it with 'call_rcu', or after 'synchronize_rcu'
  // CHECK-MESSAGES: :[[@LINE-12]]:3: note: 'chan_destroy' frees it here, on every path
  rcu_read_unlock();
}

void remove_callback_called(struct chan *c) {
  rcu_read_lock();
  cds_lfht_del(channels_ht, &c->node);
  chan_free_rcu(&c->rcu_node);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: call to 'chan_free_rcu' frees a node removed with 'cds_lfht_del' before a grace period
  // CHECK-MESSAGES: :[[@LINE-3]]:3: note: removed here
  // CHECK-MESSAGES: :[[@LINE-28]]:3: note: 'chan_free_rcu' frees it here, on every path
  rcu_read_unlock();
}

void remove_two_down(struct chan *c) {
  rcu_read_lock();
  cds_lfht_del(channels_ht, &c->node);
  rcu_read_unlock();
  chan_destroy_twice_removed(c);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: call to 'chan_destroy_twice_removed' frees a node removed with 'cds_lfht_del' before a grace period
  // CHECK-MESSAGES: :[[@LINE-4]]:3: note: removed here
  // CHECK-MESSAGES: :[[@LINE-30]]:3: note: 'chan_destroy_twice_removed' frees it here, on every path
}

void remove_node_var(struct cds_lfht_node *n) {
  rcu_read_lock();
  cds_lfht_del(channels_ht, n);
  rcu_read_unlock();
  chan_destroy(caa_container_of(n, struct chan, node));
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: call to 'chan_destroy' frees a node removed with 'cds_lfht_del' before a grace period
  // CHECK-MESSAGES: :[[@LINE-4]]:3: note: removed here
  // CHECK-MESSAGES: :[[@LINE-43]]:3: note: 'chan_destroy' frees it here, on every path
}

// Quiet: deferred, or after a grace period.
static void chan_destroy_deferred(struct chan *c) {
  free(c->name);
  call_rcu(&c->rcu_node, chan_free_rcu);
}
void remove_deferred(struct chan *c) {
  rcu_read_lock();
  cds_lfht_del(channels_ht, &c->node);
  chan_destroy_deferred(c);
  rcu_read_unlock();
}
void remove_synchronized(struct chan *c) {
  rcu_read_lock();
  cds_lfht_del(channels_ht, &c->node);
  rcu_read_unlock();
  synchronize_rcu();
  chan_destroy(c);
}
void remove_call_rcu(struct chan *c) {
  rcu_read_lock();
  cds_lfht_del(channels_ht, &c->node);
  call_rcu(&c->rcu_node, chan_free_rcu);
  rcu_read_unlock();
}

// Quiet: the helper frees only when the last reference goes, or only a field.
static void chan_put(struct chan *c) {
  if (--c->refs == 0)
    free(c);
}
static void chan_clear_name(struct chan *c) {
  free(c->name);
  c->name = NULL;
}
void remove_put(struct chan *c) {
  rcu_read_lock();
  cds_lfht_del(channels_ht, &c->node);
  chan_put(c);
  chan_clear_name(c);
  rcu_read_unlock();
}

// Quiet: the helper frees another object, or its parameter is given another
// value first.
static void chan_destroy_other(struct chan *c, struct chan *spare) {
  (void)c;
  free(spare);
}
static void chan_destroy_reassigned(struct chan *c) {
  c = c->refs ? NULL : c;
  free(c);
}
void remove_other(struct chan *c, struct chan *spare) {
  rcu_read_lock();
  cds_lfht_del(channels_ht, &c->node);
  rcu_read_unlock();
  chan_destroy_other(c, spare);
  chan_destroy_reassigned(c);
  chan_destroy(spare);
}
