// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
//
// A table destroyed on its owner's last reference (bench/realworld R16, gvfs):
// a callee that drops a reference it took itself, and destroys the owner's
// table only when that reference was the last, cannot destroy the table a
// loop or a foreach runs over when the table is the same one only by its
// field: whoever reaches the iterated table holds a reference too. Quiet for
// every spelling of the last-reference test; the same destroy without one, a
// test that is not a decrement, and a release of the iterated object itself
// still warn.

#include "reentrant-glib.h"

void g_hash_table_destroy(GHashTable *hash_table);
void g_hash_table_unref(GHashTable *hash_table);
GHashTable *dirs;

// GLib's own spelling: a macro around a statement expression (gatomic.h).
#define g_atomic_int_dec_and_test(atomic)                                      \
  (__extension__({ __atomic_fetch_sub((atomic), 1, __ATOMIC_SEQ_CST) == 1; }))
#define g_atomic_ref_count_dec(rc)                                             \
  (__extension__({ (void)0; g_atomic_int_dec_and_test((rc)); }))

typedef struct { GHashTable *files; int ref; } Entry;

static Entry *entry_get(const char *dir) { /* a new reference */
  Entry *e = g_hash_table_lookup(dirs, dir);
  if (e)
    __atomic_fetch_add(&e->ref, 1, __ATOMIC_SEQ_CST);
  return e;
}

// ---- the spellings of "the last reference went" ---------------------------

static void unref_early_return(Entry *e) {
  if (!g_atomic_int_dec_and_test(&e->ref))
    return;
  g_hash_table_destroy(e->files);
  g_free(e);
}
static void unref_inside_if(Entry *e) {
  if (g_atomic_ref_count_dec(&e->ref)) {
    g_hash_table_unref(e->files);
    g_free(e);
  }
}
static void unref_predecrement(Entry *e) {
  if (--e->ref > 0)
    return;
  g_hash_table_destroy(e->files);
}
static void unref_sub_fetch(Entry *e) {
  if (0 == __atomic_sub_fetch(&e->ref, 1, __ATOMIC_ACQ_REL))
    g_hash_table_destroy(e->files);
}
static void unref_fetch_sub_else(Entry *e) {
  if (__atomic_fetch_sub(&e->ref, 1, __ATOMIC_ACQ_REL) != 1)
    (void)0;
  else
    g_hash_table_destroy(e->files);
}

static gpointer lookup_each(const char *dir, gconstpointer name) {
  Entry *e = entry_get(dir);
  if (!e)
    return 0;
  gpointer info = g_hash_table_lookup(e->files, name);
  unref_early_return(e);
  unref_inside_if(e);
  unref_predecrement(e);
  unref_sub_fetch(e);
  unref_fetch_sub_else(e);
  return info;
}

void list_dir(const char *dir) {
  GHashTableIter it;
  gpointer k, v;
  Entry *e = entry_get(dir);
  if (!e)
    return;
  g_hash_table_iter_init(&it, e->files);
  while (g_hash_table_iter_next(&it, &k, &v))
    lookup_each(dir, k);
  unref_early_return(e);
}

// The same in a foreach callback.
static void visit(gpointer key, gpointer value, gpointer user_data) {
  (void)value;
  lookup_each((const char *)user_data, key);
}
void list_dir_foreach(Entry *e, const char *dir) {
  g_hash_table_foreach(e->files, visit, (gpointer)dir);
}

// ---- still warned ---------------------------------------------------------

// No reference count: the destroy may be the iterated table's.
static void drop_files(Entry *e) { g_hash_table_destroy(e->files); }
static void lookup_and_drop(const char *dir) {
  Entry *e = entry_get(dir);
  if (e)
    drop_files(e);
}
void list_dir_dropping(const char *dir) {
  GHashTableIter it;
  gpointer k, v;
  Entry *e = entry_get(dir);
  if (!e)
    return;
  g_hash_table_iter_init(&it, e->files);
  while (g_hash_table_iter_next(&it, &k, &v))
    lookup_and_drop(dir);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'lookup_and_drop' changes 'e->files' while a loop iterates it with 'g_hash_table_iter_next': it calls 'g_hash_table_destroy' on it; the change invalidates the iterator [tsmap-reentrant-callback]
}

// A test of the count that decrements nothing is no release.
static void drop_if_unused(Entry *e) {
  if (e->ref == 0)
    g_hash_table_destroy(e->files);
}
static void lookup_and_maybe_drop(const char *dir) {
  Entry *e = entry_get(dir);
  if (e)
    drop_if_unused(e);
}
void list_dir_maybe_dropping(const char *dir) {
  GHashTableIter it;
  gpointer k, v;
  Entry *e = entry_get(dir);
  if (!e)
    return;
  g_hash_table_iter_init(&it, e->files);
  while (g_hash_table_iter_next(&it, &k, &v))
    lookup_and_maybe_drop(dir);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'lookup_and_maybe_drop' changes 'e->files' while a loop iterates it with 'g_hash_table_iter_next': it calls 'g_hash_table_destroy' on it; the change invalidates the iterator [tsmap-reentrant-callback]
}

// A decrement whose test does not leave: what follows runs on every call.
static void unref_and_drop_anyway(Entry *e) {
  if (!g_atomic_int_dec_and_test(&e->ref))
    g_free(0);
  g_hash_table_destroy(e->files);
}
static void lookup_and_unref_anyway(const char *dir) {
  Entry *e = entry_get(dir);
  if (e)
    unref_and_drop_anyway(e);
}
void list_dir_unref_anyway(const char *dir) {
  GHashTableIter it;
  gpointer k, v;
  Entry *e = entry_get(dir);
  if (!e)
    return;
  g_hash_table_iter_init(&it, e->files);
  while (g_hash_table_iter_next(&it, &k, &v))
    lookup_and_unref_anyway(dir);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'lookup_and_unref_anyway' changes 'e->files' while a loop iterates it with 'g_hash_table_iter_next': it calls 'g_hash_table_destroy' on it; the change invalidates the iterator [tsmap-reentrant-callback]
}

// The iterated entry itself released in the loop: its table is traced, and
// the loop's own reference may be the one it drops.
void list_dir_releasing_itself(const char *dir) {
  GHashTableIter it;
  gpointer k, v;
  Entry *e = entry_get(dir);
  if (!e)
    return;
  g_hash_table_iter_init(&it, e->files);
  while (g_hash_table_iter_next(&it, &k, &v))
    unref_early_return(e);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'unref_early_return' changes 'e->files' while a loop iterates it with 'g_hash_table_iter_next': it calls 'g_hash_table_destroy' on it; the change invalidates the iterator [tsmap-reentrant-callback]
}

// A foreach callback that destroys the table by field, no count.
static void visit_dropping(gpointer key, gpointer value, gpointer user_data) {
  (void)key, (void)value;
  lookup_and_drop((const char *)user_data);
}
void list_dir_foreach_dropping(Entry *e, const char *dir) {
  g_hash_table_foreach(e->files, visit_dropping, (gpointer)dir);
  // CHECK-MESSAGES: :[[@LINE-1]]:34: warning: callback 'visit_dropping' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_destroy' on 'e->files' while 'g_hash_table_foreach' runs it with the map locked or mid-iteration [tsmap-reentrant-callback]
}

// A foreach callback that drops a reference it was handed (the table's own, in
// the value) may be the last one: reported, last-reference test or not.
typedef struct Manager Manager;
typedef struct Held { int ref; Manager *manager; char *key; } Held;
struct Manager { GHashTable *cache; };
static void held_unref(Held *h) {
  if (!g_atomic_int_dec_and_test(&h->ref))
    return;
  g_hash_table_remove(h->manager->cache, h->key);
  g_free(h);
}
static void drop_ref(gpointer key, gpointer value, gpointer user_data) {
  (void)key, (void)user_data;
  held_unref(value);
}
void manager_release_all(Manager *m) {
  g_hash_table_foreach(m->cache, drop_ref, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:34: warning: callback 'drop_ref' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'm->cache' while 'g_hash_table_foreach' runs it with the map locked or mid-iteration [tsmap-reentrant-callback]
}
