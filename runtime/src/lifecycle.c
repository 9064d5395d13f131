/*
 * lifecycle.c - status names, the configuration's checks, and a map's create, close and
 * destroy (G6 at close: every value still in the map is evicted once).
 */
#include "tsmap_internal.h"
#include "bound.h"
#include "expiry.h"
#include "fork.h"
#include "metrics.h"
#include "placement.h"
#include "reshard.h"
#include "slab.h"
#include "versions.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* ======================================================================================
 * Status names and configuration
 * ====================================================================================== */

const char *tsmap_status_name(tsmap_status status) {
  static const char *const names[] = {
      "TSMAP_OK",     "TSMAP_REPLACED", "TSMAP_NOT_FOUND", "TSMAP_EXISTS",
      "TSMAP_INVALID_ARGUMENT", "TSMAP_CLOSED", "TSMAP_NO_MEMORY", "TSMAP_REENTERED",
      "TSMAP_CALLBACK_FAILED", "TSMAP_STOPPED", "TSMAP_REMOVED",
      "TSMAP_CONFLICT",        "TSMAP_TOO_HEAVY"};
  if ((unsigned)status < sizeof names / sizeof names[0])
    return names[status];
  return "TSMAP_UNKNOWN_STATUS";
}

tsmap_status tsmap_config_init(tsmap_config *config, size_t value_size) {
  if (!config || value_size > TSMAP_MAX_VALUE_SIZE)
    return TSMAP_INVALID_ARGUMENT;
  memset(config, 0, sizeof *config);
  config->value_size = value_size;
  return TSMAP_OK;
}

/* Default shard count: 16 per online CPU, a power of two in [1, 256]. Many more shards
 * than cores keeps writers apart (two writers meet on a shard 1/32 of the time on 2
 * cores) and bounds how much one shard holds, and so how large one growth is (G5). */
static size_t tsmap_default_shards(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1)
    n = 1;
  size_t s = tsmap_pow2_at_least((size_t)n * 16);
  return s > 256 ? 256 : s;
}

static tsmap_status tsmap_config_check(const tsmap_config *c) {
  if (c->value_size > TSMAP_MAX_VALUE_SIZE || c->key_size > TSMAP_MAX_FIXED_KEY_SIZE)
    return TSMAP_INVALID_ARGUMENT;
  if (c->shard_count && (!tsmap_is_pow2(c->shard_count) || c->shard_count > TSMAP_MAX_SHARDS))
    return TSMAP_INVALID_ARGUMENT;
  if (c->reshard_auto_permille > 1000) /* G15: more waits than writes never happens */
    return TSMAP_INVALID_ARGUMENT;
  if (c->reshard_no_helper != 0 && c->reshard_no_helper != 1) /* G15, R10: a switch */
    return TSMAP_INVALID_ARGUMENT;
  if (c->reshard_auto && (c->max_entries || c->max_weight || c->replicas))
    return TSMAP_INVALID_ARGUMENT; /* G15: such maps are not resharded; it could never act */
  if (c->max_shard_count && (!tsmap_is_pow2(c->max_shard_count) || /* G15 */
                             c->max_shard_count > TSMAP_MAX_SHARDS ||
                             c->max_shard_count < c->shard_count))
    return TSMAP_INVALID_ARGUMENT;
  if (c->allocator && (!c->allocator->alloc || !c->allocator->free))
    return TSMAP_INVALID_ARGUMENT;
  if (c->initial_capacity > ((size_t)1 << 40))
    return TSMAP_INVALID_ARGUMENT;
  tsmap_status st = tsmap_place_check(c); /* G14 */
  if (st == TSMAP_OK)
    st = tsmap_bound_config_check(c); /* G11 */
  if (st != TSMAP_OK)
    return st;
  return tsmap_ver_config_check(c); /* G12, G13 */
}

/* ======================================================================================
 * Create, close, destroy
 * ====================================================================================== */

static void tsmap_layout(tsmap *m) {
  m->key_size = m->cfg.key_size;
  m->key_words = m->key_size ? (m->key_size + 7) / 8 : 2;
  m->value_size = m->cfg.value_size;
  m->value_words = (m->value_size + 7) / 8;
  m->expiring = m->cfg.expiry || m->cfg.default_ttl_ns; /* G10: a deadline word */
  m->bounded = m->cfg.max_entries || m->cfg.max_weight; /* G11: a frequency word */
  m->weighted = m->cfg.max_weight != 0;                  /* G11: with the entry's weight */
  m->meta_words = (size_t)m->expiring + m->bounded;
  m->meta_words += tsmap_ver_layout(m);                  /* G13: stamp, clock (V5) */
  int key8 = m->key_size == 8 && !m->cfg.hash && !m->cfg.equal;
  /* G11: the frequency word alone, of an 8/8 map, is the table's side word (bound.h), so
   * that the groups keep the plain 128-byte layout */
  m->freq_side = key8 && m->value_size == 8 && m->bounded && !m->expiring && !m->weighted &&
                 !m->versioned && !m->cfg.metrics;
  m->meta_words -= m->freq_side;
  m->side = m->versioned || m->freq_side;
  m->slot_words = m->key_words + m->value_words + m->meta_words;
  m->fast8 = key8 && !m->meta_words && !m->side;
  m->fast8_meta = key8 && (m->meta_words || m->side);
  m->put_fast = m->fast8 && !m->cfg.metrics; /* a metered map meters its fast paths */
  /* G12, V5: a versioned map's slot is the plain one, so its get is the plain get */
  m->put_ver8 = key8 && m->versioned && !m->meta_words && !m->cfg.metrics && m->value_size == 8;
  m->entry_fast = m->put_fast || m->put_ver8;
  m->entry_meta = m->fast8_meta && !m->cfg.metrics && m->value_words == 1 && m->meta_words == 1;
  /* the put too, but for a weight (B6 weighs the value), a value under 8 bytes or a
   * version (the generic put stores it, V5) */
  m->put_meta = m->entry_meta && !m->weighted && m->value_size == 8 && !m->versioned;
  /* G11: the one meta word is a frequency word: tsmap_get inlines that get too */
  m->entry_freq8 = m->entry_meta && m->bounded && m->value_size == 8;
}

/* Shard i's first table, sized like the create-time shards' (G15: also for the shards a
 * reshard adds; the array is zeroed, so the shard is otherwise ready). */
static size_t tsmap_first_groups(const tsmap *m, size_t n) {
  return tsmap_groups_for(m->cfg.initial_capacity / n + (m->cfg.initial_capacity % n != 0));
}

tsmap_status tsmap_shard_init_table(tsmap *m, size_t i) {
  size_t n = (size_t)(uint32_t)atomic_load(&m->route) + 1;
  atomic_init(&m->shards[i].lock.held, 0);
  tsmap_table *t = tsmap_table_new(m, &m->shards[i], tsmap_first_groups(m, n)); /* G14: placed */
  if (!t)
    return TSMAP_NO_MEMORY;
  tsmap_shard_set_cur(&m->shards[i], t);
  tsmap_shard_publish8(m, &m->shards[i]);
  return TSMAP_OK;
}

/* The shard array holds shard_cap shards (G15: room for tsmap_reshard); with the default
 * allocator it is a mapping of its own, whose pages past the shards in use stay unbacked. */
static size_t tsmap_shard_cap_for(const tsmap *m, size_t n) {
  size_t cap = m->cfg.max_shard_count ? m->cfg.max_shard_count
               : m->alloc.alloc       ? n
                                      : TSMAP_MAX_SHARDS;
  return cap < n ? n : cap;
}

/* S1: the slab's classes, the sizes of the tables a shard has before they are mapped */
static void tsmap_slab_setup(tsmap *m, size_t n) {
  size_t sizes[TSMAP_SLAB_CLASSES], g = tsmap_first_groups(m, n);
  unsigned c = 0;
  for (size_t body; c < TSMAP_SLAB_CLASSES && g <= SIZE_MAX / 2; c++, g *= 2) {
    body = tsmap_table_body(m, g, TSMAP_GROUP_ALIGN);
    if (!body || tsmap_table_wants_map(m, TSMAP_GROUP_ALIGN + body))
      break;
    sizes[c] = TSMAP_GROUP_ALIGN + body;
  }
  tsmap_slab_create(m, n, sizes, c);
}

static tsmap_status tsmap_shards_init(tsmap *m, size_t n) {
  m->shard_cap = tsmap_shard_cap_for(m, n);
  m->shards_bytes = m->shard_cap * (sizeof(tsmap_shard) + 2 * sizeof(uint64_t)) + 64;
  if (!m->alloc.alloc && m->shard_cap > n) {
    m->shards_raw = tsmap_mem_map(tsmap_mem_mapped_len(m->shards_bytes));
    m->shards_mapped = m->shards_raw != NULL;
  }
  if (!m->shards_raw) { /* out of mappings (vm.max_map_count): no room to reshard into */
    if (!m->cfg.max_shard_count)
      m->shard_cap = n;
    m->shards_bytes = m->shard_cap * (sizeof(tsmap_shard) + 2 * sizeof(uint64_t)) + 64;
    m->shards_raw = tsmap_mem_zalloc(m, m->shards_bytes);
  }
  if (!m->shards_raw)
    return TSMAP_NO_MEMORY;
  m->shards = (tsmap_shard *)(((uintptr_t)m->shards_raw + 63) & ~(uintptr_t)63);
  m->probe8 = (_Atomic uint64_t *)(void *)(m->shards + m->shard_cap); /* zero: no table */
  atomic_init(&m->route, n - 1);
  tsmap_slab_setup(m, n);
  for (size_t i = 0; i < n; i++) {
    if (tsmap_shard_init_table(m, i) != TSMAP_OK)
      return TSMAP_NO_MEMORY;
    atomic_store(&m->shard_hw, i + 1);
  }
  return TSMAP_OK;
}

/* Whether the first tables of n shards (config initial_capacity) would exceed the
 * machine's memory: mapped lazily, such tables are accepted shard by shard and then take
 * minutes of page-table work to map and tear down (black-box round 7: 2^40 entries over
 * 4096 shards); such a map could never be filled, so create refuses it at once. */
static int tsmap_first_tables_exceed_memory(const tsmap *m, size_t n) {
  long pages = sysconf(_SC_PHYS_PAGES);
  if (pages <= 0 || !m->cfg.initial_capacity)
    return 0;
  size_t body = tsmap_table_body(m, tsmap_first_groups(m, n), TSMAP_GROUP_ALIGN);
  size_t ram = (size_t)pages * tsmap_page_size();
  return body == 0 || body > ram / n;
}

static void tsmap_free_all(tsmap *m);

tsmap_status tsmap_create(const tsmap_config *config, tsmap **map_out) {
  if (!config || !map_out || tsmap_config_check(config) != TSMAP_OK)
    return TSMAP_INVALID_ARGUMENT;
  tsmap_ebr_init();
  tsmap tmp;
  memset(&tmp, 0, sizeof tmp);
  if (config->allocator)
    tmp.alloc = *config->allocator;
  tsmap *m = (tsmap *)tsmap_mem_zalloc(&tmp, sizeof *m);
  if (!m)
    return TSMAP_NO_MEMORY;
  m->alloc = tmp.alloc;
  m->cfg = *config;
  tsmap_layout(m);
  m->raw_seed = config->seed ? config->seed : tsmap_random_seed();
  m->seed = m->raw_seed ^ tsmap_mix(m->raw_seed ^ TSMAP_WY0, TSMAP_WY1);
  size_t n = config->shard_count ? config->shard_count : tsmap_default_shards();
  n = tsmap_bound_shards(config, n); /* G11 */
  if (tsmap_first_tables_exceed_memory(m, n)) {
    tsmap_mem_free(m, m, sizeof *m);
    return TSMAP_NO_MEMORY;
  }
  tsmap_status st = tsmap_mx_create(m);
  tsmap_entries_choose(m); /* after mx_create: mx_id8 */
  if (st == TSMAP_OK)
    st = tsmap_place_create(m, tsmap_shard_cap_for(m, n)); /* G14: shards a reshard adds too */
  if (st == TSMAP_OK)
    st = tsmap_shards_init(m, n);
  if (st == TSMAP_OK)
    st = tsmap_bound_init(m);
  if (st == TSMAP_OK) /* G15: the auto policy's state, which it must not make itself */
    st = tsmap_reshard_auto_prepare(m);
  if (st == TSMAP_OK) /* complete now: tsmap_metrics_write_all may read it */
    st = tsmap_mx_register(m);
  if (st == TSMAP_OK)
    st = tsmap_maint_start(m);
  if (st != TSMAP_OK) {
    tsmap_free_all(m);
    return st;
  }
  tsmap_fork_map_add(m); /* G16 (e) */
  *map_out = m;
  return TSMAP_OK;
}

/* Run the eviction hook (reason closed) for every entry of a detached table. */
static void tsmap_table_evict_all(tsmap *m, tsmap_table *t) {
  uint64_t w[TSMAP_MAX_KEY_WORDS + TSMAP_MAX_VALUE_WORDS];
  for (size_t gi = 0; gi < t->ngroups; gi++) {
    tsmap_group *g = tsmap_table_group(t, gi);
    for (uint64_t full = tsmap_ctrl_full(tsmap_ld(&g->ctrl)); full; full &= full - 1) {
      tsmap_copy_words(w, tsmap_slot(g, m->slot_words, tsmap_first_slot(full)), m->slot_words);
      tsmap_evict_reason why = tsmap_close_reason(m, w + m->key_words); /* E2 */
      TSMAP_MX_LEFT(m, t, gi, tsmap_first_slot(full), why);
      tsmap_key q;
      q.p = (const unsigned char *)tsmap_slot_key(m, w, &q.len);
      tsmap_hook_evicted(m, &q, w + m->key_words, why);
    }
  }
}

/* Free a detached table and the long keys of its entries (after a grace period). */
static void tsmap_table_free_entries(tsmap *m, tsmap_table *t) {
  for (size_t gi = 0; !m->key_size && gi < t->ngroups; gi++) {
    tsmap_group *g = tsmap_table_group(t, gi);
    for (uint64_t full = tsmap_ctrl_full(tsmap_ld(&g->ctrl)); full; full &= full - 1) {
      tsmap_word *sl = tsmap_slot(g, m->slot_words, tsmap_first_slot(full));
      if (tsmap_ld(&sl[0]) > 8)
        tsmap_keyblock_free(m, (tsmap_keyblock *)(uintptr_t)tsmap_ld(&sl[1]));
    }
  }
  tsmap_table_free(m, t);
}

static void tsmap_push_table(tsmap_table **list, tsmap_table *t) {
  if (t) {
    t->retired_next = *list;
    *list = t;
  }
}

/* Detach a shard's tables (onto *live) and retired objects (onto *after) under its
 * lock; readers then see no table and return TSMAP_CLOSED. */
static void tsmap_shard_detach(const tsmap *m, tsmap_shard *s, tsmap_table **live,
                               tsmap_after *after) {
  tsmap_lock_acquire(&s->lock);
  tsmap_push_table(live, atomic_load_explicit(&s->old, memory_order_relaxed));
  tsmap_push_table(live, atomic_load_explicit(&s->cur, memory_order_relaxed));
  tsmap_shard_swap(m, s, NULL, NULL);
  atomic_store_explicit(&s->count, 0, memory_order_relaxed);
  while (s->retired_tables) {
    tsmap_table *t = s->retired_tables;
    s->retired_tables = t->retired_next;
    tsmap_push_table(&after->free_tables, t);
  }
  while (s->retired_keys) {
    tsmap_keyblock *k = s->retired_keys;
    s->retired_keys = k->retired_next;
    k->retired_next = after->free_keys;
    after->free_keys = k;
  }
  s->retired_count = 0;
  s->retired_bytes = 0;
  tsmap_push_table(&after->free_tables, s->next); /* never published */
  s->next = NULL;
  tsmap_push_table(&after->free_tables, s->rs_next); /* G15: never published either */
  s->rs_next = NULL;
  while (s->unmapping) { /* reclaimed already: unmap what is left */
    tsmap_table *t = s->unmapping;
    s->unmapping = t->retired_next;
    tsmap_table_free(m, t);
  }
  while (s->nspare > 0) {
    s->nspare--;
    munmap(s->spare[s->nspare].p, s->spare[s->nspare].len);
  }
  tsmap_lock_release(&s->lock);
}

/* Keeps G6 at close: every value still in the map is evicted once (reason closed). */
tsmap_status tsmap_close(tsmap *map) {
  if (!map)
    return TSMAP_INVALID_ARGUMENT;
  /* G9, G15: one change of the route closes the map and diverts every keyed call to the
   * paths that see the closure; a call ordered after it sees both. The first closer wins. */
  uint64_t r = atomic_load(&map->route);
  do {
    if (r & TSMAP_ROUTE_CLOSED)
      return TSMAP_CLOSED;
  } while (!atomic_compare_exchange_weak(
      &map->route, &r,
      (((r & TSMAP_ROUTE_CTR) + TSMAP_ROUTE_TICK) & TSMAP_ROUTE_CTR) | (r & ~TSMAP_ROUTE_CTR) |
          TSMAP_ROUTE_DIVERT | TSMAP_ROUTE_CLOSED));
  tsmap_reshard_close_barrier(map); /* a reshard call adding shards is done first */
  tsmap_maint_stop(map); /* G10 */
  tsmap_table *live = NULL;
  tsmap_after after = TSMAP_AFTER_INIT;
  for (size_t i = 0; i < tsmap_shard_hw(map); i++) /* G15: every shard that held a table */
    tsmap_shard_detach(map, &map->shards[i], &live, &after);
  for (tsmap_table *t = live; t; t = t->retired_next)
    tsmap_table_evict_all(map, t);
  tsmap_ebr_synchronize(); /* readers may still be probing the detached tables (G3) */
  while (live) {
    tsmap_table *t = live;
    live = t->retired_next;
    tsmap_table_free_entries(map, t);
  }
  tsmap_after_run(map, &after);
  if (map->cfg.on_map_closed)
    map->cfg.on_map_closed(map->cfg.hook_ctx);
  return TSMAP_OK;
}

static void tsmap_free_all(tsmap *m) {
  tsmap_fork_map_remove(m); /* G16 (e): a fork from now on does not look at its shards */
  tsmap_maint_free(m); /* its thread, which may run metered operations, is gone */
  tsmap_bound_free(m); /* G11 */
  tsmap_mx_destroy(m); /* then: unregistered, no exposition reads the shards any more */
  if (m->shards_raw)
    tsmap_tombs_free(m); /* G13 */
  tsmap_reshard_free(m); /* G15 */
  if (m->shards_raw) {
    for (size_t i = 0; i < tsmap_shard_hw(m); i++) {
      tsmap_shard *s = &m->shards[i];
      tsmap_table *cur = atomic_load(&s->cur);
      if (cur)
        tsmap_table_free(m, cur); /* only when create failed: close detached them */
    }
    if (m->shards_mapped)
      munmap(m->shards_raw, tsmap_mem_mapped_len(m->shards_bytes));
    else
      tsmap_mem_free(m, m->shards_raw, m->shards_bytes);
  }
  tsmap_slab_free(m); /* S1: after the tables in it */
  tsmap_place_free(m); /* G14 */
  tsmap_mem_free(m, m, sizeof *m);
}

tsmap_status tsmap_destroy(tsmap *map) {
  if (!map) /* like free(NULL): cleanup code need not test what create gave back */
    return TSMAP_OK;
  (void)tsmap_close(map);
  tsmap_free_all(map);
  return TSMAP_OK;
}

