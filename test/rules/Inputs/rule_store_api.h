/* A rule-store API annotated in its header; the tests that include it check
 * calls from another file against the contracts written here. */
#ifndef RULE_STORE_API_H
#define RULE_STORE_API_H
#include <stddef.h>
#include <tsmap/annotations.h>

typedef struct TSMAP_THREAD_SAFE_MAP rule_store rule_store;
struct rule { int id; int hits; char name[32]; };

/* Fills *out for `key`; may run more than once per call. */
typedef int (*rule_loader)(const char *key, void *ctx, TSMAP_OUT struct rule *out);
/* Updates the rule in place; `cur` is the value the store holds. */
typedef int (*rule_updater)(struct rule *cur, void *ctx, struct rule *next);
/* Visits a rule while the store holds its lock. */
typedef void (*rule_visitor)(const struct rule *r, void *ctx);

int rules_compute_if_absent(rule_store *s, const char *key,
                            TSMAP_CALLBACK rule_loader load, void *ctx);
int rules_update(rule_store *s, const char *key,
                 TSMAP_CALLBACK rule_updater fn, void *ctx);
/* Runs the visitor once per rule, under the store's lock (not checked for
 * idempotency). */
void rules_foreach(rule_store *s, TSMAP_CALLBACK_LOCKED rule_visitor fn, void *ctx);
/* Both: may run again, and under the lock. */
int rules_replace_locked(rule_store *s, const char *key,
                         TSMAP_CALLBACK TSMAP_CALLBACK_LOCKED rule_loader load,
                         void *ctx);
/* Not annotated: a plain function-pointer parameter. */
int rules_register_hook(rule_store *s, rule_loader hook, void *ctx);

/* Posts an event to the audit service. */
TSMAP_NON_IDEMPOTENT int audit_post(const char *event, const char *key);
/* Pure lookup in a read-only table. */
TSMAP_IDEMPOTENT int schema_fill(const char *key, struct rule *out);
/* No body anywhere, no annotation. */
int opaque_lookup(const char *key, struct rule *out);
#endif
