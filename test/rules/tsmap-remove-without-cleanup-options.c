// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- -config="{CheckOptions: {Contracts: 'kv=thread_safe_map; kv_take=returns_removed; kv_del(out)=removed_out; kv_set=replaces; struct item.tick=cleanup(ticker_stop); g_hooked=evicts_with(item_evict)'}}"
// RUN: %check_tsmap_tidy -check-suffixes=OPT %s tsmap-remove-without-cleanup %t -- -config="{CheckOptions: {Contracts: 'kv=thread_safe_map; kv_take=returns_removed; kv_del(out)=removed_out; kv_set=replaces; struct item.tick=cleanup(ticker_stop); g_hooked=evicts_with(item_evict)'}}"
// Contracts declared in the Contracts option for an API with no annotations.
#include <stddef.h>
#include <stdlib.h>

typedef struct kv kv;
struct ticker;
void ticker_stop(struct ticker *t);
struct item {
  int key;
  struct ticker *tick;
};
void *kv_take(kv *m, int key);
int kv_del(kv *m, int key, void *out);
int kv_set(kv *m, int key, void *value);

static void item_evict(void *value) {
  struct item *it = value;
  ticker_stop(it->tick);
  free(it);
}

kv *g_items;
kv *g_hooked;

void drop(int key) {
  struct item *it = kv_take(g_items, key);
  // CHECK-MESSAGES: :[[@LINE-1]]:21: warning: value removed by 'kv_take' into 'it' is not cleaned up on every path; its field 'tick' keeps a resource that 'ticker_stop' must release [tsmap-remove-without-cleanup]
  free(it);
}
// CHECK-NOTES-OPT: :[[@LINE-4]]:21: warning: value removed by 'kv_take' into 'it' is not cleaned up on every path; its field 'tick' keeps a resource that 'ticker_stop' must release [tsmap-remove-without-cleanup]
// CHECK-NOTES-OPT: :[[@LINE-3]]:3: note: 'it' is destroyed here without 'ticker_stop'; 'free' is a deallocator, not a hand-off
// CHECK-NOTES-OPT: :[[@LINE-3]]:1: note: 'it' is neither cleaned up with 'ticker_stop' nor handed on before the function ends here
// CHECK-NOTES-OPT: :12:18: note: field 'tick' needs cleanup 'ticker_stop' by option 'Contracts'
// CHECK-NOTES-OPT: :[[@LINE+4]]:3: warning: 'kv_set' may overwrite a value and the map has no eviction hook; its field 'tick' keeps a resource that 'ticker_stop' must release [tsmap-remove-without-cleanup]
// CHECK-NOTES-OPT: :12:18: note: field 'tick' needs cleanup 'ticker_stop' by option 'Contracts'

void store(struct item *it) {
  kv_set(g_items, it->key, it);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'kv_set' may overwrite a value and the map has no eviction hook; its field 'tick' keeps a resource that 'ticker_stop' must release [tsmap-remove-without-cleanup]
  kv_set(g_hooked, it->key, it);
}

// ---- Quiet ----------------------------------------------------------------

void drop_clean(int key) {
  struct item *it = NULL;
  if (kv_del(g_items, key, &it) != 0)
    return; /* an int status compared with 0 ends the path quietly */
  ticker_stop(it->tick);
  free(it);
}

void drop_hooked(int key) {
  struct item *it = NULL;
  kv_del(g_hooked, key, &it);
  item_evict(it); /* the hook itself cleans */
}

void forget_hooked(int key) { kv_del(g_hooked, key, NULL); }
