/* A value with two resources (a timer and a descriptor) and a value-level
 * cleanup, for the tsmap-remove-without-cleanup path tests. */
#ifndef REMOVAL_CONN_H
#define REMOVAL_CONN_H
#include "removal-session.h"

int close(int fd);

struct TSMAP_CLEANUP(conn_close) conn {
  TSMAP_CLEANUP(timer_cancel) struct timer *idle;
  TSMAP_CLEANUP(close) int fd;
};
void conn_close(struct conn *c); /* body not visible: trusted */

/* A value held by value in the map (tsmap copies bytes). */
struct slot {
  TSMAP_CLEANUP(timer_cancel) struct timer *t;
};

#endif
