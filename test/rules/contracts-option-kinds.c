// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- \
// RUN:   -config="{CheckOptions: {Contracts: 'kv_table=thread_safe_map; kv_each(2)=callback_locked; kv_update=immutable; audit_send=cleanup(free); g_kv=thread_safe_map; kv_table(1)=callback; g_kv=evicts_with(kv_drop); g_kv=weak; kv_table=weak; kv_table=immutable; kv_update=non_idempotent; stat=immutable; not_here=immutable'}}"
//
// A contract on a subject of a kind it does not go on (the table of
// docs/contracts-option.md) is a configuration error where the unit declares
// the name: it could never apply. The other entries still apply (kv_each's
// visitor is locked). A name that is both a type and a function (`struct
// stat` and `stat()`) takes a type's contract; a name the unit does not
// declare says nothing about it.

// CHECK-MESSAGES: warning: invalid entry 'audit_send=cleanup(free)' in option 'Contracts': 'cleanup' goes on a type or a field; 'audit_send' is a function [clang-tidy-config]
// CHECK-MESSAGES: warning: invalid entry 'g_kv=thread_safe_map' in option 'Contracts': 'thread_safe_map' goes on a type; 'g_kv' is a variable [clang-tidy-config]
// CHECK-MESSAGES: warning: invalid entry 'kv_table(1)=callback' in option 'Contracts': 'callback' goes on a parameter of a function; 'kv_table' is a type [clang-tidy-config]
// CHECK-MESSAGES: warning: invalid entry 'kv_update=immutable' in option 'Contracts': 'immutable' goes on a type; 'kv_update' is a function [clang-tidy-config]

typedef struct kv_table kv_table;
typedef void (*kv_visit)(const char *k, void *ctx);
typedef int (*kv_fn)(const char *k, void *ctx, void *out);
int kv_update(kv_table *t, const char *k, kv_fn fn, void *ctx);
void kv_each(kv_table *, kv_visit, void *);
int kv_del(kv_table *t, const char *k);
void kv_drop(void *v);
void audit_send(const char *what);
struct stat { int size; };
int stat(const char *path, struct stat *st);

static kv_table *g_kv;
static void visit(const char *k, void *ctx) { kv_del(g_kv, k); }

void go(void) {
  kv_each(g_kv, visit, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:17: warning: callback 'visit' passed to 'kv_each' re-enters the same map: it calls 'kv_del' on 'g_kv'
}
