/*
 * debug.c - test support, not in the public header: a map's probe lengths, memory,
 * paging and growth state as the runtime tests read them.
 */
#include "tsmap_internal.h"

#include <sys/mman.h>
#include <unistd.h>

/* ======================================================================================
 * Test support (not in the public header)
 * ====================================================================================== */

/* Groups probed by the worst-placed entry (1 = every entry in its home group). Used by
 * the flooding test (G7). Quiescent map only. */
TSMAP_HIDDEN size_t tsmap_debug_max_probe(tsmap *m);
size_t tsmap_debug_max_probe(tsmap *m) {
  uint64_t w[TSMAP_MAX_KEY_WORDS + TSMAP_MAX_VALUE_WORDS];
  size_t worst = 0;
  for (size_t i = 0; i < tsmap_shard_hw(m); i++) {
    tsmap_table *t = atomic_load(&m->shards[i].cur);
    for (size_t gi = 0; t && gi < t->ngroups; gi++) {
      tsmap_group *g = tsmap_table_group(t, gi);
      for (uint64_t full = tsmap_ctrl_full(tsmap_ld(&g->ctrl)); full; full &= full - 1) {
        tsmap_copy_words(w, tsmap_slot(g, m->slot_words, tsmap_first_slot(full)), m->slot_words);
        size_t at = tsmap_slot_hash_of(m, w) & t->mask, n = 1;
        for (size_t step = 1; at != gi; step++, n++)
          at = (at + step) & t->mask;
        worst = n > worst ? n : worst;
      }
    }
  }
  return worst;
}

/* A hash of every byte a reader could write to if it wrote shared memory: the map handle,
 * the shard array and every table of every shard. Equal before and after a batch of
 * gets on a quiescent map shows that reads write nothing shared (G2). */
TSMAP_HIDDEN uint64_t tsmap_debug_fingerprint(tsmap *m);
uint64_t tsmap_debug_fingerprint(tsmap *m) {
  uint64_t h = tsmap_hash_bytes(m, sizeof *m, 1);
  h = tsmap_hash_bytes(m->shards_raw, m->shards_bytes, h);
  for (size_t i = 0; i < tsmap_shard_hw(m); i++) {
    tsmap_table *ts[2] = {atomic_load(&m->shards[i].old), atomic_load(&m->shards[i].cur)};
    for (int k = 0; k < 2; k++)
      if (ts[k])
        h = tsmap_hash_bytes(ts[k]->mem, ts[k]->bytes, tsmap_hash_bytes(ts[k], sizeof *ts[k], h));
  }
  return h;
}

/* For test_unit.c: shard i's current table (its address, whether it is mmap'd) and how
 * many emptied mappings the shard keeps as spares (G5). */
TSMAP_HIDDEN void tsmap_debug_paging(tsmap *m, size_t i, const void **cur, int *mapped,
                                     size_t *spares);
void tsmap_debug_paging(tsmap *m, size_t i, const void **cur, int *mapped, size_t *spares) {
  tsmap_shard *s = &m->shards[i];
  tsmap_lock_acquire(&s->lock);
  tsmap_table *t = atomic_load(&s->cur);
  *cur = t ? t->mem : NULL;
  *mapped = t && t->map_len;
  *spares = s->nspare;
  tsmap_lock_release(&s->lock);
}

size_t tsmap_debug_resident_in(const void *p, size_t len) {
  size_t page = tsmap_page_size(), in = 0;
#if defined(__linux__)
  unsigned char vec[256];
  for (size_t off = 0; p && off < len; off += sizeof vec * page) {
    size_t span = len - off < sizeof vec * page ? len - off : sizeof vec * page;
    if (mincore((unsigned char *)(uintptr_t)p + off, span, vec) != 0)
      return 0;
    for (size_t k = 0; k < (span + page - 1) / page; k++)
      in += (vec[k] & 1) * page;
  }
#else
  (void)p, (void)len, (void)page;
#endif
  return in;
}

/* For test_unit.c (G5, E): shard i's resident bytes in the mappings of its tables (cur,
 * old, the prepared next one, the ones being given back) and of its spares (unless
 * `resident` is NULL: mincore is slow); cur's bytes;
 * the prepared next table's bytes faulted in and its size (0 and 0 without one). */
/* Bytes of shard i's reshard destination table not published yet (rs_next, R7). */
TSMAP_HIDDEN size_t tsmap_debug_rs_next_bytes(tsmap *m, size_t i);
size_t tsmap_debug_rs_next_bytes(tsmap *m, size_t i) {
  tsmap_shard *s = &m->shards[i];
  tsmap_lock_acquire(&s->lock);
  size_t bytes = s->rs_next ? s->rs_next->bytes : 0;
  tsmap_lock_release(&s->lock);
  return bytes;
}

TSMAP_HIDDEN void tsmap_debug_memory(tsmap *m, size_t i, size_t *resident, size_t *cur_bytes,
                                     size_t *next_populated, size_t *next_bytes);
void tsmap_debug_memory(tsmap *m, size_t i, size_t *resident, size_t *cur_bytes,
                        size_t *next_populated, size_t *next_bytes) {
  tsmap_shard *s = &m->shards[i];
  tsmap_lock_acquire(&s->lock);
  tsmap_table *cur = atomic_load(&s->cur), *old = atomic_load(&s->old);
  tsmap_table *t[3] = {cur, old, s->next};
  if (resident) {
    size_t in = 0;
    for (unsigned k = 0; k < 3; k++)
      if (t[k] && t[k]->map_len)
        in += tsmap_debug_resident_in(t[k]->mem, t[k]->map_len);
    for (tsmap_table *u = s->unmapping; u; u = u->retired_next)
      in += tsmap_debug_resident_in(u->mem, u->map_len);
    for (unsigned k = 0; k < s->nspare; k++)
      in += tsmap_debug_resident_in(s->spare[k].p, s->spare[k].len);
    *resident = in;
  }
  *cur_bytes = cur ? cur->bytes : 0;
  *next_populated = s->next ? s->next->populated : 0;
  *next_bytes = s->next ? s->next->bytes : 0;
  tsmap_lock_release(&s->lock);
}

/* For test_unit.c: DELETED control bytes in shard i's current table (a table just
 * published holds none, unless its memory held an older table's). */
TSMAP_HIDDEN size_t tsmap_debug_deleted(tsmap *m, size_t i);
size_t tsmap_debug_deleted(tsmap *m, size_t i) {
  tsmap_shard *s = &m->shards[i];
  size_t n = 0;
  tsmap_lock_acquire(&s->lock);
  tsmap_table *t = atomic_load(&s->cur);
  for (size_t g = 0; t && g < t->ngroups; g++) {
    uint64_t ctrl = tsmap_ld(&tsmap_table_group(t, g)->ctrl);
    for (unsigned slot = 0; slot < TSMAP_GROUP_SLOTS; slot++)
      n += tsmap_ctrl_get(ctrl, slot) == TSMAP_CTRL_DELETED;
  }
  tsmap_lock_release(&s->lock);
  return n;
}

/* The growth state of shard `i`: groups of the old table (0: no growth in progress) and
 * how many of them were moved so far (G5 test). */
TSMAP_HIDDEN void tsmap_debug_growth(tsmap *m, size_t i, size_t *old_groups, size_t *moved);
void tsmap_debug_growth(tsmap *m, size_t i, size_t *old_groups, size_t *moved) {
  tsmap_shard *s = &m->shards[i];
  tsmap_lock_acquire(&s->lock);
  tsmap_table *old = atomic_load(&s->old);
  *old_groups = old ? old->ngroups : 0;
  *moved = old ? s->migrate_pos : 0;
  tsmap_lock_release(&s->lock);
}

TSMAP_HIDDEN size_t tsmap_debug_rebuilds(tsmap *m, size_t i);
size_t tsmap_debug_rebuilds(tsmap *m, size_t i) {
  tsmap_shard *s = &m->shards[i];
  tsmap_lock_acquire(&s->lock);
  size_t n = s->rebuilds;
  tsmap_lock_release(&s->lock);
  return n;
}
