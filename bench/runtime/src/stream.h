// bench/runtime/src/stream.h - deterministic operation streams.
//
// A stream is a vector of 32-bit entries, one per operation: the low 31 bits are a key
// number (key = key_of(number)), the top bit asks for a write.  Streams are generated
// before the timed window from a seed that depends only on (workload, thread), so every
// map sees the same operations in the same order.
#ifndef TSMAP_BENCH_STREAM_H
#define TSMAP_BENCH_STREAM_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tsmap_bench {

constexpr uint32_t kWriteBit = 1u << 31;
constexpr uint32_t kIndexMask = kWriteBit - 1;

enum class Dist { Uniform, Zipfian };

/// @p len entries over key numbers [0, @p keys), writes with probability @p write_frac;
/// Zipfian draws follow Gray et al. (the YCSB generator) with exponent @p theta.
std::vector<uint32_t> make_stream(uint64_t seed, size_t len, uint64_t keys, Dist dist,
                                  double theta, double write_frac);

/// Small, fast PRNG (wyrand) for stream generation.
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed) {}
  uint64_t next() {
    s += 0xa0761d6478bd642full;
    __uint128_t m = (__uint128_t)s * (s ^ 0xe7037ed1a0b428dbull);
    return uint64_t(m >> 64) ^ uint64_t(m);
  }
  /// Uniform in [0, n).
  uint64_t below(uint64_t n) { return uint64_t(((__uint128_t)next() * n) >> 64); }
  /// Uniform in [0, 1).
  double unit() { return double(next() >> 11) * (1.0 / 9007199254740992.0); }
};

} // namespace tsmap_bench

#endif
