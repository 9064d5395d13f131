/* conn_table: a server's table of live connections, shared by its worker threads.
 *
 * Each connection owns an idle timer that fires after IDLE_MS without traffic and points
 * back at the connection. Whoever takes a connection out of the table must cancel that
 * timer before freeing the connection, or the timer later fires into freed memory. The
 * field says so with TSMAP_CLEANUP(timer_cancel), and tsmap-remove-without-cleanup
 * checks every removal:
 *
 *   conn_table_close()  removes and releases the connection on every path     (quiet)
 *   conn_table_expire() removes with a NULL out-argument: the table's eviction hook
 *                       conn_evicted() cancels the timer                      (quiet)
 *   conn_table_reset()  frees a half-open connection with its timer armed     (REPORTED)
 *   pending_abort()     discards a connection from a table with no hook       (REPORTED)
 *   pending_start()     a replacing put into that table: a second handshake for the
 *                       same id would leak the first one's armed timer         (REPORTED)
 */
#include "timers.h"

#include <stdio.h>
#include <stdlib.h>
#include <tsmap/annotations.h>
#include <tsmap/tsmap.h>
#include <unistd.h>

enum { IDLE_MS = 30000 };

struct conn {
  unsigned long id;
  int fd;                  /* -1 while the handshake is not done (half-open) */
  unsigned long bytes_in;
  int idle_fired;
  /* Fires conn_idle(this) after IDLE_MS without traffic. */
  TSMAP_CLEANUP(timer_cancel) struct timer *idle;
};

static void conn_free(struct conn *c) {
  timer_cancel(c->idle);
  if (c->fd >= 0)
    close(c->fd);
  free(c);
}

/* The table's eviction hook: values it lets go of on its own (a NULL out-argument, a
 * replacing put, tsmap_close) come here. */
static void conn_evicted(const void *key, size_t key_len, void *value,
                         tsmap_evict_reason reason, void *hook_ctx) {
  (void)key, (void)key_len, (void)reason, (void)hook_ctx;
  conn_free(*(struct conn **)value);
}

TSMAP_EVICTS_WITH(conn_evicted) static tsmap *g_conns;

/* Connections still in their handshake, by id. This table came later, and nobody gave
 * it an eviction hook: a value it drops is nobody's. */
static tsmap *g_pending;

static void conn_idle(void *arg) {
  struct conn *c = arg;
  c->idle = NULL; /* a fired timer is gone */
  c->idle_fired = 1;
}

static int conn_table_open(unsigned long id, int fd) {
  struct conn *c = calloc(1, sizeof *c);
  if (!c)
    return -1;
  c->id = id;
  c->fd = fd;
  c->idle = timer_arm(IDLE_MS, conn_idle, c);
  if (tsmap_put_ptr(g_conns, &c->id, sizeof c->id, c, NULL) != TSMAP_OK) {
    conn_free(c);
    return -1;
  }
  return 0;
}

/* Closes a connection on request: every path releases it. */
static void conn_table_close(unsigned long id) {
  struct conn *c = NULL;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK)
    return;
  printf("conn %lu closed after %lu bytes\n", c->id, c->bytes_in);
  conn_free(c);
}

/* Drops an idle connection: the eviction hook releases it. */
static void conn_table_expire(unsigned long id) {
  tsmap_remove(g_conns, &id, sizeof id, NULL);
}

/* Drops a connection the peer reset. The half-open branch frees the connection but
 * leaves its idle timer armed: IDLE_MS later conn_idle() writes into freed memory. */
static void conn_table_reset(unsigned long id) {
  struct conn *c = NULL;
  if (tsmap_remove(g_conns, &id, sizeof id, &c) != TSMAP_OK)
    return;
  if (c->fd < 0) { /* half-open: no descriptor to close */
    free(c);
    return;
  }
  conn_free(c);
}

/* Aborts a handshake that took too long. The NULL out-argument discards the connection,
 * and g_pending has no TSMAP_EVICTS_WITH hook: the connection leaks with its idle timer
 * still armed, and the timer later fires into a connection no one owns. */
static void pending_abort(unsigned long id) {
  tsmap_remove(g_pending, &id, sizeof id, NULL);
}

static int pending_start(unsigned long id) {
  struct conn *c = calloc(1, sizeof *c);
  if (!c)
    return -1;
  c->id = id;
  c->fd = -1;
  c->idle = timer_arm(IDLE_MS, conn_idle, c);
  if (tsmap_put_ptr(g_pending, &c->id, sizeof c->id, c, NULL) != TSMAP_OK) {
    conn_free(c);
    return -1;
  }
  return 0;
}

int main(void) {
  tsmap_config cfg;
  if (tsmap_config_init(&cfg, sizeof(struct conn *)) != TSMAP_OK)
    return 1;
  cfg.key_size = sizeof(unsigned long);
  cfg.on_entry_evicted = conn_evicted;
  if (tsmap_create(&cfg, &g_conns) != TSMAP_OK)
    return 1;
  cfg.on_entry_evicted = NULL;
  if (tsmap_create(&cfg, &g_pending) != TSMAP_OK)
    return 1;
  if (pending_start(9) != 0)
    return 1;
  pending_abort(9);
  for (unsigned long id = 1; id <= 4; ++id)
    if (conn_table_open(id, dup(1)) != 0)
      return 1;
  conn_table_close(1);
  conn_table_expire(2);
  conn_table_reset(3); /* a full connection: the buggy branch is not taken here */
  timers_advance(IDLE_MS);
  tsmap_close(g_conns);
  tsmap_destroy(g_conns);
  tsmap_destroy(g_pending);
  return 0;
}
