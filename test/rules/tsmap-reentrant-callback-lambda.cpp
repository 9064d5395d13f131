// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t
//
// C++ callbacks: a lambda passed to a `F &&fn TSMAP_CALLBACK_LOCKED` template
// parameter, to a std::function parameter, and to a member function of an
// annotated map class. A capture of the map (by reference, or a pointer by
// copy) is the map; the lambda's own parameters and locals are not.

#include <tsmap/annotations.h>
#include <functional>
#include <string>

template <class K, class V> class TSMAP_THREAD_SAFE_MAP Cache {
public:
  template <class F> void for_each(F &&fn TSMAP_CALLBACK_LOCKED) {
    K k;
    V v;
    fn(k, v);
  }
  void visit(std::function<void(const K &, V &)> fn TSMAP_CALLBACK_LOCKED);
  void put(const K &k, const V &v);
  void erase(const K &k);
  V *find(const K &k);
};

struct Registry {
  Cache<std::string, int> sessions;
  Cache<std::string, int> archive;
};

void expire(Cache<std::string, int> &sessions, Cache<std::string, int> &archive) {
  sessions.for_each([&](const std::string &k, int &v) {
    if (v == 0)
      sessions.erase(k);
  });
  // CHECK-MESSAGES: :[[@LINE-4]]:21: warning: callback 'lambda at line [[@LINE-4]]' passed to 'for_each' re-enters the same map: it calls 'erase' on 'sessions'
  sessions.for_each([&](const std::string &k, int &v) {
    if (v == 0)
      archive.put(k, v); // another map
  });
  sessions.visit([&sessions](const std::string &k, int &v) { sessions.erase(k); });
  // CHECK-MESSAGES: :[[@LINE-1]]:18: warning: callback 'lambda at line {{[0-9]+}}' passed to 'visit' re-enters the same map: it calls 'erase' on 'sessions'
  sessions.visit([&](const std::string &k, int &v) {
    Cache<std::string, int> mine; // the lambda's own map
    mine.put(k, v);
  });
}

void through_pointer(Cache<std::string, int> *c) {
  c->for_each([c](const std::string &k, int &) { c->erase(k); });
  // CHECK-MESSAGES: :[[@LINE-1]]:15: warning: callback 'lambda at line {{[0-9]+}}' passed to 'for_each' re-enters the same map: it calls 'erase' on 'c'
}

void fields(Registry &r) {
  r.sessions.for_each([&r](const std::string &k, int &v) { r.sessions.erase(k); });
  // CHECK-MESSAGES: :[[@LINE-1]]:23: warning: callback 'lambda at line {{[0-9]+}}' passed to 'for_each' re-enters the same map: it calls 'erase' on 'r.sessions'
  r.sessions.for_each([&r](const std::string &k, int &v) { r.archive.put(k, v); });
}

// Generic lambdas: the operator the walk instantiated is followed.
void generic(Cache<std::string, int> &sessions, Cache<std::string, int> &other) {
  sessions.for_each([&](const auto &k, auto &v) {
    if (v < 0)
      sessions.erase(k);
  });
  // CHECK-MESSAGES: :[[@LINE-4]]:21: warning: callback 'lambda at line {{[0-9]+}}' passed to 'for_each' re-enters the same map: it calls 'erase' on 'sessions'
  sessions.for_each([&](const auto &k, auto &v) {
    if (v < 0)
      other.erase(k); // another map
  });
}
