/* main.c - request threads touch sessions; a sweep logs out idle users. */
#include <pthread.h>
#include <stdio.h>

#include "sessions.h"

#define WORKERS 4

struct request {
  const char *session_id;
  const char *user;
  long at;
};

static const struct request requests[] = {
    {"s-100", "ada", 10}, {"s-101", "bob", 12}, {"s-100", "ada", 15},
    {"s-102", "cyd", 20}, {"s-101", "bob", 40}, {"s-103", "dee", 41},
};

static void *worker(void *arg) {
  struct session_table *t = arg;
  struct session s;
  for (size_t i = 0; i < sizeof requests / sizeof requests[0]; i++)
    if (sessions_touch(t, requests[i].session_id, requests[i].user, requests[i].at, &s) != 0)
      fprintf(stderr, "cannot open session %s\n", requests[i].session_id);
  return NULL;
}

int main(void) {
  struct session_table table;
  if (sessions_open(&table) != 0)
    return 1;
  pthread_t threads[WORKERS];
  for (int i = 0; i < WORKERS; i++)
    pthread_create(&threads[i], NULL, worker, &table);
  for (int i = 0; i < WORKERS; i++)
    pthread_join(threads[i], NULL);
  printf("sessions opened: %lu, active users: %u\n", table.stats.opened,
         sessions_active_users(&table));
  unsigned expired = sessions_sweep(&table, 30);
  printf("logged out %u idle users, %u still active\n", expired,
         sessions_active_users(&table));
  sessions_close(&table);
  return 0;
}
