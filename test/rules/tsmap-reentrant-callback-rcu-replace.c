// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
//
// A node unlinked by cds_lfht_add_replace (the node it returns) or by
// cds_lfht_replace (the node its iterator was on) is a removed node, as one
// cds_lfht_del removes: readers may still hold it until a grace period, so a
// free before one is reported (black-box round 4 observation). Each reported
// case has a quiet twin that waits or defers.

#include "fake_urcu.h"

struct route { unsigned long key; struct cds_lfht_node node; struct rcu_head rcu; };
static int match(struct cds_lfht_node *n, const void *key) {
  return caa_container_of(n, struct route, node)->key == *(const unsigned long *)key;
}
static void free_route_rcu(struct rcu_head *h) {
  free(caa_container_of(h, struct route, rcu));
}

void set_route(struct cds_lfht *ht, struct route *nr) {
  rcu_read_lock();
  struct cds_lfht_node *old = cds_lfht_add_replace(ht, nr->key, match, &nr->key, &nr->node);
  rcu_read_unlock();
  if (old)
    free(caa_container_of(old, struct route, node));
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'free' frees a node removed with 'cds_lfht_add_replace' before a grace period; readers in a read-side critical section may still hold it [tsmap-reentrant-callback]
  // CHECK-MESSAGES: :[[@LINE-5]]:31: note: removed here; free it with 'call_rcu', or after 'synchronize_rcu'
}

void set_route_assigned(struct cds_lfht *ht, struct route *nr) {
  struct cds_lfht_node *old;
  rcu_read_lock();
  old = cds_lfht_add_replace(ht, nr->key, match, &nr->key, &nr->node);
  rcu_read_unlock();
  if (old) {
    struct route *r = caa_container_of(old, struct route, node);
    free(r);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'free' frees a node removed with 'cds_lfht_add_replace' before a grace period
    // CHECK-MESSAGES: :[[@LINE-6]]:9: note: removed here
  }
}

// Quiet: a grace period before the free, or call_rcu.
void set_route_synchronized(struct cds_lfht *ht, struct route *nr) {
  rcu_read_lock();
  struct cds_lfht_node *old = cds_lfht_add_replace(ht, nr->key, match, &nr->key, &nr->node);
  rcu_read_unlock();
  synchronize_rcu();
  if (old)
    free(caa_container_of(old, struct route, node));
}
void set_route_deferred(struct cds_lfht *ht, struct route *nr) {
  rcu_read_lock();
  struct cds_lfht_node *old = cds_lfht_add_replace(ht, nr->key, match, &nr->key, &nr->node);
  rcu_read_unlock();
  if (old)
    call_rcu(&caa_container_of(old, struct route, node)->rcu, free_route_rcu);
}
// Quiet: the new node freed (never published: add_replace always publishes
// it, but the node freed here is another one).
void set_route_free_other(struct cds_lfht *ht, struct route *nr, struct route *spare) {
  rcu_read_lock();
  struct cds_lfht_node *old = cds_lfht_add_replace(ht, nr->key, match, &nr->key, &nr->node);
  rcu_read_unlock();
  (void)old;
  free(spare);
}

int replace_route(struct cds_lfht *ht, struct route *nr) {
  struct cds_lfht_iter it;
  rcu_read_lock();
  cds_lfht_lookup(ht, nr->key, match, &nr->key, &it);
  struct cds_lfht_node *old = cds_lfht_iter_get_node(&it);
  if (old && cds_lfht_replace(ht, &it, nr->key, match, &nr->key, &nr->node) == 0) {
    rcu_read_unlock();
    free(caa_container_of(old, struct route, node));
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'free' frees a node removed with 'cds_lfht_replace' before a grace period
    // CHECK-MESSAGES: :[[@LINE-4]]:14: note: removed here
    return 0;
  }
  rcu_read_unlock();
  return -1;
}

// Quiet: replaced, then freed after a grace period; and a node of another
// iterator freed.
int replace_route_synchronized(struct cds_lfht *ht, struct route *nr) {
  struct cds_lfht_iter it;
  rcu_read_lock();
  cds_lfht_lookup(ht, nr->key, match, &nr->key, &it);
  struct cds_lfht_node *old = cds_lfht_iter_get_node(&it);
  int rc = old ? cds_lfht_replace(ht, &it, nr->key, match, &nr->key, &nr->node) : -1;
  rcu_read_unlock();
  if (rc == 0) {
    synchronize_rcu();
    free(caa_container_of(old, struct route, node));
  }
  return rc;
}
int replace_route_other_iter(struct cds_lfht *ht, struct route *nr) {
  struct cds_lfht_iter it, probe;
  rcu_read_lock();
  cds_lfht_lookup(ht, nr->key, match, &nr->key, &it);
  cds_lfht_lookup(ht, nr->key + 1, match, &nr->key, &probe);
  struct cds_lfht_node *other = cds_lfht_iter_get_node(&probe);
  int rc = cds_lfht_replace(ht, &it, nr->key, match, &nr->key, &nr->node);
  rcu_read_unlock();
  if (rc == 0 && !other)
    free(nr);
  return rc;
}
