// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
//
// A table whose every entry is stored under a field of its own (each insert
// stores `e` under `k` in a function that also writes `e->device = k`, and
// the file writes that field nowhere else) holds the key `e->device` of the
// entry a walk visits. A store under that key, reached through helpers that
// pass it on unchanged (mutter's clutter_stage_maybe_invalidate_focus, whose
// update_device_entry looks the key up and inserts only when it is absent;
// connman's rfkill_check), replaces a value and adds no key: quiet. Another
// entry's field, another field, a parameter a helper rewrites, a table with
// an insert not keyed by its value's field, or a field written elsewhere
// keep the store reported.

#include "reentrant-glib.h"

gpointer g_malloc0(unsigned long n_bytes);

typedef struct Entry { void *device; void *sequence; void *actor; struct Entry *peer; } Entry;
typedef struct { GHashTable *pointer_devices; GHashTable *touch_sequences; } StagePriv;
typedef struct { StagePriv *priv; } Stage;

// ---- mutter's shape: two tables, each keyed by its entries' own field -------

void update_device_entry(Stage *self, void *device, void *sequence, void *actor) {
  StagePriv *priv = self->priv;
  Entry *entry;
  if (sequence != 0)
    entry = g_hash_table_lookup(priv->touch_sequences, sequence);
  else
    entry = g_hash_table_lookup(priv->pointer_devices, device);
  if (!entry) {
    entry = g_malloc0(sizeof(Entry));
    if (sequence != 0)
      g_hash_table_insert(priv->touch_sequences, sequence, entry);
    else
      g_hash_table_insert(priv->pointer_devices, device, entry);
    entry->device = device;
    entry->sequence = sequence;
  }
  entry->actor = actor;
}
static void update_device(Stage *stage, void *device, void *sequence) {
  update_device_entry(stage, device, sequence, 0);
}
static void pick_and_update_device(Stage *self, void *device, void *sequence) {
  update_device(self, device, sequence);
}

void maybe_invalidate_focus(Stage *self, void *actor) {
  StagePriv *priv = self->priv;
  GHashTableIter iter;
  gpointer value;
  g_hash_table_iter_init(&iter, priv->pointer_devices);
  while (g_hash_table_iter_next(&iter, 0, &value)) {
    Entry *entry = value;
    if (entry->actor != actor)
      continue;
    pick_and_update_device(self, entry->device, 0); /* quiet: its own key */
  }
  g_hash_table_iter_init(&iter, priv->touch_sequences);
  while (g_hash_table_iter_next(&iter, 0, &value)) {
    Entry *entry = value;
    if (entry->actor != actor)
      continue;
    pick_and_update_device(self, entry->device, entry->sequence); /* quiet */
  }
}

// The key of another entry, or another field of the visited one.
void refocus_peers(Stage *self, Entry *other) {
  GHashTableIter iter;
  gpointer value;
  g_hash_table_iter_init(&iter, self->priv->pointer_devices);
  while (g_hash_table_iter_next(&iter, 0, &value)) {
    Entry *entry = value;
    pick_and_update_device(self, other->device, 0);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'pick_and_update_device' changes 'self->priv->pointer_devices' while a loop iterates it with 'g_hash_table_iter_next': it calls 'g_hash_table_insert' on it; the change invalidates the iterator [tsmap-reentrant-callback]
    pick_and_update_device(self, entry->actor, 0);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'pick_and_update_device' changes 'self->priv->pointer_devices'
    pick_and_update_device(self, entry->peer->device, 0);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'pick_and_update_device' changes 'self->priv->pointer_devices'
  }
}

// A helper that rewrites the key it was given.
static void update_or_default(Stage *self, void *device) {
  if (!device)
    device = self;
  update_device_entry(self, device, 0, 0);
}
void refocus_default(Stage *self) {
  GHashTableIter iter;
  gpointer value;
  g_hash_table_iter_init(&iter, self->priv->pointer_devices);
  while (g_hash_table_iter_next(&iter, 0, &value)) {
    Entry *entry = value;
    update_or_default(self, entry->device);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'update_or_default' changes 'self->priv->pointer_devices'
  }
}

// ---- connman's shape: a foreach callback, a file-static table --------------

typedef struct { int index; int type; } Rfkill;
static GHashTable *rfkill_list;
void add_rfkill(int index, int type) {
  Rfkill *rfkill = g_hash_table_lookup(rfkill_list, (gpointer)(long)index);
  if (rfkill)
    return;
  rfkill = g_malloc0(sizeof(Rfkill));
  rfkill->index = index;
  rfkill->type = type;
  g_hash_table_insert(rfkill_list, (gpointer)(long)index, rfkill);
}
static void rfkill_check(gpointer key, gpointer value, gpointer user_data) {
  Rfkill *rfkill = value;
  if (rfkill->type == (int)(long)user_data)
    add_rfkill(rfkill->index, rfkill->type); /* quiet: its own key */
}
static void rfkill_twin(gpointer key, gpointer value, gpointer user_data) {
  Rfkill *rfkill = value;
  add_rfkill(rfkill->type, rfkill->type); // another field: may be a new key
}
static void rfkill_next(gpointer key, gpointer value, gpointer user_data) {
  Rfkill *rfkill = value;
  rfkill = user_data;  // no longer the visited entry
  add_rfkill(rfkill->index, rfkill->type);
}
void register_driver(int type) {
  g_hash_table_foreach(rfkill_list, rfkill_check, (gpointer)(long)type);
  g_hash_table_foreach(rfkill_list, rfkill_twin, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:37: warning: callback 'rfkill_twin' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_insert' on 'rfkill_list' while 'g_hash_table_foreach' runs it with the map locked or mid-iteration [tsmap-reentrant-callback]
  g_hash_table_foreach(rfkill_list, rfkill_next, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:37: warning: callback 'rfkill_next' passed to 'g_hash_table_foreach' re-enters the same map
}

// ---- tables whose entries are not all keyed by their own field -------------

typedef struct { int id; int slot; } Job;
static GHashTable *jobs;     // one insert keyed by something else
static GHashTable *slots;    // the key field is written elsewhere too
void add_job(int id) {
  Job *j = g_hash_table_lookup(jobs, (gpointer)(long)id);
  if (j)
    return;
  j = g_malloc0(sizeof(Job));
  j->id = id;
  g_hash_table_insert(jobs, (gpointer)(long)id, j);
}
void alias_job(Job *j, int alias) {
  g_hash_table_insert(jobs, (gpointer)(long)alias, j);
}
void add_slot(int slot) {
  Job *j = g_hash_table_lookup(slots, (gpointer)(long)slot);
  if (j)
    return;
  j = g_malloc0(sizeof(Job));
  j->slot = slot;
  g_hash_table_insert(slots, (gpointer)(long)slot, j);
}
void move_slot(Job *j) { j->slot++; }

void requeue(void) {
  GHashTableIter iter;
  gpointer value;
  g_hash_table_iter_init(&iter, jobs);
  while (g_hash_table_iter_next(&iter, 0, &value)) {
    Job *j = value;
    add_job(j->id);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'add_job' changes 'jobs'
  }
  g_hash_table_iter_init(&iter, slots);
  while (g_hash_table_iter_next(&iter, 0, &value)) {
    Job *j = value;
    add_slot(j->slot);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'add_slot' changes 'slots'
  }
}
