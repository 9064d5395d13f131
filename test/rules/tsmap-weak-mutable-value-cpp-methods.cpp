// RUN: %check_tsmap_tidy %s tsmap-weak-mutable-value %t -- -- -std=c++17 -I%S/Inputs
//
// After a publish, a method called on the published object whose body writes
// its members (`o->set (3)`) writes through it, as a function given the
// pointer does (spec audit S8). A method that writes under a lock it takes,
// one that changes only std::atomic members, and a const reader are not
// reported; neither is a C helper that writes under a lock it takes. The same
// for an object loaded with rcu_dereference.

#include <atomic>
#include <mutex>
#include <pthread.h>
#include <tsmap/annotations.h>
#include "fake_urcu.h"
#include "fake_urcu_pointer.h"

struct Obj {
  int v = 0;
  mutable std::mutex m;
  std::atomic<int> hits{0};
  void set(int x) { v = x; }
  void set_guarded(int x) {
    std::lock_guard<std::mutex> g(m);
    v = x;
  }
  void set_manual(int x) {
    m.lock();
    v = x;
    m.unlock();
  }
  void hit() { hits++; }
  void hit_fetch() { hits.fetch_add(1); }
  int get() const { return v; }
};
int pub(void *map, TSMAP_PUBLISHES Obj *o);

void by_method(void *map, Obj *o) {
  pub(map, o);
  o->set(3);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'set' writes through 'o' after 'o' was published by 'pub'; other threads may be reading it through the map [tsmap-weak-mutable-value]
  // CHECK-MESSAGES: :[[@LINE-3]]:3: note: 'o' is published to the map here
  // CHECK-MESSAGES: :[[@LINE-21]]:21: note: 'set' writes 'this->v' here
}
void by_object(void *map, Obj *o) {
  pub(map, o);
  (*o).set(4);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'set' writes through 'o' after 'o' was published by 'pub'
}
int quiet_methods(void *map, Obj *o) {
  pub(map, o);
  o->set_guarded(1);
  o->set_manual(2);
  o->hit();
  o->hit_fetch();
  return o->get();
}

struct C { int v; pthread_mutex_t lock; };
int pubc(void *map, TSMAP_PUBLISHES C *c);
static void c_set_locked(C *c, int x) {
  pthread_mutex_lock(&c->lock);
  c->v = x;
  pthread_mutex_unlock(&c->lock);
}
static void c_set_after_unlock(C *c, int x) {
  pthread_mutex_lock(&c->lock);
  pthread_mutex_unlock(&c->lock);
  c->v = x;
}
void c_helpers(void *map, C *c) {
  pubc(map, c);
  c_set_locked(c, 1);
  c_set_after_unlock(c, 2);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'c_set_after_unlock' writes through 'c' after 'c' was published by 'pubc'
}

static Obj *current;
void publish_current(Obj *o) { rcu_assign_pointer(current, o); }
void bump_current(void) {
  Obj *o = rcu_dereference(current);
  o->set(5);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'set' writes through 'o' while it is published through 'current'
  o->hit();
}
