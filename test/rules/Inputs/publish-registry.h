/* A registry API annotated in its header: `reg_publish` and `reg_publish_new`
 * keep the pointer they are given, and other threads read the object through
 * it. The tests that include it check calls against these contracts. */
#ifndef PUBLISH_REGISTRY_H
#define PUBLISH_REGISTRY_H
#include <stdbool.h>
#include <stddef.h>
#include <tsmap/annotations.h>

typedef struct TSMAP_THREAD_SAFE_MAP registry registry;

enum reg_status { REG_OK = 0, REG_REPLACED = 1, REG_EXISTS = 2, REG_NOMEM = 3 };

/* Publishes `value` under `key`; returns REG_OK or REG_REPLACED on success. */
enum reg_status reg_publish(registry *r, const char *key,
                            TSMAP_PUBLISHES void *value);
/* Publishes `value` if `key` is absent: true when it was stored. */
bool reg_publish_new(registry *r, const char *key, TSMAP_PUBLISHES void *value);
/* Returns 0 on success, a negative errno on failure. */
int reg_publish_rc(registry *r, const char *key, TSMAP_PUBLISHES void *value);
/* Copies `size` bytes from `value`: not a publication. */
int reg_store_copy(registry *r, const char *key, const void *value, size_t size);

/* Runs fn on the value of `key` under the registry's lock. */
typedef void (*reg_visit_fn)(void *value, void *ctx);
void reg_with_locked(registry *r, const char *key,
                     TSMAP_CALLBACK_LOCKED reg_visit_fn fn, void *ctx);

#endif
