// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t
// REQUIRES: tsmap-remove-without-cleanup
//
// TSMAP_CLEANUP(fn) and TSMAP_EVICTS_WITH(fn) must name a function of the
// translation unit (declared before or after the annotation: the macro
// stringizes the name); they are reported at the annotation when they name
// nothing or something that is not a function, with "did you mean" when a
// declared function is close. Misplaced removal kinds too.

#include <tsmap/annotations.h>

typedef struct timer timer;
void timer_cancel(timer *t);
int g_count;
struct registry;

struct conn {
  timer *idle TSMAP_CLEANUP(timer_cancell);
  // CHECK-MESSAGES: :[[@LINE-1]]:15: warning: TSMAP_CLEANUP(timer_cancell) names no function declared in this translation unit, so the contract cannot be checked; did you mean 'timer_cancel'? [tsmap-remove-without-cleanup]
  int fd TSMAP_CLEANUP(no_such_fn);
  // CHECK-MESSAGES: :[[@LINE-1]]:10: warning: TSMAP_CLEANUP(no_such_fn) names no function declared in this translation unit, so the contract cannot be checked [tsmap-remove-without-cleanup]
  int n TSMAP_CLEANUP(g_count);
  // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: TSMAP_CLEANUP(g_count) names 'g_count', which is not a function [tsmap-remove-without-cleanup]
  timer *ok TSMAP_CLEANUP(timer_cancel);
  timer *later TSMAP_CLEANUP(conn_release); // declared below: fine
};
struct registry *g_reg TSMAP_EVICTS_WITH(conn_evict);
// CHECK-MESSAGES: :[[@LINE-1]]:24: warning: TSMAP_EVICTS_WITH(conn_evict) names no function declared in this translation unit, so the contract cannot be checked [tsmap-remove-without-cleanup]
struct registry *g_reg2 TSMAP_EVICTS_WITH(conn_release);
void conn_release(struct conn *c);

TSMAP_CLEANUP(conn_release) void release_all(void);
// CHECK-MESSAGES: :[[@LINE-1]]:1: warning: TSMAP_CLEANUP goes on a field or a struct; on a function returning 'void' it means nothing
void take(TSMAP_REMOVED_OUT int out, TSMAP_EVICTS_WITH(conn_release) struct registry *r);
// CHECK-MESSAGES: :[[@LINE-1]]:11: warning: TSMAP_REMOVED_OUT goes on a pointer out-parameter; on a parameter of type 'int' it means nothing
// CHECK-MESSAGES: :[[@LINE-2]]:38: warning: TSMAP_EVICTS_WITH goes on a map variable or field; on a parameter of type 'struct registry *' it means nothing
TSMAP_REPLACES int g_replaces;
// CHECK-MESSAGES: :[[@LINE-1]]:1: warning: TSMAP_REPLACES goes on a function; on a variable of type 'int' it means nothing
