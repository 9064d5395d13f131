/* rules.h - a store of firewall rules, loaded on first use and shared by every
 * worker thread through a tsmap. */
#ifndef RULE_STORE_RULES_H
#define RULE_STORE_RULES_H

#include <stddef.h>
#include <tsmap/tsmap.h>

#include "audit.h"

enum rule_action { RULE_ALLOW, RULE_DENY, RULE_LOG };

/* The value stored in the map: copied in and out by value. */
struct rule {
  char name[32];
  enum rule_action action;
  unsigned port;
  unsigned version;
};

struct rule_store {
  tsmap *rules;               /* rule name -> struct rule */
  struct audit_client audit;  /* where rule loads are reported */
};

int rule_store_open(struct rule_store *store);
void rule_store_close(struct rule_store *store);

/* The rule called `name`, loaded from the rule source on first use. 0 on success. */
int rule_store_get(struct rule_store *store, const char *name, struct rule *out);

/* Bump the version of rule `name` if it is loaded. 0 on success. */
int rule_store_touch(struct rule_store *store, const char *name);

#endif
