// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
//
// Inside a cds_lfht_for_each_entry loop, the node of the loop's iterator
// (`cds_lfht_iter_get_node (&iter)`, or a local whose one value it is) is the
// loop's entry variable, which the loop sets to its container: removing it and
// freeing the entry at once frees a node readers may still hold (liburcu's own
// "delete every node" idiom with call_rcu made a free, bench/realworld R43).
// Quiet: the free deferred with call_rcu, or another iterator's node.

#include "fake_urcu.h"

struct mynode { int value; struct cds_lfht_node node; struct rcu_head rcu_head; };
void free_node(struct rcu_head *head);

void delete_all_local(struct cds_lfht *ht) {
  struct cds_lfht_iter iter;
  struct mynode *node;
  rcu_read_lock();
  cds_lfht_for_each_entry(ht, &iter, node, node) {
    struct cds_lfht_node *ht_node = cds_lfht_iter_get_node(&iter);
    if (!cds_lfht_del(ht, ht_node))
      free(node);
    // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: 'free' frees a node removed with 'cds_lfht_del' before a grace period; readers in a read-side critical section may still hold it [tsmap-reentrant-callback]
    // CHECK-MESSAGES: :[[@LINE-3]]:10: note: removed here; free it with 'call_rcu', or after 'synchronize_rcu'
  }
  rcu_read_unlock();
}

void delete_all_inline(struct cds_lfht *ht) {
  struct cds_lfht_iter iter;
  struct mynode *node;
  rcu_read_lock();
  cds_lfht_for_each_entry(ht, &iter, node, node) {
    cds_lfht_del(ht, cds_lfht_iter_get_node(&iter));
    free(node);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'free' frees a node removed with 'cds_lfht_del' before a grace period
    // CHECK-MESSAGES: :[[@LINE-3]]:5: note: removed here; free it with 'call_rcu', or after 'synchronize_rcu'
  }
  rcu_read_unlock();
}

void delete_all_deferred(struct cds_lfht *ht) {
  struct cds_lfht_iter iter;
  struct mynode *node;
  rcu_read_lock();
  cds_lfht_for_each_entry(ht, &iter, node, node) {
    if (!cds_lfht_del(ht, cds_lfht_iter_get_node(&iter)))
      call_rcu(&node->rcu_head, free_node);
  }
  rcu_read_unlock();
}

void delete_other(struct cds_lfht *ht, struct cds_lfht *other) {
  struct cds_lfht_iter iter, it2;
  struct mynode *node, *spare = 0;
  rcu_read_lock();
  cds_lfht_first(other, &it2);
  cds_lfht_for_each_entry(ht, &iter, node, node) {
    cds_lfht_del(other, cds_lfht_iter_get_node(&it2));
    free(spare);
  }
  rcu_read_unlock();
}

// The iterator's node is the iterator's object wherever it is taken again,
// and a function of the file that returns its parameter's container hands
// back that object (liburcu's tests/benchmark/test_urcu_hash_rw.c with
// call_rcu made a free, bench/realworld R44).
struct test_node { struct cds_lfht_node node; void *key; struct rcu_head head; };
static inline struct test_node *to_test_node(struct cds_lfht_node *node) {
  return caa_container_of(node, struct test_node, node);
}
static inline struct test_node *iter_get_test_node(struct cds_lfht_iter *iter) {
  return to_test_node(cds_lfht_iter_get_node(iter));
}
static int test_match(struct cds_lfht_node *node, const void *key) {
  return to_test_node(node)->key == key;
}
void free_test_node(struct rcu_head *head);

void replace_and_free(struct cds_lfht *ht, struct test_node *n, unsigned long hash) {
  struct cds_lfht_node *ret_node;
  rcu_read_lock();
  ret_node = cds_lfht_add_replace(ht, hash, test_match, n->key, &n->node);
  rcu_read_unlock();
  if (ret_node)
    free(to_test_node(ret_node));
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'free' frees a node removed with 'cds_lfht_add_replace' before a grace period
  // CHECK-MESSAGES: :[[@LINE-5]]:14: note: removed here; free it with 'call_rcu', or after 'synchronize_rcu'
}

void delete_by_iterator(struct cds_lfht *ht, void *key, unsigned long hash) {
  struct cds_lfht_iter iter;
  struct test_node *node;
  rcu_read_lock();
  cds_lfht_lookup(ht, hash, test_match, key, &iter);
  int ret = cds_lfht_del(ht, cds_lfht_iter_get_node(&iter));
  rcu_read_unlock();
  if (ret == 0) {
    node = iter_get_test_node(&iter);
    free(node);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'free' frees a node removed with 'cds_lfht_del' before a grace period
    // CHECK-MESSAGES: :[[@LINE-6]]:13: note: removed here; free it with 'call_rcu', or after 'synchronize_rcu'
  }
}

void delete_by_iterator_deferred(struct cds_lfht *ht, void *key, unsigned long hash) {
  struct cds_lfht_iter iter;
  rcu_read_lock();
  cds_lfht_lookup(ht, hash, test_match, key, &iter);
  if (cds_lfht_del(ht, cds_lfht_iter_get_node(&iter)) == 0)
    call_rcu(&iter_get_test_node(&iter)->head, free_test_node);
  rcu_read_unlock();
}

// Quiet: the iterator moved on to another node before the free.
void delete_then_next(struct cds_lfht *ht, void *key, unsigned long hash) {
  struct cds_lfht_iter iter;
  rcu_read_lock();
  cds_lfht_lookup(ht, hash, test_match, key, &iter);
  cds_lfht_del(ht, cds_lfht_iter_get_node(&iter));
  cds_lfht_next(ht, &iter);
  free(iter_get_test_node(&iter));
  rcu_read_unlock();
}
