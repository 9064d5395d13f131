/* The same callback written to the contract: it only computes its output. The effects
 * happen outside the callback, where the role is not held, so nothing is reported. */
#include <string.h>
#include <tsmap/tsmap.h>

TSMAP_NON_IDEMPOTENT int audit_post(const char *event);
TSMAP_IDEMPOTENT int rule_parse(const void *text, size_t len, void *out);
extern tsmap *g_rules;

TSMAP_CALLBACK_FN int load_rule(const void *key, size_t key_len, void *ctx, TSMAP_OUT void *value_out) {
  (void)ctx;
  return rule_parse(key, key_len, value_out);
}

int lookup_rule(const char *name, void *rule_out) {
  int rc = tsmap_compute_if_absent(g_rules, name, strlen(name), load_rule, NULL, rule_out);
  audit_post("rule looked up");
  return rc;
}
