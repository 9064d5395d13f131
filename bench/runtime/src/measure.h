// bench/runtime/src/measure.h - clocks, CPU accounting and the thread team.
#ifndef TSMAP_BENCH_MEASURE_H
#define TSMAP_BENCH_MEASURE_H

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include <x86intrin.h>

namespace tsmap_bench {

/// Cycle counter read that later loads cannot overtake.
inline uint64_t tsc_begin() {
  _mm_lfence();
  uint64_t t = __rdtsc();
  _mm_lfence();
  return t;
}
/// Cycle counter read after all earlier work has retired.
inline uint64_t tsc_end() {
  unsigned aux;
  uint64_t t = __rdtscp(&aux);
  _mm_lfence();
  return t;
}
/// TSC ticks per nanosecond, calibrated once against CLOCK_MONOTONIC.
double tsc_per_ns();

double now_s();
int nproc();

/// What a timed window got from the machine.
struct Snapshot {
  double wall = 0;   ///< seconds, CLOCK_MONOTONIC
  double cpu = 0;    ///< user+system seconds of this process (getrusage)
  uint64_t steal = 0, total = 0; ///< /proc/stat jiffies, all CPUs
};
Snapshot snapshot();

struct Window {
  double wall_s = 0;
  double cpu_s = 0;      ///< CPU seconds the team's threads obtained (CLOCK_THREAD_CPUTIME_ID)
  double cpu_frac = 0;   ///< cpu_s / (wall * threads): below 1, threads slept or were preempted
  double cpu_min = 0;    ///< the least any one thread obtained, as a fraction of wall
  double proc_frac = 0;  ///< the whole process (getrusage) over wall * threads
  double steal_frac = 0; ///< steal jiffies / all jiffies over the window, machine-wide
  double load1 = 0;      ///< 1-minute load average at the window's end (/proc/loadavg)
};
Window window_between(const Snapshot &a, const Snapshot &b, int threads);

/// Start/stop signal shared by a team of threads.
class Gate {
public:
  /// Called by a worker once it is ready; returns when the window opens.
  void arrive_and_wait();
  bool stopped() const { return stop_.load(std::memory_order_relaxed); }
  void stop() { stop_.store(true, std::memory_order_relaxed); }

private:
  friend Window run_team(int, double, const std::function<void(int, Gate &)> &, bool);
  std::atomic<int> ready_{0};
  std::atomic<bool> go_{false}, stop_{false};
};

/// CPU seconds the calling thread has used (CLOCK_THREAD_CPUTIME_ID).
double thread_cpu_s();
/// Involuntary context switches of the calling thread so far (getrusage RUSAGE_THREAD):
/// each is a moment the scheduler took the CPU away, which a latency figure then includes.
long thread_preemptions();
/// Minor page faults of the calling thread so far (getrusage RUSAGE_THREAD; 0 if refused).
long thread_minor_faults();
/// The 1-minute load average (/proc/loadavg), or -1.
double load_average();
/// Pins the calling thread to CPU @p cpu % nproc().
void pin_to(int cpu);
/// Interrupts CPU @p cpu has taken so far, all kinds summed (/proc/interrupts), or -1.
long cpu_interrupts(int cpu);

/// Runs body(tid, gate) on @p n threads (pinned when @p pin).  Each thread's CPU time is
/// counted from the moment the window opens (in arrive_and_wait) until its body returns.  The window opens when all
/// have called gate.arrive_and_wait(); it closes after @p seconds (gate.stopped() turns
/// true) or, when seconds <= 0, when every body has returned.
Window run_team(int n, double seconds, const std::function<void(int, Gate &)> &body,
                bool pin);

/// Exact quantile of sorted samples (nearest rank).
uint64_t quantile(const std::vector<uint32_t> &sorted, double q);

/// Resident set size of this process, bytes (/proc/self/statm).
uint64_t rss_bytes();
/// Bytes the allocator hands out (mallinfo2: in-use arena + mmapped chunks).
uint64_t heap_bytes();

} // namespace tsmap_bench

#endif
