// bench/runtime/src/harness.cpp - command line, registry, output, and process spawning.
#include "workloads.h"

#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdarg>
#include <cstdlib>
#include <map>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace tsmap_bench {

std::atomic<uint64_t> g_sink{0};

const MixSpec kMixes[3] = {
    {"A", Dist::Uniform, 0.05},
    {"B", Dist::Zipfian, 0.05},
    {"C", Dist::Uniform, 0.50},
};

// ---- registry -------------------------------------------------------------------------

static std::vector<MapInfo> &registry() {
  static std::vector<MapInfo> maps;
  return maps;
}

bool register_map(const MapInfo &info) {
  registry().push_back(info);
  return true;
}

// ---- output ---------------------------------------------------------------------------

static FILE *g_out = stdout;
static int g_failures = 0;

static std::string json_escape(const std::string &v) {
  std::string o;
  for (char c : v) {
    if (c == '"' || c == '\\')
      o += '\\';
    if (static_cast<unsigned char>(c) < 0x20)
      continue;
    o += c;
  }
  return o;
}

Record::Record(const char *kind) { body_ = "{\"kind\":\"" + json_escape(kind) + "\""; }
Record &Record::s(const char *k, const std::string &v) {
  body_ += ",\"" + std::string(k) + "\":\"" + json_escape(v) + "\"";
  return *this;
}
Record &Record::i(const char *k, long long v) {
  body_ += ",\"" + std::string(k) + "\":" + std::to_string(v);
  return *this;
}
Record &Record::u(const char *k, uint64_t v) {
  body_ += ",\"" + std::string(k) + "\":" + std::to_string(v);
  return *this;
}
Record &Record::f(const char *k, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", std::isfinite(v) ? v : 0.0);
  body_ += ",\"" + std::string(k) + "\":" + buf;
  return *this;
}
void Record::emit() {
  std::fprintf(g_out, "%s}\n", body_.c_str());
  std::fflush(g_out);
}

void note(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fputc('\n', stderr);
}

void fail(const char *map, const char *what, const char *fmt, ...) {
  ++g_failures;
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  std::fprintf(stderr, "FAIL %s %s: %s\n", map, what, msg);
  Record("failure").s("map", map).s("workload", what).s("message", msg).emit();
}

// ---- helpers the drivers share --------------------------------------------------------

bool wants(const Request &rq, const char *mode) {
  return rq.mode == mode ||
         (rq.mode == "all" && std::string(mode) != "instr" && std::string(mode) != "reshard");
}

bool wants_workload(const Request &rq, const char *w) {
  if (rq.workloads.empty())
    return true;
  for (auto &x : rq.workloads)
    if (x == w)
      return true;
  return false;
}

std::vector<int> thread_counts(const Request &rq, bool concurrent) {
  std::vector<int> out;
  if (rq.threads.empty())
    for (int t = 1; t <= nproc(); ++t)
      out.push_back(t);
  else
    out = rq.threads;
  if (!concurrent) {
    std::vector<int> one;
    for (int t : out)
      if (t == 1)
        one.push_back(1);
    return one.empty() ? std::vector<int>{1} : one;
  }
  return out;
}

void emit_window(Record &r, const Window &w, uint64_t ops, int threads) {
  double mops = w.wall_s > 0 ? double(ops) / w.wall_s / 1e6 : 0;
  r.u("ops", ops).f("wall_s", w.wall_s).f("mops", mops);
  r.f("ns_per_op_thread", ops ? w.wall_s * 1e9 * threads / double(ops) : 0);
  r.f("cpu", w.cpu_frac).f("cpu_min", w.cpu_min).f("proc_cpu", w.proc_frac);
  r.f("cpu_ns_per_op", ops ? w.cpu_s * 1e9 / double(ops) : 0);
  r.f("steal", w.steal_frac).f("load1", w.load1);
}

std::string latency_curve(const std::vector<uint32_t> &sorted, double ticks_per_ns) {
  // Quantiles on a grid that is linear in log10(1/(1-q)): 0 .. 7 in steps of 0.1,
  // then the maximum.  Each point is "q:ns".
  std::string out;
  char buf[64];
  const double n = double(sorted.size());
  for (int k = 0; k <= 70; ++k) {
    double tail = std::pow(10.0, -k / 10.0);
    if (tail * n < 1)
      break;
    double q = 1 - tail;
    std::snprintf(buf, sizeof buf, "%s%.9g:%.1f", out.empty() ? "" : ";", q,
                  double(quantile(sorted, q)) / ticks_per_ns);
    out += buf;
  }
  if (!sorted.empty()) {
    std::snprintf(buf, sizeof buf, ";1:%.1f", double(sorted.back()) / ticks_per_ns);
    out += buf;
  }
  return out;
}

// ---- E: one fresh process per map -----------------------------------------------------

static int spawn_memory_child(const Request &rq, const MapInfo &m) {
  std::vector<std::string> args = {rq.self, "--mode", "memory-child", "--maps", m.name,
                                   "--memory-n", std::to_string(rq.memory_n)};
  if (!rq.out.empty()) {
    args.push_back("--out");
    args.push_back(rq.out);
  }
  if (rq.smoke)
    args.push_back("--smoke-checks");
  std::vector<char *> argv;
  for (auto &a : args)
    argv.push_back(const_cast<char *>(a.c_str()));
  argv.push_back(nullptr);
  std::fflush(g_out);
  pid_t pid;
  int rc = posix_spawn(&pid, rq.self.c_str(), nullptr, nullptr, argv.data(), environ);
  if (rc != 0) {
    fail(m.name, "E", "cannot spawn %s: %s", rq.self.c_str(), std::strerror(rc));
    return 1;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fail(m.name, "E", "memory child exited with status %d", status);
    return 1;
  }
  return 0;
}

// ---- command line ---------------------------------------------------------------------

static void usage() {
  std::fprintf(stderr,
      "usage: tsmap_bench_runtime [options]\n"
      "  --mode all|mix|growth|memory|cia|growread|instr|reshard\n"
      "                        (default all: every mode but instr and reshard)\n"
      "  --maps a,b,...        maps to run (default: all registered)   --list   print them\n"
      "  --workloads A,B,C     mix/instr workloads          --threads 1,2,...  (default 1..nproc)\n"
      "  --prefill N --growth N --memory-n N --hot N --cia-work N --instr-ops N --stream-len N\n"
      "  --seconds S --growread-cap S --reps N --growth-reps N --growth-cap S\n"
      "  --pin                 pin thread i to CPU i (default: not pinned)\n"
      "  --lossy               the map may drop entries (TSMAP_BENCH_MAX_ENTRIES below the\n"
      "                        prefill): no self-check, gets that miss are not failures\n"
      "  --out FILE            JSON lines, appended (default stdout)\n"
      "  --smoke               tiny sizes, every result verified; non-zero exit on a failure\n");
}

static std::vector<std::string> split(const std::string &s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find(',', i);
    if (j == std::string::npos)
      j = s.size();
    if (j > i)
      out.push_back(s.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

static uint64_t to_u64(const char *s) { return std::strtoull(s, nullptr, 10); }

static bool parse(int argc, char **argv, Request &rq, bool &list) {
  bool smoke = false;
  std::map<std::string, std::string> opt;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--list") {
      list = true;
    } else if (a == "--smoke") {
      smoke = true;
    } else if (a == "--smoke-checks") {
      rq.smoke = true;
    } else if (a == "--no-pin") {
      rq.pin = false;
    } else if (a == "--pin") {
      rq.pin = true;
    } else if (a == "--lossy") {
      rq.lossy = true;
    } else if (a.rfind("--", 0) == 0 && i + 1 < argc) {
      opt[a.substr(2)] = argv[++i];
    } else {
      std::fprintf(stderr, "unknown argument '%s'\n", a.c_str());
      return false;
    }
  }
  if (smoke) { // set first so that explicit options still win
    rq.smoke = true;
    rq.prefill = 20000;
    rq.growth = 30000;
    rq.memory_n = 30000;
    rq.growth_cap = 20;
    rq.hot = 64;
    rq.instr_ops = 20000;
    rq.stream_len = 1u << 14;
    rq.seconds = 0.05;
    rq.growread_cap = 0.3;
    rq.reps = 1;
    rq.growth_reps = 1;
    rq.threads = {1, 2};
  }
  for (auto &[k, v] : opt) {
    const char *c = v.c_str();
    if (k == "mode") rq.mode = v;
    else if (k == "maps") rq.maps = split(v);
    else if (k == "workloads") rq.workloads = split(v);
    else if (k == "threads") {
      rq.threads.clear();
      for (auto &t : split(v))
        rq.threads.push_back(std::atoi(t.c_str()));
    }
    else if (k == "prefill") rq.prefill = to_u64(c);
    else if (k == "growth") rq.growth = to_u64(c);
    else if (k == "memory-n") rq.memory_n = to_u64(c);
    else if (k == "hot") rq.hot = to_u64(c);
    else if (k == "cia-work") rq.cia_work = to_u64(c);
    else if (k == "instr-ops") rq.instr_ops = to_u64(c);
    else if (k == "stream-len") rq.stream_len = to_u64(c);
    else if (k == "seconds") rq.seconds = std::atof(c);
    else if (k == "growread-cap") rq.growread_cap = std::atof(c);
    else if (k == "reps") rq.reps = std::atoi(c);
    else if (k == "growth-reps") rq.growth_reps = std::atoi(c);
    else if (k == "growth-cap") rq.growth_cap = std::atof(c);
    else if (k == "out") rq.out = v;
    else {
      std::fprintf(stderr, "unknown option '--%s'\n", k.c_str());
      return false;
    }
  }
  if (rq.stream_len == 0 || (rq.stream_len & (rq.stream_len - 1)) != 0) {
    std::fprintf(stderr, "--stream-len must be a power of two\n");
    return false;
  }
  if (rq.prefill == 0 || rq.prefill > kIndexMask || rq.growth < rq.prefill ||
      rq.hot == 0 || rq.hot > kIndexMask || rq.reps < 1 || rq.growth_reps < 1) {
    std::fprintf(stderr, "sizes out of range\n");
    return false;
  }
  for (int t : rq.threads)
    if (t < 1) {
      std::fprintf(stderr, "thread counts must be positive\n");
      return false;
    }
  return true;
}

static std::string self_path(const char *argv0) {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) {
    buf[n] = 0;
    return buf;
  }
  return argv0;
}

static int run(Request &rq) {
  std::vector<const MapInfo *> chosen;
  for (auto &m : registry()) {
    bool named = false;
    for (auto &n : rq.maps)
      named |= n == m.name;
    if (rq.maps.empty() ? !(m.caps & kHidden) : named)
      chosen.push_back(&m);
  }
  for (auto &n : rq.maps) {
    bool known = false;
    for (auto &m : registry())
      known |= n == m.name;
    if (!known) {
      std::fprintf(stderr, "unknown map '%s' (see --list)\n", n.c_str());
      return 2;
    }
  }
  const bool child = rq.mode == "memory-child";
  if (!child)
    Record("run")
      .s("mode", rq.mode)
      .i("nproc", nproc())
      .f("tsc_per_ns", tsc_per_ns())
      .u("prefill", rq.prefill)
      .u("growth", rq.growth)
      .u("memory_n", rq.memory_n)
      .u("hot", rq.hot)
      .u("cia_work", rq.cia_work)
      .u("stream_len", rq.stream_len)
      .f("growread_cap", rq.growread_cap)
      .f("growth_cap", rq.growth_cap)
      .i("growth_reps", rq.growth_reps)
      .i("pinned", rq.pin)
      .f("load1", load_average())
      .f("seconds", rq.seconds)
      .i("reps", rq.reps)
      .i("smoke", rq.smoke)
      .i("lossy", rq.lossy)
      .emit();
  for (const MapInfo *m : chosen) {
    if (!child) {
      Record("map").s("map", m->name).s("desc", m->desc).i("concurrent", !!(m->caps & kConcurrent)).emit();
      // Every adapter proves gets return what was put before anything is timed (not a map
      // configured to drop entries: --lossy).
      if (!rq.lossy && m->check(rq) != 0) {
        note("%-12s failed its self-check: not measured", m->name);
        continue;
      }
    }
    if (rq.mode == "memory" || rq.mode == "all")
      spawn_memory_child(rq, *m);
    if (rq.mode != "memory")
      m->run(rq);
  }
  std::fprintf(stderr, "sink %" PRIu64 ", %d failure(s)\n", g_sink.load() & 0xff, g_failures);
  return g_failures ? 1 : 0;
}

} // namespace tsmap_bench

int main(int argc, char **argv) {
  using namespace tsmap_bench;
  Request rq;
  bool list = false;
  if (!parse(argc, argv, rq, list)) {
    usage();
    return 2;
  }
  if (list) {
    for (auto &m : registry())
      std::printf("%-14s %s%s\n", m.name, m.desc, (m.caps & kHidden) ? " (hidden)" : "");
    return 0;
  }
  rq.self = self_path(argv[0]);
  if (!rq.out.empty()) {
    g_out = std::fopen(rq.out.c_str(), "a");
    if (!g_out) {
      std::perror(rq.out.c_str());
      return 2;
    }
  }
  int rc = run(rq);
  if (g_out != stdout)
    std::fclose(g_out);
  return rc;
}
