// libtsmap, the runtime under test: 8-byte fixed-size keys (config.key_size = 8, the
// header's fast path for integer keys), 8-byte values, default shard count and hash.
#include "../src/workloads.h"

#include <tsmap/tsmap.h>

#include <cstdlib>
#include <cstring>

namespace {

class Tsmap : public tsmap_bench::AdapterBase {
public:
  static constexpr const char *kName = "tsmap";
  static constexpr const char *kDesc = "libtsmap (key_size 8, default shards and hash)";
  static constexpr unsigned kCaps = tsmap_bench::kConcurrent | tsmap_bench::kReshard;

  Tsmap() {
    tsmap_config cfg;
    tsmap_config_init(&cfg, sizeof(uint64_t));
    cfg.key_size = sizeof(uint64_t);
    // TSMAP_BENCH_METRICS=1: the same map with config.metrics (the cost of metrics on).
    const char *metrics = std::getenv("TSMAP_BENCH_METRICS");
    cfg.metrics = metrics && *metrics && *metrics != '0';
    tsmap_status st = tsmap_create(&cfg, &map_);
    if (st != TSMAP_OK)
      tsmap_bench::fail(kName, "create", "tsmap_create: %s", tsmap_status_name(st));
  }
  ~Tsmap() { tsmap_destroy(map_); }

  bool get(uint64_t k, uint64_t *v) { return tsmap_get(map_, &k, sizeof k, v) == TSMAP_OK; }
  void put(uint64_t k, uint64_t v) { tsmap_put(map_, &k, sizeof k, &v, nullptr); }
  bool erase(uint64_t k) {
    uint64_t old;
    return tsmap_remove(map_, &k, sizeof k, &old) == TSMAP_OK;
  }
  size_t shards() {
    size_t n = 0;
    tsmap_shard_counts(map_, &n, nullptr);
    return n;
  }
  bool reshard(size_t n) { return tsmap_reshard(map_, n) == TSMAP_OK; }
  bool resharding() {
    size_t n = 0, target = 0;
    return tsmap_shard_counts(map_, &n, &target) == TSMAP_OK && n != target;
  }
  /// tsmap's own single-flight compute_if_absent; the callback is the harness's lambda.
  template <class F> uint64_t compute_if_absent(uint64_t k, F &&make) {
    using Fn = std::remove_reference_t<F>;
    uint64_t v = 0;
    tsmap_compute_if_absent(map_, &k, sizeof k, &trampoline<Fn>, &make, &v);
    return v;
  }

private:
  template <class Fn>
  static int trampoline(const void *key, size_t, void *ctx, void *value_out) {
    uint64_t k;
    std::memcpy(&k, key, sizeof k);
    uint64_t v = (*static_cast<Fn *>(ctx))(k);
    std::memcpy(value_out, &v, sizeof v);
    return 0;
  }

  tsmap *map_ = nullptr;
};

} // namespace

TSMAP_BENCH_REGISTER(Tsmap);
