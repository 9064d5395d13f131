// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t
// A libtsmap map takes its eviction hook from the config it is created with.
// One created in another file (a global defined there, a field set up there)
// and not annotated has a hook this file cannot know: quiet, as a GLib table
// created elsewhere is (an independent tester's case, round 3). Annotated,
// its hook is checked; a file-static map is created here or nowhere, unless a
// helper of another file fills it (`app_map_create("x", &g_m)`) or returns
// it (`g_m = app_map_new("x")`): that hook is not known either (round 4).
// Created here with tsmap_create and no hook, it is reported.
#include <stdlib.h>
#include <tsmap/tsmap.h>

struct timer;
void timer_cancel(struct timer *t);
struct conn {
  unsigned long id;
  TSMAP_CLEANUP(timer_cancel) struct timer *idle;
};
static void forget(const void *k, size_t n, void *v, tsmap_evict_reason r, void *c) {
  free(*(void **)v);
}

extern tsmap *g_conns;                                  /* created in server_init.c */
extern TSMAP_EVICTS_WITH(forget) tsmap *g_forgetful;    /* its hook is stated */
static tsmap *g_local;                                  /* created nowhere: no hook */
static tsmap *g_filled, *g_returned, *g_plain;
struct server { tsmap *conns; };
int app_map_create(const char *name, tsmap **out);     /* util/maps.c */
tsmap *app_map_new(const char *name);                  /* util/maps.c */

int maps_init(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, sizeof(struct conn *));
  g_returned = app_map_new("returned");
  if (!g_returned || tsmap_create(&cfg, &g_plain) != TSMAP_OK)
    return -1;
  return app_map_create("filled", &g_filled);
}

void conn_drop(struct server *srv, unsigned long id) {
  tsmap_remove(g_conns, &id, sizeof id, NULL);          // quiet: its hook is not known here
  tsmap_remove(srv->conns, &id, sizeof id, NULL);       // quiet: set up elsewhere
  tsmap_remove(g_forgetful, &id, sizeof id, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: value removed by 'tsmap_remove' is discarded to eviction hook 'forget', which does not call 'timer_cancel'; its field 'idle' keeps a resource that is never released [tsmap-remove-without-cleanup]
  tsmap_remove(g_local, &id, sizeof id, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: value removed by 'tsmap_remove' is discarded and the map has no eviction hook; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  tsmap_remove(g_filled, &id, sizeof id, NULL);         // quiet: made by a helper
  tsmap_remove(g_returned, &id, sizeof id, NULL);       // quiet: made by a helper
  tsmap_remove(g_plain, &id, sizeof id, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: value removed by 'tsmap_remove' is discarded and the map has no eviction hook; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
}

void conn_add(struct conn *c) {
  tsmap_put_ptr_if_absent(g_conns, &c->id, sizeof c->id, c, NULL);
  tsmap_put_ptr_if_absent(g_forgetful, &c->id, sizeof c->id, c, NULL);
  tsmap_put_ptr_if_absent(g_local, &c->id, sizeof c->id, c, NULL);
  tsmap_put_ptr(g_filled, &c->id, sizeof c->id, c, NULL);
  tsmap_put_ptr(g_returned, &c->id, sizeof c->id, c, NULL);
  tsmap_put_ptr(g_plain, &c->id, sizeof c->id, c, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'tsmap_put_ptr' may overwrite a value and the map has no eviction hook; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  tsmap_put_ptr(g_local, &c->id, sizeof c->id, c, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'tsmap_put_ptr' may overwrite a value and the map has no eviction hook; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
}

void maps_fini(void) {
  tsmap_destroy(g_filled);
  tsmap_destroy(g_returned);
}
