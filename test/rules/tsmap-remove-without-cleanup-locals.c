// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- -- -I%S/Inputs
// Where real code keeps a removed value: locals that die with the function
// (a field of a local struct, an element of a local array, a by-value struct
// parameter) are not a hand-off; a value only compared is dropped; a loop
// that pops leaks on the paths that `continue` or `break` before the
// release; a variable given another value no longer holds the removed one.
#include "removal-session.h"

extern smap *g_sessions;
struct op { struct session *reg; int kind; };
struct batch { struct session *items[8]; int n; };
void submit(struct op *o);       /* no body: may keep it */
void log_expired(void);
void log_kind(int kind);

// ---- Locals that die ------------------------------------------------------------

void op_local(int id) {
  struct op op;
  op.reg = smap_take(g_sessions, id);
  // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: value removed by 'smap_take' into 'op.reg' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  op.kind = 1;
  log_kind(op.kind);
}

void op_submitted(int id) {
  struct op op;
  op.reg = smap_take(g_sessions, id);
  submit(&op); /* quiet: the struct is handed on */
}

void op_cleaned(int id) {
  struct op op;
  op.reg = smap_take(g_sessions, id);
  if (op.reg)
    timer_cancel(op.reg->idle);
  free(op.reg);
}

void op_out_param(int id) {
  struct op op;
  if (smap_remove(g_sessions, id, &op.reg) != SMAP_OK)
  // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: value removed by 'smap_remove' into 'op.reg' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
    return;
  log_kind(op.kind);
}

void batch_local(const int *ids, int n) {
  struct batch local = {0};
  for (int i = 0; i < n && local.n < 8; ++i) {
    struct session *s = NULL;
    if (smap_remove(g_sessions, ids[i], &s) != SMAP_OK)
    // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: value removed by 'smap_remove' into 's' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
      continue;
    local.items[local.n++] = s; /* dies with 'local' */
  }
}

struct batch *g_pending;
void batch_pending(const int *ids, int n) {
  for (int i = 0; i < n && g_pending->n < 8; ++i) {
    struct session *s = NULL;
    if (smap_remove(g_sessions, ids[i], &s) != SMAP_OK)
      continue;
    g_pending->items[g_pending->n++] = s; /* quiet: outlives the call */
  }
}

void into_byvalue(struct op o, int id) {
  struct session *s = NULL;
  if (smap_remove(g_sessions, id, &s) != SMAP_OK)
  // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: value removed by 'smap_remove' into 's' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
    return;
  o.reg = s; /* the parameter is a copy: dies with the call */
}

void into_pointed(struct op *o, int id) {
  struct session *s = NULL;
  if (smap_remove(g_sessions, id, &s) != SMAP_OK)
    return;
  o->reg = s; /* quiet: the caller's struct */
}

// ---- A value only compared ---------------------------------------------------------

void expire(int id) {
  if (smap_take(g_sessions, id) != NULL)
  // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: result of 'smap_take' is a removed value and is ignored; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
    log_expired();
  if (!smap_take(g_sessions, id + 1))
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: result of 'smap_take' is a removed value and is ignored; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
    return;
}

void expire_kept(int id) {
  struct session *s;
  if ((s = smap_take(g_sessions, id)) != NULL) {
    timer_cancel(s->idle);
    free(s);
  }
}

// ---- Loops that pop -----------------------------------------------------------------

void drain_sticky(void) {
  struct session *s = NULL;
  while (smap_remove(g_sessions, 0, &s) == SMAP_OK && s) {
  // CHECK-MESSAGES: :[[@LINE-1]]:10: warning: value removed by 'smap_remove' into 's' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
    if (s->id < 0)
      continue; /* leaks every sticky session */
    timer_cancel(s->idle);
    free(s);
  }
}

void drain_break(void) {
  struct session *s = NULL;
  while (smap_remove(g_sessions, 0, &s) == SMAP_OK) {
  // CHECK-MESSAGES: :[[@LINE-1]]:10: warning: value removed by 'smap_remove' into 's' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
    if (s->id < 0)
      break; /* leaks the one popped */
    timer_cancel(s->idle);
    free(s);
  }
}

void drain_clean(void) {
  struct session *s = NULL;
  while (smap_remove(g_sessions, 0, &s) == SMAP_OK && s) {
    timer_cancel(s->idle);
    if (s->id < 0)
      continue;
    free(s);
  }
}

// ---- Reassignment ---------------------------------------------------------------------

extern struct session *g_spare;
void swap_out(int id) {
  struct session *s = smap_take(g_sessions, id);
  // CHECK-MESSAGES: :[[@LINE-1]]:23: warning: value removed by 'smap_take' into 's' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  s = g_spare; /* the removed value is lost here */
  if (!s)
    return;
  timer_cancel(s->idle);
}

void swap_kept(int id) {
  struct session *s = smap_take(g_sessions, id);
  struct session *old = s;
  s = g_spare; /* 'old' still holds it */
  if (old)
    timer_cancel(old->idle);
  free(old);
  (void)s;
}

/* An initializer is an assignment: the aggregate holds the value. Returned,
 * passed on or cleaned through its field, it is complete; left to die, it
 * leaks. */
struct op give_init(int id) {
  struct session *s = smap_take(g_sessions, id);
  struct op o = {s, 1};
  return o;
}
struct op give_literal(int id) {
  struct session *s = smap_take(g_sessions, id);
  return (struct op){s, 1};
}
void submit_designated(int id) {
  struct session *s = smap_take(g_sessions, id);
  struct op o = {.kind = 2, .reg = s};
  submit(&o);
}
void submit_literal(int id) {
  struct session *s = smap_take(g_sessions, id);
  submit(&(struct op){.reg = s});
}
void clean_through_field(int id) {
  struct session *s = smap_take(g_sessions, id);
  struct op o = {s, 1};
  if (o.reg)
    timer_cancel(o.reg->idle);
  free(s);
}
void batch_init(int id) {
  struct session *s = smap_take(g_sessions, id);
  struct batch b = {{s}, 1};
  submit((struct op *)&b);
}
void init_dies(int id) {
  struct session *s = smap_take(g_sessions, id);
  // CHECK-MESSAGES: :[[@LINE-1]]:23: warning: value removed by 'smap_take' into 's' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  struct op o = {s, 1};
  log_kind(o.kind);
}
void literal_dies(int id) {
  struct session *s = smap_take(g_sessions, id);
  // CHECK-MESSAGES: :[[@LINE-1]]:23: warning: value removed by 'smap_take' into 's' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  struct op o;
  o = (struct op){.kind = 3, .reg = s};
  log_kind(o.kind);
}

/* A compound literal given to a function with a body: the value is followed
 * at its place in it. */
static void op_finish(struct op *o) {
  timer_cancel(o->reg->idle);
  free(o->reg);
}
static void op_log(struct op *o) { log_kind(o->kind); }
void finish_literal(int id) {
  struct session *s = smap_take(g_sessions, id);
  if (s)
    op_finish(&(struct op){.reg = s, .kind = 1}); /* quiet */
}
void log_literal(int id) {
  struct session *s = smap_take(g_sessions, id);
  // CHECK-MESSAGES: :[[@LINE-1]]:23: warning: value removed by 'smap_take' into 's' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  if (s)
    op_log(&(struct op){.reg = s, .kind = 1});
}
