/* audit.h - a client for the audit service.
 *
 * Every event posted is a record the compliance team counts: posting the same event
 * twice is a second record, so audit_post is TSMAP_NON_IDEMPOTENT. */
#ifndef RULE_STORE_AUDIT_H
#define RULE_STORE_AUDIT_H

#include <tsmap/annotations.h>

struct audit_client {
  int fd;              /* the connection to the audit service */
  const char *service; /* who we are, in every event */
};

/* Connect to the audit service (here: standard error stands in for the socket). */
void audit_connect(struct audit_client *client, const char *service);

/* Post one event about `subject`. Returns 0 when the service took it. */
TSMAP_NON_IDEMPOTENT int audit_post(const struct audit_client *client, const char *event,
                                    const char *subject);

#endif
