// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=DEALLOC %s tsmap-remove-without-cleanup %t -- -config="{CheckOptions: {tsmap-remove-without-cleanup.Deallocators: 'pool_put'}}" -- -I%S/Inputs
// Cleanup and hand-off inside callees, followed through their bodies; value-
// level cleanup functions whose bodies forget a field's cleanup.
#include "removal-session.h"

extern smap *g_sessions;
struct list { struct session *items[16]; int n; };
extern struct list g_closing;
void pool_put(void *p); /* no body: a hand-off, unless named in Deallocators */

static void cancel_timer_of(struct session *s) { timer_cancel(s->idle); }
static void teardown(struct session *s) {
  cancel_timer_of(s); /* two hops down */
  free(s);
}
static void queue_close(struct list *l, struct session *s) {
  l->items[l->n++] = s; /* stored into memory that outlives the call */
}
static void log_only(struct session *s) { (void)s->id; }
static void cancel_field(struct timer *t) { timer_cancel(t); }
static void recurse(struct session *s, int n) {
  if (n > 0)
    recurse(s, n - 1);
}

void close_deep(int id) {
  struct session *s;
  if (smap_remove(g_sessions, id, &s) == SMAP_OK)
    teardown(s);
}

void close_later(int id) {
  struct session *s;
  if (smap_remove(g_sessions, id, &s) == SMAP_OK)
    queue_close(&g_closing, s);
}

void close_field_helper(int id) {
  struct session *s;
  if (smap_remove(g_sessions, id, &s) != SMAP_OK)
    return;
  cancel_field(s->idle);
  free(s);
}

void close_to_pool(int id) {
  struct session *s;
  if (smap_remove(g_sessions, id, &s) != SMAP_OK)
  // CHECK-MESSAGES-DEALLOC: :[[@LINE-1]]:7: warning: value removed by 'smap_remove' into 's' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
    return;
  pool_put(s);
}

void close_logged(int id) {
  struct session *s;
  if (smap_remove(g_sessions, id, &s) != SMAP_OK)
  // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: value removed by 'smap_remove' into 's' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  // CHECK-MESSAGES-DEALLOC: :[[@LINE-2]]:7: warning: value removed by 'smap_remove' into 's' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
    return;
  log_only(s);
  recurse(s, 3);
  free(s);
}

// ---- A value-level cleanup must do its fields' cleanups ----------------------

struct job;
void job_destroy(struct job *j);
void job_destroy_ok(struct job *j);
struct TSMAP_CLEANUP(job_destroy) job {
  TSMAP_CLEANUP(timer_cancel) struct timer *retry;
  int fd;
};
void job_destroy(struct job *j) {
  // CHECK-MESSAGES: :[[@LINE-1]]:6: warning: cleanup function 'job_destroy' of 'struct job' does not call 'timer_cancel' on field 'retry'; a removed value keeps that resource [tsmap-remove-without-cleanup]
  // CHECK-MESSAGES-DEALLOC: :[[@LINE-2]]:6: warning: cleanup function 'job_destroy' of 'struct job' does not call 'timer_cancel' on field 'retry'; a removed value keeps that resource [tsmap-remove-without-cleanup]
  free(j);
}

struct task;
void task_destroy(struct task *t);
struct TSMAP_CLEANUP(task_destroy) task {
  TSMAP_CLEANUP(timer_cancel) struct timer *retry;
};
static void task_stop(struct task *t) { timer_cancel(t->retry); }
void task_destroy(struct task *t) {
  task_stop(t);
  free(t);
}
