// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
//
// tsmap-reentrant-callback owns the annotation problems of
// TSMAP_THREAD_SAFE_MAP, TSMAP_MAP_OPERATION and TSMAP_CALLBACK_LOCKED: each
// is reported at the annotation, once. Problems of the other kinds (an unknown
// name, TSMAP_CALLBACK on an int, TSMAP_CLEANUP naming nothing) belong to the
// other checks and are not reported here.

#include <tsmap/annotations.h>
#include "reentrant-store.h"

// ---- Misplaced: reported ------------------------------------------------

TSMAP_THREAD_SAFE_MAP int g_not_a_type;
// CHECK-MESSAGES: :[[@LINE-1]]:1: warning: TSMAP_THREAD_SAFE_MAP goes on the struct or typedef of a map handle; on a variable of type 'int' it means nothing [tsmap-reentrant-callback]

TSMAP_THREAD_SAFE_MAP void map_create(void);
// CHECK-MESSAGES: :[[@LINE-1]]:1: warning: TSMAP_THREAD_SAFE_MAP goes on the struct or typedef of a map handle; on a function returning 'void' it means nothing

struct table_holder {
  TSMAP_MAP_OPERATION int op_field;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: TSMAP_MAP_OPERATION goes on a function; on a field of type 'int' it means nothing
};

void walk_int(store *s, TSMAP_CALLBACK_LOCKED int visit);
// CHECK-MESSAGES: :[[@LINE-1]]:25: warning: TSMAP_CALLBACK_LOCKED goes on a function-pointer parameter; on a parameter of type 'int' it means nothing

void walk_ptr(store *s, void *visit TSMAP_CALLBACK_LOCKED);
// CHECK-MESSAGES: :[[@LINE-1]]:37: warning: TSMAP_CALLBACK_LOCKED goes on a function-pointer parameter; on a parameter of type 'void *' it means nothing

TSMAP_CALLBACK_LOCKED int store_walk_all(store *s);
// CHECK-MESSAGES: :[[@LINE-1]]:1: warning: TSMAP_CALLBACK_LOCKED goes on a function-pointer parameter; on a function returning 'int' it means nothing

// Written twice on redeclarations: each annotation is reported where it is
// written, and an inherited copy is not reported again.
void walk_twice(store *s, TSMAP_CALLBACK_LOCKED long visit);
// CHECK-MESSAGES: :[[@LINE-1]]:27: warning: TSMAP_CALLBACK_LOCKED goes on a function-pointer parameter; on a parameter of type 'long' it means nothing
void walk_twice(store *s, long visit);

// A raw annotate string with our prefix is judged like the macro.
int g_raw __attribute__((annotate("tsmap::thread_safe_map")));
// CHECK-MESSAGES: :[[@LINE-1]]:26: warning: TSMAP_THREAD_SAFE_MAP goes on the struct or typedef of a map handle; on a variable of type 'int' it means nothing

// ---- Well placed: quiet -------------------------------------------------

typedef struct TSMAP_THREAD_SAFE_MAP kv kv;
struct TSMAP_THREAD_SAFE_MAP lru { int n; };
typedef struct lru lru_t TSMAP_THREAD_SAFE_MAP;
typedef void (*kv_visit)(int key, void *ctx);
void kv_each(kv *m, TSMAP_CALLBACK_LOCKED kv_visit visit, void *ctx);
void kv_each_raw(kv *m, TSMAP_CALLBACK_LOCKED void (*visit)(int, void *), void *ctx);
void kv_both(kv *m, TSMAP_CALLBACK TSMAP_CALLBACK_LOCKED kv_visit visit, void *ctx);
TSMAP_MAP_OPERATION void kv_flush_all(void);
void kv_each(kv *m, kv_visit visit, void *ctx); // inherits the annotation

// ---- Owned by other checks: not reported here ---------------------------

int g_misspelled __attribute__((annotate("tsmap::callbak_locked")));
void cb_on_int(TSMAP_CALLBACK int n);
struct session { int fd TSMAP_CLEANUP(no_such_close); };
TSMAP_WEAK int g_weak_int;
int g_foreign __attribute__((annotate("someone_else::thing")));
