// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t
// A TSMAP_CLEANUP field inside a struct the value holds by value (`s->core.idle`)
// leaves the map with the value: its cleanup is owed as if the field were the
// value's own. A cleanup call on any part of the nested struct, or a function
// given it that cleans it, discharges it; a pointer to a struct is not nested.
#include <stdlib.h>
#include <tsmap/tsmap.h>

struct timer;
void timer_cancel(struct timer *t);

struct core { TSMAP_CLEANUP(timer_cancel) struct timer *idle; };
struct session { unsigned long id; int expired; struct core core; };
struct mid { int n; struct core c; };
struct outer { unsigned long id; struct mid m; };
struct linked { unsigned long id; struct core *shared; };

static tsmap *g_s, *g_o, *g_l;

static void core_fini(struct core *c) { timer_cancel(c->idle); }
static void core_forget(struct core *c) { c->idle = NULL; }
static void mid_fini(struct mid *m) { core_fini(&m->c); }
static void session_close(struct session *s) { timer_cancel(s->core.idle); free(s); }

int typed(struct session *s, struct outer *o, struct linked *l) {
  tsmap_put_ptr_if_absent(g_o, &o->id, sizeof o->id, o, NULL);
  tsmap_put_ptr_if_absent(g_l, &l->id, sizeof l->id, l, NULL);
  return tsmap_put_ptr_if_absent(g_s, &s->id, sizeof s->id, s, NULL);
}

// ---- Reported -------------------------------------------------------------------

int take_freed(unsigned long id, struct session **out) {
  struct session *s = NULL;
  if (tsmap_remove(g_s, &id, sizeof id, &s) != TSMAP_OK)
  // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: value removed by 'tsmap_remove' into 's' is not cleaned up on every path; its field 'core.idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
    return -1;
  if (s->expired) { free(s); return -2; }
  *out = s;
  return 0;
}

void take_forgotten(unsigned long id) {
  struct session *s = NULL;
  if (tsmap_remove(g_s, &id, sizeof id, &s) != TSMAP_OK)
  // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: value removed by 'tsmap_remove' into 's' is not cleaned up on every path; its field 'core.idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
    return;
  core_forget(&s->core);
  free(s);
}

void take_outer_freed(unsigned long id) {
  struct outer *o = NULL;
  if (tsmap_remove(g_o, &id, sizeof id, &o) != TSMAP_OK)
  // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: value removed by 'tsmap_remove' into 'o' is not cleaned up on every path; its field 'm.c.idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
    return;
  free(o);
}

void drop(unsigned long id) {
  tsmap_remove(g_s, &id, sizeof id, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: value removed by 'tsmap_remove' is discarded and the map has no eviction hook; its field 'core.idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
}

struct TSMAP_CLEANUP(conn_destroy) conn { int fd; struct core core; };
void conn_destroy(struct conn *c) { free(c); }
// CHECK-MESSAGES: :[[@LINE-1]]:6: warning: cleanup function 'conn_destroy' of 'struct conn' does not call 'timer_cancel' on field 'core.idle'; a removed value keeps that resource [tsmap-remove-without-cleanup]

// ---- Quiet ----------------------------------------------------------------------

void take_cancelled(unsigned long id) {
  struct session *s = NULL;
  if (tsmap_remove(g_s, &id, sizeof id, &s) != TSMAP_OK)
    return;
  timer_cancel(s->core.idle);
  free(s);
}

void take_helper(unsigned long id) {
  struct session *s = NULL;
  if (tsmap_remove(g_s, &id, sizeof id, &s) != TSMAP_OK)
    return;
  core_fini(&s->core);
  free(s);
}

void take_closed(unsigned long id) {
  struct session *s = NULL;
  if (tsmap_remove(g_s, &id, sizeof id, &s) == TSMAP_OK)
    session_close(s);
}

void take_outer(unsigned long id) {
  struct outer *o = NULL;
  if (tsmap_remove(g_o, &id, sizeof id, &o) != TSMAP_OK)
    return;
  mid_fini(&o->m);
  free(o);
}

void take_outer_direct(unsigned long id) {
  struct outer *o = NULL;
  if (tsmap_remove(g_o, &id, sizeof id, &o) != TSMAP_OK)
    return;
  timer_cancel(o->m.c.idle);
  free(o);
}

void take_linked(unsigned long id) {
  struct linked *l = NULL;
  if (tsmap_remove(g_l, &id, sizeof id, &l) != TSMAP_OK)
    return;
  free(l); /* the core is shared, not held by value */
}
