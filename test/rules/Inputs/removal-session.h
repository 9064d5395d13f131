/* A small annotated map API and a value type that owns a timer, for the
 * tsmap-remove-without-cleanup tests. */
#ifndef REMOVAL_SESSION_H
#define REMOVAL_SESSION_H
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <tsmap/annotations.h>

struct timer;
void timer_cancel(struct timer *t);

typedef struct TSMAP_THREAD_SAFE_MAP smap smap;
typedef enum smap_status { SMAP_OK = 0, SMAP_NOT_FOUND = 1, SMAP_REPLACED = 2 } smap_status;

/* Removes `key`; the value goes to *out (the caller owns it) or, with a null
 * out, to the map's eviction hook. */
smap_status smap_remove(smap *m, int key, TSMAP_REMOVED_OUT void *out);
/* Stores `value` (the address of the bytes); the old value goes to *old_out. */
TSMAP_REPLACES smap_status smap_put(smap *m, int key, const void *value,
                                    TSMAP_REMOVED_OUT void *old_out);
/* Stores `value`, overwriting: the old value goes to the eviction hook. */
TSMAP_REPLACES smap_status smap_set(smap *m, int key, void *value);
/* Removes `key` and returns its value (null when absent). */
TSMAP_RETURNS_REMOVED void *smap_take(smap *m, int key);
/* True when `key` was found and removed into *out. */
bool smap_steal(smap *m, int key, TSMAP_REMOVED_OUT void **out);

struct session {
  int id;
  TSMAP_CLEANUP(timer_cancel) struct timer *idle;
};

#endif
