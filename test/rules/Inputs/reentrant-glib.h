/* The parts of GLib's ghash.h that tsmap-reentrant-callback tests use,
 * declared as GLib declares them (no annotations: the shipped model applies). */
#ifndef REENTRANT_GLIB_H
#define REENTRANT_GLIB_H
typedef void *gpointer;
typedef const void *gconstpointer;
typedef int gboolean;
typedef unsigned int guint;
typedef struct _GHashTable GHashTable;
typedef void (*GHFunc)(gpointer key, gpointer value, gpointer user_data);
typedef gboolean (*GHRFunc)(gpointer key, gpointer value, gpointer user_data);
void g_hash_table_foreach(GHashTable *hash_table, GHFunc func, gpointer user_data);
guint g_hash_table_foreach_remove(GHashTable *hash_table, GHRFunc func, gpointer user_data);
gpointer g_hash_table_find(GHashTable *hash_table, GHRFunc predicate, gpointer user_data);
gboolean g_hash_table_insert(GHashTable *hash_table, gpointer key, gpointer value);
gboolean g_hash_table_replace(GHashTable *hash_table, gpointer key, gpointer value);
gboolean g_hash_table_remove(GHashTable *hash_table, gconstpointer key);
gboolean g_hash_table_add(GHashTable *hash_table, gpointer key);
gpointer g_hash_table_lookup(GHashTable *hash_table, gconstpointer key);
guint g_hash_table_size(GHashTable *hash_table);
GHashTable *g_hash_table_new(void *hash_func, void *key_equal_func);
typedef struct _GHashTableIter { gpointer dummy1, dummy2, dummy3; int dummy4; gboolean dummy5; gpointer dummy6; } GHashTableIter;
void g_hash_table_iter_init(GHashTableIter *iter, GHashTable *hash_table);
gboolean g_hash_table_iter_next(GHashTableIter *iter, gpointer *key, gpointer *value);
void g_hash_table_iter_remove(GHashTableIter *iter);
void g_hash_table_iter_replace(GHashTableIter *iter, gpointer value);
guint g_hash_table_foreach_remove(GHashTable *hash_table, GHRFunc func, gpointer user_data);
void g_free(gpointer mem);
gpointer g_malloc0(unsigned long n_bytes);
#endif
