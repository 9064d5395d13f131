// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- -- -I%S/Inputs
// A counting loop whose constant start and bound make its condition hold on
// the first test runs its body: cleaning in it is cleaning (an annotated
// array field closed element by element), a `for` loop or a `while` loop
// right after the statement that starts its counter. A bound that may stop
// it at once, a loop that never runs, or a counter set further up leaves the
// value owed.
#include "removal-conn.h"

struct worker {
  int id;
  TSMAP_CLEANUP(close) int wake[2];
};
extern smap *g_workers;

void worker_stop(int id) {
  struct worker *w;
  if (smap_remove(g_workers, id, &w) != SMAP_OK)
    return;
  for (int i = 0; i < 2; i++) /* quiet: its body runs */
    close(w->wake[i]);
  free(w);
}

void worker_stop_down(int id) {
  struct worker *w;
  int i;
  if (smap_remove(g_workers, id, &w) != SMAP_OK)
    return;
  for (i = 1; i >= 0; i--) /* quiet */
    close(w->wake[i]);
  free(w);
}

void worker_stop_some(int id, int n) {
  struct worker *w;
  if (smap_remove(g_workers, id, &w) != SMAP_OK)
    return;
  // CHECK-MESSAGES: :[[@LINE-2]]:7: warning: value removed by 'smap_remove' into 'w' is not cleaned up on every path; its field 'wake' keeps a resource that 'close' must release [tsmap-remove-without-cleanup]
  for (int i = 0; i < n; i++) /* n may be 0 */
    close(w->wake[i]);
  free(w);
}

void worker_stop_never(int id) {
  struct worker *w;
  if (smap_remove(g_workers, id, &w) != SMAP_OK)
    return;
  // CHECK-MESSAGES: :[[@LINE-2]]:7: warning: value removed by 'smap_remove' into 'w' is not cleaned up on every path; its field 'wake' keeps a resource that 'close' must release [tsmap-remove-without-cleanup]
  for (int i = 2; i < 2; i++) /* never runs */
    close(w->wake[i]);
  free(w);
}

void worker_stop_while(int id) {
  struct worker *w;
  if (smap_remove(g_workers, id, &w) != SMAP_OK)
    return;
  int i = 0;
  while (i < 2) /* quiet: its body runs */
    close(w->wake[i++]);
  free(w);
}

void worker_stop_while_assigned(int id) {
  struct worker *w;
  int i;
  if (smap_remove(g_workers, id, &w) != SMAP_OK)
    return;
  i = 1;
  while (i >= 0) /* quiet */
    close(w->wake[i--]);
  free(w);
}

void worker_stop_while_never(int id) {
  struct worker *w;
  if (smap_remove(g_workers, id, &w) != SMAP_OK)
    return;
  // CHECK-MESSAGES: :[[@LINE-2]]:7: warning: value removed by 'smap_remove' into 'w' is not cleaned up on every path; its field 'wake' keeps a resource that 'close' must release [tsmap-remove-without-cleanup]
  int i = 2;
  while (i < 2) /* never runs */
    close(w->wake[i++]);
  free(w);
}

void worker_stop_while_far(int id, int n) {
  struct worker *w;
  int i = 0;
  if (smap_remove(g_workers, id, &w) != SMAP_OK)
    return;
  // CHECK-MESSAGES: :[[@LINE-2]]:7: warning: value removed by 'smap_remove' into 'w' is not cleaned up on every path; its field 'wake' keeps a resource that 'close' must release [tsmap-remove-without-cleanup]
  if (n)
    i = n;
  while (i < 2) /* the counter's start is not the statement before */
    close(w->wake[i++]);
  free(w);
}
