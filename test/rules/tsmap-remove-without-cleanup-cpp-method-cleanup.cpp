// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- -- -std=c++17
//
// A member function run on the removed value whose body calls the field's
// cleanup on its own object (`c->shutdown ()` calling `timer_cancel (idle)`,
// directly or through another member it runs on itself) cleans it up, as the
// destructor's body does for `delete c` (spec audit S9). A member that does
// not, or cleans another field, does not.

#include <tsmap/tsmap.h>

struct timer;
void timer_cancel(timer *t);
struct Conn {
  int fd = -1;
  TSMAP_CLEANUP(timer_cancel) timer *idle = nullptr;
  timer *other = nullptr;
  void shutdown() { timer_cancel(idle); }
  void close_all() { shutdown(); }
  void cancel_other() { timer_cancel(other); }
  void touch() { fd = 0; }
};
extern tsmap *g_conns;

int drop_by_method(unsigned long id) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return -1;
  c->shutdown();
  delete c;
  return 0;
}
int drop_through_member(unsigned long id) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return -1;
  c->close_all();
  delete c;
  return 0;
}
int drop_touched(unsigned long id) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return -1;
  // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: value removed by 'tsmap_remove' into 'c' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  c->touch();
  delete c;
  return 0;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: note: 'c' is neither cleaned up with 'timer_cancel' nor handed on before the function returns here
}
int drop_other(unsigned long id) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return -1;
  // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: value removed by 'tsmap_remove' into 'c' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  c->cancel_other();
  delete c;
  return 0;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: note: 'c' is neither cleaned up with 'timer_cancel' nor handed on before the function returns here
}
