// RUN: %clang_tidy_plugin --checks='-*,tsmap-*' %s -- -isystem %S/Inputs/system \
// RUN:   -I %S/../../annotations/include 2>&1 \
// RUN:   | FileCheck %s --check-prefix=DEFAULT --allow-empty
// RUN: %clang_tidy_plugin --checks='-*,tsmap-*' --system-headers --header-filter='.*' %s \
// RUN:   -- -isystem %S/Inputs/system -I %S/../../annotations/include 2>&1 \
// RUN:   | FileCheck %s --check-prefix=SYSTEM
//
// The checks' shared pass follows clang-tidy's SystemHeaders option: quiet on a
// system header by default (where clang-tidy 20 and later do not traverse it at
// all), and reporting there when asked to.

#include <gate-system-api.h>

int use(void) { return warm_in_header(); }

// DEFAULT-NOT: warning:
// SYSTEM: gate-system-api.h:13:60: warning: callback 'count_load' passed to 'cache_fill' is not idempotent: it may run more than once, and each run increments 'g_loads' [tsmap-non-idempotent-callback]
