// RUN: %check_tsmap_tidy %s tsmap-weak-mutable-value %t -- -- -std=c++17 -I%S/Inputs
//
// C++: an annotated map wrapper whose value type is std::weak_ptr<T> or a raw
// T* to a mutable T, and TSMAP_PUBLISHES on a wrapper's method.

#include <memory>
#include <mutex>
#include <string>
#include <tsmap/annotations.h>

template <class K, class V> class TSMAP_THREAD_SAFE_MAP ConcurrentMap {
public:
  void put(const K &k, V v) { (void)k; (void)v; }
  void put_ptr(const K &k, TSMAP_PUBLISHES V v) { (void)k; (void)v; }
};
template <class V> class TSMAP_THREAD_SAFE_MAP Registry {};
template <class K, class V> class PlainMap {}; // not annotated

struct User { std::string name; int logins = 0; };
struct TSMAP_IMMUTABLE Config { int port; };

// ---- Positives ----------------------------------------------------------------

ConcurrentMap<std::string, std::weak_ptr<User>> g_sessions;
// CHECK-MESSAGES: :[[@LINE-1]]:49: warning: map 'g_sessions' holds values of type 'std::weak_ptr<User>', a weak reference to mutable 'User' that the map neither owns nor protects: other threads may see it modified or freed [tsmap-weak-mutable-value]

struct Service {
  ConcurrentMap<int, User *> by_id;
  // CHECK-MESSAGES: :[[@LINE-1]]:30: warning: map 'by_id' holds values of type 'User *', a raw pointer to mutable 'User' that the map neither owns nor protects: other threads may see it modified or freed [tsmap-weak-mutable-value]
};

void local_registry() {
  Registry<User *> users;
  // CHECK-MESSAGES: :[[@LINE-1]]:20: warning: map 'users' holds values of type 'User *', a raw pointer to mutable 'User' that the map neither owns nor protects: other threads may see it modified or freed [tsmap-weak-mutable-value]
  (void)users;
}

void publish_local(ConcurrentMap<int, const User *> &m) {
  User u;
  m.put_ptr(1, &u);
  // CHECK-MESSAGES: :[[@LINE-1]]:16: warning: 'put_ptr' publishes the address of local variable 'u', which has automatic storage; the map keeps the pointer after 'publish_local' returns [tsmap-weak-mutable-value]
}

// ---- Negatives ----------------------------------------------------------------

ConcurrentMap<std::string, std::weak_ptr<const User>> g_ro_sessions;
ConcurrentMap<std::string, std::shared_ptr<User>> g_owned;
ConcurrentMap<int, const User *> g_const;
ConcurrentMap<int, Config *> g_immutable;
ConcurrentMap<int, User> g_by_value;
ConcurrentMap<User *, int> g_pointer_key;
PlainMap<int, User *> g_plain;

// A write inside a callback the map runs (a lambda) is the map's business;
// the lambda's body is not part of the publishing function.
template <class K, class V> class TSMAP_THREAD_SAFE_MAP LockedMap {
public:
  void put_ptr(const K &k, TSMAP_PUBLISHES V v) { (void)k; (void)v; }
  template <class F> void with_locked(const K &k, TSMAP_CALLBACK_LOCKED F fn) {
    (void)k;
    fn();
  }
};
void write_in_callback(LockedMap<int, const User *> &m) {
  User *u = new User();
  m.put_ptr(1, u);
  m.with_locked(1, [u] { u->logins++; });
}

void takes_ref(ConcurrentMap<int, User *> &m) { (void)m; }

void publish_heap(ConcurrentMap<int, const User *> &m) {
  m.put_ptr(2, new User());
}

// A misplaced annotation in a template is reported once, at the template,
// not again for each instantiation.
template <class V> struct Wrapper {
  void set(TSMAP_PUBLISHES int slot, V v) { (void)slot; (void)v; }
  // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: TSMAP_PUBLISHES goes on a pointer value parameter; on a parameter of type 'int' it means nothing [tsmap-weak-mutable-value]
};
void use_wrappers() {
  Wrapper<int>().set(1, 2);
  Wrapper<User *>().set(1, nullptr);
}

// A function template is checked in its instantiations.
template <class T> void publish_in_template(ConcurrentMap<int, const T *> &m, int rc) {
  T local{};
  m.put_ptr(rc, &local);
  // CHECK-MESSAGES: :[[@LINE-1]]:17: warning: 'put_ptr' publishes the address of local variable 'local', which has automatic storage; the map keeps the pointer after 'publish_in_template' returns [tsmap-weak-mutable-value]
  if (rc == sizeof(T))
    return;
}
void instantiate(ConcurrentMap<int, const User *> &m) { publish_in_template<User>(m, 1); }

struct Counter { std::mutex mu; long n = 0; };
void guarded_after(ConcurrentMap<int, Counter *> *m) {
  Counter *c = new Counter();
  m->put_ptr(1, c);
  std::lock_guard<std::mutex> g(c->mu);
  c->n = 1; // under the object's own lock
}
void unguarded_after(ConcurrentMap<int, Counter *> *m) {
  Counter *c = new Counter();
  m->put_ptr(1, c);
  c->n = 1;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'c->n' after 'c' was published by 'put_ptr'; other threads may be reading it through the map [tsmap-weak-mutable-value]
}


// A member operator: argument 0 of the call is the object itself.
struct Slots {
  void operator()(int slot, TSMAP_PUBLISHES const User *u) { (void)slot; (void)u; }
};
void publish_by_operator(Slots &s) {
  User u;
  s(1, &u);
  // CHECK-MESSAGES: :[[@LINE-1]]:8: warning: 'operator()' publishes the address of local variable 'u', which has automatic storage; the map keeps the pointer after 'publish_by_operator' returns [tsmap-weak-mutable-value]
}
