// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- \
// RUN:   -config="{CheckOptions: {Contracts: 'kv_table=thread_safe_map', tsmap-reentrant-callback.Contracts: 'kv_each(2)=callback_locked'}}"
// RUN: %check_tsmap_tidy -check-suffixes=BOTH %s tsmap-reentrant-callback %t -- \
// RUN:   -config="{CheckOptions: {Contracts: 'kv_table=thread_safe_map; kv_each(2)=callback_locked; kv_each(7)=callback', tsmap-reentrant-callback.Contracts: 'kv_each(2)=callback_locked; kv_each(7)=callback'}}"
// RUN: %check_tsmap_tidy -check-suffixes=MODELS %s tsmap-reentrant-callback %t -- \
// RUN:   -config="{CheckOptions: {ContractModels: 'qt', tsmap-reentrant-callback.ContractModels: '', Contracts: 'kv_table=thread_safe_map; kv_each(2)=callback_locked'}}"
//
// A check's own `Contracts` entries add to the global ones: one team's global
// list is not lost when another adds an entry for one check. An entry given
// both ways is read once (and reported once). A check's own `ContractModels`
// replaces the global one: it chooses which shipped models that check uses
// (here none, so the global unknown 'qt' is not read).

// CHECK-MESSAGES-BOTH: warning: invalid entry 'kv_each(7)=callback' in option 'Contracts': function 'kv_each' has 3 parameters [clang-tidy-config]

typedef struct kv_table kv_table;
typedef void (*kv_visit)(const char *k, void *ctx);
void kv_each(kv_table *, kv_visit, void *);
int kv_del(kv_table *t, const char *k);

static kv_table *g_kv;
static void visit(const char *k, void *ctx) { kv_del(g_kv, k); }

void go(void) {
  kv_each(g_kv, visit, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:17: warning: callback 'visit' passed to 'kv_each' re-enters the same map: it calls 'kv_del' on 'g_kv'
  // CHECK-MESSAGES-BOTH: :[[@LINE-2]]:17: warning: callback 'visit' passed to 'kv_each' re-enters the same map: it calls 'kv_del' on 'g_kv'
  // CHECK-MESSAGES-MODELS: :[[@LINE-3]]:17: warning: callback 'visit' passed to 'kv_each' re-enters the same map: it calls 'kv_del' on 'g_kv'
}
