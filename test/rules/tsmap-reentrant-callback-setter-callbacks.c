// RUN: %check_tsmap_tidy -check-suffixes=DEFAULT %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=STRICT %s tsmap-reentrant-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-reentrant-callback.StrictMapIdentity: true}}" -- -I%S/Inputs
//
// A g_hash_table_foreach callback that calls a GObject setter on its context
// (black-box round bb-ck8; the iterator-loop form is in
// tsmap-reentrant-callback-helper-objects.c). The setter reaches the table
// through `priv = attr_get_instance_private (self)`, a pointer into its
// parameter's object, so the change is one of the object the callback is
// given: a clone (`g_object_new`) or another parameter is another map, as
// the same code written as an iterator loop is. Still warned when the
// context is the walked object itself, or an object the code cannot trace.

#include "reentrant-glib.h"

gpointer g_strdup(gconstpointer s);

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
Attr *attr_get_default(void);

static void attr_add_metadata(Attr *self, gpointer key, gpointer value) {
  AttrPrivate *priv = GET_PRIVATE(self);
  g_hash_table_insert(priv->metadata, g_strdup(key), value); /* a copy: a new key */
}
static void attr_add_twice(Attr *self, gpointer key) { attr_add_metadata(self, key, key); }

// The callbacks: the setter on the context, through the cast, through a
// local, or the table changed in the callback itself.
static void copy_cb(gpointer key, gpointer value, gpointer user_data) {
  attr_add_metadata(ATTR(user_data), key, value);
}
static void copy_local_cb(gpointer key, gpointer value, gpointer user_data) {
  Attr *dst = user_data;
  attr_add_metadata(dst, key, value);
}
static void copy_direct_cb(gpointer key, gpointer value, gpointer user_data) {
  AttrPrivate *priv = GET_PRIVATE(ATTR(user_data));
  g_hash_table_insert(priv->metadata, value, key); // another key: an add
}
static void copy_twice_cb(gpointer key, gpointer value, gpointer user_data) {
  attr_add_twice(user_data, key);
}

// Quiet: the clone's table (fwupd's copy, written with a callback).
Attr *attr_copy(Attr *self) {
  Attr *new = g_object_new(0, 0);
  gpointer obj = g_object_new(0, 0);
  AttrPrivate *priv = GET_PRIVATE(self);
  g_hash_table_foreach(priv->metadata, copy_cb, new);
  g_hash_table_foreach(priv->metadata, copy_local_cb, new);
  g_hash_table_foreach(priv->metadata, copy_direct_cb, new);
  g_hash_table_foreach(priv->metadata, copy_cb, ATTR(obj));
  return new;
}

// Quiet: the donor's table walked, self's changed (fu_device_incorporate).
void attr_incorporate(Attr *self, Attr *donor) {
  AttrPrivate *priv_donor = GET_PRIVATE(donor);
  g_hash_table_foreach(priv_donor->metadata, copy_cb, self);
  g_hash_table_foreach(priv_donor->metadata, copy_direct_cb, self);
}

// Reported: the setter on the walked object itself.
void attr_dup_keys(Attr *self) {
  AttrPrivate *priv = GET_PRIVATE(self);
  g_hash_table_foreach(priv->metadata, copy_cb, self);
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:40: warning: callback 'copy_cb' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_insert' on 'priv->metadata' while 'g_hash_table_foreach' runs it with the map locked or mid-iteration [tsmap-reentrant-callback]
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:40: warning: callback 'copy_cb' passed to 'g_hash_table_foreach' may re-enter the same map: it calls 'g_hash_table_insert' on what may be 'priv->metadata'
  g_hash_table_foreach(priv->metadata, copy_direct_cb, self);
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:40: warning: callback 'copy_direct_cb' passed to 'g_hash_table_foreach' re-enters the same map
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:40: warning: callback 'copy_direct_cb' passed to 'g_hash_table_foreach' may re-enter the same map
}

// Reported: the donor walked and filled.
void attr_incorporate_self(Attr *self, Attr *donor) {
  AttrPrivate *priv_donor = GET_PRIVATE(donor);
  g_hash_table_foreach(priv_donor->metadata, copy_local_cb, donor);
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:46: warning: callback 'copy_local_cb' passed to 'g_hash_table_foreach' re-enters the same map
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:46: warning: callback 'copy_local_cb' passed to 'g_hash_table_foreach' may re-enter the same map
}

// Reported: an object the code cannot trace may be the walked one.
void attr_merge_default(Attr *self) {
  AttrPrivate *priv = GET_PRIVATE(self);
  g_hash_table_foreach(priv->metadata, copy_cb, attr_get_default());
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:40: warning: callback 'copy_cb' passed to 'g_hash_table_foreach' re-enters the same map
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:40: warning: callback 'copy_cb' passed to 'g_hash_table_foreach' may re-enter the same map
}

// Quiet: two helpers down (attr_add_twice, then attr_add_metadata), the inner
// one's private struct is restated through both calls onto the clone.
Attr *attr_copy_twice(Attr *self) {
  Attr *new = g_object_new(0, 0);
  AttrPrivate *priv = GET_PRIVATE(self);
  g_hash_table_foreach(priv->metadata, copy_twice_cb, new);
  return new;
}

// Reported: the same two helpers on the walked object.
void attr_dup_twice(Attr *self) {
  AttrPrivate *priv = GET_PRIVATE(self);
  g_hash_table_foreach(priv->metadata, copy_twice_cb, self);
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:40: warning: callback 'copy_twice_cb' passed to 'g_hash_table_foreach' re-enters the same map
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:40: warning: callback 'copy_twice_cb' passed to 'g_hash_table_foreach' may re-enter the same map
}

// ---- a class that also keeps its private struct in a field ----------------
// The walked table is `self->priv->metadata`; the setter reaches the same
// struct through get_instance_private. Reported, in a loop and in a callback
// (the loop was quiet before bb-ck8: two named paths from `self` were taken
// to be two objects).

typedef struct _Box Box;
typedef struct { GHashTable *metadata; } BoxPrivate;
struct _Box { BoxPrivate *priv; };
static long Box_private_offset;
static inline gpointer box_get_instance_private(Box *self) {
  return (gpointer)((unsigned char *)self + Box_private_offset);
}
static void box_add_metadata(Box *self, gpointer key, gpointer value) {
  BoxPrivate *priv = box_get_instance_private(self);
  g_hash_table_insert(priv->metadata, g_strdup(key), value); /* a copy: a new key */
}
static void box_copy_cb(gpointer key, gpointer value, gpointer user_data) {
  box_add_metadata(user_data, value, key);
}

void box_dup_loop(Box *self) {
  GHashTableIter iter;
  gpointer key, value;
  g_hash_table_iter_init(&iter, self->priv->metadata);
  while (g_hash_table_iter_next(&iter, &key, &value))
    box_add_metadata(self, value, key);
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:5: warning: call to 'box_add_metadata' changes 'self->priv->metadata' while a loop iterates it with 'g_hash_table_iter_next': it calls 'g_hash_table_insert' on it; the change invalidates the iterator [tsmap-reentrant-callback]
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:5: warning: call to 'box_add_metadata' may change 'self->priv->metadata' while a loop
}

void box_dup_foreach(Box *self) {
  g_hash_table_foreach(self->priv->metadata, box_copy_cb, self);
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:46: warning: callback 'box_copy_cb' passed to 'g_hash_table_foreach' re-enters the same map
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:46: warning: callback 'box_copy_cb' passed to 'g_hash_table_foreach' may re-enter the same map
}

// Quiet: another box, in a loop and in a callback.
void box_copy_into(Box *self, Box *other) {
  GHashTableIter iter;
  gpointer key, value;
  g_hash_table_iter_init(&iter, self->priv->metadata);
  while (g_hash_table_iter_next(&iter, &key, &value))
    box_add_metadata(other, value, key);
  g_hash_table_foreach(self->priv->metadata, box_copy_cb, other);
}
