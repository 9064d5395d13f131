// What a get's table layout allows, measured without the rest of a concurrent map
// (issue 19's 1-thread target, A and B at >= 0.9x unsynchronized absl).
//
// One process, one trace, the designs alternated round by round: absl's flat_hash_map
// (inlined, as the bench's adapter gets it) against stripped-down gets of a few layouts,
// each an out-of-line call through a function pointer (the way a user calls the
// installed library). Nothing here is thread-safe except what each variant says it
// models: the point is the cost of the layout and the hash on the get's chain.
//
//   tsmap-like   128-byte groups: seq word, tag word, 7 slots of key+value (today's 8/8
//                layout), wyhash (two multiplies), seq checked before and after, second
//                line prefetched, one table
//   +shards      the same behind 32 shards' probe words and a thread's epoch slot
//                (today's get, less the entry checks and the dispatch)
//   split        absl's split: per group a 16-byte control record (seq, 8 tags) in
//                one array, the group's 8 slots (128 bytes) in another; wyhash
//   split+1mul   the same with a one-multiply hash (absl's Mix)
//
// Build: g++ -O2 -std=c++17 layout-bound.cc $(pkg-config --cflags --libs
//        absl_flat_hash_map absl_hash) -o layout-bound
// Run:   taskset -c 0 ./layout-bound [keys=1000000] [ops=8000000] [rounds=5]
#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/mman.h>
#include <time.h>
#include <vector>

namespace {

constexpr uint64_t kWy0 = 0xa0761d6478bd642full, kWy1 = 0xe7037ed1a0b428dbull;
constexpr uint64_t kHi = 0x8080808080808080ull, kLo = 0x0101010101010101ull;

inline void mum(uint64_t *a, uint64_t *b) {
  __uint128_t r = (__uint128_t)*a * *b;
  *a = (uint64_t)r;
  *b = (uint64_t)(r >> 64);
}
inline uint64_t mix(uint64_t a, uint64_t b) {
  mum(&a, &b);
  return a ^ b;
}
// tsmap_hash_u64 (runtime/src/tsmap_internal.h)
inline uint64_t hash_wy(uint64_t k, uint64_t seed) {
  uint64_t a = (k << 32) | (k >> 32), b = k;
  a ^= kWy1;
  b ^= seed;
  mum(&a, &b);
  return mix(a ^ kWy0 ^ 8u, b ^ kWy1);
}
// absl's Mix(seed ^ k, kMul) for an integer key
inline uint64_t hash_1mul(uint64_t k, uint64_t seed) { return mix(k ^ seed, kWy1); }

inline uint64_t splitmix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Candidate slots of a tag word (bytes 0x80 | 7 hash bits; 0 = empty), as the runtime's
// approximate match: a false candidate is rejected by the key compare.
inline uint64_t candidates(uint64_t tags, uint64_t pattern) {
  uint64_t x = tags ^ pattern;
  return (x - kLo) & ~x & kHi;
}

void *big(size_t bytes) {
  void *p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    perror("mmap");
    exit(1);
  }
  return p;
}

// ---- today's 8/8 layout: 128-byte groups ------------------------------------------------
struct alignas(128) Group {
  uint64_t seq, tags; // tags: bytes 0..6 for the slots, byte 7 unused
  uint64_t kv[14];
};
struct Table {
  Group *groups;
  uint64_t mask, seed;
};

void table_init(Table *t, size_t keys, uint64_t seed) {
  size_t ng = 1;
  while (ng * 7 * 7 / 8 < keys) // grow at 7/8 full, as the runtime does
    ng *= 2;
  t->groups = (Group *)big(ng * sizeof(Group));
  t->mask = ng - 1;
  t->seed = seed;
}
template <uint64_t (*H)(uint64_t, uint64_t)> void table_put(Table *t, uint64_t k, uint64_t v) {
  uint64_t h = H(k, t->seed);
  for (uint64_t g = h & t->mask;; g = (g + 1) & t->mask) {
    Group *G = &t->groups[g];
    for (int i = 0; i < 7; i++)
      if (((G->tags >> (8 * i)) & 0xff) == 0) {
        G->tags |= (0x80 | (h >> 57)) << (8 * i);
        G->kv[2 * i] = k;
        G->kv[2 * i + 1] = v;
        return;
      }
  }
}
template <uint64_t (*H)(uint64_t, uint64_t)>
__attribute__((always_inline)) inline int group_get(const Table *t, uint64_t k, uint64_t h,
                                                    uint64_t *out) {
  uint64_t pattern = kLo * (0x80 | (h >> 57));
  for (uint64_t g = h & t->mask;; g = (g + 1) & t->mask) {
    const Group *G = &t->groups[g];
    __builtin_prefetch((const char *)G + 64);
    uint64_t seq = __atomic_load_n(&G->seq, __ATOMIC_ACQUIRE);
    uint64_t tags = G->tags;
    for (uint64_t c = candidates(tags, pattern); c; c &= c - 1) {
      unsigned i = (unsigned)__builtin_ctzll(c) >> 3;
      if (G->kv[2 * i] == k) {
        uint64_t v = G->kv[2 * i + 1];
        if (__atomic_load_n(&G->seq, __ATOMIC_ACQUIRE) == seq) {
          *out = v;
          return 1;
        }
      }
    }
    if (((tags | ((tags & ~kHi) + ~kHi)) & kHi) != kHi) // an empty slot: absent
      return 0;
  }
}

__attribute__((noinline)) int get_grouped(void *ctx, uint64_t k, uint64_t *out) {
  const Table *t = (const Table *)ctx;
  return group_get<hash_wy>(t, k, hash_wy(k, t->seed), out);
}

// +shards: 32 tables behind their probe words, and the thread's epoch slot
struct Sharded {
  Table shard[32];
  uint64_t route; // 31
};
thread_local uint64_t epoch_slot;
uint64_t global_epoch = 4;

__attribute__((noinline)) int get_sharded(void *ctx, uint64_t k, uint64_t *out) {
  const Sharded *s = (const Sharded *)ctx;
  uint64_t *self = &epoch_slot;
  uint64_t h = hash_wy(k, s->shard[0].seed);
  __atomic_store_n(self, (__atomic_load_n(&global_epoch, __ATOMIC_RELAXED) << 1) | 1,
                   __ATOMIC_RELAXED);
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  const Table *t = &s->shard[(h >> 32) & __atomic_load_n(&s->route, __ATOMIC_ACQUIRE)];
  int r = group_get<hash_wy>(t, k, h, out);
  __atomic_store_n(self, 0, __ATOMIC_RELEASE);
  return r;
}

// ---- absl's split: control records apart from the slots -----------------------------------
struct Ctrl {
  uint64_t seq, tags; // 8 tags
};
struct Split {
  Ctrl *ctrl;
  uint64_t *slots; // 16 words a group
  uint64_t mask, seed;
};
void split_init(Split *t, size_t keys, uint64_t seed) {
  size_t ng = 1;
  while (ng * 8 * 7 / 8 < keys)
    ng *= 2;
  t->ctrl = (Ctrl *)big(ng * sizeof(Ctrl));
  t->slots = (uint64_t *)big(ng * 128);
  t->mask = ng - 1;
  t->seed = seed;
}
template <uint64_t (*H)(uint64_t, uint64_t)> void split_put(Split *t, uint64_t k, uint64_t v) {
  uint64_t h = H(k, t->seed);
  for (uint64_t g = h & t->mask;; g = (g + 1) & t->mask) {
    Ctrl *C = &t->ctrl[g];
    for (int i = 0; i < 8; i++)
      if (((C->tags >> (8 * i)) & 0xff) == 0) {
        C->tags |= (0x80 | (h >> 57)) << (8 * i);
        t->slots[16 * g + 2 * i] = k;
        t->slots[16 * g + 2 * i + 1] = v;
        return;
      }
  }
}
template <uint64_t (*H)(uint64_t, uint64_t)>
__attribute__((noinline)) int get_split(void *ctx, uint64_t k, uint64_t *out) {
  const Split *t = (const Split *)ctx;
  uint64_t h = H(k, t->seed);
  uint64_t pattern = kLo * (0x80 | (h >> 57));
  for (uint64_t g = h & t->mask;; g = (g + 1) & t->mask) {
    const Ctrl *C = &t->ctrl[g];
    uint64_t seq = __atomic_load_n(&C->seq, __ATOMIC_ACQUIRE);
    uint64_t tags = C->tags;
    const uint64_t *S = &t->slots[16 * g];
    for (uint64_t c = candidates(tags, pattern); c; c &= c - 1) {
      unsigned i = (unsigned)__builtin_ctzll(c) >> 3;
      if (S[2 * i] == k) {
        uint64_t v = S[2 * i + 1];
        if (__atomic_load_n(&C->seq, __ATOMIC_ACQUIRE) == seq) {
          *out = v;
          return 1;
        }
      }
    }
    if (((tags | ((tags & ~kHi) + ~kHi)) & kHi) != kHi)
      return 0;
  }
}

using GetFn = int (*)(void *, uint64_t, uint64_t *);
using AbslMap = absl::flat_hash_map<uint64_t, uint64_t>;

// absl behind the same out-of-line call as the others
__attribute__((noinline)) int get_absl_call(void *ctx, uint64_t k, uint64_t *out) {
  const AbslMap *m = (const AbslMap *)ctx;
  auto it = m->find(k);
  if (it == m->end())
    return 0;
  *out = it->second;
  return 1;
}

__attribute__((noinline)) int get_grouped_1mul(void *ctx, uint64_t k, uint64_t *out) {
  const Table *t = (const Table *)ctx;
  return group_get<hash_1mul>(t, k, hash_1mul(k, t->seed), out);
}

// The thread's CPU time: a round that another process preempts is not charged for it.
double now() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

double run_ours(GetFn get, void *ctx, const std::vector<uint64_t> &trace, uint64_t *sink) {
  double t0 = now();
  uint64_t s = 0, v;
  for (uint64_t k : trace)
    if (get(ctx, k, &v))
      s += v;
  double t1 = now();
  *sink += s;
  return trace.size() / (t1 - t0) / 1e6;
}

// today's 8/8 get and the sharded one, inlined into the caller's loop
template <bool kShards>
double run_inline(void *ctx, const std::vector<uint64_t> &trace, uint64_t *sink) {
  double t0 = now();
  uint64_t s = 0, v;
  for (uint64_t k : trace) {
    int r;
    if (kShards) {
      const Sharded *sh = (const Sharded *)ctx;
      uint64_t *self = &epoch_slot;
      uint64_t h = hash_wy(k, sh->shard[0].seed);
      __atomic_store_n(self, (__atomic_load_n(&global_epoch, __ATOMIC_RELAXED) << 1) | 1,
                       __ATOMIC_RELAXED);
      __atomic_signal_fence(__ATOMIC_SEQ_CST);
      const Table *t = &sh->shard[(h >> 32) & __atomic_load_n(&sh->route, __ATOMIC_ACQUIRE)];
      r = group_get<hash_wy>(t, k, h, &v);
      __atomic_store_n(self, 0, __ATOMIC_RELEASE);
    } else {
      const Table *t = (const Table *)ctx;
      r = group_get<hash_wy>(t, k, hash_wy(k, t->seed), &v);
    }
    if (r)
      s += v;
  }
  double t1 = now();
  *sink += s;
  return trace.size() / (t1 - t0) / 1e6;
}

// kReload: a compiler barrier each get, so that the map's fields (control bytes' and
// slots' addresses, capacity, seed) are loaded again by every get instead of being held
// in registers across the loop, as a concurrent map's get must (its tables can change).
template <bool kReload>
double run_absl(const absl::flat_hash_map<uint64_t, uint64_t> &m,
                const std::vector<uint64_t> &trace, uint64_t *sink) {
  double t0 = now();
  uint64_t s = 0;
  for (uint64_t k : trace) {
    if (kReload)
      __asm__ __volatile__("" : : "r"(&m) : "memory");
    auto it = m.find(k);
    if (it != m.end())
      s += it->second;
  }
  double t1 = now();
  *sink += s;
  return trace.size() / (t1 - t0) / 1e6;
}

} // namespace

int main(int argc, char **argv) {
  size_t keys = argc > 1 ? strtoull(argv[1], nullptr, 10) : 1000000;
  size_t ops = argc > 2 ? strtoull(argv[2], nullptr, 10) : 8000000;
  int rounds = argc > 3 ? atoi(argv[3]) : 5;
  uint64_t seed = splitmix(12345);

  absl::flat_hash_map<uint64_t, uint64_t> absl_map;
  Table grouped, grouped_1m;
  table_init(&grouped, keys, seed);
  table_init(&grouped_1m, keys, seed);
  Sharded *sharded = new Sharded;
  sharded->route = 31;
  for (auto &t : sharded->shard)
    table_init(&t, keys / 32 + 1, seed);
  Split split_wy, split_1m;
  split_init(&split_wy, keys, seed);
  split_init(&split_1m, keys, seed);
  for (size_t i = 0; i < keys; i++) {
    uint64_t k = splitmix(i), v = k ^ 0x5555;
    absl_map[k] = v;
    table_put<hash_wy>(&grouped, k, v);
    table_put<hash_1mul>(&grouped_1m, k, v);
    uint64_t h = hash_wy(k, seed);
    table_put<hash_wy>(&sharded->shard[(h >> 32) & 31], k, v);
    split_put<hash_wy>(&split_wy, k, v);
    split_put<hash_1mul>(&split_1m, k, v);
  }
  std::vector<uint64_t> trace(ops);
  uint64_t x = 88172645463325252ull;
  for (auto &k : trace) { // uniform over the keys, generated before timing
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    k = splitmix(x % keys);
  }

  struct Variant {
    const char *name;
    GetFn get;
    void *ctx;
    int inl; // 1: grouped inline, 2: sharded inline, 3: absl reloading its fields
    std::vector<double> mops;
  } vs[] = {
      {"absl (inlined)", nullptr, nullptr, 0, {}},
      {"absl inlined, map fields reloaded per get", nullptr, nullptr, 3, {}},
      {"absl behind an out-of-line call", get_absl_call, &absl_map, 0, {}},
      {"tsmap-like: 128-byte groups, wyhash", get_grouped, &grouped, 0, {}},
      {"tsmap-like, one-multiply hash", get_grouped_1mul, &grouped_1m, 0, {}},
      {"  +32 shards' probe words, epoch slot", get_sharded, sharded, 0, {}},
      {"tsmap-like, inlined in the loop", nullptr, &grouped, 1, {}},
      {"  +shards, inlined in the loop", nullptr, sharded, 2, {}},
      {"split: control records + slots, wyhash", get_split<hash_wy>, &split_wy, 0, {}},
      {"split, one-multiply hash", get_split<hash_1mul>, &split_1m, 0, {}},
  };
  uint64_t sink = 0;
  for (int r = 0; r < rounds; r++)
    for (auto &v : vs)
      v.mops.push_back(v.get        ? run_ours(v.get, v.ctx, trace, &sink)
                       : v.inl == 1 ? run_inline<false>(v.ctx, trace, &sink)
                       : v.inl == 2 ? run_inline<true>(v.ctx, trace, &sink)
                       : v.inl == 3 ? run_absl<true>(absl_map, trace, &sink)
                                    : run_absl<false>(absl_map, trace, &sink));
  double base = 0;
  printf("%zu keys, %zu gets a round, %d rounds (median Mops per CPU second; ratio to absl)\n", keys, ops,
         rounds);
  for (auto &v : vs) {
    std::sort(v.mops.begin(), v.mops.end());
    double med = v.mops[v.mops.size() / 2];
    if (!v.get && !v.inl)
      base = med;
    printf("  %-42s %7.1f  %.2fx  (%.1f-%.1f)\n", v.name, med, med / base, v.mops.front(),
           v.mops.back());
  }
  return sink == 42; // keep the sums
}
