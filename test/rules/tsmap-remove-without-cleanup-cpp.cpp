// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- -- -I%S/Inputs
// C++ ways of discarding a removed value: static_cast<void>, a functional
// cast to void and std::ignore are ignored results, like (void) in C.
#include "removal-session.h"
#include <tuple>

extern smap *g_sessions;

void drop_cast(int id) {
  static_cast<void>(smap_take(g_sessions, id));
  // CHECK-MESSAGES: :[[@LINE-1]]:21: warning: result of 'smap_take' is a removed value and is ignored; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  void(smap_take(g_sessions, id + 1));
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: result of 'smap_take' is a removed value and is ignored; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  std::ignore = smap_take(g_sessions, id + 2);
  // CHECK-MESSAGES: :[[@LINE-1]]:17: warning: result of 'smap_take' is a removed value and is ignored; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
}

// ---- Quiet ----------------------------------------------------------------

void drop_kept(int id) {
  session *s = nullptr; // also tells the map's value type
  if (smap_remove(g_sessions, id, &s) != SMAP_OK)
    return;
  timer_cancel(s->idle);
  free(s);
}

// ---- delete runs the destructor --------------------------------------------

struct tconn {
  int id;
  TSMAP_CLEANUP(timer_cancel) struct timer *idle = nullptr;
  ~tconn() {
    if (idle)
      timer_cancel(idle);
  }
};
struct hconn {
  TSMAP_CLEANUP(timer_cancel) struct timer *idle = nullptr;
  void stop() { timer_cancel(this->idle); }
  ~hconn() { stop(); }
};
struct lconn {
  TSMAP_CLEANUP(timer_cancel) struct timer *idle = nullptr;
  ~lconn() {} // forgets the timer
};
TSMAP_RETURNS_REMOVED void *take_any(smap *m, int key);
extern smap *g_t, *g_h, *g_l;

void drop_tconn(int id) {
  tconn *c = static_cast<tconn *>(take_any(g_t, id));
  delete c; // quiet: ~tconn cancels the timer
}
void drop_hconn(int id) {
  hconn *c = static_cast<hconn *>(take_any(g_h, id));
  delete c; // quiet: through stop()
}
void drop_lconn(int id) {
  lconn *c = static_cast<lconn *>(take_any(g_l, id));
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: value removed by 'take_any' into 'c' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  delete c;
}

// An RAII owner takes the value; a destructor defined in another file is
// trusted as a function with no body is.
namespace std {
template <class T> struct unique_ptr {
  explicit unique_ptr(T *p) : p_(p) {}
  ~unique_ptr() { delete p_; }
  T *p_;
};
} // namespace std
struct oconn {
  TSMAP_CLEANUP(timer_cancel) struct timer *idle = nullptr;
  ~oconn(); // another file
};
extern smap *g_o;
void drop_owned(int id) {
  tconn *c = static_cast<tconn *>(take_any(g_t, id));
  std::unique_ptr<tconn> owner(c); // quiet
}
void drop_out_of_line(int id) {
  oconn *c = static_cast<oconn *>(take_any(g_o, id));
  delete c; // quiet: ~oconn is not seen
}
