// RUN: %check_tsmap_tidy %s tsmap-weak-mutable-value %t -- -- -I%S/Inputs
//
// Misplaced TSMAP_PUBLISHES, TSMAP_IMMUTABLE and TSMAP_WEAK annotations are
// reported by this check (the contracts it would have used); the other
// kinds belong to the other checks and are not reported here.

#include <tsmap/annotations.h>

int count(TSMAP_PUBLISHES int n);
// CHECK-MESSAGES: :[[@LINE-1]]:11: warning: TSMAP_PUBLISHES goes on a pointer value parameter; on a parameter of type 'int' it means nothing [tsmap-weak-mutable-value]

struct holder {
  TSMAP_WEAK int id;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: TSMAP_WEAK goes on a pointer field, typedef or variable; on a field of type 'int' it means nothing [tsmap-weak-mutable-value]
  TSMAP_WEAK struct holder *next;
};

TSMAP_IMMUTABLE int version(void);
// CHECK-MESSAGES: :[[@LINE-1]]:1: warning: TSMAP_IMMUTABLE goes on a struct or typedef; on a function returning 'int' it means nothing [tsmap-weak-mutable-value]

struct TSMAP_IMMUTABLE settings { int port; };
void publish_ok(TSMAP_PUBLISHES void *value);

// Another check's kind: not reported here.
TSMAP_IDEMPOTENT int counter;
