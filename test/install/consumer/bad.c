/* Deliberately wrong code for the build-integration test (CONSUMER_BAD=ON): a callback
 * that the map may run twice posts an audit event each time it runs
 * (tsmap-non-idempotent-callback). It also holds a plain clang-tidy finding
 * (misc-redundant-expression) that the test can enable alongside the tsmap checks. */
#include <string.h>
#include <tsmap/tsmap.h>

TSMAP_NON_IDEMPOTENT int audit_post(const char *event);

static int load_user(const void *key, size_t key_len, void *ctx, TSMAP_OUT void *value_out) {
  (void)key;
  (void)key_len;
  (void)ctx;
  audit_post("user loaded");
  memset(value_out, 0, sizeof(int));
  return 0;
}

int find_user(tsmap *users, const char *name, int *user_out) {
  int limit = 3;
  if (limit == limit)
    return tsmap_compute_if_absent(users, name, strlen(name), load_user, NULL, user_out);
  return 0;
}
