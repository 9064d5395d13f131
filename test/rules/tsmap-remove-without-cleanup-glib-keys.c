// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=NOMODEL %s tsmap-remove-without-cleanup %t -- -config="{CheckOptions: {ContractModels: ''}}" -- -I%S/Inputs
// GLib's key lifecycle: the key destroy function given to
// g_hash_table_new_full is the eviction hook of the table's keys. Only a
// table that owns its keys (a key destroy function that is a function name)
// is checked: remove, remove_all, foreach_remove, destroy and unref hand keys
// to it, and so do insert (a present key drops the key passed in) and
// replace (it drops the old key); steal_extended with a NULL stolen_key drops
// the stored key. A table with no key destroy function, one whose key
// destroy is not a function name, or whose keys are its values, is quiet.
#include "removal-glib.h"
#include <tsmap/annotations.h>

struct lease;
void lease_release(struct lease *l);
struct peer_key {
  char *addr;
  TSMAP_CLEANUP(lease_release) struct lease *lease;
};

static void key_drop(gpointer p) { g_free(p); } /* forgets the lease */
static void key_free(gpointer p) {
  struct peer_key *k = p;
  lease_release(k->lease);
  g_free(k);
}
extern GDestroyNotify some_destroy;

static GHashTable *k_leaky;    /* owns keys; key_drop forgets the lease */
static GHashTable *k_freed;    /* owns keys; g_free is a deallocator */
static GHashTable *k_clean;    /* owns keys; key_free releases the lease */
static GHashTable *k_borrowed; /* no key destroy: the keys are not its own */
static GHashTable *k_plain;    /* g_hash_table_new */
static GHashTable *k_opaque;   /* key destroy through a variable: unknown */
static GHashTable *k_self;     /* keys are the values: key_free cleans both */

void key_tables_init(void) {
  k_leaky = g_hash_table_new_full(g_str_hash, g_str_equal, key_drop, g_free);
  k_freed = g_hash_table_new_full(g_str_hash, g_str_equal, (GDestroyNotify)g_free, NULL);
  k_clean = g_hash_table_new_full(g_str_hash, g_str_equal, key_free, g_free);
  k_borrowed = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
  k_plain = g_hash_table_new(g_str_hash, g_str_equal);
  k_opaque = g_hash_table_new_full(g_str_hash, g_str_equal, some_destroy, g_free);
  k_self = g_hash_table_new_full(g_str_hash, g_str_equal, key_free, NULL);
}

void peers_add(struct peer_key *k, char *name) {
  g_hash_table_insert(k_leaky, k, name);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'g_hash_table_insert' may find its key present and drop a key to key destroy function 'key_drop', which does not call 'lease_release'; the key's field 'lease' keeps a resource that is never released [tsmap-remove-without-cleanup]
  // CHECK-MESSAGES: :21:13: note: key destroy function 'key_drop' does not call 'lease_release'
  // CHECK-MESSAGES: :18:46: note: field 'lease' is declared TSMAP_CLEANUP(lease_release) here
  g_hash_table_replace(k_freed, k, name);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'g_hash_table_replace' may find its key present and drop a key to key destroy function 'g_free', which does not call 'lease_release'; the key's field 'lease' keeps a resource that is never released [tsmap-remove-without-cleanup]
  g_hash_table_insert(k_clean, k, name);
  g_hash_table_insert(k_borrowed, k, name);
  g_hash_table_insert(k_plain, k, name);
  g_hash_table_insert(k_opaque, k, name);
  g_hash_table_insert(k_self, k, k);
}

void peers_add_once(struct peer_key *k, char *name) {
  if (!g_hash_table_lookup(k_leaky, k))
    g_hash_table_insert(k_leaky, k, name); /* quiet: the key was absent */
}

void peers_forget(struct peer_key *k) {
  g_hash_table_remove(k_leaky, k);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: key removed by 'g_hash_table_remove' is discarded to key destroy function 'key_drop', which does not call 'lease_release'; the key's field 'lease' keeps a resource that is never released [tsmap-remove-without-cleanup]
  g_hash_table_remove_all(k_freed);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: key removed by 'g_hash_table_remove_all' is discarded to key destroy function 'g_free', which does not call 'lease_release'; the key's field 'lease' keeps a resource that is never released [tsmap-remove-without-cleanup]
  g_hash_table_destroy(k_leaky);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: key removed by 'g_hash_table_destroy' is discarded to key destroy function 'key_drop', which does not call 'lease_release'; the key's field 'lease' keeps a resource that is never released [tsmap-remove-without-cleanup]
  g_hash_table_remove(k_clean, k);
  g_hash_table_unref(k_clean);
  g_hash_table_remove(k_borrowed, k);
  g_hash_table_remove_all(k_plain);
  g_hash_table_remove(k_opaque, k);
  g_hash_table_remove(k_self, k);
}

// ---- Steals: no destroy function runs ------------------------------------------

void peers_steal(struct peer_key *k, char **name) {
  g_hash_table_steal_extended(k_clean, k, NULL, (gpointer *)name);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: key stolen by 'g_hash_table_steal_extended' is discarded; the table owns its keys (key destroy function 'key_free'), a steal runs no destroy function, and the key's field 'lease' keeps a resource that 'lease_release' must release [tsmap-remove-without-cleanup]
  // CHECK-MESSAGES: :40:13: note: the table is created here with key destroy function 'key_free'
  // CHECK-MESSAGES: :18:46: note: field 'lease' is declared TSMAP_CLEANUP(lease_release) here
  g_hash_table_steal_extended(k_borrowed, k, NULL, (gpointer *)name); /* not its keys */
  g_hash_table_steal_extended(k_plain, k, NULL, (gpointer *)name);
  g_hash_table_steal_extended(k_opaque, k, NULL, (gpointer *)name);
}

void peers_steal_key(struct peer_key *k, struct peer_key **key, char **name) {
  g_hash_table_steal_extended(k_clean, k, (gpointer *)key, (gpointer *)name); /* handed on */
}

// ---- A table passed in: its key destroy function is unknown --------------------

void peers_forget_in(GHashTable *t, struct peer_key *k) { g_hash_table_remove(t, k); }
