/* The QSBR flavor, declared as liburcu's urcu-qsbr.h does (urcu/urcu-qsbr.h,
 * urcu/static/urcu-qsbr.h, urcu/map/urcu-qsbr.h): with _LGPL_SOURCE the
 * calls go to the static inline _urcu_qsbr_* functions; without it, to the
 * library's urcu_qsbr_* (read lock and unlock are empty inlines). Included
 * by fake_urcu.h when FAKE_URCU_QSBR is defined. */
#ifndef FAKE_URCU_QSBR_H
#define FAKE_URCU_QSBR_H
#ifdef _LGPL_SOURCE
static inline void _urcu_qsbr_read_lock(void) {}
static inline void _urcu_qsbr_read_unlock(void) {}
static inline void _urcu_qsbr_quiescent_state(void) {}
static inline void _urcu_qsbr_thread_offline(void) {}
static inline void _urcu_qsbr_thread_online(void) {}
#define urcu_qsbr_read_lock _urcu_qsbr_read_lock
#define urcu_qsbr_read_unlock _urcu_qsbr_read_unlock
#define urcu_qsbr_quiescent_state _urcu_qsbr_quiescent_state
#define urcu_qsbr_thread_offline _urcu_qsbr_thread_offline
#define urcu_qsbr_thread_online _urcu_qsbr_thread_online
#else
static inline void urcu_qsbr_read_lock(void) {}
static inline void urcu_qsbr_read_unlock(void) {}
void urcu_qsbr_quiescent_state(void);
void urcu_qsbr_thread_offline(void);
void urcu_qsbr_thread_online(void);
#endif
void urcu_qsbr_synchronize_rcu(void);
void urcu_qsbr_register_thread(void);
void urcu_qsbr_call_rcu(struct rcu_head *head, void (*func)(struct rcu_head *head));
#define rcu_read_lock urcu_qsbr_read_lock
#define rcu_read_unlock urcu_qsbr_read_unlock
#define rcu_quiescent_state urcu_qsbr_quiescent_state
#define rcu_thread_offline urcu_qsbr_thread_offline
#define rcu_thread_online urcu_qsbr_thread_online
#define rcu_register_thread urcu_qsbr_register_thread
#define synchronize_rcu urcu_qsbr_synchronize_rcu
#define call_rcu urcu_qsbr_call_rcu
#endif
