// RUN: %check_tsmap_tidy %s tsmap-weak-mutable-value %t -- --
//
// rules/tsmap-weak-mutable-value.md: a function that passes its pointer parameter
// to a TSMAP_PUBLISHES parameter publishes it too, and a publishing function whose
// visible body returns only 0 and negative constants reads as "0 is success": a
// write on its failure side (`< 0`, `!= 0`, `if (rc)`, a `goto` to a label only
// failures reach) is not a write after publication; a write on its success side
// is. A `bool` wrapper is true on success.

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <tsmap/tsmap.h>

struct gauge { int level; };
static tsmap *g_gauges;

static int gauge_register(const char *name, struct gauge *gg) {
  if (tsmap_put_ptr_if_absent(g_gauges, name, strlen(name), gg, NULL) != TSMAP_OK)
    return -1;
  return 0;
}
static bool gauge_try_register(const char *name, struct gauge *gg) {
  return tsmap_put_ptr_if_absent(g_gauges, name, strlen(name), gg, NULL) == TSMAP_OK;
}

void add_negative(const char *name, struct gauge *gg) {
  if (gauge_register(name, gg) < 0) { gg->level = 0; free(gg); }
}
void add_nonzero(const char *name, struct gauge *gg) {
  if (gauge_register(name, gg) != 0) { gg->level = 0; free(gg); }
}
void add_truthy(const char *name, struct gauge *gg) {
  int rc = gauge_register(name, gg);
  if (rc)
    goto rejected;
  return;
rejected:
  gg->level = -1;
  free(gg);
}
void add_then_touch(const char *name, struct gauge *gg) {
  if (gauge_register(name, gg) == 0)
    gg->level = 1;
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: write to 'gg->level' after 'gg' was published by 'gauge_register'; other threads may be reading it through the map [tsmap-weak-mutable-value]
}
void try_add(const char *name, struct gauge *gg) {
  if (!gauge_try_register(name, gg)) { gg->level = 0; free(gg); }
}
void try_add_then_touch(const char *name, struct gauge *gg) {
  if (gauge_try_register(name, gg))
    gg->level = 2;
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: write to 'gg->level' after 'gg' was published by 'gauge_try_register'; other threads may be reading it through the map [tsmap-weak-mutable-value]
}
