// RUN: %check_tsmap_tidy %s tsmap-weak-mutable-value %t -- -- -I%S/Inputs
//
// Mutation after publication: a write through the published pointer, or an
// alias of it, after the publish, in the same function.

#include "publish-registry.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct metric {
  char name[32];
  long value;
  atomic_long hits;
  pthread_mutex_t mu;
  struct metric *next;
};

static void metric_reset(struct metric *m) { m->value = 0; }
static long metric_read(const struct metric *m) { return m->value; }
static void metric_rename(struct metric *m, const char *name) {
  strncpy(m->name, name, sizeof m->name - 1);
}

// ---- Positives ----------------------------------------------------------------

void field_after(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  reg_publish(r, "a", m);
  m->value = 42;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'm->value' after 'm' was published by 'reg_publish'; other threads may be reading it through the map [tsmap-weak-mutable-value]
}

/* GLib's string writers (declared as GLib declares them). */
unsigned long g_strlcpy(char *dest, const char *src, unsigned long dest_size);
int g_snprintf(char *string, unsigned long n, const char *format, ...);
void glib_writers_after(registry *r, const char *name) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  reg_publish(r, "g", m);
  g_strlcpy(m->name, name, sizeof m->name);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'g_strlcpy' writes into 'm->name' after 'm' was published by 'reg_publish'; other threads may be reading it through the map [tsmap-weak-mutable-value]
  g_snprintf(m->name, sizeof m->name, "%s", name);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'g_snprintf' writes into 'm->name' after 'm' was published by 'reg_publish'; other threads may be reading it through the map [tsmap-weak-mutable-value]
}

void memcpy_after(registry *r, const char *name) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  reg_publish(r, "b", m);
  memcpy(m->name, name, 8);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'memcpy' writes into 'm->name' after 'm' was published by 'reg_publish'; other threads may be reading it through the map [tsmap-weak-mutable-value]
  strcpy(m->name, "x");
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'strcpy' writes into 'm->name' after 'm' was published by 'reg_publish'; other threads may be reading it through the map [tsmap-weak-mutable-value]
  memset(m, 0, sizeof *m);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'memset' writes into 'm' after 'm' was published by 'reg_publish'; other threads may be reading it through the map [tsmap-weak-mutable-value]
}

void alias_after(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  struct metric *alias = m;
  reg_publish(r, "c", m);
  alias->value++;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'alias->value' after 'm' was published by 'reg_publish'; other threads may be reading it through the map [tsmap-weak-mutable-value]
}

void alias_made_after(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  reg_publish(r, "c2", m);
  struct metric *later = m;
  later->value += 3;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'later->value' after 'm' was published by 'reg_publish'; other threads may be reading it through the map [tsmap-weak-mutable-value]
}

void callee_after(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  reg_publish(r, "d", m);
  metric_reset(m);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'metric_reset' writes through 'm' after 'm' was published by 'reg_publish'; other threads may be reading it through the map [tsmap-weak-mutable-value]
  metric_rename(m, "renamed");
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'metric_rename' writes through 'm' after 'm' was published by 'reg_publish'; other threads may be reading it through the map [tsmap-weak-mutable-value]
}

void success_branch(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  if (reg_publish(r, "e", m) == REG_OK)
    m->value = 1;
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: write to 'm->value' after 'm' was published by 'reg_publish'; other threads may be reading it through the map [tsmap-weak-mutable-value]
}

void in_loop(registry *r, struct metric *m, int n) {
  for (int i = 0; i < n; ++i) {
    m->value = i;
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: write to 'm->value' after 'm' was published by 'reg_publish'; other threads may be reading it through the map [tsmap-weak-mutable-value]
    reg_publish(r, "loop", m);
  }
}

void global_after(registry *r);
static struct metric g_total;
void global_after(registry *r) {
  reg_publish(r, "total", &g_total);
  g_total.value = 7;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'g_total.value' after 'g_total' was published by 'reg_publish'; other threads may be reading it through the map [tsmap-weak-mutable-value]
}

// ---- Negatives ----------------------------------------------------------------

void writes_before(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  m->value = 1;
  strcpy(m->name, "before");
  metric_reset(m);
  reg_publish(r, "f", m);
}

void failed_publish(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  enum reg_status st = reg_publish(r, "g", m);
  if (st != REG_OK && st != REG_REPLACED) {
    m->value = -1; // still ours: the publish failed
    free(m);
  }
}

void not_ok_publish(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  if (reg_publish(r, "g", m) != REG_OK) {
    m->value = -1; // REG_REPLACED published it too
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: write to 'm->value' after 'm' was published by 'reg_publish'; other threads may be reading it through the map [tsmap-weak-mutable-value]
  }
}

void failed_publish_status_var(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  enum reg_status st = reg_publish(r, "h", m);
  if (st == REG_EXISTS || st == REG_NOMEM) {
    memset(m, 0, sizeof *m);
    free(m);
    return;
  }
}

void failed_publish_bool(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  if (!reg_publish_new(r, "i", m)) {
    m->value = 0;
    free(m);
  }
}

void failed_publish_rc(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  int rc = reg_publish_rc(r, "j", m);
  if (rc < 0) {
    metric_reset(m);
    free(m);
  }
}

void repointed_after(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  reg_publish(r, "k", m);
  m = calloc(1, sizeof *m);
  if (!m)
    return;
  m->value = 5; // a fresh object
}

void reads_after(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  reg_publish(r, "l", m);
  long v = metric_read(m);
  (void)v;
}

void atomic_after(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  reg_publish(r, "m", m);
  atomic_fetch_add(&m->hits, 1);
  m->hits = 0;
}

void locked_after(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  pthread_mutex_init(&m->mu, NULL);
  reg_publish(r, "n", m);
  pthread_mutex_lock(&m->mu);
  m->value = 9;
  pthread_mutex_unlock(&m->mu);
}

void other_object_after(registry *r, struct metric *other) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  reg_publish(r, "o", m);
  other->value = 1;
  m->next->value = 2; // another object, reached through the published one
}

void copied_not_published(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  reg_store_copy(r, "p", m, sizeof *m);
  m->value = 3;
  free(m);
}

static void bump_locked(void *value, void *ctx) {
  struct metric *m = value;
  m->value++; // under the registry's lock
}

void inside_callback(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  reg_publish(r, "q", m);
  reg_with_locked(r, "q", bump_locked, NULL);
}

// A callback of the map that publishes, then finishes its object: the map
// runs it under its lock, so the write is the map's own business.
static void republish_locked(void *value, void *ctx) {
  registry *r = ctx;
  struct metric *m = value;
  reg_publish(r, "copy", m);
  m->value = 0;
}

void uses_republish(registry *r) {
  reg_with_locked(r, "q", republish_locked, r);
}

// The same, passed through an ops table whose prototype states the contract;
// its twin, never passed to the map, finishes an object others already read.
struct registry_ops {
  void (*with_locked)(registry *r, const char *key,
                      TSMAP_CALLBACK_LOCKED reg_visit_fn fn, void *ctx);
};
static void republish_via_ops(void *value, void *ctx) {
  registry *r = ctx;
  struct metric *m = value;
  reg_publish(r, "copy", m);
  m->value = 0;
}
static void republish_not_passed(void *value, void *ctx) {
  registry *r = ctx;
  struct metric *m = value;
  reg_publish(r, "copy", m);
  m->value = 0;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'm->value' after 'm' was published by 'reg_publish'; other threads may be reading it through the map [tsmap-weak-mutable-value]
}

void uses_republish_via_ops(const struct registry_ops *ops, registry *r) {
  ops->with_locked(r, "q", republish_via_ops, r);
  republish_not_passed(0, r);
}

// The same through wrappers: one that hands its parameter to the map, and one
// that calls it for each entry of its own GHashTableIter loop (the loop
// wrapper of tsmap-reentrant-callback); a function only called directly is
// checked.
static void with_locked(registry *r, const char *key, reg_visit_fn fn, void *ctx) {
  reg_with_locked(r, key, fn, ctx);
}
typedef struct _GHashTable GHashTable;
typedef struct { void *a, *b, *c; int d; int e; void *f; } GHashTableIter;
void g_hash_table_iter_init(GHashTableIter *iter, GHashTable *hash_table);
int g_hash_table_iter_next(GHashTableIter *iter, void **key, void **value);
static void each_metric(GHashTable *t, reg_visit_fn fn, void *ctx) {
  GHashTableIter it;
  void *k, *v;
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, &k, &v))
    fn(v, ctx);
}
static void republish_via_wrapper(void *value, void *ctx) {
  registry *r = ctx;
  struct metric *m = value;
  reg_publish(r, "copy", m);
  m->value = 0;
}
static void republish_via_loop(void *value, void *ctx) {
  registry *r = ctx;
  struct metric *m = value;
  reg_publish(r, "copy", m);
  m->value = 0;
}
static void republish_called(void *value, void *ctx) {
  registry *r = ctx;
  struct metric *m = value;
  reg_publish(r, "copy", m);
  m->value = 0;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'm->value' after 'm' was published by 'reg_publish'; other threads may be reading it through the map [tsmap-weak-mutable-value]
}

void uses_republish_wrappers(registry *r, GHashTable *t) {
  with_locked(r, "q", republish_via_wrapper, r);
  each_metric(t, republish_via_loop, r);
  republish_called(0, r);
}

// More negatives: a status handled in a retry loop, a read lock does not
// count as protection (positive), and a publish in another branch.
void retry_until_published(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  while (reg_publish(r, "retry", m) == REG_EXISTS)
    m->value++; // not published yet: the publish failed
}

void rcu_read_lock(void);
void rcu_read_unlock(void);
void read_locked_after(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  reg_publish(r, "rd", m);
  rcu_read_lock();
  m->value = 1;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'm->value' after 'm' was published by 'reg_publish'; other threads may be reading it through the map [tsmap-weak-mutable-value]
  rcu_read_unlock();
}

void other_branch(registry *r, int publish) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  if (publish)
    reg_publish(r, "branch", m);
  else
    m->value = 1;
}

// Locks by name: a project's own lock wrapper counts; clock_gettime does not.
void lock_metric(struct metric *m);
void unlock_metric(struct metric *m);
long clock_ticks(void);
void wrapper_locked_after(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  reg_publish(r, "w", m);
  lock_metric(m);
  m->value = 2;
  unlock_metric(m);
  clock_ticks();
  m->value = 3;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'm->value' after 'm' was published by 'reg_publish'; other threads may be reading it through the map [tsmap-weak-mutable-value]
}

