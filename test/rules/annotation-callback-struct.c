// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback,tsmap-reentrant-callback %t
//
// In C a struct is never called: TSMAP_CALLBACK and TSMAP_CALLBACK_LOCKED on a
// parameter of struct type mean nothing (spec audit S15).

#include <tsmap/annotations.h>

struct loader { int (*fn)(const char *); void *ctx; };
struct store;
int store_load(struct store *s, TSMAP_CALLBACK struct loader l);
// CHECK-MESSAGES: :[[@LINE-1]]:33: warning: TSMAP_CALLBACK goes on a function-pointer parameter; on a parameter of type 'struct loader' it means nothing [tsmap-non-idempotent-callback]
int store_walk(struct store *s, TSMAP_CALLBACK_LOCKED struct loader l);
// CHECK-MESSAGES: :[[@LINE-1]]:33: warning: TSMAP_CALLBACK_LOCKED goes on a function-pointer parameter; on a parameter of type 'struct loader' it means nothing [tsmap-reentrant-callback]
int store_each(struct store *s, TSMAP_CALLBACK int (*fn)(const char *));
