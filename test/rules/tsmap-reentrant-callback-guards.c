// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
//
// Summaries conditional on parameters: an effect under `if (rm)` (or `!rm`,
// `rm == 0`, `mode == MODE_X`, `if (!rm) return;`) happens through a call
// only if the argument can have that value. A constant argument (a literal,
// FALSE/TRUE, `!1`, an enum constant, a #define) decides it; any other
// argument keeps the effect.

#include "reentrant-glib.h"

#define FALSE 0
#define TRUE (!FALSE)
#define KEEP_ENTRY 0
enum drop_mode { DROP_NONE, DROP_SETTING, DROP_ALL };

static GHashTable *settings;

static void unref(gpointer k, int rm) {
  if (rm)
    g_hash_table_remove(settings, k);
}
static void unref_early(gpointer k, int keep) {
  if (keep)
    return;
  g_hash_table_remove(settings, k);
}
static void unref_eq(gpointer k, int keep) {
  if (keep == 0)
    g_hash_table_remove(settings, k);
}
static void unref_mode(gpointer k, enum drop_mode mode) {
  if (mode == DROP_SETTING || mode == DROP_ALL) // an `||`: not read as a guard
    g_hash_table_remove(settings, k);
}
static void unref_exact(gpointer k, enum drop_mode mode) {
  if (mode != DROP_NONE && k)
    g_hash_table_remove(settings, k);
}
static void unref_else(gpointer k, int rm) {
  if (!rm)
    g_hash_table_lookup(settings, k);
  else
    g_hash_table_remove(settings, k);
}
// A wrapper passes its own parameter on: the guard moves onto it.
static void unref_wrapped(gpointer k, int rm) { unref(k, rm); }

// Quiet: constant arguments that switch the removal off.
static void visit_false(gpointer k, gpointer v, gpointer u) { unref(k, FALSE); }
static void visit_zero(gpointer k, gpointer v, gpointer u) { unref(k, 0); }
static void visit_not(gpointer k, gpointer v, gpointer u) { unref(k, !1); }
static void visit_early(gpointer k, gpointer v, gpointer u) { unref_early(k, TRUE); }
static void visit_eq(gpointer k, gpointer v, gpointer u) { unref_eq(k, 1); }
static void visit_define(gpointer k, gpointer v, gpointer u) { unref_eq(k, !KEEP_ENTRY); }
static void visit_enum(gpointer k, gpointer v, gpointer u) { unref_exact(k, DROP_NONE); }
static void visit_else(gpointer k, gpointer v, gpointer u) { unref_else(k, 0); }
static void visit_wrapped(gpointer k, gpointer v, gpointer u) { unref_wrapped(k, FALSE); }

// Reported: the argument can switch the removal on.
static void visit_true(gpointer k, gpointer v, gpointer u) { unref(k, TRUE); }
static void visit_var(gpointer k, gpointer v, gpointer u) { unref(k, v != 0); }
static void visit_early_false(gpointer k, gpointer v, gpointer u) { unref_early(k, FALSE); }
static void visit_enum_on(gpointer k, gpointer v, gpointer u) { unref_exact(k, DROP_ALL); }
static void visit_mode(gpointer k, gpointer v, gpointer u) { unref_mode(k, DROP_NONE); }
static void visit_else_on(gpointer k, gpointer v, gpointer u) { unref_else(k, 1); }
static void visit_wrapped_on(gpointer k, gpointer v, gpointer u) { unref_wrapped(k, 1); }

void run(void) {
  g_hash_table_foreach(settings, visit_false, 0);
  g_hash_table_foreach(settings, visit_zero, 0);
  g_hash_table_foreach(settings, visit_not, 0);
  g_hash_table_foreach(settings, visit_early, 0);
  g_hash_table_foreach(settings, visit_eq, 0);
  g_hash_table_foreach(settings, visit_define, 0);
  g_hash_table_foreach(settings, visit_enum, 0);
  g_hash_table_foreach(settings, visit_else, 0);
  g_hash_table_foreach(settings, visit_wrapped, 0);

  g_hash_table_foreach(settings, visit_true, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:34: warning: callback 'visit_true' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'settings'
  g_hash_table_foreach(settings, visit_var, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:34: warning: callback 'visit_var' passed to 'g_hash_table_foreach' re-enters the same map
  g_hash_table_foreach(settings, visit_early_false, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:34: warning: callback 'visit_early_false' passed to 'g_hash_table_foreach' re-enters the same map
  g_hash_table_foreach(settings, visit_enum_on, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:34: warning: callback 'visit_enum_on' passed to 'g_hash_table_foreach' re-enters the same map
  g_hash_table_foreach(settings, visit_mode, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:34: warning: callback 'visit_mode' passed to 'g_hash_table_foreach' re-enters the same map
  g_hash_table_foreach(settings, visit_else_on, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:34: warning: callback 'visit_else_on' passed to 'g_hash_table_foreach' re-enters the same map
  g_hash_table_foreach(settings, visit_wrapped_on, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:34: warning: callback 'visit_wrapped_on' passed to 'g_hash_table_foreach' re-enters the same map
}
