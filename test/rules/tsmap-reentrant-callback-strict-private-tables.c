// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=STRICT %s tsmap-reentrant-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-reentrant-callback.StrictMapIdentity: true}}" -- -I%S/Inputs
//
// Under StrictMapIdentity, a walked table that the walking function made
// itself and gives to nobody (every use is a GLib table call on it, a test,
// or an assignment of a new table) cannot be a map the callback reaches some
// other way (bench/realworld R47, appstream's validator). A table also handed
// to the callback's context, to a function of the file, or kept in a field
// may be.

#include "reentrant-glib.h"

void g_hash_table_unref(GHashTable *hash_table);
typedef struct { GHashTable *issues; } Priv;
typedef struct { Priv *priv; } Validator;
static long priv_offset;
static inline Priv *validator_priv(Validator *v) { return (Priv *)((char *)v + priv_offset); }
void remember(GHashTable *t);        // another file

typedef struct { Validator *validator; } Helper;
static void check_cb(gpointer key, gpointer value, gpointer data) {
  Helper *h = data;
  g_hash_table_insert(validator_priv(h->validator)->issues, (gpointer)"issue", value);
}

void validate(Validator *v, char **files, int n) {
  GHashTable *validated = g_hash_table_new(0, 0);
  Helper helper = {v};
  for (int i = 0; i < n; i++)
    g_hash_table_insert(validated, files[i], v);
  if (validated && g_hash_table_size(validated))
    g_hash_table_foreach(validated, check_cb, &helper);
  g_hash_table_unref(validated);
}

void validate_shared(Validator *v, char **files, int n) {
  GHashTable *validated = g_hash_table_new(0, 0);
  Helper helper = {v};
  remember(validated);
  g_hash_table_foreach(validated, check_cb, &helper);
  // CHECK-MESSAGES-STRICT: :[[@LINE-1]]:35: warning: callback 'check_cb' passed to 'g_hash_table_foreach' may re-enter the same map
  g_hash_table_unref(validated);
}

void validate_loop(Validator *v, char **files, int n) {
  GHashTable *validated = g_hash_table_new(0, 0);
  Helper helper = {v};
  GHashTableIter it;
  gpointer k, val;
  for (int i = 0; i < n; i++)
    g_hash_table_insert(validated, files[i], v);
  g_hash_table_iter_init(&it, validated);
  while (g_hash_table_iter_next(&it, &k, &val))
    check_cb(k, val, &helper);
  g_hash_table_unref(validated);
}

// Reported: the loop itself changes its private table.
void validate_prune(Validator *v, char **files, int n) {
  GHashTable *validated = g_hash_table_new(0, 0);
  GHashTableIter it;
  gpointer k, val;
  g_hash_table_iter_init(&it, validated);
  while (g_hash_table_iter_next(&it, &k, &val))
    g_hash_table_insert(validated, (gpointer)"other", val);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_insert' changes 'validated' while a loop iterates it
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:5: warning: 'g_hash_table_insert' changes 'validated' while a loop iterates it
  g_hash_table_unref(validated);
}
