// RUN: %check_tsmap_tidy %s tsmap-weak-mutable-value %t -- -- -I%S/Inputs
//
// A function that passes its parameter on to a TSMAP_PUBLISHES parameter
// publishes it too: its callers are checked as if they called the map, with a
// note at each call that passes the pointer on.

#include "publish-registry.h"
#include <stdlib.h>

struct metric { const char *name; long value; };

static registry *g_reg;

static int register_metric(struct metric *m) {
  return reg_publish(g_reg, m->name, m) == REG_OK ? 0 : -1;
}
static int register_default(struct metric *m) {
  return register_metric(m);
}
static void log_metric(struct metric *m) { (void)m; }
static int copy_then_publish(struct metric *m) {
  struct metric *heap = malloc(sizeof *heap);
  if (!heap)
    return -1;
  *heap = *m;
  m = heap; // re-pointed: the parameter as received is not what is published
  return reg_publish(g_reg, m->name, m);
}

void stack_metric(void) {
  struct metric m = {"stack", 0};
  register_default(&m);
  // CHECK-NOTES: :[[@LINE-1]]:20: warning: 'register_default' publishes the address of local variable 'm', which has automatic storage; the map keeps the pointer after 'stack_metric' returns [tsmap-weak-mutable-value]
  // CHECK-NOTES: :18:10: note: 'register_default' passes it to 'register_metric' here
  // CHECK-NOTES: :15:10: note: 'register_metric' passes it to 'reg_publish' here
  // CHECK-NOTES: :[[@LINE-5]]:17: note: 'm' is declared here
}

void write_after_helper(void) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  m->name = "heap";
  if (register_metric(m) != 0) {
    free(m);
    return;
  }
  m->value = 1;
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: write to 'm->value' after 'm' was published by 'register_metric'; other threads may be reading it through the map [tsmap-weak-mutable-value]
  // CHECK-NOTES: :[[@LINE-6]]:7: note: 'm' is published to the map here
  // CHECK-NOTES: :15:10: note: 'register_metric' passes it to 'reg_publish' here
}

// Negatives: a helper that does not publish, or publishes a copy.
void not_published(void) {
  struct metric m = {"local", 0};
  log_metric(&m);
  copy_then_publish(&m);
}

// A helper that publishes only under a test of one of its parameters: a call
// whose constant fails the test cannot publish; another constant, or a
// value, can.
static void maybe_register(struct metric *m, int share) {
  if (share)
    reg_publish(g_reg, m->name, m);
}
void guarded_off(void) {
  struct metric m = {"probe", 0};
  maybe_register(&m, 0);
}
void guarded_on(int share) {
  struct metric m = {"probe", 0};
  maybe_register(&m, 1);
  // CHECK-NOTES: :[[@LINE-1]]:18: warning: 'maybe_register' publishes the address of local variable 'm', which has automatic storage; the map keeps the pointer after 'guarded_on' returns [tsmap-weak-mutable-value]
  // CHECK-NOTES: :66:5: note: 'maybe_register' passes it to 'reg_publish' here
  // CHECK-NOTES: :73:17: note: 'm' is declared here
  maybe_register(&m, share);
  // CHECK-NOTES: :[[@LINE-1]]:18: warning: 'maybe_register' publishes the address of local variable 'm', which has automatic storage; the map keeps the pointer after 'guarded_on' returns [tsmap-weak-mutable-value]
  // CHECK-NOTES: :66:5: note: 'maybe_register' passes it to 'reg_publish' here
  // CHECK-NOTES: :73:17: note: 'm' is declared here
}
