/*
 * fork.c - fork handlers for the library's own threads (fork.h, G16). Before a fork the
 * calling thread takes the watch list's lock and the hold for writing (so no helper is
 * inside a shard lock); after it, the parent releases both and the child runs every
 * watch's handler, then makes both new. The child first releases the thread records of
 * the threads it does not have (ebr.c).
 */
#include "fork.h"

#include <pthread.h>

static pthread_mutex_t tsmap_fork_mu = PTHREAD_MUTEX_INITIALIZER; /* the list */
static pthread_rwlock_t tsmap_fork_rw = PTHREAD_RWLOCK_INITIALIZER; /* the holds */
static tsmap_fork_watch tsmap_fork_list = {&tsmap_fork_list, &tsmap_fork_list, NULL};
static pthread_once_t tsmap_fork_once = PTHREAD_ONCE_INIT;
static int tsmap_fork_registered;

static void tsmap_fork_prepare(void) {
  pthread_mutex_lock(&tsmap_fork_mu);
  pthread_rwlock_wrlock(&tsmap_fork_rw);
}

static void tsmap_fork_parent(void) {
  pthread_rwlock_unlock(&tsmap_fork_rw);
  pthread_mutex_unlock(&tsmap_fork_mu);
}

/* Both locks are made new rather than released: the child's thread has another thread
 * id than the one that took them, and a write-locked rwlock knows its writer by it. */
static void tsmap_fork_child(void) {
  tsmap_ebr_forked();
  for (tsmap_fork_watch *w = tsmap_fork_list.next; w != &tsmap_fork_list; w = w->next)
    w->child(w);
  pthread_rwlock_init(&tsmap_fork_rw, NULL);
  pthread_mutex_init(&tsmap_fork_mu, NULL);
}

static void tsmap_fork_register(void) {
  tsmap_fork_registered =
      pthread_atfork(tsmap_fork_prepare, tsmap_fork_parent, tsmap_fork_child) == 0;
}

void tsmap_fork_init(void) { (void)pthread_once(&tsmap_fork_once, tsmap_fork_register); }

int tsmap_fork_watch_add(tsmap_fork_watch *w) {
  tsmap_fork_init();
  if (!tsmap_fork_registered)
    return 0;
  pthread_mutex_lock(&tsmap_fork_mu);
  w->prev = &tsmap_fork_list;
  w->next = tsmap_fork_list.next;
  w->next->prev = w;
  tsmap_fork_list.next = w;
  pthread_mutex_unlock(&tsmap_fork_mu);
  return 1;
}

void tsmap_fork_watch_remove(tsmap_fork_watch *w) {
  if (!w->next)
    return; /* never added */
  pthread_mutex_lock(&tsmap_fork_mu);
  w->prev->next = w->next;
  w->next->prev = w->prev;
  w->prev = w->next = NULL;
  pthread_mutex_unlock(&tsmap_fork_mu);
}

void tsmap_fork_hold(void) { pthread_rwlock_rdlock(&tsmap_fork_rw); }
void tsmap_fork_release(void) { pthread_rwlock_unlock(&tsmap_fork_rw); }
