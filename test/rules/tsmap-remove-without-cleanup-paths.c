// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- -- -I%S/Inputs
// Paths: goto-style error handling, loops, switches on the status, status
// variables, aliases, noreturn exits, values held by value, values with
// several resources.
#include "removal-conn.h"

extern smap *g_conns;
extern smap *g_slots;
void fatal(const char *why) __attribute__((noreturn));
static int validate(struct conn *c) { return c->fd >= 0; } /* only reads */

// ---- goto cleanup ----------------------------------------------------------

int evict_goto(int id) {
  struct conn *c = NULL;
  int rc = -1;
  if (smap_remove(g_conns, id, &c) != SMAP_OK)
    goto out;
  rc = 0;
out:
  if (c)
    conn_close(c);
  return rc;
}

int evict_goto_leak(int id, int quick) {
  struct conn *c = NULL;
  int rc = -1;
  if (smap_remove(g_conns, id, &c) != SMAP_OK)
  // CHECK-NOTES: :[[@LINE-1]]:7: warning: value removed by 'smap_remove' into 'c' is not cleaned up on every path; it keeps a resource that 'conn_close' must release [tsmap-remove-without-cleanup]
    goto out;
  if (quick)
    goto done;
  rc = 0;
out:
  if (c)
    conn_close(c);
done:
  return rc;
  // CHECK-NOTES: :[[@LINE-1]]:3: note: 'c' is neither cleaned up with 'conn_close' nor handed on before the function returns here
  // CHECK-NOTES: removal-conn.h:9:34: note: 'struct conn' is declared TSMAP_CLEANUP(conn_close) here
}

// ---- Loops -----------------------------------------------------------------

void evict_all(const int *ids, int n) {
  for (int i = 0; i < n; ++i) {
    struct conn *c;
    if (smap_remove(g_conns, ids[i], &c) != SMAP_OK)
      continue;
    conn_close(c);
  }
}

void evict_all_leaky(const int *ids, int n) {
  for (int i = 0; i < n; ++i) {
    struct conn *c;
    if (smap_remove(g_conns, ids[i], &c) != SMAP_OK)
    // CHECK-NOTES: :[[@LINE-1]]:9: warning: value removed by 'smap_remove' into 'c' is not cleaned up on every path; it keeps a resource that 'conn_close' must release [tsmap-remove-without-cleanup]
      continue;
    if (c->fd < 0)
      break;
    // CHECK-NOTES: :[[@LINE-1]]:7: note: 'c' is neither cleaned up with 'conn_close' nor handed on before the loop is left here
    conn_close(c);
  }
}
// CHECK-NOTES: removal-conn.h:9:34: note: 'struct conn' is declared TSMAP_CLEANUP(conn_close) here

// ---- Switch and status variables --------------------------------------------

void evict_switch(int id) {
  struct conn *c;
  switch (smap_remove(g_conns, id, &c)) {
  case SMAP_OK:
    conn_close(c);
    break;
  case SMAP_NOT_FOUND:
    break;
  default:
    break;
  }
}

void evict_status(int id) {
  struct conn *c;
  smap_status st = smap_remove(g_conns, id, &c);
  if (st == SMAP_NOT_FOUND)
    return;
  conn_close(c);
}

void evict_status_leak(int id) {
  struct conn *c;
  smap_status st = smap_remove(g_conns, id, &c);
  // CHECK-NOTES: :[[@LINE-1]]:20: warning: value removed by 'smap_remove' into 'c' is not cleaned up on every path; it keeps a resource that 'conn_close' must release [tsmap-remove-without-cleanup]
  if (st == SMAP_OK && validate(c) != 0)
    return;
  // CHECK-NOTES: :[[@LINE-1]]:5: note: 'c' is neither cleaned up with 'conn_close' nor handed on before the function returns here
  // CHECK-NOTES: removal-conn.h:9:34: note: 'struct conn' is declared TSMAP_CLEANUP(conn_close) here
  conn_close(c);
}

// ---- Aliases and noreturn ----------------------------------------------------

void evict_alias(int id) {
  struct conn *c = NULL;
  if (smap_remove(g_conns, id, &c) != SMAP_OK)
    return;
  struct conn *victim = c;
  conn_close(victim);
}

void evict_or_die(int id) {
  struct conn *c;
  if (smap_remove(g_conns, id, &c) != SMAP_OK)
    return;
  if (c->fd < 0)
    fatal("corrupt table"); /* the program ends: nothing outlives it */
  conn_close(c);
}

// ---- Several resources, field by field ---------------------------------------

void evict_by_fields(int id) {
  struct conn *c;
  if (smap_remove(g_conns, id, &c) != SMAP_OK)
    return;
  timer_cancel(c->idle);
  close(c->fd);
}

void evict_fd_only(int id) {
  struct conn *c;
  if (smap_remove(g_conns, id, &c) != SMAP_OK)
  // CHECK-NOTES: :[[@LINE-1]]:7: warning: value removed by 'smap_remove' into 'c' is not cleaned up on every path; it keeps a resource that 'conn_close' must release [tsmap-remove-without-cleanup]
    return;
  close(c->fd);
  free(c);
  // CHECK-NOTES: :[[@LINE-1]]:3: note: 'c' is destroyed here without 'conn_close'; 'free' is a deallocator, not a hand-off
}
// CHECK-NOTES: :[[@LINE-1]]:1: note: 'c' is neither cleaned up with 'conn_close' nor handed on before the function ends here
// CHECK-NOTES: removal-conn.h:9:34: note: 'struct conn' is declared TSMAP_CLEANUP(conn_close) here

// ---- Values held by value ------------------------------------------------------

void slot_clear(int id) {
  struct slot s;
  if (smap_remove(g_slots, id, &s) == SMAP_OK)
    timer_cancel(s.t);
}

void slot_drop(int id) {
  struct slot s;
  if (smap_remove(g_slots, id, &s) == SMAP_NOT_FOUND)
  // CHECK-NOTES: :[[@LINE-1]]:7: warning: value removed by 'smap_remove' into 's' is not cleaned up on every path; its field 't' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
    return;
}
// CHECK-NOTES: :[[@LINE-1]]:1: note: 's' is neither cleaned up with 'timer_cancel' nor handed on before the function ends here
// CHECK-NOTES: removal-conn.h:17:45: note: field 't' is declared TSMAP_CLEANUP(timer_cancel) here
