/*
 * config.h - one replica of a replicated configuration store: a libtsmap map with
 * replicas = 2 (runtime/DESIGN.md, G13) whose changes are journaled to a file (so a
 * replica that is killed comes back with what it had) and exchanged with the peer.
 */
#ifndef REPLICATED_CONFIG_CONFIG_H
#define REPLICATED_CONFIG_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include <tsmap/tsmap.h>

/* A configuration value: text, and the priority of who set it (an operator's edit beats
 * an automatic one when two concurrent edits were made at the same logical time). */
typedef struct config_value {
  char text[24];
  uint32_t priority;
  uint32_t reserved;
} config_value;

typedef struct config_store {
  tsmap *map;
  FILE *journal;          /* append-only: every change, encoded (tsmap_change_encode) */
  uint64_t journaled;     /* the feed version the journal holds everything up to */
} config_store;

/* Open the store of replica `id` (0 or 1) and replay `journal_path` into it. 0 or -1. */
int config_open(config_store *st, unsigned id, const char *journal_path);
void config_close(config_store *st);

/* A local edit (value NULL: remove the key). */
int config_set(config_store *st, const char *key, const config_value *value);

/* Append every change since the last call to the journal and flush it. 0 or -1. */
int config_journal(config_store *st);

/* Merge one change a peer sent. 1 changed, 0 nothing new, -1 error. */
int config_merge(config_store *st, const tsmap_change *change);

/* The resolver for concurrent edits: higher priority, then the later stamp. */
tsmap_verdict config_resolve(const void *key, size_t key_len, const tsmap_change *local,
                             const tsmap_change *remote, void *ctx, void *merged);

/* Write every key (and tombstone) with its clock, sorted, one line each. */
int config_dump(config_store *st, FILE *out);

#endif
