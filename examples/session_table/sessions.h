/* sessions.h - a login session table shared by the request threads.
 *
 * Sessions live in a libtsmap map keyed by session id; each is created on the first
 * request that carries its id (tsmap_compute_if_absent). An index by user name, in a
 * GLib GHashTable under a mutex, remembers when each user was last seen, so that idle
 * users can be logged out by a periodic sweep. */
#ifndef SESSION_TABLE_SESSIONS_H
#define SESSION_TABLE_SESSIONS_H

#include <glib.h>
#include <pthread.h>
#include <stddef.h>
#include <tsmap/tsmap.h>

struct session {
  char user[32];
  long opened_at;
  unsigned requests;
};

struct session_stats {
  unsigned long opened;   /* sessions created since start */
  unsigned long expired;  /* users logged out by the sweep */
};

struct session_table {
  tsmap *by_id;                  /* session id -> struct session */
  pthread_mutex_t index_lock;    /* guards by_user */
  GHashTable *by_user;           /* user name (owned) -> last seen (GINT_TO_POINTER) */
  struct session_stats stats;
};

int sessions_open(struct session_table *t);
void sessions_close(struct session_table *t);
/* Finds or creates the session `id` for `user` at time `now`; copies it to *out. */
int sessions_touch(struct session_table *t, const char *id, const char *user, long now,
                   struct session *out);
/* Logs out every user not seen since `cutoff`; returns how many. */
unsigned sessions_sweep(struct session_table *t, long cutoff);
unsigned sessions_active_users(struct session_table *t);

#endif
