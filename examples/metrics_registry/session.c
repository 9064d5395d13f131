/* session.c - sessions and the user directory. */
#include "session.h"

#include <stdlib.h>

void directory_record_login(struct user *u, int now) {
  /* The directory mutates its users whenever it likes: any thread holding a
   * session reads `owner` with no synchronization. */
  u->logins++;
  u->last_seen = now;
}

int session_open(tsmap *sessions, unsigned id, struct user *u) {
  struct session *s = malloc(sizeof *s);
  if (!s)
    return -1;
  s->id = id;
  s->owner = u;
  /* BUG: the map now hands out `s`, whose `owner` is a weak pointer to a
   * mutable user (tsmap-weak-mutable-value). Fix: copy what readers need
   * into the session, or point at a `const` snapshot of the user. */
  if (tsmap_put_ptr(sessions, &s->id, sizeof s->id, s, NULL) != TSMAP_OK) {
    free(s);
    return -1;
  }
  return 0;
}

void session_close(tsmap *sessions, unsigned id) {
  struct session *s = NULL;
  if (tsmap_remove(sessions, &id, sizeof id, &s) == TSMAP_OK)
    free(s);
}
