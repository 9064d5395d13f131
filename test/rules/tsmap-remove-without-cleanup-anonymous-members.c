// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t
// TSMAP_CLEANUP on a member of an anonymous union or struct: the annotation
// is the field's (no "means nothing" on Clang's implicit name for it), and
// the field is named as code spells it ('t', not '.t').
#include <stdlib.h>
#include <tsmap/tsmap.h>

struct timer;
void timer_cancel(struct timer *t);
struct odd {
  int kind;
  union {
    TSMAP_CLEANUP(timer_cancel) struct timer *t;
    long raw;
  };
};
static tsmap *g_m;

void drop_leaks(int id) {
  struct odd *o;
  if (tsmap_remove(g_m, &id, sizeof id, &o) != TSMAP_OK)
    return;
  // CHECK-MESSAGES: :[[@LINE-2]]:7: warning: value removed by 'tsmap_remove' into 'o' is not cleaned up on every path; its field 't' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  free(o);
}

void drop_cleans(int id) {
  struct odd *o;
  if (tsmap_remove(g_m, &id, sizeof id, &o) != TSMAP_OK)
    return;
  timer_cancel(o->t);
  free(o);
}
