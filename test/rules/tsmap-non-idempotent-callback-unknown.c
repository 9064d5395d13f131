// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-non-idempotent-callback.StrictUnknownCalls: true}}" -- -I%S/Inputs
//
// Under StrictUnknownCalls, which calls to functions with no body count as
// unknown effects: a function that returns a value and takes scalars and
// pointers to const only reads what it is given (an equality function defined
// in another file) and is not one; nor is a getter whose out-parameter is the
// address of the callback's own local. Anything that can write through a
// parameter into shared memory, returns nothing, or is variadic stays unknown.
// Known miss: a function of scalars alone looks like a reader too.

#include "fake_urcu.h"

struct key { const char *name; unsigned len; };
struct entry { struct cds_lfht_node node; struct key key; };

int key_equal(const struct key *a, const struct key *b);           // elsewhere
unsigned long key_hash(const struct key *k, unsigned long seed);   // elsewhere
int key_normalize(struct key *k);                                  // writes
void key_log(const struct key *k);                                 // returns nothing
int key_printf(const char *fmt, ...);                              // variadic
int charge(int account, int cents);                                // scalars only
int loglevels_match(int a, int b, int c);                          // scalars only
int key_get_name(const struct key *k, const char **name);          // a getter

#define ENTRY(n) ((struct entry *)(n))

static int match_pure(struct cds_lfht_node *node, const void *key) {
  return key_equal(&ENTRY(node)->key, key) && key_hash(key, 7) != 0;
}
static int match_normalizes(struct cds_lfht_node *node, const void *key) {
  return key_normalize(&ENTRY(node)->key) == 0;
}
static int match_logs(struct cds_lfht_node *node, const void *key) {
  key_log(key);
  return 1;
}
static int match_prints(struct cds_lfht_node *node, const void *key) {
  return key_printf("%p", key);
}
static int match_charges(struct cds_lfht_node *node, const void *key) {
  return charge(1, 2); // FIXME: looks like a reader
}
static int match_levels(struct cds_lfht_node *node, const void *key) {
  return loglevels_match(1, 2, 3);
}
static const char *g_last_name;
static int match_by_name(struct cds_lfht_node *node, const void *key) {
  const char *a, *b;
  key_get_name(&ENTRY(node)->key, &a); // into its own local
  key_get_name(key, &b);
  return a == b;
}
static int match_keeps_name(struct cds_lfht_node *node, const void *key) {
  return key_get_name(key, &g_last_name); // into a global
}

void run(struct cds_lfht *ht, const struct key *k) {
  struct cds_lfht_iter it;
  cds_lfht_lookup(ht, 1, match_pure, k, &it);
  cds_lfht_lookup(ht, 1, match_normalizes, k, &it);
  // CHECK-MESSAGES: :[[@LINE-1]]:26: warning: callback 'match_normalizes' passed to 'cds_lfht_lookup' is not idempotent: it may run more than once, and each run calls 'key_normalize', whose body is not visible
  cds_lfht_lookup(ht, 1, match_logs, k, &it);
  // CHECK-MESSAGES: :[[@LINE-1]]:26: warning: callback 'match_logs' passed to 'cds_lfht_lookup' is not idempotent: it may run more than once, and each run calls 'key_log', whose body is not visible
  cds_lfht_lookup(ht, 1, match_prints, k, &it);
  // CHECK-MESSAGES: :[[@LINE-1]]:26: warning: callback 'match_prints' passed to 'cds_lfht_lookup' is not idempotent: it may run more than once, and each run calls 'key_printf', whose body is not visible
  cds_lfht_lookup(ht, 1, match_charges, k, &it);
  cds_lfht_lookup(ht, 1, match_levels, k, &it);
  cds_lfht_lookup(ht, 1, match_by_name, k, &it);
  cds_lfht_lookup(ht, 1, match_keeps_name, k, &it);
  // CHECK-MESSAGES: :[[@LINE-1]]:26: warning: callback 'match_keeps_name' passed to 'cds_lfht_lookup' is not idempotent: it may run more than once, and each run calls 'key_get_name', whose body is not visible
}
