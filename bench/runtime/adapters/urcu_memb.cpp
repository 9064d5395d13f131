// liburcu cds_lfht, memb flavour (sys_membarrier): no quiescent-state reports needed.
#define _LGPL_SOURCE
#define URCU_API_MAP // the short rcu_* names
#include <urcu/urcu-memb.h>

#define URCU_ADAPTER UrcuMemb
#define URCU_NAME "urcu_memb"
#define URCU_DESC "liburcu cds_lfht, memb flavour (auto-resize, in-place value store)"
#define URCU_QSBR 0
#include "urcu_lfht.inc"

TSMAP_BENCH_REGISTER(UrcuMemb);
