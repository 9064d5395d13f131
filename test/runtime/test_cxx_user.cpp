// test_cxx_user.cpp - black-box round 18: what a C++ user of libtsmap meets, from tsmap.h
// and runtime/DESIGN.md alone. Built by cxx_user.sh with clang++ and g++, -std=c++17 and
// c++20, -Wall -Wextra -Wpedantic -Werror (and -Wold-style-cast, which C++ code often
// adds), and linked against the C library:
//   - the header compiles as C++ and its functions link with C linkage;
//   - tsmap_config initialised the C++ way (`tsmap_config c{}`, C++20 designated
//     initialisers) is what tsmap_config_init makes ("zero config, set value_size");
//   - captureless lambdas, noexcept ones included, are every callback type, and a map of
//     `Session *` whose eviction hook deletes owns its objects: none leaks, none is
//     deleted twice;
//   - callbacks must not throw through the library (tsmap.h, "Callbacks must
//     return"): a callback that catches its own exception and reports failure leaves
//     the map as the contract says, and a noexcept lambda that throws ends the process
//     (std::terminate) instead of unwinding through it.
// Prints "N passed, M failed"; exits non-zero on a failure.
#include <tsmap/tsmap.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

namespace {

int passed, failed;

void check(bool ok, const char *what, int line) {
  if (ok) {
    ++passed;
    return;
  }
  ++failed;
  std::fprintf(stderr, "test_cxx_user.cpp:%d: FAILED: %s\n", line, what);
}
#define CHECK(x) check((x), #x, __LINE__)

// ---- Compile time: what the types are to C++ ------------------------------------------

// A C struct of plain members: aggregate initialisation, memcpy and std::is_trivial
// algorithms all apply.
static_assert(std::is_aggregate<tsmap_config>::value, "tsmap_config is an aggregate");
static_assert(std::is_trivially_copyable<tsmap_config>::value, "trivially copyable");
static_assert(std::is_standard_layout<tsmap_config>::value, "standard layout");
static_assert(std::is_aggregate<tsmap_allocator>::value, "tsmap_allocator is an aggregate");
static_assert(std::is_aggregate<tsmap_change>::value, "tsmap_change is an aggregate");
static_assert(std::is_trivial<tsmap_config>::value && std::is_trivial<tsmap_change>::value &&
                  std::is_trivial<tsmap_allocator>::value,
              "trivial: memset and memcpy apply without -Wclass-memaccess");

// The library's functions are noexcept to C++ (round 19): callable from noexcept code,
// and noexcept(...) says so (unevaluated: nothing is called).
static_assert(noexcept(tsmap_get(nullptr, nullptr, 0, nullptr)), "tsmap_get is noexcept");
static_assert(noexcept(tsmap_put(nullptr, nullptr, 0, nullptr, nullptr)), "tsmap_put");
static_assert(noexcept(tsmap_config_init(nullptr, 0)), "tsmap_config_init");
static_assert(noexcept(tsmap_status_name(TSMAP_OK)), "tsmap_status_name");
static_assert(noexcept(tsmap_resolve_latest(nullptr, 0, nullptr, nullptr, nullptr, nullptr)),
              "tsmap_resolve_latest");
static_assert(noexcept(tsmap_metrics_write_all(nullptr, nullptr)), "tsmap_metrics_write_all");
// ...and still convert to the plain function pointers of the callback types
static_assert(std::is_convertible<decltype(&tsmap_resolve_latest), tsmap_resolve_fn>::value,
              "tsmap_resolve_latest is a resolver");

// A captureless lambda converts to every callback type, noexcept or not (C++17 made
// noexcept part of a function type; a noexcept function converts to a plain pointer).
[[maybe_unused]] auto evict_noexcept = [](const void *, size_t, void *, tsmap_evict_reason,
                                           void *) noexcept {};
static_assert(std::is_convertible<decltype(evict_noexcept), tsmap_evicted_hook>::value, "");
// The calls convert to plain function pointers (noexcept since round 19: a pointer of
// decltype(&tsmap_get) no longer takes a plain function, such as a test double, in C++17).
static_assert(std::is_convertible<decltype(&tsmap_get),
                                  tsmap_status (*)(tsmap *, const void *, size_t, void *)>::value,
              "the calls convert to plain function pointers");

// The header's constants, as C++ code built with -Wold-style-cast uses them (cxx_user.sh
// builds with it): the same values and types as the C header's.
static_assert(std::is_same<decltype(TSMAP_TTL_NEVER), uint64_t>::value && TSMAP_TTL_NEVER == 0,
              "");
static_assert(std::is_same<decltype(TSMAP_TTL_DEFAULT), uint64_t>::value &&
                  TSMAP_TTL_DEFAULT == UINT64_MAX, "");
static_assert(std::is_same<decltype(TSMAP_VERSION_ANY), uint64_t>::value &&
                  TSMAP_VERSION_ANY == UINT64_MAX && TSMAP_VERSION_ABSENT == 0, "");
static_assert(std::is_same<decltype(TSMAP_CLOCK_LIMIT), uint64_t>::value &&
                  TSMAP_CLOCK_LIMIT == 36028797018963968ull &&
                  TSMAP_CLOCK_HEADROOM == 4294967296ull, "");
static_assert(std::is_same<decltype(TSMAP_MAX_KEY_SIZE), size_t>::value &&
                  TSMAP_MAX_KEY_SIZE == 1073741824u, "");

// ---- A C++ value type the map owns through its hook -----------------------------------

std::atomic<long> sessions_live{0};
struct Session {
  std::string user;
  int hits = 0;
  explicit Session(std::string u) : user(std::move(u)) { ++sessions_live; }
  ~Session() { --sessions_live; }
  Session(const Session &) = delete;
  Session &operator=(const Session &) = delete;
};

struct Counts {
  std::atomic<long> created{0}, evicted[6]{}, closed{0};
};

// An allocator of aligned C++ storage (16 bytes, as tsmap_allocator asks), counted.
struct Heap {
  std::atomic<long> live{0};
};

tsmap_config session_config(Counts *counts, const tsmap_allocator *al) {
  tsmap_config c{};  // zeroed, as tsmap_config_init would
  c.value_size = sizeof(Session *);
  c.shard_count = 4;
  c.on_entry_created = [](const void *, size_t, const void *, void *ctx) noexcept {
    ++static_cast<Counts *>(ctx)->created;
  };
  c.on_entry_evicted = [](const void *, size_t, void *value, tsmap_evict_reason why,
                          void *ctx) noexcept {
    delete *static_cast<Session **>(value);  // the value is the hook's now
    ++static_cast<Counts *>(ctx)->evicted[why];
  };
  c.on_map_closed = [](void *ctx) noexcept { ++static_cast<Counts *>(ctx)->closed; };
  c.hook_ctx = counts;
  c.allocator = al;
  return c;
}

// ---- Tests ------------------------------------------------------------------------------

// `tsmap_config c{}` and C++20's designated initialisers give what tsmap_config_init
// gives: the same map (default shard count, behaviour).
void config_the_cxx_way() {
  tsmap_config from_init;
  std::memset(&from_init, 0xab, sizeof from_init);
  CHECK(tsmap_config_init(&from_init, 8) == TSMAP_OK);
  tsmap_config braces{};
  braces.value_size = 8;
  CHECK(braces.value_size == from_init.value_size && braces.shard_count == from_init.shard_count &&
        braces.key_size == from_init.key_size && braces.allocator == from_init.allocator &&
        braces.name == from_init.name && braces.max_shard_count == from_init.max_shard_count &&
        braces.on_entry_evicted == from_init.on_entry_evicted);
  tsmap *a = nullptr, *b = nullptr;
  CHECK(tsmap_create(&from_init, &a) == TSMAP_OK);
  CHECK(tsmap_create(&braces, &b) == TSMAP_OK);
  size_t na = 0, nb = 0;
  CHECK(tsmap_shard_counts(a, &na, nullptr) == TSMAP_OK);
  CHECK(tsmap_shard_counts(b, &nb, nullptr) == TSMAP_OK);
  CHECK(na == nb && na > 0);
  tsmap_destroy(a);
  tsmap_destroy(b);
#if __cplusplus >= 202002L
  // Designated initialisers, in declaration order; the rest is zero. Both compilers warn
  // under -Wextra for every member left out (-Wmissing-field-initializers; clang 19:
  // -Wmissing-designated-field-initializers), as tsmap.h says: the form is correct, the
  // warning is the project's choice, silenced here for the one statement. (Default member
  // initialisers in the header would silence it, and make the struct non-trivial: g++'s
  // -Wall then rejects the memset above, -Wclass-memaccess; round 19 left them out.)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
  tsmap_config d{.value_size = 8, .key_size = 8, .shard_count = 2, .name = "cxx20"};
#pragma GCC diagnostic pop
  tsmap *m = nullptr;
  CHECK(tsmap_create(&d, &m) == TSMAP_OK);
  uint64_t k = 7, v = 49, out = 0;
  CHECK(tsmap_put(m, &k, sizeof k, &v, nullptr) == TSMAP_OK);
  CHECK(tsmap_get(m, &k, sizeof k, &out) == TSMAP_OK && out == 49);
  size_t shards = 0;
  CHECK(tsmap_shard_counts(m, &shards, nullptr) == TSMAP_OK && shards == 2);
  std::string text;
  CHECK(tsmap_metrics_write(
            m,
            [](const char *t, size_t n, void *ctx) noexcept -> int {
              static_cast<std::string *>(ctx)->append(t, n);
              return 0;
            },
            &text) == TSMAP_OK);
  CHECK(text.find("tsmap_entries{map=\"cxx20\"} 1\n") != std::string::npos);
  tsmap_destroy(m);
#endif
}

// A map of Session pointers: put_ptr, get, compute_if_absent, compute, remove with an
// out-parameter, foreach, hash and equality and an allocator, all lambdas. Every Session
// is deleted exactly once, by the hook or by the caller who received it.
void sessions_owned_by_the_map() {
  Counts counts;
  Heap heap;
  tsmap_allocator al{
      [](size_t size, void *ctx) noexcept -> void * {
        void *p = ::operator new(size, std::align_val_t{16}, std::nothrow);
        if (p)
          static_cast<Heap *>(ctx)->live += static_cast<long>(size);
        return p;
      },
      [](void *p, size_t size, void *ctx) noexcept {
        static_cast<Heap *>(ctx)->live -= static_cast<long>(size);
        ::operator delete(p, std::align_val_t{16});
      },
      &heap};
  tsmap_config c = session_config(&counts, &al);
  c.hash = [](const void *key, size_t len, uint64_t seed, void *) noexcept -> uint64_t {
    uint64_t h = 1469598103934665603ull ^ seed;  // FNV-1a, seeded
    for (size_t i = 0; i < len; i++)
      h = (h ^ static_cast<const unsigned char *>(key)[i]) * 1099511628211ull;
    return h;
  };
  c.equal = [](const void *a, size_t al_, const void *b, size_t bl, void *) noexcept -> int {
    return al_ == bl && std::memcmp(a, b, al_) == 0;
  };
  tsmap *m = nullptr;
  CHECK(tsmap_create(&c, &m) == TSMAP_OK);
  if (!m)
    return;

  const std::string ann = "ann", bob = "bob", cat = "cat";
  CHECK(tsmap_put_ptr(m, ann.data(), ann.size(), new Session("ann"), nullptr) == TSMAP_OK);
  // a replacement: the old Session goes to the hook (REPLACED), which deletes it
  CHECK(tsmap_put_ptr(m, ann.data(), ann.size(), new Session("ann2"), nullptr) ==
        TSMAP_REPLACED);
  Session *s = nullptr;
  CHECK(tsmap_get(m, ann.data(), ann.size(), &s) == TSMAP_OK && s && s->user == "ann2");

  // compute_if_absent: the lambda makes the object; ctx carries the name
  Session *made = nullptr;
  CHECK(tsmap_compute_if_absent(
            m, bob.data(), bob.size(),
            [](const void *, size_t, void *ctx, void *out) noexcept -> int {
              Session *n = new (std::nothrow) Session(*static_cast<const std::string *>(ctx));
              std::memcpy(out, &n, sizeof n);
              return n ? 0 : 1;
            },
            const_cast<std::string *>(&bob), &made) == TSMAP_OK);
  CHECK(made && made->user == "bob");

  // compute: a new object for the new value; the old one goes to the hook
  CHECK(tsmap_compute(
            m, bob.data(), bob.size(),
            [](const void *, size_t, const void *old, void *, void *out) noexcept -> tsmap_verdict {
              Session *o = *static_cast<Session *const *>(old);
              Session *n = new (std::nothrow) Session(o->user + "!");
              if (!n)
                return TSMAP_KEEP;
              n->hits = o->hits + 1;
              std::memcpy(out, &n, sizeof n);
              return TSMAP_STORE;
            },
            nullptr, &made) == TSMAP_OK);
  CHECK(made && made->user == "bob!" && made->hits == 1);

  CHECK(tsmap_put_ptr(m, cat.data(), cat.size(), new Session("cat"), nullptr) == TSMAP_OK);
  std::vector<std::string> seen;
  CHECK(tsmap_foreach(
            m,
            [](const void *key, size_t len, const void *, void *ctx) noexcept -> int {
              static_cast<std::vector<std::string> *>(ctx)->emplace_back(
                  static_cast<const char *>(key), len);
              return 0;
            },
            &seen) == TSMAP_OK);
  CHECK(seen.size() == 3);

  // remove with an out-parameter: the caller owns what it receives
  Session *mine = nullptr;
  CHECK(tsmap_remove(m, cat.data(), cat.size(), &mine) == TSMAP_OK);
  CHECK(mine && mine->user == "cat");
  delete mine;

  CHECK(sessions_live == 2);  // ann2 and bob! in the map
  CHECK(tsmap_close(m) == TSMAP_OK);
  CHECK(sessions_live == 0);  // close handed both to the hook
  CHECK(counts.evicted[TSMAP_EVICT_REPLACED] == 2 && counts.evicted[TSMAP_EVICT_CLOSED] == 2);
  CHECK(counts.created == 5 && counts.closed == 1);
  tsmap_destroy(m);
  CHECK(heap.live == 0);
}

// Threads: std::thread workers increment shared counters through a compute lambda.
void threads_and_compute() {
  tsmap_config c{};
  c.value_size = sizeof(uint64_t);
  c.key_size = sizeof(uint64_t);
  tsmap *m = nullptr;
  CHECK(tsmap_create(&c, &m) == TSMAP_OK);
  if (!m)
    return;
  constexpr int kThreads = 4, kAdds = 20000;
  std::vector<std::thread> workers;
  std::atomic<int> bad{0};
  for (int t = 0; t < kThreads; t++)
    workers.emplace_back([m, &bad] {
      for (int i = 0; i < kAdds; i++) {
        uint64_t key = static_cast<uint64_t>(i % 8);
        tsmap_status st = tsmap_compute(
            m, &key, sizeof key,
            [](const void *, size_t, const void *old, void *, void *out) noexcept {
              uint64_t n = 1;
              if (old) {
                std::memcpy(&n, old, sizeof n);
                n++;
              }
              std::memcpy(out, &n, sizeof n);
              return TSMAP_STORE;
            },
            nullptr, nullptr);
        if (st != TSMAP_OK)
          ++bad;
      }
    });
  for (auto &w : workers)
    w.join();
  CHECK(bad == 0);
  uint64_t sum = 0;
  for (uint64_t key = 0; key < 8; key++) {
    uint64_t v = 0;
    CHECK(tsmap_get(m, &key, sizeof key, &v) == TSMAP_OK);
    sum += v;
  }
  CHECK(sum == static_cast<uint64_t>(kThreads) * kAdds);
  tsmap_destroy(m);
}

// What tsmap.h says to do with exceptions: catch them in the callback and report. A
// compute_if_absent callback that fails so (non-zero) leaves the key absent and the
// single flight free: another thread's call for the key runs its own callback at once.
void exceptions_caught_inside() {
  Counts counts;
  tsmap_config c = session_config(&counts, nullptr);
  tsmap *m = nullptr;
  CHECK(tsmap_create(&c, &m) == TSMAP_OK);
  if (!m)
    return;
  const std::string key = "flaky";
  struct Attempt {
    bool fail;
    std::string error;
  } attempt{true, {}};
  auto make = [](const void *, size_t, void *ctx, void *out) noexcept -> int {
    auto *a = static_cast<Attempt *>(ctx);
    try {
      if (a->fail)
        throw std::runtime_error("backend down");
      Session *n = new Session("flaky");
      std::memcpy(out, &n, sizeof n);
      return 0;
    } catch (const std::exception &e) {  // never past the library
      a->error = e.what();
      return 1;
    }
  };
  Session *got = nullptr;
  CHECK(tsmap_compute_if_absent(m, key.data(), key.size(), make, &attempt, &got) ==
        TSMAP_CALLBACK_FAILED);
  CHECK(attempt.error == "backend down");
  CHECK(tsmap_get(m, key.data(), key.size(), nullptr) == TSMAP_NOT_FOUND);
  attempt.fail = false;
  std::thread other([&] {
    CHECK(tsmap_compute_if_absent(m, key.data(), key.size(), make, &attempt, &got) ==
          TSMAP_OK);
  });
  other.join();
  CHECK(got && got->user == "flaky");
  tsmap_destroy(m);  // closes: the hook deletes it
  CHECK(sessions_live == 0);
}

// Stands for a call that throws; out of line, so that no compiler sees a throw inside a
// noexcept function (-Wterminate) and the test is about the run, not the warning.
[[gnu::noinline]] void backend_call() { throw std::runtime_error("escapes"); }

// A noexcept lambda that throws anyway: std::terminate, in the callback's frame, before
// any unwinding reaches the library (in a child process: it ends with SIGABRT).
void a_noexcept_callback_that_throws_terminates() {
  pid_t pid = fork();
  if (pid == 0) {
    std::signal(SIGABRT, SIG_DFL);
    std::set_terminate([] {
      static const char msg[] = "  (child) std::terminate: as expected\n";
      (void)!write(2, msg, sizeof msg - 1);
      std::abort();
    });
    alarm(20);
    tsmap_config c{};
    c.value_size = sizeof(uint64_t);
    tsmap *m = nullptr;
    if (tsmap_create(&c, &m) != TSMAP_OK)
      _exit(3);
    uint64_t k = 1;
    (void)tsmap_compute_if_absent(
        m, &k, sizeof k,
        [](const void *, size_t, void *, void *) noexcept -> int {
          backend_call();  // throws: terminate here, not an unwind through tsmap
          return 0;
        },
        nullptr, nullptr);
    _exit(0);  // not reached
  }
  int status = 0;
  CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
  CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}

}  // namespace

int main() {
  config_the_cxx_way();
  sessions_owned_by_the_map();
  threads_and_compute();
  exceptions_caught_inside();
  a_noexcept_callback_that_throws_terminates();
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
