// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
//
// An iterator loop whose body changes a table through a helper of the TU
// (black-box round bb-ck7: fwupd's copy and incorporate, dconf's filter). The
// helper reaches the table through its parameter, directly (`c->table`) or
// through GObject's private struct (`priv = attr_get_instance_private (self)`,
// a function that returns a pointer into its argument); the change is kept on
// the object the loop passes, so a clone (`g_object_new`, a constructor of the
// TU), another parameter, or a variable that only ever holds new objects (also
// made lazily under `if (!result)`) is another map. Still warned when the loop
// passes the walked object itself, or a variable that may hold it.

#include "reentrant-glib.h"

gpointer g_strdup(gconstpointer s);

// ---- GObject: a private struct reached through get_instance_private --------

typedef struct _Attr Attr;
typedef struct { GHashTable *metadata; } AttrPrivate;
gpointer g_object_new(unsigned long type, const char *first, ...);
gpointer g_type_check_instance_cast(gpointer instance, unsigned long type);
#define ATTR(o) ((Attr *)g_type_check_instance_cast((gpointer)(o), 0))
static long Attr_private_offset;
static inline gpointer attr_get_instance_private(Attr *self) {
  return (gpointer)((unsigned char *)self + Attr_private_offset);
}
#define GET_PRIVATE(o) (attr_get_instance_private(o))

/* The setters store a copy of the key: a new key in a table whose creation
 * is not seen (the visited key itself would only replace a value). */
static void attr_add_metadata(Attr *self, gpointer key, gpointer value) {
  AttrPrivate *priv = GET_PRIVATE(self);
  g_hash_table_insert(priv->metadata, g_strdup(key), value);
}
static void attr_set_meta(gpointer obj, gpointer key) { /* a cast on the way */
  AttrPrivate *priv = GET_PRIVATE(ATTR(obj));
  g_hash_table_insert(priv->metadata, g_strdup(key), key);
}
static void attr_add_twice(Attr *self, gpointer key) { attr_add_metadata(self, key, key); }

// Quiet: the clone's table (fwupd_security_attr_copy).
Attr *attr_copy(Attr *self) {
  Attr *new = g_object_new(0, 0);
  AttrPrivate *priv = GET_PRIVATE(self);
  GHashTableIter iter;
  gpointer key, value;
  g_hash_table_iter_init(&iter, priv->metadata);
  while (g_hash_table_iter_next(&iter, &key, &value))
    attr_add_metadata(new, key, value);
  return new;
}

// Quiet: the donor's table walked, self's changed (fu_device_incorporate).
void attr_incorporate(Attr *self, Attr *donor) {
  AttrPrivate *priv_donor = GET_PRIVATE(donor);
  GHashTableIter iter;
  gpointer key, value;
  g_hash_table_iter_init(&iter, priv_donor->metadata);
  while (g_hash_table_iter_next(&iter, &key, &value)) {
    attr_add_metadata(self, key, value);
    attr_set_meta(self, key);
  }
}

// Reported: the setter on the walked object itself.
void attr_dup_keys(Attr *self) {
  AttrPrivate *priv = GET_PRIVATE(self);
  GHashTableIter iter;
  gpointer key, value;
  g_hash_table_iter_init(&iter, priv->metadata);
  while (g_hash_table_iter_next(&iter, &key, &value)) {
    attr_add_metadata(self, key, value);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'attr_add_metadata' changes 'priv->metadata' while a loop iterates it with 'g_hash_table_iter_next': it calls 'g_hash_table_insert' on it; the change invalidates the iterator [tsmap-reentrant-callback]
    attr_set_meta(self, key);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'attr_set_meta' changes 'priv->metadata' while a loop
  }
}

// Reported: the donor walked and filled.
void attr_incorporate_self(Attr *self, Attr *donor) {
  GHashTableIter iter;
  gpointer key, value;
  g_hash_table_iter_init(&iter, ((AttrPrivate *)GET_PRIVATE(donor))->metadata);
  while (g_hash_table_iter_next(&iter, &key, &value))
    attr_set_meta(donor, key);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'attr_set_meta' changes
}

// Quiet: two helpers down (attr_add_twice, then attr_add_metadata), the
// inner one's private struct is restated through both calls onto the clone
// (bb-ck8; a known false positive before).
void attr_copy_twice(Attr *self) {
  Attr *new = g_object_new(0, 0);
  GHashTableIter iter;
  gpointer key, value;
  g_hash_table_iter_init(&iter, ((AttrPrivate *)GET_PRIVATE(self))->metadata);
  while (g_hash_table_iter_next(&iter, &key, &value))
    attr_add_twice(new, key);
}

// Reported: the same two helpers on the walked object.
void attr_dup_twice(Attr *self) {
  AttrPrivate *priv = GET_PRIVATE(self);
  GHashTableIter iter;
  gpointer key, value;
  g_hash_table_iter_init(&iter, priv->metadata);
  while (g_hash_table_iter_next(&iter, &key, &value))
    attr_add_twice(self, key);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'attr_add_twice' changes 'priv->metadata' while a loop
}

// ---- a constructor of the TU, filled through a helper (dconf) --------------

typedef struct { GHashTable *table; } Changeset;
GHashTable *sets;
gpointer g_slice_alloc0(unsigned long size);
#define g_slice_new0(T) ((T *)g_slice_alloc0(sizeof(T)))

static Changeset *changeset_new(void) {
  Changeset *c = g_slice_new0(Changeset);
  c->table = g_hash_table_new(0, 0);
  return c;
}
static Changeset *changeset_or_new(Changeset *given) { /* may be its argument */
  return given ? given : changeset_new();
}
static void changeset_set(Changeset *c, gpointer path, gpointer v) {
  g_hash_table_insert(c->table, g_strdup(path), v);
}

// Quiet: made before the loop and not written in it.
Changeset *copy_ctor_helper(Changeset *changes) {
  Changeset *result = changeset_new();
  GHashTableIter it;
  gpointer key, val;
  g_hash_table_iter_init(&it, changes->table);
  while (g_hash_table_iter_next(&it, &key, &val))
    changeset_set(result, key, val);
  return result;
}

// Quiet: made lazily in the loop; null or a new object, never `changes`
// (dconf_changeset_filter_changes), as with the allocation written out.
Changeset *filter_lazy(Changeset *changes, Changeset **also) {
  Changeset *result = 0, *alloc = 0;
  GHashTableIter it;
  gpointer key, val;
  g_hash_table_iter_init(&it, changes->table);
  while (g_hash_table_iter_next(&it, &key, &val)) {
    if (!result)
      result = changeset_new();
    changeset_set(result, key, val);
    if (!alloc) {
      alloc = g_slice_new0(Changeset);
      alloc->table = g_hash_table_new(0, 0);
    }
    changeset_set(alloc, key, val);
  }
  *also = alloc;
  return result;
}

// Reported: a looked-up changeset, made only when there is none, may be the
// walked one (a lookup's result is any object), and so may what a constructor
// that can hand back its argument returns.
void merge(Changeset *changes, gpointer name) {
  Changeset *named = g_hash_table_lookup(sets, name);
  Changeset *either = changeset_or_new(changes);
  GHashTableIter it;
  gpointer key, val;
  g_hash_table_iter_init(&it, changes->table);
  while (g_hash_table_iter_next(&it, &key, &val)) {
    if (!named)
      named = changeset_new();
    changeset_set(named, key, val);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'changeset_set' changes 'changes->table'
    changeset_set(either, key, val);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'changeset_set' changes 'changes->table'
  }
}

// Reported: the new object's own table walked and filled, through the helper
// or directly (made before the loop, but it is the walked object).
Changeset *double_new(gpointer extra) {
  Changeset *result = changeset_new();
  changeset_set(result, extra, extra);
  GHashTableIter it;
  gpointer key, val;
  g_hash_table_iter_init(&it, result->table);
  while (g_hash_table_iter_next(&it, &key, &val)) {
    changeset_set(result, val, key);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'changeset_set' changes 'result->table'
    g_hash_table_insert(result->table, val, extra);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_insert' changes 'result->table'
  }
  return result;
}
