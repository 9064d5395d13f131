// absl::flat_hash_map with no lock: the single-threaded limit every target is scaled by.
#include "../src/workloads.h"

#include <absl/container/flat_hash_map.h>

namespace {

class AbslFlat : public tsmap_bench::AdapterBase {
public:
  static constexpr const char *kName = "absl";
  static constexpr const char *kDesc = "absl::flat_hash_map, no lock (1 thread only)";
  static constexpr unsigned kCaps = 0;

  bool get(uint64_t k, uint64_t *v) {
    auto it = map_.find(k);
    if (it == map_.end())
      return false;
    *v = it->second;
    return true;
  }
  void put(uint64_t k, uint64_t v) { map_.insert_or_assign(k, v); }
  bool erase(uint64_t k) { return map_.erase(k) != 0; }
  template <class F> uint64_t compute_if_absent(uint64_t k, F &&make) {
    auto it = map_.find(k);
    if (it != map_.end())
      return it->second;
    uint64_t v = make(k);
    map_.emplace(k, v);
    return v;
  }

private:
  absl::flat_hash_map<uint64_t, uint64_t> map_;
};

} // namespace

TSMAP_BENCH_REGISTER(AbslFlat);
