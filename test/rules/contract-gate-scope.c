// RUN: %clang_tidy_plugin --checks='-*,tsmap-*' --header-filter='.*scope-api.*' %s \
// RUN:   -- -I %S/Inputs/scope -I %S/../../annotations/include 2>&1 | FileCheck %s \
// RUN:   --implicit-check-not=warning:
//
// In C the shared pass traverses only the top-level declarations that can hold
// a call or an annotation (checker/GatedMatchPass.cpp, matchScope): the main
// file's, function and variable definitions, and annotated declarations
// (also through a parameter or a nested field). A project header's inline
// function, annotated prototype and annotated nested field keep their
// findings; its plain prototypes and types are skipped.

#include "scope-api.h"

void end_session(int id) { session_take(id); }

int use(void) { return warm_in_header(); }

// CHECK-DAG: scope-api.h:6:42: warning: unknown tsmap annotation 'tsmap::calback' is ignored; did you mean 'tsmap::callback' (TSMAP_CALLBACK)? [tsmap-non-idempotent-callback]
// CHECK-DAG: scope-api.h:19:60: warning: callback 'count_hit' passed to 'cache_fill' is not idempotent: it may run more than once, and each run increments 'g_hits' [tsmap-non-idempotent-callback]
// CHECK-DAG: contract-gate-scope.c:14:28: warning: result of 'session_take' is a removed value and is ignored; its field 'timers.idle' keeps a resource that 'timer_cancel' must release [tsmap-remove-without-cleanup]
