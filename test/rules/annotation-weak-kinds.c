// RUN: %check_tsmap_tidy %s tsmap-weak-mutable-value %t
// REQUIRES: tsmap-weak-mutable-value
//
// Misplaced TSMAP_PUBLISHES, TSMAP_IMMUTABLE and TSMAP_WEAK, reported at the
// annotation by the check that uses them.

#include <tsmap/annotations.h>

void put(TSMAP_PUBLISHES int value);
// CHECK-MESSAGES: :[[@LINE-1]]:10: warning: TSMAP_PUBLISHES goes on a pointer value parameter; on a parameter of type 'int' it means nothing [tsmap-weak-mutable-value]
TSMAP_WEAK int g_weak;
// CHECK-MESSAGES: :[[@LINE-1]]:1: warning: TSMAP_WEAK goes on a pointer field, typedef or variable; on a variable of type 'int' it means nothing
TSMAP_IMMUTABLE int g_frozen;
// CHECK-MESSAGES: :[[@LINE-1]]:1: warning: TSMAP_IMMUTABLE goes on a struct or typedef; on a variable of type 'int' it means nothing

// Quiet.
struct TSMAP_IMMUTABLE config { int n; };
struct holder { const struct config *cfg TSMAP_WEAK; };
void put_ok(TSMAP_PUBLISHES void *value);
