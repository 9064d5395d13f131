/* sessions.c - the session table. */
#include "sessions.h"

#include <stdio.h>
#include <string.h>

/* ---- Creating sessions ------------------------------------------------------------ */

struct open_request {
  struct session_table *table;
  const char *user;
  long now;
};

/* The compute_if_absent callback: fill in the new session. BUG: it also counts the
 * session as opened, and the map may run it more than once for one id (after a failed
 * callback, or when a racing insert wins and this result is discarded), so `opened`
 * drifts above the number of sessions that exist. */
static int open_session(const void *key, size_t key_len, void *ctx, void *value_out) {
  struct open_request *req = ctx;
  struct session *s = value_out;
  (void)key;
  (void)key_len;
  memset(s, 0, sizeof *s);
  snprintf(s->user, sizeof s->user, "%s", req->user);
  s->opened_at = req->now;
  req->table->stats.opened++;
  return 0;
}

int sessions_touch(struct session_table *t, const char *id, const char *user, long now,
                   struct session *out) {
  struct open_request req = {t, user, now};
  if (tsmap_compute_if_absent(t->by_id, id, strlen(id), open_session, &req, out) !=
      TSMAP_OK)
    return -1;
  pthread_mutex_lock(&t->index_lock);
  g_hash_table_replace(t->by_user, g_strdup(user), GINT_TO_POINTER((int)now));
  pthread_mutex_unlock(&t->index_lock);
  return 0;
}

/* ---- Expiring idle users ---------------------------------------------------------- */

struct sweep {
  struct session_table *table;
  long cutoff;
  unsigned count;
};

static int is_idle(gpointer last_seen, long cutoff) {
  return GPOINTER_TO_INT(last_seen) < cutoff;
}

static void log_out(struct session_table *t, const char *user) {
  t->stats.expired++;
  g_hash_table_remove(t->by_user, user);
}

/* The g_hash_table_foreach visitor. BUG: log_out removes the user from the very table
 * g_hash_table_foreach is walking; GLib forbids modifying a table while iterating it
 * (the iteration reads buckets the removal has just changed). */
static void expire_idle(gpointer user, gpointer last_seen, gpointer user_data) {
  struct sweep *sw = user_data;
  if (is_idle(last_seen, sw->cutoff)) {
    log_out(sw->table, user);
    sw->count++;
  }
}

unsigned sessions_sweep(struct session_table *t, long cutoff) {
  struct sweep sw = {t, cutoff, 0};
  pthread_mutex_lock(&t->index_lock);
  g_hash_table_foreach(t->by_user, expire_idle, &sw);
  pthread_mutex_unlock(&t->index_lock);
  return sw.count;
}

/* Fine: the visitor only counts, and g_hash_table_size only reads. */
static void count_user(gpointer user, gpointer last_seen, gpointer user_data) {
  (void)user;
  (void)last_seen;
  ++*(unsigned *)user_data;
}

unsigned sessions_active_users(struct session_table *t) {
  unsigned n = 0;
  pthread_mutex_lock(&t->index_lock);
  g_hash_table_foreach(t->by_user, count_user, &n);
  pthread_mutex_unlock(&t->index_lock);
  return n;
}

/* ---- Lifetime --------------------------------------------------------------------- */

int sessions_open(struct session_table *t) {
  tsmap_config config;
  memset(t, 0, sizeof *t);
  if (tsmap_config_init(&config, sizeof(struct session)) != TSMAP_OK ||
      tsmap_create(&config, &t->by_id) != TSMAP_OK)
    return -1;
  pthread_mutex_init(&t->index_lock, NULL);
  t->by_user = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  return 0;
}

void sessions_close(struct session_table *t) {
  tsmap_destroy(t->by_id);
  g_hash_table_destroy(t->by_user);
  pthread_mutex_destroy(&t->index_lock);
}
