/* rules.c - the rule store.
 *
 * Rules are parsed from the rule source (a static table here; a config service in real
 * life) the first time a worker asks for them, with tsmap_compute_if_absent. The map
 * runs the loader with no lock held and may run it more than once for one rule: after a
 * failed load, or when two workers race and one result is discarded. */
#include "rules.h"

#include <stdio.h>
#include <string.h>

/* ---- The rule source ------------------------------------------------------------- */

static const char *const rule_source[] = {
    "ssh deny 22",
    "http allow 80",
    "https allow 443",
    "dns log 53",
};

static int parse_rule(const char *text, struct rule *out) {
  char action[8];
  unsigned port = 0;
  memset(out, 0, sizeof *out);
  if (sscanf(text, "%31s %7s %u", out->name, action, &port) != 3)
    return -1;
  out->action = strcmp(action, "deny") == 0    ? RULE_DENY
                : strcmp(action, "log") == 0   ? RULE_LOG
                                               : RULE_ALLOW;
  out->port = port;
  out->version = 1;
  return 0;
}

static const char *find_source(const char *name, size_t len) {
  for (size_t i = 0; i < sizeof rule_source / sizeof rule_source[0]; i++)
    if (strncmp(rule_source[i], name, len) == 0 && rule_source[i][len] == ' ')
      return rule_source[i];
  return NULL;
}

/* ---- Loading --------------------------------------------------------------------- */

/* Tell the audit service that a rule went live. */
static void record_load(const struct rule_store *store, const struct rule *rule) {
  audit_post(&store->audit, "rule-loaded", rule->name);
}

/* The compute_if_absent callback: parse the rule into *value_out. BUG: it also posts
 * the "rule-loaded" audit event, and the map may run it twice for one rule. */
static int load_rule(const void *key, size_t key_len, void *ctx, TSMAP_OUT void *value_out) {
  const struct rule_store *store = ctx;
  struct rule *rule = value_out;
  const char *text = find_source(key, key_len);
  if (!text || parse_rule(text, rule) != 0)
    return -1;
  record_load(store, rule);
  return 0;
}

/* The compute callback of rule_store_touch: writes only its own output. */
static tsmap_verdict touch_rule(const void *key, size_t key_len, const void *old_value,
                                void *ctx, TSMAP_OUT void *new_value) {
  (void)key;
  (void)key_len;
  (void)ctx;
  if (!old_value)
    return TSMAP_KEEP;
  struct rule *next = new_value;
  memcpy(next, old_value, sizeof *next);
  next->version++;
  return TSMAP_STORE;
}

/* ---- The store ------------------------------------------------------------------- */

int rule_store_open(struct rule_store *store) {
  tsmap_config cfg;
  if (tsmap_config_init(&cfg, sizeof(struct rule)) != TSMAP_OK)
    return -1;
  audit_connect(&store->audit, "rule-store");
  return tsmap_create(&cfg, &store->rules) == TSMAP_OK ? 0 : -1;
}

void rule_store_close(struct rule_store *store) {
  tsmap_close(store->rules);
  tsmap_destroy(store->rules);
}

int rule_store_get(struct rule_store *store, const char *name, struct rule *out) {
  tsmap_status st =
      tsmap_compute_if_absent(store->rules, name, strlen(name), load_rule, store, out);
  return st == TSMAP_OK ? 0 : -1;
}

int rule_store_touch(struct rule_store *store, const char *name) {
  tsmap_status st = tsmap_compute_if_present(store->rules, name, strlen(name), touch_rule,
                                             NULL, NULL);
  return st == TSMAP_OK ? 0 : -1;
}
