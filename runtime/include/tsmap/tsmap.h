/*
 * tsmap/tsmap.h - libtsmap, a sharded concurrent hash map for C11.
 *
 * Keys are byte strings (pointer + length). Values are fixed-size byte blobs of
 * `value_size` bytes, copied in and copied out; a pointer is one such value. Every call
 * returns a tsmap_status; nothing aborts. The guarantees G1..G15 cited below are stated
 * in runtime/DESIGN.md.
 *
 *   tsmap_config cfg;
 *   tsmap_config_init(&cfg, sizeof(struct session *));
 *   cfg.on_entry_evicted = session_evict;            // frees what the map lets go of
 *   tsmap *sessions;
 *   if (tsmap_create(&cfg, &sessions) != TSMAP_OK) ...
 *   struct session *s = ...;
 *   tsmap_put_ptr(sessions, id, id_len, s, NULL);   // NULL: a replaced value goes to the hook
 *
 * (A map of pointers: tsmap_put_ptr publishes `s` itself, which the checks follow;
 * tsmap_put(sessions, id, id_len, &s, NULL) stores the same bytes, as a copy of `s`.)
 *
 * Keys. `key` may be NULL only with `key_len` 0: (NULL, 0) and ("", 0) are the same key,
 * the empty key, which a map of variable-length keys (key_size 0) stores like any other.
 * A null key with a non-zero length, or a length other than key_size in a fixed-size
 * map, is TSMAP_INVALID_ARGUMENT.
 *
 * Calling the map from your callbacks, hooks and visitors. None of them runs under a
 * map lock, so none is TSMAP_CALLBACK_LOCKED (which would tell tsmap-reentrant-callback
 * that any call on the same map is a deadlock; here it is not):
 *   - a compute callback (compute_if_absent, compute_if_present, compute) or a merge's
 *     resolver (tsmap_merge) may call the map on any other key; a call on the key it is
 *     computing or resolving does nothing and returns
 *     TSMAP_REENTERED, as does a wait that would close a cycle of callbacks (never a
 *     deadlock).
 *     The callback may run more than once, so what it writes to the map is repeated:
 *     keep those writes idempotent (TSMAP_CALLBACK; tsmap-non-idempotent-callback);
 *   - hooks (on_entry_created, on_entry_evicted, on_map_closed) and foreach visitors may
 *     call the map on any key, the hook's own key included; during tsmap_close those
 *     calls return TSMAP_CLOSED;
 *   - nothing may call tsmap_destroy on the map it is called for.
 * The editor's mapping (TSMAP_MAP_OPERATION below, with -Wthread-safety) cannot see keys:
 * in a function you mark TSMAP_CALLBACK_FN it flags every direct map call, the allowed
 * ones too. Marking is opt-in: on a callback that calls the map on other keys by design,
 * leave TSMAP_CALLBACK_FN off or add TSMAP_NO_EDITOR_ANALYSIS to its definition (the
 * tsmap-* checks still check it through TSMAP_CALLBACK).
 *
 * Callbacks must return. Nothing the map calls (hooks, compute callbacks, resolvers,
 * visitors, the hash, equality, clock and weight functions, an allocator's alloc and free,
 * a metrics writer) may leave it by a C++ exception, a longjmp or the end of its thread.
 * The library is C: unwinding through it runs no cleanup, so what the call held stays
 * held: a compute_if_absent's single flight (another thread's call for that key then
 * waits for ever: black-box round 18), a read-side section (the equality runs inside
 * one: no memory is reclaimed and no reshard finishes any more), a shard lock (around a
 * table's allocation and a writer's clock), a foreach's hold on the next reshard phase,
 * the registry lock around a tsmap_metrics_write_all writer. From C++: catch inside the
 * callback and report through its result (a non-zero return from a compute_if_absent
 * callback, TSMAP_KEEP, a visitor's stop) or through its ctx, and declare it noexcept,
 * so that an exception that escapes anyway ends the program (std::terminate) in the
 * callback instead of unwinding through the map. Captureless lambdas, noexcept or not,
 * convert to every callback type here.
 *
 * The header is written with the contract vocabulary of tsmap/annotations.h, so the
 * tsmap-* clang-tidy checks (and clang's -Wthread-safety in the editor) know:
 *   - every function taking a `tsmap *` is a map operation (TSMAP_THREAD_SAFE_MAP), and
 *     one the editor flags in a TSMAP_CALLBACK_FN function (TSMAP_MAP_OPERATION, above);
 *   - compute callbacks may run more than once and must be idempotent (TSMAP_CALLBACK);
 *     their output parameter is TSMAP_OUT;
 *   - tsmap_remove's out-parameter is TSMAP_REMOVED_OUT: the caller owns what it receives,
 *     and a null argument hands the value to the eviction hook;
 *   - put and the compute calls are TSMAP_REPLACES: they may overwrite a value.
 * To tell the checks which hook cleans up what the map evicts on its own, annotate your
 * map variable: TSMAP_EVICTS_WITH(session_evict) tsmap *sessions;
 *
 * Values are copied: the `value` argument of a put is the address of the bytes to copy,
 * not an object the map keeps, so it is deliberately not TSMAP_PUBLISHES. When the value
 * is a pointer, use tsmap_put_ptr / tsmap_put_ptr_if_absent, whose argument is the
 * published object itself (TSMAP_PUBLISHES).
 *
 * Thread safety: every function may be called concurrently with every other on the same
 * map, except tsmap_destroy (see there). Callbacks and hooks run with no map lock held.
 *
 * Memory: a thread's first keyed call (get, put, put_if_absent, the put_ptr forms,
 * remove, the compute calls, and their *_ttl forms) on any map allocates the thread's
 * reader record, so each of those may return TSMAP_NO_MEMORY on a thread's first call,
 * even one that allocates nothing else; the map is unchanged and the next call tries
 * again. See tsmap_allocator for why that record does not come from the map's allocator.
 */
#ifndef TSMAP_TSMAP_H
#define TSMAP_TSMAP_H

#include <stddef.h>
#include <stdint.h>

#include <tsmap/annotations.h>

/* C++. The library's functions throw nothing (C code; nothing they call may throw through
 * them, "Callbacks must return" above), so to C++ they are declared noexcept: callable
 * from noexcept code, and seen so by noexcept(...) and exception-escape analyses. That
 * does not make a callback's exception safe: one must still not leave a callback (declare
 * callbacks noexcept, as above).
 * (The structs have no default member initialisers, though C++20 designated
 * initialisers that leave members out then warn under -Wextra, see tsmap_config_init:
 * with them a struct is no longer trivial, and g++'s -Wall warns about every memset of
 * it, -Wclass-memaccess.) */
#if defined(__cplusplus)
#define TSMAP_NOEXCEPT noexcept
#else
#define TSMAP_NOEXCEPT
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Status codes -------------------------------------------------------------------- */

/* The result of every call. TSMAP_OK is 0; TSMAP_REPLACED and TSMAP_REMOVED are also
 * successes. Every failure status leaves the map unchanged. */
typedef enum tsmap_status {
  TSMAP_OK = 0,               /* done (inserted, found, removed, stored) */
  TSMAP_REPLACED = 1,         /* done: an existing value was overwritten */
  TSMAP_NOT_FOUND = 2,        /* the key has no value */
  TSMAP_EXISTS = 3,           /* put_if_absent: the key already has a value */
  TSMAP_INVALID_ARGUMENT = 4, /* a null map, callback or size_out, a null key with a
                                 non-zero length, a bad length or config */
  TSMAP_CLOSED = 5,           /* the map was closed (tsmap_close) */
  TSMAP_NO_MEMORY = 6,        /* an allocation failed; nothing changed */
  TSMAP_REENTERED = 7,        /* called from a callback for the key that callback is
                                 computing (or a cycle of such waits), or from a
                                 tsmap_metrics_write_all writer: would deadlock */
  TSMAP_CALLBACK_FAILED = 8,  /* a compute_if_absent callback returned non-zero */
  TSMAP_STOPPED = 9,          /* tsmap_foreach: the visitor asked to stop */
  TSMAP_REMOVED = 10,         /* compute / compute_if_present: done, the callback's
                                 TSMAP_DELETE removed the entry */
  TSMAP_CONFLICT = 11,        /* the *_if_version calls: the key's version was not the
                                 expected one (the current one is returned) */
  TSMAP_TOO_HEAVY = 12        /* a map with max_weight (G11): the value weighs more than
                                 a shard's share of max_weight; nothing changed (a
                                 callback's result is hooked as TSMAP_EVICT_DISCARDED) */
} tsmap_status;

/* A static, human-readable name for a status ("TSMAP_OK", ...); never NULL. */
const char *tsmap_status_name(tsmap_status status) TSMAP_NOEXCEPT;

/* ---- Hooks ---------------------------------------------------------------------------- */

/* Why a value left the map (or never entered it). */
typedef enum tsmap_evict_reason {
  TSMAP_EVICT_REMOVED = 0,   /* tsmap_remove with a null out, or a compute that removed */
  TSMAP_EVICT_REPLACED = 1,  /* overwritten by put/compute with no out-parameter */
  TSMAP_EVICT_EXPIRED = 2,   /* its deadline passed (G10): the entry was absent to reads
                                from then on and is reclaimed by a write, a sweep,
                                tsmap_maintain or tsmap_close */
  TSMAP_EVICT_CAPACITY = 3,  /* made room for an insert into a full map (max_entries, G11) */
  TSMAP_EVICT_CLOSED = 4,    /* still in the map when it was closed */
  TSMAP_EVICT_DISCARDED = 5  /* a callback's result the map did not store (a lost race,
                                a retry, a map closed meanwhile): it never entered */
} tsmap_evict_reason;

/* Called once for each value that enters the map, with no map lock held, by the thread
 * whose call stored it, before that call returns. In a map of pointers whose
 * on_entry_evicted frees, do not dereference the value here while other threads write:
 * another thread may already have removed or replaced it, and its eviction hook freed
 * the object, before this hook runs (hooks for one key are not ordered across threads). */
typedef void (*tsmap_created_hook)(const void *key, size_t key_len, const void *value,
                                   void *hook_ctx);

/* Called exactly once for each value that leaves the map without being handed to a
 * caller (G6), and once for each discarded callback result; no map lock is held.
 * What the hook gets, and what it owns:
 *   - `key` and `value` point at bytes (key_len and value_size of them) that are valid
 *     only during the call: read or copy them, but do not keep or free the pointers;
 *   - the value itself is the hook's: nobody else will release it. When the value is a
 *     pointer (value_size == sizeof(void *)), the object it points to is now the hook's
 *     to free or release: `free(*(void **)value)`, not `free(value)`.
 * The hook may call the map (see "Calling the map" above). Hooks for one key may run in
 * a different order than the operations that caused them when threads race.
 * A map of pointers whose hook frees: once a call has stored your pointer, the map owns
 * the object, and it may be freed by this hook at any moment after that store, before
 * the call returns included (another thread's write, a bound's admission refusal or
 * capacity eviction, expiry). So every pointer the map hands back as a look (tsmap_get,
 * put_if_absent's existing_out, compute_if_absent's value_out, a compute's old_value or
 * value_out, a resolver's `local` value, a foreach or export visitor's value) may point
 * to an object already freed unless nothing else writes the key meanwhile: dereference
 * it only under a scheme of your own (reference counts, an epoch) or with the map's
 * writers quiet. Only old_out and remove's out transfer ownership to the caller. */
typedef void (*tsmap_evicted_hook)(const void *key, size_t key_len, void *value,
                                   tsmap_evict_reason reason, void *hook_ctx);

/* Called once by tsmap_close after every value still in the map was evicted. */
typedef void (*tsmap_closed_hook)(void *hook_ctx);

/* ---- Configuration -------------------------------------------------------------------- */

/* Optional allocator. `alloc` returns `size` bytes aligned to 16 or NULL; `free` gets
 * the same size back. Used for every allocation the map makes (the handle, shards,
 * tables, long keys, compute_if_absent's in-flight records, foreach's shard copies,
 * tsmap_metrics_write's snapshot), so
 * a failing allocator exercises every TSMAP_NO_MEMORY path but one: a thread's reader
 * record (64 bytes, from posix_memalign on the thread's first keyed call). One record
 * serves every map the thread calls and is reused by later threads after it exits; it is
 * never freed, so it would outlive any one map's allocator. */
typedef struct tsmap_allocator {
  void *(*alloc)(size_t size, void *alloc_ctx);
  void (*free)(void *ptr, size_t size, void *alloc_ctx);
  void *alloc_ctx;
} tsmap_allocator;

/* A user hash: must depend only on the key bytes and `seed` (the map's random seed; mix
 * it in to keep flooding resistance). */
typedef uint64_t (*tsmap_hash_fn)(const void *key, size_t key_len, uint64_t seed,
                                  void *hash_ctx);
/* A user equality: non-zero when the two keys are equal. Keys equal under it must hash
 * equal. Called with no lock held, possibly on a key that is concurrently being removed. */
typedef int (*tsmap_equal_fn)(const void *a, size_t a_len, const void *b, size_t b_len,
                              void *hash_ctx);

/* A clock for expiry (G10): nanoseconds that never go backwards. NULL in the config means
 * CLOCK_MONOTONIC. Called with no map lock held by readers, and under a shard lock by
 * writers, so it must not call the map; tests pass a clock they step by hand. */
typedef uint64_t (*tsmap_clock_fn)(void *clock_ctx);

/* NUMA placement of the shards' tables (G14; runtime/DESIGN.md, "Placement"). */
typedef enum tsmap_placement_policy {
  TSMAP_PLACE_NONE = 0,       /* the default: memory lands where it is first touched */
  TSMAP_PLACE_INTERLEAVE = 1, /* shard i on the i-th node with CPUs, round robin (on
                                 every online node when no node lists a CPU) */
  TSMAP_PLACE_LOCAL = 2       /* every shard on the node of the CPU tsmap_create ran on */
} tsmap_placement_policy;
/* The weight of a value for a bound on weight (G11, max_weight): called with no map lock
 * held, before each store, with the value's bytes (for a pointer value, `*(void *const *)
 * value` is the pointer). Must return the same weight for the same value while it is in
 * the map, and must not call the map. */
typedef uint64_t (*tsmap_weight_fn)(const void *key, size_t key_len, const void *value,
                                    void *weight_ctx);

/* Map configuration. Fill with tsmap_config_init, then set what you need. */
typedef struct tsmap_config {
  size_t value_size;       /* bytes per value, 0..TSMAP_MAX_VALUE_SIZE */
  size_t key_size;         /* 0: keys of any length up to TSMAP_MAX_KEY_SIZE (up to 8
                              bytes inline, longer ones in one allocation per key);
                              1..TSMAP_MAX_FIXED_KEY_SIZE: every key is exactly that long
                              and stored inline (the fast path for 8-byte integer keys) */
  size_t shard_count;      /* 0: a power of two from the CPU count; else a power of two
                              in 1..TSMAP_MAX_SHARDS */
  size_t initial_capacity; /* entries to hold before the first growth (0: minimal) */
  tsmap_hash_fn hash;      /* NULL: keyed wyhash-style hash with a per-map random seed */
  tsmap_equal_fn equal;    /* NULL: byte equality */
  void *hash_ctx;
  tsmap_created_hook on_entry_created; /* may be NULL */
  tsmap_evicted_hook on_entry_evicted; /* may be NULL: values are then simply dropped */
  tsmap_closed_hook on_map_closed;     /* may be NULL */
  void *hook_ctx;
  const tsmap_allocator *allocator;    /* NULL: malloc/free; read at create, must outlive
                                          the map */
  uint64_t seed;           /* 0: random per map (getrandom); else this seed (tests) */
  const char *name;        /* NULL or "": unnamed. Else copied at create: the map's `map`
                              label in its metrics, and it is listed by
                              tsmap_metrics_write_all. It must be UTF-8 (else create returns
                              TSMAP_INVALID_ARGUMENT) and no other map not yet destroyed may
                              have it (else TSMAP_EXISTS): a label value must be UTF-8, and
                              two maps of one name would give an exposition duplicate series,
                              which a Prometheus server rejects whole */
  int metrics;             /* non-zero: count and time operations (tsmap_metrics_write);
                              counters per thread: about 5.5 KiB from the allocator for
                              each of the most threads ever calling at once (thread
                              records are recycled), at most 1,024, kept until destroy.
                              0, the default: off, at no measurable cost */
  /* Expiry (G10). An entry whose deadline passed is absent to every read and leaves
   * through on_entry_evicted with TSMAP_EVICT_EXPIRED exactly once. Each entry costs one
   * more word, and such maps take the generic (not the 8-byte fast) paths. */
  int expiry;              /* non-zero: entries may carry deadlines (the *_ttl calls);
                              implied by a non-zero default_ttl_ns */
  uint64_t default_ttl_ns; /* time-to-live of entries stored without an explicit TTL
                              (0: they never expire) */
  tsmap_clock_fn clock;    /* NULL: CLOCK_MONOTONIC nanoseconds */
  void *clock_ctx;
  uint64_t maintain_interval_ns; /* non-zero: the map runs a thread of its own that calls
                                    tsmap_maintain(map, maintain_budget) this often (on
                                    a map without expiry it moves reshards on);
                                    tsmap_close stops and joins it. A child of
                                    fork() has no such thread (writes and
                                    tsmap_maintain maintain its map; close joins
                                    nothing); fork waits for the shard locks it
                                    holds, as for any thread's (G16) */
  size_t maintain_budget;  /* slots per tick of that thread (0: 1024, unlike a budget of
                              0 given to tsmap_maintain) */
  /* A bound (G11). An insert into a full map first evicts another entry through
   * on_entry_evicted (TSMAP_EVICT_CAPACITY), exactly once, chosen by a sampled LFU with
   * aging (frequency-aware and scan-resistant). The bound is split evenly over the
   * shards and holds at every moment, writes in flight or not: the map never holds more
   * than max_entries (each shard evicts from itself, so a shard may evict while others
   * have room). Admission: a new key that has been inserted no more often lately than
   * the entry it would displace is not kept. Its insert still returns TSMAP_OK (and
   * compute_if_absent still hands back its value), and its value goes through
   * on_entry_created and then on_entry_evicted with TSMAP_EVICT_CAPACITY, once each, in
   * that order, before the call returns, so the map is unchanged (in a map of pointers
   * whose hook frees, the pointer you passed, or the one value_out hands back, is then
   * freed when the call returns TSMAP_OK, which the status does not tell: do not use it
   * after the call); a key inserted again and again gets in: at the
   * latest at its 15th try counted since the shard's sketch was last reset (every 10 x
   * its share of max_entries inserts tried, and at least 32), so at the latest at its
   * 23rd when it tries back to back. Costs one word per entry, 13 bytes per max_entries for the admission
   * sketch and its doorkeeper, and the generic paths, as expiry does; reads update an
   * entry's counter in place now and then (1 read in 2 on average while the map is near
   * its bound, 1 in 64 while far from it, none while the entry's counter is full). */
  size_t max_entries;      /* 0: unbounded; else at least the shard count (a default
                              shard count is lowered to keep 16 entries a shard) */
  /* NUMA placement (G14). With a policy, each shard gets a node (tsmap_placement says
   * which) and every table the shard allocates, growths' included, is bound to it with
   * mbind (preferred, not strict: a full node spills to others rather than failing)
   * before its first touch. Where that cannot be done (the kernel refuses mbind, as
   * container seccomp profiles may; a user allocator; no topology) the map still works,
   * with plain allocation, and tsmap_placement says why. */
  tsmap_placement_policy placement; /* TSMAP_PLACE_*; another value: INVALID_ARGUMENT */
  const char *numa_root;   /* read at create, and only with a policy. NULL:
                              /sys/devices/system/node (unreadable there: the map is not
                              placed, and says why). Else a directory laid out the same
                              way (`online`, `node<N>/cpulist`; tests describe other
                              machines so): unreadable or malformed, tsmap_create returns
                              TSMAP_INVALID_ARGUMENT. Local placement whose CPU no node
                              lists is not placed either, and says why */
  /* Versions (G12): each entry carries a 64-bit version that every write of its key
   * raises, also across remove and insert; reads can return it and writes can be
   * conditional on it (the *_if_version calls). Versions are per key: two keys' versions
   * say nothing about which was written first. Costs one word per entry, kept beside the
   * table's groups (tsmap_get reads the plain layout), and a second line per put. */
  int versions;            /* non-zero: entries carry versions; implied by replicas */
  /* Replication (G13): the map is one replica of a map kept by up to `replicas` peers.
   * Each entry also carries a stamp and a vector clock of `replicas` counters; a remove
   * leaves a tombstone; tsmap_export and tsmap_merge move changes between replicas.
   * With expiry (G10), an entry that expires leaves a tombstone too, carrying the entry's
   * own clock and stamp (expiry is local, not a write: no counter is raised), so a change
   * the entry dominated, delivered again, stays out; tsmap_export passes it on (a new
   * version) and tsmap_forget drops it like any other. A peer that holds the same write
   * keeps its copy (equal clocks: TSMAP_EXISTS; its own TTL decides), a peer behind it
   * takes the tombstone. An entry a bound evicts for room (G11, TSMAP_EVICT_CAPACITY)
   * leaves a local tombstone with its own clock and stamp: neither its own write nor an
   * older one of its key, sent again by a peer, brings it back, and a change concurrent
   * with it only joins its clock (TSMAP_EXISTS: the evicted value is gone, so no
   * resolver could weigh it); a change that dominates it gets in. The bound is this
   * replica's own, so tsmap_export never lists such tombstones (a peer keeps what it
   * holds). Tombstones do not count against max_entries or max_weight (tsmap_forget
   * drops them), and an insert that must evict may return TSMAP_NO_MEMORY for a
   * tombstone's record, nothing evicted. A value tsmap_merge stores that admission
   * refuses is such an eviction too: the key gets a local tombstone with the change's
   * clock, so sending that change again does not retry it (the key's next write does; a
   * local put admission refuses took no version and leaves the map unchanged). Local
   * writes stop at the clock headroom (TSMAP_CLOCK_LIMIT). */
  size_t replicas;         /* 0: not replicated; else 1..TSMAP_MAX_REPLICAS */
  size_t replica_id;       /* this replica's index in every clock, below `replicas` */
  /* Live resharding (G15, tsmap_reshard). */
  size_t max_shard_count;  /* the most shards tsmap_reshard may reach, a power of two in
                              shard_count..TSMAP_MAX_SHARDS (else create returns
                              TSMAP_INVALID_ARGUMENT; below a default shard count, that
                              count). 0: TSMAP_MAX_SHARDS with the default allocator (the
                              shard array is reserved as lazily backed virtual memory, 256
                              bytes a shard), the create-time count with a custom
                              allocator */
  int reshard_auto;        /* non-zero: double the shard count (up to max_shard_count)
                              when writers wait for shard locks: more than
                              reshard_auto_permille lock waits per 1000 writes over a
                              window of 4096 writes, twice in a row (tsmap_reshard). Not
                              with max_entries, max_weight or replicas (such maps are not
                              resharded): create returns TSMAP_INVALID_ARGUMENT */
  unsigned reshard_auto_permille; /* 0: 20 (2% of writes wait); at most 1000 (else
                                     create returns TSMAP_INVALID_ARGUMENT) */
  int reshard_no_helper;   /* 0: a reshard starts a helper thread for each run of phases
                              (it exits when the target is reached or the map closes) that
                              maps and faults in the destinations' tables and gives back
                              emptied sources' pages, so writes do only the moves; it runs
                              on every CPU but those the thread calling tsmap_reshard is
                              pinned to (all, if that one is not pinned). If the thread
                              cannot be started, the writes do that work too (and with a
                              custom allocator, whose tables are never mapped, always).
                              A child of fork() forked during a reshard has no helper:
                              its writes and tsmap_maintain calls do the rest of the
                              work and finish the reshard (G16); fork waits for the
                              shard locks other threads hold, so no child inherits one
                              held. 1: no thread, the writes always do it.
                              Else create returns TSMAP_INVALID_ARGUMENT */
  /* A bound on weight (G11), for maps of pointers (value_size == sizeof(void *)): the
   * weights of the entries (weight(key, value)) sum to at most max_weight at every
   * moment, writes in flight or not. Like max_entries it is split evenly over the shards;
   * a store first evicts entries of its shard by the same policy (and admission) until
   * the new value fits. A value heavier than its shard's share (max_weight / shards,
   * rounded down) is refused: TSMAP_TOO_HEAVY, nothing changed. A store that must evict
   * several entries allocates for all of them before any goes, 16 at a time: only one
   * that needs more than 16 evictions and runs out of memory after the first 16 returns
   * TSMAP_NO_MEMORY with those gone (each hooked once, TSMAP_EVICT_CAPACITY), the one
   * exception to "a failure leaves the map unchanged". May be combined with
   * max_entries (both hold). Weights are stored in the entry's frequency word: no more
   * memory per entry than max_entries alone. */
  tsmap_weight_fn weight;  /* required with max_weight, else NULL */
  void *weight_ctx;
  uint64_t max_weight;     /* 0: no bound on weight; else at most 2^48 - 1 and at least
                              the shard count */
} tsmap_config;

/* The constants below are written without casts (UINT64_C; a size_t one through this),
 * so that C++ code built with -Wold-style-cast can use them (black-box round 18). */
#ifdef __cplusplus
#define TSMAP_SIZE_C_(n) static_cast<size_t>(n)
#else
#define TSMAP_SIZE_C_(n) ((size_t)(n))
#endif

/* TTL arguments of the *_ttl calls (any other value: nanoseconds from now). */
#define TSMAP_TTL_NEVER UINT64_C(0)            /* this entry never expires */
#define TSMAP_TTL_DEFAULT (~UINT64_C(0))       /* the map's default_ttl_ns */

#define TSMAP_MAX_VALUE_SIZE 4096u
#define TSMAP_MAX_KEY_SIZE (TSMAP_SIZE_C_(1) << 30)
#define TSMAP_MAX_SHARDS 4096u
#define TSMAP_MAX_FIXED_KEY_SIZE 64u
#define TSMAP_MAX_REPLICAS 16u
/* tsmap_merge refuses a change with a clock counter, or a stamp's time (stamp >> 8), at
 * or above this: versions are taken one a write and a stamp is (version << 8) | replica,
 * so taking one near the top left no room for the next local write's (its version
 * wrapped to 0 and stamps went backwards). 2^55 versions last 1,100 years at a million
 * writes a second.
 * The rule that keeps replicas converging near it (G13 (b)): every counter and stamp
 * time a replica writes is below TSMAP_CLOCK_LIMIT, so every peer accepts it. A merge
 * raises the replica's version counter (V3) to at most TSMAP_CLOCK_LIMIT -
 * TSMAP_CLOCK_HEADROOM, and a local write (put, remove, the computes, the *_if_version
 * and *_ttl calls) is refused with TSMAP_INVALID_ARGUMENT, nothing changed, once the
 * counter has reached that mark: the headroom (2^32 versions) covers the writes and
 * merges already past the check when the mark is reached. Only a crafted change (or
 * 2^55 - 2^32 versions) takes a replica there; it still merges, exports and reads. */
#define TSMAP_CLOCK_LIMIT (UINT64_C(1) << 55)
#define TSMAP_CLOCK_HEADROOM (UINT64_C(1) << 32)

/* Zero `config` and set its value size. Returns TSMAP_INVALID_ARGUMENT for a null config
 * or a value size above TSMAP_MAX_VALUE_SIZE. In C++, `tsmap_config c{};` then
 * `c.value_size = ...` is the same; so are C++20 designated initialisers (members in
 * declaration order, the rest zero), which g++ and clang++ warn about under -Wextra for
 * every member left out (-Wmissing-field-initializers). */
tsmap_status tsmap_config_init(tsmap_config *config, size_t value_size) TSMAP_NOEXCEPT;

/* ---- The map -------------------------------------------------------------------------- */

/* A map handle. A pointer to it is a thread-safe map: all calls below may run
 * concurrently on it (except tsmap_destroy). */
typedef struct TSMAP_THREAD_SAFE_MAP tsmap tsmap;

/* Create a map from `config` (copied; the allocator it points to must outlive the map)
 * into *map_out. Statuses: TSMAP_OK; TSMAP_INVALID_ARGUMENT (null pointers, a shard count
 * that is not a power of two, sizes out of range, a name that is not UTF-8);
 * TSMAP_EXISTS (another map not yet destroyed has config.name); TSMAP_REENTERED (a named
 * map created from a tsmap_metrics_write_all writer); TSMAP_NO_MEMORY (also
 * an initial_capacity whose first tables exceed the machine's physical memory, refused
 * before anything is mapped) (*map_out untouched on every failure). */
tsmap_status tsmap_create(const tsmap_config *config, tsmap **map_out) TSMAP_NOEXCEPT;

/* Close the map: later calls return TSMAP_CLOSED; every value still in it is evicted
 * through on_entry_evicted with reason TSMAP_EVICT_CLOSED (TSMAP_EVICT_EXPIRED for one
 * past its deadline, G10), exactly once; a maintenance thread is stopped and joined; then
 * on_map_closed runs; hooks run with no lock held. May race with other calls: each is
 * ordered before the close or returns TSMAP_CLOSED (a compute already running discards
 * its result, reason TSMAP_EVICT_DISCARDED). Waits for concurrent readers to leave the
 * tables before freeing them. Statuses: TSMAP_OK; TSMAP_CLOSED if already closed;
 * TSMAP_INVALID_ARGUMENT for NULL. */
TSMAP_MAP_OPERATION tsmap_status tsmap_close(tsmap *map) TSMAP_NOEXCEPT;

/* Close the map if it is open, then free the handle. Unlike every other call, no other
 * call on this map may be running or start (nor may a callback, hook or visitor of this
 * map call it): the handle is gone afterwards. NULL is a no-op, like free(NULL). Always
 * returns TSMAP_OK. */
TSMAP_MAP_OPERATION tsmap_status tsmap_destroy(tsmap *map) TSMAP_NOEXCEPT;

/* ---- Reads and writes ----------------------------------------------------------------- */

/* Copy the value of `key` into value_out (value_size bytes; may be NULL to test presence).
 * Takes no lock and writes no shared memory (G2). Statuses: TSMAP_OK; TSMAP_NOT_FOUND;
 * TSMAP_CLOSED; TSMAP_INVALID_ARGUMENT; TSMAP_REENTERED when called from a compute
 * callback for the key it is computing; TSMAP_NO_MEMORY only on a thread's first call
 * (its reader slot could not be allocated). */
TSMAP_MAP_OPERATION tsmap_status tsmap_get(tsmap *map, const void *key, size_t key_len,
                                           void *value_out) TSMAP_NOEXCEPT;

/* Store `value` (value_size bytes, copied) under `key`, inserting or overwriting. May
 * replace a value: when old_out is non-NULL the old value is copied there and the caller
 * owns it; when old_out is NULL the old value goes to on_entry_evicted (reason
 * TSMAP_EVICT_REPLACED). on_entry_created runs for the new value. No callback is run
 * under a lock. Statuses: TSMAP_OK (inserted); TSMAP_REPLACED (overwritten); TSMAP_CLOSED;
 * TSMAP_NO_MEMORY; TSMAP_INVALID_ARGUMENT (also, on a replicated map, once its version
 * counter reached the clock headroom, TSMAP_CLOCK_LIMIT: so for every write, put_if_absent,
 * remove, the computes and the *_if_version and *_ttl calls, nothing changed);
 * TSMAP_REENTERED; TSMAP_TOO_HEAVY (max_weight: the value weighs more than a shard's
 * share; nothing changed). On a bounded map an
 * inserted value may be evicted at once (max_entries, admission): still TSMAP_OK. */
TSMAP_MAP_OPERATION TSMAP_REPLACES tsmap_status tsmap_put(tsmap *map, const void *key,
                                                          size_t key_len, const void *value,
                                                          TSMAP_REMOVED_OUT void *old_out) TSMAP_NOEXCEPT;

/* Store `value` only if `key` has no value. When it has one, the map is unchanged, the
 * caller still owns `value`, and the present value is copied to existing_out (if
 * non-NULL). Statuses: TSMAP_OK (inserted); TSMAP_EXISTS; TSMAP_CLOSED; TSMAP_NO_MEMORY;
 * TSMAP_INVALID_ARGUMENT; TSMAP_REENTERED; TSMAP_TOO_HEAVY (as tsmap_put, whether or not
 * the key has a value). */
TSMAP_MAP_OPERATION tsmap_status tsmap_put_if_absent(tsmap *map, const void *key,
                                                     size_t key_len, const void *value,
                                                     void *existing_out) TSMAP_NOEXCEPT;

/* Remove `key`. When value_out is non-NULL the removed value is copied there and the
 * caller owns it; when it is NULL the value goes to on_entry_evicted (reason
 * TSMAP_EVICT_REMOVED). Statuses: TSMAP_OK; TSMAP_NOT_FOUND; TSMAP_CLOSED;
 * TSMAP_INVALID_ARGUMENT; TSMAP_REENTERED; TSMAP_NO_MEMORY only on a thread's first
 * call (its reader record could not be allocated), in a replicated map (G13) when the
 * key's tombstone could not be allocated, or during a reshard (tsmap_reshard) when the
 * key must move first and its new shard cannot grow; nothing was removed then. A key
 * whose value expired (G10) is absent: TSMAP_NOT_FOUND, also when its
 * TSMAP_EVICT_EXPIRED eviction cannot be queued for want of memory (the value then
 * stays until a later reclaim, which hooks it once). */
TSMAP_MAP_OPERATION tsmap_status tsmap_remove(tsmap *map, const void *key, size_t key_len,
                                              TSMAP_REMOVED_OUT void *value_out) TSMAP_NOEXCEPT;

/* Pointer-valued forms for maps whose value_size is sizeof(void *): `value` itself is the
 * object that becomes visible to other threads through the map. Same statuses as
 * tsmap_put / tsmap_put_if_absent (TSMAP_INVALID_ARGUMENT when value_size differs). */
TSMAP_MAP_OPERATION TSMAP_REPLACES tsmap_status tsmap_put_ptr(tsmap *map, const void *key,
                                                              size_t key_len,
                                                              TSMAP_PUBLISHES void *value,
                                                              TSMAP_REMOVED_OUT void **old_out) TSMAP_NOEXCEPT;
TSMAP_MAP_OPERATION tsmap_status tsmap_put_ptr_if_absent(tsmap *map, const void *key,
                                                         size_t key_len,
                                                         TSMAP_PUBLISHES void *value,
                                                         void **existing_out) TSMAP_NOEXCEPT;

/* ---- Compute -------------------------------------------------------------------------- */

/* A compute_if_absent callback: write the new value (value_size bytes) to *value_out and
 * return 0, or return non-zero to store nothing. Runs with no map lock held; may call the
 * map on other keys (see "Calling the map" above). */
typedef int (*tsmap_absent_fn)(const void *key, size_t key_len, void *ctx,
                               TSMAP_OUT void *value_out);

/* What a compute callback decided. */
typedef enum tsmap_verdict {
  TSMAP_KEEP = 0,   /* leave the map as it is */
  TSMAP_STORE = 1,  /* store *new_value (insert, or replace the old value) */
  TSMAP_DELETE = 2  /* remove the entry (no-op when absent) */
} tsmap_verdict;

/* A compute / compute_if_present callback. old_value is the current value, or NULL when
 * the key is absent (compute only). Write the new value to *new_value for TSMAP_STORE.
 * Runs with no map lock held and may call the map on other keys (see "Calling the map"
 * above); the map may run it again (on contention) and discard a result it did not
 * store, so it must be idempotent. A TSMAP_STORE whose new value is bytewise equal to
 * the old value is a no-op (no hooks). In a map of pointers whose hook frees, that
 * includes a new object that malloc placed at the old value's address because another
 * thread's write freed the old value while fn ran: the map cannot tell it from the old
 * value as is, takes no ownership of it, and it leaks. A callback that allocates its
 * result must check for that (new pointer == *(void *const *)old_value) and allocate
 * again (before freeing the first); the same holds for a resolver's new object and
 * `local->value` (tsmap_merge). A return other than TSMAP_KEEP, TSMAP_STORE or
 * TSMAP_DELETE applies nothing: the call returns TSMAP_INVALID_ARGUMENT. */
typedef tsmap_verdict (*tsmap_compute_fn)(const void *key, size_t key_len,
                                          const void *old_value, void *ctx,
                                          TSMAP_OUT void *new_value);

/* Single-flight insert (G4): if `key` has a value, copy it to value_out; otherwise run
 * `fn` once, with no lock held, and store its result. Concurrent callers for the same
 * absent key wait for the one callback in flight and then see its value; if it fails,
 * one of them runs its own. The callback may be run again by another call after a
 * failure, hence TSMAP_CALLBACK. If a put raced in while fn ran, fn's value is discarded
 * (on_entry_evicted, reason TSMAP_EVICT_DISCARDED) and the present value is returned.
 * Calling any map operation on `key` from inside fn returns TSMAP_REENTERED, never
 * deadlocks; so does a wait that would close a cycle between threads. During a reshard
 * (tsmap_reshard, G15) the single flight is per shard: two callers for one absent key,
 * one routed before a routing change and one after, may each run their callback; the
 * second result is discarded (TSMAP_EVICT_DISCARDED) and both return the stored value.
 * value_out may be NULL. Statuses: TSMAP_OK (value_out holds the present or computed value);
 * TSMAP_CALLBACK_FAILED; TSMAP_REENTERED; TSMAP_CLOSED; TSMAP_NO_MEMORY;
 * TSMAP_INVALID_ARGUMENT; TSMAP_TOO_HEAVY (max_weight: fn's value weighs more than a
 * shard's share; it is discarded, TSMAP_EVICT_DISCARDED). */
TSMAP_MAP_OPERATION tsmap_status tsmap_compute_if_absent(tsmap *map, const void *key,
                                                         size_t key_len,
                                                         TSMAP_CALLBACK tsmap_absent_fn fn,
                                                         void *ctx, void *value_out) TSMAP_NOEXCEPT;

/* If `key` has a value, run `fn` on it with no lock held and apply its verdict; retry
 * (running fn again, discarding its previous result with reason TSMAP_EVICT_DISCARDED)
 * when another writer changed the entry meanwhile, or a reshard (G15) moved it to its new
 * shard (then with no other writer at all). May replace or remove the value: the
 * old value goes to on_entry_evicted (reason TSMAP_EVICT_REPLACED / _REMOVED). value_out
 * (may be NULL) receives the value in the map afterwards, and only on TSMAP_OK (on any
 * other status it is left untouched). Statuses: TSMAP_OK (fn's KEEP
 * or STORE took effect: a value is present afterwards, in value_out); TSMAP_REMOVED
 * (fn's DELETE took effect: this call removed the entry, whose value went to
 * on_entry_evicted); TSMAP_NOT_FOUND (the key was absent, so nothing was applied: fn did
 * not run, or its last run was discarded because another call removed the key first);
 * TSMAP_CLOSED; TSMAP_NO_MEMORY; TSMAP_INVALID_ARGUMENT; TSMAP_REENTERED; TSMAP_TOO_HEAVY
 * (max_weight: fn's STORE value weighs more than a shard's share; it is discarded,
 * TSMAP_EVICT_DISCARDED, and nothing changed). As in
 * compute_if_absent, a call on `key` from inside fn returns TSMAP_REENTERED (other keys
 * are fine). */
TSMAP_MAP_OPERATION TSMAP_REPLACES tsmap_status
tsmap_compute_if_present(tsmap *map, const void *key, size_t key_len,
                         TSMAP_CALLBACK tsmap_compute_fn fn, void *ctx, void *value_out) TSMAP_NOEXCEPT;

/* Like tsmap_compute_if_present, but fn also runs when the key is absent (old_value NULL)
 * and may insert. Retries on contention; never holds a lock while fn runs. Statuses as
 * tsmap_compute_if_present; for an absent key, fn's STORE gives TSMAP_OK and its KEEP or
 * DELETE gives TSMAP_NOT_FOUND (nothing to remove). */
TSMAP_MAP_OPERATION TSMAP_REPLACES tsmap_status tsmap_compute(tsmap *map, const void *key,
                                                              size_t key_len,
                                                              TSMAP_CALLBACK tsmap_compute_fn fn,
                                                              void *ctx, void *value_out) TSMAP_NOEXCEPT;

/* ---- Expiry (G10) --------------------------------------------------------------------- */

/* The *_ttl forms of the insert paths: the same contract, statuses and annotations as
 * the call without the suffix, and the value they store (insert or replace) expires
 * `ttl_ns` nanoseconds from now by the map's clock (TSMAP_TTL_NEVER: never;
 * TSMAP_TTL_DEFAULT: the map's default_ttl_ns, which is what the calls without the
 * suffix use). A replaced value's deadline is not kept: the new value gets its own.
 * An expired entry is absent to every call: a put on its key inserts (TSMAP_OK) and
 * put_if_absent stores, compute sees old_value NULL, compute_if_absent runs its callback,
 * and the expired value goes to on_entry_evicted (TSMAP_EVICT_EXPIRED), once. Such a
 * call may also return TSMAP_NO_MEMORY when that eviction could not be queued (the map
 * is unchanged). A compute STORE of a value bytewise equal to the old one keeps the old
 * deadline (it is a no-op). TSMAP_INVALID_ARGUMENT on a map created without expiry. */
TSMAP_MAP_OPERATION TSMAP_REPLACES tsmap_status tsmap_put_ttl(tsmap *map, const void *key,
                                                              size_t key_len,
                                                              const void *value,
                                                              uint64_t ttl_ns,
                                                              TSMAP_REMOVED_OUT void *old_out) TSMAP_NOEXCEPT;
TSMAP_MAP_OPERATION tsmap_status tsmap_put_if_absent_ttl(tsmap *map, const void *key,
                                                         size_t key_len, const void *value,
                                                         uint64_t ttl_ns, void *existing_out) TSMAP_NOEXCEPT;
TSMAP_MAP_OPERATION TSMAP_REPLACES tsmap_status
tsmap_put_ptr_ttl(tsmap *map, const void *key, size_t key_len, TSMAP_PUBLISHES void *value,
                  uint64_t ttl_ns, TSMAP_REMOVED_OUT void **old_out) TSMAP_NOEXCEPT;
TSMAP_MAP_OPERATION tsmap_status tsmap_put_ptr_if_absent_ttl(tsmap *map, const void *key,
                                                             size_t key_len,
                                                             TSMAP_PUBLISHES void *value,
                                                             uint64_t ttl_ns,
                                                             void **existing_out) TSMAP_NOEXCEPT;
TSMAP_MAP_OPERATION tsmap_status tsmap_compute_if_absent_ttl(tsmap *map, const void *key,
                                                             size_t key_len,
                                                             TSMAP_CALLBACK tsmap_absent_fn fn,
                                                             void *ctx, uint64_t ttl_ns,
                                                             void *value_out) TSMAP_NOEXCEPT;
TSMAP_MAP_OPERATION TSMAP_REPLACES tsmap_status
tsmap_compute_ttl(tsmap *map, const void *key, size_t key_len,
                  TSMAP_CALLBACK tsmap_compute_fn fn, void *ctx, uint64_t ttl_ns,
                  void *value_out) TSMAP_NOEXCEPT;
TSMAP_MAP_OPERATION TSMAP_REPLACES tsmap_status
tsmap_compute_if_present_ttl(tsmap *map, const void *key, size_t key_len,
                             TSMAP_CALLBACK tsmap_compute_fn fn, void *ctx, uint64_t ttl_ns,
                             void *value_out) TSMAP_NOEXCEPT;

/* Reclaim expired entries of an idle map (G10): look at up to `budget` slots (rounded up
 * to whole groups of 7; 0 looks at none), continuing round-robin over the shards where
 * the previous call stopped, and evict every expired entry found (TSMAP_EVICT_EXPIRED;
 * hooks run with no lock held, after each shard's lock is released). A budget larger
 * than the map's slots looks at about as many slots as the map has (SIZE_MAX: one pass
 * over the whole map), so the call's work is bounded by the map's size. Call it from
 * your own timer, or set maintain_interval_ns. Writes already sweep a group of their
 * shard each, so a busy map needs neither. During a reshard (tsmap_reshard) it also
 * moves up to budget / 7 groups' entries to their new shards, so a map nobody writes to
 * finishes its reshard when it is maintained. On every map it also frees what earlier
 * writes retired and no reader can hold any more (a growth's old table, removed long
 * keys' blocks, G3), and gives back the pages of such mapped tables, visiting up to
 * budget / 7 shards (a chunk of 8 KiB given back counts as the groups it held): a map
 * that went quiet after a burst gets that memory back when it is maintained, not at its
 * shards' next writes. It never waits for a reader (what one may still hold stays for a
 * later call). Statuses: TSMAP_OK (also on a map without expiry: nothing expired to
 * reclaim); TSMAP_CLOSED (also when a hook it ran closed the map); TSMAP_INVALID_ARGUMENT
 * (NULL map). */
TSMAP_MAP_OPERATION tsmap_status tsmap_maintain(tsmap *map, size_t budget) TSMAP_NOEXCEPT;

/* ---- Versions and compare-and-set (G12) ------------------------------------------------ */

/* Expected versions of the *_if_version calls (any other value: that version). */
#define TSMAP_VERSION_ABSENT UINT64_C(0)     /* the key has no value */
#define TSMAP_VERSION_ANY (~UINT64_C(0))     /* whatever the key holds: no condition */

/* tsmap_get, and the value's version into *version_out (may be NULL). Lock-free and
 * writes nothing shared, like tsmap_get. A version is never reused for a key: every write
 * of the key (put, compute's STORE, remove in a replicated map, merge) gives it a larger
 * one, also after a remove and a new insert. Statuses: as tsmap_get;
 * TSMAP_INVALID_ARGUMENT on a map created without versions. */
TSMAP_MAP_OPERATION tsmap_status tsmap_get_version(tsmap *map, const void *key,
                                                   size_t key_len, void *value_out,
                                                   uint64_t *version_out) TSMAP_NOEXCEPT;

/* tsmap_put only if the key's version is `expected` (TSMAP_VERSION_ABSENT: only if it has
 * no value; TSMAP_VERSION_ANY: always). Else TSMAP_CONFLICT: nothing changed, the caller
 * still owns `value`, and *version_out holds the current version (TSMAP_VERSION_ABSENT
 * when absent). On success *version_out holds the new version (TSMAP_VERSION_ABSENT when
 * a bounded map's admission refused the new key's value, G11: it took no version, and the
 * key is absent after the call). The old value goes to
 * old_out (the caller owns it) or, when old_out is NULL, to on_entry_evicted
 * (TSMAP_EVICT_REPLACED), exactly once. version_out may be NULL. Statuses: TSMAP_OK
 * (inserted); TSMAP_REPLACED; TSMAP_CONFLICT; the statuses of tsmap_put. */
TSMAP_MAP_OPERATION TSMAP_REPLACES tsmap_status
tsmap_put_if_version(tsmap *map, const void *key, size_t key_len, const void *value,
                     uint64_t expected, uint64_t *version_out, TSMAP_REMOVED_OUT void *old_out) TSMAP_NOEXCEPT;

/* tsmap_remove only if the key's version is `expected` (TSMAP_VERSION_ANY: always). The
 * removed value goes to value_out (the caller owns it) or to on_entry_evicted
 * (TSMAP_EVICT_REMOVED). *version_out: on TSMAP_CONFLICT the current version; on success
 * the tombstone's version in a replicated map, else TSMAP_VERSION_ABSENT. Statuses:
 * TSMAP_OK; TSMAP_NOT_FOUND (absent, and `expected` was TSMAP_VERSION_ABSENT or
 * TSMAP_VERSION_ANY); TSMAP_CONFLICT; the statuses of tsmap_remove. */
TSMAP_MAP_OPERATION tsmap_status tsmap_remove_if_version(tsmap *map, const void *key,
                                                         size_t key_len, uint64_t expected,
                                                         uint64_t *version_out,
                                                         TSMAP_REMOVED_OUT void *value_out) TSMAP_NOEXCEPT;

/* tsmap_compute only if the key's version is `expected`: read the entry without a lock;
 * if its version is not `expected`, TSMAP_CONFLICT without running fn; else run fn with
 * no lock held and apply its verdict under the lock only if the version is still the
 * same, else TSMAP_CONFLICT (fn's STORE result goes to on_entry_evicted,
 * TSMAP_EVICT_DISCARDED). With TSMAP_VERSION_ANY it retries instead, as tsmap_compute
 * does, so fn may run more than once (TSMAP_CALLBACK). *version_out (may be NULL): the
 * version afterwards (TSMAP_VERSION_ABSENT after a STORE admission refused, as in
 * tsmap_put_if_version). Statuses: as tsmap_compute, and TSMAP_CONFLICT. */
TSMAP_MAP_OPERATION TSMAP_REPLACES tsmap_status
tsmap_compute_if_version(tsmap *map, const void *key, size_t key_len, uint64_t expected,
                         TSMAP_CALLBACK tsmap_compute_fn fn, void *ctx, uint64_t *version_out,
                         void *value_out) TSMAP_NOEXCEPT;

/* A visitor of versioned entries: return 0 to continue, non-zero to stop. Runs with no
 * lock held and may call the map on any key. Everything it gets is valid only during
 * the call. */
struct tsmap_change;
typedef int (*tsmap_change_fn)(const struct tsmap_change *change, void *ctx);

/* Visit the entries whose version is above `since` (a change feed), weakly consistently
 * like tsmap_foreach (G8), each with its version (and in a replicated map its clock and
 * stamp, and the tombstones changed since: tsmap_export). *next_since (may be NULL)
 * receives the version to pass next time: every change after this call's start is above
 * it (G12), so a feed loses nothing; a change may be visited twice. Statuses: TSMAP_OK;
 * TSMAP_STOPPED; TSMAP_CLOSED; TSMAP_NO_MEMORY; TSMAP_INVALID_ARGUMENT (also a map
 * without versions). */
TSMAP_MAP_OPERATION tsmap_status tsmap_foreach_since(tsmap *map, uint64_t since,
                                                     tsmap_change_fn fn, void *ctx,
                                                     uint64_t *next_since) TSMAP_NOEXCEPT;

/* ---- Replication: vector clocks, tombstones, merge (G13) ------------------------------- */

/* A change as one replica exports it and another merges it: plain data (pointers to
 * bytes, counts and integers), to be encoded for any transport (tsmap_change_encode). */
typedef struct tsmap_change {
  const void *key;
  size_t key_len;
  const void *value;     /* value_size bytes; NULL: the key was removed (a tombstone) */
  const uint64_t *clock; /* clock_len counters: entry i counts replica i's writes */
  size_t clock_len;      /* at most the map's replicas; missing counters are 0 (so a
                            change with no clock is dominated by, or equal to, anything:
                            tsmap_merge returns TSMAP_EXISTS and keeps nothing of it) */
  uint64_t stamp;        /* (Lamport time << 8) | replica of the latest write this side
                            includes (a local write: its own); a write that happened
                            after another has a larger one. The replica part (low 8
                            bits) is below the map's replicas (tsmap_merge) and below
                            TSMAP_MAX_REPLICAS (tsmap_change_encode and _decode), and
                            the clock includes the write it names: its time is at most
                            clock[stamp & 0xff] (tsmap_merge; so a change without a
                            clock has stamp 0 or time 0); else refused */
  uint64_t version;      /* the exporting map's version of this change (local meaning) */
} tsmap_change;

/* A resolver for concurrent changes of one key: `local` and `remote` (value NULL for a
 * tombstone) have clocks neither of which dominates. Return TSMAP_KEEP (the local side
 * stays), TSMAP_STORE (store *merged, value_size bytes) or TSMAP_DELETE (a tombstone);
 * the entry gets the pointwise maximum of both clocks. Runs with no map lock held and
 * may run more than once (TSMAP_CALLBACK): it must be deterministic and symmetric
 * (the same outcome for (a, b) as for (b, a), and for (a, resolve(a, b)) as for
 * resolve(a, b)), or replicas that resolve the same pair differ forever. That is not
 * enough for values: a state's value does not say which writes it came from, so one that
 * decides by anything but the stamps (a priority, a combination) may weigh a value
 * against a write that already replaced it, and two replicas can end with equal clocks
 * and different values for good (clocks converge whatever it decides; values do with
 * tsmap_resolve_latest: runtime/DESIGN.md, G13 (e)). It may call the
 * map on other keys; its calls on `key` return TSMAP_REENTERED. Any other return applies
 * nothing: tsmap_merge returns TSMAP_INVALID_ARGUMENT. */
typedef tsmap_verdict (*tsmap_resolve_fn)(const void *key, size_t key_len,
                                          const tsmap_change *local,
                                          const tsmap_change *remote, void *ctx,
                                          TSMAP_OUT void *merged);

/* A resolver: the side with the larger stamp wins (last writer wins, removes included).
 * With it, a write that happened after another is never lost to it (G13). */
tsmap_verdict tsmap_resolve_latest(const void *key, size_t key_len, const tsmap_change *local,
                                   const tsmap_change *remote, void *ctx, void *merged) TSMAP_NOEXCEPT;

/* Visit the entries and tombstones changed since version `since` (tsmap_foreach_since):
 * what a peer needs to merge. */
TSMAP_MAP_OPERATION tsmap_status tsmap_export(tsmap *map, uint64_t since, tsmap_change_fn fn,
                                              void *ctx, uint64_t *next_since) TSMAP_NOEXCEPT;

/* Apply a change a peer exported (its key, value or tombstone, clock, stamp; its version
 * is ignored). Against the local entry or tombstone of the key: a remote clock that
 * dominates replaces it; one that is dominated or equal changes nothing (TSMAP_EXISTS:
 * stale or a duplicate; and one concurrent with a bounded map's capacity eviction, which
 * only joins its clock, G11 above); concurrent clocks call `resolve` (NULL: tsmap_resolve_latest)
 * with no lock held, and the entry gets the pointwise maximum of both clocks and the
 * larger stamp, whatever the verdict (if the
 * entry changed meanwhile, the merge starts over, the discarded STORE result going to
 * on_entry_evicted, TSMAP_EVICT_DISCARDED, unless it is the remote's value as given:
 * `remote->value` is the caller's until a merge stores it, and is never hooked; a STORE
 * of the local value as given is a KEEP, never weighed nor hooked). Whether the merge
 * stored `remote->value` the status does not say (TSMAP_OK also when a resolver kept the
 * local side or stored a result of its own); a pointer map's receiver, which must free
 * its copy if not, calls tsmap_merge_stored, which says it. A value the merge replaces or removes goes to
 * old_out (the caller owns it) or, when old_out is NULL, to on_entry_evicted
 * (TSMAP_EVICT_REPLACED / _REMOVED), exactly once; a stored value gets on_entry_created.
 * A value bytewise equal to the local one (the remote's or a resolver's STORE) replaces
 * nothing: the clock changes, no hook runs, and the status is TSMAP_OK.
 * Every change takes a new local version, so tsmap_export passes it on. A local write
 * racing a merge may take a version above the counter the merge raised: it is then
 * concurrent with the remote change, not dominated by it, and the resolver decides (with
 * tsmap_resolve_latest its larger stamp wins). Statuses: TSMAP_OK
 * (changed; no value left); TSMAP_REPLACED (changed; a value left, in old_out);
 * TSMAP_EXISTS; TSMAP_INVALID_ARGUMENT (a map not replicated, clock_len above its
 * replicas, a counter or stamp time at or above TSMAP_CLOCK_LIMIT, a stamp whose replica
 * part, stamp & 0xff, is at or above its replicas, a stamp time above that replica's
 * counter in the clock, a bad key: nothing changed; a change
 * accepted raises this replica's counter to at most TSMAP_CLOCK_LIMIT -
 * TSMAP_CLOCK_HEADROOM, past which its local writes are refused); TSMAP_CLOSED; TSMAP_NO_MEMORY; TSMAP_REENTERED; TSMAP_TOO_HEAVY (max_weight,
 * G11: the value the merge would store, the remote's or a resolver's STORE, weighs more
 * than a shard's share, also when it meets a capacity tombstone; nothing changed, not even the clock, and a resolver's result is
 * hooked TSMAP_EVICT_DISCARDED, the remote's value as given excepted). A stored value is weighed like a put's, and evicts the
 * same way. */
TSMAP_MAP_OPERATION TSMAP_REPLACES tsmap_status tsmap_merge(tsmap *map,
                                                            const tsmap_change *remote,
                                                            TSMAP_CALLBACK tsmap_resolve_fn resolve,
                                                            void *ctx,
                                                            TSMAP_REMOVED_OUT void *old_out) TSMAP_NOEXCEPT;

/* tsmap_merge, and `*stored_out` (when not NULL) says who owns `remote->value` after
 * the call: 1 when the merge stored those bytes (the remote side dominated, or the
 * resolver chose them as given): the map owns them, on_entry_created ran for them in
 * the calling thread, and a bounded map's admission may already have hooked them
 * TSMAP_EVICT_CAPACITY; 0 otherwise, whatever the status (a KEEP, a DELETE, a resolver's
 * own result, a stale or duplicate change, a refusal, a value bytewise equal to the
 * local one): they are still the caller's. A receiver that copies each change's value
 * frees its copy exactly when `*stored_out` is 0. */
TSMAP_MAP_OPERATION TSMAP_REPLACES tsmap_status tsmap_merge_stored(
    tsmap *map, const tsmap_change *remote, TSMAP_CALLBACK tsmap_resolve_fn resolve, void *ctx,
    TSMAP_REMOVED_OUT void *old_out, int *stored_out) TSMAP_NOEXCEPT;

/* Drop the tombstones whose clock is at most `horizon` (horizon_len counters; missing
 * ones are 0): give a clock every replica has passed, and no change below it will
 * arrive again. A tombstone dropped too early lets a late or duplicated older write of
 * its key bring the key back (runtime/DESIGN.md, G13). *forgotten_out (may be NULL): how
 * many were dropped. Statuses: TSMAP_OK; TSMAP_CLOSED; TSMAP_INVALID_ARGUMENT. */
TSMAP_MAP_OPERATION tsmap_status tsmap_forget(tsmap *map, const uint64_t *horizon,
                                              size_t horizon_len, size_t *forgotten_out) TSMAP_NOEXCEPT;

/* The bytes of a change for a transport (little-endian, self-delimiting): with buf NULL
 * or too small, only *len_out (the size) is set and TSMAP_NO_MEMORY returned. value_size
 * is the map's. Statuses: TSMAP_OK; TSMAP_NO_MEMORY; TSMAP_INVALID_ARGUMENT (also a
 * value_size above TSMAP_MAX_VALUE_SIZE, a key above TSMAP_MAX_KEY_SIZE, more than
 * TSMAP_MAX_REPLICAS counters, or a stamp whose replica part is at or above
 * TSMAP_MAX_REPLICAS: what tsmap_change_decode refuses is never written). */
tsmap_status tsmap_change_encode(const tsmap_change *change, size_t value_size, void *buf,
                                 size_t cap, size_t *len_out) TSMAP_NOEXCEPT;
/* Decode what tsmap_change_encode wrote: *change points into `buf` (the clock into
 * clock_buf, TSMAP_MAX_REPLICAS words). *used_out: the bytes it took. Any bytes are
 * safe to give: nothing outside buf[0, len) is read. Statuses: TSMAP_OK; TSMAP_NOT_FOUND
 * (buf holds less than a whole change: read more); TSMAP_INVALID_ARGUMENT (a value_size
 * above TSMAP_MAX_VALUE_SIZE, which no map has, whatever the bytes; not a change
 * of this value size: a header that is not one, such as flags other than 0 or 1, more
 * than TSMAP_MAX_REPLICAS counters, a stamp whose replica part (stamp & 0xff) is at or
 * above TSMAP_MAX_REPLICAS, or a key above TSMAP_MAX_KEY_SIZE, which is refused
 * before asking for its bytes; the stream cannot be resynchronized after it). A decoded
 * change is not checked against a map: tsmap_merge does that. */
tsmap_status tsmap_change_decode(const void *buf, size_t len, size_t value_size,
                                 tsmap_change *change, uint64_t *clock_buf, size_t *used_out) TSMAP_NOEXCEPT;
/* Change the shard count to `new_count` (a power of two in 1..max_shard_count), live
 * (G15). Returns at once: entries move to their new shards a bounded share per write
 * (and per tsmap_maintain call, which moves up to `budget` slots' worth as well, and
 * finishes a reshard nobody writes to), while every call keeps working: a get finds an
 * entry in its old or its new shard, lock-free, never both and never neither; no hook
 * runs for a moved entry; close and destroy lose nothing. A later call retargets the
 * reshard in progress. While one runs, any write (put, remove, the computes) may also
 * return TSMAP_NO_MEMORY, changing nothing, when its key's new shard needs a larger table
 * that cannot be allocated (moving the key first is part of the write). Statuses:
 * TSMAP_OK (also when the map already has new_count shards); TSMAP_INVALID_ARGUMENT (NULL
 * map, a count that is not a power of two or is above max_shard_count; any count for a
 * bounded map, whose max_entries splits over the shards, or a replicated map, whose
 * tombstones stay in their shards); TSMAP_NO_MEMORY (the new shards' first tables:
 * nothing changed, no reshard starts); TSMAP_CLOSED (checked first). */
TSMAP_MAP_OPERATION tsmap_status tsmap_reshard(tsmap *map, size_t new_count) TSMAP_NOEXCEPT;

/* The shard count the map routes keys by now (during a reshard, the count it moves away
 * from) into *count_out, and the count a reshard in progress moves to into *target_out
 * (equal to *count_out when none is). A reshard sent back to the count its running phase
 * started from finishes that phase first: until it ends, *target_out is that phase's
 * end, then the count asked for. So `*count_out == *target_out` means no reshard runs.
 * Either may be NULL. Statuses: TSMAP_OK; TSMAP_INVALID_ARGUMENT; TSMAP_CLOSED. */
TSMAP_MAP_OPERATION tsmap_status tsmap_shard_counts(tsmap *map, size_t *count_out,
                                                   size_t *target_out) TSMAP_NOEXCEPT;

/* ---- Whole-map calls ------------------------------------------------------------------ */

/* Store the number of entries in *size_out: exact when no writer runs (also while a
 * reshard moves entries: a moving entry is counted once, G15), otherwise a value the map
 * had at some moment per shard (weakly consistent). Lock-free. With expiry, it
 * also counts expired entries not reclaimed yet (tsmap_maintain reclaims them). Statuses: TSMAP_OK;
 * TSMAP_CLOSED; TSMAP_INVALID_ARGUMENT. */
TSMAP_MAP_OPERATION tsmap_status tsmap_size(tsmap *map, size_t *size_out) TSMAP_NOEXCEPT;

/* A visitor: return 0 to continue, non-zero to stop. Runs with no lock held; it may call
 * the map on any key, the one it visits included (see "Calling the map" above). `key`
 * and `value` are valid only during the call. */
typedef int (*tsmap_visit_fn)(const void *key, size_t key_len, const void *value, void *ctx);

/* Visit every entry, weakly consistently (G8): each shard is copied under its lock at
 * some moment and its entries visited from the copy with no lock held, so every entry
 * present for the whole call is visited exactly once and no entry is visited twice.
 * An entry that left after its shard was copied (another thread's write, or the
 * visitor's own: a remove, a replace, a capacity eviction or expiry sweep its write
 * caused) may still be visited with its old value: in a map of pointers whose hook frees,
 * such a value points to a freed object.
 * Statuses: TSMAP_OK; TSMAP_STOPPED; TSMAP_CLOSED; TSMAP_NO_MEMORY (some shards may have
 * been visited); TSMAP_INVALID_ARGUMENT. */
TSMAP_MAP_OPERATION tsmap_status tsmap_foreach(tsmap *map, tsmap_visit_fn fn, void *ctx) TSMAP_NOEXCEPT;

/* ---- NUMA placement (G14) -------------------------------------------------------------- */

/* Where one shard's memory goes. */
typedef struct tsmap_shard_placement {
  int node;            /* the shard's NUMA node; -1: none (policy none, or no topology) */
  int bound;           /* 1: every table the shard has allocated was bound to `node` with
                          mbind; 0: at least one was allocated plainly (see reason) */
  int error;           /* the errno of mbind's refusal (EPERM, ENOSYS, EINVAL...), else 0 */
  const char *reason;  /* "" when bound; else why not, in words. Valid while the map is */
  size_t shard_count;  /* the map's shard count (shards are 0..shard_count-1) */
  size_t node_count;   /* online nodes the topology listed; 0: not read (policy none) */
} tsmap_shard_placement;

/* Report where shard `shard` is placed into *out: 0 <= shard < shard_count, or during a
 * reshard (tsmap_reshard) also a shard it is filling or emptying. Shards a reshard adds
 * are placed as the policy places shards at create: interleaved, shard i on the
 * (i mod k)-th of the k nodes with CPUs (k = 0, a topology whose cpulists are all empty:
 * the k online nodes instead); local, on the creating thread's node. Lock-free.
 * Statuses, checked in this order: TSMAP_INVALID_ARGUMENT (NULL map or out, shard out of
 * range: out->shard_count is still filled in when map and out are not NULL);
 * TSMAP_CLOSED; TSMAP_OK. */
TSMAP_MAP_OPERATION tsmap_status tsmap_placement(tsmap *map, size_t shard,
                                                 tsmap_shard_placement *out) TSMAP_NOEXCEPT;

/* The number of online NUMA nodes listed under `numa_root` (NULL: the real machine's,
 * /sys/devices/system/node) into *count_out. Statuses: TSMAP_OK; TSMAP_INVALID_ARGUMENT
 * (NULL count_out, a missing or malformed topology). */
tsmap_status tsmap_numa_node_count(const char *numa_root, size_t *count_out) TSMAP_NOEXCEPT;

/* ---- Metrics (Prometheus text exposition 0.0.4) ---------------------------------------- */

/* Receives the exposition text a piece at a time (not NUL-terminated; pieces of up to
 * 4 KiB, which need not end at a line). Return 0 to go on, non-zero to stop: it is not
 * called again, and the call returns TSMAP_STOPPED with only a prefix of the text
 * written, cut anywhere (discard it). Runs with no map lock held. */
typedef int (*tsmap_metrics_writer)(const char *text, size_t len, void *ctx);

/* Write the metrics of `map` in the Prometheus text format (version 0.0.4) to `writer`.
 * Every map has tsmap_entries, tsmap_shards, tsmap_table_bytes, tsmap_retired_bytes (memory
 * retired and not yet freed, because a reader may still see it), tsmap_growth_in_progress
 * and tsmap_migrated_groups_total; a map created with config.metrics also has operation
 * counts and durations, evictions and lifespans by reason, compute retries, single-flight
 * waits and re-entries (runtime/DESIGN.md, "Metrics", says what each means and when it is
 * exact). The map's config.name is the `map` label (empty when unnamed). Counters are
 * summed from per-thread counters at the time of the call, without stopping writers.
 * They belong to the map: a map created later with a destroyed one's name starts from
 * 0 (Prometheus reads that as a counter reset, as after a restart). A closed map is not
 * exposed any more (TSMAP_CLOSED here, and tsmap_metrics_write_all leaves it out), so
 * what its close evicted (reason `closed`, or `expired` past a deadline) is counted but
 * never shown: scrape before closing for a map's final counts.
 * Statuses: TSMAP_OK; TSMAP_STOPPED (the writer returned non-zero); TSMAP_CLOSED;
 * TSMAP_NO_MEMORY (the call's working memory, about 10 KiB from the map's allocator:
 * nothing was written); TSMAP_INVALID_ARGUMENT (a NULL map or writer). */
TSMAP_MAP_OPERATION tsmap_status tsmap_metrics_write(tsmap *map, tsmap_metrics_writer writer,
                                                     void *ctx) TSMAP_NOEXCEPT;

/* The same for every open map the process created with a config.name, in one exposition
 * (each metric family once, a series per map). Holds the registry's lock while it writes:
 * the writer must not destroy a named map; its calls of tsmap_metrics_write_all (and so
 * tsmap_metrics_format with a NULL map) and its tsmap_create of a named map would wait
 * for that lock for ever, and return TSMAP_REENTERED instead (any other call, on any map,
 * is fine). No named map open: an empty text (TSMAP_OK, no call of the writer).
 * Statuses: TSMAP_OK; TSMAP_STOPPED; TSMAP_NO_MEMORY (nothing was written; its buffers
 * come from malloc: they serve no one map, so no map's allocator); TSMAP_INVALID_ARGUMENT
 * (a NULL writer); TSMAP_REENTERED (called from its own writer). */
tsmap_status tsmap_metrics_write_all(tsmap_metrics_writer writer, void *ctx) TSMAP_NOEXCEPT;

/* Format the metrics of `map` (or, with a NULL map, of every named map) into `buf` of
 * `cap` bytes, NUL-terminated; *len_out receives the length of the whole text (without
 * the NUL) even when it did not fit. A NULL buf with cap 0 asks for the length alone
 * (TSMAP_OK; then call again with *len_out + 1 bytes). Statuses: TSMAP_OK; TSMAP_NO_MEMORY
 * when buf is given and the text is `cap` bytes or longer (buf holds a NUL-terminated
 * prefix; call again with *len_out + 1 bytes); TSMAP_INVALID_ARGUMENT
 * (len_out NULL, or buf NULL with a cap); the statuses of tsmap_metrics_write /
 * _write_all (their TSMAP_NO_MEMORY, no snapshot: *len_out 0, buf ""). So with cap above
 * 0, a TSMAP_NO_MEMORY with *len_out at least cap asks for a larger buffer, and one with
 * *len_out 0 is the call's own memory, which no buffer cures (a map's text is never
 * empty, and an empty one fits any cap above 0). */
tsmap_status tsmap_metrics_format(tsmap *map, char *buf, size_t cap, size_t *len_out) TSMAP_NOEXCEPT;

#ifdef __cplusplus
}
#endif

#endif /* TSMAP_TSMAP_H */
