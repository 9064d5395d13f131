// absl::flat_hash_map behind one pthread_rwlock: the naive concurrent baseline.
#include "../src/workloads.h"

#include <absl/container/flat_hash_map.h>
#include <pthread.h>

namespace {

class AbslRwlock : public tsmap_bench::AdapterBase {
public:
  static constexpr const char *kName = "absl_rwlock";
  static constexpr const char *kDesc = "absl::flat_hash_map behind one pthread_rwlock_t";
  static constexpr unsigned kCaps = tsmap_bench::kConcurrent;

  AbslRwlock() { pthread_rwlock_init(&lock_, nullptr); }
  ~AbslRwlock() { pthread_rwlock_destroy(&lock_); }

  bool get(uint64_t k, uint64_t *v) {
    pthread_rwlock_rdlock(&lock_);
    auto it = map_.find(k);
    bool found = it != map_.end();
    if (found)
      *v = it->second;
    pthread_rwlock_unlock(&lock_);
    return found;
  }
  void put(uint64_t k, uint64_t v) {
    pthread_rwlock_wrlock(&lock_);
    map_.insert_or_assign(k, v);
    pthread_rwlock_unlock(&lock_);
  }
  bool erase(uint64_t k) {
    pthread_rwlock_wrlock(&lock_);
    bool gone = map_.erase(k) != 0;
    pthread_rwlock_unlock(&lock_);
    return gone;
  }
  /// Look up under the read lock; on a miss run the callback with no lock held, then
  /// insert under the write lock unless another thread got there first.
  template <class F> uint64_t compute_if_absent(uint64_t k, F &&make) {
    uint64_t v;
    if (get(k, &v))
      return v;
    uint64_t made = make(k);
    pthread_rwlock_wrlock(&lock_);
    v = map_.try_emplace(k, made).first->second;
    pthread_rwlock_unlock(&lock_);
    return v;
  }

private:
  pthread_rwlock_t lock_;
  absl::flat_hash_map<uint64_t, uint64_t> map_;
};

} // namespace

TSMAP_BENCH_REGISTER(AbslRwlock);
