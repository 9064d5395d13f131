// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=OFF %s tsmap-reentrant-callback %t -- \
// RUN:   -config="{CheckOptions: {ContractModels: 'glib;liburcu'}}" -- -I%S/Inputs
//
// The shipped libvirt model: util/virhash's walks whose bodies are in another
// file run their callbacks mid-iteration (virHashForEach, virHashRemoveSet =
// g_hash_table_foreach_remove, virHashSearch = g_hash_table_find); the Safe and
// Sorted walks go over a copy; the readers may be called from a callback. The
// first case is libvirt 9.0's nwfilter DHCP snooping, reduced (bench/realworld
// R25, LV-1, a real re-entry five calls down). With the model off, quiet.

#include "reentrant-glib.h"

typedef long ssize_t;
typedef int (*virHashIterator)(void *payload, const char *name, void *opaque);
typedef int (*virHashSearcher)(const void *payload, const char *name, const void *opaque);
int virHashForEach(GHashTable *table, virHashIterator iter, void *opaque);
int virHashForEachSafe(GHashTable *table, virHashIterator iter, void *opaque);
ssize_t virHashRemoveSet(GHashTable *table, virHashSearcher iter, const void *opaque);
void *virHashSearch(GHashTable *table, virHashSearcher iter, const void *opaque, char **name);
int virHashAddEntry(GHashTable *table, const char *name, void *userdata);
int virHashRemoveEntry(GHashTable *table, const char *name);
void *virHashLookup(GHashTable *table, const char *name);

typedef struct { int refctr; int nleases; char ifkey[64]; } Req;
static struct { GHashTable *snoopReqs; int wLeases, nLeases; } state;

static void lease_file_refresh(void);
static void lease_file_load(void) {
  Req *req = g_malloc0(sizeof *req); /* a request read back from the lease file */
  virHashAddEntry(state.snoopReqs, req->ifkey, req);
  lease_file_refresh();
}
static void lease_file_save(void) {
  if (state.wLeases++ >= state.nLeases * 20)
    lease_file_load();
}
static void lease_del(Req *req) {
  req->nleases--;
  state.nLeases--;
  lease_file_save();
}
static int prune_iter(const void *payload, const char *name, const void *opaque) {
  Req *req = (Req *)payload;
  while (req->nleases > 0)
    lease_del(req);
  return req->nleases == 0 && req->refctr == 0;
}
static void lease_file_refresh(void) {
  virHashRemoveSet(state.snoopReqs, prune_iter, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:37: warning: callback 'prune_iter' passed to 'virHashRemoveSet' re-enters the same map: it calls 'virHashAddEntry' on 'state.snoopReqs'
  // CHECK-MESSAGES-OFF-NOT: warning:
  state.wLeases = 0;
}

static int drop_each(void *payload, const char *name, void *opaque) {
  return virHashRemoveEntry(state.snoopReqs, name);
}
void drop_all_unsafe(void) {
  virHashForEach(state.snoopReqs, drop_each, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:35: warning: callback 'drop_each' passed to 'virHashForEach' re-enters the same map
}
void drop_all_safe(void) { virHashForEachSafe(state.snoopReqs, drop_each, 0); } /* a copy */

static int is_busy(const void *payload, const char *name, const void *opaque) {
  return virHashLookup(state.snoopReqs, name) != 0 && ((const Req *)payload)->refctr > 0;
}
void *find_busy(void) { return virHashSearch(state.snoopReqs, is_busy, 0, 0); } /* a read */
