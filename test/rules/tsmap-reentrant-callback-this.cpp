// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
//
// C++ methods: a table held by the object is `this->table`, whether written
// so or as `table`, and a callback that reaches it through the context (the
// table itself, or `this`), a lambda written in the method, or a method
// called on the context object, is on the iterated map. Another object's
// table, or another member, is not.

#include "reentrant-glib.h"

struct Registry {
  GHashTable *table;
  GHashTable *archive;
  void drop_all();
  void drop_explicit();
  void drop_through_self();
  void forget(gpointer key);
  void archive_all();
  void copy_into(Registry *other);
  void copy_from(Registry &other);
};

static void drop_key(gpointer k, gpointer, gpointer d) {
  g_hash_table_remove(static_cast<GHashTable *>(d), k);
}

void Registry::drop_all() {
  g_hash_table_foreach(table, drop_key, table);
  // CHECK-MESSAGES: :[[@LINE-1]]:31: warning: callback 'drop_key' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'table' while 'g_hash_table_foreach' runs it with the map locked or mid-iteration [tsmap-reentrant-callback]
  g_hash_table_foreach(
      table, [](gpointer k, gpointer, gpointer d) { g_hash_table_remove(static_cast<GHashTable *>(d), k); },
      table);
  // CHECK-MESSAGES: :[[@LINE-2]]:14: warning: callback 'lambda at line {{[0-9]+}}' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'table' while 'g_hash_table_foreach' runs it with the map locked or mid-iteration [tsmap-reentrant-callback]
}

void Registry::drop_explicit() {
  g_hash_table_foreach(this->table, drop_key, this->table);
  // CHECK-MESSAGES: :[[@LINE-1]]:37: warning: callback 'drop_key' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'this->table' while {{.*}} [tsmap-reentrant-callback]
}

// The context is the object; the callback calls a method that removes from
// the object's table.
void Registry::forget(gpointer key) { g_hash_table_remove(table, key); }
static void forget_key(gpointer k, gpointer, gpointer self) {
  static_cast<Registry *>(self)->forget(k);
}
void Registry::drop_through_self() {
  g_hash_table_foreach(table, forget_key, this);
  // CHECK-MESSAGES: :[[@LINE-1]]:31: warning: callback 'forget_key' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'table' while {{.*}} [tsmap-reentrant-callback]
}

// Quiet: another member, another object's table.
static void put_key(gpointer k, gpointer v, gpointer d) {
  g_hash_table_insert(static_cast<GHashTable *>(d), k, v);
}
void Registry::archive_all() { g_hash_table_foreach(table, put_key, archive); }
void Registry::copy_into(Registry *other) { g_hash_table_foreach(table, put_key, other->table); }
void Registry::copy_from(Registry &other) { g_hash_table_foreach(other.table, put_key, table); }
