// RUN: %check_tsmap_tidy -check-suffixes=DEFAULT,WRAP %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=DEFAULT,NOWRAP %s tsmap-reentrant-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-reentrant-callback.MaxCallDepth: 0}}" -- -I%S/Inputs
//
// liburcu read-side sections and grace periods read on the CFG (independent
// black-box cases, 2026-12-06): a loop is in a read-side section when every
// path from its function's entry holds the read lock; project wrappers of
// rcu_read_lock/unlock and synchronize_rcu count as what they do on every
// path (followed up to MaxCallDepth hops: with 0, not at all). Each quiet
// case has a warned twin.

#include "fake_urcu.h"

struct route { unsigned long key; struct cds_lfht_node node; struct rcu_head rcu; };
int send_route(struct route *r);

// ---- An unlock on a path that returns does not reach the loop (FP2) ------

int count_routes(struct cds_lfht *ht, int closing) {
  struct cds_lfht_iter iter;
  struct route *r;
  int n = 0;
  rcu_read_lock();
  if (closing) {
    rcu_read_unlock();
    return -1;
  }
  cds_lfht_for_each_entry(ht, &iter, r, node)
    n++;
  rcu_read_unlock();
  return n;
}
// Two loops, the section closed and opened again between them.
int two_loops(struct cds_lfht *a, struct cds_lfht *b) {
  struct cds_lfht_iter iter;
  struct route *r;
  int n = 0;
  rcu_read_lock();
  cds_lfht_for_each_entry(a, &iter, r, node)
    n++;
  rcu_read_unlock();
  rcu_read_lock();
  cds_lfht_for_each_entry(b, &iter, r, node)
    n++;
  rcu_read_unlock();
  return n;
}
// Warned: the early unlock falls through to the loop.
int count_routes_falls_through(struct cds_lfht *ht, int closing) {
  struct cds_lfht_iter iter;
  struct route *r;
  int n = 0;
  rcu_read_lock();
  if (closing)
    rcu_read_unlock();
  cds_lfht_for_each_entry(ht, &iter, r, node)
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:3: warning: 'cds_lfht_for_each_entry' iterates 'ht' outside an RCU read-side critical section; nodes it visits may be freed under it [tsmap-reentrant-callback]
    n++;
  rcu_read_unlock();
  return n;
}
// Warned: the second loop runs after the section closed.
int two_loops_late(struct cds_lfht *a, struct cds_lfht *b) {
  struct cds_lfht_iter iter;
  struct route *r;
  int n = 0;
  rcu_read_lock();
  cds_lfht_for_each_entry(a, &iter, r, node)
    n++;
  rcu_read_unlock();
  cds_lfht_for_each_entry(b, &iter, r, node)
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:3: warning: 'cds_lfht_for_each_entry' iterates 'b' outside an RCU read-side critical section
    n++;
  return n;
}

// The callers of a static function are read the same way.
static int sum_routes(struct cds_lfht *ht) {
  struct cds_lfht_iter iter;
  struct route *r;
  int n = 0;
  cds_lfht_for_each_entry(ht, &iter, r, node)
    n += send_route(r);
  return n;
}
int report_routes(struct cds_lfht *ht, int closing) {
  int n;
  rcu_read_lock();
  if (closing) {
    rcu_read_unlock();
    return 0;
  }
  n = sum_routes(ht);
  rcu_read_unlock();
  return n;
}
static int sum_routes_late(struct cds_lfht *ht) {
  struct cds_lfht_iter iter;
  struct route *r;
  int n = 0;
  cds_lfht_for_each_entry(ht, &iter, r, node)
  // Its callers are read up to MaxCallDepth (0: not read, quiet).
  // CHECK-MESSAGES-WRAP: :[[@LINE-2]]:3: warning: 'cds_lfht_for_each_entry' iterates 'ht' outside an RCU read-side critical section
    n += send_route(r);
  return n;
}
int report_routes_late(struct cds_lfht *ht, int closing) {
  int n;
  rcu_read_lock();
  if (closing)
    rcu_read_unlock();
  n = sum_routes_late(ht);
  if (!closing)
    rcu_read_unlock();
  return n;
}

// ---- A lock and a loop inside one macro expansion (FP3) ------------------

#define WITH_RCU(body) do { rcu_read_lock(); body; rcu_read_unlock(); } while (0)
#define AFTER_RCU(body) do { rcu_read_lock(); rcu_read_unlock(); body; } while (0)
int count_in_macro(struct cds_lfht *ht) {
  struct cds_lfht_iter iter;
  struct route *r;
  int n = 0;
  WITH_RCU(cds_lfht_for_each_entry(ht, &iter, r, node) n++);
  return n;
}
int count_after_macro(struct cds_lfht *ht) {
  struct cds_lfht_iter iter;
  struct route *r;
  int n = 0;
  AFTER_RCU(cds_lfht_for_each_entry(ht, &iter, r, node) n++);
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:3: warning: 'cds_lfht_for_each_entry' iterates 'ht' outside an RCU read-side critical section
  return n;
}

// ---- Project wrappers (FP4; lttng, knot) ---------------------------------

static void db_read_lock(void) { rcu_read_lock(); }
static void db_read_unlock(void) { rcu_read_unlock(); }
static void db_quiesce(void) { synchronize_rcu(); }
static void db_quiesce_barrier(int drain) {
  if (drain)
    rcu_barrier();
  else
    synchronize_rcu();
}
// Unlocks on one path only: some path leaves the section.
static void db_read_unlock_if(int closing) {
  if (closing)
    rcu_read_unlock();
}
// Waits on one path only.
static void db_quiesce_if(int slow) {
  if (slow)
    synchronize_rcu();
}
static void db_locked_op(void) {
  db_read_lock();
  db_read_unlock();
}

int count_wrapped(struct cds_lfht *ht) {
  struct cds_lfht_iter iter;
  struct route *r;
  int n = 0;
  db_read_lock();
  db_locked_op(); // balanced: the section stays open
  cds_lfht_for_each_entry(ht, &iter, r, node)
  // CHECK-MESSAGES-NOWRAP: :[[@LINE-1]]:3: warning: 'cds_lfht_for_each_entry' iterates 'ht' outside an RCU read-side critical section
    n++;
  db_read_unlock();
  return n;
}
int count_wrapped_unlock_if(struct cds_lfht *ht, int closing) {
  struct cds_lfht_iter iter;
  struct route *r;
  int n = 0;
  rcu_read_lock();
  db_read_unlock_if(closing);
  cds_lfht_for_each_entry(ht, &iter, r, node)
  // CHECK-MESSAGES-WRAP: :[[@LINE-1]]:3: warning: 'cds_lfht_for_each_entry' iterates 'ht' outside an RCU read-side critical section
    n++;
  rcu_read_unlock();
  return n;
}
int count_wrapped_unlocked(struct cds_lfht *ht) {
  struct cds_lfht_iter iter;
  struct route *r;
  int n = 0;
  db_read_lock();
  db_read_unlock();
  cds_lfht_for_each_entry(ht, &iter, r, node)
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:3: warning: 'cds_lfht_for_each_entry' iterates 'ht' outside an RCU read-side critical section
    n++;
  return n;
}

void drop_route_wrapped(struct cds_lfht *ht, struct route *r) {
  db_read_lock();
  cds_lfht_del(ht, &r->node);
  db_read_unlock();
  db_quiesce();
  free(r);
  // CHECK-MESSAGES-NOWRAP: :[[@LINE-1]]:3: warning: 'free' frees a node removed with 'cds_lfht_del' before a grace period
}
void drop_route_barrier(struct cds_lfht *ht, struct route *r, int drain) {
  cds_lfht_del(ht, &r->node);
  db_quiesce_barrier(drain);
  free(r);
  // CHECK-MESSAGES-NOWRAP: :[[@LINE-1]]:3: warning: 'free' frees a node removed with 'cds_lfht_del' before a grace period
}
void drop_route_quiesce_if(struct cds_lfht *ht, struct route *r, int slow) {
  db_read_lock();
  cds_lfht_del(ht, &r->node);
  db_read_unlock();
  db_quiesce_if(slow);
  free(r);
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:3: warning: 'free' frees a node removed with 'cds_lfht_del' before a grace period
}

// ---- A variable given a new object between the removal and the free (FP7) -

struct gc_list { struct route *first; };
void gc_add(struct gc_list *l, struct route *r);
int route_set(struct cds_lfht *ht, struct gc_list *gc, struct route *old,
              unsigned long hash) {
  struct route *r = old;
  struct cds_lfht_node *ret;
  rcu_read_lock();
  if (!cds_lfht_del(ht, &r->node))
    gc_add(gc, r); // a reaper frees it after synchronize_rcu
  r = malloc(sizeof *r);
  if (!r) {
    rcu_read_unlock();
    return -1;
  }
  cds_lfht_node_init(&r->node);
  ret = cds_lfht_add_unique(ht, hash, 0, &r->key, &r->node);
  rcu_read_unlock();
  if (ret != &r->node) {
    free(r); // never published
    return -1;
  }
  return 0;
}
// Warned: on the `fresh == 0` path `r` still names the removed node.
int route_set_maybe(struct cds_lfht *ht, struct route *r, int fresh) {
  rcu_read_lock();
  cds_lfht_del(ht, &r->node);
  rcu_read_unlock();
  if (fresh)
    r = malloc(sizeof *r);
  free(r);
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:3: warning: 'free' frees a node removed with 'cds_lfht_del' before a grace period
  return 0;
}

// ---- The node, then its container (FN1: the common liburcu shape) --------

static int match(struct cds_lfht_node *n, const void *key) {
  return caa_container_of(n, struct route, node)->key == *(const unsigned long *)key;
}
void route_remove(struct cds_lfht *ht, unsigned long key, unsigned long hash) {
  struct cds_lfht_iter iter;
  struct cds_lfht_node *node;
  rcu_read_lock();
  cds_lfht_lookup(ht, hash, match, &key, &iter);
  node = cds_lfht_iter_get_node(&iter);
  if (node && cds_lfht_del(ht, node) == 0) {
    struct route *r = caa_container_of(node, struct route, node);
    rcu_read_unlock();
    free(r);
    // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:5: warning: 'free' frees a node removed with 'cds_lfht_del' before a grace period; readers in a read-side critical section may still hold it [tsmap-reentrant-callback]
    return;
  }
  rcu_read_unlock();
}
// The container computed before the removal, from the same node.
void route_remove_early(struct cds_lfht *ht, unsigned long key, unsigned long hash) {
  struct cds_lfht_iter iter;
  struct cds_lfht_node *node;
  struct route *r;
  rcu_read_lock();
  cds_lfht_lookup(ht, hash, match, &key, &iter);
  node = cds_lfht_iter_get_node(&iter);
  if (!node) {
    rcu_read_unlock();
    return;
  }
  r = caa_container_of(node, struct route, node);
  cds_lfht_del(ht, node);
  rcu_read_unlock();
  free(r);
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:3: warning: 'free' frees a node removed with 'cds_lfht_del' before a grace period
}
static void free_route_rcu(struct rcu_head *head) {
  free(caa_container_of(head, struct route, rcu));
}
void route_remove_deferred(struct cds_lfht *ht, unsigned long key, unsigned long hash) {
  struct cds_lfht_iter iter;
  struct cds_lfht_node *node;
  rcu_read_lock();
  cds_lfht_lookup(ht, hash, match, &key, &iter);
  node = cds_lfht_iter_get_node(&iter);
  if (node && cds_lfht_del(ht, node) == 0) {
    struct route *r = caa_container_of(node, struct route, node);
    call_rcu(&r->rcu, free_route_rcu);
  }
  rcu_read_unlock();
}
void route_remove_synchronized(struct cds_lfht *ht, unsigned long key, unsigned long hash) {
  struct cds_lfht_iter iter;
  struct cds_lfht_node *node;
  rcu_read_lock();
  cds_lfht_lookup(ht, hash, match, &key, &iter);
  node = cds_lfht_iter_get_node(&iter);
  if (node && cds_lfht_del(ht, node) == 0) {
    struct route *r = caa_container_of(node, struct route, node);
    rcu_read_unlock();
    synchronize_rcu();
    free(r);
    return;
  }
  rcu_read_unlock();
}
