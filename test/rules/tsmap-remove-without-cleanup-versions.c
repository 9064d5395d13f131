// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t
// The versions and replication calls of <tsmap/tsmap.h> (runtime/DESIGN.md, G12,
// G13), known through the header alone: tsmap_put_if_version's old_out,
// tsmap_remove_if_version's value_out and tsmap_merge's old_out are
// TSMAP_REMOVED_OUT, and the put, compute and merge forms are TSMAP_REPLACES.
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

static tsmap *g_plain;
static TSMAP_EVICTS_WITH(session_evict) tsmap *g_hooked;

void logout_if(unsigned long id, uint64_t seen) {
  struct session *s = NULL;
  if (tsmap_remove_if_version(g_plain, &id, sizeof id, seen, NULL, &s) != TSMAP_OK)
  // CHECK-NOTES: :[[@LINE-1]]:7: warning: value removed by 'tsmap_remove_if_version' into 's' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
    return;
  free(s);
  // CHECK-NOTES: :[[@LINE-1]]:3: note: 's' is destroyed here without 'timer_cancel'; 'free' is a deallocator, not a hand-off
}
// CHECK-NOTES: :[[@LINE-1]]:1: note: 's' is neither cleaned up with 'timer_cancel' nor handed on before the function ends here
// CHECK-NOTES: :14:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here

void expire_if(unsigned long id, uint64_t seen) {
  tsmap_remove_if_version(g_plain, &id, sizeof id, seen, NULL, NULL);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: value removed by 'tsmap_remove_if_version' is discarded and the map has no eviction hook; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  // CHECK-NOTES: :14:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here
}

void refresh_if(struct session *s, uint64_t seen) {
  tsmap_put_if_version(g_plain, &s->id, sizeof s->id, &s, seen, NULL, NULL);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: 'tsmap_put_if_version' may overwrite a value and the map has no eviction hook; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  // CHECK-NOTES: :14:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here
}

// A merge replaces or removes the local value when the peer's change dominates.
void apply_peer(const tsmap_change *c) {
  tsmap_merge(g_plain, c, NULL, NULL, NULL);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: 'tsmap_merge' may overwrite a value and the map has no eviction hook; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  // CHECK-NOTES: :14:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here
}

// ---- Quiet ----------------------------------------------------------------

void logout_if_clean(unsigned long id, uint64_t seen) {
  struct session *s = NULL;
  if (tsmap_remove_if_version(g_plain, &id, sizeof id, seen, NULL, &s) != TSMAP_OK)
    return;
  timer_cancel(s->idle);
  free(s);
}

void expire_if_hooked(unsigned long id, uint64_t seen) {
  tsmap_remove_if_version(g_hooked, &id, sizeof id, seen, NULL, NULL);
}

void apply_peer_hooked(const tsmap_change *c) {
  tsmap_merge(g_hooked, c, NULL, NULL, NULL);
}

void apply_peer_and_close_old(const tsmap_change *c) {
  struct session *old = NULL;
  if (tsmap_merge(g_plain, c, NULL, NULL, &old) == TSMAP_REPLACED) {
    timer_cancel(old->idle);
    free(old);
  }
}
