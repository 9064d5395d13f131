// bench/runtime/src/measure.cpp - clocks, CPU accounting and the thread team.
#include "measure.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

namespace tsmap_bench {

double now_s() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

int nproc() {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? int(n) : 1;
}

double tsc_per_ns() {
  static const double ratio = [] {
    // Two 20 ms spans; the shorter-looking one is less likely to have been preempted.
    double best = 0;
    for (int i = 0; i < 2; ++i) {
      double t0 = now_s();
      uint64_t c0 = tsc_begin();
      while (now_s() - t0 < 0.02) {
      }
      uint64_t c1 = tsc_end();
      double t1 = now_s();
      double r = double(c1 - c0) / ((t1 - t0) * 1e9);
      if (best == 0 || r < best)
        best = r;
    }
    return best;
  }();
  return ratio;
}

static void read_steal(uint64_t *steal, uint64_t *total) {
  *steal = *total = 0;
  FILE *f = std::fopen("/proc/stat", "r");
  if (!f)
    return;
  unsigned long long v[10] = {0};
  if (std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
                  &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) >= 8) {
    for (int i = 0; i < 8; ++i) // guest time is already inside user time
      *total += v[i];
    *steal = v[7];
  }
  std::fclose(f);
}

Snapshot snapshot() {
  Snapshot s;
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  s.cpu = double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
          double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
  read_steal(&s.steal, &s.total);
  s.wall = now_s();
  return s;
}

Window window_between(const Snapshot &a, const Snapshot &b, int threads) {
  Window w;
  w.wall_s = b.wall - a.wall;
  if (w.wall_s > 0 && threads > 0)
    w.proc_frac = w.cpu_frac = (b.cpu - a.cpu) / (w.wall_s * threads);
  w.load1 = load_average();
  if (b.total > a.total)
    w.steal_frac = double(b.steal - a.steal) / double(b.total - a.total);
  return w;
}

double thread_cpu_s() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

long thread_preemptions() {
  rusage ru;
  if (getrusage(RUSAGE_THREAD, &ru) != 0)
    return 0;
  return ru.ru_nivcsw;
}

long thread_minor_faults() {
  rusage ru;
  if (getrusage(RUSAGE_THREAD, &ru) != 0)
    return 0;
  return ru.ru_minflt;
}

double load_average() {
  FILE *f = std::fopen("/proc/loadavg", "r");
  if (!f)
    return -1;
  double l = -1;
  if (std::fscanf(f, "%lf", &l) != 1)
    l = -1;
  std::fclose(f);
  return l;
}

/// CPU clock of this thread when its window opened.
static thread_local double t_cpu_at_go = -1;

void Gate::arrive_and_wait() {
  ready_.fetch_add(1, std::memory_order_acq_rel);
  // Spin briefly, then yield: on a busy 2-core machine a pure spin would take the CPU
  // from the thread that has to open the gate.
  for (unsigned i = 0; !go_.load(std::memory_order_acquire); ++i) {
    if (i < 1000)
      _mm_pause();
    else
      sched_yield();
  }
  t_cpu_at_go = thread_cpu_s();
}

void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu % nproc(), &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

long cpu_interrupts(int cpu) {
  FILE *f = cpu >= 0 ? std::fopen("/proc/interrupts", "r") : nullptr;
  if (!f)
    return -1;
  char line[8192];
  long sum = 0;
  if (!std::fgets(line, sizeof line, f)) // the header: CPU0 CPU1 ...
    sum = -1;
  while (sum >= 0 && std::fgets(line, sizeof line, f)) {
    char *p = std::strchr(line, ':');
    if (!p)
      continue;
    ++p;
    for (int c = 0; c <= cpu; ++c) { // a line's counts, one per CPU (ERR and MIS: fewer)
      char *end;
      long v = std::strtol(p, &end, 10);
      if (end == p)
        break;
      p = end;
      if (c == cpu)
        sum += v;
    }
  }
  std::fclose(f);
  return sum;
}

Window run_team(int n, double seconds, const std::function<void(int, Gate &)> &body,
                bool pin) {
  Gate gate;
  std::vector<std::thread> team;
  std::vector<double> cpu(size_t(n), 0.0);
  team.reserve(size_t(n));
  for (int t = 0; t < n; ++t)
    team.emplace_back([&, t] {
      if (pin)
        pin_to(t);
      t_cpu_at_go = -1;
      body(t, gate);
      if (t_cpu_at_go >= 0)
        cpu[size_t(t)] = thread_cpu_s() - t_cpu_at_go;
    });
  while (gate.ready_.load(std::memory_order_acquire) < n)
    std::this_thread::yield();
  Snapshot a = snapshot();
  gate.go_.store(true, std::memory_order_release);
  if (seconds > 0) {
    timespec ts;
    ts.tv_sec = time_t(seconds);
    ts.tv_nsec = long((seconds - double(ts.tv_sec)) * 1e9);
    while (nanosleep(&ts, &ts) != 0) {
    }
    gate.stop();
  }
  for (auto &th : team)
    th.join();
  Snapshot b = snapshot();
  Window w = window_between(a, b, n);
  if (w.wall_s > 0) {
    double sum = 0, least = -1;
    for (double c : cpu) {
      sum += c;
      least = least < 0 || c < least ? c : least;
    }
    w.cpu_s = sum;
    w.cpu_frac = sum / (w.wall_s * n);
    w.cpu_min = least / w.wall_s;
  }
  return w;
}

uint64_t quantile(const std::vector<uint32_t> &sorted, double q) {
  if (sorted.empty())
    return 0;
  double rank = std::ceil(q * double(sorted.size()));
  size_t i = rank < 1 ? 0 : size_t(rank) - 1;
  if (i >= sorted.size())
    i = sorted.size() - 1;
  return sorted[i];
}

uint64_t rss_bytes() {
  FILE *f = std::fopen("/proc/self/statm", "r");
  if (!f)
    return 0;
  unsigned long size = 0, resident = 0;
  int got = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return got == 2 ? uint64_t(resident) * uint64_t(sysconf(_SC_PAGESIZE)) : 0;
}

uint64_t heap_bytes() {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 mi = mallinfo2();
  return uint64_t(mi.uordblks) + uint64_t(mi.hblkhd);
#else
  return 0;
#endif
}

} // namespace tsmap_bench
