// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
//
// GLib invalidates a walk only when a key is added. A store under the key
// being visited replaces a value; so does a store under a copy of it
// (`g_hash_table_replace (t, g_strdup (key), v)`) when the table's
// key_equal_func compares what the keys point to: a string copy in a
// g_str_equal table, a byte copy in a g_int_equal one, where the translation
// unit shows the table's creation. A table comparing pointers (NULL,
// g_direct_equal) never finds the fresh copy, so the store adds a key; a
// table whose creation is not seen, or whose creations disagree, may compare
// pointers and stays reported. The loop's key variable is found also through
// a cast (`(gpointer *) &name`).

#include "reentrant-glib.h"

typedef unsigned long gsize;
char *g_strdup(const char *s);
char *g_strndup(const char *s, gsize n);
char *strdup(const char *s);
gsize strlen(const char *s);
gpointer g_memdup2(gconstpointer mem, gsize byte_size);
guint g_str_hash(gconstpointer v);
gboolean g_str_equal(gconstpointer a, gconstpointer b);
guint g_direct_hash(gconstpointer v);
gboolean g_direct_equal(gconstpointer a, gconstpointer b);
guint g_int_hash(gconstpointer v);
gboolean g_int_equal(gconstpointer a, gconstpointer b);
typedef void (*GDestroyNotify)(gpointer data);
GHashTable *g_hash_table_new_full(void *hash_func, void *key_equal_func,
                                  GDestroyNotify key_destroy,
                                  GDestroyNotify value_destroy);

static GHashTable *names;   // g_str_equal, created below the loops
static GHashTable *ids;     // g_direct_equal
static GHashTable *nums;    // g_int_equal
static GHashTable *mixed;   // created twice, with different equal functions
static GHashTable *unseen;  // created in another file

typedef struct { GHashTable *labels; } Registry;

// ---- the loop's own key, written through a cast ---------------------------

void touch_cast(GHashTable *t) {
  GHashTableIter it;
  const char *name;
  gpointer v;
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, (gpointer *)&name, &v))
    g_hash_table_replace(t, (gpointer)name, v); /* quiet: the visited key */
}
void touch_cast_other(GHashTable *t) {
  GHashTableIter it;
  const char *name;
  gpointer v;
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, (gpointer *)&name, &v))
    g_hash_table_replace(t, v, (gpointer)name);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_replace' changes 't' while a loop iterates it with 'g_hash_table_iter_next'; the change invalidates the iterator [tsmap-reentrant-callback]
}

// ---- copies of the visited key ---------------------------------------------

void rename_all(void) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, names);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    g_hash_table_replace(names, g_strdup(k), g_strdup("x"));          /* quiet */
    g_hash_table_insert(names, strdup((const char *)k), v);          /* quiet */
    g_hash_table_replace(names, g_strndup(k, strlen(k)), v);          /* quiet */
    g_hash_table_replace(names, g_strndup(k, 3), v);  // a prefix: another key
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_replace' changes 'names' while a loop iterates it with 'g_hash_table_iter_next'; the change invalidates the iterator [tsmap-reentrant-callback]
    g_hash_table_replace(names, g_strdup(v), k);      // a copy of the value
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_replace' changes 'names'
  }
}

void rename_cast(void) {
  GHashTableIter it;
  const char *name;
  g_hash_table_iter_init(&it, names);
  while (g_hash_table_iter_next(&it, (gpointer *)&name, 0))
    g_hash_table_replace(names, g_strdup(name), 0); /* quiet */
}

void copy_ids(void) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, ids);
  while (g_hash_table_iter_next(&it, &k, &v))
    g_hash_table_replace(ids, g_strdup(k), v);  // pointers compared: a new key
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_replace' changes 'ids' while a loop iterates it with 'g_hash_table_iter_next'; the change invalidates the iterator [tsmap-reentrant-callback]
}

void copy_nums(void) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, nums);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    g_hash_table_replace(nums, g_memdup2(k, sizeof(int)), v); /* quiet */
    g_hash_table_replace(nums, g_strdup(k), v);  // a string copy: g_int_equal reads an int, not the string
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_replace' changes 'nums'
  }
}

void copy_mixed(void) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, mixed);
  while (g_hash_table_iter_next(&it, &k, &v))
    g_hash_table_replace(mixed, g_strdup(k), v);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_replace' changes 'mixed'
}

void copy_unseen(void) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, unseen);
  while (g_hash_table_iter_next(&it, &k, &v))
    g_hash_table_replace(unseen, g_strdup(k), v);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_replace' changes 'unseen'
}

void copy_param(GHashTable *t) {  // whose table: not known here
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, &k, &v))
    g_hash_table_replace(t, g_strdup(k), v);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_replace' changes 't'
}

// A field whose every creation in the file compares strings.
void relabel(Registry *r) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, r->labels);
  while (g_hash_table_iter_next(&it, &k, &v))
    g_hash_table_replace(r->labels, g_strdup(k), v); /* quiet */
}

// ---- a local alias of the visited key (gimp's `gchar *code = (gchar *) key;`,
// bench/realworld R34): a local of the loop body whose only value is the key
// variable is that key; one with another value too, one given the key before
// the loop, or one whose key variable the body reassigns is not.

void name_alias(void) {
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init(&it, names);
  while (g_hash_table_iter_next(&it, &key, 0)) {
    char *code = (char *)key;
    g_hash_table_replace(names, g_strdup(code), g_strdup(code)); /* quiet */
  }
}
void name_alias_assigned(void) {
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init(&it, names);
  while (g_hash_table_iter_next(&it, &key, 0)) {
    char *code;
    code = key;
    g_hash_table_replace(names, g_strdup(code), 0); /* quiet */
  }
}
void name_alias_two_values(int flag) {
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init(&it, names);
  while (g_hash_table_iter_next(&it, &key, 0)) {
    char *code = (char *)key;
    if (flag)
      code = "default";
    g_hash_table_replace(names, g_strdup(code), 0);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_replace' changes 'names' while a loop iterates it with 'g_hash_table_iter_next'; the change invalidates the iterator [tsmap-reentrant-callback]
  }
}
void name_alias_before_loop(void) {
  GHashTableIter it;
  gpointer key = g_strdup("first");
  char *first = (char *)key;
  g_hash_table_iter_init(&it, names);
  while (g_hash_table_iter_next(&it, &key, 0))
    g_hash_table_replace(names, g_strdup(first), 0);  // the first key, every round
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_replace' changes 'names' while a loop iterates it with 'g_hash_table_iter_next'; the change invalidates the iterator [tsmap-reentrant-callback]
}
void name_alias_key_reassigned(gpointer other) {
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init(&it, names);
  while (g_hash_table_iter_next(&it, &key, 0)) {
    key = other;
    char *code = (char *)key;
    g_hash_table_replace(names, g_strdup(code), 0);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_replace' changes 'names' while a loop iterates it with 'g_hash_table_iter_next'; the change invalidates the iterator [tsmap-reentrant-callback]
  }
}
void id_alias(void) {  // pointers compared: the copy is a new key
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init(&it, ids);
  while (g_hash_table_iter_next(&it, &key, 0)) {
    char *code = (char *)key;
    g_hash_table_replace(ids, g_strdup(code), 0);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_replace' changes 'ids' while a loop iterates it with 'g_hash_table_iter_next'; the change invalidates the iterator [tsmap-reentrant-callback]
  }
}

// ---- foreach callbacks -------------------------------------------------------

static void rename_cb(gpointer key, gpointer value, gpointer user_data) {
  g_hash_table_replace(names, g_strdup(key), value); /* quiet */
}
static void copy_id_cb(gpointer key, gpointer value, gpointer user_data) {
  g_hash_table_replace(ids, g_strdup(key), value);
}
static void copy_ctx_cb(gpointer key, gpointer value, gpointer user_data) {
  g_hash_table_replace((GHashTable *)user_data, g_strdup(key), value);
}
static void copy_value_cb(gpointer key, gpointer value, gpointer user_data) {
  g_hash_table_replace(names, g_strdup(value), key);
}
static void rename_alias_cb(gpointer key, gpointer value, gpointer user_data) {
  const char *code = (const char *)key;
  g_hash_table_replace(names, g_strdup(code), value); /* quiet */
}
static void store_alias_cb(gpointer key, gpointer value, gpointer user_data) {
  gpointer same = key;
  g_hash_table_insert((GHashTable *)user_data, same, value); /* quiet: the visited key */
}
static void rename_moved_cb(gpointer key, gpointer value, gpointer user_data) {
  key = value;
  const char *code = (const char *)key;
  g_hash_table_replace(names, g_strdup(code), value);
}

void walk_all(GHashTable *t) {
  g_hash_table_foreach(names, rename_cb, 0);
  g_hash_table_foreach(ids, copy_id_cb, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:29: warning: callback 'copy_id_cb' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_replace' on 'ids' while 'g_hash_table_foreach' runs it with the map locked or mid-iteration [tsmap-reentrant-callback]
  g_hash_table_foreach(names, copy_ctx_cb, names);   /* quiet: names compares strings */
  g_hash_table_foreach(t, copy_ctx_cb, t);
  // CHECK-MESSAGES: :[[@LINE-1]]:27: warning: callback 'copy_ctx_cb' passed to 'g_hash_table_foreach' re-enters the same map
  g_hash_table_foreach(names, copy_value_cb, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:31: warning: callback 'copy_value_cb' passed to 'g_hash_table_foreach' re-enters the same map
  g_hash_table_foreach(names, rename_alias_cb, 0);
  g_hash_table_foreach(t, store_alias_cb, t);
  g_hash_table_foreach(names, rename_moved_cb, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:31: warning: callback 'rename_moved_cb' passed to 'g_hash_table_foreach' re-enters the same map
}

// ---- the creations, after the loops that use them -----------------------------

void init_tables(Registry *r) {
  names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  ids = g_hash_table_new(g_direct_hash, g_direct_equal);
  nums = g_hash_table_new_full(g_int_hash, g_int_equal, g_free, 0);
  mixed = g_hash_table_new(g_str_hash, g_str_equal);
  r->labels = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, 0);
}
void reset_mixed(void) {
  mixed = g_hash_table_new(g_direct_hash, 0);
}
