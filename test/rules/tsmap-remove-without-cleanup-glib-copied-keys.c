// RUN: %check_tsmap_tidy %s tsmap-remove-without-cleanup %t -- -- -I%S/Inputs
// An insert of a copy of the key a failed lookup tested
// (`if (!g_hash_table_lookup(t, path)) g_hash_table_insert(t, g_strdup(path), w);`)
// cannot overwrite when the table's key_equal_func compares what the keys
// point to: a string copy in a g_str_equal table, a byte copy in a
// g_int_equal one. A table comparing pointers (NULL, g_direct_equal) never
// finds a fresh copy equal to anything, and one whose equal function the check
// does not know stays reported.
#include "removal-glib.h"
#include <tsmap/annotations.h>

typedef unsigned long gsize;
char *g_strdup(const char *s);
char *g_strndup(const char *s, gsize n);
char *strdup(const char *s);
gsize strlen(const char *s);
gpointer g_memdup2(gconstpointer mem, gsize byte_size);
guint g_direct_hash(gconstpointer v);
gboolean g_direct_equal(gconstpointer a, gconstpointer b);
guint g_int_hash(gconstpointer v);
gboolean g_int_equal(gconstpointer a, gconstpointer b);
gboolean path_equal(gconstpointer a, gconstpointer b);

struct timer;
void timer_cancel(struct timer *t);
struct watch {
  char *path;
  TSMAP_CLEANUP(timer_cancel) struct timer *poll;
};
static void watch_drop(gpointer p) { g_free(p); } /* forgets the timer */

static GHashTable *g_by_path;   /* g_str_equal */
static GHashTable *g_by_ptr;    /* g_direct_equal */
static GHashTable *g_by_nulleq; /* NULL: pointers */
static GHashTable *g_by_id;     /* g_int_equal */
static GHashTable *g_by_custom; /* an equal function the check cannot read */

// ---- Quiet: the copy compares equal to the key the lookup did not find -------

void add_strdup(const char *path, struct watch *w) {
  if (!g_hash_table_lookup(g_by_path, path))
    g_hash_table_insert(g_by_path, g_strdup(path), w);
}

void add_contains_strdup(const char *path, struct watch *w) {
  if (g_hash_table_contains(g_by_path, path))
    return;
  g_hash_table_insert(g_by_path, strdup(path), w);
}

void add_strndup_whole(const char *path, struct watch *w) {
  if (!g_hash_table_lookup(g_by_path, path))
    g_hash_table_insert(g_by_path, g_strndup(path, strlen(path)), w);
}

void add_memdup_id(int *id, struct watch *w) {
  if (!g_hash_table_lookup(g_by_id, id))
    g_hash_table_insert(g_by_id, g_memdup2(id, sizeof *id), w);
}

/* The same key expression, as before: quiet whatever the equality. */
void add_same_key(char *path, struct watch *w) {
  if (!g_hash_table_lookup(g_by_ptr, path))
    g_hash_table_insert(g_by_ptr, path, w);
}

// ---- Reported -----------------------------------------------------------------

void add_strdup_found(const char *path, struct watch *w) {
  if (!g_hash_table_contains(g_by_path, path))
    return;
  g_hash_table_insert(g_by_path, g_strdup(path), w);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'g_hash_table_insert' may overwrite a value, and the map's eviction hook 'watch_drop' does not call 'timer_cancel'; its field 'poll' keeps a resource that is never released [tsmap-remove-without-cleanup]
}

void add_strdup_other(const char *path, const char *other, struct watch *w) {
  if (!g_hash_table_lookup(g_by_path, other))
    g_hash_table_insert(g_by_path, g_strdup(path), w);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_insert' may overwrite
}

void add_strndup_prefix(const char *path, gsize n, struct watch *w) {
  if (!g_hash_table_lookup(g_by_path, path)) /* a prefix of path is another key */
    g_hash_table_insert(g_by_path, g_strndup(path, n), w);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_insert' may overwrite
}

void add_memdup_string(const char *path, struct watch *w) {
  if (!g_hash_table_lookup(g_by_path, path)) /* not a string copy */
    g_hash_table_insert(g_by_path, g_memdup2(path, 4), w);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_insert' may overwrite
}

void add_strdup_direct(const char *path, struct watch *w) {
  if (!g_hash_table_lookup(g_by_ptr, path))
    g_hash_table_insert(g_by_ptr, g_strdup(path), w);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_insert' may overwrite
}

void add_strdup_null_equal(const char *path, struct watch *w) {
  if (!g_hash_table_lookup(g_by_nulleq, path))
    g_hash_table_insert(g_by_nulleq, g_strdup(path), w);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_insert' may overwrite
}

void add_strdup_custom(const char *path, struct watch *w) {
  if (!g_hash_table_lookup(g_by_custom, path))
    g_hash_table_insert(g_by_custom, g_strdup(path), w);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_insert' may overwrite
}

/* Created after the inserts above: the equality is read at the end of the
 * translation unit. */
void tables_init(void) {
  g_by_path = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, watch_drop);
  g_by_ptr = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, watch_drop);
  g_by_nulleq = g_hash_table_new_full(NULL, NULL, NULL, watch_drop);
  g_by_id = g_hash_table_new_full(g_int_hash, g_int_equal, g_free, watch_drop);
  g_by_custom = g_hash_table_new_full(g_str_hash, path_equal, g_free, watch_drop);
}
