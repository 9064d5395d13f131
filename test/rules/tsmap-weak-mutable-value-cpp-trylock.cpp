// RUN: %check_tsmap_tidy %s tsmap-weak-mutable-value %t -- -- -std=c++17
//
// rules/tsmap-weak-mutable-value.md, locks: a trylock holds the lock only where a
// test of its result says it was taken. C++'s member try_lock (std::mutex,
// std::timed_mutex's try_lock_for, std::unique_lock::try_lock) is true when taken;
// a std::unique_lock given std::try_to_lock holds it where owns_lock() (or the
// guard itself) says so, one given std::defer_lock holds none until it is locked;
// try_lock_shared is a read lock and keeps no reader out. A write on the side where
// the lock was not taken is reported (S14); on the taken side it is not.

#include <chrono>
#include <mutex>
#include <shared_mutex>
#include <tsmap/annotations.h>

struct Slot {
  int a;
  std::mutex mu;
  std::timed_mutex tm;
  std::shared_mutex sm;
};
int put(void *m, TSMAP_PUBLISHES Slot *o);

// The failure side: reported.
void not_taken(void *m, Slot *o) {
  put(m, o);
  if (!o->mu.try_lock()) { o->a = 1; }
  // CHECK-MESSAGES: :[[@LINE-1]]:28: warning: write to 'o->a' after 'o' was published by 'put'; other threads may be reading it through the map [tsmap-weak-mutable-value]
}
void not_taken_local(void *m, Slot *o) {
  put(m, o);
  bool got = o->mu.try_lock();
  if (!got) o->a = 2;
  // CHECK-MESSAGES: :[[@LINE-1]]:13: warning: write to 'o->a' after 'o' was published by 'put'; other threads may be reading it through the map [tsmap-weak-mutable-value]
}
void not_taken_else(void *m, Slot *o) {
  put(m, o);
  if (o->mu.try_lock()) { o->mu.unlock(); } else { o->a = 3; }
  // CHECK-MESSAGES: :[[@LINE-1]]:52: warning: write to 'o->a' after 'o' was published by 'put'; other threads may be reading it through the map [tsmap-weak-mutable-value]
}
void not_taken_timed(void *m, Slot *o) {
  put(m, o);
  if (!o->tm.try_lock_for(std::chrono::milliseconds(5))) o->a = 4;
  // CHECK-MESSAGES: :[[@LINE-1]]:58: warning: write to 'o->a' after 'o' was published by 'put'; other threads may be reading it through the map [tsmap-weak-mutable-value]
}
void not_taken_deferred(void *m, Slot *o) {
  put(m, o);
  std::unique_lock<std::mutex> l(o->mu, std::defer_lock);
  if (!l.try_lock()) o->a = 5;
  // CHECK-MESSAGES: :[[@LINE-1]]:22: warning: write to 'o->a' after 'o' was published by 'put'; other threads may be reading it through the map [tsmap-weak-mutable-value]
}
void before_deferred_lock(void *m, Slot *o) {
  put(m, o);
  std::unique_lock<std::mutex> l(o->mu, std::defer_lock);
  o->a = 6;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'o->a' after 'o' was published by 'put'; other threads may be reading it through the map [tsmap-weak-mutable-value]
  l.lock();
}
void not_owned(void *m, Slot *o) {
  put(m, o);
  std::unique_lock<std::mutex> l(o->mu, std::try_to_lock);
  if (!l.owns_lock()) o->a = 7;
  // CHECK-MESSAGES: :[[@LINE-1]]:23: warning: write to 'o->a' after 'o' was published by 'put'; other threads may be reading it through the map [tsmap-weak-mutable-value]
}
void not_owned_bool(void *m, Slot *o) {
  put(m, o);
  std::unique_lock<std::mutex> l(o->mu, std::try_to_lock);
  if (l) return;
  o->a = 8;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'o->a' after 'o' was published by 'put'; other threads may be reading it through the map [tsmap-weak-mutable-value]
}
void shared_only(void *m, Slot *o) {
  put(m, o);
  if (o->sm.try_lock_shared()) { o->a = 9; o->sm.unlock_shared(); }
  // CHECK-MESSAGES: :[[@LINE-1]]:34: warning: write to 'o->a' after 'o' was published by 'put'; other threads may be reading it through the map [tsmap-weak-mutable-value]
}

// The taken side: quiet.
void taken(void *m, Slot *o) {
  put(m, o);
  if (o->mu.try_lock()) { o->a = 10; o->mu.unlock(); }
}
void taken_local(void *m, Slot *o) {
  put(m, o);
  bool got = o->mu.try_lock();
  if (!got) return;
  o->a = 11;
  o->mu.unlock();
}
void taken_timed(void *m, Slot *o) {
  put(m, o);
  if (o->tm.try_lock_for(std::chrono::milliseconds(5))) { o->a = 12; o->tm.unlock(); }
}
void taken_exclusive_shared_mutex(void *m, Slot *o) {
  put(m, o);
  if (o->sm.try_lock()) { o->a = 13; o->sm.unlock(); }
}
void taken_deferred(void *m, Slot *o) {
  put(m, o);
  std::unique_lock<std::mutex> l(o->mu, std::defer_lock);
  if (l.try_lock()) o->a = 14;
}
void deferred_then_locked(void *m, Slot *o) {
  put(m, o);
  std::unique_lock<std::mutex> l(o->mu, std::defer_lock);
  l.lock();
  o->a = 15;
}
void owned(void *m, Slot *o) {
  put(m, o);
  std::unique_lock<std::mutex> l(o->mu, std::try_to_lock);
  if (l.owns_lock()) o->a = 16;
}
void owned_bool(void *m, Slot *o) {
  put(m, o);
  std::unique_lock<std::mutex> l(o->mu, std::try_to_lock);
  if (!l) return;
  o->a = 17;
}
void adopted(void *m, Slot *o) {
  put(m, o);
  o->mu.lock();
  std::lock_guard<std::mutex> g(o->mu, std::adopt_lock);
  o->a = 18;
}
