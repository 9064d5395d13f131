// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-reentrant-callback.ContractModels: 'glib; qt ;liburcu;GLib'}}" -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=GLOBAL %s tsmap-reentrant-callback %t -- \
// RUN:   -config="{CheckOptions: {ContractModels: 'gtk', Contracts: 'g_hash_table_foreach=callback_locked'}}" -- -I%S/Inputs
//
// Unknown model names in `ContractModels` are configuration errors that list
// the known models; the known ones still apply (the GLib foreach below is
// still checked). The global keys are read too.

// CHECK-MESSAGES: warning: unknown model 'GLib' in option 'tsmap-reentrant-callback.ContractModels'; known models: glib, liburcu, libvirt [clang-tidy-config]
// CHECK-MESSAGES: warning: unknown model 'qt' in option 'tsmap-reentrant-callback.ContractModels'; known models: glib, liburcu, libvirt [clang-tidy-config]
// CHECK-MESSAGES-GLOBAL: warning: invalid entry 'g_hash_table_foreach=callback_locked' in option 'Contracts': 'callback_locked' goes on a parameter: write 'function(param)=callback_locked' [clang-tidy-config]
// CHECK-MESSAGES-GLOBAL: warning: unknown model 'gtk' in option 'ContractModels'; known models: glib, liburcu, libvirt [clang-tidy-config]

#include "reentrant-glib.h"

static GHashTable *g_t;
static void drop(gpointer key, gpointer value, gpointer user_data) {
  g_hash_table_remove(g_t, key);
}

void run(void) {
  g_hash_table_foreach(g_t, drop, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:29: warning: callback 'drop' passed to 'g_hash_table_foreach' re-enters the same map
}
