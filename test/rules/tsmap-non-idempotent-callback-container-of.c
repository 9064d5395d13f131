// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback %t -- -- -I%S/Inputs
//
// A cds_lfht match callback reaches its entry with caa_container_of, a GNU
// statement expression whose value points into the node's object: what it
// frees or counts there is the entry's, as through a plain cast
// (bench/realworld R42, a mutation of lttng-tools' match_session_trigger_list).
// Quiet: a callback that only reads its entry, or writes a local object.

#include <stddef.h>
#include "fake_urcu.h"

struct list { struct cds_lfht_node node; char *name; long hits; unsigned long key; };

static int match_frees(struct cds_lfht_node *node, const void *key) {
  struct list *l = caa_container_of(node, struct list, node);
  free(l->name);
  return 0;
}
static int match_counts(struct cds_lfht_node *node, const void *key) {
  struct list *l = caa_container_of(node, struct list, node);
  l->hits++;
  return l->key == *(const unsigned long *)key;
}
static int match_inline(struct cds_lfht_node *node, const void *key) {
  caa_container_of(node, struct list, node)->hits++;
  return 1;
}
static int match_reads(struct cds_lfht_node *node, const void *key) {
  const struct list *l = caa_container_of(node, struct list, node);
  return l->key == *(const unsigned long *)key;
}
static int match_local(struct cds_lfht_node *node, const void *key) {
  struct list scratch = {0};
  struct list *s = caa_container_of(&scratch.node, struct list, node);
  s->hits++;
  return node != NULL && key != NULL;
}

void find(struct cds_lfht *ht, unsigned long k) {
  struct cds_lfht_iter iter;
  cds_lfht_lookup(ht, k, match_frees, &k, &iter);
  // CHECK-MESSAGES: :[[@LINE-1]]:26: warning: callback 'match_frees' passed to 'cds_lfht_lookup' is not idempotent: it may run more than once, and each run frees 'l->name', which it did not allocate [tsmap-non-idempotent-callback]
  cds_lfht_lookup(ht, k, match_counts, &k, &iter);
  // CHECK-MESSAGES: :[[@LINE-1]]:26: warning: callback 'match_counts' passed to 'cds_lfht_lookup' is not idempotent: it may run more than once, and each run increments 'l->hits' [tsmap-non-idempotent-callback]
  cds_lfht_lookup(ht, k, match_inline, &k, &iter);
  // CHECK-MESSAGES: :[[@LINE-1]]:26: warning: callback 'match_inline' passed to 'cds_lfht_lookup' is not idempotent
  cds_lfht_lookup(ht, k, match_reads, &k, &iter);
  cds_lfht_lookup(ht, k, match_local, &k, &iter);
}
