// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
//
// The notes walk from the callback argument to the inner map operation, hop
// by hop (expectations name absolute lines).

#include "reentrant-glib.h"
#include "reentrant-store.h"

struct sessions { GHashTable *by_id; int swept; };
static struct sessions g_live;

static void forget(struct sessions *s, gpointer key) {
  g_hash_table_remove(s->by_id, key);
}
static void maybe_forget(struct sessions *s, gpointer key, gpointer value) {
  if (value == 0)
    forget(s, key);
}
static void sweep_one(gpointer key, gpointer value, gpointer user_data) {
  maybe_forget(user_data, key, value);
}
static int visit_and_put(const char *key, void *value, void *ctx) {
  return store_put(ctx, key, value);
}

void sweep(store *st, int which) {
  g_hash_table_foreach(g_live.by_id, sweep_one, &g_live);
  // CHECK-NOTES: :[[@LINE-1]]:38: warning: callback 'sweep_one' passed to 'g_hash_table_foreach' re-enters the same map: it calls 'g_hash_table_remove' on 'g_live.by_id' while 'g_hash_table_foreach' runs it with the map locked or mid-iteration [tsmap-reentrant-callback]
  // CHECK-NOTES: :[[@LINE-2]]:49: note: the map reaches 'sweep_one' through its parameter 'user_data' here, as 'user_data->by_id'
  // CHECK-NOTES: :20:3: note: 'sweep_one' calls 'maybe_forget' here
  // CHECK-NOTES: :17:5: note: 'maybe_forget' calls 'forget' here
  // CHECK-NOTES: :13:3: note: 'forget' calls 'g_hash_table_remove' here
  // CHECK-NOTES: :[[@LINE-6]]:3: note: 'g_hash_table_foreach' locks or iterates the map until it returns; collect what to change and change the map after the call

  store_visit_fn v;
  v = which ? visit_and_put : visit_and_put;
  store_each(st, v, st);
  // CHECK-NOTES: :[[@LINE-1]]:18: warning: callback 'visit_and_put' passed to 'store_each' re-enters the same map: it calls 'store_put' on 'st' while 'store_each' runs it with the map locked or mid-iteration [tsmap-reentrant-callback]
  // CHECK-NOTES: :[[@LINE-3]]:3: note: 'v' is set to 'visit_and_put' here
  // CHECK-NOTES: :[[@LINE-3]]:21: note: the map reaches 'visit_and_put' as its parameter 'ctx' here
  // CHECK-NOTES: :23:10: note: 'visit_and_put' calls 'store_put' here
  // CHECK-NOTES: :[[@LINE-5]]:3: note: 'store_each' locks or iterates the map until it returns; collect what to change and change the map after the call
}
