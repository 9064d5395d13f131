/* session.h - login sessions, published by id so request threads can find
 * them. A session points at its user, which the user directory owns. */
#ifndef METRICS_REGISTRY_SESSION_H
#define METRICS_REGISTRY_SESSION_H

#include <tsmap/tsmap.h>

struct user {
  char name[32];
  int logins;     /* updated by the directory on every login */
  int last_seen;  /* updated by the directory on every request */
};

struct session {
  unsigned id;
  /* Borrowed: the user directory owns, updates and frees users. */
  TSMAP_WEAK struct user *owner;
};

/* The user directory: updates a user in place. */
void directory_record_login(struct user *u, int now);

/* Creates a session for `u` and publishes it in `sessions`; 0 on success. */
int session_open(tsmap *sessions, unsigned id, struct user *u);
/* Removes and frees session `id`. */
void session_close(tsmap *sessions, unsigned id);

#endif
