/* audit.c - posts events to the audit service as one line of JSON each. */
#include "audit.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

void audit_connect(struct audit_client *client, const char *service) {
  client->fd = STDERR_FILENO;
  client->service = service;
}

int audit_post(const struct audit_client *client, const char *event, const char *subject) {
  char line[256];
  int n = snprintf(line, sizeof line, "{\"service\":\"%s\",\"event\":\"%s\",\"subject\":\"%s\"}\n",
                   client->service, event, subject);
  if (n < 0 || (size_t)n >= sizeof line)
    return -1;
  return write(client->fd, line, (size_t)n) == n ? 0 : -1;
}
