// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback %t -- \
// RUN:   -config="{CheckOptions: {Contracts: 'struct conn.=cleanup(timer_cancel);kv_update(fnn)=callback;kv_update(99)=callback;kv_each(visit)=callback;kv_update(fn)=callback;kv_update(3)=callback;kv_other(1)=callback;not_declared(whatever)=callback;not_declared(7)=callback;audit_send=non_idempotent'}}"
//
// A parameter entry names a parameter of the function: when the translation
// unit declares the function and none of its declarations has that parameter
// (a misspelt name, an index past the last one, a name where the declarations
// name none), the entry is a configuration error like a malformed one, not a
// contract that silently never applies. An entry for a function the unit
// does not declare says nothing about the unit. An empty field name is
// malformed.

// CHECK-MESSAGES: warning: invalid entry 'kv_each(visit)=callback' in option 'Contracts': function 'kv_each' has no parameter 'visit' (its declarations name none: write its 1-based index) [clang-tidy-config]
// CHECK-MESSAGES: warning: invalid entry 'kv_update(99)=callback' in option 'Contracts': function 'kv_update' has 4 parameters [clang-tidy-config]
// CHECK-MESSAGES: warning: invalid entry 'kv_update(fnn)=callback' in option 'Contracts': function 'kv_update' has no parameter 'fnn'; its parameters are 't', 'k', 'fn', 'ctx' [clang-tidy-config]
// CHECK-MESSAGES: warning: invalid entry 'struct conn.=cleanup(timer_cancel)' in option 'Contracts': empty field in 'struct conn.' [clang-tidy-config]

typedef struct kv_table kv_table;
typedef int (*kv_fill)(const char *k, void *ctx, void **result);
int kv_update(kv_table *t, const char *k, kv_fill fn, void *ctx);
int kv_update(kv_table *table, const char *key, kv_fill, void *);
void kv_each(kv_table *, kv_fill, void *);
void kv_other(kv_fill f);
int audit_send(const char *what);

static int fill(const char *k, void *ctx, void **result) {
  audit_send(k);
  *result = 0;
  return 0;
}

void run(kv_table *t) {
  kv_update(t, "a", fill, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:21: warning: callback 'fill' passed to 'kv_update' is not idempotent
  kv_other(fill);
  // CHECK-MESSAGES: :[[@LINE-1]]:12: warning: callback 'fill' passed to 'kv_other' is not idempotent
}
