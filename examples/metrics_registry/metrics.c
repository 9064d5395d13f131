/* metrics.c - the counter registry. */
#include "metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void free_metric(const void *key, size_t key_len, void *value,
                        tsmap_evict_reason reason, void *hook_ctx) {
  (void)key;
  (void)key_len;
  (void)reason;
  (void)hook_ctx;
  free(*(struct metric **)value);
}

int metrics_open(struct metrics_registry *reg) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, sizeof(struct metric *));
  cfg.on_entry_evicted = free_metric;
  if (tsmap_create(&cfg, &reg->by_name) != TSMAP_OK)
    return -1;
  tsmap_config_init(&cfg, sizeof(const char *));
  if (tsmap_create(&cfg, &reg->labels) != TSMAP_OK) {
    tsmap_destroy(reg->by_name);
    return -1;
  }
  atomic_init(&reg->tick, 0);
  return 0;
}

void metrics_close(struct metrics_registry *reg) {
  tsmap_destroy(reg->labels);
  tsmap_destroy(reg->by_name);
}

static struct metric *lookup(struct metrics_registry *reg, const char *name) {
  struct metric *m = NULL;
  if (tsmap_get(reg->by_name, name, strlen(name), &m) != TSMAP_OK)
    return NULL;
  return m;
}

struct metric *metrics_counter(struct metrics_registry *reg, const char *name,
                               const char *unit) {
  struct metric *m = lookup(reg, name);
  if (m)
    return m;
  m = calloc(1, sizeof *m);
  if (!m)
    return NULL;
  snprintf(m->name, sizeof m->name, "%s", name);
  atomic_init(&m->value, 0);
  struct metric *existing = NULL;
  if (tsmap_put_ptr_if_absent(reg->by_name, name, strlen(name), m,
                              (void **)&existing) != TSMAP_OK) {
    /* Lost the race: ours was never published, so it is still ours. */
    memset(m, 0, sizeof *m);
    free(m);
    return existing;
  }
  /* BUG: the counter is already visible to other threads; a reader may see
   * an empty unit and a zero tick (tsmap-weak-mutable-value). */
  snprintf(m->unit, sizeof m->unit, "%s", unit);
  m->created_tick = atomic_fetch_add(&reg->tick, 1);
  return m;
}

void metrics_add(struct metrics_registry *reg, const char *name, long delta) {
  struct metric *m = lookup(reg, name);
  if (m)
    atomic_fetch_add(&m->value, delta); /* atomic: fine after publication */
}

int metrics_label(struct metrics_registry *reg, const char *name, const char *unit) {
  /* BUG: the label is formatted into a stack buffer, and the map keeps the
   * buffer's address after this function returns (tsmap-weak-mutable-value).
   * Fix: strdup the label, or store it inline in struct metric. */
  char label[64];
  snprintf(label, sizeof label, "%s (%s)", name, unit);
  const char *text = label;
  return tsmap_put_ptr(reg->labels, name, strlen(name), (void *)text, NULL) ==
                 TSMAP_OK
             ? 0
             : -1;
}

long metrics_value(struct metrics_registry *reg, const char *name) {
  struct metric *m = lookup(reg, name);
  return m ? atomic_load(&m->value) : -1;
}
