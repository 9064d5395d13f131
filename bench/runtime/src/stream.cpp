// bench/runtime/src/stream.cpp - deterministic operation streams.
#include "stream.h"

#include <cmath>
#include <map>
#include <mutex>
#include <utility>

namespace tsmap_bench {

namespace {

/// zeta(n, theta) = sum_{i=1..n} 1/i^theta, memoized (it costs n pow() calls).
double zeta(uint64_t n, double theta) {
  static std::mutex mu;
  static std::map<std::pair<uint64_t, double>, double> memo;
  std::lock_guard<std::mutex> lock(mu);
  auto it = memo.find({n, theta});
  if (it != memo.end())
    return it->second;
  double sum = 0;
  for (uint64_t i = 1; i <= n; ++i)
    sum += 1.0 / std::pow(double(i), theta);
  memo[{n, theta}] = sum;
  return sum;
}

/// Gray et al., "Quickly generating billion-record synthetic databases" (SIGMOD '94),
/// as used by YCSB: rank 0 is the most popular item.
class Zipf {
public:
  Zipf(uint64_t n, double theta) : n_(n) {
    zetan_ = zeta(n, theta);
    double zeta2 = 1.0 + std::pow(0.5, theta);
    alpha_ = 1.0 / (1.0 - theta);
    eta_ = (1.0 - std::pow(2.0 / double(n), 1.0 - theta)) / (1.0 - zeta2 / zetan_);
    half_pow_theta_ = 1.0 + std::pow(0.5, theta);
  }
  uint64_t next(Rng &rng) const {
    double u = rng.unit();
    double uz = u * zetan_;
    if (uz < 1.0)
      return 0;
    if (uz < half_pow_theta_)
      return 1;
    uint64_t r = uint64_t(double(n_) * std::pow(eta_ * u - eta_ + 1.0, alpha_));
    return r < n_ ? r : n_ - 1;
  }

private:
  uint64_t n_;
  double zetan_, alpha_, eta_, half_pow_theta_;
};

} // namespace

std::vector<uint32_t> make_stream(uint64_t seed, size_t len, uint64_t keys, Dist dist,
                                  double theta, double write_frac) {
  std::vector<uint32_t> out(len);
  Rng rng(seed);
  Rng wrng(seed ^ 0x5bd1e995u);
  if (dist == Dist::Zipfian) {
    Zipf z(keys, theta);
    for (auto &e : out)
      e = uint32_t(z.next(rng));
  } else {
    for (auto &e : out)
      e = uint32_t(rng.below(keys));
  }
  if (write_frac > 0)
    for (auto &e : out)
      if (wrng.unit() < write_frac)
        e |= kWriteBit;
  return out;
}

} // namespace tsmap_bench
