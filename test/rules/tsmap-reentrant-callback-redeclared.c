// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
//
// A table declared more than once is one table: a header's `extern` and the
// file's definition, or a tentative definition repeated. Uses before and after
// the second declaration name different declarations of the same variable;
// the check once took them for two maps and stayed quiet.

#include "reentrant-glib.h"

// ---- `extern` in a header, the definition in the file --------------------

extern GHashTable *g_sessions;

static void drop_session(gpointer key, gpointer value, gpointer data) {
  (void)value, (void)data;
  g_hash_table_remove(g_sessions, key);
}

GHashTable *g_sessions;

void sessions_reap(void) {
  g_hash_table_foreach(g_sessions, drop_session, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:36: warning: callback 'drop_session' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'g_sessions' while 'g_hash_table_foreach' runs it with the map locked or mid-iteration [tsmap-reentrant-callback]
}

// ---- a tentative definition repeated --------------------------------------

static GHashTable *g_jobs;

void jobs_requeue(void) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, g_jobs);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    extern void requeue(gpointer job);
    requeue(v);
  }
}

static GHashTable *g_jobs;

void jobs_retry(void) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, g_jobs);
  while (g_hash_table_iter_next(&it, &k, &v))
    g_hash_table_insert(g_jobs, (gpointer) "retried", v);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_insert' changes 'g_jobs' while a loop iterates it with 'g_hash_table_iter_next'; the change invalidates the iterator [tsmap-reentrant-callback]
}

// ---- quiet: two variables are two tables, however declared ----------------

extern GHashTable *g_index;
static GHashTable *g_archive;

static void archive_one(gpointer key, gpointer value, gpointer data) {
  (void)data;
  g_hash_table_insert(g_archive, key, value);
}

GHashTable *g_index;

void index_archive(void) {
  g_hash_table_foreach(g_index, archive_one, 0);
}
