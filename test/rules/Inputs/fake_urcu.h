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
/* Iteration, removal and the RCU calls around them (urcu/rculfhash.h,
 * urcu/urcu-memb.h), as macros where liburcu has macros. */
void cds_lfht_first(struct cds_lfht *ht, struct cds_lfht_iter *iter);
void cds_lfht_next(struct cds_lfht *ht, struct cds_lfht_iter *iter);
static inline struct cds_lfht_node *cds_lfht_iter_get_node(struct cds_lfht_iter *iter) { return iter->node; }
int cds_lfht_del(struct cds_lfht *ht, struct cds_lfht_node *node);
struct cds_lfht_node *cds_lfht_add_replace(struct cds_lfht *ht, unsigned long hash,
                                           cds_lfht_match_fct match, const void *key,
                                           struct cds_lfht_node *node);
int cds_lfht_replace(struct cds_lfht *ht, struct cds_lfht_iter *old_iter,
                     unsigned long hash, cds_lfht_match_fct match, const void *key,
                     struct cds_lfht_node *new_node);
/* urcu/compiler.h: a GNU statement expression, as liburcu writes it. */
#define caa_container_of(ptr, type, member)                                  \
  __extension__ ({                                                           \
    const __typeof__(((type *)0)->member) *__ptr = (ptr);                    \
    (type *)((char *)__ptr - __builtin_offsetof(type, member));              \
  })
#define cds_lfht_for_each(ht, iter, node) \
  for (cds_lfht_first(ht, iter), node = cds_lfht_iter_get_node(iter); \
       node != 0; cds_lfht_next(ht, iter), node = cds_lfht_iter_get_node(iter))
void cds_lfht_next_duplicate(struct cds_lfht *ht, cds_lfht_match_fct match,
                             const void *key, struct cds_lfht_iter *iter);
#define cds_lfht_for_each_duplicate(ht, hash, match, key, iter, node) \
  for (cds_lfht_lookup(ht, hash, match, key, iter), \
       node = cds_lfht_iter_get_node(iter); \
       node != 0; cds_lfht_next_duplicate(ht, match, key, iter), \
       node = cds_lfht_iter_get_node(iter))
#define cds_lfht_for_each_entry(ht, iter, pos, member) \
  for (cds_lfht_first(ht, iter), \
       pos = caa_container_of(cds_lfht_iter_get_node(iter), __typeof__(*(pos)), member); \
       cds_lfht_iter_get_node(iter) != 0; cds_lfht_next(ht, iter), \
       pos = caa_container_of(cds_lfht_iter_get_node(iter), __typeof__(*(pos)), member))
struct rcu_head { struct rcu_head *next; void (*func)(struct rcu_head *head); };
#ifdef FAKE_URCU_QSBR
#include "fake_urcu_qsbr.h" /* urcu-qsbr.h instead of urcu.h */
#else
void urcu_memb_read_lock(void);
void urcu_memb_read_unlock(void);
void urcu_memb_synchronize_rcu(void);
void urcu_memb_barrier(void);
void urcu_memb_call_rcu(struct rcu_head *head, void (*func)(struct rcu_head *head));
#define rcu_read_lock urcu_memb_read_lock
#define rcu_read_unlock urcu_memb_read_unlock
#define synchronize_rcu urcu_memb_synchronize_rcu
#define call_rcu urcu_memb_call_rcu
#define rcu_barrier urcu_memb_barrier
#endif
static inline void cds_lfht_node_init(struct cds_lfht_node *node) { (void)node; }
void *malloc(unsigned long size);
void free(void *p);
#endif
