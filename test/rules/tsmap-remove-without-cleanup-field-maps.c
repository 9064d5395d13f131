// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t
// A libtsmap map kept in a struct field and created in this file by a config
// that leaves on_entry_evicted unset has no hook but its annotation's: its
// discarded values are checked as a file-static map's are. A field created
// nowhere in the file (elsewhere, with a hook not seen) stays quiet.
#include <stdlib.h>
#include <tsmap/tsmap.h>

struct timer;
void timer_cancel(struct timer *t);
struct conn { int fd; TSMAP_CLEANUP(timer_cancel) struct timer *idle; };
static void conn_evict(const void *k, size_t n, void *v, tsmap_evict_reason r, void *ctx) {
  struct conn *c = *(struct conn **)v;
  (void)k, (void)n, (void)r, (void)ctx;
  timer_cancel(c->idle);
  free(c);
}

struct mgr { tsmap *conns; };
int mgr_init(struct mgr *m) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, sizeof(struct conn *));
  return tsmap_create(&cfg, &m->conns);
}
void mgr_del(struct mgr *m, struct conn *c, int fd) {
  tsmap_put_ptr_if_absent(m->conns, &c->fd, sizeof c->fd, c, NULL);
  tsmap_remove(m->conns, &fd, sizeof fd, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: value removed by 'tsmap_remove' is discarded and the map has no eviction hook; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
}

struct annotated { TSMAP_EVICTS_WITH(conn_evict) tsmap *conns; };
int annotated_init(struct annotated *a) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, sizeof(struct conn *));
  return tsmap_create(&cfg, &a->conns);
}
void annotated_del(struct annotated *a, struct conn *c, int fd) {
  tsmap_put_ptr_if_absent(a->conns, &c->fd, sizeof c->fd, c, NULL);
  tsmap_remove(a->conns, &fd, sizeof fd, NULL); /* quiet: its annotation's hook cleans */
}

struct elsewhere { tsmap *conns; }; /* created in another file */
void elsewhere_del(struct elsewhere *e, struct conn *c, int fd) {
  tsmap_put_ptr_if_absent(e->conns, &c->fd, sizeof c->fd, c, NULL);
  tsmap_remove(e->conns, &fd, sizeof fd, NULL); /* quiet: its hook is not known */
}
