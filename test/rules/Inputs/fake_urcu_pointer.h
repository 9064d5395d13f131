/* The publication macros of liburcu's urcu/pointer.h, spelled as liburcu
 * spells them: statement expressions around rcu_*_sym calls, or, under
 * _LGPL_SOURCE, object-like names for the inline _rcu_* forms. */
#ifndef FAKE_URCU_POINTER_H
#define FAKE_URCU_POINTER_H
#ifdef _LGPL_SOURCE
#define _rcu_dereference(p) __extension__ ({ __typeof__(p) _p1 = *(volatile __typeof__(p) *)&(p); (_p1); })
#define _rcu_set_pointer(p, v) do { __atomic_store_n((p), (v), __ATOMIC_RELEASE); } while (0)
#define _rcu_xchg_pointer(p, v) __atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)
#define rcu_dereference _rcu_dereference
#define rcu_set_pointer _rcu_set_pointer
#define rcu_xchg_pointer _rcu_xchg_pointer
#else
void *rcu_dereference_sym(void *p);
void *rcu_set_pointer_sym(void **p, void *v);
void *rcu_xchg_pointer_sym(void **p, void *v);
#define rcu_dereference(p) __extension__ ({ __typeof__(p) _p1 = (__typeof__(p))rcu_dereference_sym((void *)(p)); (_p1); })
#define rcu_set_pointer(p, v) do { rcu_set_pointer_sym((void **)(p), (void *)(v)); } while (0)
#define rcu_xchg_pointer(p, v) ((__typeof__(*(p)))rcu_xchg_pointer_sym((void **)(p), (void *)(v)))
#endif
#define rcu_assign_pointer(p, v) rcu_set_pointer((&p), (v))
#endif
