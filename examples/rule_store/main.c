/* main.c - worker threads that look up firewall rules in a shared rule store. */
#include <pthread.h>
#include <stdio.h>

#include "rules.h"

#define WORKERS 4

static const char *const lookups[] = {"ssh", "http", "https", "dns", "http", "ssh"};

static void *worker(void *arg) {
  struct rule_store *store = arg;
  struct rule rule;
  for (size_t i = 0; i < sizeof lookups / sizeof lookups[0]; i++)
    if (rule_store_get(store, lookups[i], &rule) != 0)
      fprintf(stderr, "no rule %s\n", lookups[i]);
  return NULL;
}

int main(void) {
  struct rule_store store;
  if (rule_store_open(&store) != 0)
    return 1;
  pthread_t threads[WORKERS];
  for (int i = 0; i < WORKERS; i++)
    pthread_create(&threads[i], NULL, worker, &store);
  for (int i = 0; i < WORKERS; i++)
    pthread_join(threads[i], NULL);
  rule_store_touch(&store, "ssh");
  struct rule ssh;
  if (rule_store_get(&store, "ssh", &ssh) == 0)
    printf("ssh: port %u, version %u\n", ssh.port, ssh.version);
  rule_store_close(&store);
  return 0;
}
