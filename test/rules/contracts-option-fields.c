// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- \
// RUN:   -config="{CheckOptions: {Contracts: 'kv=thread_safe_map; kv_take=returns_removed; Watch.tick=cleanup(ticker_stop); struct Pair.tick=cleanup(ticker_stop); struct tagged.tick=cleanup(ticker_stop); Watch.tickk=cleanup(ticker_stop); Pair.nokey=weak; pair_s.key=weak; Wacth.tick=cleanup(ticker_stop); Opaque.x=weak; kv_take.tick=weak'}}"
//
// A field entry names its record by struct tag or by typedef, the typedef of
// an anonymous struct included (`typedef struct { ... } Watch;`): its contract
// applies as for a tagged struct. Where the unit defines the record, a field
// entry naming a field the record lacks is a configuration error listing the
// fields it could have named, as for parameters; so is a record name that is a
// function. A record the unit does not declare (Wacth), or declares without
// defining (Opaque), says nothing about the unit.

// CHECK-MESSAGES: warning: invalid entry 'Pair.nokey=weak' in option 'Contracts': record 'Pair' has no field 'nokey'; its fields are 'key', 'tick' [clang-tidy-config]
// CHECK-MESSAGES: warning: invalid entry 'Watch.tickk=cleanup(ticker_stop)' in option 'Contracts': record 'Watch' has no field 'tickk'; its fields are 'key', 'tick' [clang-tidy-config]
// CHECK-MESSAGES: warning: invalid entry 'kv_take.tick=weak' in option 'Contracts': 'kv_take' is a function, not a struct or union [clang-tidy-config]

#include <stdlib.h>

typedef struct kv kv;
struct ticker;
void ticker_stop(struct ticker *t);
void *kv_take(kv *m, int key);
kv *g_items;

typedef struct {
  int key;
  struct ticker *tick;
} Watch;

typedef struct pair_s {
  int key;
  struct ticker *tick;
} Pair;

struct tagged {
  int key;
  struct ticker *tick;
};

typedef struct opaque Opaque;

void drop_watch(int key) {
  Watch *w = kv_take(g_items, key);
  // CHECK-MESSAGES: :[[@LINE-1]]:14: warning: value removed by 'kv_take' into 'w' is not cleaned up on every path; its field 'tick' keeps a resource that 'ticker_stop' must release [tsmap-remove-without-cleanup]
  free(w);
}

void drop_pair(int key) {
  Pair *p = kv_take(g_items, key);
  // CHECK-MESSAGES: :[[@LINE-1]]:13: warning: value removed by 'kv_take' into 'p' is not cleaned up on every path; its field 'tick' keeps a resource that 'ticker_stop' must release [tsmap-remove-without-cleanup]
  free(p);
}

void drop_tagged(int key) {
  struct tagged *t = kv_take(g_items, key);
  // CHECK-MESSAGES: :[[@LINE-1]]:22: warning: value removed by 'kv_take' into 't' is not cleaned up on every path; its field 'tick' keeps a resource that 'ticker_stop' must release [tsmap-remove-without-cleanup]
  free(t);
}

// ---- Quiet ----------------------------------------------------------------

void drop_watch_clean(int key) {
  Watch *w = kv_take(g_items, key);
  ticker_stop(w->tick);
  free(w);
}
