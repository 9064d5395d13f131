// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- -- -std=c++17
//
// rules/tsmap-remove-without-cleanup.md, 3. Missed path, C++: a removed value handed
// to a std::unique_ptr (or std::shared_ptr) with reset() is taken by it, as one
// constructed from the value is: the owner's deleter runs the value's destructor,
// whether the owner is a global, a member, a caller's reference or a local (S10).
// A reset() of an owner given something else, or reset() with no argument, takes
// nothing, nor does a reset() on one path only.

#include <memory>
#include <tsmap/tsmap.h>

struct timer;
void timer_cancel(timer *t);
struct Conn { int fd; TSMAP_CLEANUP(timer_cancel) timer *idle; ~Conn() { timer_cancel(idle); } };
extern tsmap *g_conns;
static std::unique_ptr<Conn> g_parked;
static std::shared_ptr<Conn> g_shared;

// ---- Quiet: the owner takes the value --------------------------------------

int park_global(unsigned long id) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return -1;
  g_parked.reset(c);
  return 0;
}
struct Holder {
  std::unique_ptr<Conn> cur;
  int take(unsigned long id) {
    Conn *c;
    if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return -1;
    cur.reset(c);
    return 0;
  }
};
int park_ref(unsigned long id, std::unique_ptr<Conn> &out) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return -1;
  out.reset(c);
  return 0;
}
int park_local(unsigned long id) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return -1;
  std::unique_ptr<Conn> tmp;
  tmp.reset(c); // its deleter runs ~Conn at the end of the scope
  return 0;
}
int park_shared(unsigned long id) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return -1;
  g_shared.reset(c);
  return 0;
}
int park_ctor(unsigned long id) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return -1;
  std::unique_ptr<Conn> owner(c);
  return 0;
}

// ---- Reported: no owner takes the value -------------------------------------

int reset_other(unsigned long id, Conn *spare) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return -1;
  // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: value removed by 'tsmap_remove' into 'c' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  g_parked.reset(spare);
  return c->fd;
}
int reset_empty(unsigned long id) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return -1;
  // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: value removed by 'tsmap_remove' into 'c' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  g_parked.reset();
  return c->fd;
}
int reset_on_one_path(unsigned long id, bool keep) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return -1;
  // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: value removed by 'tsmap_remove' into 'c' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  if (keep)
    g_parked.reset(c);
  return 0;
}
