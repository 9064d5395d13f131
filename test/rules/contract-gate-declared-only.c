// RUN: %check_tsmap_tidy -check-suffixes=LOOP %s tsmap-reentrant-callback %t -- -- -I%S/Inputs -DLOOP
// RUN: %check_tsmap_tidy -check-suffixes=CALL %s tsmap-reentrant-callback %t -- \
// RUN:   -config="{CheckOptions: {Contracts: 'kv_each(visit)=callback'}}" -- -I%S/Inputs -DCALL
// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- \
// RUN:   -config="{CheckOptions: {Contracts: 'kv_each(visit)=callback'}}" -- -I%S/Inputs
//
// The shared pass runs only in units that use a name with a contract
// (checker/GatedMatchPass.h). A library's header declares its whole API in
// every unit that includes it: GLib's GHashTable and g_hash_table_insert are
// declared in every GLib unit, used in few. A function the unit only
// declares, or a C map type, does not open the gate; a call does, and so does
// a GHashTableIter loop, which holds no contract name when its body only
// removes.
//
// LOOP: a loop whose body only removes is still checked.
// CALL: a call to a function of the Contracts option opens the gate, and the
//   entry that cannot apply to it is then reported.
// The last run is the negative: kv_each and the GLib API are declared, never
//   used (but for g_hash_table_size, of no interest to the checks); the pass
//   does not run, so the entry's error is not reported here
//   (it is, in every unit that uses kv_each).

#include "reentrant-glib.h"

typedef struct kv_table kv_table;
typedef int (*kv_visit)(const char *k, void *ctx);
void kv_each(kv_table *, kv_visit, void *);

// CHECK-MESSAGES-CALL: warning: invalid entry 'kv_each(visit)=callback' in option 'Contracts': function 'kv_each' has no parameter 'visit' (its declarations name none: write its 1-based index) [clang-tidy-config]

#if defined(LOOP)
void drop_all(GHashTable *t) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, &k, &v))
    g_hash_table_remove(t, k);
  // CHECK-MESSAGES-LOOP: :[[@LINE-1]]:5: warning: 'g_hash_table_remove' changes 't' while a loop iterates it with 'g_hash_table_iter_next'; the change invalidates the iterator [tsmap-reentrant-callback]
}
#elif defined(CALL)
static int count(const char *k, void *ctx) { return ++*(int *)ctx; }
void walk(kv_table *t, int *n) { kv_each(t, count, n); }
#else
guint g_hash_table_size(GHashTable *hash_table);
int empty(GHashTable *t) { return g_hash_table_size(t) == 0; }
#endif
