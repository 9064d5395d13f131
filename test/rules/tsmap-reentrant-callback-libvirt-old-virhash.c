// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=OFF %s tsmap-reentrant-callback %t -- \
// RUN:   -config="{CheckOptions: {ContractModels: 'glib;liburcu'}}" -- -I%S/Inputs
//
// libvirt before 7.0 kept its own hash table type (struct _virHashTable, used
// through virHashTablePtr), which refuses changes during a walk as GHashTable
// does: the shipped libvirt model makes it a map too. With the model off,
// quiet.

#include <stddef.h>

typedef struct _virHashTable virHashTable;
typedef virHashTable *virHashTablePtr;
typedef int (*virHashIterator)(void *payload, const char *name, void *opaque);
int virHashForEach(virHashTablePtr table, virHashIterator iter, void *opaque);
int virHashRemoveEntry(virHashTablePtr table, const char *name);
void *virHashLookup(virHashTablePtr table, const char *name);

static virHashTablePtr doms;

static int drop_dom(void *payload, const char *name, void *opaque) {
  (void)payload;
  (void)opaque;
  return virHashRemoveEntry(doms, name);
}
static int find_dom(void *payload, const char *name, void *opaque) {
  (void)payload;
  return virHashLookup(doms, name) == opaque;
}

void drop_all(void) {
  virHashForEach(doms, drop_dom, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:24: warning: callback 'drop_dom' passed to 'virHashForEach' re-enters the same map: it calls 'virHashRemoveEntry' on 'doms' while 'virHashForEach' runs it with the map locked or mid-iteration [tsmap-reentrant-callback]
  virHashForEach(doms, find_dom, NULL);
}
