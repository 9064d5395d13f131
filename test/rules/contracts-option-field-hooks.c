// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- \
// RUN:   -config="{CheckOptions: {Contracts: 'struct conn.idle=cleanup(timer_cancel); struct server.conns=evicts_with(conn_forget); struct server.spare=evicts_with(conn_evict); union slot.t=weak'}}" -- -I%S/Inputs
//
// `evicts_with(fn)` goes on a field through the option as through the
// annotation: a map held in a struct gets its hook (for an API whose headers
// cannot be annotated). A record named as `union` is read as `struct` is.
#include <stdlib.h>
#include <tsmap/tsmap.h>

struct timer;
void timer_cancel(struct timer *t);
struct conn { int id; struct timer *idle; };
static void conn_forget(const void *k, size_t n, void *v, tsmap_evict_reason r, void *ctx) {
  (void)k, (void)n, (void)r, (void)ctx;
  free(*(void **)v);
}
static void conn_evict(const void *k, size_t n, void *v, tsmap_evict_reason r, void *ctx) {
  struct conn *c = *(struct conn **)v;
  (void)k, (void)n, (void)r, (void)ctx;
  timer_cancel(c->idle);
  free(c);
}
struct server { tsmap *conns, *spare; };
union slot { struct timer *t; long n; };

void server_add(struct server *s, struct conn *c) {
  tsmap_put_ptr_if_absent(s->conns, &c->id, sizeof c->id, c, NULL);
  tsmap_put_ptr_if_absent(s->spare, &c->id, sizeof c->id, c, NULL);
}
void server_drop(struct server *s, int id) {
  tsmap_remove(s->conns, &id, sizeof id, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: value removed by 'tsmap_remove' is discarded to eviction hook 'conn_forget', which does not call 'timer_cancel'; its field 'idle' keeps a resource that is never released [tsmap-remove-without-cleanup]
  tsmap_remove(s->spare, &id, sizeof id, NULL); /* quiet: conn_evict cancels */
}
