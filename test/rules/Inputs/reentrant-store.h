/* A session store whose header states its contracts: store_each runs its
 * visitor under the store's (non-recursive) lock. */
#ifndef REENTRANT_STORE_H
#define REENTRANT_STORE_H
#include <tsmap/annotations.h>

typedef struct TSMAP_THREAD_SAFE_MAP store store;
typedef int (*store_visit_fn)(const char *key, void *value, void *ctx);

/* Runs `visit` once per entry, holding the store's lock. */
int store_each(store *s, TSMAP_CALLBACK_LOCKED store_visit_fn visit, void *ctx);
/* Runs `visit` once per entry, without holding any lock. */
int store_each_unlocked(store *s, store_visit_fn visit, void *ctx);
int store_put(store *s, const char *key, void *value);
int store_del(store *s, const char *key);
void *store_get(store *s, const char *key);
#endif
