// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
//
// A loop wrapper that calls its callback parameter with its own other
// parameters as arguments (not only a `void *` context): the callback's map,
// reached through such a parameter, is restated in the caller's terms
// (gnome-shell's gvc `remove_all_items (control, control->priv->sinks,
// remove_sink)`, bench/realworld R46). Another table of the same owner,
// another owner, the loop's own key, or a parameter the wrapper reassigns
// before the call is not the walked table.

#include "reentrant-glib.h"

typedef struct Control { GHashTable *sinks; GHashTable *sources; struct Control *parent; } Control;
typedef void (*RemoveFunc)(Control *control, gpointer key);

static void remove_sink(Control *control, gpointer key) {
  g_hash_table_remove(control->sinks, key);
}
static void remove_source(Control *control, gpointer key) {
  g_hash_table_remove(control->sources, key);
}

static void walk(Control *control, GHashTable *table, RemoveFunc remove_item) {
  GHashTableIter iter;
  gpointer key, value;
  g_hash_table_iter_init(&iter, table);
  while (g_hash_table_iter_next(&iter, &key, &value))
    remove_item(control, key);
}

void reconnect(Control *control) {
  walk(control, control->sinks, remove_sink);
  // CHECK-MESSAGES: :[[@LINE-1]]:33: warning: callback 'remove_sink' passed to 'walk' re-enters the same map: it calls 'g_hash_table_remove' on 'control->sinks' while 'g_hash_table_iter_next' runs it with the map locked or mid-iteration [tsmap-reentrant-callback]
  // CHECK-MESSAGES: :[[@LINE-6]]:5: note: 'walk' calls 'remove_item' here, for each entry of a loop with 'g_hash_table_iter_next'
  // CHECK-MESSAGES: :[[@LINE-3]]:8: note: the map reaches 'remove_sink' through its parameter 'control' here, as 'control->sinks'
  // CHECK-MESSAGES: :[[@LINE-19]]:3: note: 'remove_sink' calls 'g_hash_table_remove' here
  // CHECK-MESSAGES: :[[@LINE-11]]:3: note: 'walk' iterates the map with this iterator while it calls 'remove_item'; collect what to change and change the map after the call
}

// Another table of the same owner: quiet.
void drop_sources(Control *control) {
  walk(control, control->sinks, remove_source);
}

// Another owner's table is walked: the code names two objects.
void drop_from_other(Control *a, Control *b) {
  walk(a, b->sinks, remove_sink);
}

// The wrapper passes what it computed, not the caller's argument.
static void walk_parent(Control *control, GHashTable *table, RemoveFunc remove_item) {
  GHashTableIter iter;
  gpointer key, value;
  Control *up = control->parent;
  g_hash_table_iter_init(&iter, table);
  while (g_hash_table_iter_next(&iter, &key, &value))
    remove_item(up, key);
}
void drop_parents(Control *control) {
  walk_parent(control, control->sinks, remove_sink);
}

// The wrapper moves its parameter to another object before the call.
static void walk_moved(Control *control, GHashTable *table, RemoveFunc remove_item) {
  GHashTableIter iter;
  gpointer key, value;
  control = control->parent;
  g_hash_table_iter_init(&iter, table);
  while (g_hash_table_iter_next(&iter, &key, &value))
    remove_item(control, key);
}
void drop_moved(Control *control) {
  walk_moved(control, control->sinks, remove_sink);
}
