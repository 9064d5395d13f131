// bench/runtime/src/workloads.h - the workload drivers, templated over an adapter.
//
//   A  prefill 1M keys; 95% get / 5% overwrite, uniform        (mode mix)
//   B  same, Zipfian theta = 0.99                               (mode mix)
//   C  50% get / 50% overwrite, uniform                         (mode mix)
//   D  growth from empty to 4M keys, every insert timed         (mode growth)
//   E  resident bytes per entry at 4M entries, fresh process    (mode memory-child)
//   F1 compute_if_absent on a hot key set, 1/16 of ops erase    (mode cia)
//   F2 gets on 1M keys while one more thread grows the map to 4M (mode growread)
//   instructions per operation of A/B/C under callgrind          (mode instr)
//   G  get/put latency while a 4M-entry map reshards x4 and back, against the same
//      operations in the steady state before it                   (mode reshard)
//
// Key ranges never overlap between workloads: A/B/C/E/F2 use key numbers from 0,
// D from 2^40, F1 from 2^41.
#ifndef TSMAP_BENCH_WORKLOADS_H
#define TSMAP_BENCH_WORKLOADS_H

#include "bench.h"
#include "measure.h"
#include "stream.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define TSMAP_BENCH_HAVE_CALLGRIND 1
#endif
#endif
#ifndef TSMAP_BENCH_HAVE_CALLGRIND
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS_AT(x) (void)(x)
#endif

namespace tsmap_bench {

constexpr int kChunk = 64;                 ///< ops between stop checks and QSBR reports
constexpr uint64_t kGrowthBase = 1ull << 40;
constexpr uint64_t kHotBase = 1ull << 41;

/// Keeps results alive so the compiler cannot drop the lookups.
extern std::atomic<uint64_t> g_sink;

/// Per-thread counters, one cache line each.
struct alignas(64) Tally {
  uint64_t ops = 0, misses = 0, sink = 0, calls = 0, erased = 0, bad = 0, preempted = 0;
};

/// The F1 callback's work: @p rounds of mixing, never 0.
inline uint64_t expensive(uint64_t key, uint64_t rounds) {
  uint64_t x = key;
  for (uint64_t r = 0; r < rounds; ++r)
    x = mix64(x);
  return x | 1;
}

bool wants(const Request &rq, const char *mode);
bool wants_workload(const Request &rq, const char *w);
std::vector<int> thread_counts(const Request &rq, bool concurrent);
void emit_window(Record &r, const Window &w, uint64_t ops, int threads);

struct MixSpec {
  const char *name;
  Dist dist;
  double write_frac;
};
extern const MixSpec kMixes[3];

/// Single-threaded insert of key numbers [0, n); returns seconds taken.
template <class M> double prefill(M &map, uint64_t n) {
  double t0 = now_s();
  map.thread_online();
  for (uint64_t i = 0; i < n; ++i) {
    map.put(key_of(i), i + 1);
    if ((i & 127) == 127)
      map.quiescent();
  }
  map.thread_offline();
  map.settle(n);
  return now_s() - t0;
}

/// One thread's loop over its stream until the gate closes (A, B, C, F2 readers).
template <class M>
void mix_loop(M &map, const std::vector<uint32_t> &stream, Gate &gate, Tally &out) {
  map.thread_online();
  const uint32_t *s = stream.data();
  const size_t mask = stream.size() - 1;
  size_t pos = 0;
  uint64_t ops = 0, misses = 0, sink = 0;
  gate.arrive_and_wait();
  while (!gate.stopped()) {
    for (int i = 0; i < kChunk; ++i) {
      uint32_t e = s[pos];
      pos = (pos + 1) & mask;
      uint64_t key = key_of(e & kIndexMask);
      if (e & kWriteBit) {
        map.put(key, key ^ ops);
      } else {
        uint64_t v;
        if (map.get(key, &v))
          sink += v;
        else
          ++misses;
      }
    }
    ops += kChunk;
    map.quiescent();
  }
  map.thread_offline();
  out.ops = ops;
  out.misses = misses;
  out.sink = sink;
}

// ---- A, B, C ------------------------------------------------------------------------

template <class M> void run_mix(const Request &rq, const char *name, unsigned caps) {
  auto map = std::make_unique<M>();
  double fill_s = prefill(*map, rq.prefill);
  Record("prefill").s("map", name).u("keys", rq.prefill).f("seconds", fill_s).emit();
  std::vector<int> counts = thread_counts(rq, caps & kConcurrent);
  int max_t = *std::max_element(counts.begin(), counts.end());
  for (const MixSpec &spec : kMixes) {
    if (!wants_workload(rq, spec.name))
      continue;
    std::vector<std::vector<uint32_t>> streams;
    for (int t = 0; t < max_t; ++t)
      streams.push_back(make_stream(uint64_t(spec.name[0]) * 1000003u + uint64_t(t),
                                    rq.stream_len, rq.prefill, spec.dist, 0.99,
                                    spec.write_frac));
    for (int rep = 0; rep < rq.reps; ++rep)
      for (int t : counts) {
        std::vector<Tally> tally(static_cast<size_t>(t));
        Window w = run_team(
            t, rq.seconds,
            [&](int tid, Gate &g) { mix_loop(*map, streams[size_t(tid)], g, tally[size_t(tid)]); },
            rq.pin);
        uint64_t ops = 0, misses = 0;
        for (auto &x : tally) {
          ops += x.ops;
          misses += x.misses;
          g_sink.fetch_add(x.sink, std::memory_order_relaxed);
        }
        if (misses && !rq.lossy)
          fail(name, spec.name, "%llu of %llu gets missed a prefilled key",
               (unsigned long long)misses, (unsigned long long)ops);
        Record r("mix");
        r.s("workload", spec.name).s("map", name).i("threads", t).i("rep", rep);
        emit_window(r, w, ops, t);
        r.u("misses", misses).emit();
        note("%-12s %s T=%d rep %d: %.2f Mops/s (cpu %.0f%%, steal %.1f%%)", name,
             spec.name, t, rep, double(ops) / w.wall_s / 1e6, w.cpu_frac * 100,
             w.steal_frac * 100);
      }
  }
}

// ---- D --------------------------------------------------------------------------------

/// Latency curve points: quantile levels 1 - 10^-k/… on a log grid, for the CCDF plot.
std::string latency_curve(const std::vector<uint32_t> &sorted, double ticks_per_ns);

template <class M> void run_growth(const Request &rq, const char *name, unsigned caps) {
  const double tpn = tsc_per_ns();
  for (int t : thread_counts(rq, caps & kConcurrent))
    for (int rep = 0; rep < rq.growth_reps; ++rep) {
      auto map = std::make_unique<M>();
      const uint64_t n = rq.growth;
      std::vector<std::vector<uint32_t>> lat(static_cast<size_t>(t));
      for (int tid = 0; tid < t; ++tid) // allocated and touched before the window
        lat[size_t(tid)].assign(size_t(n / uint64_t(t) + 1), 0);
      std::vector<Tally> tally(static_cast<size_t>(t));
      const double deadline = rq.growth_cap > 0 ? now_s() + rq.growth_cap : 0;
      std::atomic<bool> cut{false};
      Window w = run_team(
          t, 0,
          [&](int tid, Gate &g) {
            M &m = *map;
            uint32_t *out = lat[size_t(tid)].data();
            uint64_t j = 0;
            m.thread_online();
            g.arrive_and_wait();
            const long preempt0 = thread_preemptions();
            for (uint64_t i = uint64_t(tid); i < n; i += uint64_t(t), ++j) {
              uint64_t key = key_of(kGrowthBase + i);
              uint64_t c0 = tsc_begin();
              m.put(key, key + 1);
              uint64_t c1 = tsc_end();
              uint64_t d = c1 - c0;
              out[j] = d > 0xffffffffull ? 0xffffffffu : uint32_t(d);
              if ((j & 127) == 127) {
                m.quiescent();
                // Outside the timed put: a map that cannot keep up is cut off so that the
                // whole run stays bounded; its record says so.
                if (deadline > 0 && (j & 4095) == 4095 &&
                    (cut.load(std::memory_order_relaxed) || now_s() > deadline)) {
                  cut.store(true, std::memory_order_relaxed);
                  ++j;
                  break;
                }
              }
            }
            tally[size_t(tid)].preempted = uint64_t(thread_preemptions() - preempt0);
            m.thread_offline();
            lat[size_t(tid)].resize(size_t(j));
            tally[size_t(tid)].ops = j;
          },
          rq.pin);
      std::vector<uint32_t> all;
      all.reserve(size_t(n));
      for (auto &v : lat) {
        all.insert(all.end(), v.begin(), v.end());
        std::vector<uint32_t>().swap(v);
      }
      std::sort(all.begin(), all.end());
      // Verification: every inserted key is there with its value (a sample outside smoke
      // runs).  Thread tid inserted key numbers tid, tid + t, ... (tally.ops of them).
      uint64_t step = rq.smoke ? 1 : 97, missing = 0, checked = 0;
      map->thread_online();
      for (int tid = 0; tid < t; ++tid)
        for (uint64_t jj = 0; jj < tally[size_t(tid)].ops; jj += step) {
          uint64_t key = key_of(kGrowthBase + uint64_t(tid) + jj * uint64_t(t)), v = 0;
          ++checked;
          if (!map->get(key, &v) || v != key + 1)
            ++missing;
        }
      map->thread_offline();
      if (missing)
        fail(name, "D", "%llu of %llu sampled keys missing or wrong after growth",
             (unsigned long long)missing, (unsigned long long)checked);
      const bool complete = all.size() == n;
      if (!complete)
        note("%-12s D T=%d rep %d: cut off after %.0f s at %zu of %llu inserts", name, t, rep,
             rq.growth_cap, all.size(), (unsigned long long)n);
      auto ns = [&](double q) { return double(quantile(all, q)) / tpn; };
      Record r("growth");
      r.s("workload", "D").s("map", name).i("threads", t).i("rep", rep);
      emit_window(r, w, all.size(), t);
      r.f("p50_ns", ns(0.5)).f("p99_ns", ns(0.99)).f("p999_ns", ns(0.999));
      r.f("p9999_ns", ns(0.9999)).f("max_ns", all.empty() ? 0 : double(all.back()) / tpn);
      uint64_t preempted = 0;
      for (auto &x : tally)
        preempted += x.preempted;
      // How many inserts took over 10 us: p99.99 <= 10 us needs at most n / 10,000.
      const uint64_t over_10us = uint64_t(
          all.end() - std::upper_bound(all.begin(), all.end(), uint32_t(10000.0 * tpn)));
      r.i("complete", complete).u("target", n).u("preemptions", preempted);
      r.u("over_10us", over_10us);
      // Time spent inside the timed inserts: the machine's own pauses land in it in
      // proportion, so it predicts over_10us on a machine that stops a busy thread often.
      double inside_ticks = 0;
      for (uint32_t d : all)
        inside_ticks += d;
      const double inside_s = inside_ticks / tpn / 1e9;
      r.f("inside_s", inside_s);
      r.s("curve", latency_curve(all, tpn)).emit();
      note("%-12s D T=%d rep %d: p99.99 %.1f us (%llu inserts over 10 us), max %.1f us, "
           "%.2f Mops/s, %.2f s inside inserts", name, t, rep, ns(0.9999) / 1e3,
           (unsigned long long)over_10us,
           all.empty() ? 0.0 : double(all.back()) / tpn / 1e3,
           double(all.size()) / w.wall_s / 1e6, inside_s);
      map.reset(); // not timed
    }
}

// ---- E --------------------------------------------------------------------------------

template <class M> void run_memory(const Request &rq, const char *name) {
  const uint64_t n = rq.memory_n;
  uint64_t rss0 = rss_bytes(), heap0 = heap_bytes();
  auto map = std::make_unique<M>();
  map->thread_online();
  for (uint64_t i = 0; i < n; ++i) {
    map->put(key_of(i), i + 1);
    if ((i & 127) == 127)
      map->quiescent();
    if (i + 1 >= 1024 && ((i + 1) & i) == 0) {
      // At each power of two, what a lazily resizing map's worker would have done by now
      // (settle; untimed, E measures bytes): liburcu's QSBR table sometimes never got its
      // resize from the worker here (7 fills in 12 spun for ever in chains of ~80K).
      map->quiescent();
      map->thread_offline();
      map->settle(i + 1);
      map->thread_online();
    }
  }
  map->quiescent();
  map->thread_offline();
  map->settle(n); // the steady state: a lazily resizing map has caught up
  map->thread_online();
  uint64_t rss1 = rss_bytes(), heap1 = heap_bytes();
  uint64_t v = 0;
  if (n && (!map->get(key_of(n - 1), &v) || v != n))
    fail(name, "E", "last key missing after filling");
  map->thread_offline();
  Record("memory")
      .s("workload", "E")
      .s("map", name)
      .u("entries", n)
      .f("rss_bytes_per_entry", n ? double(int64_t(rss1 - rss0)) / double(n) : 0)
      .f("heap_bytes_per_entry", n ? double(int64_t(heap1 - heap0)) / double(n) : 0)
      .emit();
}

// ---- F1 -------------------------------------------------------------------------------

template <class M> void run_cia(const Request &rq, const char *name, unsigned caps) {
  auto map = std::make_unique<M>();
  const uint64_t hot = rq.hot, work = rq.cia_work;
  for (int t : thread_counts(rq, caps & kConcurrent)) {
    std::vector<std::vector<uint32_t>> streams;
    for (int tid = 0; tid < t; ++tid)
      streams.push_back(make_stream(0xF1F1u + uint64_t(tid), rq.stream_len, hot,
                                    Dist::Uniform, 0, 1.0 / 16));
    for (int rep = 0; rep < rq.reps; ++rep) {
      uint64_t absent = 0, v;
      map->thread_online();
      for (uint64_t i = 0; i < hot; ++i)
        absent += !map->get(key_of(kHotBase + i), &v);
      map->thread_offline();
      std::vector<Tally> tally(static_cast<size_t>(t));
      Window w = run_team(
          t, rq.seconds,
          [&](int tid, Gate &g) {
            M &m = *map;
            const auto &s = streams[size_t(tid)];
            const size_t mask = s.size() - 1;
            size_t pos = 0;
            Tally x;
            m.thread_online();
            g.arrive_and_wait();
            while (!g.stopped()) {
              for (int i = 0; i < kChunk; ++i) {
                uint32_t e = s[pos];
                pos = (pos + 1) & mask;
                uint64_t key = key_of(kHotBase + (e & kIndexMask));
                if (e & kWriteBit) {
                  x.erased += m.erase(key);
                } else {
                  uint64_t got = m.compute_if_absent(key, [&](uint64_t k) {
                    ++x.calls;
                    return expensive(k, work);
                  });
                  x.bad += got != expensive(key, work);
                }
              }
              x.ops += kChunk;
              m.quiescent();
            }
            m.thread_offline();
            tally[size_t(tid)] = x;
          },
          rq.pin);
      Tally sum;
      for (auto &x : tally) {
        sum.ops += x.ops;
        sum.calls += x.calls;
        sum.erased += x.erased;
        sum.bad += x.bad;
      }
      if (sum.bad)
        fail(name, "F1", "%llu compute_if_absent calls returned a wrong value",
             (unsigned long long)sum.bad);
      Record r("cia");
      r.s("workload", "F1").s("map", name).i("threads", t).i("rep", rep);
      emit_window(r, w, sum.ops, t);
      r.u("callbacks", sum.calls).u("erased", sum.erased).u("absent_at_start", absent);
      r.f("callbacks_per_absence",
          double(sum.calls) / double(std::max<uint64_t>(1, absent + sum.erased)));
      r.emit();
      note("%-12s F1 T=%d rep %d: %.2f Mops/s, %.3f callbacks per absence", name, t, rep,
           double(sum.ops) / w.wall_s / 1e6,
           double(sum.calls) / double(std::max<uint64_t>(1, absent + sum.erased)));
    }
  }
}

// ---- F2 -------------------------------------------------------------------------------

template <class M> void run_growread(const Request &rq, const char *name, unsigned caps) {
  if (!(caps & kConcurrent))
    return;
  for (int t : thread_counts(rq, true)) {
    if (t < 2)
      continue; // one grower plus at least one reader
    auto map = std::make_unique<M>();
    prefill(*map, rq.prefill);
    std::vector<std::vector<uint32_t>> streams;
    for (int tid = 0; tid < t; ++tid)
      streams.push_back(make_stream(0xF2F2u + uint64_t(tid), rq.stream_len, rq.prefill,
                                    Dist::Uniform, 0, 0));
    std::vector<Tally> tally(static_cast<size_t>(t));
    double grow_s = 0;
    Window w = run_team(
        t, 0,
        [&](int tid, Gate &g) {
          M &m = *map;
          if (tid != 0) {
            mix_loop(m, streams[size_t(tid)], g, tally[size_t(tid)]);
            return;
          }
          m.thread_online();
          g.arrive_and_wait();
          double t0 = now_s();
          uint64_t i = rq.prefill;
          for (; i < rq.growth; ++i) {
            m.put(key_of(i), i + 1);
            if ((i & 127) == 127) {
              m.quiescent();
              if ((i & 4095) == 4095 && now_s() - t0 > rq.growread_cap)
                break; // lock-based maps starve the grower; bound the run
            }
          }
          grow_s = now_s() - t0;
          g.stop();
          m.thread_offline();
          tally[0].ops = i - rq.prefill;
        },
        rq.pin);
    uint64_t reads = 0, misses = 0;
    for (int tid = 1; tid < t; ++tid) {
      reads += tally[size_t(tid)].ops;
      misses += tally[size_t(tid)].misses;
    }
    if (misses)
      fail(name, "F2", "%llu gets missed a prefilled key while the map grew",
           (unsigned long long)misses);
    Record r("growread");
    r.s("workload", "F2").s("map", name).i("threads", t).i("rep", 0);
    emit_window(r, w, reads, t - 1);
    r.i("readers", t - 1).f("grow_mops", grow_s > 0 ? double(tally[0].ops) / grow_s / 1e6 : 0);
    r.u("grown", tally[0].ops).u("misses", misses).emit();
    note("%-12s F2 T=%d: gets %.2f Mops/s while growing at %.2f Mops/s", name, t,
         double(reads) / w.wall_s / 1e6,
         grow_s > 0 ? double(tally[0].ops) / grow_s / 1e6 : 0.0);
  }
}

// ---- G: latency during a live reshard ----------------------------------------------------

/// Per-phase latency samples of G, ticks.
struct PhaseLat {
  std::vector<uint32_t> get, put;
  uint64_t ops = 0, misses = 0;
  uint64_t slow_preempted = 0, slow_alone = 0; ///< ops over 1 ms in 4096-op blocks with /
                                               ///< without an involuntary context switch
  double wall_s = 0;
  long preempted = 0;
  long minor_faults = 0; ///< the thread's minor page faults: load-independent evidence
  long fault_ops = 0, fault_max = 0; ///< TSMAP_BENCH_OP_FAULTS=1: operations that faulted,
                                     ///< the most faults in one (a getrusage per operation)
  long irqs = -1; ///< --pin: interrupts the thread's CPU took during the phase (timer ticks
                  ///< and the rest; -1 unpinned): an operation they land in pays for them
};

/// Runs 50/50 gets and overwrites of the prefilled keys, each timed, until @p done says
/// so (checked every 4096 operations) or @p cap operations.
template <class M, class Done>
void reshard_phase(M &m, const std::vector<uint32_t> &s, size_t &pos, uint64_t cap, Done done,
                   int cpu, const char *tag, PhaseLat &out) {
  const size_t mask = s.size() - 1;
  out.get.reserve(size_t(cap / 2 + 4096));
  out.put.reserve(size_t(cap / 2 + 4096));
  const long pre0 = thread_preemptions(), flt0 = thread_minor_faults();
  const long irq0 = cpu_interrupts(cpu);
  CALLGRIND_ZERO_STATS; // under callgrind: one dump per phase (the run's last lines say which)
  const uint64_t ms = uint64_t(1e6 * tsc_per_ns());
  long pre_block = pre0;
  uint64_t slow_block = 0;
  const double t0 = now_s();
  static const bool op_faults = std::getenv("TSMAP_BENCH_OP_FAULTS") != nullptr;
  for (uint64_t i = 0; i < cap; ++i) {
    uint32_t e = s[pos];
    pos = (pos + 1) & mask;
    uint64_t idx = e & kIndexMask, key = key_of(idx), v = 0;
    const long f0 = op_faults ? thread_minor_faults() : 0;
    uint64_t c0 = tsc_begin();
    if (e & kWriteBit) {
      m.put(key, idx + 1);
    } else if (!m.get(key, &v) || v != idx + 1) {
      ++out.misses;
    }
    uint64_t d = tsc_end() - c0;
    if (op_faults) { // the sample vectors fault too: a page per 1024 samples, outside c0..d
      const long f = thread_minor_faults() - f0;
      out.fault_ops += f > 0;
      out.fault_max = f > out.fault_max ? f : out.fault_max;
    }
    ((e & kWriteBit) ? out.put : out.get).push_back(d > 0xffffffffull ? 0xffffffffu : uint32_t(d));
    ++out.ops;
    slow_block += d > ms;
    if ((i & 127) == 127)
      m.quiescent();
    if ((i & 4095) == 4095 || i + 1 == cap) {
      // Was a slow operation this block the machine's doing? (one getrusage per block)
      if (slow_block) {
        long pre = thread_preemptions();
        (pre != pre_block ? out.slow_preempted : out.slow_alone) += slow_block;
        pre_block = pre;
        slow_block = 0;
      }
      if (done())
        break;
    }
  }
  if (slow_block) {
    long pre = thread_preemptions();
    (pre != pre_block ? out.slow_preempted : out.slow_alone) += slow_block;
  }
  out.wall_s = now_s() - t0;
  CALLGRIND_DUMP_STATS_AT(tag);
  const long irq1 = cpu_interrupts(cpu);
  out.irqs = irq0 >= 0 && irq1 >= 0 ? irq1 - irq0 : -1;
  out.preempted = thread_preemptions() - pre0;
  out.minor_faults = thread_minor_faults() - flt0;
}

/// The machine's own p99.99 for an operation @p ns long, in ns: @p n timed spins of that
/// length that touch no memory. Interrupts (and, in a VM, the exits they cause) land in
/// any operation of that length as often; no map's p99.99 can be below it on this machine.
inline double spin_p9999_ns(double ns, size_t n, double tpn) {
  std::vector<uint32_t> v;
  v.reserve(n);
  const uint64_t len = uint64_t(ns * tpn);
  for (size_t i = 0; i < n; ++i) {
    const uint64_t c0 = tsc_begin();
    while (__rdtsc() - c0 < len) {
    }
    const uint64_t d = tsc_end() - c0;
    v.push_back(d > 0xffffffffull ? 0xffffffffu : uint32_t(d));
  }
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : double(quantile(v, 0.9999)) / tpn;
}

template <class M> void run_reshard(const Request &rq, const char *name, unsigned caps) {
  if (!(caps & kReshard))
    return;
  const double tpn = tsc_per_ns();
  const uint64_t n = rq.growth; // 4M: the size D grows to
  // --pin: the one timing thread on CPU 0, whose interrupts are then counted per phase
  const int cpu = rq.pin ? 0 : -1;
  if (rq.pin)
    pin_to(cpu);
  auto map = std::make_unique<M>();
  double fill_s = prefill(*map, n);
  std::vector<uint32_t> s = make_stream(0x6e5a4du, rq.stream_len, n, Dist::Uniform, 0, 0.5);
  const size_t base = map->shards();
  const uint64_t cap = 64ull * n; // a reshard that never ends is cut off (and reported)
  PhaseLat steady, up, down;
  size_t pos = 0;
  map->thread_online();
  // Steady state first: n operations on the same map, nothing moving.
  reshard_phase(*map, s, pos, n, [] { return false; }, cpu, "G steady", steady);
  uint64_t c0 = tsc_begin();
  bool ok_up = map->reshard(base * 4);
  const double call_up_ns = double(tsc_end() - c0) / tpn;
  reshard_phase(*map, s, pos, cap, [&] { return !map->resharding(); }, cpu, "G up", up);
  bool done_up = !map->resharding() && map->shards() == base * 4;
  c0 = tsc_begin();
  bool ok_down = map->reshard(base);
  const double call_down_ns = double(tsc_end() - c0) / tpn;
  reshard_phase(*map, s, pos, cap, [&] { return !map->resharding(); }, cpu, "G down", down);
  bool done_down = !map->resharding() && map->shards() == base;
  uint64_t missing = 0;
  for (uint64_t i = 0; i < n; i += rq.smoke ? 1 : 61) {
    uint64_t v = 0;
    missing += !map->get(key_of(i), &v) || v != i + 1;
  }
  map->thread_offline();
  if (!ok_up || !ok_down || !done_up || !done_down)
    fail(name, "G", "reshard %zu -> %zu -> %zu did not complete", base, base * 4, base);
  if (missing || steady.misses || up.misses || down.misses)
    fail(name, "G", "%llu gets missed or saw a wrong value during the reshard",
         (unsigned long long)(missing + steady.misses + up.misses + down.misses));
  const uint32_t ms = uint32_t(1e6 * tpn);
  auto emit = [&](const char *phase, PhaseLat &p, size_t from, size_t to) {
    for (auto *v : {&p.get, &p.put})
      std::sort(v->begin(), v->end());
    Record r("reshard");
    r.s("workload", "G").s("map", name).s("phase", phase).u("entries", n);
    r.u("shards_from", from).u("shards_to", to).u("ops", p.ops).f("wall_s", p.wall_s);
    r.u("gets", p.get.size()).u("puts", p.put.size());
    r.i("preemptions", p.preempted).f("load1", load_average()).f("fill_s", fill_s);
    r.i("minor_faults", p.minor_faults).i("fault_ops", p.fault_ops).i("fault_max", p.fault_max);
    r.u("over_1ms_preempted", p.slow_preempted).u("over_1ms_alone", p.slow_alone);
    r.i("irqs", p.irqs);
    double irq_10k[2] = {-1, -1}, floor_ns[2] = {0, 0};
    for (int k = 0; k < 2; ++k) {
      const std::vector<uint32_t> &v = k ? p.put : p.get;
      std::string pre = k ? "put_" : "get_";
      auto ns = [&](double q) { return v.empty() ? 0.0 : double(quantile(v, q)) / tpn; };
      r.f((pre + "p50_ns").c_str(), ns(0.5)).f((pre + "p99_ns").c_str(), ns(0.99));
      r.f((pre + "p999_ns").c_str(), ns(0.999)).f((pre + "p9999_ns").c_str(), ns(0.9999));
      r.f((pre + "max_ns").c_str(), v.empty() ? 0 : double(v.back()) / tpn);
      r.u((pre + "over_1ms").c_str(),
          uint64_t(v.end() - std::upper_bound(v.begin(), v.end(), ms)));
      // Over 10 us: compared with the machine's interruptions a second (tsmap_bench_tail),
      // says whether a phase's tail is the machine's or the map's.
      r.u((pre + "over_10us").c_str(),
          uint64_t(v.end() - std::upper_bound(v.begin(), v.end(), ms / 100)));
      // Interrupts arrive regardless of the work: the share of these operations one lands
      // in is their rate times the mean operation's time. Above 1 per 10,000, p99.99 is an
      // interrupt's cost (a timer tick: 4 ms apart at HZ=250), not the map's.
      // (the mean of those under 1 ms: a preempted one would count its wait, not its work)
      double sum = 0;
      const auto fast_end = std::upper_bound(v.begin(), v.end(), ms);
      for (auto it = v.begin(); it != fast_end; ++it)
        sum += *it;
      const size_t nfast = size_t(fast_end - v.begin());
      const double mean_ns = nfast ? sum / double(nfast) / tpn : 0;
      if (p.irqs >= 0 && p.wall_s > 0)
        irq_10k[k] = double(p.irqs) / p.wall_s * mean_ns * 1e-9 * 1e4;
      r.f((pre + "mean_ns").c_str(), mean_ns).f((pre + "irq_per_10k").c_str(), irq_10k[k]);
      floor_ns[k] = spin_p9999_ns(mean_ns, v.size(), tpn);
      r.f((pre + "floor_p9999_ns").c_str(), floor_ns[k]);
    }
    r.emit();
    note("%-12s G %-6s %4zu -> %4zu: %llu ops in %.2f s; get p99.99 %.1f us max %.1f us; "
         "put p99.99 %.1f us max %.1f us; %ld minor faults (%ld ops faulted, at most %ld); %ld preemptions; ops over 1 ms: %llu in blocks "
         "with a preemption, %llu without; %ld interrupts (in %.2f of 10k gets, %.2f of 10k "
         "puts); a spin as long as the mean get has p99.99 %.1f us, as the mean put %.1f us",
         name, phase, from, to,
         (unsigned long long)p.ops, p.wall_s,
         p.get.empty() ? 0.0 : double(quantile(p.get, 0.9999)) / tpn / 1e3,
         p.get.empty() ? 0.0 : double(p.get.back()) / tpn / 1e3,
         p.put.empty() ? 0.0 : double(quantile(p.put, 0.9999)) / tpn / 1e3,
         p.put.empty() ? 0.0 : double(p.put.back()) / tpn / 1e3, p.minor_faults, p.fault_ops, p.fault_max, p.preempted,
         (unsigned long long)p.slow_preempted, (unsigned long long)p.slow_alone, p.irqs,
         irq_10k[0], irq_10k[1], floor_ns[0] / 1e3, floor_ns[1] / 1e3);
  };
  emit("steady", steady, base, base);
  emit("up", up, base, base * 4);
  emit("down", down, base * 4, base);
  note("%-12s G reshard calls took %.1f us (up) and %.1f us (down)", name, call_up_ns / 1e3,
       call_down_ns / 1e3);
}

// ---- instructions per operation -------------------------------------------------------

template <class M> void run_instr(const Request &rq, const char *name) {
  auto map = std::make_unique<M>();
  prefill(*map, rq.prefill);
  map->thread_online();
  for (const MixSpec &spec : kMixes) {
    if (!wants_workload(rq, spec.name))
      continue;
    std::vector<uint32_t> s = make_stream(uint64_t(spec.name[0]) * 1000003u, rq.instr_ops,
                                          rq.prefill, spec.dist, 0.99, spec.write_frac);
    uint64_t sink = 0, misses = 0;
    CALLGRIND_START_INSTRUMENTATION;
    CALLGRIND_ZERO_STATS;
    for (size_t i = 0; i < s.size(); ++i) {
      uint32_t e = s[i];
      uint64_t key = key_of(e & kIndexMask);
      if (e & kWriteBit) {
        map->put(key, key ^ i);
      } else {
        uint64_t v;
        if (map->get(key, &v))
          sink += v;
        else
          ++misses;
      }
    }
    CALLGRIND_DUMP_STATS_AT(spec.name);
    CALLGRIND_STOP_INSTRUMENTATION;
    map->quiescent();
    g_sink.fetch_add(sink, std::memory_order_relaxed);
    Record("instr").s("workload", spec.name).s("map", name).u("ops", s.size()).u("misses", misses).emit();
  }
  map->thread_offline();
}

// ---- correctness self-check ------------------------------------------------------------

/// Before any timing: gets return what was put, overwrites are seen, erased keys are
/// gone, compute_if_absent computes only when absent; for a concurrent map also two
/// threads writing disjoint keys while reading shared ones.  Returns the error count (a
/// map with errors is not timed).
template <class M> uint64_t self_check(const Request &rq, const char *name, unsigned caps) {
  if (caps & kStoresNothing)
    return 0;
  constexpr uint64_t kBase = 1ull << 42; // a key range no workload uses
  const uint64_t n = 20000;
  uint64_t bad = 0;
  auto check = [&](bool ok, const char *what, uint64_t i) {
    if (!ok && bad++ < 5)
      fail(name, "self-check", "%s (key number %llu)", what, (unsigned long long)i);
  };
  auto map = std::make_unique<M>();
  M &m = *map;
  m.thread_online();
  uint64_t v;
  for (uint64_t i = 0; i < n; ++i) {
    check(!m.get(key_of(kBase + i), &v), "get found a key never put", i);
    m.put(key_of(kBase + i), i * 3 + 1);
    if ((i & 127) == 127)
      m.quiescent();
  }
  for (uint64_t i = 0; i < n; ++i)
    check(m.get(key_of(kBase + i), &v) && v == i * 3 + 1, "get did not return what was put", i);
  for (uint64_t i = 0; i < n; i += 2)
    m.put(key_of(kBase + i), i * 5 + 2);
  for (uint64_t i = 0; i < n; ++i)
    check(m.get(key_of(kBase + i), &v) && v == (i % 2 ? i * 3 + 1 : i * 5 + 2),
          "get did not return the overwritten value", i);
  for (uint64_t i = 0; i < n; i += 4) {
    check(m.erase(key_of(kBase + i)), "erase of a present key returned false", i);
    check(!m.erase(key_of(kBase + i)), "second erase returned true", i);
    check(!m.get(key_of(kBase + i), &v), "get found an erased key", i);
  }
  m.quiescent();
  uint64_t calls = 0;
  auto make = [&](uint64_t k) {
    ++calls;
    return k ^ 0x5555;
  };
  for (uint64_t i = 0; i < 64; ++i) {
    uint64_t k = key_of(kBase + i * 4); // erased above: absent
    check(m.compute_if_absent(k, make) == (k ^ 0x5555), "compute_if_absent on an absent key", i);
    check(m.compute_if_absent(k, make) == (k ^ 0x5555), "compute_if_absent after computing", i);
    uint64_t p = key_of(kBase + i * 4 + 1); // present: i*3+1 style value
    check(m.compute_if_absent(p, make) == (i * 4 + 1) * 3 + 1,
          "compute_if_absent on a present key did not return its value", i);
  }
  check(calls == 64, "compute_if_absent ran its callback other than once per absent key", calls);
  m.thread_offline();
  if (caps & kConcurrent) {
    // Two threads: each puts its own keys and gets them back, and reads the shared ones.
    const int t = 2;
    const uint64_t per = 20000;
    std::vector<Tally> tally(t);
    run_team(
        t, 0,
        [&](int tid, Gate &g) {
          m.thread_online();
          g.arrive_and_wait();
          uint64_t errs = 0, w;
          const uint64_t base = kBase + (uint64_t(tid) + 1) * (1ull << 30);
          for (uint64_t i = 0; i < per; ++i) {
            m.put(key_of(base + i), i + 7);
            if (!m.get(key_of(base + i), &w) || w != i + 7)
              ++errs;
            uint64_t s = (i * 7) % n;
            if (s % 4 && (!m.get(key_of(kBase + s), &w) ||
                          w != (s % 2 ? s * 3 + 1 : s * 5 + 2)))
              ++errs;
            if ((i & 127) == 127)
              m.quiescent();
          }
          m.thread_offline();
          tally[size_t(tid)].bad = errs;
        },
        rq.pin);
    m.thread_online();
    for (int tid = 0; tid < t; ++tid) {
      check(tally[size_t(tid)].bad == 0, "concurrent put/get returned wrong values", tally[size_t(tid)].bad);
      const uint64_t base = kBase + (uint64_t(tid) + 1) * (1ull << 30);
      for (uint64_t i = 0; i < per; ++i)
        check(m.get(key_of(base + i), &v) && v == i + 7, "a concurrently put key is missing", i);
    }
    m.thread_offline();
  }
  map.reset();
  Record("selfcheck").s("map", name).i("ok", bad == 0).u("errors", bad).emit();
  return bad;
}

/// The self-check an adapter registers.
template <class M> uint64_t check_map(const Request &rq) {
  return self_check<M>(rq, M::kName, M::kCaps);
}

/// Entry point an adapter registers: runs what rq.mode asks for.
template <class M> void run_map(const Request &rq) {
  const char *name = M::kName;
  const unsigned caps = M::kCaps;
  if (wants(rq, "mix"))
    run_mix<M>(rq, name, caps);
  if (wants(rq, "growth"))
    run_growth<M>(rq, name, caps);
  if (wants(rq, "cia"))
    run_cia<M>(rq, name, caps);
  if (wants(rq, "growread"))
    run_growread<M>(rq, name, caps);
  if (wants(rq, "reshard"))
    run_reshard<M>(rq, name, caps);
  if (rq.mode == "memory-child")
    run_memory<M>(rq, name);
  if (rq.mode == "instr")
    run_instr<M>(rq, name);
}

} // namespace tsmap_bench

/// Registers adapter class @p Adapter; one line at the end of its file.
#define TSMAP_BENCH_REGISTER(Adapter)                                                    \
  [[maybe_unused]] static const bool tsmap_bench_registered_##Adapter =    \
      ::tsmap_bench::register_map(      \
      {Adapter::kName, Adapter::kDesc, Adapter::kCaps, &::tsmap_bench::run_map<Adapter>,     \
       &::tsmap_bench::check_map<Adapter>})

#endif
