// RUN: %check_tsmap_tidy %s tsmap-weak-mutable-value %t -- -- -I%S/Inputs
//
// Dangling publication: the address of an object with automatic storage
// reaches a TSMAP_PUBLISHES parameter, directly or through local pointers.

#include "publish-registry.h"
#include <stdlib.h>
#include <string.h>

struct metric { const char *name; long value; char unit[8]; };

// ---- Positives ----------------------------------------------------------------

void pub_local(registry *r) {
  struct metric m = {"requests", 0, "ops"};
  reg_publish(r, "requests", &m);
  // CHECK-MESSAGES: :[[@LINE-1]]:30: warning: 'reg_publish' publishes the address of local variable 'm', which has automatic storage; the map keeps the pointer after 'pub_local' returns [tsmap-weak-mutable-value]
}

void pub_array(registry *r) {
  char buf[64];
  strcpy(buf, "hello");
  reg_publish(r, "greeting", buf);
  // CHECK-MESSAGES: :[[@LINE-1]]:30: warning: 'reg_publish' publishes the address of local variable 'buf', which has automatic storage; the map keeps the pointer after 'pub_array' returns [tsmap-weak-mutable-value]
}

void pub_param(registry *r, struct metric m) {
  reg_publish(r, "param", &m);
  // CHECK-MESSAGES: :[[@LINE-1]]:27: warning: 'reg_publish' publishes the address of parameter 'm', which has automatic storage; the map keeps the pointer after 'pub_param' returns [tsmap-weak-mutable-value]
}

void pub_literal(registry *r) {
  reg_publish(r, "lit", &(struct metric){"lit", 1, "x"});
  // CHECK-MESSAGES: :[[@LINE-1]]:25: warning: 'reg_publish' publishes a compound literal with automatic storage; the map keeps the pointer after the literal's lifetime ends [tsmap-weak-mutable-value]
}

void pub_through_pointer(registry *r) {
  struct metric m = {"m", 0, ""};
  struct metric *p = &m;
  struct metric *q;
  q = p;
  reg_publish(r, "m", q);
  // CHECK-MESSAGES: :[[@LINE-1]]:23: warning: 'reg_publish' publishes the address of local variable 'm', which has automatic storage; the map keeps the pointer after 'pub_through_pointer' returns [tsmap-weak-mutable-value]
}

void pub_field_address(registry *r) {
  struct metric m = {"m", 0, ""};
  reg_publish(r, "unit", m.unit);
  // CHECK-MESSAGES: :[[@LINE-1]]:26: warning: 'reg_publish' publishes the address of local variable 'm', which has automatic storage; the map keeps the pointer after 'pub_field_address' returns [tsmap-weak-mutable-value]
}

void pub_element(registry *r) {
  struct metric all[4];
  memset(all, 0, sizeof all);
  reg_publish_new(r, "second", &all[1]);
  // CHECK-MESSAGES: :[[@LINE-1]]:32: warning: 'reg_publish_new' publishes the address of local variable 'all', which has automatic storage; the map keeps the pointer after 'pub_element' returns [tsmap-weak-mutable-value]
}

void pub_on_one_path(registry *r, int fallback) {
  struct metric local = {"l", 0, ""};
  struct metric *p = malloc(sizeof *p);
  if (fallback || !p)
    p = &local;
  reg_publish(r, "maybe", p);
  // CHECK-MESSAGES: :[[@LINE-1]]:27: warning: 'reg_publish' publishes the address of local variable 'local', which has automatic storage; the map keeps the pointer after 'pub_on_one_path' returns [tsmap-weak-mutable-value]
}

void pub_conditional(registry *r, struct metric *shared, int mine) {
  struct metric local = {"l", 0, ""};
  reg_publish(r, "cond", mine ? &local : shared);
  // CHECK-MESSAGES: :[[@LINE-1]]:26: warning: 'reg_publish' publishes the address of local variable 'local', which has automatic storage; the map keeps the pointer after 'pub_conditional' returns [tsmap-weak-mutable-value]
}

void pub_alloca(registry *r) {
  char *buf = __builtin_alloca(64);
  strcpy(buf, "scratch");
  reg_publish(r, "scratch", buf);
  // CHECK-MESSAGES: :[[@LINE-1]]:29: warning: 'reg_publish' publishes memory from 'alloca', which is released when 'pub_alloca' returns [tsmap-weak-mutable-value]
}

// ---- Negatives ----------------------------------------------------------------

static struct metric g_metric = {"global", 0, "ops"};

void pub_heap(registry *r) {
  struct metric *m = malloc(sizeof *m);
  if (!m)
    return;
  m->name = "heap";
  reg_publish(r, "heap", m);
}

void pub_global(registry *r) {
  reg_publish(r, "global", &g_metric);
}

void pub_static_local(registry *r) {
  static char buf[64];
  static struct metric counters;
  reg_publish(r, "buf", buf);
  reg_publish(r, "counters", &counters);
}

static struct metric *const g_shared = &(struct metric){"s", 0, ""};
void pub_file_scope_literal(registry *r) {
  reg_publish(r, "shared", g_shared);
  reg_publish(r, "literal", &(struct metric){"s", 0, ""} == g_shared ? g_shared : &g_metric);
}

void pub_param_pointer(registry *r, struct metric *m) {
  reg_publish(r, "caller's", m);
}

void address_taken_not_published(registry *r) {
  struct metric m = {"m", 0, ""};
  struct metric *p = &m;
  p->value = 1;
  reg_store_copy(r, "copy", &m, sizeof m);
}

void repointed_to_heap(registry *r) {
  struct metric local = {"l", 0, ""};
  struct metric *p = &local;
  p->value = 2;
  p = malloc(sizeof *p);
  if (!p)
    return;
  *p = local;
  reg_publish(r, "copy", p);
}

void pub_null(registry *r) {
  reg_publish(r, "none", NULL);
  reg_publish(r, "zero", 0);
}

void pub_field_of_heap(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (m)
    reg_publish(r, "unit", m->unit);
}

// main's locals live until the program exits.
int main(void) {
  struct metric app = {"app", 0, ""};
  reg_publish(NULL, "app", &app);
  return 0;
}
