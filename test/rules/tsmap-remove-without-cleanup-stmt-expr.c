// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t
// A take macro written as a GNU statement expression yields the removed value
// (`({ ...; taken_; })`): the local it initializes holds it, and cleaning
// that local cleans it (an independent tester's false positive, round 3).
#include <stdlib.h>
#include <tsmap/tsmap.h>

struct timer;
void timer_cancel(struct timer *t);
struct conn {
  unsigned long id;
  TSMAP_CLEANUP(timer_cancel) struct timer *idle;
};
static void conn_close(struct conn *c) {
  timer_cancel(c->idle);
  free(c);
}

static tsmap *g_conns;
int conns_init(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, sizeof(struct conn *));
  return tsmap_create(&cfg, &g_conns);
}

#define CONN_TAKE(id_) ({                                           \
    struct conn *taken_ = NULL;                                     \
    unsigned long k_ = (id_);                                       \
    if (tsmap_remove(g_conns, &k_, sizeof k_, &taken_) != TSMAP_OK) \
      taken_ = NULL;                                                \
    taken_; })

void conn_drop(unsigned long id) {
  struct conn *c = CONN_TAKE(id);
  if (c)
    conn_close(c); // quiet: cleaned through the local the macro yields to
}

void conn_drop_bad(unsigned long id) {
  struct conn *c = CONN_TAKE(id);
  // CHECK-MESSAGES: :[[@LINE-1]]:20: warning: value removed by 'tsmap_remove' into 'taken_' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  if (c)
    free(c);
}
