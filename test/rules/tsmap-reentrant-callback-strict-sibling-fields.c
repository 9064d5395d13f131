// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=STRICT %s tsmap-reentrant-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-reentrant-callback.StrictMapIdentity: true}}" -- -I%S/Inputs
//
// Under StrictMapIdentity, a callback that reaches the walked table's owner
// back through the visited value (`frame->frames`) and changes another field
// of it is told apart when the file gives each of the two fields only the
// result of its own call that makes a new table: two such fields never hold
// the same table (bench/realworld R39, mutter's frames.c). A field also given
// a variable (which could go to both), or given nothing in this file, may be
// the walked table; so may the walked field itself.

#include "reentrant-glib.h"

typedef struct Frames Frames;
typedef struct { Frames *frames; gpointer style; } Frame;
struct Frames { GHashTable *frames; GHashTable *style_variants; GHashTable *cache; GHashTable *extra; };

void frames_init(Frames *f) {
  f->frames = g_hash_table_new(0, 0);
  f->style_variants = g_hash_table_new(0, 0);
  GHashTable *t = g_hash_table_new(0, 0);
  f->cache = t;                     // a variable: it could go to another field too
}

static void add_to(GHashTable *t, const char *k) {
  if (!g_hash_table_lookup(t, k))
    g_hash_table_insert(t, (gpointer)k, (gpointer)k);
}

static void attach_style(Frame *frame) { add_to(frame->frames->style_variants, "dark"); }
static void attach_cache(Frame *frame) { add_to(frame->frames->cache, "dark"); }
static void attach_extra(Frame *frame) { add_to(frame->frames->extra, "dark"); }
static void attach_self(Frame *frame) { add_to(frame->frames->frames, "dark"); }

static void reattach_style(gpointer key, gpointer value, gpointer data) { attach_style(value); }
static void reattach_cache(gpointer key, gpointer value, gpointer data) { attach_cache(value); }
static void reattach_extra(gpointer key, gpointer value, gpointer data) { attach_extra(value); }
static void reattach_self(gpointer key, gpointer value, gpointer data) { attach_self(value); }

void reattach_all(Frames *frames) {
  g_hash_table_foreach(frames->frames, reattach_style, 0);
  g_hash_table_foreach(frames->frames, reattach_cache, 0);
  // CHECK-MESSAGES-STRICT: :[[@LINE-1]]:40: warning: callback 'reattach_cache' passed to 'g_hash_table_foreach' may re-enter the same map
  g_hash_table_foreach(frames->frames, reattach_extra, 0);
  // CHECK-MESSAGES-STRICT: :[[@LINE-1]]:40: warning: callback 'reattach_extra' passed to 'g_hash_table_foreach' may re-enter the same map
  g_hash_table_foreach(frames->frames, reattach_self, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:40: warning: callback 'reattach_self' passed to 'g_hash_table_foreach' re-enters the same map
  // CHECK-MESSAGES-STRICT: :[[@LINE-2]]:40: warning: callback 'reattach_self' passed to 'g_hash_table_foreach' may re-enter the same map
}
