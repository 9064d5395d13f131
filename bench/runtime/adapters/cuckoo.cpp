// libcuckoo cuckoohash_map: bucketized cuckoo hashing with striped spinlocks.
#include "../src/workloads.h"

#include <libcuckoo/cuckoohash_map.hh>

namespace {

class Cuckoo : public tsmap_bench::AdapterBase {
public:
  static constexpr const char *kName = "libcuckoo";
  static constexpr const char *kDesc = "libcuckoo::cuckoohash_map (std::hash, no reserve)";
  static constexpr unsigned kCaps = tsmap_bench::kConcurrent;

  Cuckoo() : map_(0) {}

  bool get(uint64_t k, uint64_t *v) { return map_.find(k, *v); }
  void put(uint64_t k, uint64_t v) { map_.insert_or_assign(k, v); }
  bool erase(uint64_t k) { return map_.erase(k); }
  /// find; on a miss run the callback with no lock held, then uprase_fn keeps the
  /// value of whichever thread inserted first.
  template <class F> uint64_t compute_if_absent(uint64_t k, F &&make) {
    uint64_t v;
    if (map_.find(k, v))
      return v;
    uint64_t made = make(k);
    v = made;
    map_.uprase_fn(
        k,
        [&](uint64_t &present) {
          v = present;
          return false;
        },
        made);
    return v;
  }

private:
  libcuckoo::cuckoohash_map<uint64_t, uint64_t> map_;
};

} // namespace

TSMAP_BENCH_REGISTER(Cuckoo);
