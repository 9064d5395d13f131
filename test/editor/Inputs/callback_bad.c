/* A compute_if_absent callback that does two things the editor's Thread Safety Analysis
 * mapping catches: it calls a TSMAP_NON_IDEMPOTENT function, and it calls the map.
 * The CHECK lines are shared by tsa-clang.test (clang) and tsa-clangd.test (clangd). */
#include <string.h>
#include <tsmap/tsmap.h>

TSMAP_NON_IDEMPOTENT int audit_post(const char *event);
extern tsmap *g_rules;

TSMAP_CALLBACK_FN int load_rule(const void *key, size_t key_len, void *ctx, TSMAP_OUT void *value_out) {
  (void)ctx;
  audit_post("rule loaded");
  // CHECK: {{^|/}}callback_bad.c:[[@LINE-1]]:3: warning: cannot call function 'audit_post' while role 'tsmap_in_map_callback' is held [-Wthread-safety-analysis]
  return tsmap_get(g_rules, key, key_len, value_out) == TSMAP_OK ? 0 : 1;
  // CHECK: {{^|/}}callback_bad.c:[[@LINE-1]]:10: warning: cannot call function 'tsmap_get' while role 'tsmap_in_map_callback' is held [-Wthread-safety-analysis]
}
// SESSION: clangd published 2 diagnostic(s) for callback_bad.c; clangd exit status 0
