/*
 * tables.c - a shard's table memory: the map's allocator, mmap'd tables with spare mappings
 * and NUMA binding (G5, G14), and making and freeing tables; map.c writes in them.
 */
#include "tsmap_internal.h"
#include "metrics.h"
#include "placement.h"
#include "slab.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* ======================================================================================
 * Allocation
 * ====================================================================================== */

/* Tables of the default allocator from 4 KiB (32 groups of 8-byte keys and values) on
 * are mapped directly: fresh, lazily zeroed pages (starting a growth costs no memset, and
 * calloc could memset a reused heap block), that can be faulted in ahead and given back a
 * chunk at a time (G5). With the threshold at 256 KiB, the growths to smaller tables
 * calloc'd theirs inside one write: 10-30 us each, ~60 of the 4M writes of bench workload
 * D; at 16 KiB, the heap blocks freed by every shard's first growths stayed in the
 * process (about 190 KiB for 32 shards: workload E). Every other block, and a table whose
 * mmap fails (the process may be out of mappings, vm.max_map_count, where the heap still
 * has room), comes from malloc. */
#define TSMAP_MMAP_MIN ((size_t)4 << 10)

/* Whether a table of `size` bytes is first tried with mmap. */
int tsmap_table_wants_map(const tsmap *m, size_t size) {
  return !m->alloc.alloc && (size >= TSMAP_MMAP_MIN || m->place); /* G14: P3 */
}

/* The page size, looked up once. Writers of different shards (different locks) may get
 * here first at the same time: the cache is an atomic, and each computes the same value
 * (test_firstgrowth.c fails under TSan if it is a plain variable). */
size_t tsmap_page_size(void) {
  static _Atomic size_t page;
  size_t p = atomic_load_explicit(&page, memory_order_relaxed);
  if (TSMAP_UNLIKELY(!p)) {
    long sp = sysconf(_SC_PAGESIZE);
    p = sp > 0 ? (size_t)sp : 4096;
    atomic_store_explicit(&page, p, memory_order_relaxed);
  }
  return p;
}

/* The length of a mapped block of `size` bytes. */
size_t tsmap_mem_mapped_len(size_t size) {
  size_t page = tsmap_page_size();
  return (size + page - 1) & ~(page - 1);
}

/* A table's mapping has room for one 4x as large, the one two growths later, and at
 * least 4 MiB on 64-bit: a shard that grows takes an emptied spare mapping for its next
 * table instead of unmapping the old one and mapping a new one. munmap frees page tables,
 * which here took over 10 us in 1 of 10 calls (bench D: ~25 of its 400 slowest inserts). */
#define TSMAP_MAP_ROOM 4
#define TSMAP_MAP_MIN_LEN (sizeof(void *) >= 8 ? (size_t)4 << 20 : 0)

void *tsmap_mem_map(size_t len) {
  void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

/* Zeroed table memory. *map_len comes back as the length of the mapping it is in, or 0
 * when it is from tsmap_mem_zalloc. With `s` and `locked` (the caller holds s's lock), a
 * spare mapping of the shard that fits is taken first (the smallest); without `locked`
 * (G15's helper thread, R10) only a fresh mapping, or NULL: s's spares and slab are the
 * lock's, and a heap table needs no helper. */
static void *tsmap_table_mem(const tsmap *m, tsmap_shard *s, size_t size, size_t *map_len,
                             int locked) {
  *map_len = 0;
  if (!tsmap_table_wants_map(m, size)) {
    if (!locked)
      return NULL;
    void *p = s ? tsmap_slab_take(m, (size_t)(s - m->shards), size) : NULL; /* S1 */
    return p ? p : tsmap_mem_zalloc(m, size);
  }
  unsigned best = TSMAP_SPARES;
  for (unsigned i = 0; s && locked && i < s->nspare; i++)
    if (s->spare[i].len >= size && (best == TSMAP_SPARES || s->spare[i].len < s->spare[best].len))
      best = i;
  if (best < TSMAP_SPARES) {
    void *p = s->spare[best].p;
    *map_len = s->spare[best].len;
    s->spare[best] = s->spare[--s->nspare];
    return p;
  }
  size_t exact = tsmap_mem_mapped_len(size), room = exact;
  if (exact <= SIZE_MAX / TSMAP_MAP_ROOM)
    room = tsmap_mem_mapped_len(TSMAP_MAP_ROOM * size);
  if (room < TSMAP_MAP_MIN_LEN)
    room = TSMAP_MAP_MIN_LEN;
  void *p = tsmap_mem_map(room); /* the room may be refused (strict overcommit): exact */
  if (p) {
    *map_len = room;
  } else if ((p = tsmap_mem_map(exact)) != NULL) {
    *map_len = exact;
  } else if (!locked) { /* the helper leaves it to the writers, who may use the heap */
    return NULL;
  } else { /* out of mappings (vm.max_map_count) but maybe not of heap */
    if (m->place && s)
      tsmap_place_heap(m, s); /* G14: P4 */
    return tsmap_mem_zalloc(m, size);
  }
  if (m->place && s)
    tsmap_place_bind(m, s, p, *map_len); /* G14: P2, before the first touch */
  return p;
}

void *tsmap_mem_alloc(const tsmap *m, size_t size) {
  return m->alloc.alloc ? m->alloc.alloc(size, m->alloc.alloc_ctx) : malloc(size);
}

/* Zeroed memory. */
void *tsmap_mem_zalloc(const tsmap *m, size_t size) {
  if (!m->alloc.alloc)
    return calloc(1, size);
  void *p = m->alloc.alloc(size, m->alloc.alloc_ctx);
  if (p)
    memset(p, 0, size);
  return p;
}

void tsmap_mem_free(const tsmap *m, void *p, size_t size) {
  if (!p)
    return;
  if (m->alloc.free)
    m->alloc.free(p, size, m->alloc.alloc_ctx);
  else
    free(p);
}

/* Give back the pages of part of a mapped block, keeping the mapping (it reads as zero
 * pages afterwards). MADV_DONTNEED: about a third cheaper here than munmap of the chunk,
 * and half as often over 10 us. Returns 0 where pages cannot be given back so (elsewhere
 * than Linux the chunk is unmapped instead, and the mapping cannot be a spare). */
int tsmap_mem_drop(void *p, size_t len) {
#if defined(__linux__) && defined(MADV_DONTNEED)
  return madvise(p, len, MADV_DONTNEED) == 0;
#else
  munmap(p, len);
  return 0;
#endif
}

/* ======================================================================================
 * Tables
 * ====================================================================================== */

/* A table's header: a zeroed heap block aligned to a cache line (its lines are laid out:
 * fields every write reads apart from the ones a write stores), the block's own address
 * kept in it for tsmap_table_header_free. */
static tsmap_table *tsmap_table_header_new(const tsmap *m) {
  unsigned char *raw = (unsigned char *)tsmap_mem_zalloc(m, sizeof(tsmap_table) + 63);
  if (!raw)
    return NULL;
  tsmap_table *t = (tsmap_table *)(void *)(raw + ((64 - (uintptr_t)raw % 64) % 64));
  t->header = raw;
  return t;
}

static void tsmap_table_header_free(const tsmap *m, tsmap_table *t) {
  tsmap_mem_free(m, t->header, sizeof(tsmap_table) + 63);
}

/* A zeroed table of `ngroups` groups: every control byte EMPTY, every seq 0. With `s`
 * (locked), it may take one of the shard's spare mappings. The header is a heap block of
 * its own, so that a mapped table's groups start its mapping and its last page is not
 * one the header alone spills into (E: a page a shard). */
/* G12, V5: the bytes of a versioned map's version words (G11: a freq_side map's
 * frequency words), a line a group, aligned to a line; 0 for other maps. */
static size_t tsmap_table_side_bytes(const tsmap *m, size_t ngroups) {
  return m->side ? ngroups * 64 + 64 : 0;
}

/* The bytes of a table of `ngroups` groups after the alignment slack `head` (its groups,
 * control words, side lines and birth stamps), or 0 if they do not fit a size_t. */
size_t tsmap_table_body(const tsmap *m, size_t ngroups, size_t head) {
  size_t stride = tsmap_group_bytes(m);
  if (ngroups > (SIZE_MAX - head) / (stride + sizeof(uint64_t)))
    return 0;
  size_t birth = tsmap_mx_birth_bytes(m, ngroups); /* 0 unless metered (M3) */
  size_t vers = tsmap_table_side_bytes(m, ngroups);
  if (ngroups > (SIZE_MAX - head) / (stride + sizeof(uint64_t) + (vers ? 64 : 0)) ||
      ngroups * (stride + sizeof(uint64_t)) + vers > SIZE_MAX - head - birth)
    return 0;
  return ngroups * stride + ngroups * sizeof(uint64_t) + vers + birth;
}

static tsmap_table *tsmap_table_make(const tsmap *m, tsmap_shard *s, size_t ngroups,
                                     int locked) {
  size_t stride = tsmap_group_bytes(m);
  size_t head = TSMAP_GROUP_ALIGN; /* a heap block is aligned for the groups in it */
  size_t body = tsmap_table_body(m, ngroups, head);
  if (!body)
    return NULL;
  size_t vers = tsmap_table_side_bytes(m, ngroups), birth = tsmap_mx_birth_bytes(m, ngroups);
  tsmap_table *t = tsmap_table_header_new(m);
  if (!t)
    return NULL;
  size_t map_len;
  unsigned char *mem = (unsigned char *)tsmap_table_mem(m, s, head + body, &map_len, locked);
  if (!mem) {
    tsmap_table_header_free(m, t);
    return NULL;
  }
  t->mem = mem;
  t->map_len = map_len;
  t->ngroups = ngroups;
  t->mask = ngroups - 1;
  t->stride = stride;
  t->growth_left = ngroups * (TSMAP_GROUP_SLOTS - 1); /* max load 6/7 (I3) */
  t->bytes = map_len ? body : head + body; /* a mapping starts on a page: no slack used */
  uintptr_t at = (uintptr_t)mem;
  t->groups = mem + (((at + TSMAP_GROUP_ALIGN - 1) & ~(uintptr_t)(TSMAP_GROUP_ALIGN - 1)) -
                     (uintptr_t)mem);
  t->wctrl = (uint64_t *)(void *)tsmap_table_wctrl_at((uintptr_t)t->groups, ngroups, stride);
  t->wseq = 0;
  t->vers = vers ? (tsmap_word *)(void *)tsmap_table_vers_at((uintptr_t)t->groups, ngroups, stride)
                 : NULL;
  t->birth = birth ? (uint32_t *)(void *)((unsigned char *)(t->wctrl + ngroups) + vers) : NULL;
  return t;
}

tsmap_table *tsmap_table_new(const tsmap *m, tsmap_shard *s, size_t ngroups) {
  return tsmap_table_make(m, s, ngroups, 1);
}

tsmap_table *tsmap_table_new_mapped(const tsmap *m, tsmap_shard *s, size_t ngroups) {
  return tsmap_table_make(m, s, ngroups, 0);
}

/* Frees a table: its memory (none left once it became a spare: mem NULL) and header. */
void tsmap_table_free(const tsmap *m, tsmap_table *t) {
  if (!t)
    return;
  if (t->map_len)
    munmap(t->mem, t->map_len);
  else if (!tsmap_slab_give(m, t->mem))
    tsmap_mem_free(m, t->mem, t->bytes);
  tsmap_table_header_free(m, t);
}

/* Groups needed to hold `entries` at most 6/7 full, a power of two. */
size_t tsmap_groups_for(size_t entries) {
  size_t slots = entries + entries / 6 + 1;
  return tsmap_pow2_at_least((slots + TSMAP_GROUP_SLOTS - 1) / TSMAP_GROUP_SLOTS);
}
