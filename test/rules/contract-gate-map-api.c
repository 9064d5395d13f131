// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- \
// RUN:   -config="{CheckOptions: {Contracts: 'struct watch.poll=cleanup(timer_cancel)'}}" -- -I%S/Inputs
//
// The shared pass runs in a unit that uses a GLib table through calls with no
// contract of their own (checker/GatedMatchPass.cpp, MapApiNames): here a
// lookup, a remove and the table's creation, with the value type's cleanup
// given by the Contracts option (a C type, which does not open the gate by
// itself: contract-gate-declared-only.c). The insert that would name the
// value type is in another file.

#include "removal-glib.h"

struct timer;
void timer_cancel(struct timer *t);
struct watch {
  struct timer *poll;
};

static GHashTable *g_plain;

void watches_init(void) { g_plain = g_hash_table_new(g_str_hash, g_str_equal); }

void unwatch(const char *path) {
  struct watch *w = g_hash_table_lookup(g_plain, path);
  g_hash_table_remove(g_plain, path);
  g_free(w);
}
// CHECK-MESSAGES: :[[@LINE-3]]:3: warning: value removed by 'g_hash_table_remove' into 'w' is not cleaned up on every path; its field 'poll' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
