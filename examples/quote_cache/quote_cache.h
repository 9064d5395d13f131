// quote_cache: a C++ wrapper over a mutex-guarded table of price quotes, with
// the map contracts written on its callback parameters. compute_if_absent
// runs the loader outside the lock (a slow feed must not block readers), so
// two threads that miss on one symbol may both run it, and one result is
// thrown away: TSMAP_CALLBACK. for_each runs the visitor under the lock:
// TSMAP_CALLBACK_LOCKED.
#ifndef QUOTE_CACHE_H
#define QUOTE_CACHE_H

#include <tsmap/annotations.h>

#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

struct Quote {
  double bid = 0;
  double ask = 0;
};

class TSMAP_THREAD_SAFE_MAP QuoteCache {
public:
  template <class F>
  Quote compute_if_absent(const std::string &symbol, F &&load TSMAP_CALLBACK) {
    {
      std::lock_guard<std::mutex> g(mu_);
      auto it = table_.find(symbol);
      if (it != table_.end())
        return it->second;
    }
    Quote q = load(symbol); // outside the lock: may run in two threads at once
    std::lock_guard<std::mutex> g(mu_);
    return table_.emplace(symbol, q).first->second; // the loser's q is dropped
  }

  template <class F> void for_each(F &&visit TSMAP_CALLBACK_LOCKED) {
    std::lock_guard<std::mutex> g(mu_);
    for (auto &entry : table_)
      visit(entry.first, entry.second);
  }

  void erase(const std::string &symbol) {
    std::lock_guard<std::mutex> g(mu_);
    table_.erase(symbol);
  }

  std::size_t size() {
    std::lock_guard<std::mutex> g(mu_);
    return table_.size();
  }

private:
  std::mutex mu_;
  std::unordered_map<std::string, Quote> table_;
};

#endif
