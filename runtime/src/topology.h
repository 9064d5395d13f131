/*
 * topology.h - the machine's NUMA nodes and their CPUs, read from sysfs (G14). The
 * internal interface placement.c calls.
 *
 * Linux describes the nodes under /sys/devices/system/node: `online` lists the online
 * node ids, and each node's `nodeN/cpulist` its CPUs, both in the kernel's list format
 * ("0-3,8-11", one line; a node with memory and no CPU has an empty list). The root
 * directory is a parameter, so tests describe a 2-node or a 4-node machine with a tree
 * of plain files (test/runtime/numa-trees/).
 *
 *   T1  A topology is read whole or not at all: a missing or unreadable file, a list that
 *       is not in the kernel's format (a bad character, a NUL byte anywhere in the file,
 *       a range whose end is below its start, a number above the limits below) or the
 *       CPU asked about listed by two
 *       nodes makes the read fail with a sentence naming the file and what is wrong;
 *       nothing is guessed.
 *   T2  Node ids are below TSMAP_TOPO_MAX_NODES (the node mask mbind takes) and CPU ids
 *       below TSMAP_TOPO_MAX_CPUS; the nodes are kept in increasing id order.
 */
#ifndef TSMAP_TOPOLOGY_H
#define TSMAP_TOPOLOGY_H

#include "tsmap_internal.h"

#define TSMAP_TOPO_DEFAULT_ROOT "/sys/devices/system/node"
#define TSMAP_TOPO_MAX_NODES 1024u   /* node ids 0..1023 (T2) */
#define TSMAP_TOPO_MAX_CPUS 1048576u /* CPU ids 0..2^20-1 (T2) */

typedef struct tsmap_topology {
  unsigned nnodes;                       /* online nodes */
  uint16_t node[TSMAP_TOPO_MAX_NODES];   /* their ids, increasing */
  unsigned char has_cpu[TSMAP_TOPO_MAX_NODES]; /* per entry of node[]: lists a CPU */
  int cpu_node; /* the node whose cpulist holds the CPU asked about; -1: none does */
} tsmap_topology;

/* Read the topology under `root` (NULL: TSMAP_TOPO_DEFAULT_ROOT) into *t, and find the
 * node of CPU `cpu` (-1: none asked). Returns 0, or -1 with a sentence in `why` (T1). */
TSMAP_HIDDEN int tsmap_topology_read(const char *root, int cpu, tsmap_topology *t,
                                     char *why, size_t why_len);

#endif /* TSMAP_TOPOLOGY_H */
