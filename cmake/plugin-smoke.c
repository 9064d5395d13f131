/* The plugin smoke test (cmake/TsmapPluginSmokeTest.cmake): one finding of
 * tsmap-non-idempotent-callback, with every check enabled and each option
 * read, so a plugin that cannot construct its checks in this clang-tidy fails. */
#include <tsmap/annotations.h>

typedef struct TSMAP_THREAD_SAFE_MAP store store;
typedef int (*loader)(const char *key, void *ctx);
int store_compute_if_absent(store *s, const char *key, TSMAP_CALLBACK loader load,
                            void *ctx);
TSMAP_NON_IDEMPOTENT int audit_post(const char *event, const char *key);

static int load_posts(const char *key, void *ctx) {
  (void)ctx;
  return audit_post("load", key);
}

int smoke(store *s) { return store_compute_if_absent(s, "k", load_posts, 0); }
