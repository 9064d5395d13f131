/* The parts of GLib's ghash.h the models name, declared as GLib does. */
#ifndef FAKE_GLIB_H
#define FAKE_GLIB_H
typedef void *gpointer;
typedef int gboolean;
typedef struct _GHashTable GHashTable;
typedef void (*GHFunc)(gpointer key, gpointer value, gpointer user_data);
typedef gboolean (*GHRFunc)(gpointer key, gpointer value, gpointer user_data);
void g_hash_table_foreach(GHashTable *hash_table, GHFunc func, gpointer user_data);
gpointer g_hash_table_find(GHashTable *hash_table, GHRFunc predicate, gpointer user_data);
gboolean g_hash_table_insert(GHashTable *hash_table, gpointer key, gpointer value);
#endif
