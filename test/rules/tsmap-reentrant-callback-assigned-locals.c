// RUN: %check_tsmap_tidy -check-suffixes=DEFAULT %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=STRICT %s tsmap-reentrant-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-reentrant-callback.StrictMapIdentity: true}}" -- -I%S/Inputs
//
// A local table pointer given its tables by plain assignments after its
// declaration (black-box round bb-ck10, gnome-control-center's
// cc-input-chooser.c: `GHashTable *table; if (...) table =
// info->layout_rows_by_id; else if (...) table = info->engine_rows_by_id;
// else return;`). When every value the function gives the local (its
// initializer, if any, and each assignment) names a table the analysis can
// trace, a map operation on the local is one on each of those tables. When
// one value cannot be traced (a call's result, the local's address taken), the
// local is read as before: quiet by default, "may" under StrictMapIdentity.

#include "reentrant-glib.h"

gpointer g_strdup(gconstpointer s);

typedef struct LocaleInfo {
  char *id;
  GHashTable *layout_rows_by_id;
  GHashTable *engine_rows_by_id;
} LocaleInfo;

typedef struct Chooser {
  GHashTable *locales;
  GHashTable *ibus_engines;
} Chooser;

GHashTable *unknown_table(void);
void fill_table(GHashTable **out);

static LocaleInfo *locale_info_new(const char *id) {
  LocaleInfo *info = g_malloc0(sizeof *info);
  info->layout_rows_by_id = g_hash_table_new(0, 0);
  info->engine_rows_by_id = g_hash_table_new(0, 0);
  return info;
}

// The reduced cc-input-chooser.c: two tables of the entry, one per branch.
static void add_rows_to_table(Chooser *self, LocaleInfo *info, int type,
                              const char *id) {
  GHashTable *table;

  if (type == 1)
    table = info->layout_rows_by_id;
  else if (type == 2)
    table = info->engine_rows_by_id;
  else
    return;
  g_hash_table_replace(table, (gpointer)id, 0);
}

static void add_row(Chooser *self, LocaleInfo *info, int type, const char *id) {
  add_rows_to_table(self, info, type, id);
}

// ---- Quiet: the local is one of the entry's two tables, never the walked one.

void get_ibus_locale_infos(Chooser *self) {
  GHashTableIter iter;
  const char *engine_id;
  gpointer engine;
  g_hash_table_iter_init(&iter, self->ibus_engines);
  while (g_hash_table_iter_next(&iter, (gpointer *)&engine_id, &engine)) {
    LocaleInfo *info = g_hash_table_lookup(self->locales, engine_id);
    if (info)
      add_row(self, info, 2, engine_id);
  }
}

// An entry looked up by a callee (`add_row_other`) or by the callback itself
// names no object of the caller; under StrictMapIdentity its tables are the
// entry's own when its struct cannot reach the walked table's (`LocaleInfo`
// has no pointer to `Chooser`) and the file fills those fields only with new
// tables (locale_info_new), as for a table of the visited entry.
static void add_row_other(Chooser *self, int type, const char *id) {
  LocaleInfo *info = g_hash_table_lookup(self->locales, "");
  add_row(self, info, type, id);
}
void get_other_infos(Chooser *self) {
  GHashTableIter iter;
  const char *engine_id;
  gpointer engine;
  g_hash_table_iter_init(&iter, self->ibus_engines);
  while (g_hash_table_iter_next(&iter, (gpointer *)&engine_id, &engine))
    add_row_other(self, 2, engine_id);
}

static void add_engine(gpointer key, gpointer value, gpointer user_data) {
  Chooser *self = user_data;
  LocaleInfo *info = g_hash_table_lookup(self->locales, key);
  add_rows_to_table(self, info, 2, key);
}
void add_engines(Chooser *self) {
  g_hash_table_foreach(self->ibus_engines, add_engine, self);
}

// The assignments in the loop's own function.
void fill_rows(Chooser *self, LocaleInfo *info, int xkb) {
  GHashTableIter iter;
  gpointer k, v;
  GHashTable *rows;
  if (xkb)
    rows = info->layout_rows_by_id;
  else
    rows = info->engine_rows_by_id;
  g_hash_table_iter_init(&iter, self->ibus_engines);
  while (g_hash_table_iter_next(&iter, &k, &v))
    g_hash_table_insert(rows, k, v);
}

// ---- Reported: one of the local's tables is the walked one.

typedef struct Registry {
  GHashTable *by_id;
  GHashTable *by_name;
} Registry;

static void forget(Registry *r, int by_name, gpointer key) {
  GHashTable *t;
  if (by_name)
    t = r->by_name;
  else
    t = r->by_id;
  g_hash_table_remove(t, key);
}

void registry_prune(Registry *r) {
  GHashTableIter iter;
  gpointer k, v;
  g_hash_table_iter_init(&iter, r->by_id);
  while (g_hash_table_iter_next(&iter, &k, &v))
    if (v == 0)
      forget(r, 1, k);
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:7: warning: call to 'forget' changes 'r->by_id' while a loop iterates it with 'g_hash_table_iter_next': it calls 'g_hash_table_remove' on it
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:7: warning: call to 'forget' changes 'r->by_id' while a loop iterates it with 'g_hash_table_iter_next': it calls 'g_hash_table_remove' on it
}

static void forget_each(gpointer key, gpointer value, gpointer user_data) {
  forget(user_data, 0, key);
}
void registry_clear(Registry *r) {
  g_hash_table_foreach(r->by_name, forget_each, r);
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:36: warning: callback 'forget_each' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'r->by_name'
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:36: warning: callback 'forget_each' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'r->by_name'
}

// Initialized, then assigned: both values count.
void registry_move(Registry *r, int which) {
  GHashTableIter iter;
  gpointer k, v;
  GHashTable *to = r->by_name;
  if (which)
    to = r->by_id;
  g_hash_table_iter_init(&iter, r->by_id);
  while (g_hash_table_iter_next(&iter, &k, &v))
    g_hash_table_insert(to, v, k);
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:5: warning: 'g_hash_table_insert' changes 'to' while a loop iterates it with 'g_hash_table_iter_next'
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:5: warning: 'g_hash_table_insert' changes 'to' while a loop iterates it with 'g_hash_table_iter_next'
}

// ---- Read as before: a value the analysis cannot trace.

static void forget_somewhere(Registry *r, int which, gpointer key) {
  GHashTable *t;
  if (which)
    t = r->by_name;
  else
    t = unknown_table();
  g_hash_table_remove(t, key);
}
void registry_prune_somewhere(Registry *r) {
  GHashTableIter iter;
  gpointer k, v;
  g_hash_table_iter_init(&iter, r->by_id);
  while (g_hash_table_iter_next(&iter, &k, &v))
    forget_somewhere(r, 1, k);
  // CHECK-MESSAGES-STRICT: :[[@LINE-1]]:5: warning: call to 'forget_somewhere' may change 'r->by_id' while a loop iterates it with 'g_hash_table_iter_next'
}

// A looked-up entry that points back to the walked table's owner may hold
// that table: "may" under StrictMapIdentity, as before.
typedef struct Slot {
  Chooser *owner;
  GHashTable *rows;
} Slot;
static void add_to_slot(Chooser *self, const char *id) {
  Slot *slot = g_hash_table_lookup(self->locales, id);
  g_hash_table_insert(slot->rows, g_strdup(id), 0); /* a copy: a new key */
}
void fill_slots(Chooser *self) {
  GHashTableIter iter;
  gpointer k, v;
  g_hash_table_iter_init(&iter, self->ibus_engines);
  while (g_hash_table_iter_next(&iter, &k, &v))
    add_to_slot(self, k);
  // CHECK-MESSAGES-STRICT: :[[@LINE-1]]:5: warning: call to 'add_to_slot' may change 'self->ibus_engines' while a loop iterates it with 'g_hash_table_iter_next'
}

// Its address is taken: a helper may store any table into it.
static void forget_filled(Registry *r, gpointer key) {
  GHashTable *t;
  t = r->by_name;
  fill_table(&t);
  g_hash_table_remove(t, key);
}
void registry_prune_filled(Registry *r) {
  GHashTableIter iter;
  gpointer k, v;
  g_hash_table_iter_init(&iter, r->by_id);
  while (g_hash_table_iter_next(&iter, &k, &v))
    forget_filled(r, k);
  // CHECK-MESSAGES-STRICT: :[[@LINE-1]]:5: warning: call to 'forget_filled' may change 'r->by_id' while a loop iterates it with 'g_hash_table_iter_next'
}

// The field was stored anew after the assignment: the local holds the old table.
void registry_rebuild(Registry *r) {
  GHashTableIter iter;
  gpointer k, v;
  GHashTable *old;
  old = r->by_id;
  r->by_id = g_hash_table_new(0, 0);
  g_hash_table_iter_init(&iter, old);
  while (g_hash_table_iter_next(&iter, &k, &v))
    g_hash_table_insert(r->by_id, k, v);
}

// ---- a struct pointer given its value after its declaration (gtk3's
// gtk_style_properties_map_color, bench/realworld R28: `GtkStylePropertiesPrivate
// *priv; ... priv = props->priv;`): read by every value the function gives it,
// as a table local is, so the setter's table is its parameter's, and a loop
// over another parameter's table is another map. Two values of two objects
// leave the local untraced: compared by field and type, as before.

typedef struct { GHashTable *color_map; } StylePriv;
typedef struct { StylePriv *priv; } Style;

static void style_map_color(Style *props, const char *name, gpointer color) {
  StylePriv *priv;
  priv = props->priv;
  g_hash_table_replace(priv->color_map, g_strdup(name), color); /* a copy: a new key */
}
static void style_map_color_null_first(Style *props, const char *name, gpointer color) {
  StylePriv *priv = 0;
  priv = props->priv;
  g_hash_table_replace(priv->color_map, g_strdup(name), color);
}
static void style_map_color_either(Style *props, Style *fallback, const char *name) {
  StylePriv *priv;
  if (props)
    priv = props->priv;
  else
    priv = fallback->priv;
  g_hash_table_replace(priv->color_map, g_strdup(name), 0);
}

void style_merge(Style *props, const Style *other) {
  GHashTableIter it;
  gpointer k, v;
  StylePriv *priv_to_merge;
  priv_to_merge = other->priv;
  g_hash_table_iter_init(&it, priv_to_merge->color_map);
  while (g_hash_table_iter_next(&it, &k, &v))
    style_map_color(props, k, v); /* quiet: props's table */
  g_hash_table_iter_init(&it, other->priv->color_map);
  while (g_hash_table_iter_next(&it, &k, &v))
    style_map_color_null_first(props, k, v); /* quiet */
  g_hash_table_iter_init(&it, other->priv->color_map);
  while (g_hash_table_iter_next(&it, &k, &v))
    style_map_color_either(props, (Style *)other, k);
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:5: warning: call to 'style_map_color_either' changes 'other->priv->color_map' while a loop iterates it with 'g_hash_table_iter_next'
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:5: warning: call to 'style_map_color_either' may change 'other->priv->color_map' while a loop iterates it with 'g_hash_table_iter_next'
}
void style_touch(Style *props) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, props->priv->color_map);
  while (g_hash_table_iter_next(&it, &k, &v))
    style_map_color(props, k, v); // the walked object's own table
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:5: warning: call to 'style_map_color' changes 'props->priv->color_map' while a loop iterates it with 'g_hash_table_iter_next'
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:5: warning: call to 'style_map_color' changes 'props->priv->color_map' while a loop iterates it with 'g_hash_table_iter_next'
}

static void style_merge_cb(gpointer key, gpointer value, gpointer user_data) {
  style_map_color(user_data, key, value);
}
void style_merge_foreach(Style *props, const Style *other) {
  g_hash_table_foreach(other->priv->color_map, style_merge_cb, props); /* quiet */
  g_hash_table_foreach(props->priv->color_map, style_merge_cb, props);
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:48: warning: callback 'style_merge_cb' passed to 'g_hash_table_foreach' re-enters the same map
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:48: warning: callback 'style_merge_cb' passed to 'g_hash_table_foreach' re-enters the same map
}
