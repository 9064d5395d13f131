// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback,tsmap-reentrant-callback %t -- -- -std=c++17
//
// TSMAP_CALLBACK and TSMAP_CALLBACK_LOCKED on a parameter of struct type mean
// nothing in C (a struct is never called: annotation-callback-struct.c), nor in C++ on a class with no
// operator() and no conversion (spec audit S15); a class that can be called
// (its own operator(), a base's, a conversion to a function pointer,
// std::function, a lambda's closure type, a template parameter) is fine.

#include <tsmap/annotations.h>

struct loader { int (*fn)(const char *); void *ctx; };
struct store;
int store_load(struct store *s, TSMAP_CALLBACK struct loader l);
// CHECK-MESSAGES: :[[@LINE-1]]:33: warning: TSMAP_CALLBACK goes on a function-pointer parameter; on a parameter of type 'struct loader' it means nothing [tsmap-non-idempotent-callback]
int store_walk(struct store *s, TSMAP_CALLBACK_LOCKED struct loader l);
// CHECK-MESSAGES: :[[@LINE-1]]:33: warning: TSMAP_CALLBACK_LOCKED goes on a function-pointer parameter; on a parameter of type 'struct loader' it means nothing [tsmap-reentrant-callback]

#include <functional>
struct Visitor { int operator()(int) const; };
struct Derived : Visitor {};
struct Plain { int x; };
typedef int (*int_fn)(int);
struct Convertible { operator int_fn() const; };
int with_visitor(TSMAP_CALLBACK Visitor v);
int with_derived(TSMAP_CALLBACK const Derived &v);
int with_function(TSMAP_CALLBACK std::function<int(int)> f);
int with_convertible(TSMAP_CALLBACK Convertible c);
template <class F> int with_template(TSMAP_CALLBACK F &&f);
int with_plain(TSMAP_CALLBACK Plain p);
// CHECK-MESSAGES: :[[@LINE-1]]:16: warning: TSMAP_CALLBACK goes on a function-pointer parameter; on a parameter of type 'Plain' it means nothing [tsmap-non-idempotent-callback]
