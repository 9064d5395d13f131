/* main.c - worker threads that bump shared counters and look up sessions. */
#include <pthread.h>
#include <stdio.h>

#include "metrics.h"
#include "session.h"

#define WORKERS 4

static void *worker(void *arg) {
  struct metrics_registry *reg = arg;
  for (int i = 0; i < 1000; i++) {
    metrics_add(reg, "requests", 1);
    if (i % 10 == 0)
      metrics_add(reg, "errors", 1);
  }
  return NULL;
}

int main(void) {
  struct metrics_registry reg;
  if (metrics_open(&reg) != 0)
    return 1;
  if (!metrics_counter(&reg, "requests", "req") || !metrics_counter(&reg, "errors", "err"))
    return 1;
  metrics_label(&reg, "requests", "req");

  pthread_t threads[WORKERS];
  for (int i = 0; i < WORKERS; i++)
    pthread_create(&threads[i], NULL, worker, &reg);
  for (int i = 0; i < WORKERS; i++)
    pthread_join(threads[i], NULL);
  printf("requests=%ld errors=%ld\n", metrics_value(&reg, "requests"),
         metrics_value(&reg, "errors"));

  tsmap_config cfg;
  tsmap_config_init(&cfg, sizeof(struct session *));
  tsmap *sessions;
  if (tsmap_create(&cfg, &sessions) != TSMAP_OK)
    return 1;
  struct user alice = {"alice", 0, 0};
  if (session_open(sessions, 1, &alice) == 0) {
    directory_record_login(&alice, 42);
    session_close(sessions, 1);
  }
  tsmap_destroy(sessions);
  metrics_close(&reg);
  return 0;
}
