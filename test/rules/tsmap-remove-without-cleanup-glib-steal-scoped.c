// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- -- -I%S/Inputs
// A removed value in a holder with a cleanup attribute (what g_autoptr(T)
// expands to) is cleaned at the function's exit, unless `g_steal_pointer(&v)`
// took it out first: the steal nulls the holder, so its cleanup gets NULL,
// and a stolen value that is dropped (`(void)g_steal_pointer(&c);`, or the
// bare call) is lost. Returned or stored, it is handed on.
#include "removal-glib-macros.h"
#include <tsmap/annotations.h>

struct timer;
void timer_cancel(struct timer *t);
struct conn {
  int fd;
  TSMAP_CLEANUP(timer_cancel) struct timer *idle;
};

static GHashTable *g_conns;
void tables_init(void) { g_conns = g_hash_table_new(g_str_hash, g_str_equal); }

static void conn_close(struct conn *c) {
  if (c)
    timer_cancel(c->idle);
  g_free(c);
}
static void conn_closep(struct conn **cp) { conn_close(*cp); }

// ---- Reported ---------------------------------------------------------------

void conn_steal_dropped(const char *id) {
  __attribute__((cleanup(conn_closep))) struct conn *c = NULL;
  if (!g_hash_table_steal_extended(g_conns, id, NULL, (gpointer *)&c))
    return;
  (void)g_steal_pointer(&c);
}
// CHECK-NOTES: :[[@LINE-4]]:8: warning: value removed by 'g_hash_table_steal_extended' into 'c' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
// CHECK-NOTES: :[[@LINE-3]]:{{[0-9]+}}: note: the value is stolen from 'c' here and dropped before it is cleaned up with 'timer_cancel' or handed on
// CHECK-NOTES: :14:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here

void conn_steal_dropped_bare(const char *id) {
  __attribute__((cleanup(conn_closep))) struct conn *c = NULL;
  if (!g_hash_table_steal_extended(g_conns, id, NULL, (gpointer *)&c))
    return;
  g_steal_pointer(&c);
}
// CHECK-NOTES: :[[@LINE-4]]:8: warning: value removed by 'g_hash_table_steal_extended' into 'c' is not cleaned up on every path; its field 'idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
// CHECK-NOTES: :[[@LINE-3]]:{{[0-9]+}}: note: the value is stolen from 'c' here and dropped before it is cleaned up with 'timer_cancel' or handed on
// CHECK-NOTES: :14:45: note: field 'idle' is declared TSMAP_CLEANUP(timer_cancel) here

// ---- Quiet --------------------------------------------------------------------

void conn_drop_scoped(const char *id) { // the holder's cleanup cleans it
  __attribute__((cleanup(conn_closep))) struct conn *c = NULL;
  if (!g_hash_table_steal_extended(g_conns, id, NULL, (gpointer *)&c))
    return;
}

struct conn *conn_take(const char *id) {
  __attribute__((cleanup(conn_closep))) struct conn *c = NULL;
  if (!g_hash_table_steal_extended(g_conns, id, NULL, (gpointer *)&c))
    return NULL;
  return g_steal_pointer(&c);
}

void conn_close_elsewhere(const char *id) {
  __attribute__((cleanup(conn_closep))) struct conn *c = NULL;
  struct conn *kept = NULL;
  if (!g_hash_table_steal_extended(g_conns, id, NULL, (gpointer *)&c))
    return;
  kept = g_steal_pointer(&c);
  conn_close(kept);
}

void conn_steal_other(const char *id) { // a steal of another holder
  __attribute__((cleanup(conn_closep))) struct conn *c = NULL;
  struct conn *none = NULL;
  if (!g_hash_table_steal_extended(g_conns, id, NULL, (gpointer *)&c))
    return;
  (void)g_steal_pointer(&none);
}
