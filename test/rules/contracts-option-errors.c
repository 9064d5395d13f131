// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- \
// RUN:   -config="{CheckOptions: {tsmap-reentrant-callback.Contracts: 'kv_table;f=calback;f=callback;f(x)=idempotent;struct s.f=cleanup;s.f=cleanup(1bad);s.f=idempotent;f()=callback;=callback;f(0)=callback;f(x=callback;a.b.c=weak;f(visit)=callback_locked,nonsense; kv_table = thread_safe_map ;kv_each(2)=callback_locked;g=idempotent,non_idempotent;h=non_idempotent;h=idempotent'}}"
//
// Every malformed `Contracts` entry is a configuration error naming the entry
// and what is wrong with it (never a crash; contradictory entries too), and the
// well-formed entries still apply: kv_table is a map and kv_each's visitor is
// locked.

// CHECK-MESSAGES: warning: invalid entry '=callback' in option 'tsmap-reentrant-callback.Contracts': missing name before '=' [clang-tidy-config]
// CHECK-MESSAGES: warning: invalid entry 'a.b.c=weak' in option 'tsmap-reentrant-callback.Contracts': 'a.b.c' is not a name, 'function(param)' or 'record.field' [clang-tidy-config]
// CHECK-MESSAGES: warning: invalid entry 'f()=callback' in option 'tsmap-reentrant-callback.Contracts': empty parameter in 'f()' [clang-tidy-config]
// CHECK-MESSAGES: warning: invalid entry 'f(0)=callback' in option 'tsmap-reentrant-callback.Contracts': parameter '0' is neither a name nor a 1-based index [clang-tidy-config]
// CHECK-MESSAGES: warning: invalid entry 'f(visit)=callback_locked,nonsense' in option 'tsmap-reentrant-callback.Contracts': unknown contract 'nonsense' [clang-tidy-config]
// CHECK-MESSAGES: warning: invalid entry 'f(x)=idempotent' in option 'tsmap-reentrant-callback.Contracts': 'idempotent' does not go on a parameter [clang-tidy-config]
// CHECK-MESSAGES: warning: invalid entry 'f(x=callback' in option 'tsmap-reentrant-callback.Contracts': 'f(x' is not a name, 'function(param)' or 'record.field' [clang-tidy-config]
// CHECK-MESSAGES: warning: invalid entry 'f=calback' in option 'tsmap-reentrant-callback.Contracts': unknown contract 'calback'; did you mean 'callback'? [clang-tidy-config]
// CHECK-MESSAGES: warning: invalid entry 'f=callback' in option 'tsmap-reentrant-callback.Contracts': 'callback' goes on a parameter: write 'function(param)=callback' [clang-tidy-config]
// CHECK-MESSAGES: warning: invalid entry 'g=idempotent,non_idempotent' in option 'tsmap-reentrant-callback.Contracts': 'g' is given both 'idempotent' and 'non_idempotent'; keep the one that holds [clang-tidy-config]
// CHECK-MESSAGES: warning: invalid entry 'h=idempotent' in option 'tsmap-reentrant-callback.Contracts': 'h' is given both 'idempotent' and 'non_idempotent'; keep the one that holds [clang-tidy-config]
// CHECK-MESSAGES: warning: invalid entry 'kv_table' in option 'tsmap-reentrant-callback.Contracts': expected 'name=contract' [clang-tidy-config]
// CHECK-MESSAGES: warning: invalid entry 's.f=cleanup(1bad)' in option 'tsmap-reentrant-callback.Contracts': contract 'cleanup' needs a function name: cleanup(fn) [clang-tidy-config]
// CHECK-MESSAGES: warning: invalid entry 's.f=idempotent' in option 'tsmap-reentrant-callback.Contracts': only 'cleanup(fn)', 'weak' and 'evicts_with(fn)' go on a field [clang-tidy-config]
// CHECK-MESSAGES: warning: invalid entry 'struct s.f=cleanup' in option 'tsmap-reentrant-callback.Contracts': contract 'cleanup' needs a function name: cleanup(fn) [clang-tidy-config]

typedef struct kv_table kv_table;
typedef void (*kv_visit)(int key, void *ctx);
void kv_each(kv_table *t, kv_visit visit, void *ctx);
void kv_del(kv_table *t, int key);
static kv_table *g_kv;
static void drop(int key, void *ctx) { kv_del(g_kv, key); }

void run(void) {
  kv_each(g_kv, drop, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:17: warning: callback 'drop' passed to 'kv_each' re-enters the same map: it calls 'kv_del' on 'g_kv'
}
