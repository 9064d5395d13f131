// oneTBB concurrent_hash_map: per-bucket reader-writer locks, accessors.
#include "../src/workloads.h"

#include <oneapi/tbb/concurrent_hash_map.h>

namespace {

class TbbChm : public tsmap_bench::AdapterBase {
public:
  static constexpr const char *kName = "tbb";
  static constexpr const char *kDesc = "oneTBB concurrent_hash_map (default hash_compare)";
  static constexpr unsigned kCaps = tsmap_bench::kConcurrent;

  bool get(uint64_t k, uint64_t *v) {
    Map::const_accessor a;
    if (!map_.find(a, k))
      return false;
    *v = a->second;
    return true;
  }
  void put(uint64_t k, uint64_t v) {
    Map::accessor a;
    map_.insert(a, k);
    a->second = v;
  }
  bool erase(uint64_t k) { return map_.erase(k); }
  /// A read-locked find first; on a miss, insert with a write accessor and run the
  /// callback while holding it: TBB's own single-flight idiom.
  template <class F> uint64_t compute_if_absent(uint64_t k, F &&make) {
    {
      Map::const_accessor a;
      if (map_.find(a, k))
        return a->second;
    }
    Map::accessor a;
    if (map_.insert(a, k))
      a->second = make(k);
    return a->second;
  }

private:
  using Map = tbb::concurrent_hash_map<uint64_t, uint64_t>;
  Map map_;
};

} // namespace

TSMAP_BENCH_REGISTER(TbbChm);
