// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- -- -I%S/Inputs
// GLib's ownership macros on a removed value: `g_steal_pointer(&v)` yields v
// (returned or stored, it is handed on), and g_clear_pointer,
// g_clear_object, g_clear_handle_id and g_clear_signal_handler call their
// cleanup on a macro-local copy of the field, which is the field.
#include "removal-glib-macros.h"
#include <tsmap/annotations.h>

struct timer;
void timer_cancel(struct timer *t);
struct session {
  char *id;
  TSMAP_CLEANUP(g_source_remove) guint timeout_id;
  TSMAP_CLEANUP(g_object_unref) gpointer conn;
};
struct conn {
  int fd;
  TSMAP_CLEANUP(timer_cancel) struct timer *idle;
};
struct sub {
  gpointer emitter;
  TSMAP_CLEANUP(g_signal_handler_disconnect) gulong handler;
};

static GHashTable *g_sessions, *g_conns, *g_subs;
static struct session *g_parked;

void tables_init(void) {
  g_sessions = g_hash_table_new(g_str_hash, g_str_equal);
  g_conns = g_hash_table_new(g_str_hash, g_str_equal);
  g_subs = g_hash_table_new(g_str_hash, g_str_equal);
}

// ---- Still reported ---------------------------------------------------------

// Steals another variable: the removed value is lost.
struct session *session_take_wrong(const char *id) {
  struct session *s = NULL, *none = NULL;
  if (!g_hash_table_steal_extended(g_sessions, id, NULL, (gpointer *)&s))
    return NULL;
  return g_steal_pointer(&none);
}
// CHECK-MESSAGES: :[[@LINE-4]]:8: warning: value removed by 'g_hash_table_steal_extended' into 's' is not cleaned up on every path; its field 'timeout_id' keeps a resource that 'g_source_remove' must release [tsmap-remove-without-cleanup]

// The stolen pointer is dropped: nothing holds the value any more.
void session_steal_dropped(const char *id) {
  struct session *s = NULL;
  if (!g_hash_table_steal_extended(g_sessions, id, NULL, (gpointer *)&s))
    return;
  (void)g_steal_pointer(&s);
}
// CHECK-MESSAGES: :[[@LINE-4]]:8: warning: value removed by 'g_hash_table_steal_extended' into 's' is not cleaned up on every path; its field 'timeout_id' keeps a resource that 'g_source_remove' must release [tsmap-remove-without-cleanup]

// g_clear_pointer with a deallocator is not the cleanup.
void conn_drop_freed(const char *id) {
  struct conn *c = NULL;
  if (!g_hash_table_steal_extended(g_conns, id, NULL, (gpointer *)&c))
    return;
  g_clear_pointer(&c->idle, g_free);
  g_free(c);
}
// CHECK-MESSAGES: :[[@LINE-5]]:8: warning: value removed by 'g_hash_table_steal_extended' into 'c' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]

// One field cleared, the other forgotten.
static void session_half_free(struct session *s) {
  g_clear_handle_id(&s->timeout_id, g_source_remove);
  g_free(s);
}
void session_drop_half(const char *id) {
  struct session *s = NULL;
  if (!g_hash_table_steal_extended(g_sessions, id, NULL, (gpointer *)&s))
    return;
  session_half_free(s);
}
// CHECK-MESSAGES: :[[@LINE-4]]:8: warning: value removed by 'g_hash_table_steal_extended' into 's' is not cleaned up on every path; its field 'conn' keeps a resource that 'g_object_unref' must release [tsmap-remove-without-cleanup]

// A test of another field does not stand for the cleanup of this one.
void conn_drop_wrong_test(const char *id) {
  struct conn *c = NULL;
  if (!g_hash_table_steal_extended(g_conns, id, NULL, (gpointer *)&c))
    return;
  if (c->fd > 0)
    timer_cancel(c->idle);
  g_free(c);
}
// CHECK-MESSAGES: :[[@LINE-6]]:8: warning: value removed by 'g_hash_table_steal_extended' into 'c' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]

// ---- Quiet --------------------------------------------------------------------

struct session *session_take(const char *id) {
  struct session *s = NULL;
  if (!g_hash_table_steal_extended(g_sessions, id, NULL, (gpointer *)&s))
    return NULL;
  return g_steal_pointer(&s);
}

void session_park(const char *id) {
  struct session *s = NULL;
  if (!g_hash_table_steal_extended(g_sessions, id, NULL, (gpointer *)&s))
    return;
  g_parked = g_steal_pointer(&s);
}

struct session *session_take_via_local(const char *id) {
  struct session *s = NULL;
  if (!g_hash_table_steal_extended(g_sessions, id, NULL, (gpointer *)&s))
    return NULL;
  struct session *ret = g_steal_pointer(&s);
  return ret;
}

static void session_free(gpointer p) {
  struct session *s = p;
  g_clear_handle_id(&s->timeout_id, g_source_remove);
  g_clear_object(&s->conn);
  g_free(s->id);
  g_free(s);
}
void session_drop(const char *id) {
  struct session *s = NULL;
  if (!g_hash_table_steal_extended(g_sessions, id, NULL, (gpointer *)&s))
    return;
  session_free(s);
}

void session_drop_inline(const char *id) {
  struct session *s = NULL;
  if (!g_hash_table_steal_extended(g_sessions, id, NULL, (gpointer *)&s))
    return;
  g_clear_handle_id(&s->timeout_id, g_source_remove);
  g_clear_pointer(&s->conn, g_object_unref);
  g_free(s);
}

void conn_drop(const char *id) {
  struct conn *c = NULL;
  if (!g_hash_table_steal_extended(g_conns, id, NULL, (gpointer *)&c))
    return;
  g_clear_pointer(&c->idle, timer_cancel);
  g_free(c);
}

void sub_drop(const char *id) {
  struct sub *s = NULL;
  if (!g_hash_table_steal_extended(g_subs, id, NULL, (gpointer *)&s))
    return;
  g_clear_signal_handler(&s->handler, s->emitter);
  g_free(s);
}

// A plain copy of the field is the field too.
void conn_drop_copy(const char *id) {
  struct conn *c = NULL;
  if (!g_hash_table_steal_extended(g_conns, id, NULL, (gpointer *)&c))
    return;
  struct timer *t = c->idle;
  c->idle = NULL;
  timer_cancel(t);
  g_free(c);
}

// A null field has nothing to release.
void conn_drop_tested(const char *id) {
  struct conn *c = NULL;
  if (!g_hash_table_steal_extended(g_conns, id, NULL, (gpointer *)&c))
    return;
  if (c->idle != NULL)
    timer_cancel(c->idle);
  g_free(c);
}

// g_clear_pointer on the value itself (`&c`, not a field) calls its destroy
// function on the macro's copy of the value: a destroy function that cleans
// up is the cleanup; a deallocator is not.
static void conn_close(struct conn *c) {
  timer_cancel(c->idle);
  g_free(c);
}
void conn_drop_cleared(const char *id) { // quiet
  struct conn *c = NULL;
  if (!g_hash_table_steal_extended(g_conns, id, NULL, (gpointer *)&c))
    return;
  g_clear_pointer(&c, conn_close);
}
void conn_drop_cleared_freed(const char *id) {
  struct conn *c = NULL;
  if (!g_hash_table_steal_extended(g_conns, id, NULL, (gpointer *)&c))
    return;
  g_clear_pointer(&c, g_free);
}
// CHECK-MESSAGES: :[[@LINE-4]]:8: warning: value removed by 'g_hash_table_steal_extended' into 'c' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
