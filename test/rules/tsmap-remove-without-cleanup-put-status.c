// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t
// A replacing put hands an old value back only when it says TSMAP_REPLACED:
// `== TSMAP_REPLACED` / `!= TSMAP_REPLACED` tell which side owns it, like
// `!= TSMAP_OK`, a switch, or no test at all.
#include <stdlib.h>
#include <tsmap/tsmap.h>

struct timer;
void timer_cancel(struct timer *t);

struct conn {
  unsigned long id;
  TSMAP_CLEANUP(timer_cancel) struct timer *idle;
};

static void conn_close(struct conn *c) {
  timer_cancel(c->idle);
  free(c);
}

static tsmap *g_nohook;

void eq_replaced_free(struct conn *c) {
  struct conn *old = NULL;
  if (tsmap_put_ptr(g_nohook, &c->id, sizeof c->id, c, (void **)&old) == TSMAP_REPLACED)
  // CHECK-NOTES: :[[@LINE-1]]:7: warning: value removed by 'tsmap_put_ptr' into 'old' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
    free(old);
  // CHECK-NOTES: :[[@LINE-1]]:5: note: 'old' is destroyed here without 'timer_cancel'; 'free' is a deallocator, not a hand-off
}
// CHECK-NOTES: :[[@LINE-1]]:1: note: 'old' is neither cleaned up with 'timer_cancel' nor handed on before the function ends here
// CHECK-NOTES: :13:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here

int ne_replaced_keep(struct conn *c, int keep) {
  struct conn *old = NULL;
  tsmap_status st = tsmap_put_ptr(g_nohook, &c->id, sizeof c->id, c, (void **)&old);
  // CHECK-NOTES: :[[@LINE-1]]:21: warning: value removed by 'tsmap_put_ptr' into 'old' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  if (st != TSMAP_REPLACED)
    return 0;
  if (keep)
    return 1;
  // CHECK-NOTES: :[[@LINE-1]]:5: note: 'old' is neither cleaned up with 'timer_cancel' nor handed on before the function returns here
  conn_close(old);
  return 0;
}
// CHECK-NOTES: :13:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here

void switch_replaced_free(struct conn *c) {
  struct conn *old = NULL;
  switch (tsmap_put_ptr(g_nohook, &c->id, sizeof c->id, c, (void **)&old)) {
  // CHECK-NOTES: :[[@LINE-1]]:11: warning: value removed by 'tsmap_put_ptr' into 'old' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  case TSMAP_REPLACED:
    free(old);
  // CHECK-NOTES: :[[@LINE-1]]:5: note: 'old' is destroyed here without 'timer_cancel'; 'free' is a deallocator, not a hand-off
    break;
  default:
    break;
  }
}
// CHECK-NOTES: :[[@LINE-1]]:1: note: 'old' is neither cleaned up with 'timer_cancel' nor handed on before the function ends here
// CHECK-NOTES: :13:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here

void ne_ok_free(struct conn *c) {
  struct conn *old = NULL;
  if (tsmap_put_ptr(g_nohook, &c->id, sizeof c->id, c, (void **)&old) != TSMAP_OK)
  // CHECK-NOTES: :[[@LINE-1]]:7: warning: value removed by 'tsmap_put_ptr' into 'old' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
    free(old);
  // CHECK-NOTES: :[[@LINE-1]]:5: note: 'old' is destroyed here without 'timer_cancel'; 'free' is a deallocator, not a hand-off
}
// CHECK-NOTES: :[[@LINE-1]]:1: note: 'old' is neither cleaned up with 'timer_cancel' nor handed on before the function ends here
// CHECK-NOTES: :13:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here

// ---- Quiet ----------------------------------------------------------------

void eq_replaced_close(struct conn *c) {
  struct conn *old = NULL;
  if (tsmap_put_ptr(g_nohook, &c->id, sizeof c->id, c, (void **)&old) == TSMAP_REPLACED)
    conn_close(old);
}

int ne_replaced_close(struct conn *c) {
  struct conn *old = NULL;
  tsmap_status st = tsmap_put_ptr(g_nohook, &c->id, sizeof c->id, c, (void **)&old);
  if (st != TSMAP_REPLACED)
    return 0; /* inserted or failed: nothing came back */
  conn_close(old);
  return 0;
}

void switch_replaced_close(struct conn *c) {
  struct conn *old = NULL;
  switch (tsmap_put_ptr(g_nohook, &c->id, sizeof c->id, c, (void **)&old)) {
  case TSMAP_REPLACED:
    conn_close(old);
    break;
  default: /* TSMAP_OK inserted; the rest failed */
    break;
  }
}
