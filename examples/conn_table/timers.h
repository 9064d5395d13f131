/* A small one-shot timer service: timers are armed with a delay and a callback and fire
 * from timers_advance(). A timer that fired is gone; one that is still pending must be
 * cancelled by its owner before the object its callback points to is freed. */
#ifndef CONN_TABLE_TIMERS_H
#define CONN_TABLE_TIMERS_H

struct timer;
typedef void (*timer_fn)(void *arg);

/* Arms a timer that calls fn(arg) once, `ms` milliseconds from now. NULL on no memory. */
struct timer *timer_arm(unsigned ms, timer_fn fn, void *arg);
/* Cancels a pending timer and releases it. NULL is a no-op. */
void timer_cancel(struct timer *t);
/* Moves the clock forward by `ms` and fires every timer that became due. */
void timers_advance(unsigned ms);

#endif
