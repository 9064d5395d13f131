/* The few GLib declarations the shipped 'glib' model speaks of. */
#ifndef REMOVAL_GLIB_H
#define REMOVAL_GLIB_H
typedef int gboolean;
typedef void *gpointer;
typedef const void *gconstpointer;
typedef struct _GHashTable GHashTable;
gboolean g_hash_table_insert(GHashTable *hash_table, gpointer key, gpointer value);
gboolean g_hash_table_steal_extended(GHashTable *hash_table, gconstpointer lookup_key,
                                     gpointer *stolen_key, gpointer *stolen_value);
void g_free(gpointer mem);
#endif
