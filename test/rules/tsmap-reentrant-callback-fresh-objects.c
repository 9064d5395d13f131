// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
//
// A table of an object a function has just made (bench/realworld R20, gvfs's
// directory cache): `e` held a looked-up entry, then `e = entry_new ()`, and
// what fills `e->files` after that fills a new table, never the one a loop
// further up iterates. Quiet when the nearest write of the variable before the
// call makes a new object; still warned when the variable may still hold the
// looked-up entry (written under an `if`, in a loop, or filled before).

#include "reentrant-glib.h"

gpointer g_strdup(gconstpointer s);

typedef struct { GHashTable *files; int stamp; } Entry;
GHashTable *dirs;

static Entry *entry_new(int stamp) { /* a new entry with a new table */
  Entry *e = g_malloc0(sizeof *e);
  e->files = g_hash_table_new(0, 0);
  e->stamp = stamp;
  return e;
}
static void entry_add(Entry *e, gpointer name) { /* a copy: a new key */
  g_hash_table_insert(e->files, g_strdup(name), name);
}
static void fill(Entry *e, gpointer name) { entry_add(e, name); }

struct funcs { void (*process)(Entry *e, gpointer name); };
static const struct funcs unix_funcs = {fill};

// ---- quiet: the entry filled is the one just made --------------------------

static Entry *lookup_entry(const struct funcs *f, gpointer dir, int stamp) {
  Entry *e = g_hash_table_lookup(dirs, dir);
  if (e && e->stamp >= stamp)
    return e;
  e = entry_new(stamp);
  f->process(e, dir);
  g_hash_table_insert(dirs, dir, e);
  return e;
}
static Entry *lookup_entry_direct(gpointer dir) {
  Entry *e = g_hash_table_lookup(dirs, dir);
  if (e)
    return e;
  e = g_malloc0(sizeof *e);
  e->files = g_hash_table_new(0, 0);
  g_hash_table_insert(e->files, dir, dir);
  return e;
}

void list_dir(Entry *dir_entry, gpointer dir) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, dir_entry->files);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    lookup_entry(&unix_funcs, k, 1);
    lookup_entry_direct(k);
  }
}

// ---- warned: the entry filled may be the looked-up one ---------------------

static Entry *lookup_or_make(gpointer dir) {
  Entry *e = g_hash_table_lookup(dirs, dir);
  if (!e)
    e = entry_new(0);
  fill(e, dir); /* e may be the looked-up entry */
  return e;
}
static Entry *fill_then_replace(gpointer dir) {
  Entry *e = g_hash_table_lookup(dirs, dir);
  fill(e, dir); /* the looked-up entry */
  e = entry_new(0);
  return e;
}
static void refill_all(gpointer dir) {
  Entry *e = g_hash_table_lookup(dirs, dir);
  for (int i = 0; i < 2; i++) {
    fill(e, dir); /* the second time round, whatever the end of the first left */
    e = entry_new(i);
  }
}

void list_dir_making(Entry *dir_entry) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, dir_entry->files);
  while (g_hash_table_iter_next(&it, &k, &v))
    lookup_or_make(k);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'lookup_or_make' changes 'dir_entry->files' while a loop iterates it with 'g_hash_table_iter_next': it calls 'g_hash_table_insert' on it; the change invalidates the iterator [tsmap-reentrant-callback]
}
void list_dir_replacing(Entry *dir_entry) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, dir_entry->files);
  while (g_hash_table_iter_next(&it, &k, &v))
    fill_then_replace(k);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'fill_then_replace' changes 'dir_entry->files' while a loop iterates it with 'g_hash_table_iter_next': it calls 'g_hash_table_insert' on it; the change invalidates the iterator [tsmap-reentrant-callback]
}
void list_dir_refilling(Entry *dir_entry) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, dir_entry->files);
  while (g_hash_table_iter_next(&it, &k, &v))
    refill_all(k);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'refill_all' changes 'dir_entry->files' while a loop iterates it with 'g_hash_table_iter_next': it calls 'g_hash_table_insert' on it; the change invalidates the iterator [tsmap-reentrant-callback]
}
