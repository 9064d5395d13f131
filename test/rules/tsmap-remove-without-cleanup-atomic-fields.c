// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- -- -I%S/Inputs
//
// A value kept in a concurrent map has atomic fields: an atomic load or
// exchange of the annotated field is a read of it (C11's, the GNU builtins,
// GLib's g_atomic_pointer_get), and the cleanup given what it read is done.
// Reading another field, or reading the field and dropping what was read,
// still leaks.

#include "removal-session.h"
#include <stdatomic.h>

// GLib's spelling (gatomic.h, with typeof).
#define g_atomic_pointer_get(atomic)                                           \
  (__extension__({                                                             \
    __typeof__(*(atomic)) gapg_temp_newval;                                    \
    __typeof__((atomic)) gapg_temp_atomic = (atomic);                          \
    __atomic_load(gapg_temp_atomic, &gapg_temp_newval, __ATOMIC_SEQ_CST);      \
    gapg_temp_newval;                                                          \
  }))

struct aconn {
  int id;
  TSMAP_CLEANUP(timer_cancel) _Atomic(struct timer *) idle;
  _Atomic(struct timer *) spare;
};
struct pconn {
  int id;
  TSMAP_CLEANUP(timer_cancel) struct timer *idle;
};
smap *g_a, *g_p;

void c11_exchange(int id) {
  struct aconn *c;
  if (!smap_steal(g_a, id, (void **)&c))
    return;
  struct timer *t = atomic_exchange(&c->idle, NULL);
  if (t)
    timer_cancel(t);
  free(c);
}

void c11_load(int id) {
  struct aconn *c;
  if (!smap_steal(g_a, id, (void **)&c))
    return;
  timer_cancel(atomic_load_explicit(&c->idle, memory_order_acquire));
  free(c);
}

void gnu_builtins(int id) {
  struct pconn *c;
  if (!smap_steal(g_p, id, (void **)&c))
    return;
  struct timer *t = __atomic_exchange_n(&c->idle, NULL, __ATOMIC_ACQ_REL);
  if (t)
    timer_cancel(t);
  free(c);
}

void glib_get(int id) {
  struct pconn *c;
  if (!smap_steal(g_p, id, (void **)&c))
    return;
  timer_cancel(g_atomic_pointer_get(&c->idle));
  free(c);
}

void another_field(int id) {
  struct aconn *c;
  if (!smap_steal(g_a, id, (void **)&c))
    return;
  // CHECK-MESSAGES: :[[@LINE-2]]:8: warning: value removed by 'smap_steal' into 'c' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  timer_cancel(atomic_load(&c->spare));
  free(c);
}

void read_and_dropped(int id) {
  struct pconn *c;
  if (!smap_steal(g_p, id, (void **)&c))
    return;
  // CHECK-MESSAGES: :[[@LINE-2]]:8: warning: value removed by 'smap_steal' into 'c' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  struct timer *t = __atomic_load_n(&c->idle, __ATOMIC_ACQUIRE);
  (void)t;
  free(c);
}
