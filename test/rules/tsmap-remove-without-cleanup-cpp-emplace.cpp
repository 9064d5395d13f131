// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- -- -std=c++17
//
// rules/tsmap-remove-without-cleanup.md, 3. Missed path, C++: a removed value handed
// on into a caller's container by any of its storing members (emplace, emplace_back,
// emplace_front, emplace_hint, try_emplace, insert_or_assign, push_front, assign),
// as push_back, insert and `m[k] = c` are, or returned through a conversion of the
// value (a std::optional, a std::pair, a braced return, std::move), or stored by
// std::atomic's store or an operator= of a std class, is not reported (S11). A
// member that only compares the value with what the container holds (find, count)
// hands nothing on. A container of the function's own is not followed further:
// what is stored in it is taken as handed on (into_local below).

#include <atomic>
#include <deque>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>
#include <tsmap/tsmap.h>

struct timer;
void timer_cancel(timer *t);
struct Conn { int fd; TSMAP_CLEANUP(timer_cancel) timer *idle; };
extern tsmap *g_conns;
static std::vector<Conn *> g_parked;
static std::atomic<Conn *> g_slot;
static std::optional<Conn *> g_last;

// ---- Quiet: handed on -------------------------------------------------------

int by_emplace(unsigned long id, std::map<int, Conn *> &parked) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return -1;
  parked.emplace(c->fd, c);
  return 0;
}
int by_emplace_back(unsigned long id, std::vector<Conn *> &parked) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return -1;
  parked.emplace_back(c);
  return 0;
}
int by_emplace_front(unsigned long id, std::deque<Conn *> &parked) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return -1;
  parked.emplace_front(c);
  return 0;
}
int by_push_front(unsigned long id, std::list<Conn *> &parked) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return -1;
  parked.push_front(c);
  return 0;
}
int by_try_emplace(unsigned long id, std::unordered_map<int, Conn *> &parked) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return -1;
  parked.try_emplace(c->fd, c);
  return 0;
}
int by_insert_or_assign(unsigned long id, std::map<int, Conn *> &parked) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return -1;
  parked.insert_or_assign(c->fd, c);
  return 0;
}
int by_emplace_hint(unsigned long id, std::map<int, Conn *> &parked) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return -1;
  parked.emplace_hint(parked.end(), c->fd, c);
  return 0;
}
int by_set_emplace(unsigned long id, std::set<Conn *> &parked) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return -1;
  parked.emplace(c);
  return 0;
}
int by_assign(unsigned long id, std::vector<Conn *> &parked) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return -1;
  parked.assign(1, c);
  return 0;
}
int by_global_emplace_back(unsigned long id) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return -1;
  g_parked.emplace_back(c);
  return 0;
}
std::optional<Conn *> by_optional(unsigned long id) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return std::nullopt;
  return c;
}
std::pair<int, Conn *> by_pair(unsigned long id) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return {-1, nullptr};
  return {c->fd, c};
}
std::pair<int, Conn *> by_make_pair(unsigned long id) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return {-1, nullptr};
  return std::make_pair(c->fd, c);
}
int by_atomic_store(unsigned long id) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return -1;
  g_slot.store(c);
  return 0;
}
int by_atomic_assign(unsigned long id) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return -1;
  g_slot = c;
  return 0;
}
int by_optional_assign(unsigned long id) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return -1;
  g_last = c;
  return 0;
}
Conn *by_move(unsigned long id) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return nullptr;
  return std::move(c);
}
int by_push_back(unsigned long id, std::vector<Conn *> &parked) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return -1;
  parked.push_back(c);
  return 0;
}

int into_local(unsigned long id) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return -1;
  std::vector<Conn *> scratch; // not followed: taken as handed on
  scratch.emplace_back(c);
  return (int)scratch.size();
}

// ---- Reported: nothing keeps the value --------------------------------------

int stores_another(unsigned long id, std::vector<Conn *> &parked, Conn *spare) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return -1;
  // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: value removed by 'tsmap_remove' into 'c' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  parked.emplace_back(spare);
  return c->fd;
}
int only_looked_up(unsigned long id, std::set<Conn *> &parked) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return -1;
  // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: value removed by 'tsmap_remove' into 'c' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  return (int)parked.count(c);
}
int emplaced_on_one_path(unsigned long id, std::vector<Conn *> &parked, bool keep) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return -1;
  // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: value removed by 'tsmap_remove' into 'c' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  if (keep)
    parked.emplace_back(c);
  return 0;
}
std::optional<int> returns_only_a_field(unsigned long id) {
  Conn *c;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK) return std::nullopt;
  // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: value removed by 'tsmap_remove' into 'c' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  return c->fd;
}
