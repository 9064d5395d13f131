// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t
//
// The runtime's own API runs no callback, hook or visitor under a lock, so <tsmap/tsmap.h>
// marks none TSMAP_CALLBACK_LOCKED: calls on the same map from them are allowed (a call
// on the key being computed returns TSMAP_REENTERED at run time, never deadlocks), and
// tsmap-reentrant-callback stays quiet on every call below.

#include <string.h>
#include <tsmap/tsmap.h>

static tsmap *g_sessions;

static int load_from_other_key(const void *key, size_t key_len, void *ctx, void *value_out) {
  (void)key, (void)key_len, (void)ctx;
  return tsmap_get(g_sessions, "defaults", 8, value_out) == TSMAP_OK ? 0 : 1;
}

static tsmap_verdict touch_other(const void *key, size_t key_len, const void *old_value,
                                 void *ctx, void *new_value) {
  tsmap *m = ctx;
  memcpy(new_value, old_value, 8);
  (void)tsmap_get(m, key, key_len, NULL);
  return tsmap_get(m, "other", 5, NULL) == TSMAP_OK ? TSMAP_STORE : TSMAP_KEEP;
}

static int visit_and_remove(const void *key, size_t key_len, const void *value, void *ctx) {
  (void)value, (void)ctx;
  return tsmap_remove(g_sessions, key, key_len, NULL) != TSMAP_OK;
}

void use(void) {
  char v[8];
  tsmap_compute_if_absent(g_sessions, "k", 1, load_from_other_key, NULL, v);
  tsmap_compute_if_present(g_sessions, "k", 1, touch_other, g_sessions, v);
  tsmap_compute(g_sessions, "k", 1, touch_other, g_sessions, v);
  tsmap_foreach(g_sessions, visit_and_remove, NULL);
}
