/* The parts of liburcu's urcu/rculfhash.h the models name, declared as
 * liburcu does. */
#ifndef FAKE_URCU_H
#define FAKE_URCU_H
struct cds_lfht;
struct cds_lfht_node { struct cds_lfht_node *next; unsigned long reverse_hash; };
struct cds_lfht_iter { struct cds_lfht_node *node, *next; };
typedef int (*cds_lfht_match_fct)(struct cds_lfht_node *node, const void *key);
void cds_lfht_lookup(struct cds_lfht *ht, unsigned long hash,
                     cds_lfht_match_fct match, const void *key,
                     struct cds_lfht_iter *iter);
struct cds_lfht_node *cds_lfht_add_unique(struct cds_lfht *ht, unsigned long hash,
                                          cds_lfht_match_fct match, const void *key,
                                          struct cds_lfht_node *node);
#endif
