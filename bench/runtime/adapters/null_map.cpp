// A map that stores nothing: measures the harness's own cost per operation (stream read,
// key mixing, loop) so that instructions/op of real maps can be read net of it.
#include "../src/workloads.h"

namespace {

class NullMap : public tsmap_bench::AdapterBase {
public:
  static constexpr const char *kName = "null";
  static constexpr const char *kDesc = "no map at all: the harness's own cost (hidden)";
  static constexpr unsigned kCaps = tsmap_bench::kConcurrent | tsmap_bench::kHidden | tsmap_bench::kStoresNothing;

  bool get(uint64_t k, uint64_t *v) {
    *v = k;
    return true;
  }
  void put(uint64_t k, uint64_t v) { last_.store(k ^ v, std::memory_order_relaxed); }
  bool erase(uint64_t) { return false; }
  template <class F> uint64_t compute_if_absent(uint64_t k, F &&make) { return make(k); }

private:
  std::atomic<uint64_t> last_{0};
};

} // namespace

TSMAP_BENCH_REGISTER(NullMap);
