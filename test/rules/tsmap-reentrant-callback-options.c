// RUN: %check_tsmap_tidy -check-suffixes=DEFAULT %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=DEFAULT,STRICT %s tsmap-reentrant-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-reentrant-callback.StrictMapIdentity: true}}" -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=DEFAULT,NOALLOW %s tsmap-reentrant-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-reentrant-callback.AllowedMapOperations: ''}}" -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=SHALLOW %s tsmap-reentrant-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-reentrant-callback.MaxCallDepth: 1}}" -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=DEFAULT,CONTRACTS %s tsmap-reentrant-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-reentrant-callback.Contracts: 'legacy_walk(visit)=callback_locked;legacy_table=thread_safe_map'}}" -- -I%S/Inputs
// With no models, GLib's foreach is an ordinary function: quiet.
// RUN: %check_tsmap_tidy -check-suffixes=NOMODELS %s tsmap-reentrant-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-reentrant-callback.ContractModels: ''}}" -- -I%S/Inputs
//
// StrictMapIdentity, AllowedMapOperations, MaxCallDepth, Contracts and
// ContractModels.

#include "reentrant-glib.h"

static GHashTable *g_table;
GHashTable *open_table(const char *name);

static void drop_from_key(gpointer key, gpointer value, gpointer user_data) {
  g_hash_table_remove((GHashTable *)key, value);
}
static void lookup_only(gpointer key, gpointer value, gpointer user_data) {
  g_hash_table_lookup(g_table, key);
}
static void hop2(gpointer key) { g_hash_table_remove(g_table, key); }
static void hop1(gpointer key) { hop2(key); }
static void drop_deep(gpointer key, gpointer value, gpointer user_data) {
  hop1(key);
}
static void drop_direct(gpointer key, gpointer value, gpointer user_data) {
  g_hash_table_remove(g_table, key);
}

typedef struct legacy_table legacy_table;
typedef void (*legacy_visit)(int key, void *ctx);
void legacy_walk(legacy_table *t, legacy_visit visit, void *ctx);
void legacy_erase(legacy_table *t, int key);
static legacy_table *g_legacy;
static void legacy_drop(int key, void *ctx) { legacy_erase(g_legacy, key); }

void run(void) {
  g_hash_table_foreach(g_table, drop_from_key, 0);
  // CHECK-MESSAGES-STRICT: :[[@LINE-1]]:33: warning: callback 'drop_from_key' passed to 'g_hash_table_foreach' may re-enter the same map: it calls 'g_hash_table_remove' on what may be 'g_table' while 'g_hash_table_foreach' runs it with the map locked or mid-iteration [tsmap-reentrant-callback]
  g_hash_table_foreach(open_table("x"), drop_direct, 0);
  // CHECK-MESSAGES-STRICT: :[[@LINE-1]]:41: warning: callback 'drop_direct' passed to 'g_hash_table_foreach' may re-enter the same map: it calls 'g_hash_table_remove' on what may be 'open_table("x")'
  g_hash_table_foreach(g_table, lookup_only, 0);
  // CHECK-MESSAGES-NOALLOW: :[[@LINE-1]]:33: warning: callback 'lookup_only' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_lookup' on 'g_table'
  g_hash_table_foreach(g_table, drop_deep, 0);
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:33: warning: callback 'drop_deep' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'g_table'
  g_hash_table_foreach(g_table, drop_direct, 0);
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:33: warning: callback 'drop_direct' passed to 'g_hash_table_foreach' re-enters the same map
  // CHECK-MESSAGES-SHALLOW: :[[@LINE-2]]:33: warning: callback 'drop_direct' passed to 'g_hash_table_foreach' re-enters the same map
  legacy_walk(g_legacy, legacy_drop, 0);
  // CHECK-MESSAGES-CONTRACTS: :[[@LINE-1]]:25: warning: callback 'legacy_drop' passed to 'legacy_walk' re-enters the same map: it calls 'legacy_erase' on 'g_legacy'
}
