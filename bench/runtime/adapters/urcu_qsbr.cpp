// liburcu cds_lfht, QSBR flavour: reads cost nothing; each thread reports a quiescent
// state every 64 operations.
#define _LGPL_SOURCE
#define URCU_API_MAP // the short rcu_* names
#include <urcu/urcu-qsbr.h>

#define URCU_ADAPTER UrcuQsbr
#define URCU_NAME "urcu_qsbr"
#define URCU_DESC "liburcu cds_lfht, QSBR flavour (auto-resize, in-place value store)"
#define URCU_QSBR 1
#include "urcu_lfht.inc"

TSMAP_BENCH_REGISTER(UrcuQsbr);
