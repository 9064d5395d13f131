/*
 * config.c - the store: a replicated tsmap, a journal of its change feed, the resolver.
 */
#define _GNU_SOURCE
#include "config.h"

#include <stdlib.h>
#include <sys/types.h>
#include <string.h>
#include <unistd.h>

#define CONFIG_REPLICAS 2

static int skip_one(const tsmap_change *c, void *ctx) {
  (void)c, (void)ctx;
  return 0;
}

/* All of a file, however long (a journal is never cut short: what is not read would be
 * truncated away below). NULL when out of memory or on a read error. */
static unsigned char *read_all(FILE *in, size_t *len_out) {
  size_t cap = 1 << 16, len = 0;
  unsigned char *buf = (unsigned char *)malloc(cap);
  while (buf) {
    len += fread(buf + len, 1, cap - len, in);
    if (len < cap)
      break;
    unsigned char *more = (unsigned char *)realloc(buf, cap * 2);
    if (!more)
      free(buf);
    buf = more;
    cap *= 2;
  }
  if (buf && ferror(in)) {
    free(buf);
    buf = NULL;
  }
  *len_out = len;
  return buf;
}

int config_open(config_store *st, unsigned id, const char *journal_path) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, sizeof(config_value));
  cfg.replicas = CONFIG_REPLICAS;
  cfg.replica_id = id;
  memset(st, 0, sizeof *st);
  if (tsmap_create(&cfg, &st->map) != TSMAP_OK)
    return -1;
  /* Replay: merging our own journaled changes rebuilds the map, clocks included, and
   * raises the version counter past them, so new edits dominate the old ones. */
  FILE *in = fopen(journal_path, "rb");
  if (in) {
    size_t len = 0;
    unsigned char *buf = read_all(in, &len);
    fclose(in);
    if (!buf)
      return -1; /* nothing is truncated: the journal stays as it was */
    size_t off = 0, used;
    tsmap_change c;
    uint64_t clock[TSMAP_MAX_REPLICAS];
    while (tsmap_change_decode(buf + off, len - off, sizeof(config_value), &c, clock, &used) ==
           TSMAP_OK) {
      config_merge(st, &c);
      off += used; /* a torn last record (killed mid-write) decodes as incomplete */
    }
    free(buf);
    if (off < len && truncate(journal_path, (off_t)off) != 0)
      return -1;
  }
  st->journal = fopen(journal_path, "ab");
  if (!st->journal)
    return -1;
  /* Everything replayed is in the journal already: start the journal's feed after it. */
  return tsmap_export(st->map, 0, skip_one, NULL, &st->journaled) == TSMAP_OK ? 0 : -1;
}

void config_close(config_store *st) {
  if (st->journal)
    fclose(st->journal);
  tsmap_destroy(st->map);
}

int config_set(config_store *st, const char *key, const config_value *value) {
  tsmap_status s = value ? tsmap_put(st->map, key, strlen(key), value, NULL)
                         : tsmap_remove(st->map, key, strlen(key), NULL);
  return s == TSMAP_OK || s == TSMAP_REPLACED || s == TSMAP_NOT_FOUND ? 0 : -1;
}

static int journal_one(const tsmap_change *c, void *ctx) {
  unsigned char buf[256];
  size_t len;
  if (tsmap_change_encode(c, sizeof(config_value), buf, sizeof buf, &len) != TSMAP_OK)
    return 1;
  return fwrite(buf, 1, len, (FILE *)ctx) == len ? 0 : 1;
}

int config_journal(config_store *st) {
  uint64_t next;
  if (tsmap_export(st->map, st->journaled, journal_one, st->journal, &next) != TSMAP_OK)
    return -1;
  st->journaled = next;
  return fflush(st->journal) == 0 ? 0 : -1;
}

int config_merge(config_store *st, const tsmap_change *change) {
  tsmap_status s = tsmap_merge(st->map, change, config_resolve, NULL, NULL);
  if (s == TSMAP_EXISTS)
    return 0;
  return s == TSMAP_OK || s == TSMAP_REPLACED ? 1 : -1;
}

/* The order the resolver keeps: the stamp's Lamport time, then priority (a removal has
 * none), then the stamp. Replicas converge only on an order in which every edit ranks
 * above the edits it replaced (runtime/DESIGN.md, G13 (e)), and a later time says so: an
 * edit made after another, here or at the peer, has a larger time. Priority first would
 * not: an automatic edit that replaced an operator's here could lose to it at the peer,
 * which weighs the operator's value (kept against a concurrent edit) against it, and the
 * two replicas would keep different values for good. So priority decides between edits
 * made at the same logical time, one at each replica (with two replicas there are never
 * more; with more, order by the stamp alone: tsmap_resolve_latest). */
static uint32_t priority_of(const tsmap_change *c) {
  config_value v;
  if (!c->value)
    return 0;
  memcpy(&v, c->value, sizeof v);
  return v.priority;
}

tsmap_verdict config_resolve(const void *key, size_t key_len, const tsmap_change *local,
                             const tsmap_change *remote, void *ctx, void *merged) {
  (void)key, (void)key_len, (void)ctx, (void)merged; /* merged holds the remote value */
  uint64_t tl = local->stamp >> 8, tr = remote->stamp >> 8; /* (time << 8) | replica */
  uint32_t pl = priority_of(local), pr = priority_of(remote);
  int remote_wins = tr != tl   ? tr > tl
                    : pr != pl ? pr > pl
                               : remote->stamp > local->stamp;
  if (!remote_wins)
    return TSMAP_KEEP;
  return remote->value ? TSMAP_STORE : TSMAP_DELETE;
}

/* ---- dump ------------------------------------------------------------------------------ */

typedef struct lines {
  char **v;
  size_t n, cap;
} lines;

static int dump_one(const tsmap_change *c, void *ctx) {
  lines *l = (lines *)ctx;
  char line[256];
  config_value v;
  int n = snprintf(line, sizeof line, "%.*s", (int)c->key_len, (const char *)c->key);
  if (c->value) {
    memcpy(&v, c->value, sizeof v);
    n += snprintf(line + n, sizeof line - (size_t)n, " = %.24s p%u", v.text, v.priority);
  } else {
    n += snprintf(line + n, sizeof line - (size_t)n, " removed");
  }
  for (size_t i = 0; i < c->clock_len; i++)
    n += snprintf(line + n, sizeof line - (size_t)n, "%s%llu", i ? "," : " clock ",
                  (unsigned long long)c->clock[i]);
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 64;
    l->v = (char **)realloc(l->v, l->cap * sizeof *l->v);
  }
  l->v[l->n++] = strdup(line);
  return 0;
}

static int cmp_line(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int config_dump(config_store *st, FILE *out) {
  lines l = {NULL, 0, 0};
  if (tsmap_export(st->map, 0, dump_one, &l, NULL) != TSMAP_OK)
    return -1;
  qsort(l.v, l.n, sizeof *l.v, cmp_line);
  for (size_t i = 0; i < l.n; i++) {
    fprintf(out, "%s\n", l.v[i]);
    free(l.v[i]);
  }
  free(l.v);
  return 0;
}
