// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t
// A libtsmap map whose config sets a time-to-live (or a bound) evicts entries
// with no removal call in the program: each leaves through on_entry_evicted,
// which must then release what the values hold. Loud: no hook, or a hook that
// never calls the cleanup. Quiet: a hook that does, a map without expiry, a
// TTL of 0, values that owe nothing, a config we cannot read.
#include <stdlib.h>
#include <tsmap/tsmap.h>

struct timer;
void timer_cancel(struct timer *t);

struct session {
  unsigned long id;
  TSMAP_CLEANUP(timer_cancel) struct timer *idle;
};

static void session_evict(const void *key, size_t key_len, void *value,
                          tsmap_evict_reason reason, void *hook_ctx) {
  struct session *s = *(struct session **)value;
  (void)key, (void)key_len, (void)reason, (void)hook_ctx;
  timer_cancel(s->idle);
  free(s);
}

static void session_free_only(const void *key, size_t key_len, void *value,
                              tsmap_evict_reason reason, void *hook_ctx) {
  (void)key, (void)key_len, (void)reason, (void)hook_ctx;
  free(*(struct session **)value);
}

/* ---- Loud -------------------------------------------------------------------- */

static tsmap *g_expiring;
void expiring_open(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, sizeof(struct session *));
  cfg.default_ttl_ns = 30000000000ull;
  tsmap_create(&cfg, &g_expiring);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: map 'g_expiring' evicts entries on its own (its config sets 'default_ttl_ns') and has no eviction hook; the field 'idle' of its values keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  // CHECK-NOTES: :[[@LINE-3]]:3: note: 'default_ttl_ns' is set here
  // CHECK-NOTES: :15:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here
}
void expiring_login(struct session *s) {
  tsmap_put_ptr_if_absent(g_expiring, &s->id, sizeof s->id, s, NULL);
}

static tsmap *g_leaky_hook;
void leaky_open(void) {
  tsmap_config cfg = {.value_size = sizeof(struct session *), .expiry = 1};
  cfg.on_entry_evicted = session_free_only;
  tsmap_create(&cfg, &g_leaky_hook);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: map 'g_leaky_hook' evicts entries on its own (its config sets 'expiry') to eviction hook 'session_free_only', which does not call 'timer_cancel'; the field 'idle' of its values keeps a resource that is never released [tsmap-remove-without-cleanup]
  // CHECK-NOTES: :[[@LINE-4]]:73: note: 'expiry' is set here
  // CHECK-NOTES: :26:13: note: eviction hook 'session_free_only' does not call 'timer_cancel'
  // CHECK-NOTES: :15:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here
}
void leaky_login(struct session *s) {
  tsmap_put_ptr_if_absent_ttl(g_leaky_hook, &s->id, sizeof s->id, s, 1000, NULL);
}

/* A hook set to NULL explicitly is no hook, whatever the map's annotation. */
static TSMAP_EVICTS_WITH(session_evict) tsmap *g_unhooked;
void unhooked_open(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, sizeof(struct session *));
  cfg.expiry = 1;
  cfg.on_entry_evicted = NULL;
  tsmap_create(&cfg, &g_unhooked);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: map 'g_unhooked' evicts entries on its own (its config sets 'expiry') and has no eviction hook; the field 'idle' of its values keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  // CHECK-NOTES: :[[@LINE-4]]:3: note: 'expiry' is set here
  // CHECK-NOTES: :15:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here
}
void unhooked_login(struct session *s) {
  tsmap_put_ptr_if_absent(g_unhooked, &s->id, sizeof s->id, s, NULL);
}

/* A bound evicts on its own too (TSMAP_EVICT_CAPACITY). */
static tsmap *g_bounded;
void bounded_open(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, sizeof(struct session *));
  cfg.max_entries = 100000;
  tsmap_create(&cfg, &g_bounded);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: map 'g_bounded' evicts entries on its own (its config sets 'max_entries') and has no eviction hook; the field 'idle' of its values keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  // CHECK-NOTES: :[[@LINE-3]]:3: note: 'max_entries' is set here
  // CHECK-NOTES: :15:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here
}
void bounded_login(struct session *s) {
  tsmap_put_ptr_if_absent(g_bounded, &s->id, sizeof s->id, s, NULL);
}

/* So does a bound on weight. */
static uint64_t session_weight(const void *key, size_t key_len, const void *value,
                               void *ctx) {
  (void)key, (void)key_len, (void)value, (void)ctx;
  return 1;
}
static tsmap *g_weighted;
void weighted_open(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, sizeof(struct session *));
  cfg.weight = session_weight;
  cfg.max_weight = 1u << 20;
  tsmap_create(&cfg, &g_weighted);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: map 'g_weighted' evicts entries on its own (its config sets 'max_weight') and has no eviction hook; the field 'idle' of its values keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  // CHECK-NOTES: :[[@LINE-3]]:3: note: 'max_weight' is set here
  // CHECK-NOTES: :15:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here
}
void weighted_login(struct session *s) {
  tsmap_put_ptr_if_absent(g_weighted, &s->id, sizeof s->id, s, NULL);
}

/* ---- Quiet ------------------------------------------------------------------- */

static tsmap *g_hooked; /* the config's hook cleans up */
void hooked_open(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, sizeof(struct session *));
  cfg.default_ttl_ns = 30000000000ull;
  cfg.on_entry_evicted = session_evict;
  tsmap_create(&cfg, &g_hooked);
}
void hooked_login(struct session *s) {
  tsmap_put_ptr_if_absent(g_hooked, &s->id, sizeof s->id, s, NULL);
}

static TSMAP_EVICTS_WITH(session_evict) tsmap *g_annotated; /* hook named on the map */
void annotated_open(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, sizeof(struct session *));
  cfg.expiry = 1;
  tsmap_create(&cfg, &g_annotated);
}
void annotated_login(struct session *s) {
  tsmap_put_ptr_if_absent(g_annotated, &s->id, sizeof s->id, s, NULL);
}

static tsmap *g_forever; /* no expiry: nothing leaves on its own */
void forever_open(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, sizeof(struct session *));
  cfg.default_ttl_ns = 0;
  tsmap_create(&cfg, &g_forever);
}
void forever_login(struct session *s) {
  tsmap_put_ptr_if_absent(g_forever, &s->id, sizeof s->id, s, NULL);
}

static tsmap *g_counts; /* values owe nothing */
void counts_open(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, sizeof(unsigned long));
  cfg.default_ttl_ns = 1000;
  tsmap_create(&cfg, &g_counts);
}
void counts_bump(unsigned long id, unsigned long n) {
  tsmap_put_if_absent(g_counts, &id, sizeof id, &n, NULL);
}

static tsmap *g_given; /* a config built elsewhere is not judged */
void given_open(const tsmap_config *cfg) { tsmap_create(cfg, &g_given); }
void given_login(struct session *s) {
  tsmap_put_ptr_if_absent(g_given, &s->id, sizeof s->id, s, NULL);
}

static tsmap *g_hook_var; /* a hook we cannot resolve is trusted */
extern tsmap_evicted_hook chosen_hook;
void hook_var_open(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, sizeof(struct session *));
  cfg.expiry = 1;
  cfg.on_entry_evicted = chosen_hook;
  tsmap_create(&cfg, &g_hook_var);
}
void hook_var_login(struct session *s) {
  tsmap_put_ptr_if_absent(g_hook_var, &s->id, sizeof s->id, s, NULL);
}

static tsmap *g_late; /* set after the create: the map never sees it */
void late_open(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, sizeof(struct session *));
  tsmap_create(&cfg, &g_late);
  cfg.default_ttl_ns = 5;
}
void late_login(struct session *s) {
  tsmap_put_ptr_if_absent(g_late, &s->id, sizeof s->id, s, NULL);
}

/* ---- The config's hook for removals the program discards -------------------- */
/* A removal with a NULL out-parameter hands the value to the map's eviction hook:
 * the config's on_entry_evicted when it sets one (expiry or not). */

static tsmap *g_cfg_clean; /* the config's hook cleans up */
void cfg_clean_open(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, sizeof(struct session *));
  cfg.on_entry_evicted = session_evict;
  tsmap_create(&cfg, &g_cfg_clean);
}
void cfg_clean_login(struct session *s) {
  tsmap_put_ptr_if_absent(g_cfg_clean, &s->id, sizeof s->id, s, NULL);
}
void cfg_clean_logout(unsigned long id) {
  tsmap_remove(g_cfg_clean, &id, sizeof id, NULL);   /* quiet: session_evict cancels */
}

static tsmap *g_cfg_leaky; /* the config's hook forgets the timer */
void cfg_leaky_open(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, sizeof(struct session *));
  cfg.on_entry_evicted = session_free_only;
  tsmap_create(&cfg, &g_cfg_leaky);
}
void cfg_leaky_login(struct session *s) {
  tsmap_put_ptr_if_absent(g_cfg_leaky, &s->id, sizeof s->id, s, NULL);
}
void cfg_leaky_logout(unsigned long id) {
  tsmap_remove(g_cfg_leaky, &id, sizeof id, NULL);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: value removed by 'tsmap_remove' is discarded to eviction hook 'session_free_only', which does not call 'timer_cancel'; its field 'idle' keeps a resource that is never released [tsmap-remove-without-cleanup]
  // CHECK-NOTES: :26:13: note: eviction hook 'session_free_only' does not call 'timer_cancel'
  // CHECK-NOTES: :15:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here
}

/* The config sets the hook to NULL: no hook, whatever the map's annotation says. */
static TSMAP_EVICTS_WITH(session_evict) tsmap *g_cfg_unhooked;
void cfg_unhooked_open(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, sizeof(struct session *));
  cfg.on_entry_evicted = NULL;
  tsmap_create(&cfg, &g_cfg_unhooked);
}
void cfg_unhooked_login(struct session *s) {
  tsmap_put_ptr_if_absent(g_cfg_unhooked, &s->id, sizeof s->id, s, NULL);
}
void cfg_unhooked_logout(unsigned long id) {
  tsmap_remove(g_cfg_unhooked, &id, sizeof id, NULL);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: value removed by 'tsmap_remove' is discarded and the map has no eviction hook; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  // CHECK-NOTES: :15:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here
}
