// bench/runtime/src/bench.h - the harness's shared vocabulary.
//
// A map is measured through an *adapter*: a small class with the methods below.  The
// workload drivers (workloads.h) are templates over the adapter, so no virtual call sits
// in a measured loop; each adapter file instantiates them with TSMAP_BENCH_REGISTER.
//
// Adapter contract (every method is called from the thread that owns the call):
//   static constexpr const char *kName;   short id used on the command line and in results
//   static constexpr const char *kDesc;   one line for RESULTS.md
//   static constexpr unsigned kCaps;      kConcurrent if more than one thread may use it
//   Adapter();                            empty map, no reserved capacity
//   bool get(uint64_t key, uint64_t *value);            true when found
//   void put(uint64_t key, uint64_t value);             insert or overwrite
//   bool erase(uint64_t key);                           true when it removed the key
//   template <class F> uint64_t compute_if_absent(uint64_t key, F &&make);
//                                       value present, or make(key) stored and returned
//   void thread_online(); void thread_offline(); void quiescent();
//                                       per-thread hooks (RCU registration, QSBR); the
//                                       AdapterBase versions do nothing
//   void settle(uint64_t entries);      after an untimed prefill, before timing: finish
//                                       work the map deferred to a background thread
//                                       (liburcu's lazy resize); no-op by default
#ifndef TSMAP_BENCH_BENCH_H
#define TSMAP_BENCH_BENCH_H

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace tsmap_bench {

/// Capabilities an adapter declares; drivers skip what a map cannot do.
enum : unsigned {
  kConcurrent = 1u << 0, ///< safe to use from several threads at once
  kHidden = 1u << 1,     ///< not part of the default map list (harness baselines)
  kStoresNothing = 1u << 2, ///< a harness baseline that stores nothing: no self-check
  kReshard = 1u << 3,       ///< reshard(n) / resharding() change the shard count live (G)
};

/// Default no-op per-thread hooks.
struct AdapterBase {
  void thread_online() {}
  void thread_offline() {}
  void quiescent() {}
  void settle(uint64_t) {}
  size_t shards() { return 0; }             ///< kReshard: shard count now
  bool reshard(size_t) { return false; }    ///< kReshard: start a reshard to n shards
  bool resharding() { return false; }       ///< kReshard: one still in progress
};

/// 64-bit bijective mixer (the splitmix64 finalizer): key number -> 8-byte key.
inline uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/// The key of key number @p idx; key ranges of different workloads never overlap.
inline uint64_t key_of(uint64_t idx) { return mix64(idx); }

/// Everything a run was asked to do; filled from the command line.
struct Request {
  std::string mode = "all"; ///< all | mix | growth | memory | memory-child | cia | growread | instr
                            ///< | reshard (not part of all)
  std::vector<std::string> maps;      ///< empty: every registered, non-hidden map
  std::vector<std::string> workloads; ///< subset of A,B,C (mix mode)
  std::vector<int> threads;           ///< thread counts; empty: 1..nproc
  uint64_t prefill = 1000000;         ///< A/B/C/F2 key count
  uint64_t growth = 4000000;          ///< D target size
  uint64_t memory_n = 4000000;        ///< E entry count
  uint64_t hot = 1024;                ///< F1 hot key set size
  uint64_t cia_work = 64;             ///< F1 callback cost, in mix64 rounds
  uint64_t instr_ops = 200000;        ///< instr mode: measured operations
  uint64_t stream_len = 1u << 20;     ///< per-thread op stream length (power of two)
  double seconds = 1.0;               ///< timed window of A/B/C/F1
  double growread_cap = 6.0;          ///< F2: the grower stops after this many seconds
  int reps = 3;                       ///< repetitions (median is reported)
  int growth_reps = 3;                ///< D repetitions
  double growth_cap = 0;              ///< D: a run stops inserting after this many seconds
                                      ///< (0: never); the record says it is incomplete
  bool pin = false;                   ///< pin thread i to CPU i % nproc (--pin).  Off by
                                      ///< default: on a shared machine a pinned thread
                                      ///< cannot flee a busy CPU, and a pinned inserter
                                      ///< starves liburcu's resize worker (see README)
  bool smoke = false;                 ///< tiny sizes; verify results strictly
  bool lossy = false;                 ///< the map may drop entries (a bound below the
                                      ///< prefill, --lossy): no self-check, and gets that
                                      ///< miss are counted, not failures
  std::string out;                    ///< JSON-lines output file; empty: stdout
  std::string self;                   ///< path of this executable (for E children)
};

/// One JSON object per line, written to the output file.
class Record {
public:
  explicit Record(const char *kind);
  Record &s(const char *k, const std::string &v);
  Record &i(const char *k, long long v);
  Record &u(const char *k, uint64_t v);
  Record &f(const char *k, double v);
  void emit();

private:
  std::string body_;
};

/// Counts a failed verification; a smoke run exits non-zero when any happened.
void fail(const char *map, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/// Progress line on stderr.
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct MapInfo {
  const char *name;
  const char *desc;
  unsigned caps;
  void (*run)(const Request &);
  uint64_t (*check)(const Request &); ///< correctness self-check; errors found
};
bool register_map(const MapInfo &info);

} // namespace tsmap_bench

#endif
