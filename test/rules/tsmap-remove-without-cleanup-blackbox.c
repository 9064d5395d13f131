// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- -config="{CheckOptions: {Contracts: 'struct session.timeout_id=cleanup(g_source_remove); struct entry.fd=cleanup(close); struct doc.fd=cleanup(close)'}}" -- -I%S/Inputs
// Reduced from three unannotated programs (a GLib session table with idle
// timers, a liburcu lfht cache of descriptors, a libtsmap document cache with
// an eviction hook) whose contracts come from option Contracts. Each keeps the
// shape that was reported wrongly or missed before, and a few that were right.
#include "removal-glib.h"
#include "fake_urcu.h"
#include <stdbool.h>
#include <string.h>
#include <tsmap/tsmap.h>

int close(int fd);
int log_line(const char *what);

// ---- GLib: sessions with idle timers -------------------------------------------------

typedef struct session {
  char *id;
  guint timeout_id; /* the idle timer: g_source_remove it */
} Session;
gboolean g_source_remove(guint id);

static GHashTable *sessions;

void session_free(gpointer data) {
  Session *s = data;
  if (s->timeout_id)
    g_source_remove(s->timeout_id);
  g_free(s->id);
  g_free(s);
}

void sessions_init(void) {
  sessions = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, session_free);
}

void session_kick(const char *id) {
  Session *s = NULL;
  if (g_hash_table_steal_extended(sessions, id, NULL, (gpointer *)&s)) {
    // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: value removed by 'g_hash_table_steal_extended' into 's' is not cleaned up on every path; its field 'timeout_id' keeps a resource that 'g_source_remove' must release [tsmap-remove-without-cleanup]
    g_free(s->id);
    g_free(s); /* the timer still fires */
  }
}

gboolean session_rename(const char *old_id, const char *new_id) { // quiet
  Session *s = NULL;
  gboolean found = g_hash_table_steal_extended(sessions, old_id, NULL, (gpointer *)&s);
  if (!found)
    return FALSE;
  g_free(s->id);
  s->id = (char *)new_id;
  g_hash_table_insert(sessions, s->id, s);
  return TRUE;
}

// The status kept in a field of the result.
struct result { gboolean ok; int code; };
struct result session_detach(const char *id, Session **out) { // quiet
  struct result r = {FALSE, 0};
  Session *s = NULL;
  r.ok = g_hash_table_steal_extended(sessions, id, NULL, (gpointer *)&s);
  if (!r.ok) {
    r.code = -1;
    return r;
  }
  *out = s;
  return r;
}

// A "removed" flag set on the success side.
void session_end(const char *id) { // quiet
  Session *s = NULL;
  bool stolen = false;
  if (g_hash_table_steal_extended(sessions, id, NULL, (gpointer *)&s))
    stolen = true;
  log_line(id);
  if (stolen)
    session_free(s);
}

// ---- liburcu: an lfht cache of descriptors ---------------------------------------------

struct entry {
  unsigned long id;
  int fd;
  struct cds_lfht_node node;
  struct rcu_head rcu;
};
static struct cds_lfht *g_ht;

static int match_id(struct cds_lfht_node *node, const void *key) {
  struct entry *e = caa_container_of(node, struct entry, node);
  return e->id == *(const unsigned long *)key;
}

static void entry_free_rcu(struct rcu_head *head) {
  struct entry *e = caa_container_of(head, struct entry, rcu);
  close(e->fd);
  free(e);
}

void cache_put(struct entry *e) { // quiet: the old entry goes to call_rcu
  struct cds_lfht_node *old;
  rcu_read_lock();
  old = cds_lfht_add_replace(g_ht, e->id, match_id, &e->id, &e->node);
  rcu_read_unlock();
  if (old) {
    struct entry *o = caa_container_of(old, struct entry, node);
    call_rcu(&o->rcu, entry_free_rcu);
  }
}

// The node handed back is embedded in an entry like the one stored.
void cache_put_ignoring_old(struct entry *e) {
  rcu_read_lock();
  (void)cds_lfht_add_replace(g_ht, e->id, match_id, &e->id, &e->node);
  // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: result of 'cds_lfht_add_replace' is a removed value and is ignored; its field 'fd' keeps a resource that 'close' must release [tsmap-remove-without-cleanup]
  rcu_read_unlock();
}

// ---- libtsmap: a document cache with an eviction hook ---------------------------------

struct doc {
  int fd; /* an open file: close it */
  char *text;
};
static tsmap *g_docs;

static void doc_free(struct doc *d) {
  close(d->fd);
  free(d->text);
  free(d);
}

static void on_evicted(const void *key, size_t key_len, void *value,
                       tsmap_evict_reason reason, void *ctx) {
  (void)key, (void)key_len, (void)reason, (void)ctx;
  doc_free(*(struct doc **)value);
}

int docs_init(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, sizeof(struct doc *));
  cfg.max_entries = 1024;
  cfg.on_entry_evicted = on_evicted;
  return tsmap_create(&cfg, &g_docs) == TSMAP_OK ? 0 : -1;
}

int docs_drop(const char *path) { // quiet
  struct doc *d = NULL;
  tsmap_status st = tsmap_remove(g_docs, path, strlen(path), &d);
  if (st != TSMAP_OK && st != TSMAP_NOT_FOUND) {
    log_line("docs_drop failed");
    return -1;
  }
  if (st == TSMAP_NOT_FOUND)
    return 0;
  doc_free(d);
  return 1;
}

// The status is overwritten by the log call before it is tested.
int docs_drop_logged(const char *path) {
  struct doc *d = NULL;
  int rc = tsmap_remove(g_docs, path, strlen(path), &d);
  // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: value removed by 'tsmap_remove' into 'd' is not cleaned up on every path; its field 'fd' keeps a resource that 'close' must release [tsmap-remove-without-cleanup]
  rc = log_line(path);
  if (rc < 0)
    return -1;
  if (rc != TSMAP_OK)
    return 0;
  doc_free(d);
  return 1;
}

int docs_drop_rc(const char *path) { // quiet: rc is given a test of the status
  struct doc *d = NULL;
  int rc;
  tsmap_status st = tsmap_remove(g_docs, path, strlen(path), &d);
  rc = st == TSMAP_OK ? 0 : -1;
  if (rc)
    return rc;
  doc_free(d);
  return 0;
}

int docs_drop_batch(const char **paths, int n) { // quiet: statuses in an array
  tsmap_status sts[8];
  struct doc *d[8];
  for (int i = 0; i < n && i < 8; i++) {
    sts[i] = tsmap_remove(g_docs, paths[i], strlen(paths[i]), &d[i]);
    if (sts[i] == TSMAP_OK)
      doc_free(d[i]);
  }
  return 0;
}

bool docs_drop_flag(const char *path) { // quiet: a flag set on the success side
  struct doc *d = NULL;
  bool removed = false;
  if (tsmap_remove(g_docs, path, strlen(path), &d) == TSMAP_OK)
    removed = true;
  if (removed)
    doc_free(d);
  return removed;
}

int docs_drop_goto(const char *path) { // quiet
  struct doc *d = NULL;
  int rc = -1;
  tsmap_status st = tsmap_remove(g_docs, path, strlen(path), &d);
  if (st != TSMAP_OK)
    goto out;
  rc = 0;
out:
  if (rc == 0)
    doc_free(d);
  return rc;
}

// An error code set before the removal and changed only after it.
int docs_drop_err(const char *path) { // quiet
  struct doc *d = NULL;
  int err = 0;
  switch (tsmap_remove(g_docs, path, strlen(path), &d)) {
  case TSMAP_OK:
    break;
  case TSMAP_NOT_FOUND:
    err = 2;
    break;
  default:
    err = 5;
    break;
  }
  if (err)
    return -err;
  doc_free(d);
  return 0;
}

int docs_drop_err_leaks(const char *path) {
  struct doc *d = NULL;
  int err = 0;
  tsmap_status st = tsmap_remove(g_docs, path, strlen(path), &d);
  // CHECK-MESSAGES: :[[@LINE-1]]:21: warning: value removed by 'tsmap_remove' into 'd' is not cleaned up on every path; its field 'fd' keeps a resource that 'close' must release [tsmap-remove-without-cleanup]
  if (st == TSMAP_NOT_FOUND)
    err = 2;
  else if (st != TSMAP_OK)
    err = 5;
  if (err)
    return -err;
  free(d); /* TSMAP_OK: the descriptor stays open */
  return 0;
}

// `st` is given the put's status before `out:` reads it.
int docs_swap_goto(const char *path, struct doc *fresh) {
  struct doc *d = NULL;
  tsmap_status st = tsmap_remove(g_docs, path, strlen(path), &d);
  // CHECK-MESSAGES: :[[@LINE-1]]:21: warning: value removed by 'tsmap_remove' into 'd' is not cleaned up on every path; its field 'fd' keeps a resource that 'close' must release [tsmap-remove-without-cleanup]
  if (st != TSMAP_OK)
    goto out;
  st = tsmap_put_ptr_if_absent(g_docs, "next", 4, fresh, NULL);
out:
  if (st == TSMAP_OK)
    doc_free(d);
  return 0;
}

int docs_update(const char *path, struct doc *d, uint64_t seen) { // quiet
  struct doc *old = NULL;
  uint64_t now = 0;
  tsmap_status st = tsmap_put_if_version(g_docs, path, strlen(path), &d, seen, &now, &old);
  if (st == TSMAP_CONFLICT)
    return 0;
  if (st != TSMAP_OK && st != TSMAP_REPLACED)
    return -1;
  if (st == TSMAP_REPLACED)
    doc_free(old);
  return 1;
}
