/*
 * tsmap_internal.h - layouts and inline primitives shared by the runtime's sources.
 *
 * Invariants (the guarantees G1..G10 they serve are in runtime/DESIGN.md):
 *   I1  A table is an array of groups; a group is { seq, ctrl, 7 slots }. ctrl holds one
 *       byte per slot: EMPTY (0x00), DELETED (0x01) or FULL (0x80 | 7 hash bits); its
 *       eighth byte is always 0 and masked out. With 8-byte keys and values a group is
 *       exactly 128 bytes, aligned to 128: one adjacent-line pair, so a probe costs one
 *       memory access.
 *       The table's writers' copy (wctrl) holds every group's ctrl word as well: the
 *       two are equal whenever the shard lock is free.
 *   I2  A group's seq is odd exactly while a writer (holding the shard lock) changes the
 *       group, and each change gives it a larger value than it ever had (the table's
 *       wseq counter); every change of ctrl, of a key word or of a multi-word value
 *       happens in between. Readers copy what they need and accept it only if seq was
 *       even and unchanged. A one-word value is overwritten alone (a release store): a
 *       reader gets the old or the new value of the key it matched.
 *   I3  Every table keeps at least as many EMPTY slots as groups (growth_left counts DELETED as
 *       used, and an EMPTY slot is filled only while growth_left > 0, so it never wraps),
 *       so probe sequences end. A key is in at most one of a shard's two tables.
 *   I4  Slot words are only accessed atomically (relaxed; a value word stored alone is
 *       released and read with acquire), so concurrent readers never race in the C11
 *       sense; the seqlock gives them consistency.
 *   I5  A table or long key unlinked under the shard lock is retired with the epoch then
 *       current and freed only after the global epoch advanced twice (epoch-based
 *       reclamation; readers announce themselves in a per-thread slot).
 */
#ifndef TSMAP_INTERNAL_H
#define TSMAP_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "tsmap/tsmap.h"

#if defined(__GNUC__) || defined(__clang__)
#define TSMAP_LIKELY(x) __builtin_expect(!!(x), 1)
#define TSMAP_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define TSMAP_INLINE static inline __attribute__((always_inline))
#define TSMAP_HIDDEN __attribute__((visibility("hidden")))
#else
#define TSMAP_LIKELY(x) (x)
#define TSMAP_UNLIKELY(x) (x)
#define TSMAP_INLINE static inline
#define TSMAP_HIDDEN
#endif

#if defined(__SANITIZE_THREAD__)
#define TSMAP_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TSMAP_TSAN 1
#endif
#endif
#ifndef TSMAP_TSAN
#define TSMAP_TSAN 0
#endif

/* Two tiers of assertions (STYLE 11): tsmap_assert guards invariants in debug builds
 * (off with NDEBUG); tsmap_assert_debug adds costly checks only under TSMAP_DEBUG. */
#include <assert.h>
#define tsmap_assert(x) assert(x)
#ifdef TSMAP_DEBUG
#define tsmap_assert_debug(x) assert(x)
#else
#define tsmap_assert_debug(x) ((void)0)
#endif

#define TSMAP_GROUP_SLOTS 7
#define TSMAP_CTRL_SLOTS 0x00ffffffffffffffull /* the ctrl bytes of real slots */
#define TSMAP_GROUP_ALIGN 128
#define TSMAP_CTRL_EMPTY 0x00u
#define TSMAP_CTRL_DELETED 0x01u
#define TSMAP_BYTES_LO 0x0101010101010101ull
#define TSMAP_BYTES_HI 0x8080808080808080ull
#define TSMAP_BYTES_7F 0x7f7f7f7f7f7f7f7full
#define TSMAP_MIGRATE_GROUPS 2 /* groups moved per write while a shard grows (G5) */
/* Per write that does paging chores (every write while there is one to do): fault in a
 * page of the next table, or give back 2 pages of a reclaimed one. Twice that every other
 * write made those writes 2-5 us (3.6 us on average to give back 16 KiB), the most of D's
 * inserts over 5 us that no interruption explains; 64 KiB chunks took 5-20 us, the page
 * structures of a cold table being cache misses themselves. */
#define TSMAP_POPULATE_CHUNK ((size_t)4 << 10)
#define TSMAP_UNMAP_CHUNK ((size_t)8 << 10)

typedef _Atomic uint64_t tsmap_word;

/* ---- Relaxed word access (I4) ----------------------------------------------------------- */

TSMAP_INLINE uint64_t tsmap_ld(const tsmap_word *w) {
  return atomic_load_explicit((tsmap_word *)w, memory_order_relaxed);
}
TSMAP_INLINE void tsmap_st(tsmap_word *w, uint64_t v) {
  atomic_store_explicit(w, v, memory_order_relaxed);
}

/* ---- Control bytes --------------------------------------------------------------------- */

/* The high bit of each byte of x is set exactly where that byte of x is zero. */
TSMAP_INLINE uint64_t tsmap_zero_bytes(uint64_t x) {
  return ~(((x & TSMAP_BYTES_7F) + TSMAP_BYTES_7F) | x | TSMAP_BYTES_7F);
}
TSMAP_INLINE uint64_t tsmap_ctrl_match(uint64_t ctrl, unsigned h2) {
  return tsmap_zero_bytes(ctrl ^ (TSMAP_BYTES_LO * h2));
}
TSMAP_INLINE uint64_t tsmap_ctrl_empty(uint64_t ctrl) {
  return tsmap_zero_bytes(ctrl) & TSMAP_CTRL_SLOTS;
}
/* EMPTY or DELETED: the high bit is clear. */
TSMAP_INLINE uint64_t tsmap_ctrl_free(uint64_t ctrl) {
  return ~ctrl & TSMAP_BYTES_HI & TSMAP_CTRL_SLOTS;
}
TSMAP_INLINE uint64_t tsmap_ctrl_full(uint64_t ctrl) { return ctrl & TSMAP_BYTES_HI; }
TSMAP_INLINE unsigned tsmap_first_slot(uint64_t mask) {
  return (unsigned)__builtin_ctzll(mask) >> 3;
}
TSMAP_INLINE uint64_t tsmap_ctrl_set(uint64_t ctrl, unsigned slot, unsigned byte) {
  unsigned sh = slot * 8;
  return (ctrl & ~(0xffull << sh)) | ((uint64_t)byte << sh);
}
TSMAP_INLINE unsigned tsmap_ctrl_get(uint64_t ctrl, unsigned slot) {
  return (unsigned)(ctrl >> (slot * 8)) & 0xffu;
}
TSMAP_INLINE unsigned tsmap_h2(uint64_t hash) { return 0x80u | (unsigned)(hash >> 57); }

/* ---- Tables ------------------------------------------------------------------------------ */

/* A group: seq and ctrl, then TSMAP_GROUP_SLOTS slots of slot_words words each. */
typedef struct tsmap_group {
  tsmap_word seq;  /* I2: odd while a writer changes the group */
  tsmap_word ctrl; /* I1: one control byte per slot, slot 0 in the low byte */
  tsmap_word words[];
} tsmap_group;

typedef struct tsmap_table {
  size_t ngroups;     /* a power of two */
  size_t mask;        /* ngroups - 1 */
  size_t stride;      /* bytes per group */
  size_t growth_left; /* EMPTY slots that may still be filled (I3); shard lock */
  size_t bytes;       /* size of the allocation, for free */
  size_t populated;   /* a prepared table: bytes whose pages are faulted in (G5) */
  size_t mapped;      /* a table being unmapped: bytes not yet given back (G5) */
  size_t map_len;     /* mmap'd: the mapping's length, room for a later table, and
                         G5's paging chores apply; 0: from the allocator */
  int dirty;          /* a reclaimed table: some pages could not be given back */
  uint64_t retire_epoch;
  struct tsmap_table *retired_next;
  unsigned char *groups;
  /* The writers' side (shard lock; I1, I2): a copy of every group's control word, in an
   * array of its own after the groups (8 bytes a group: 8 MiB next to 128 MiB of groups
   * at 4M 8-byte keys and values, small enough to stay in the cache), and the last seq
   * a write gave a group. A write decides from the copy whether its key is absent and
   * where it goes, and stores seq, control word and slot without loading the group's
   * line: an insert of a fresh key does not wait for memory. Readers use neither. */
  uint64_t *wctrl;
  uint64_t wseq;
  uint32_t *birth; /* metrics on: each slot's insert time (metrics.h, M3); else NULL */
  /* A versioned map (G12, versions.h V5): each slot's version word, 8 words (one line) a
   * group, outside the groups so that they keep the plain layout; written under the
   * group's seq with the slot. A freq_side map (G11, bound.h) keeps each slot's frequency
   * word there instead. NULL on a map with neither. */
  tsmap_word *vers;
  /* The table's memory (groups onwards; the header is a heap block of its own): a
   * mapping when map_len, else a heap block of `bytes`. NULL once it became a spare. */
  unsigned char *mem;
  void *header; /* the heap block this header is in (tsmap_table_header_new) */
} tsmap_table;

TSMAP_INLINE tsmap_group *tsmap_table_group(const tsmap_table *t, size_t g) {
  return (tsmap_group *)(void *)(t->groups + g * t->stride);
}
/* The side word of slot `slot` of group `g`: its version (a versioned map, V5) or its
 * frequency word (a freq_side map, G11). */
TSMAP_INLINE tsmap_word *tsmap_table_ver(const tsmap_table *t, size_t g, unsigned slot) {
  return t->vers + g * 8 + slot;
}

/* Where tsmap_table_new puts a table's writers' control words (wctrl, after the groups)
 * and, in a versioned map, its version words (after wctrl, aligned to a line; V5), from
 * the groups' address, their count and their stride: what a reader or a prefetch that
 * has only the probe words (groups and count, not the descriptor) needs. */
TSMAP_INLINE uintptr_t tsmap_table_wctrl_at(uintptr_t groups, size_t ngroups, size_t stride) {
  return groups + ngroups * stride;
}
TSMAP_INLINE uintptr_t tsmap_table_vers_at(uintptr_t groups, size_t ngroups, size_t stride) {
  return (tsmap_table_wctrl_at(groups, ngroups, stride) + ngroups * sizeof(uint64_t) + 63) &
         ~(uintptr_t)63;
}

/* A long key (variable-length mode, more than 8 bytes): immutable once published. */
typedef struct tsmap_keyblock {
  size_t len;
  uint64_t retire_epoch;
  struct tsmap_keyblock *retired_next;
  unsigned char bytes[];
} tsmap_keyblock;

/* The bytes a block was allocated with: what its free gives back. */
TSMAP_INLINE size_t tsmap_keyblock_bytes(const tsmap_keyblock *kb) {
  return sizeof *kb + kb->len;
}

/* ---- Threads and epochs (I5) ------------------------------------------------------------- */

struct tsmap_pending;

/* One per thread that ever used a map; reused after the thread exits. */
typedef struct tsmap_thread {
  _Alignas(64) _Atomic uint64_t state; /* 0 quiescent, else (epoch << 1) | 1 */
  unsigned nest;                       /* owner-private nesting depth */
  struct tsmap_pending *computing;     /* owner-private: compute_if_absent in flight */
  struct tsmap_pending *waiting_for;   /* g_wait_lock: the pending this thread waits on */
  _Atomic int in_use;
  unsigned id;               /* unique per record: indexes per-thread metrics (M1) */
  struct tsmap_thread *next; /* registry list, never unlinked */
  /* M1 (metrics.h): the metered map this record's thread called last (its mx_id; 0 none)
   * and the record's private stripe of it. Owner-private; kept when the record is
   * recycled, as its stripes are. In the state line, which the owner writes anyway. */
  uint64_t mx_id;
  struct tsmap_mx_stripe *mx_st;
} tsmap_thread;

extern TSMAP_HIDDEN _Atomic uint64_t tsmap_global_epoch;
extern TSMAP_HIDDEN int tsmap_ebr_fence_mode;
extern TSMAP_HIDDEN __thread tsmap_thread *tsmap_tls_self
    __attribute__((tls_model("initial-exec")));

TSMAP_HIDDEN tsmap_thread *tsmap_thread_register(void);
TSMAP_HIDDEN void tsmap_ebr_init(void);
TSMAP_HIDDEN int tsmap_ebr_try_advance(void);
TSMAP_HIDDEN void tsmap_ebr_synchronize(void);

/* The calling thread's record, registering it on first use (NULL: out of memory). */
TSMAP_INLINE tsmap_thread *tsmap_self(void) {
  tsmap_thread *t = tsmap_tls_self;
  return TSMAP_LIKELY(t != NULL) ? t : tsmap_thread_register();
}

/* Enter a read-side section known to be the thread's outermost (its nest is 0): announce
 * the epoch in this thread's own slot. With membarrier the reclaimer pays for the
 * store-load fence; otherwise the reader does. The 8-byte get calls it directly. */
TSMAP_INLINE void tsmap_read_enter_outer(tsmap_thread *t) {
  uint64_t e = atomic_load_explicit(&tsmap_global_epoch, memory_order_relaxed);
  atomic_store_explicit(&t->state, (e << 1) | 1u, memory_order_relaxed);
  if (tsmap_ebr_fence_mode)
    atomic_thread_fence(memory_order_seq_cst);
  else
    atomic_signal_fence(memory_order_seq_cst);
}
TSMAP_INLINE void tsmap_read_exit_outer(tsmap_thread *t) {
  atomic_store_explicit(&t->state, 0, memory_order_release);
}

/* Enter a read-side section, nested or not: the outermost announces the epoch. */
TSMAP_INLINE void tsmap_read_enter(tsmap_thread *t) {
  if (t->nest++ == 0)
    tsmap_read_enter_outer(t);
}
TSMAP_INLINE void tsmap_read_exit(tsmap_thread *t) {
  if (--t->nest == 0)
    tsmap_read_exit_outer(t);
}

/* ---- Hashing ----------------------------------------------------------------------------- */

TSMAP_HIDDEN uint64_t tsmap_hash_bytes(const void *key, size_t len, uint64_t seed);
TSMAP_HIDDEN uint64_t tsmap_random_seed(void);

#define TSMAP_WY0 0xa0761d6478bd642full
#define TSMAP_WY1 0xe7037ed1a0b428dbull

TSMAP_INLINE uint64_t tsmap_mix(uint64_t a, uint64_t b) {
  __extension__ typedef unsigned __int128 tsmap_u128;
  tsmap_u128 r = (tsmap_u128)a * b;
  return (uint64_t)r ^ (uint64_t)(r >> 64);
}
TSMAP_INLINE void tsmap_mum(uint64_t *a, uint64_t *b) {
  __extension__ typedef unsigned __int128 tsmap_u128;
  tsmap_u128 r = (tsmap_u128)*a * *b;
  *a = (uint64_t)r;
  *b = (uint64_t)(r >> 64);
}
/* The 8-byte case of tsmap_hash_bytes, on a little-endian key word; `seed` is the
 * pre-mixed per-map seed. Must equal tsmap_hash_bytes(&k, 8, seed). */
TSMAP_INLINE uint64_t tsmap_hash_u64(uint64_t k, uint64_t seed) {
  uint64_t a = (k << 32) | (k >> 32), b = k;
  a ^= TSMAP_WY1;
  b ^= seed;
  tsmap_mum(&a, &b);
  return tsmap_mix(a ^ TSMAP_WY0 ^ 8u, b ^ TSMAP_WY1);
}

/* ---- The shard lock ----------------------------------------------------------------------- */

/* A spin-then-sleep lock (runtime/DESIGN.md, "The shard lock"). Writers hold a shard lock
 * for a few hundred nanoseconds (never while a callback or hook runs, G4/G6), so a waiter
 * spins first: a pthread mutex put contending writers to sleep and cost a quarter of the
 * CPU in the 50/50 benchmark. A waiter that spins long sleeps on the lock word (a futex on
 * Linux; elsewhere it yields), as the holder may have been preempted on a shared machine.
 * `held`: 0 free, 1 held, 2 held and a waiter may be asleep. Only a CAS from 0 takes a free
 * lock (never an exchange that could overwrite a 2); a sleeper sets 2 before it sleeps and
 * takes the lock with 2, so the unlock that frees it wakes the next. Unlock is one atomic
 * decrement: 1 -> 0 is the whole unlock; 2 wakes a sleeper (tsmap_lock_wake). */
typedef struct tsmap_lock {
  _Atomic uint32_t held;
} tsmap_lock;

TSMAP_INLINE void tsmap_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

TSMAP_HIDDEN void tsmap_lock_slow(tsmap_lock *l);
TSMAP_HIDDEN void tsmap_lock_wake(tsmap_lock *l);

/* Take l if it is free (0 -> 1). */
TSMAP_INLINE int tsmap_lock_try(tsmap_lock *l) {
  uint32_t free_word = 0;
  return atomic_compare_exchange_strong_explicit(&l->held, &free_word, 1,
                                                 memory_order_acquire, memory_order_relaxed);
}
TSMAP_INLINE void tsmap_lock_acquire(tsmap_lock *l) {
  if (TSMAP_LIKELY(tsmap_lock_try(l)))
    return;
  tsmap_lock_slow(l);
}
TSMAP_INLINE void tsmap_lock_release(tsmap_lock *l) {
  if (TSMAP_UNLIKELY(atomic_fetch_sub_explicit(&l->held, 1, memory_order_release) != 1))
    tsmap_lock_wake(l);
}

/* ---- Shards and the map ------------------------------------------------------------------ */

/* Something that must act around fork() (fork.h, G16): a map, a helper or maintenance
 * thread's owner. */
typedef struct tsmap_fork_watch {
  struct tsmap_fork_watch *prev, *next;
  /* Optional. Before the fork, in the forking thread, with the watch list locked: take
   * what no other thread may hold at the fork, giving up on what is still held at
   * `deadline` (CLOCK_MONOTONIC, ns). */
  void (*prepare)(struct tsmap_fork_watch *w, uint64_t deadline);
  /* Optional. After it, in the parent: release what prepare took. */
  void (*parent)(struct tsmap_fork_watch *w);
  /* In the child, alone, before fork returns: only what is safe there (no allocation,
   * no lock another thread could hold; initializing a mutex or condition is). */
  void (*child)(struct tsmap_fork_watch *w);
} tsmap_fork_watch;


/* An emptied table mapping kept to host a later table: all zero pages on demand (G5). */
typedef struct tsmap_spare {
  void *p;
  size_t len;
} tsmap_spare;
#define TSMAP_SPARES 2

typedef struct tsmap_shard {
  /* Read-mostly: what readers load (written only when a growth starts or ends). */
  _Alignas(64) _Atomic(tsmap_table *) cur;
  _Atomic(tsmap_table *) old;  /* non-NULL while cur is being filled from it (G5) */
  _Atomic uint64_t gen;        /* incremented when a growth starts */
  /* Writer-only, under lock. */
  _Alignas(64) tsmap_lock lock;
  _Atomic size_t count;
  size_t migrate_pos;               /* next group of old to move */
  struct tsmap_pending *pending;    /* compute_if_absent calls in flight */
  tsmap_table *next;                /* G5: the next table, prepared and faulted in ahead
                                       of the growth that will publish it; private */
  tsmap_table *unmapping;           /* G5: reclaimed tables, given back a chunk per write */
  tsmap_spare spare[TSMAP_SPARES];  /* G5: their emptied mappings, for later tables */
  unsigned nspare;
  unsigned chores;                  /* writes since create, paces the two above */
  tsmap_table *retired_tables;      /* I5 */
  tsmap_keyblock *retired_keys;
  size_t retired_count;
  size_t retired_bytes;             /* the two lists' bytes (tsmap_retired_bytes) */
  unsigned writes_since_reclaim;
  size_t migrated;                  /* groups moved by growths so far (metrics) */
  size_t rebuilds;                  /* growths whose cur had no room: rebuilt (tests) */
  size_t sweep_pos;                 /* G10: the next group of cur a write sweeps */
  size_t cap;                       /* G11: most entries the shard may hold (0: no bound) */
  size_t age_ops;                   /* G11: inserts since the shard last aged */
  uint32_t rng;                     /* G11: victim sampling */
  unsigned char age;                /* G11: counters are halved per age they miss */
  struct tsmap_tombs *tombs;        /* G13: tombstones of a replicated map (versions.h) */
  /* G15 (reshard.c): this shard as the source of a reshard phase, under its lock. */
  uint64_t rs_phase;                /* the phase rs_pos/rs_table belong to */
  size_t rs_pos;                    /* next group of rs_table to scan for moving keys */
  tsmap_table *rs_table;            /* the table being scanned (a growth restarts it) */
  unsigned char rs_done;            /* every moving key of this shard has moved */
  unsigned char rs_slot;            /* slots of group rs_pos scanned already (a step's cap
                                       stopped there): moved, or keys that stay */
  unsigned char rs_dst_ready;       /* its pair's destination has its table (R7, R10) */
  size_t rs_dropped;                /* R8: bytes of its emptied table given back since;
                                       SIZE_MAX: the pair is complete */
  unsigned char rs_shrink;          /* R8: a doubling's source, for tsmap_maintain to fit */
  unsigned char fork_held;          /* G16 (e): its lock taken by fork's prepare handler */
  _Atomic unsigned rs_seq;          /* R9: odd while its pair (it the lo) moves entries */
  tsmap_table *rs_next;             /* G15 (R7): a destination's table for what it will
                                       receive, faulted in before it is published */
  unsigned rs_waits;                /* G15 auto policy: lock waits in this window */
  unsigned rs_window_start;         /* G15 auto policy: `chores` when the window began */
  unsigned char *sketch;            /* G11: the admission sketch (bound.c, B5) */
  unsigned char *door;              /* G11: the sketch's doorkeeper, a bit set (B5) */
  unsigned sketch_bits;             /* G11: log2 of its counters per row */
  unsigned door_bits;               /* G11: log2 of the doorkeeper's bits */
  size_t sketch_adds;               /* G11: increments since it was last halved */
  size_t sketch_reset;              /* G11: bytes of the reset in progress done so far
                                       (SIZE_MAX: none in progress) */
  size_t span;                      /* G11: cap, or the entries assumed (weight only) */
  uint64_t weight;                  /* G11: the weights of its entries (max_weight) */
  uint64_t max_weight;              /* G11: its share of max_weight (0: none) */
  unsigned admit_freq;              /* G11: the counter of the entry being inserted (B5) */
  /* G12 (versions.h, V1): the last version a write of this shard took (a versioned map
   * without replicas); stored under the lock, raised by a feed walk and a reshard pair. */
  tsmap_word ver_last;
} tsmap_shard;

struct tsmap {
  /* Hot, read-only after create. */
  tsmap_shard *shards;
  /* The routing word (G15, reshard.h): bits 0..31 the shard mask, bits 32..61 a counter of
   * routing changes, TSMAP_ROUTE_MIGRATING and TSMAP_ROUTE_DIVERT (a reshard in progress, or
   * closed: every keyed call takes the reshard-aware path). A key's shard is
   * shards[(hash >> 32) & route]: the hash's top half is 32 bits, so the upper bits of the
   * word never reach the index. */
  _Atomic uint64_t route;
  uint64_t seed;            /* pre-mixed hash seed (default hash) */
  uint64_t raw_seed;        /* the seed a user hash receives */
  size_t key_size;          /* 0: variable */
  size_t key_words;
  size_t value_size;
  size_t value_words;
  size_t slot_words;
  size_t meta_words;        /* words after each value in a slot: the deadline (G10),
                               then the frequency word (G11), then a replicated map's
                               stamp and clock (G13), each only if configured; a
                               versioned map's version word is not in the slot (V5),
                               nor a freq_side map's frequency word (G11) */
  unsigned char expiring;   /* G10: a deadline word follows the value */
  unsigned char bounded;    /* G11: max_entries or max_weight: a frequency word follows */
  int fast8;                /* fixed 8-byte keys, default hash and equality, no meta */
  int fast8_meta;           /* the same with meta words (G10-G12): the 8-byte get, and
                               the 8-byte put when put_meta */
  int entry_fast;           /* fast8 and not metered, or put_ver8: get takes the fast
                               path (put: put_fast) */
  struct tsmap_metrics *mx; /* name and metrics (metrics.c); NULL: neither */
  tsmap_config cfg;
  tsmap_allocator alloc;
  void *shards_raw;
  size_t shards_bytes;
  struct tsmap_maint *maint;      /* G10: the maintenance thread, if configured */
  _Atomic size_t maintain_next;   /* G10: the shard tsmap_maintain continues with */
  _Atomic size_t reclaim_next;    /* G3: the shard its reclamation continues with */
  struct tsmap_place *place;      /* G14: each shard's node (placement.c); NULL: none */
  unsigned char versioned;        /* G12: each entry has a version word (table.vers) */
  size_t replicas;                /* G13: then a stamp and a clock of this many words */
  size_t ver_meta;                /* G13: the stamp's index among the meta words */
  _Atomic uint64_t version_next;  /* G12: the last version taken by a replicated map, or
                                     a floor under every shard's (versions.h, V1) */
  uint64_t mx_id;                 /* M1: unique per metered map (never 0), else 0 */
  uint64_t mx_id8;                /* M1: mx_id of a metered 8/8 fast8 map, else ~0 (matches
                                     no thread's cache: the 8/8 dispatch, metrics.h) */
  size_t shard_cap;               /* G15: shards allocated (reshard reaches at most this) */
  _Atomic size_t shard_hw;        /* G15: shards ever given a table (close, size, foreach) */
  _Atomic(struct tsmap_rstate *) rs; /* G15: reshard state (reshard.c); NULL until used */
  tsmap_fork_watch fork;          /* G16 (e): its shard locks across fork() (fork.c) */
  unsigned char fork_rs_held;     /* G16 (e): fork's prepare took the reshard mutex */
  unsigned char fork_slab_held;   /* G16 (e): fork's prepare took the slab's lock */
  int shards_mapped;              /* G15: the shard array is a mapping of its own */
  struct tsmap_slab *slab;        /* S1: the small tables' mapping (slab.c); NULL: none */
  unsigned char weighted;         /* G11: max_weight: entries' weights in the freq word */
  unsigned char entry_meta;       /* fast8_meta, unmetered, one value and one meta word:
                                     tsmap_get takes the meta get directly (G10-G12) */
  unsigned char put_meta;         /* entry_meta, 8-byte values, no weight: the 8-byte put
                                     with one meta word (tsmap_store8meta) */
  unsigned char entry_freq8;      /* entry_meta, bounded (the meta word is the frequency
                                     word), 8-byte values: tsmap_get inlines its get (G11) */
  /* The 8-byte get's view of each shard: two words per shard after the shard array (512
   * bytes at 32 shards), stored with cur and old (tsmap_shard_publish8), read lock-free
   * (tsmap_get8). probe8[2i] is shard i's cur: its groups | log2 of its group count, |
   * TSMAP_PROBE8_OK unless a growth moves entries from old; 0 once the shard is closed or
   * before it has a table. probe8[2i + 1] is old's (with TSMAP_PROBE8_OK) while the
   * shard grows, else 0. One load instead of gen, old and cur on each shard's own line,
   * cur's descriptor and gen again. */
  _Atomic uint64_t *probe8;
  unsigned char put_fast;         /* fast8, unmetered: the 8/8 put (entry_fast without a
                                     versioned map's get) */
  unsigned char put_ver8;         /* G12: versioned, unmetered, 8-byte keys and values, no
                                     other meta word: the 8/8 put that stores a version */
  unsigned char freq_side;        /* G11: bounded, unmetered, 8-byte keys and values, no
                                     other meta word: the frequency word is the table's
                                     side word (table.vers), not in the slot (bound.h) */
  unsigned char side;             /* versioned or freq_side: tables have side words */
  /* The entries of tsmap_get, tsmap_put and tsmap_put_if_absent for an 8-byte key (map,
   * key and, for the puts, value checked non-NULL), chosen once at create from the flags
   * above (tsmap_entries_choose, map.c): the public call tail-calls its map's, so that each
   * variant (plain, versioned, metered, bounded, with a meta word, generic) runs in a
   * frame of its own and pays none of the others' register saves and spills. The public
   * call's signature, so that the tail call moves no argument (key_len is 8). */
  tsmap_status (*get8)(tsmap *m, const void *key, size_t key_len, void *value_out);
  tsmap_status (*put8)(tsmap *m, const void *key, size_t key_len, const void *value,
                       void *old_out);
  tsmap_status (*put_if_absent8)(tsmap *m, const void *key, size_t key_len,
                                 const void *value, void *existing_out);
  /* G11, B8: a shard was near its bound at its last insert: reads look 1 in 8, not 1 in
   * 64. A line of its own (the padding), so that a map whose shards are filled unevenly,
   * and whose inserts flip it, does not take the flags and entries above, which every get
   * reads, from the readers' caches. */
  unsigned char bound_pad0[64];
  _Atomic unsigned char bound_near;
  unsigned char bound_pad1[63];
};

#define TSMAP_PROBE8_LG 63u /* log2(ngroups); groups are TSMAP_GROUP_ALIGN-aligned */
#define TSMAP_PROBE8_OK 64u /* clear: a growth in progress, or (groups 0) no table */

/* The address of the home group of `hash` in the table probe word `w` names, groups of
 * `stride` bytes (computed as an integer: the word is 0 once the shard is closed). */
TSMAP_INLINE uintptr_t tsmap_probe8_home(uint64_t w, uint64_t hash, size_t stride) {
  return (uintptr_t)(w & ~(uint64_t)(TSMAP_GROUP_ALIGN - 1)) +
         (uintptr_t)(hash & (((size_t)1 << (w & TSMAP_PROBE8_LG)) - 1)) * stride;
}

#define TSMAP_ROUTE_DIVERT ((uint64_t)1 << 63)
#define TSMAP_ROUTE_MIGRATING ((uint64_t)1 << 62)
/* Set by tsmap_close, before anything else it does, and never cleared: the map is closed
 * (G9). In the route, so that a call that saw the closure also sees the route diverted:
 * no later call of that thread takes a fast path into a shard not yet detached. */
#define TSMAP_ROUTE_CLOSED ((uint64_t)1 << 61)
#define TSMAP_ROUTE_TICK ((uint64_t)1 << 32)
/* The route's change counter: the bits above the shard mask that are no flag. */
#define TSMAP_ROUTE_CTR                                                                   \
  (~(TSMAP_ROUTE_DIVERT | TSMAP_ROUTE_MIGRATING | TSMAP_ROUTE_CLOSED | 0xffffffffull))

TSMAP_INLINE uint64_t tsmap_route(const tsmap *m) {
  return atomic_load_explicit(&((tsmap *)m)->route, memory_order_acquire);
}
/* Shards in use under the current routing. */
TSMAP_INLINE size_t tsmap_shard_count(const tsmap *m) {
  return (size_t)(uint32_t)tsmap_route(m) + 1;
}
/* Shards that ever held a table: what close, size and foreach walk. */
TSMAP_INLINE size_t tsmap_shard_hw(const tsmap *m) {
  return atomic_load_explicit(&((tsmap *)m)->shard_hw, memory_order_acquire);
}

/* Bytes per group of map m's tables. */
TSMAP_INLINE size_t tsmap_group_bytes(const tsmap *m) {
  return sizeof(tsmap_group) + TSMAP_GROUP_SLOTS * m->slot_words * sizeof(uint64_t);
}

TSMAP_INLINE tsmap_word *tsmap_slot(tsmap_group *g, size_t slot_words, unsigned i) {
  return g->words + (size_t)i * slot_words;
}

/* ---- Allocation ---------------------------------------------------------------------------- */

TSMAP_HIDDEN void *tsmap_mem_alloc(const tsmap *m, size_t size);
TSMAP_HIDDEN void *tsmap_mem_zalloc(const tsmap *m, size_t size);
TSMAP_HIDDEN void tsmap_mem_free(const tsmap *m, void *p, size_t size);
/* A fresh anonymous mapping of `len` bytes (zero pages on demand), or NULL. */
TSMAP_HIDDEN void *tsmap_mem_map(size_t len);
/* The page size, looked up once. */
TSMAP_HIDDEN size_t tsmap_page_size(void);
/* For tests: bytes of [p, p + len) in memory (mincore; 0 where it cannot tell). */
TSMAP_HIDDEN size_t tsmap_debug_resident_in(const void *p, size_t len);

/* G16 (e), in a child of fork (fork.c): shard s (locked) forgets the compute_if_absent
 * calls of threads the child does not have; the waits' lock is made new. */
TSMAP_HIDDEN void tsmap_pending_forked(tsmap_shard *s);
TSMAP_HIDDEN void tsmap_compute_forked(void);

/* ---- Keys, positions and the operations compute.c shares with map.c --------------------- */

#define TSMAP_MAX_KEY_WORDS (TSMAP_MAX_FIXED_KEY_SIZE / 8)
/* the deadline (G10), the frequency word (G11), version, stamp and clock (G12, G13) */
#define TSMAP_MAX_META_WORDS (4 + TSMAP_MAX_REPLICAS)
/* Words of a value as stored: the user's, then the meta words. */
#define TSMAP_MAX_VALUE_WORDS (TSMAP_MAX_VALUE_SIZE / 8 + TSMAP_MAX_META_WORDS)

/* A caller's key, prepared once per call. */
typedef struct tsmap_key {
  const unsigned char *p;
  size_t len;
  uint64_t hash;
  unsigned h2;
  tsmap_shard *shard;
  uint64_t route;                  /* G15: the routing word `shard` was picked under */
  uint64_t w[TSMAP_MAX_KEY_WORDS]; /* the slot's key words (fixed mode / short key) */
  uint64_t ttl; /* G10: the TTL of what the operation stores (read only with meta words) */
  const struct tsmap_ver_in *ver; /* G13: a merge's clock and stamp; NULL: a local write */
  uint64_t weight; /* G11: the weight of what it stores (read only on a weighted map) */
} tsmap_key;

/* Where an entry is: a table, group, slot. */
typedef struct tsmap_pos {
  tsmap_table *t;
  size_t g;
  unsigned slot;
} tsmap_pos;

/* What a lock-free read saw, to validate a later write against (compute). */
typedef struct tsmap_token {
  tsmap_pos pos;
  uint64_t gen; /* shard gen (even) */
  uint64_t seq; /* group seq (even) */
} tsmap_token;

/* Deferred work of a writer: what to free and which hooks to run after unlocking. */
typedef struct tsmap_after {
  tsmap_table *free_tables;
  tsmap_keyblock *free_keys;
  void *unmap_ptr;  /* a mapping to unmap (G5) */
  size_t unmap_len;
  struct tsmap_reaped *reaped; /* G10: expired entries unlinked, for their hooks */
  int rejected; /* G11, B5: the insert's value was not admitted; the caller hooks it as
                   evicted (TSMAP_EVICT_CAPACITY) right after its created hook */
} tsmap_after;
#define TSMAP_AFTER_INIT {NULL, NULL, NULL, 0, NULL, 0}

TSMAP_HIDDEN tsmap_status tsmap_key_prepare(const tsmap *m, const void *key, size_t len,
                                            tsmap_key *q);
TSMAP_HIDDEN int tsmap_key_equal_raw(const tsmap *m, const void *a, size_t alen,
                                     const tsmap_key *q);
TSMAP_HIDDEN tsmap_status tsmap_enter_op(tsmap *m, const tsmap_key *q, tsmap_thread **self);
/* The start of every keyed operation: hash and check the key, then tsmap_enter_op. */
static inline tsmap_status tsmap_begin_keyed_op(tsmap *m, const void *key, size_t len,
                                                tsmap_key *q, tsmap_thread **self) {
  tsmap_status st = tsmap_key_prepare(m, key, len, q);
  return st == TSMAP_OK ? tsmap_enter_op(m, q, self) : st;
}
TSMAP_HIDDEN int tsmap_shard_read(const tsmap *m, tsmap_shard *s, const tsmap_key *q,
                                  uint64_t *vbuf, tsmap_token *tok);
/* The lock-free read of a key's value words, meta words included (the generic get):
 * TSMAP_OK, TSMAP_NOT_FOUND or the entry checks' statuses. */
TSMAP_HIDDEN tsmap_status tsmap_read_words(tsmap *map, const void *key, size_t key_len,
                                           uint64_t *vbuf);
/* The same for a versioned map, through the 8-byte get where it applies (G12). */
TSMAP_HIDDEN tsmap_status tsmap_read_words8(tsmap *map, const void *key, size_t key_len,
                                           uint64_t *vbuf);
TSMAP_HIDDEN void tsmap_writer_begin(tsmap *m, tsmap_shard *s, tsmap_after *after);
TSMAP_HIDDEN void tsmap_writer_end(tsmap *m, tsmap_shard *s, tsmap_after *after);
TSMAP_HIDDEN void tsmap_after_run(tsmap *m, tsmap_after *after);
/* Shard s (locked): move what was retired two epochs ago or more to `after` (I5). */
TSMAP_HIDDEN void tsmap_collect(tsmap_shard *s, tsmap_after *after);
/* Shard s (locked): one paging chore (G5): a chunk of a reclaimed mapped table given back
 * (first, while s->unmapping), or of the prepared next table faulted in. */
TSMAP_HIDDEN void tsmap_shard_chores(tsmap *m, tsmap_shard *s, tsmap_after *after);
/* tsmap_maintain's reclamation (reclaim.c): frees what the shards retired once no reader
 * can hold it, and gives back reclaimed mapped tables' pages, `groups` groups' worth
 * (a shard visited costs 1, a chunk given back the groups it held). TSMAP_CLOSED if the
 * map was closed meanwhile, else TSMAP_OK. */
TSMAP_HIDDEN tsmap_status tsmap_reclaim_quiet(tsmap *m, size_t groups);
TSMAP_HIDDEN int tsmap_shard_find(const tsmap *m, tsmap_shard *s, const tsmap_key *q,
                                  tsmap_pos *pos);
TSMAP_HIDDEN void tsmap_pos_read_value(const tsmap *m, const tsmap_pos *pos, uint64_t *vbuf);
TSMAP_HIDDEN void tsmap_pos_write_value(const tsmap *m, const tsmap_pos *pos,
                                        const tsmap_key *q, const void *value);
TSMAP_HIDDEN const void *tsmap_slot_key(const tsmap *m, const uint64_t *kw, size_t *len);
TSMAP_HIDDEN tsmap_status tsmap_store(tsmap *map, const void *key, size_t key_len,
                                      const void *value, void *old_out, int replace,
                                      uint64_t ttl);
TSMAP_HIDDEN tsmap_status tsmap_keyblock_prepare(tsmap *m, const tsmap_key *q,
                                                 tsmap_keyblock **kb);
TSMAP_HIDDEN tsmap_status tsmap_shard_insert(tsmap *m, tsmap_shard *s, const tsmap_key *q,
                                             const void *value, tsmap_after *after);
/* Unlink the entry at `pos`, which leaves the map for `why` (counted by the metrics'
 * eviction and lifespan series: REMOVED for remove and compute's DELETE, EXPIRED and
 * CAPACITY for tsmap_reap). Shard lock held. */
TSMAP_HIDDEN void tsmap_shard_erase(tsmap *m, tsmap_shard *s, const tsmap_pos *pos,
                                    tsmap_evict_reason why);
TSMAP_HIDDEN void tsmap_keyblock_free(tsmap *m, tsmap_keyblock *kb);
TSMAP_HIDDEN void tsmap_hook_created(const tsmap *m, const tsmap_key *q, const void *value);
TSMAP_HIDDEN void tsmap_hook_evicted(const tsmap *m, const tsmap_key *q, const void *value,
                                     tsmap_evict_reason why);
TSMAP_HIDDEN void tsmap_value_out(const tsmap *m, const uint64_t *vbuf, void *out);

/* `v` is one of the verdicts a compute callback or a resolver may return; any other
 * applies nothing and the call says TSMAP_INVALID_ARGUMENT. */
TSMAP_INLINE int tsmap_verdict_known(tsmap_verdict v) {
  return (unsigned)v <= (unsigned)TSMAP_DELETE;
}

TSMAP_INLINE int tsmap_is_closed(const tsmap *m) {
  return (atomic_load_explicit(&((tsmap *)m)->route, memory_order_acquire) &
          TSMAP_ROUTE_CLOSED) != 0;
}

/* ---- Resharding hooks (G15, reshard.c) ---------------------------------------------------- */

/* A writer's key during a reshard: move it to its new shard first and route it there.
 * -1: it could not be moved (its new shard could not grow: TSMAP_NO_MEMORY, nothing
 * changed), 0 otherwise. With `keep`, 1: q->shard is locked and the route was checked
 * under its lock (the pair's locks the share took, the other released; R4): the writer
 * works there without locking it again. */
TSMAP_HIDDEN int tsmap_reshard_route(tsmap *m, tsmap_key *q, int keep);
/* Before a writer locks q->shard; a write that gets -1 returns TSMAP_NO_MEMORY. */
TSMAP_INLINE int tsmap_writer_route(tsmap *m, tsmap_key *q) {
  if (TSMAP_UNLIKELY(q->route & TSMAP_ROUTE_DIVERT))
    return tsmap_reshard_route(m, q, 0);
  return 0;
}
/* Under q->shard's lock: did the routing change since q was routed (a reshard step, or
 * close)? Then the writer unlocks and routes again (or reports TSMAP_CLOSED). */
TSMAP_INLINE int tsmap_route_moved(const tsmap *m, const tsmap_key *q) {
  return tsmap_route(m) != q->route;
}
/* A reader during a reshard (or on a stale route): look in the key's old and new shard. */
TSMAP_HIDDEN int tsmap_reshard_read(const tsmap *m, const tsmap_key *q, uint64_t *vbuf,
                                    tsmap_token *tok);
/* One shard's probe (tsmap_shard_read without the routing check). */
TSMAP_HIDDEN int tsmap_shard_probe(const tsmap *m, tsmap_shard *s, const tsmap_key *q,
                                   uint64_t *vbuf, tsmap_token *tok);
/* The same for an entry_fast map (8-byte key in q->w[0], one value word), with the 8-byte
 * group reader; `tok` is not set (G15: a get during a reshard, tsmap_reshard_get8). */
TSMAP_HIDDEN int tsmap_shard_probe8(const tsmap *m, tsmap_shard *s, const tsmap_key *q,
                                    uint64_t *vbuf, tsmap_token *tok);
/* G15: the get of an entry_fast map while a reshard diverts it: 1 found (the value in
 * *v), 0 absent, -1 closed, -2 for the generic get to decide (the route is clean again,
 * first call of a thread, inside a compute callback). */
TSMAP_HIDDEN int tsmap_reshard_get8(tsmap *m, const void *key, uint64_t *v);
/* tsmap_get8's -3 (a get of an entry_fast map with one value word, diverted; the thread is
 * registered and in no read-side section or compute callback): the same look from a
 * section of its own, and the get's status; on a hit `n` value bytes to value_out. */
TSMAP_HIDDEN tsmap_status tsmap_reshard_get8v(tsmap *m, const void *key, size_t n,
                                              void *value_out);
/* Move the entry at `pos` of shard `from` into shard `to` (both locked): inserted into to
 * before it is deleted from from; no hook, no metric of a leaving entry. `hash`: its key's
 * hash, which the caller has (a scan tested it, a writer routed by it). 0, or -1 when to
 * needed a growth that could not be allocated (nothing changed). */
TSMAP_HIDDEN int tsmap_shard_move(tsmap *m, tsmap_shard *from, const tsmap_pos *pos,
                                  tsmap_shard *to, uint64_t hash);
/* Prefetch, to be written, what a write of `hash` in shard `si` touches first (its home
 * group's lines and writers' control word), from the shard's probe words: no lock and no
 * read-side section needed (tsmap_writer_prefetch8; G15: a diverted writer's key in its
 * old and new shard, before it takes the pair's locks). */
TSMAP_HIDDEN void tsmap_shard_prefetch8(const tsmap *m, size_t si, uint64_t hash);
/* A shard's own growth step (lock held), for a reshard that waits for it. Returns 0, or
 * -1 when the step needed a rebuild (I3) that found no memory: nothing moved. */
TSMAP_HIDDEN int tsmap_shard_growth_step(tsmap *m, tsmap_shard *s);
/* Shard s (locked) will receive about `incoming` entries from a reshard's pair: unless it
 * has room for them, prepare a table that has (G15, R7), published by the steps below. */
TSMAP_HIDDEN void tsmap_shard_presize(tsmap *m, tsmap_shard *s, size_t incoming);
/* The groups of the table tsmap_shard_presize would prepare for shard s (locked), or 0
 * when s has room already or has a table prepared. */
TSMAP_HIDDEN size_t tsmap_shard_presize_groups(const tsmap_shard *s, size_t incoming);
/* A zeroed table of `ngroups` groups in a fresh mapping bound to s's node (G14), for a
 * thread that does not hold s's lock (G15's helper, R10): NULL where the table would not
 * be mapped (small, a custom allocator) or the mapping fails. */
TSMAP_HIDDEN tsmap_table *tsmap_table_new_mapped(const tsmap *m, tsmap_shard *s, size_t ngroups);
/* Fault in the next `chunk` bytes of a prepared table nobody else touches yet. */
TSMAP_HIDDEN void tsmap_table_populate(tsmap_table *t, size_t chunk);
/* Frees a table that was never published, or is no longer: its memory and header. */
TSMAP_HIDDEN void tsmap_table_free(const tsmap *m, tsmap_table *t);
/* One bounded step of that preparation (lock held): fault in a chunk of the table, or a
 * step of the shard's own growth, or publish the table as a growth. 2: it faulted pages
 * in, 1: another step, 0: nothing to do, -1: the growth step found no memory (its
 * rebuild, I3), nothing moved. */
TSMAP_HIDDEN int tsmap_shard_presize_step(tsmap *m, tsmap_shard *s);
/* Shard s (locked), whose scan a reshard's pair just completed, left with a table over
 * twice the size its entries need: a smaller table, which its writes then fill as in a
 * growth (R8). */
TSMAP_HIDDEN void tsmap_shard_fit(tsmap *m, tsmap_shard *s);
/* The same shard, emptied: give back the next chunk of its mapped table's pages
 * (TSMAP_UNMAP_CHUNK from *dropped on); the table stays, reading as empty. Returns 1 when
 * there is nothing (more) to give back (R8). */
TSMAP_HIDDEN int tsmap_shard_drop_step(tsmap_shard *s, size_t *dropped);
/* The same shard, emptied by a halving, whose table is not mapped (an allocator's, or
 * the heap's where mmap failed: no page to give back): a one-group table instead, the large one retired on
 * `heir` (locked too, the shard its entries went to, which is written: its writes free it
 * once no reader can hold it, I5), and so is what it retired before. */
TSMAP_HIDDEN void tsmap_shard_shed(tsmap *m, tsmap_shard *s, tsmap_shard *heir);
/* The parts of that step for G15's helper (R10): the bytes of shard s's (locked) emptied
 * mapped table to give back, from *mem (0: none, or it cannot be given back so); giving
 * back part of them (no lock: 1 on success); and, under the lock once all are given
 * back, the table's count of free slots made whole again. */
TSMAP_HIDDEN size_t tsmap_shard_drop_span(tsmap_shard *s, unsigned char **mem);
TSMAP_HIDDEN int tsmap_mem_drop_range(unsigned char *mem, size_t len);
TSMAP_HIDDEN void tsmap_shard_drop_finish(tsmap_shard *s);
/* Give shard i its first table (reshard to more shards than ever before). */
TSMAP_HIDDEN tsmap_status tsmap_shard_init_table(tsmap *m, size_t i);
TSMAP_HIDDEN uint64_t tsmap_slot_hash_of(const tsmap *m, const uint64_t *kw);
/* Route q under the map's current routing word (a writer whose route moved); -1 as for
 * tsmap_writer_route. */
TSMAP_HIDDEN int tsmap_reroute(tsmap *m, tsmap_key *q);

/* Powers of two: shard counts, table sizes. */
TSMAP_INLINE int tsmap_is_pow2(size_t x) { return x != 0 && (x & (x - 1)) == 0; }
TSMAP_INLINE size_t tsmap_pow2_at_least(size_t x) {
  size_t p = 1;
  while (p < x)
    p <<= 1;
  return p;
}

/* Copy `n` slot words out of a table (the caller holds the shard lock or validates). */
TSMAP_INLINE void tsmap_copy_words(uint64_t *dst, const tsmap_word *src, size_t n) {
  for (size_t i = 0; i < n; i++)
    dst[i] = tsmap_ld(&src[i]);
}

/* tables.c: table memory and tables (G5, G14). */
/* Whether a table of `size` bytes is first tried with mmap. */
TSMAP_HIDDEN int tsmap_table_wants_map(const tsmap *m, size_t size);
/* The length of a mapped block of `size` bytes. */
TSMAP_HIDDEN size_t tsmap_mem_mapped_len(size_t size);
/* Give back the pages of part of a mapped block, keeping the mapping; 0 where it cannot. */
TSMAP_HIDDEN int tsmap_mem_drop(void *p, size_t len);
/* Bytes of a table of `ngroups` groups after a head of `head` bytes; 0 on overflow. */
TSMAP_HIDDEN size_t tsmap_table_body(const tsmap *m, size_t ngroups, size_t head);
/* A zeroed table of `ngroups` groups for shard s, whose lock the caller holds (or NULL
 * at create): a spare mapping of s first, else a new one, else the heap. */
TSMAP_HIDDEN tsmap_table *tsmap_table_new(const tsmap *m, tsmap_shard *s, size_t ngroups);
/* Groups needed to hold `entries` at most 6/7 full, a power of two. */
TSMAP_HIDDEN size_t tsmap_groups_for(size_t entries);

/* map.c, for lifecycle.c: publishing a shard's tables, choosing the 8-byte entries. */
TSMAP_HIDDEN void tsmap_shard_set_cur(tsmap_shard *s, tsmap_table *t);
TSMAP_HIDDEN void tsmap_shard_publish8(const tsmap *m, tsmap_shard *s);
TSMAP_HIDDEN void tsmap_shard_swap(const tsmap *m, tsmap_shard *s, tsmap_table *old,
                                   tsmap_table *cur);
TSMAP_HIDDEN void tsmap_entries_choose(tsmap *m);

#endif /* TSMAP_INTERNAL_H */
