// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t
// tsmap_close and tsmap_destroy hand every value still in the map to its
// eviction hook (TSMAP_EVICT_CLOSED), as g_hash_table_destroy does to a
// table's destroy function: reported when the map has no hook, or a hook
// that does not clean up; quiet for a map the caller passed in.
#include <stdlib.h>
#include <tsmap/tsmap.h>

struct timer;
void timer_cancel(struct timer *t);

struct session {
  unsigned long id;
  TSMAP_CLEANUP(timer_cancel) struct timer *idle;
};
struct plain { unsigned long id; };

static void free_only(const void *k, size_t n, void *v, tsmap_evict_reason r,
                      void *c) {
  free(*(void **)v);
}
static void session_evict(const void *k, size_t n, void *v,
                          tsmap_evict_reason r, void *c) {
  struct session *s = *(struct session **)v;
  timer_cancel(s->idle);
  free(s);
}

static tsmap *g_plain;
static TSMAP_EVICTS_WITH(free_only) tsmap *g_freeing;
static TSMAP_EVICTS_WITH(session_evict) tsmap *g_hooked;
static tsmap *g_configured;
static tsmap *g_ids;

int add(struct session *s, struct plain *p) {
  tsmap_put_ptr_if_absent(g_freeing, &s->id, sizeof s->id, s, NULL);
  tsmap_put_ptr_if_absent(g_hooked, &s->id, sizeof s->id, s, NULL);
  tsmap_put_ptr_if_absent(g_configured, &s->id, sizeof s->id, s, NULL);
  tsmap_put_ptr_if_absent(g_ids, &p->id, sizeof p->id, p, NULL);
  return tsmap_put_ptr_if_absent(g_plain, &s->id, sizeof s->id, s, NULL);
}

int start(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, sizeof(struct session *));
  cfg.on_entry_evicted = session_evict;
  return tsmap_create(&cfg, &g_configured);
}

void shutdown_maps(void) {
  tsmap_destroy(g_plain);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: values left in 'g_plain' by 'tsmap_destroy' are discarded and the map has no eviction hook; the field 'idle' of each keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  tsmap_close(g_freeing);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: values left in 'g_freeing' by 'tsmap_close' go to eviction hook 'free_only', which does not call 'timer_cancel'; the field 'idle' of each keeps a resource that is never released [tsmap-remove-without-cleanup]
  tsmap_close(g_hooked);      // quiet: the hook cancels the timer
  tsmap_destroy(g_hooked);
  tsmap_destroy(g_configured); // quiet: the config's hook cancels it
  tsmap_destroy(g_ids);       // quiet: its values owe nothing
}

#define CHECKED(x)                                                             \
  do {                                                                         \
    if ((x) != TSMAP_OK)                                                       \
      abort();                                                                 \
  } while (0)
static int g_open;

// A destroy after a close of the same map earlier in the function (a statement
// between them, or the close inside a checking macro) discards nothing more:
// reported once, at the close.
void shutdown_plain_apart(void) {
  tsmap_close(g_plain);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: values left in 'g_plain' by 'tsmap_close' are discarded and the map has no eviction hook; the field 'idle' of each keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  g_open = 0;
  tsmap_destroy(g_plain);
}
void shutdown_plain_checked(void) {
  CHECKED(tsmap_close(g_plain));
  // CHECK-MESSAGES: :[[@LINE-1]]:11: warning: values left in 'g_plain' by 'tsmap_close' are discarded and the map has no eviction hook; the field 'idle' of each keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  tsmap_destroy(g_plain);
}
void shutdown_other_closed(void) { // the close of another map does not count
  tsmap_close(g_hooked);
  tsmap_destroy(g_plain);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: values left in 'g_plain' by 'tsmap_destroy' are discarded and the map has no eviction hook; the field 'idle' of each keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
}

void shutdown_given(tsmap *m) {
  tsmap_destroy(m); // quiet: the caller's map, whose hook is not seen
}
