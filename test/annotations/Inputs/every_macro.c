/* Compile-only: every annotation macro in every position docs/spec.md section 1 allows. Built as
 * C99, C11, C17, C++11 and C++17 with gcc and clang under -Wall -Wextra -Werror. */
#include <stddef.h>
#include <tsmap/annotations.h>

#ifdef __cplusplus
extern "C" {
#endif

struct timer;
void timer_cancel(struct timer *t);

typedef struct TSMAP_THREAD_SAFE_MAP store store;
typedef struct TSMAP_IMMUTABLE rule {
  int priority;
} rule;
typedef const rule *rule_ref TSMAP_WEAK;

struct user;
struct TSMAP_CLEANUP(session_free) session {
  TSMAP_CLEANUP(timer_cancel) struct timer *idle;
  TSMAP_WEAK struct user *owner;
};
void session_free(struct session *s);
void session_evict(void *value);

typedef int (*rule_loader)(const char *key, void *ctx, TSMAP_OUT rule **out);
typedef void (*visit_fn)(const char *key, void *value, void *ctx);

TSMAP_MAP_OPERATION
int store_compute(store *m, const char *key, TSMAP_CALLBACK rule_loader fn, void *ctx);
TSMAP_MAP_OPERATION
int store_foreach(store *m, TSMAP_CALLBACK_LOCKED visit_fn fn, void *ctx);
TSMAP_MAP_OPERATION TSMAP_REPLACES
int store_put(store *m, const char *key, TSMAP_PUBLISHES void *value);
TSMAP_MAP_OPERATION
int store_remove(store *m, const char *key, TSMAP_REMOVED_OUT void **removed);
TSMAP_MAP_OPERATION TSMAP_RETURNS_REMOVED
void *store_take(store *m, const char *key);

TSMAP_EVICTS_WITH(session_evict) extern store *g_sessions;

TSMAP_NON_IDEMPOTENT int audit_post(const char *event);
TSMAP_IDEMPOTENT int rule_parse(const char *text, rule *out);

TSMAP_CALLBACK_FN int load_rule(const char *key, void *ctx, TSMAP_OUT rule **out);

TSMAP_NO_EDITOR_ANALYSIS int call_directly(void);

#ifdef __cplusplus
}
#endif

int load_rule(const char *key, void *ctx, TSMAP_OUT rule **out) {
  (void)key;
  (void)ctx;
  *out = NULL;
  return 0;
}

int call_directly(void) { return load_rule("k", NULL, NULL); }
