// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- \
// RUN:   -config="{CheckOptions: {Contracts: 'kv=thread_safe_map; kv_take=returns_removed; Watch.tick=cleanup(ticker_stop); ns::Pair.tick=cleanup(ticker_stop); Watch.tickk=weak'}}"
//
// In C++ too a field entry names its record by typedef (of an anonymous
// struct) or by alias, qualified or not, and a missing field is an error.

// CHECK-MESSAGES: warning: invalid entry 'Watch.tickk=weak' in option 'Contracts': record 'Watch' has no field 'tickk'; its fields are 'key', 'tick' [clang-tidy-config]

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

namespace ns {
struct pair_s {
  int key;
  struct ticker *tick;
};
using Pair = pair_s;
} // namespace ns

void drop_watch(int key) {
  Watch *w = static_cast<Watch *>(kv_take(g_items, key));
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: value removed by 'kv_take' into 'w' is not cleaned up on every path; its field 'tick' keeps a resource that 'ticker_stop' must release [tsmap-remove-without-cleanup]
  free(w);
}

void drop_pair(int key) {
  ns::Pair *p = static_cast<ns::Pair *>(kv_take(g_items, key));
  // CHECK-MESSAGES: :[[@LINE-1]]:41: warning: value removed by 'kv_take' into 'p' is not cleaned up on every path; its field 'tick' keeps a resource that 'ticker_stop' must release [tsmap-remove-without-cleanup]
  free(p);
}

// ---- Quiet ----------------------------------------------------------------

void drop_watch_clean(int key) {
  Watch *w = static_cast<Watch *>(kv_take(g_items, key));
  ticker_stop(w->tick);
  free(w);
}
