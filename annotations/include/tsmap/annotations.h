/*
 * tsmap/annotations.h - the contract vocabulary of thread-safe maps.
 *
 * Each macro states one part of the contract between a thread-safe map API and the code
 * that calls it. Under Clang every macro expands to `annotate("tsmap::...")`, which the
 * tsmap-* clang-tidy checks read; some also carry a native attribute (warn_unused_result,
 * and Thread Safety Analysis roles, below). Under compilers without these attributes (GCC,
 * MSVC) they expand to nothing, so annotated code builds everywhere. The header compiles
 * as C99, C11, C17, C++11 and C++17 under -Wall -Wextra -Werror with GCC and Clang.
 *
 * The checks and the vocabulary are described in docs/spec.md section 1 and in the check pages
 * under rules/.
 *
 * Editor diagnostics without the plugin
 * -------------------------------------
 * clangd cannot load clang-tidy plugins, so the most common contract is also mapped onto
 * Clang's Thread Safety Analysis. A TSMAP_CALLBACK_FN function requires the role
 * `tsmap_in_map_callback`; TSMAP_NON_IDEMPOTENT functions and map operations
 * (TSMAP_MAP_OPERATION) exclude it. Compile with -Wthread-safety and Clang (and clangd)
 * warns, live, when a callback directly calls a non-idempotent function or the map:
 *
 *   warning: cannot call function 'send_audit' while role 'tsmap_in_map_callback' is held
 *
 * The role is a declaration only: it is never defined, never linked, and costs nothing.
 * Define TSMAP_NO_THREAD_SAFETY_ROLES before including this header to turn the mapping off.
 */
#ifndef TSMAP_ANNOTATIONS_H
#define TSMAP_ANNOTATIONS_H

/* ---- Feature tests ------------------------------------------------------------------ */

/* TSMAP_HAS_ATTRIBUTE(x): 1 when the compiler knows __attribute__((x)), else 0. Never
 * trips an #if on compilers without __has_attribute. */
#if defined(__has_attribute)
#define TSMAP_HAS_ATTRIBUTE(x) __has_attribute(x)
#else
#define TSMAP_HAS_ATTRIBUTE(x) 0
#endif

/* TSMAP_ANNOTATE(s): the one gate every contract macro goes through. */
#if TSMAP_HAS_ATTRIBUTE(annotate)
#define TSMAP_ANNOTATE(s) __attribute__((annotate(s)))
#else
#define TSMAP_ANNOTATE(s)
#endif

#if TSMAP_HAS_ATTRIBUTE(warn_unused_result)
#define TSMAP_WARN_UNUSED_RESULT_ __attribute__((warn_unused_result))
#else
#define TSMAP_WARN_UNUSED_RESULT_
#endif

#if TSMAP_HAS_ATTRIBUTE(capability) && TSMAP_HAS_ATTRIBUTE(requires_capability) && \
    TSMAP_HAS_ATTRIBUTE(locks_excluded) && !defined(TSMAP_NO_THREAD_SAFETY_ROLES)
#define TSMAP_HAVE_THREAD_SAFETY_ROLES 1
#else
#define TSMAP_HAVE_THREAD_SAFETY_ROLES 0
#endif

/* ---- Thread Safety Analysis role ---------------------------------------------------- */

#if TSMAP_HAVE_THREAD_SAFETY_ROLES
#ifdef __cplusplus
extern "C" {
#endif
/* The role "running inside a map callback". Declared, never defined: analysis only. */
typedef struct __attribute__((capability("role"))) tsmap_callback_role {
  char unused;
} tsmap_callback_role;
extern tsmap_callback_role tsmap_in_map_callback;
#ifdef __cplusplus
}
#endif
#define TSMAP_REQUIRES_CALLBACK_ROLE_ __attribute__((requires_capability(tsmap_in_map_callback)))
#define TSMAP_EXCLUDES_CALLBACK_ROLE_ __attribute__((locks_excluded(tsmap_in_map_callback)))
#else
#define TSMAP_REQUIRES_CALLBACK_ROLE_
#define TSMAP_EXCLUDES_CALLBACK_ROLE_
#endif

/* ---- Maps and their operations ------------------------------------------------------ */

/* TSMAP_THREAD_SAFE_MAP: on a struct or typedef of a map handle. A pointer to this type is
 * a thread-safe map; functions taking one are map operations. On a pointer typedef the
 * typedef itself is the handle.
 *   typedef struct TSMAP_THREAD_SAFE_MAP rule_store rule_store;
 *   typedef struct kv_s *kv_t TSMAP_THREAD_SAFE_MAP; */
#define TSMAP_THREAD_SAFE_MAP TSMAP_ANNOTATE("tsmap::thread_safe_map")

/* TSMAP_MAP_OPERATION: on a function that operates on a map. Adds nothing for the checks
 * (a function taking a TSMAP_THREAD_SAFE_MAP pointer is already one); it tells the
 * editor's Thread Safety Analysis that it must not be called from a TSMAP_CALLBACK_FN. */
#define TSMAP_MAP_OPERATION TSMAP_ANNOTATE("tsmap::map_operation") TSMAP_EXCLUDES_CALLBACK_ROLE_

/* TSMAP_EVICTS_WITH(fn): on a map variable or field. The map's eviction hook is `fn`;
 * values the map evicts on its own (a null TSMAP_REMOVED_OUT, a replacing put) are
 * cleaned up by `fn`.
 *   TSMAP_EVICTS_WITH(session_evict) static tsmap *g_sessions; */
#define TSMAP_EVICTS_WITH(fn) TSMAP_ANNOTATE("tsmap::evicts_with(" #fn ")")

/* ---- Callbacks ---------------------------------------------------------------------- */

/* TSMAP_CALLBACK: on a function-pointer parameter. The map may run the callback more than
 * once per call, concurrently with other calls, and may discard its result: it must be
 * idempotent (checked by tsmap-non-idempotent-callback). Also in the prototype of an
 * ops-table field or a function-pointer typedef, for calls through that pointer.
 *   int rules_compute(rules *m, const char *k, TSMAP_CALLBACK rule_loader fn, void *ctx); */
#define TSMAP_CALLBACK TSMAP_ANNOTATE("tsmap::callback")

/* TSMAP_CALLBACK_LOCKED: on a function-pointer parameter. The map runs the callback while
 * holding its own lock; it must not re-enter the same map (checked by
 * tsmap-reentrant-callback). May be combined with TSMAP_CALLBACK. */
#define TSMAP_CALLBACK_LOCKED TSMAP_ANNOTATE("tsmap::callback_locked")

/* TSMAP_OUT: on a parameter of a callback (in its function-pointer type or its
 * definition). The storage the map provides for the callback's result: writes through it
 * are the callback's product, not side effects.
 *   typedef int (*rule_loader)(const char *key, void *ctx, TSMAP_OUT struct rule **out); */
#define TSMAP_OUT TSMAP_ANNOTATE("tsmap::out")

/* TSMAP_CALLBACK_FN: on a function written to be used as a map callback. Enables the
 * editor's Thread Safety Analysis: such a function holds the role tsmap_in_map_callback,
 * so calling a TSMAP_NON_IDEMPOTENT function or a map operation from it warns. */
#define TSMAP_CALLBACK_FN TSMAP_ANNOTATE("tsmap::callback_fn") TSMAP_REQUIRES_CALLBACK_ROLE_

/* ---- Effects ------------------------------------------------------------------------ */

/* TSMAP_IDEMPOTENT: on a function. Trusted: safe to run any number of times; the analysis
 * does not look inside. The escape hatch for a function the checks misjudge. */
#define TSMAP_IDEMPOTENT TSMAP_ANNOTATE("tsmap::idempotent")

/* TSMAP_NON_IDEMPOTENT: on a function with an external effect that must not be repeated
 * (send, charge, enqueue, append to a log).
 *   TSMAP_NON_IDEMPOTENT int audit_post(const char *event); */
#define TSMAP_NON_IDEMPOTENT TSMAP_ANNOTATE("tsmap::non_idempotent") TSMAP_EXCLUDES_CALLBACK_ROLE_

/* ---- Values: publication and ownership ---------------------------------------------- */

/* TSMAP_PUBLISHES: on a value parameter. The pointed-to object becomes visible to other
 * threads through the map (checked by tsmap-weak-mutable-value). */
#define TSMAP_PUBLISHES TSMAP_ANNOTATE("tsmap::publishes")

/* TSMAP_IMMUTABLE: on a struct or typedef. Objects of this type are never modified after
 * they are published. */
#define TSMAP_IMMUTABLE TSMAP_ANNOTATE("tsmap::immutable")

/* TSMAP_WEAK: on a pointer field, typedef or variable. A non-owning reference: someone
 * else owns, mutates and frees the target.
 *   struct session { TSMAP_WEAK struct user *owner; }; */
#define TSMAP_WEAK TSMAP_ANNOTATE("tsmap::weak")

/* ---- Removal and cleanup ------------------------------------------------------------ */

/* TSMAP_REMOVED_OUT: on an out-parameter. Receives the removed value; the caller now owns
 * it. A null argument hands the value to the map's eviction hook (TSMAP_EVICTS_WITH). */
#define TSMAP_REMOVED_OUT TSMAP_ANNOTATE("tsmap::removed_out")

/* TSMAP_REPLACES: on a function. It may overwrite an existing value, a hidden removal: the
 * old value goes to its TSMAP_REMOVED_OUT parameter if it has one, else to the eviction
 * hook. */
#define TSMAP_REPLACES TSMAP_ANNOTATE("tsmap::replaces")

/* TSMAP_RETURNS_REMOVED: on a function. Its return value is a removed value that the
 * caller now owns; ignoring it is a compiler warning as well (warn_unused_result). */
#define TSMAP_RETURNS_REMOVED TSMAP_ANNOTATE("tsmap::returns_removed") TSMAP_WARN_UNUSED_RESULT_

/* TSMAP_CLEANUP(fn): on a field or a struct. The field (or the whole value) holds a
 * resource that `fn` must release when the entry leaves the map (checked by
 * tsmap-remove-without-cleanup). `fn` may be declared after the struct.
 *   struct conn { TSMAP_CLEANUP(timer_cancel) struct timer *idle; int fd; }; */
#define TSMAP_CLEANUP(fn) TSMAP_ANNOTATE("tsmap::cleanup(" #fn ")")

/* ---- Escape hatches ----------------------------------------------------------------- */

/* TSMAP_NO_EDITOR_ANALYSIS: on a function definition. Turns off the editor's Thread
 * Safety Analysis inside it (for example a test that calls a callback directly). The
 * clang-tidy checks are silenced with // NOLINT(tsmap-...) instead. */
#if TSMAP_HAS_ATTRIBUTE(no_thread_safety_analysis)
#define TSMAP_NO_EDITOR_ANALYSIS __attribute__((no_thread_safety_analysis))
#else
#define TSMAP_NO_EDITOR_ANALYSIS
#endif

#endif /* TSMAP_ANNOTATIONS_H */
