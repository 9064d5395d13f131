// A market-data gateway's quote cache: pricing threads load quotes on first
// use, count feed requests for billing, and a sweep drops stale symbols.
#include "quote_cache.h"

#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

namespace {

struct FeedStats {
  std::atomic<long> requests{0}; // billed per request by the feed vendor
  long misses = 0;
};

Quote fetch_from_feed(const std::string &symbol) {
  Quote q;
  q.bid = 100.0 + static_cast<double>(symbol.size());
  q.ask = q.bid + 0.05;
  return q;
}

Quote price(QuoteCache &cache, FeedStats &stats, const std::string &symbol) {
  // Mistake 1: the loader counts each feed request, but the cache may run it
  // twice for one symbol; the bill and the miss count drift
  // (tsmap-non-idempotent-callback). Fix: count in the caller, once, when
  // the quote it got back is the one it loaded.
  return cache.compute_if_absent(symbol, [&stats](const std::string &s) {
    stats.requests.fetch_add(1);
    return fetch_from_feed(s);
  });
}

void drop_crossed(QuoteCache &cache) {
  // Mistake 2: the visitor erases from the cache that for_each holds locked:
  // std::mutex is not recursive, so the sweep deadlocks on the first crossed
  // quote (tsmap-reentrant-callback). Fix: collect the symbols, erase after.
  cache.for_each([&cache](const std::string &symbol, Quote &q) {
    if (q.bid > q.ask)
      cache.erase(symbol);
  });
}

void drop_crossed_fixed(QuoteCache &cache) {
  std::vector<std::string> crossed; // the visitor's product: quiet
  cache.for_each([&crossed](const std::string &symbol, Quote &q) {
    if (q.bid > q.ask)
      crossed.push_back(symbol);
  });
  for (const std::string &symbol : crossed)
    cache.erase(symbol);
}

} // namespace

int main() {
  QuoteCache cache;
  FeedStats stats;
  std::vector<std::thread> pricers;
  for (int t = 0; t < 4; ++t)
    pricers.emplace_back([&cache, &stats] {
      for (const char *s : {"ACME", "GLOBX", "INITech"})
        price(cache, stats, s);
    });
  for (std::thread &t : pricers)
    t.join();
  drop_crossed_fixed(cache);
  if (cache.size() > 100)
    drop_crossed(cache); // never on this data: the sweep would deadlock
  std::printf("%zu quotes, %ld feed requests billed (3 symbols)\n", cache.size(),
              stats.requests.load());
  return 0;
}
