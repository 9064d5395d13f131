/*
 * slab.c - the small tables' slab (S1, S2 in slab.h).
 *
 * Layout: a class per small table size, in order; a class's region holds one slot per
 * shard (the size rounded up to a line) and starts on a page; a page is given back once
 * no slot on it holds a table.
 */
#include "slab.h"

#include <stdlib.h>
#include <sys/mman.h>

struct tsmap_slab {
  unsigned char *base;
  size_t len, shards;
  unsigned nclass;
  size_t slot[TSMAP_SLAB_CLASSES]; /* bytes of a slot */
  size_t off[TSMAP_SLAB_CLASSES];  /* the class's region: its offset and length */
  size_t bytes[TSMAP_SLAB_CLASSES];
  tsmap_lock lock;
  unsigned char busy[]; /* [class * shards + shard]: the slot holds a table (the lock) */
};

void tsmap_slab_create(tsmap *m, size_t shards, const size_t *sizes, unsigned n) {
  size_t page = tsmap_page_size(), len = 0;
  if (m->alloc.alloc) /* S1: a configured allocator makes every table (tsmap.h) */
    return;
  if (!n || !shards || shards > SIZE_MAX / TSMAP_SLAB_CLASSES)
    return;
  struct tsmap_slab *sl = calloc(1, sizeof *sl + (size_t)n * shards);
  if (!sl)
    return;
  sl->shards = shards;
  sl->nclass = n;
  for (unsigned c = 0; c < n; c++) {
    sl->slot[c] = (sizes[c] + 63) & ~(size_t)63;
    sl->off[c] = len;
    sl->bytes[c] = (shards * sl->slot[c] + page - 1) & ~(page - 1);
    len += sl->bytes[c];
  }
  void *p = tsmap_mem_map(len);
  if (!p) { /* out of mappings: the heap, as without a slab */
    free(sl);
    return;
  }
  sl->base = p;
  sl->len = len;
  m->slab = sl;
}

void *tsmap_slab_take(const tsmap *m, size_t shard, size_t size) {
  struct tsmap_slab *sl = m->slab;
  if (!sl || shard >= sl->shards)
    return NULL;
  unsigned c = 0;
  while (c < sl->nclass && sl->slot[c] < size)
    c++;
  if (c == sl->nclass)
    return NULL;
  unsigned char *p = NULL;
  tsmap_lock_acquire(&sl->lock);
  if (!sl->busy[c * sl->shards + shard]) {
    sl->busy[c * sl->shards + shard] = 1;
    p = sl->base + sl->off[c] + shard * sl->slot[c];
    memset(p, 0, size); /* S2: under the lock, so no give-back overlaps it */
  }
  tsmap_lock_release(&sl->lock);
  return p;
}

int tsmap_slab_give(const tsmap *m, void *p) {
  struct tsmap_slab *sl = m->slab;
  unsigned char *at = p;
  if (!sl || at < sl->base || at >= sl->base + sl->len)
    return 0;
  size_t off = (size_t)(at - sl->base), page = tsmap_page_size();
  unsigned c = 0;
  while (c + 1 < sl->nclass && off >= sl->off[c + 1])
    c++;
  const size_t slot = sl->slot[c], first = off - sl->off[c], shard = first / slot;
  unsigned char *busy = sl->busy + c * sl->shards;
  tsmap_lock_acquire(&sl->lock);
  busy[shard] = 0;
  /* S2: each page of the slot that no other table of the class is on */
  for (size_t pg = first - first % page; pg < first + slot; pg += page) {
    size_t k = pg / slot, last = (pg + page - 1) / slot;
    while (k < sl->shards && k <= last && !busy[k])
      k++;
#if defined(MADV_DONTNEED)
    if (k > last || k == sl->shards)
      (void)madvise(sl->base + sl->off[c] + pg, page, MADV_DONTNEED);
#endif
  }
  tsmap_lock_release(&sl->lock);
  return 1;
}

tsmap_lock *tsmap_slab_lock(const tsmap *m) { return m->slab ? &m->slab->lock : NULL; }

void tsmap_slab_free(tsmap *m) {
  struct tsmap_slab *sl = m->slab;
  if (!sl)
    return;
  munmap(sl->base, sl->len);
  free(sl);
  m->slab = NULL;
}

void tsmap_debug_slab(tsmap *m, size_t *tables, size_t *resident) {
  struct tsmap_slab *sl = m->slab;
  *tables = 0;
  *resident = 0;
  if (!sl)
    return;
  tsmap_lock_acquire(&sl->lock);
  for (size_t k = 0; k < sl->nclass * sl->shards; k++)
    *tables += sl->busy[k];
  tsmap_lock_release(&sl->lock);
  *resident = tsmap_debug_resident_in(sl->base, sl->len);
}
