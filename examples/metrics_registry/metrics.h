/* metrics.h - a registry of named counters shared by worker threads.
 *
 * Counters live on the heap and are published into a tsmap by pointer
 * (tsmap_put_ptr_if_absent): workers look a counter up by name and bump it
 * atomically. Each counter may carry a human-readable label, kept in a second
 * map. Sessions (session.h) are published the same way. */
#ifndef METRICS_REGISTRY_METRICS_H
#define METRICS_REGISTRY_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <tsmap/tsmap.h>

struct metric {
  char name[32];
  char unit[8];
  long created_tick; /* registry tick at creation, for the dump */
  atomic_long value;
};

struct metrics_registry {
  tsmap *by_name; /* name -> struct metric * (owned: freed when evicted) */
  tsmap *labels;  /* name -> const char * (label text) */
  atomic_long tick;
};

int metrics_open(struct metrics_registry *reg);
void metrics_close(struct metrics_registry *reg);

/* The counter called `name`, created on first use; NULL on failure. */
struct metric *metrics_counter(struct metrics_registry *reg, const char *name,
                               const char *unit);
/* Adds `delta` to the counter called `name`. */
void metrics_add(struct metrics_registry *reg, const char *name, long delta);
/* Attaches a label "<name> (<unit>)" to the counter called `name`. */
int metrics_label(struct metrics_registry *reg, const char *name, const char *unit);
/* The current value of `name`, or -1. */
long metrics_value(struct metrics_registry *reg, const char *name);

#endif
