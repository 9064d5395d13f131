// libtsmap, the runtime under test: 8-byte fixed-size keys (config.key_size = 8, the
// header's fast path for integer keys), 8-byte values, default shard count and hash.
#include "../src/workloads.h"

#include <tsmap/tsmap.h>

#include <cstdlib>
#include <cstring>
#include <string>

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
    // TSMAP_BENCH_PLACEMENT=interleave|local: NUMA placement of the shards (G14), to
    // compare with the default (none) on a multi-socket host; run.sh records the value.
    const char *place = std::getenv("TSMAP_BENCH_PLACEMENT");
    std::string p = place ? place : "none";
    if (p == "interleave")
      cfg.placement = TSMAP_PLACE_INTERLEAVE;
    else if (p == "local")
      cfg.placement = TSMAP_PLACE_LOCAL;
    else if (p != "none" && !p.empty())
      tsmap_bench::fail(kName, "create", "TSMAP_BENCH_PLACEMENT=%s: none, interleave or local",
                        place);
    // TSMAP_BENCH_VERSIONS=1: a versioned map (G12); =N>1: replicated, N replicas (G13).
    const char *versions = std::getenv("TSMAP_BENCH_VERSIONS");
    long nver = versions ? std::atol(versions) : 0;
    cfg.versions = nver > 0;
    cfg.replicas = nver > 1 ? static_cast<size_t>(nver) : 0;
    // TSMAP_BENCH_MAX_ENTRIES=N: a bounded map (G11); TSMAP_BENCH_TTL_NS=T: an expiring
    // one (G10), every entry given T ns (choose T past the run: nothing expires).
    cfg.max_entries = env_size("TSMAP_BENCH_MAX_ENTRIES");
    cfg.default_ttl_ns = env_size("TSMAP_BENCH_TTL_NS");
    // TSMAP_BENCH_SHARDS=N: the shard count (a power of two; default: 16 per CPU), to see
    // what the shards' lock lines cost writers on two cores.
    cfg.shard_count = env_size("TSMAP_BENCH_SHARDS");
    tsmap_status st = tsmap_create(&cfg, &map_);
    if (st != TSMAP_OK)
      tsmap_bench::fail(kName, "create", "tsmap_create: %s", tsmap_status_name(st));
    tsmap_shard_placement sp;
    if (cfg.placement != TSMAP_PLACE_NONE && tsmap_placement(map_, 0, &sp) == TSMAP_OK &&
        !sp.bound)
      tsmap_bench::fail(kName, "create", "placement not in effect: %s", sp.reason);
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
  static size_t env_size(const char *name) {
    const char *v = std::getenv(name);
    return v ? static_cast<size_t>(std::strtoull(v, nullptr, 10)) : 0;
  }
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
