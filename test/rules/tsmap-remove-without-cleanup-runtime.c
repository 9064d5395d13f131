// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t
// The tsmap runtime's own API, known through its header alone: tsmap_remove's
// value_out and tsmap_put's old_out are TSMAP_REMOVED_OUT, tsmap_put and
// tsmap_put_ptr are TSMAP_REPLACES.
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

void logout(unsigned long id) {
  struct session *s = NULL;
  if (tsmap_remove(g_plain, &id, sizeof id, &s) != TSMAP_OK)
  // CHECK-NOTES: :[[@LINE-1]]:7: warning: value removed by 'tsmap_remove' into 's' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
    return;
  free(s);
  // CHECK-NOTES: :[[@LINE-1]]:3: note: 's' is destroyed here without 'timer_cancel'; 'free' is a deallocator, not a hand-off
}
// CHECK-NOTES: :[[@LINE-1]]:1: note: 's' is neither cleaned up with 'timer_cancel' nor handed on before the function ends here
// CHECK-NOTES: :13:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here

void expire(unsigned long id) {
  tsmap_remove(g_plain, &id, sizeof id, NULL);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: value removed by 'tsmap_remove' is discarded and the map has no eviction hook; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  // CHECK-NOTES: :13:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here
}

void refresh(struct session *s) {
  tsmap_put_ptr(g_plain, &s->id, sizeof s->id, s, NULL);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: 'tsmap_put_ptr' may overwrite a value and the map has no eviction hook; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  // CHECK-NOTES: :13:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here
}

// ---- Quiet ----------------------------------------------------------------

void logout_clean(unsigned long id) {
  struct session *s = NULL;
  if (tsmap_remove(g_plain, &id, sizeof id, &s) != TSMAP_OK)
    return;
  timer_cancel(s->idle);
  free(s);
}

void expire_hooked(unsigned long id) {
  tsmap_remove(g_hooked, &id, sizeof id, NULL);
}

void refresh_hooked(struct session *s) {
  tsmap_put(g_hooked, &s->id, sizeof s->id, &s, NULL);
}

void refresh_and_close_old(struct session *s) {
  struct session *old = NULL;
  if (tsmap_put(g_plain, &s->id, sizeof s->id, &s, &old) == TSMAP_REPLACED) {
    timer_cancel(old->idle);
    free(old);
  }
}

/* A compute may replace the value too: the map's value type is learned from
 * its typed uses above, and only a hook can clean what it overwrites. */
static tsmap_verdict touch(const void *key, size_t key_len, const void *old_value,
                           void *ctx, void *new_value) {
  (void)key, (void)key_len, (void)old_value;
  if (!ctx)
    return TSMAP_KEEP;
  *(void **)new_value = ctx;
  return TSMAP_STORE;
}
void touch_plain(unsigned long id) {
  tsmap_compute_if_present(g_plain, &id, sizeof id, touch, NULL, NULL);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: 'tsmap_compute_if_present' may overwrite a value and the map has no eviction hook; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  // CHECK-NOTES: :13:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here
}
void touch_hooked(unsigned long id) {
  tsmap_compute_if_present(g_hooked, &id, sizeof id, touch, NULL, NULL);
}

/* A compute whose callback keeps every value it finds only inserts: nothing
 * is overwritten. One that stores or deletes over a found value may be. */
static tsmap_verdict insert_only(const void *key, size_t key_len, const void *old,
                                 void *ctx, void *out) {
  (void)key, (void)key_len;
  if (old)
    return TSMAP_KEEP;
  *(void **)out = ctx;
  return TSMAP_STORE;
}
static tsmap_verdict insert_if_null(const void *key, size_t key_len, const void *old,
                                    void *ctx, void *out) {
  (void)key, (void)key_len;
  if (old == NULL && ctx != NULL) {
    *(void **)out = ctx;
    return TSMAP_STORE;
  }
  return TSMAP_KEEP;
}
static tsmap_verdict drop_found(const void *key, size_t key_len, const void *old,
                                void *ctx, void *out) {
  (void)key, (void)key_len, (void)ctx, (void)out;
  if (old != NULL)
    return TSMAP_DELETE;
  return TSMAP_KEEP;
}
static tsmap_verdict insert_when_asked(const void *key, size_t key_len, const void *old,
                                       void *ctx, void *out) {
  (void)key, (void)key_len;
  if (ctx) { /* a test of something else: old may be present here */
    *(void **)out = ctx;
    return TSMAP_STORE;
  }
  return old ? TSMAP_KEEP : TSMAP_DELETE;
}
/* The verdict carried in a local: one that every statement run with an old
 * value leaves TSMAP_KEEP only inserts; one given TSMAP_STORE there may not. */
static tsmap_verdict insert_only_local(const void *key, size_t key_len,
                                       const void *old, void *ctx, void *out) {
  (void)key, (void)key_len;
  tsmap_verdict v = TSMAP_KEEP;
  if (!old) {
    *(void **)out = ctx;
    v = TSMAP_STORE;
  }
  return v;
}
static tsmap_verdict insert_only_assigned(const void *key, size_t key_len,
                                          const void *old, void *ctx, void *out) {
  (void)key, (void)key_len;
  tsmap_verdict v;
  if (old != NULL)
    v = TSMAP_KEEP;
  else
    v = ctx ? TSMAP_STORE : TSMAP_KEEP;
  return v;
}
static tsmap_verdict store_found_local(const void *key, size_t key_len,
                                       const void *old, void *ctx, void *out) {
  (void)key, (void)key_len;
  tsmap_verdict v = TSMAP_KEEP;
  if (ctx) { /* old may be present here */
    *(void **)out = ctx;
    v = TSMAP_STORE;
  }
  return v;
}
void computes(struct session *s, int which) {
  struct session *r;
  tsmap_compute(g_plain, &s->id, sizeof s->id, insert_only, s, &r);
  tsmap_compute(g_plain, &s->id, sizeof s->id, which ? insert_only : insert_if_null, s, &r);
  tsmap_compute(g_plain, &s->id, sizeof s->id, drop_found, s, &r);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: 'tsmap_compute' may overwrite a value and the map has no eviction hook; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  // CHECK-NOTES: :13:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here
  tsmap_compute(g_plain, &s->id, sizeof s->id, insert_when_asked, s, &r);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: 'tsmap_compute' may overwrite a value and the map has no eviction hook; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  // CHECK-NOTES: :13:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here
  tsmap_compute(g_plain, &s->id, sizeof s->id, which ? insert_only : drop_found, s, &r);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: 'tsmap_compute' may overwrite a value and the map has no eviction hook; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  // CHECK-NOTES: :13:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here
  tsmap_compute(g_plain, &s->id, sizeof s->id, insert_only_local, s, &r);
  tsmap_compute(g_plain, &s->id, sizeof s->id, insert_only_assigned, s, &r);
  tsmap_compute(g_plain, &s->id, sizeof s->id, store_found_local, s, &r);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: 'tsmap_compute' may overwrite a value and the map has no eviction hook; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  // CHECK-NOTES: :13:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here
}

/* A map fed only by a put that never replaces: the put still tells what it holds,
 * so a discarded removal from it is reported. */
static tsmap *g_pending;
void pending_start(struct session *s) {
  tsmap_put_ptr_if_absent(g_pending, &s->id, sizeof s->id, s, NULL);
}
void pending_abort(unsigned long id) {
  tsmap_remove(g_pending, &id, sizeof id, NULL);
  // CHECK-NOTES: :[[@LINE-1]]:3: warning: value removed by 'tsmap_remove' is discarded and the map has no eviction hook; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
  // CHECK-NOTES: :13:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here
}
