// RUN: %check_tsmap_tidy %s tsmap-weak-mutable-value %t -- -- -std=c++17
//
// rules/tsmap-weak-mutable-value.md: a C++ `thread_local` object published by address
// is reported like `_Thread_local`; after a publish, writes under a std::lock_guard,
// a std::unique_lock or `m.lock()` are not reported, a write with no lock is.

#include <mutex>
#include <tsmap/annotations.h>

struct Quota { int used; std::mutex mu; };
int quota_publish(void *table, const char *key, TSMAP_PUBLISHES Quota *q);

thread_local Quota t_scratch;

int share_scratch(void *table) {
  return quota_publish(table, "scratch", &t_scratch);
  // CHECK-MESSAGES: :[[@LINE-1]]:42: warning: 'quota_publish' publishes the address of thread-local variable 't_scratch'; the map keeps the pointer after its thread exits, and other threads read it while its thread writes it [tsmap-weak-mutable-value]
}
void charge_guarded(void *table, Quota *q) {
  quota_publish(table, "q", q);
  std::lock_guard<std::mutex> hold(q->mu);
  q->used = 1;
}
void charge_unique(void *table, Quota *q) {
  quota_publish(table, "q", q);
  {
    std::unique_lock<std::mutex> hold(q->mu);
    q->used = 2;
  }
}
void charge_manual(void *table, Quota *q) {
  quota_publish(table, "q", q);
  q->mu.lock();
  q->used = 3;
  q->mu.unlock();
}
void charge_bare(void *table, Quota *q) {
  quota_publish(table, "q", q);
  q->used = 4;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'q->used' after 'q' was published by 'quota_publish'; other threads may be reading it through the map [tsmap-weak-mutable-value]
}
