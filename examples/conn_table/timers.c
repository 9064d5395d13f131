/* The timer service: a mutex-protected list sorted by nothing (it is small). */
#include "timers.h"

#include <pthread.h>
#include <stdlib.h>

struct timer {
  unsigned long due;
  timer_fn fn;
  void *arg;
  struct timer *next;
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct timer *g_pending;
static unsigned long g_now;

struct timer *timer_arm(unsigned ms, timer_fn fn, void *arg) {
  struct timer *t = malloc(sizeof *t);
  if (!t)
    return NULL;
  pthread_mutex_lock(&g_lock);
  t->due = g_now + ms;
  t->fn = fn;
  t->arg = arg;
  t->next = g_pending;
  g_pending = t;
  pthread_mutex_unlock(&g_lock);
  return t;
}

void timer_cancel(struct timer *t) {
  if (!t)
    return;
  pthread_mutex_lock(&g_lock);
  for (struct timer **p = &g_pending; *p; p = &(*p)->next) {
    if (*p == t) {
      *p = t->next;
      free(t);
      break;
    }
  }
  pthread_mutex_unlock(&g_lock);
}

/* Unlinks one due timer, or returns NULL when none is due. */
static struct timer *take_due(void) {
  for (struct timer **p = &g_pending; *p; p = &(*p)->next) {
    if ((*p)->due <= g_now) {
      struct timer *t = *p;
      *p = t->next;
      return t;
    }
  }
  return NULL;
}

void timers_advance(unsigned ms) {
  pthread_mutex_lock(&g_lock);
  g_now += ms;
  struct timer *t;
  while ((t = take_due()) != NULL) {
    pthread_mutex_unlock(&g_lock); /* callbacks run unlocked */
    t->fn(t->arg);
    free(t);
    pthread_mutex_lock(&g_lock);
  }
  pthread_mutex_unlock(&g_lock);
}
