// RUN: %check_tsmap_tidy %s tsmap-weak-mutable-value %t -- -- -I%S/Inputs
//
// The notes walk from the finding to its cause: the locals an address went
// through, the publish a write follows, the callee chain of a write by call,
// and the TSMAP_WEAK declaration.

#include "publish-registry.h"
#include <stdlib.h>

struct user { int logins; };
struct session { int id; TSMAP_WEAK struct user *owner; };
struct metric { long value; long peak; };

void dangling_chain(registry *r) {
  struct metric stack_metric = {0, 0};
  struct metric *cur = &stack_metric;
  void *slot;
  slot = cur;
  reg_publish(r, "m", slot);
  // CHECK-NOTES: :[[@LINE-1]]:23: warning: 'reg_publish' publishes the address of local variable 'stack_metric', which has automatic storage; the map keeps the pointer after 'dangling_chain' returns [tsmap-weak-mutable-value]
  // CHECK-NOTES: :[[@LINE-3]]:3: note: 'slot' is set to 'cur' here
  // CHECK-NOTES: :[[@LINE-6]]:24: note: 'cur' is set to '&stack_metric' here
  // CHECK-NOTES: :[[@LINE-8]]:17: note: 'stack_metric' is declared here
}

static void set_peak(struct metric *m, long v) { m->peak = v; }
static void record(struct metric *m, long v) {
  m->value = v;
  set_peak(m, v);
}

void write_by_call(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  reg_publish(r, "m", m);
  record(m, 5);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: 'record' writes through 'm' after 'm' was published by 'reg_publish'; other threads may be reading it through the map [tsmap-weak-mutable-value]
  // CHECK-NOTES: :[[@LINE-3]]:3: note: 'm' is published to the map here
  // CHECK-NOTES: :28:3: note: 'record' writes 'm->value' here
}

void weak_field(registry *r, struct session *s) {
  reg_publish(r, "s", s);
  // CHECK-NOTES: :[[@LINE-1]]:23: warning: 'reg_publish' publishes 's', whose field 'owner' is a weak reference to mutable 'struct user': its owner may modify or free it while other threads read it through the map [tsmap-weak-mutable-value]
  // CHECK-NOTES: :11:26: note: 'owner' is declared TSMAP_WEAK here
}

void write_through_alias(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  reg_publish(r, "m", m);
  struct metric *view = m;
  view->peak = 1;
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: write to 'view->peak' after 'm' was published by 'reg_publish'; other threads may be reading it through the map [tsmap-weak-mutable-value]
  // CHECK-NOTES: :[[@LINE-4]]:3: note: 'm' is published to the map here
  // CHECK-NOTES: :[[@LINE-4]]:25: note: 'view' is set to 'm' here
}
