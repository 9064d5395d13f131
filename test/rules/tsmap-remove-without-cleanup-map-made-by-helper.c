// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t
// A file-static libtsmap map gets its hook from the config it is created
// with. One that a helper of another file fills (`app_map_create("x", &g_m)`)
// or returns (`g_m = app_map_new("x")`) has a hook this file cannot know:
// quiet, as a map created in another file. Created here with tsmap_create and
// no hook, or never created here, it is reported.
#include <tsmap/tsmap.h>

struct timer;
void timer_cancel(struct timer *t);
struct conn {
  int id;
  TSMAP_CLEANUP(timer_cancel) struct timer *idle;
};
int app_map_create(const char *name, tsmap **out); // util/maps.c
tsmap *app_map_new(const char *name);              // util/maps.c

static tsmap *g_filled, *g_returned, *g_plain, *g_nowhere;

int maps_init(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, sizeof(struct conn *));
  g_returned = app_map_new("returned");
  if (!g_returned || tsmap_create(&cfg, &g_plain) != TSMAP_OK)
    return -1;
  return app_map_create("filled", &g_filled);
}

void conn_drop(int id) {
  tsmap_remove(g_filled, &id, sizeof id, NULL);
  tsmap_remove(g_returned, &id, sizeof id, NULL);
  tsmap_remove(g_plain, &id, sizeof id, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: value removed by 'tsmap_remove' is discarded and the map has no eviction hook; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  tsmap_remove(g_nowhere, &id, sizeof id, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: value removed by 'tsmap_remove' is discarded and the map has no eviction hook; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
}

void conn_add(struct conn *c) {
  tsmap_put_ptr(g_filled, &c->id, sizeof c->id, c, NULL);
  tsmap_put_ptr(g_returned, &c->id, sizeof c->id, c, NULL);
  tsmap_put_ptr(g_plain, &c->id, sizeof c->id, c, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'tsmap_put_ptr' may overwrite a value and the map has no eviction hook; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  tsmap_put_ptr(g_nowhere, &c->id, sizeof c->id, c, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'tsmap_put_ptr' may overwrite a value and the map has no eviction hook; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
}

void maps_fini(void) {
  tsmap_destroy(g_filled);
  tsmap_destroy(g_returned);
}
