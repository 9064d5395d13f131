// RUN: %check_tsmap_tidy -check-suffixes=MODELS %s tsmap-non-idempotent-callback %t -- -- -I%S/Inputs
// With no models, nothing is known about cds_lfht: quiet.
// RUN: %check_tsmap_tidy -check-suffixes=NOMODELS %s tsmap-non-idempotent-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-non-idempotent-callback.ContractModels: ''}}" -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=MODELS,CONTRACTS %s tsmap-non-idempotent-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-non-idempotent-callback.Contracts: 'legacy_cache_get(fill)=callback'}}" -- -I%S/Inputs
//
// APIs whose headers users cannot annotate: the shipped models (liburcu's
// cds_lfht runs `match` any number of times; GLib's foreach runs its
// function once per entry, under the table's rules: callback_locked) and
// contracts declared in the `Contracts` option.

#include "fake_glib.h"
#include "fake_urcu.h"

struct entry { struct cds_lfht_node node; int key; };
static unsigned long g_probes;
static int g_seen;

static int match_counting(struct cds_lfht_node *node, const void *key) {
  g_probes++;
  return ((struct entry *)node)->key == *(const int *)key;
}
static int match_pure(struct cds_lfht_node *node, const void *key) {
  return ((struct entry *)node)->key == *(const int *)key;
}
static void count_entry(gpointer key, gpointer value, gpointer user_data) {
  ++*(int *)user_data;
}

typedef int (*fill_fn)(int key, void *ctx);
int legacy_cache_get(void *cache, int key, fill_fn fill, void *ctx);
static int fill_counting(int key, void *ctx) {
  g_seen++;
  return key;
}

void use(struct cds_lfht *ht, GHashTable *table, void *cache, int k) {
  struct cds_lfht_iter iter;
  cds_lfht_lookup(ht, 1, match_counting, &k, &iter);
  // CHECK-MESSAGES-MODELS: :[[@LINE-1]]:26: warning: callback 'match_counting' passed to 'cds_lfht_lookup' is not idempotent: it may run more than once, and each run increments 'g_probes' [tsmap-non-idempotent-callback]
  cds_lfht_lookup(ht, 1, match_pure, &k, &iter);
  int n = 0;
  g_hash_table_foreach(table, count_entry, &n);
  legacy_cache_get(cache, k, fill_counting, 0);
  // CHECK-MESSAGES-CONTRACTS: :[[@LINE-1]]:30: warning: callback 'fill_counting' passed to 'legacy_cache_get' is not idempotent: it may run more than once, and each run increments 'g_seen' [tsmap-non-idempotent-callback]
}
