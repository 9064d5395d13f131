// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/../../annotations/include
// RUN: %check_tsmap_tidy -check-suffixes=OPT %s tsmap-reentrant-callback %t -- \
// RUN:   -config="{CheckOptions: {Contracts: 'db_t=thread_safe_map'}}" -- -I%S/../../annotations/include
//
// An opaque handle declared as a pointer typedef (`typedef struct kv_s *kv_t`)
// with TSMAP_THREAD_SAFE_MAP on the typedef (or `db_t=thread_safe_map` in
// Contracts) is a map handle: functions taking one are map operations (spec
// audit S16: it was silently ignored). A pointer to such a handle (`kv_t *`, a
// create's out-parameter) is not one.

#include <tsmap/annotations.h>

typedef struct kv_s *kv_t TSMAP_THREAD_SAFE_MAP;
typedef void (*visit_fn)(const char *k, void *ctx);
int kv_each(kv_t t, TSMAP_CALLBACK_LOCKED visit_fn f, void *ctx);
int kv_del(kv_t t, const char *k);
int kv_open(kv_t *out);

static kv_t g_kv;
static void drop(const char *k, void *ctx) { (void)ctx; kv_del(g_kv, k); }
static void reopen(const char *k, void *ctx) {
  kv_t fresh;
  (void)k;
  (void)ctx;
  kv_open(&fresh);
}
void sweep(void) {
  kv_each(g_kv, drop, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:17: warning: callback 'drop' passed to 'kv_each' re-enters the same map: it calls 'kv_del' on 'g_kv' while 'kv_each' runs it with the map locked or mid-iteration [tsmap-reentrant-callback]
  // CHECK-MESSAGES-OPT: :[[@LINE-2]]:17: warning: callback 'drop' passed to 'kv_each' re-enters the same map
  kv_each(g_kv, reopen, 0);
}

// Declared in Contracts instead.
typedef struct db_s *db_t;
int db_each(db_t t, TSMAP_CALLBACK_LOCKED visit_fn f, void *ctx);
int db_del(db_t t, const char *k);
static db_t g_db;
static void drop_db(const char *k, void *ctx) { (void)ctx; db_del(g_db, k); }
void sweep_db(void) {
  db_each(g_db, drop_db, 0);
  // CHECK-MESSAGES-OPT: :[[@LINE-1]]:17: warning: callback 'drop_db' passed to 'db_each' re-enters the same map: it calls 'db_del' on 'g_db'
}
