/*
 * reclaim.c - tsmap_maintain's share of reclamation (G3, G5): what quiet shards retired.
 *
 * A write retires what readers may still hold (a growth's old table, a removed long key's
 * block) on its shard, and that shard's later writes free it once the epoch advanced
 * twice (I5) and give a mapped table's pages back a chunk a write. A shard nobody writes
 * to any more (a map gone quiet after a burst, a read-mostly map) kept it until destroy
 * before black-box round 17. tsmap_maintain now does those writes' part for them:
 *
 *   Q1. Each shard it visits (round-robin over every shard that ever held a table, a
 *       cursor of its own) is locked alone, as a write locks it; the epoch is advanced
 *       (tsmap_ebr_try_advance: it never waits for a reader, it just fails) at most twice
 *       a call, and only for a shard with something retired.
 *   Q2. What the epoch allows goes, as a write's collection frees it; what a reader may
 *       still hold stays for a later call or write. Mapped tables are given back a chunk
 *       (TSMAP_UNMAP_CHUNK) a lock hold, as a write's chore does, so a write waits for
 *       the lock no longer than behind another write's chore.
 *   Q3. Bounded by the call's budget: a shard visited costs a group, a chunk the groups
 *       it held.
 */
#include "tsmap_internal.h"

/* The groups a chunk of pages given back counts for in a budget (at least 1). */
static size_t tsmap_chunk_groups(const tsmap *m) {
  size_t g = TSMAP_UNMAP_CHUNK / tsmap_group_bytes(m);
  return g ? g : 1;
}

/* One lock hold of shard s (Q1, Q2): collect what the epoch allows (advancing it first,
 * once per call: *advanced), then give back one chunk of a reclaimed mapped table.
 * Returns -1 when the map is closed, 1 when a chunk was given back, else 0. */
static int tsmap_reclaim_step(tsmap *m, tsmap_shard *s, int *advanced) {
  tsmap_after after = TSMAP_AFTER_INIT;
  tsmap_lock_acquire(&s->lock);
  if (tsmap_is_closed(m)) { /* close detaches this shard after we unlock */
    tsmap_lock_release(&s->lock);
    return -1;
  }
  if (s->retired_count) {
    if (!*advanced) { /* two advances: what was retired before this call may go (I5) */
      *advanced = 1;
      if (tsmap_ebr_try_advance())
        (void)tsmap_ebr_try_advance();
    }
    tsmap_collect(s, &after);
  }
  int chunk = s->unmapping != NULL;
  if (chunk) /* the chores give back a chunk first while a table is being given back */
    tsmap_shard_chores(m, s, &after);
  tsmap_lock_release(&s->lock);
  tsmap_after_run(m, &after);
  return chunk;
}

tsmap_status tsmap_reclaim_quiet(tsmap *m, size_t groups) {
  size_t hw = tsmap_shard_hw(m), cost = tsmap_chunk_groups(m);
  int advanced = 0;
  for (size_t v = 0; v < hw && groups > 0; v++) {
    size_t i = atomic_fetch_add_explicit(&m->reclaim_next, 1, memory_order_relaxed) % hw;
    groups--;
    for (;;) {
      int r = tsmap_reclaim_step(m, &m->shards[i], &advanced);
      if (r < 0)
        return TSMAP_CLOSED;
      if (r == 0 || groups < cost)
        break;
      groups -= cost;
    }
  }
  return TSMAP_OK;
}
