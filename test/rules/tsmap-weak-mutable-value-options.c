// RUN: %check_tsmap_tidy -check-suffixes=DEFAULT %s tsmap-weak-mutable-value %t -- -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=DEFAULT,WRITES %s tsmap-weak-mutable-value %t -- \
// RUN:   -config="{CheckOptions: {tsmap-weak-mutable-value.WriteFunctions: 'fill_zero;ns::fill'}}" -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=DEFAULT,CONTRACTS %s tsmap-weak-mutable-value %t -- \
// RUN:   -config="{CheckOptions: {tsmap-weak-mutable-value.Contracts: 'vendor_put(val)=publishes;struct peer.link=weak'}}" -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=SHALLOW %s tsmap-weak-mutable-value %t -- \
// RUN:   -config="{CheckOptions: {tsmap-weak-mutable-value.MaxCallDepth: 0}}" -- -I%S/Inputs
// RUN: %check_tsmap_tidy -check-suffixes=BAD %s tsmap-weak-mutable-value %t -- \
// RUN:   -config="{CheckOptions: {tsmap-weak-mutable-value.WriteFunctions: 'bad name;fill_zero', \
// RUN:                            tsmap-weak-mutable-value.MaxCallDepth: 100}}" -- -I%S/Inputs
//
// Each option, with its default and with a value.

// CHECK-MESSAGES-BAD: warning: invalid function name 'bad name' in option 'tsmap-weak-mutable-value.WriteFunctions'; expected a semicolon-separated list of names [clang-tidy-config]
// CHECK-MESSAGES-BAD: warning: option 'tsmap-weak-mutable-value.MaxCallDepth' is 100; the largest depth supported is 64, which is used instead [clang-tidy-config]

#include "publish-registry.h"
#include <stdlib.h>

struct metric { long value; long peak; };
struct peer { int id; struct peer *link; };

void fill_zero(void *dst, size_t n); // no body: unknown unless listed
int vendor_put(void *table, const char *key, void *val); // no annotation

static void deep3(struct metric *m) { m->peak = 0; }
static void deep2(struct metric *m) { deep3(m); }

void listed_writer(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  reg_publish(r, "m", m);
  fill_zero(m, sizeof *m);
  // CHECK-MESSAGES-WRITES: :[[@LINE-1]]:3: warning: 'fill_zero' writes into 'm' after 'm' was published by 'reg_publish'; other threads may be reading it through the map [tsmap-weak-mutable-value]
  // CHECK-MESSAGES-BAD: :[[@LINE-2]]:3: warning: 'fill_zero' writes into 'm' after 'm' was published by 'reg_publish'; other threads may be reading it through the map [tsmap-weak-mutable-value]
}

void vendor(void *table) {
  struct metric local = {0, 0};
  vendor_put(table, "k", &local);
  // CHECK-MESSAGES-CONTRACTS: :[[@LINE-1]]:26: warning: 'vendor_put' publishes the address of local variable 'local', which has automatic storage; the map keeps the pointer after 'vendor' returns [tsmap-weak-mutable-value]
}

void vendor_peer(void *table, struct peer *p) {
  vendor_put(table, "p", p);
  // CHECK-MESSAGES-CONTRACTS: :[[@LINE-1]]:26: warning: 'vendor_put' publishes 'p', whose field 'link' is a weak reference to mutable 'struct peer': its owner may modify or free it while other threads read it through the map [tsmap-weak-mutable-value]
}

void through_calls(registry *r) {
  struct metric *m = calloc(1, sizeof *m);
  if (!m)
    return;
  reg_publish(r, "m", m);
  deep2(m);
  // CHECK-MESSAGES-DEFAULT: :[[@LINE-1]]:3: warning: 'deep2' writes through 'm' after 'm' was published by 'reg_publish'; other threads may be reading it through the map [tsmap-weak-mutable-value]
  // CHECK-MESSAGES-BAD: :[[@LINE-2]]:3: warning: 'deep2' writes through 'm' after 'm' was published by 'reg_publish'; other threads may be reading it through the map [tsmap-weak-mutable-value]
}
