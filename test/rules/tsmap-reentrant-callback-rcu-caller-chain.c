// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffix=SHALLOW %s tsmap-reentrant-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-reentrant-callback.MaxCallDepth: 2}}" -- -I%S/Inputs
//
// A cds_lfht walk in a static function is in a read-side section when every
// call to it in the TU is, read up the chain of static callers as far as
// MaxCallDepth (bench/realworld R37: lttng-tools' walk four static callers
// below an unlocked extern function was quiet at a fixed three). Past the
// bound the chain is taken as locked (quiet), as SHALLOW shows.

#include "fake_urcu.h"

struct item { struct cds_lfht_node node; int v; };
struct state { struct cds_lfht *ht; };

static int walk(struct state *s) {
  struct cds_lfht_iter iter;
  struct item *it;
  int n = 0;
  cds_lfht_for_each_entry(s->ht, &iter, it, node)
    // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'cds_lfht_for_each_entry' iterates 's->ht' outside an RCU read-side critical section; nodes it visits may be freed under it [tsmap-reentrant-callback]
    // CHECK-MESSAGES: :[[@LINE-6]]:12: note: 'walk' does not hold 'rcu_read_lock' on every path to the loop, and no caller in this file holds it
    n += it->v;
  return n;
}
static int level1(struct state *s) { return walk(s); }
static int level2(struct state *s) { return level1(s); }
static int level3(struct state *s) { return level2(s); }
int level4(struct state *s) { return level3(s); }

// Quiet: the same chain, locked at its top.
static int walk_locked_above(struct state *s) {
  struct cds_lfht_iter iter;
  struct item *it;
  int n = 0;
  cds_lfht_for_each_entry(s->ht, &iter, it, node)
    n += it->v;
  return n;
}
static int up1(struct state *s) { return walk_locked_above(s); }
static int up2(struct state *s) { return up1(s); }
static int up3(struct state *s) { return up2(s); }
static int up4(struct state *s) { return up3(s); }
int top_locked(struct state *s) {
  rcu_read_lock();
  int n = up4(s);
  rcu_read_unlock();
  return n;
}

// Quiet: static callers that call each other (a cycle) and a locked entry.
static int cyc_b(struct state *s, int d);
static int cyc_walk(struct state *s) {
  struct cds_lfht_iter iter;
  struct item *it;
  int n = 0;
  cds_lfht_for_each_entry(s->ht, &iter, it, node)
    n += it->v;
  return n;
}
static int cyc_a(struct state *s, int d) { return d ? cyc_b(s, d - 1) : cyc_walk(s); }
static int cyc_b(struct state *s, int d) { return cyc_a(s, d); }
int cyc_top(struct state *s) {
  rcu_read_lock();
  int n = cyc_a(s, 3);
  rcu_read_unlock();
  return n;
}
// CHECK-MESSAGES-SHALLOW-NOT: warning:

// One call holds the lock and one does not: the notes point at the one to fix
// (bench/realworld R48).
static int count_all(struct state *s) {
  struct cds_lfht_iter iter;
  struct item *it;
  int n = 0;
  cds_lfht_for_each_entry(s->ht, &iter, it, node)
    // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'cds_lfht_for_each_entry' iterates 's->ht' outside an RCU read-side critical section
    // CHECK-MESSAGES: :[[@LINE-6]]:12: note: 'count_all' does not hold 'rcu_read_lock' on every path to the loop, and not every caller in this file holds it; take the read lock around the loop, or around the call below
    // CHECK-MESSAGES-SHALLOW: :[[@LINE-3]]:3: warning: 'cds_lfht_for_each_entry' iterates 's->ht' outside an RCU read-side critical section
    n += it->v;
  return n;
}

int show_counts(struct state *s) {
  rcu_read_lock();
  int a = count_all(s);
  rcu_read_unlock();
  return a + count_all(s);
  // CHECK-MESSAGES: :[[@LINE-1]]:14: note: 'show_counts' calls 'count_all' here, outside a read-side critical section
}
