/* The few GLib declarations the shipped 'glib' model speaks of, declared as
 * GLib's ghash.h does. */
#ifndef REMOVAL_GLIB_H
#define REMOVAL_GLIB_H
#define NULL ((void *)0)
#define TRUE 1
#define FALSE 0
typedef int gboolean;
typedef void *gpointer;
typedef const void *gconstpointer;
typedef unsigned int guint;
typedef struct _GHashTable GHashTable;
typedef guint (*GHashFunc)(gconstpointer key);
typedef gboolean (*GEqualFunc)(gconstpointer a, gconstpointer b);
typedef void (*GDestroyNotify)(gpointer data);
typedef gboolean (*GHRFunc)(gpointer key, gpointer value, gpointer user_data);
guint g_str_hash(gconstpointer v);
gboolean g_str_equal(gconstpointer v1, gconstpointer v2);
GHashTable *g_hash_table_new(GHashFunc hash_func, GEqualFunc key_equal_func);
GHashTable *g_hash_table_new_full(GHashFunc hash_func, GEqualFunc key_equal_func,
                                  GDestroyNotify key_destroy_func,
                                  GDestroyNotify value_destroy_func);
gboolean g_hash_table_insert(GHashTable *hash_table, gpointer key, gpointer value);
gboolean g_hash_table_add(GHashTable *hash_table, gpointer key);
void g_hash_table_destroy(GHashTable *hash_table);
void g_hash_table_unref(GHashTable *hash_table);
gboolean g_hash_table_replace(GHashTable *hash_table, gpointer key, gpointer value);
gpointer g_hash_table_lookup(GHashTable *hash_table, gconstpointer key);
gboolean g_hash_table_lookup_extended(GHashTable *hash_table, gconstpointer lookup_key,
                                      gpointer *orig_key, gpointer *value);
gboolean g_hash_table_contains(GHashTable *hash_table, gconstpointer key);
gboolean g_hash_table_remove(GHashTable *hash_table, gconstpointer key);
void g_hash_table_remove_all(GHashTable *hash_table);
gboolean g_hash_table_steal(GHashTable *hash_table, gconstpointer key);
gboolean g_hash_table_steal_extended(GHashTable *hash_table, gconstpointer lookup_key,
                                     gpointer *stolen_key, gpointer *stolen_value);
typedef void (*GHFunc)(gpointer key, gpointer value, gpointer user_data);
void g_hash_table_foreach(GHashTable *hash_table, GHFunc func, gpointer user_data);
guint g_hash_table_foreach_remove(GHashTable *hash_table, GHRFunc func,
                                  gpointer user_data);
guint g_hash_table_foreach_steal(GHashTable *hash_table, GHRFunc func,
                                 gpointer user_data);
typedef struct _GHashTableIter { gpointer dummy1, dummy2, dummy3; int dummy4; gboolean dummy5; gpointer dummy6; } GHashTableIter;
void g_hash_table_iter_init(GHashTableIter *iter, GHashTable *hash_table);
gboolean g_hash_table_iter_next(GHashTableIter *iter, gpointer *key, gpointer *value);
void g_hash_table_iter_remove(GHashTableIter *iter);
void g_hash_table_iter_steal(GHashTableIter *iter);
void g_free(gpointer mem);
#endif
