// RUN: %check_tsmap_tidy %s tsmap-weak-mutable-value %t -- -- -I%S/Inputs
//
// After a publish, a write by a library's inline function from a system
// header (an atomic reference count, liburcu's urcu_ref_get) is the library's
// concurrent primitive, not a write readers can see torn: not reported. The
// file's own helper that writes the same field still is.

#include "publish-registry.h"
#include "fake_urcu_ref.h"

struct metric { const char *name; struct urcu_ref ref; long value; };
static registry *g_reg;

static void reset_ref(struct urcu_ref *ref) { ref->refcount = 1; }

int publish_counted(struct metric *m) {
  if (reg_publish(g_reg, m->name, m) != REG_OK)
    return -1;
  urcu_ref_get(&m->ref);
  urcu_ref_reset(&m->ref);
  reset_ref(&m->ref);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'reset_ref' writes through 'm' after 'm' was published by 'reg_publish'
  return 0;
}
