/*
 * slab.h - the small tables' slab (G5, workload E): a default-allocator map's small
 * tables (under TSMAP_MMAP_MIN) carved from one mapping of the map's instead of the heap.
 *
 *   S1  A table under TSMAP_MMAP_MIN of one of the shards the map was created with takes
 *       its size class's slot for that shard, if the slot is free; a class per table size
 *       a shard goes through before its tables are mapped (the first size, then each
 *       doubling). Otherwise, and with a configured allocator or placement (P3), the table
 *       comes from the heap as before. A slot is zeroed when it is taken.
 *   S2  A class's slots are contiguous, so a map of small shards touches no more pages
 *       than its tables' bytes (the 32 first tables of an 8/8 map: 5 pages, as on the
 *       heap). A page on which no slot holds a table any more is given back
 *       (MADV_DONTNEED) under the slab's lock, which taking a slot holds too: no page is
 *       given back under a table, or under one being set up.
 *
 * Why: heap blocks freed by the shards' first growths stay in the process (glibc keeps a
 * 128 KiB top pad, and blocks allocated later pin the holes): a 32-shard 8/8 map filled
 * to 4M entries kept ~120 KiB of heap its first tables had used, which workload E counts
 * against every entry.
 */
#ifndef TSMAP_SLAB_H
#define TSMAP_SLAB_H

#include "tsmap_internal.h"

#define TSMAP_SLAB_CLASSES 8

/* Make the slab of map m for `shards` shards whose small tables take sizes[0..n) bytes
 * (S1). Nothing to make, or no memory or mapping for it: no slab, not an error. */
TSMAP_HIDDEN void tsmap_slab_create(tsmap *m, size_t shards, const size_t *sizes, unsigned n);
/* A zeroed block of `size` bytes for a table of shard `shard` (S1), or NULL: the heap. */
TSMAP_HIDDEN void *tsmap_slab_take(const tsmap *m, size_t shard, size_t size);
/* Give back the slab's block at `p`; 0 if p is not the slab's (S2). */
TSMAP_HIDDEN int tsmap_slab_give(const tsmap *m, void *p);
TSMAP_HIDDEN void tsmap_slab_free(tsmap *m);
/* G16 (e): the slab's lock, which fork's prepare handler takes after the shard locks (a
 * freed table gives its slot back under it with no shard lock held); NULL: no slab. */
TSMAP_HIDDEN tsmap_lock *tsmap_slab_lock(const tsmap *m);
/* For tests: tables in the slab now, and its resident bytes (mincore; 0 without a slab). */
TSMAP_HIDDEN void tsmap_debug_slab(tsmap *m, size_t *tables, size_t *resident);

#endif
