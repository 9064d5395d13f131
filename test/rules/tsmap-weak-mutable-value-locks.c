// RUN: %check_tsmap_tidy %s tsmap-weak-mutable-value %t -- -- -I%S/Inputs
//
// Writes after a publish under a lock, judged by name: GLib's lock guards
// (g_mutex_locker_new and its recursive and writer forms) count; read locks
// (reader, rdlock, read, a name ending in lock_shared) do not; a trylock counts only on the branch
// where its result says it was taken.

#include "publish-registry.h"
#include <stdlib.h>

// GLib's declarations, reduced (gthread.h); g_autoptr is a cleanup attribute.
typedef int gboolean;
typedef struct { void *p; } GMutex;
typedef struct { void *p; } GRecMutex;
typedef struct { void *p; } GRWLock;
typedef void GMutexLocker;
typedef void GRecMutexLocker;
typedef void GRWLockWriterLocker;
typedef void GRWLockReaderLocker;
GMutexLocker *g_mutex_locker_new(GMutex *mutex);
void g_mutex_locker_free(GMutexLocker *locker);
GRecMutexLocker *g_rec_mutex_locker_new(GRecMutex *rec_mutex);
void g_rec_mutex_locker_free(GRecMutexLocker *locker);
GRWLockWriterLocker *g_rw_lock_writer_locker_new(GRWLock *rw_lock);
void g_rw_lock_writer_locker_free(GRWLockWriterLocker *locker);
GRWLockReaderLocker *g_rw_lock_reader_locker_new(GRWLock *rw_lock);
void g_rw_lock_reader_locker_free(GRWLockReaderLocker *locker);
void g_rw_lock_reader_lock(GRWLock *rw_lock);
void g_rw_lock_reader_unlock(GRWLock *rw_lock);
gboolean g_mutex_trylock(GMutex *mutex);
void g_mutex_unlock(GMutex *mutex);
static void free_locker(void **locker) { g_mutex_locker_free(*locker); }
#define g_autoptr(T) __attribute__((cleanup(free_locker))) T *

// POSIX, reduced (pthread.h).
typedef struct { void *p; } mutex_t;
int pthread_mutex_trylock(mutex_t *mu);
int pthread_mutex_unlock(mutex_t *mu);
void lock_shared(mutex_t *mu);
void unlock_shared(mutex_t *mu);
void shared_state_lock(mutex_t *mu);
void shared_state_unlock(mutex_t *mu);

struct metric {
  long value;
  GMutex mu;
  GRecMutex rm;
  GRWLock rw;
  mutex_t pm;
};

// GLib's lock guards: the write sits under the lock.
void mutex_locker(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  reg_publish(r, "a", m);
  {
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&m->mu);
    m->value = 1;
  }
}

void rec_mutex_locker(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  reg_publish(r, "b", m);
  GRecMutexLocker *locker = g_rec_mutex_locker_new(&m->rm);
  m->value = 1;
  g_rec_mutex_locker_free(locker);
}

void writer_locker(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  reg_publish(r, "c", m);
  GRWLockWriterLocker *locker = g_rw_lock_writer_locker_new(&m->rw);
  m->value = 1;
  g_rw_lock_writer_locker_free(locker);
  m->value = 2;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'm->value' after 'm' was published by 'reg_publish'; other threads may be reading it through the map [tsmap-weak-mutable-value]
}

// Read locks do not exclude the map's readers.
void reader_locker(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  reg_publish(r, "d", m);
  GRWLockReaderLocker *locker = g_rw_lock_reader_locker_new(&m->rw);
  m->value = 1;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'm->value' after 'm' was published by 'reg_publish'; other threads may be reading it through the map [tsmap-weak-mutable-value]
  g_rw_lock_reader_locker_free(locker);
}

void reader_lock(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  reg_publish(r, "e", m);
  g_rw_lock_reader_lock(&m->rw);
  m->value = 1;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'm->value' after 'm' was published by 'reg_publish'; other threads may be reading it through the map [tsmap-weak-mutable-value]
  g_rw_lock_reader_unlock(&m->rw);
}

void shared_lock(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  reg_publish(r, "f", m);
  lock_shared(&m->pm);
  m->value = 1;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'm->value' after 'm' was published by 'reg_publish'; other threads may be reading it through the map [tsmap-weak-mutable-value]
  unlock_shared(&m->pm);
}

// `shared` in a name is a read lock only after `lock`: an exclusive lock of
// shared state counts.
void shared_state(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  reg_publish(r, "f2", m);
  shared_state_lock(&m->pm);
  m->value = 1;
  shared_state_unlock(&m->pm);
}

// A trylock holds the lock where it returned 0 (an int) or TRUE (a gboolean).
void pthread_trylock(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  reg_publish(r, "g", m);
  if (pthread_mutex_trylock(&m->pm) == 0) {
    m->value = 1;
    pthread_mutex_unlock(&m->pm);
  } else {
    m->value = 2;
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: write to 'm->value' after 'm' was published by 'reg_publish'; other threads may be reading it through the map [tsmap-weak-mutable-value]
  }
}

void pthread_trylock_failed_first(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  reg_publish(r, "h", m);
  int rc = pthread_mutex_trylock(&m->pm);
  if (rc) {
    m->value = 2;
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: write to 'm->value' after 'm' was published by 'reg_publish'; other threads may be reading it through the map [tsmap-weak-mutable-value]
    return;
  }
  m->value = 1;
  pthread_mutex_unlock(&m->pm);
}

void glib_trylock(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  reg_publish(r, "i", m);
  if (!g_mutex_trylock(&m->mu)) {
    m->value = 2;
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: write to 'm->value' after 'm' was published by 'reg_publish'; other threads may be reading it through the map [tsmap-weak-mutable-value]
    return;
  }
  m->value = 1;
  g_mutex_unlock(&m->mu);
}

// A trylock whose result is not tested is taken as held (quiet).
void trylock_untested(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  reg_publish(r, "j", m);
  pthread_mutex_trylock(&m->pm);
  m->value = 1;
  pthread_mutex_unlock(&m->pm);
}

// Known miss: a lock guard is released at the end of its scope, which the
// check does not track, so a write after that scope is not reported.
void after_locker_scope(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  reg_publish(r, "k", m);
  {
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new(&m->mu);
    m->value = 1;
  }
  m->value = 2; // FIXME: reported once scopes end lock guards
}
