// RUN: %check_tsmap_tidy %s tsmap-weak-mutable-value %t -- -- -I%S/Inputs
// RUN: %check_tsmap_tidy %s tsmap-weak-mutable-value %t -- -- -I%S/Inputs -D_LGPL_SOURCE
//
// A pointer published through a field (`rcu_assign_pointer (t->meta, m)`) is
// read by RCU readers as one published through a global: an object loaded
// with rcu_dereference of that field, of any object, and written before a
// grace period is reported. A field the file never publishes, a plain read of
// a published field (objects whose field no reader reads with RCU abound), and
// writes after synchronize_rcu are not.

#include "fake_urcu.h"
#include "fake_urcu_pointer.h"

struct meta { int seq; int size; };
struct table { struct meta *meta; struct meta *scratch; };
struct meta *meta_copy(const struct meta *m);

void set_meta(struct table *t, struct meta *m) {
  rcu_assign_pointer(t->meta, m);
}

void grow(struct table *tab) {
  struct meta *old = rcu_dereference(tab->meta);
  old->size *= 2;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'old->size' while 'old' is published through 'tab->meta'; RCU readers may be reading it: change a copy and publish that, or write after a grace period [tsmap-weak-mutable-value]
  // CHECK-MESSAGES: :[[@LINE-3]]:22: note: 'old' is loaded from 'tab->meta' here
  // CHECK-MESSAGES: :[[@LINE-8]]:3: note: 't->meta' is published with 'rcu_assign_pointer' here
}

// The fix: a copy, published, the old one left to a grace period.
void grow_copy(struct table *tab) {
  struct meta *old = rcu_dereference(tab->meta);
  struct meta *m = meta_copy(old);
  m->size = old->size * 2;
  rcu_assign_pointer(tab->meta, m);
}

// Unpublished, then a grace period: the updater's alone.
void reset(struct table *tab, struct meta *m) {
  struct meta *old = rcu_dereference(tab->meta);
  rcu_assign_pointer(tab->meta, m);
  synchronize_rcu();
  old->seq = 0;
}

// A field the file never publishes.
void bump_scratch(struct table *tab) {
  struct meta *s = rcu_dereference(tab->scratch);
  s->seq++;
}

// A plain read of a published field is not taken to be RCU's.
void bump_plain(struct table *tab) {
  struct meta *m = tab->meta;
  m->seq++;
}
