// RUN: %check_tsmap_tidy %s tsmap-weak-mutable-value %t
//
// The runtime's own API: <tsmap/tsmap.h> declares the value of tsmap_put_ptr
// and tsmap_put_ptr_if_absent TSMAP_PUBLISHES, and tsmap_put copies its value,
// so its users are checked with no configuration.

#include <stdlib.h>
#include <string.h>
#include <tsmap/tsmap.h>

struct gauge { char name[16]; double value; };

void stack_gauge(tsmap *m) {
  struct gauge g = {"cpu", 0.5};
  tsmap_put_ptr(m, "cpu", 3, &g, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:30: warning: 'tsmap_put_ptr' publishes the address of local variable 'g', which has automatic storage; the map keeps the pointer after 'stack_gauge' returns [tsmap-weak-mutable-value]
}

void update_after_put(tsmap *m) {
  struct gauge *g = calloc(1, sizeof *g);
  if (!g)
    return;
  if (tsmap_put_ptr_if_absent(m, "mem", 3, g, NULL) != TSMAP_OK) {
    g->value = -1; // not published: still ours
    free(g);
    return;
  }
  g->value = 1.0;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'g->value' after 'g' was published by 'tsmap_put_ptr_if_absent'; other threads may be reading it through the map [tsmap-weak-mutable-value]
}

void replaced_is_success(tsmap *m, struct gauge *g) {
  tsmap_status st = tsmap_put_ptr(m, "x", 1, g, NULL);
  if (st == TSMAP_OK || st == TSMAP_REPLACED)
    strcpy(g->name, "x");
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'strcpy' writes into 'g->name' after 'g' was published by 'tsmap_put_ptr'; other threads may be reading it through the map [tsmap-weak-mutable-value]
}

// Negatives: tsmap_put copies the bytes it is given, so a local is fine, and
// so is writing to it afterwards.
void copy_put(tsmap *m) {
  struct gauge g = {"disk", 0.25};
  struct gauge *p = &g;
  tsmap_put(m, "disk", 4, &g, NULL);
  tsmap_put(m, "disk", 4, &p, NULL);
  g.value = 0.75;
}

void failed_put_ptr(tsmap *m) {
  struct gauge *g = calloc(1, sizeof *g);
  if (!g)
    return;
  tsmap_status st = tsmap_put_ptr(m, "net", 3, g, NULL);
  if (st != TSMAP_OK && st != TSMAP_REPLACED) {
    memset(g, 0, sizeof *g);
    free(g);
  }
}

// The map is destroyed, or the key removed, before the local dies: the map
// never holds a dangling pointer.
void scoped_map(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, sizeof(void *));
  tsmap *m;
  if (tsmap_create(&cfg, &m) != TSMAP_OK)
    return;
  long v = 5;
  tsmap_put_ptr(m, "v", 1, &v, NULL);
  tsmap_destroy(m);
}

void removed_before_return(tsmap *m, int early) {
  struct gauge g = {"tmp", 0};
  tsmap_put_ptr(m, "tmp", 3, &g, NULL);
  if (early) {
    tsmap_remove(m, "tmp", 3, NULL);
    return;
  }
  tsmap_remove(m, "tmp", 3, NULL);
}

void removed_on_one_path(tsmap *m, int early) {
  struct gauge g = {"tmp", 0};
  tsmap_put_ptr(m, "tmp", 3, &g, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:30: warning: 'tsmap_put_ptr' publishes the address of local variable 'g', which has automatic storage; the map keeps the pointer after 'removed_on_one_path' returns [tsmap-weak-mutable-value]
  if (early)
    return;
  tsmap_remove(m, "tmp", 3, NULL);
}

void other_key_removed(tsmap *m) {
  struct gauge g = {"tmp", 0};
  tsmap_put_ptr(m, "tmp", 3, &g, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:30: warning: 'tsmap_put_ptr' publishes the address of local variable 'g', which has automatic storage; the map keeps the pointer after 'other_key_removed' returns [tsmap-weak-mutable-value]
  tsmap_remove(m, "old", 3, NULL);
}

// A switch on the status: the failure cases may still touch the object.
void switch_on_status(tsmap *m) {
  struct gauge *g = calloc(1, sizeof *g);
  if (!g)
    return;
  switch (tsmap_put_ptr_if_absent(m, "sw", 2, g, NULL)) {
  case TSMAP_EXISTS:
  case TSMAP_NO_MEMORY:
    g->value = 0; // never published
    free(g);
    break;
  case TSMAP_OK:
    g->value = 2;
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: write to 'g->value' after 'g' was published by 'tsmap_put_ptr_if_absent'; other threads may be reading it through the map [tsmap-weak-mutable-value]
    break;
  default:
    break;
  }
}

// A publish into a null map is an invalid-argument test: nothing is published.
void null_map_publishes_nothing(void) {
  struct gauge g = {0};
  (void)tsmap_put_ptr(NULL, "cpu", 3, &g, NULL);
  (void)tsmap_put_ptr_if_absent((tsmap *)0, "cpu", 3, &g, NULL);
  g.value = 1;
}

// `default:` after the cases that name every status with which this call
// publishes: tsmap_put_ptr_if_absent publishes only with TSMAP_OK (tsmap.h),
// tsmap_put_ptr with TSMAP_OK and TSMAP_REPLACED.
int switch_if_absent_default(tsmap *m, struct gauge *g) {
  switch (tsmap_put_ptr_if_absent(m, "s", 1, g, NULL)) {
  case TSMAP_OK:
    return 0;
  case TSMAP_EXISTS:
    g->value = -1; // never published
    return 1;
  default:
    g->value = -2; // quiet: TSMAP_OK, its only publishing status, is named
    return -1;
  }
}

int switch_if_absent_ttl_default(tsmap *m, struct gauge *g) {
  switch (tsmap_put_ptr_if_absent_ttl(m, "s", 1, g, TSMAP_TTL_NEVER, NULL)) {
  case TSMAP_OK:
    return 0;
  default:
    g->value = -2; // quiet
    return -1;
  }
}

int switch_put_ptr_default(tsmap *m, struct gauge *g) {
  switch (tsmap_put_ptr(m, "s", 1, g, NULL)) {
  case TSMAP_OK:
    return 0;
  default:
    g->value = -2; /* TSMAP_REPLACED published it too */
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: write to 'g->value' after 'g' was published by 'tsmap_put_ptr'; other threads may be reading it through the map [tsmap-weak-mutable-value]
    return -1;
  }
}

int switch_put_ptr_both_default(tsmap *m, struct gauge *g) {
  switch (tsmap_put_ptr(m, "s", 1, g, NULL)) {
  case TSMAP_OK:
  case TSMAP_REPLACED:
    return 0;
  default:
    g->value = -2; // quiet: both publishing statuses are named
    return -1;
  }
}

// "Not TSMAP_OK" leaves TSMAP_REPLACED, which published the value too: a
// failure only when the joined tests rule out both.
int put_ptr_not_ok(tsmap *m, struct gauge *g) {
  if (tsmap_put_ptr(m, "n", 1, g, NULL) != TSMAP_OK) {
    g->value = -1;
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: write to 'g->value' after 'g' was published by 'tsmap_put_ptr'; other threads may be reading it through the map [tsmap-weak-mutable-value]
    return 1;
  }
  return 0;
}

int put_ptr_ok_returns(tsmap *m, struct gauge *g) {
  if (tsmap_put_ptr(m, "n", 1, g, NULL) == TSMAP_OK)
    return 0;
  g->value = -1;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'g->value' after 'g' was published by 'tsmap_put_ptr'; other threads may be reading it through the map [tsmap-weak-mutable-value]
  return 1;
}

int put_ptr_not_ok_nor_nomem(tsmap *m, struct gauge *g) {
  tsmap_status st = tsmap_put_ptr(m, "n", 1, g, NULL);
  if (st != TSMAP_OK && st != TSMAP_NO_MEMORY)
    g->value = -1;
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: write to 'g->value' after 'g' was published by 'tsmap_put_ptr'; other threads may be reading it through the map [tsmap-weak-mutable-value]
  return st;
}

int put_ptr_neither_success(tsmap *m, struct gauge *g) {
  tsmap_status st = tsmap_put_ptr(m, "n", 1, g, NULL);
  if (!(st == TSMAP_OK || st == TSMAP_REPLACED))
    g->value = -1; // quiet: neither publishing status
  return st;
}

int put_ptr_both_return(tsmap *m, struct gauge *g) {
  tsmap_status st = tsmap_put_ptr(m, "n", 1, g, NULL);
  if (st == TSMAP_OK || st == TSMAP_REPLACED)
    return 0;
  g->value = -1; // quiet: neither publishing status
  return 1;
}

int put_ptr_if_absent_not_ok(tsmap *m, struct gauge *g) {
  if (tsmap_put_ptr_if_absent(m, "n", 1, g, NULL) != TSMAP_OK) {
    g->value = -1; // quiet: TSMAP_OK is its only publishing status
    return 1;
  }
  return 0;
}
