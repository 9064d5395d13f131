/*
 * test_numa.c - NUMA placement (G14; T1-T2 in topology.h, P1-P5 in placement.h).
 *
 * The policy's decisions are checked on fake sysfs trees (test/runtime/numa-trees/: a
 * 2-node and a 4-node machine, one with a node without CPUs, and broken trees); where the
 * tables landed is checked on this machine with get_mempolicy(MPOL_F_ADDR) (the binding
 * of each table's mapping) and move_pages (the node of its faulted-in pages).
 */
#include "tsmap_test.h"

#include "placement.h"

#include <errno.h>
#include <linux/mempolicy.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef TSMAP_NUMA_TREES
#error "TSMAP_NUMA_TREES: the directory of the fake sysfs trees"
#endif
#define TREE(name) TSMAP_NUMA_TREES "/" name

TSMAP_HIDDEN size_t tsmap_debug_place_tables(tsmap *m, size_t i, const void **out, size_t cap);
TSMAP_HIDDEN void tsmap_debug_paging(tsmap *m, size_t i, const void **cur, int *mapped,
                                     size_t *spares);

#ifdef TSMAP_STRESS_SMALL
#define NFILL 20000
#else
#define NFILL 200000
#endif

static tsmap *make_map(tsmap_placement_policy policy, const char *root, size_t shards,
                       tsmap_status want) {
  tsmap_config c;
  tsmap_config_init(&c, 8);
  c.key_size = 8;
  c.shard_count = shards;
  c.placement = policy;
  c.numa_root = root;
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&c, &m), want);
  return m;
}

static void fill(tsmap *m, uint64_t n) {
  for (uint64_t k = 0; k < n; k++)
    CHECK_ST(tsmap_put(m, &k, 8, &k, NULL), TSMAP_OK);
  for (uint64_t k = 0; k < n; k += 97) {
    uint64_t v = ~k;
    CHECK_ST(tsmap_get(m, &k, 8, &v), TSMAP_OK);
    CHECK(v == k);
  }
}

static tsmap_shard_placement placement_of(tsmap *m, size_t shard) {
  tsmap_shard_placement p;
  CHECK_ST(tsmap_placement(m, shard, &p), TSMAP_OK);
  return p;
}

/* Nodes of the real machine (1 when sysfs has no node directory). */
static size_t real_nodes(void) {
  size_t n = 0;
  return tsmap_numa_node_count(NULL, &n) == TSMAP_OK ? n : 1;
}

/* 0 when this process may bind memory, else the errno the kernel (or a container's
 * seccomp filter) refuses mbind with: the checks of where memory landed then skip, and
 * every placed shard must report that refusal instead. */
static int kernel_refusal(void) {
  static int probed = -1;
  if (probed >= 0)
    return probed;
  size_t len = 1u << 16;
  void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  unsigned long mask = 1;
  probed = p == MAP_FAILED ? ENOMEM
           : syscall(SYS_mbind, p, len, MPOL_PREFERRED, &mask, 65ul, 0u) == 0 ? 0
                                                                              : errno;
  if (p != MAP_FAILED)
    munmap(p, len);
  if (probed)
    fprintf(stderr, "  this process may not mbind (%s): where memory lands is not checked\n",
            strerror(probed));
  return probed;
}

/* ======================================================================================
 * Topology (T1, T2)
 * ====================================================================================== */

static void test_g14_topology_of_the_fake_trees(void) {
  size_t n = 0;
  CHECK_ST(tsmap_numa_node_count(TREE("two-node"), &n), TSMAP_OK);
  CHECK(n == 2);
  CHECK_ST(tsmap_numa_node_count(TREE("four-node"), &n), TSMAP_OK);
  CHECK(n == 4);
  CHECK_ST(tsmap_numa_node_count(TREE("sparse"), &n), TSMAP_OK);
  CHECK(n == 3);
  tsmap_topology t;
  char why[256] = "";
  CHECK(tsmap_topology_read(TREE("sparse"), 3, &t, why, sizeof why) == 0);
  CHECK(t.nnodes == 3 && t.node[0] == 0 && t.node[1] == 2 && t.node[2] == 3);
  CHECK(t.has_cpu[0] && t.has_cpu[1] && !t.has_cpu[2]); /* node 3: memory only */
  CHECK(t.cpu_node == 2);
  CHECK(tsmap_topology_read(TREE("four-node"), 21, &t, why, sizeof why) == 0);
  CHECK(t.cpu_node == 1);
  CHECK(tsmap_topology_read(TREE("four-node"), 32, &t, why, sizeof why) == 0);
  CHECK(t.cpu_node == -1);
  if (access("/sys/devices/system/node/online", R_OK) == 0) {
    CHECK_ST(tsmap_numa_node_count(NULL, &n), TSMAP_OK);
    CHECK(n >= 1);
    fprintf(stderr, "  this machine: %zu NUMA node(s)\n", n);
  }
}

/* What tsmap_topology_read says about the tree `root`: 0 or -1, and why. */
static int read_tree(const char *root, char *why, size_t len) {
  tsmap_topology t;
  why[0] = '\0';
  return tsmap_topology_read(root, 0, &t, why, len);
}

static void test_g14_broken_trees_are_a_status(void) {
  char why[320];
  CHECK(read_tree(TREE("bad-cpulist"), why, sizeof why) == -1);
  CHECK(strstr(why, "bad-cpulist/node1/cpulist") && strstr(why, "at byte 2"));
  CHECK(read_tree(TREE("missing-node"), why, sizeof why) == -1);
  CHECK(strstr(why, "cannot open") && strstr(why, "missing-node/node1/cpulist"));
  CHECK(read_tree(TREE("bad-online"), why, sizeof why) == -1);
  CHECK(strstr(why, "bad-online/online"));
  CHECK(read_tree(TREE("no-such-tree"), why, sizeof why) == -1);
  CHECK(strstr(why, "no-such-tree/online") && strstr(why, "No such file"));
  tsmap_topology t;
  CHECK(tsmap_topology_read(TREE("shared-cpu"), 3, &t, why, sizeof why) == -1);
  CHECK(strstr(why, "CPU 3 is also in node 0"));
  const char *bad[] = {TREE("bad-cpulist"), TREE("missing-node"), TREE("bad-online"),
                       TREE("no-such-tree")};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    size_t n = 99;
    CHECK_ST(tsmap_numa_node_count(bad[i], &n), TSMAP_INVALID_ARGUMENT);
    CHECK(n == 0);
    CHECK(make_map(TSMAP_PLACE_INTERLEAVE, bad[i], 4, TSMAP_INVALID_ARGUMENT) == NULL);
    CHECK(make_map(TSMAP_PLACE_LOCAL, bad[i], 4, TSMAP_INVALID_ARGUMENT) == NULL);
  }
  CHECK_ST(tsmap_numa_node_count(TREE("two-node"), NULL), TSMAP_INVALID_ARGUMENT);
  /* a file that is not a regular one (a FIFO nobody writes) is refused, not waited on */
  char root[64], path[128];
  strcpy(root, "/tmp/tsmap-numa-fifo-XXXXXX");
  CHECK(mkdtemp(root) != NULL);
  snprintf(path, sizeof path, "%s/online", root);
  CHECK(mkfifo(path, 0600) == 0);
  CHECK(read_tree(root, why, sizeof why) == -1);
  CHECK(strstr(why, "not a regular file") != NULL);
  CHECK(make_map(TSMAP_PLACE_INTERLEAVE, root, 4, TSMAP_INVALID_ARGUMENT) == NULL);
  unlink(path);
  rmdir(root);
}

/* Write `online` and node0's `cpulist` into a fresh tree under /tmp; returns its root. */
static const char *tmp_tree(char *root, const char *online, const char *cpulist) {
  char path[512];
  strcpy(root, "/tmp/tsmap-numa-XXXXXX");
  if (!mkdtemp(root))
    return NULL;
  snprintf(path, sizeof path, "%s/node0", root);
  mkdir(path, 0700);
  snprintf(path, sizeof path, "%s/online", root);
  FILE *f = fopen(path, "w");
  fputs(online, f);
  fclose(f);
  snprintf(path, sizeof path, "%s/node0/cpulist", root);
  f = fopen(path, "w");
  fputs(cpulist, f);
  fclose(f);
  return root;
}

static void rm_tree(const char *root) {
  char path[512];
  snprintf(path, sizeof path, "%s/node0/cpulist", root);
  unlink(path);
  snprintf(path, sizeof path, "%s/node0", root);
  rmdir(path);
  snprintf(path, sizeof path, "%s/online", root);
  unlink(path);
  rmdir(root);
}

/* The kernel's list format, and nothing else (T1). */
static void test_g14_list_format(void) {
  static const struct {
    const char *list;
    int ok;
  } cases[] = {
      {"0\n", 1},       {"0-3,8-11\n", 1}, {"\n", 1},         {"", 1},
      {"0-3", 1},       {"0-1048575\n", 1}, {"0-\n", 0},      {"-1\n", 0},
      {"3-1\n", 0},     {"0,,1\n", 0},     {"0 1\n", 0},      {"0-3\n4\n", 0},
      {"0-3,\n", 0},    {",0\n", 0},       {"0-7:2\n", 0},    {"1048576\n", 0},
      {"99999999999999999999\n", 0},       {"0x1\n", 0},      {"+1\n", 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char root[64];
    if (!tmp_tree(root, "0\n", cases[i].list)) {
      CHECK(!"mkdtemp");
      return;
    }
    size_t n = 0;
    tsmap_status st = tsmap_numa_node_count(root, &n);
    if ((st == TSMAP_OK) != cases[i].ok)
      fprintf(stderr, "  cpulist \"%s\": %s\n", cases[i].list, tsmap_status_name(st));
    CHECK((st == TSMAP_OK) == cases[i].ok);
    rm_tree(root);
  }
  { /* a list of many ranges, as a many-CPU machine that numbers CPUs alternately across
       its sockets writes (257 and more were refused when ranges were kept in an array) */
    char root[64], list[4096];
    size_t at = 0;
    for (unsigned c = 0; c < 800; c += 2)
      at += (size_t)snprintf(list + at, sizeof list - at, c ? ",%u" : "%u", c);
    snprintf(list + at, sizeof list - at, "\n");
    if (tmp_tree(root, "0\n", list)) {
      size_t n = 0;
      CHECK_ST(tsmap_numa_node_count(root, &n), TSMAP_OK);
      CHECK(n == 1);
      rm_tree(root);
    }
  }
  { /* local placement on a tree where no node lists this CPU: unplaced, with the reason */
    char root[64];
    if (tmp_tree(root, "0\n", "1000000-1000001\n")) {
      tsmap *m = make_map(TSMAP_PLACE_LOCAL, root, 2, TSMAP_OK);
      for (size_t i = 0; m && i < 2; i++) {
        tsmap_shard_placement p = placement_of(m, i);
        CHECK(p.node == -1 && !p.bound && p.node_count == 1);
        CHECK(strstr(p.reason, "is in no node's cpulist") != NULL);
      }
      tsmap_destroy(m);
      m = make_map(TSMAP_PLACE_INTERLEAVE, root, 2, TSMAP_OK); /* interleave does not care */
      CHECK(m && placement_of(m, 1).node == 0);
      tsmap_destroy(m);
      rm_tree(root);
    }
  }
  { /* a NUL inside a file (T1: parsed strictly): "1\0garbage" was read as "1" */
    static const struct {
      const char *bytes;
      size_t len;
    } nul[] = {{"1\0garbage\n", 11}, {"0\0", 2}, {"0\n\0", 3}, {"\0", 1}};
    for (size_t i = 0; i < sizeof nul / sizeof nul[0]; i++) {
      char root[64], path[512], why[320];
      for (int which = 0; which < 2; which++) { /* in cpulist, then in online */
        if (!tmp_tree(root, "0\n", "0\n")) {
          CHECK(!"mkdtemp");
          return;
        }
        snprintf(path, sizeof path, which ? "%s/online" : "%s/node0/cpulist", root);
        FILE *f = fopen(path, "w");
        fwrite(nul[i].bytes, 1, nul[i].len, f);
        fclose(f);
        size_t n = 99;
        CHECK_ST(tsmap_numa_node_count(root, &n), TSMAP_INVALID_ARGUMENT);
        CHECK(n == 0);
        CHECK(read_tree(root, why, sizeof why) == -1 && strstr(why, "NUL") != NULL);
        CHECK(make_map(TSMAP_PLACE_INTERLEAVE, root, 2, TSMAP_INVALID_ARGUMENT) == NULL);
        rm_tree(root);
      }
    }
  }
  static const char *bad_online[] = {"1024\n", "0-1024\n", "2,1\n", "0,0\n", "\n", "a\n"};
  for (size_t i = 0; i < sizeof bad_online / sizeof bad_online[0]; i++) {
    char root[64];
    if (!tmp_tree(root, bad_online[i], "0\n")) {
      CHECK(!"mkdtemp");
      return;
    }
    size_t n = 0;
    CHECK_ST(tsmap_numa_node_count(root, &n), TSMAP_INVALID_ARGUMENT);
    rm_tree(root);
  }
}

/* ======================================================================================
 * Policy decisions (P1)
 * ====================================================================================== */

/* The node tsmap_placement reports for each of `shards` shards of a map placed by
 * `policy` on the tree `root` equals want[i % nwant]. */
static void expect_nodes(tsmap_placement_policy policy, const char *root, size_t shards,
                         const int *want, size_t nwant, size_t nodes) {
  tsmap *m = make_map(policy, root, shards, TSMAP_OK);
  if (!m)
    return;
  fill(m, 1000);
  size_t real = real_nodes();
  for (size_t i = 0; i < shards; i++) {
    tsmap_shard_placement p = placement_of(m, i);
    CHECK(p.node == want[i % nwant]);
    CHECK(p.shard_count == shards && p.node_count == nodes);
    /* this machine has nodes 0..real-1: the kernel refuses to bind to the others */
    if (kernel_refusal()) {
      CHECK(p.bound == 0 && p.error == kernel_refusal() && p.reason[0]);
    } else if ((size_t)p.node < real) {
      CHECK(p.bound == 1 && p.error == 0 && p.reason[0] == '\0');
    } else {
      CHECK(p.bound == 0 && p.error == EINVAL && strstr(p.reason, "EINVAL"));
    }
  }
  tsmap_destroy(m);
}

static void test_g14_interleave_on_two_and_four_nodes(void) {
  static const int two[] = {0, 1}, four[] = {0, 1, 2, 3}, sparse[] = {0, 2};
  expect_nodes(TSMAP_PLACE_INTERLEAVE, TREE("two-node"), 8, two, 2, 2);
  expect_nodes(TSMAP_PLACE_INTERLEAVE, TREE("four-node"), 16, four, 4, 4);
  expect_nodes(TSMAP_PLACE_INTERLEAVE, TREE("four-node"), 2, four, 2, 4); /* fewer shards */
  expect_nodes(TSMAP_PLACE_INTERLEAVE, TREE("sparse"), 8, sparse, 2, 3);  /* node 3: no CPU */
  expect_nodes(TSMAP_PLACE_INTERLEAVE, TREE("four-node"), 1, four, 1, 4);
}

/* G14 (a): a tree where no node lists a CPU (k = 0: sysfs shows only memory nodes, or a
 * masked view). Interleave falls back to every online node, as documented; local has no
 * node for its CPU and leaves the map unplaced, with the reason. */
static void test_g14_interleave_without_cpu_nodes_uses_every_node(void) {
  static const int two[] = {0, 1};
  expect_nodes(TSMAP_PLACE_INTERLEAVE, TREE("no-cpus"), 4, two, 2, 2);
  tsmap *m = make_map(TSMAP_PLACE_LOCAL, TREE("no-cpus"), 2, TSMAP_OK);
  for (size_t i = 0; m && i < 2; i++) {
    tsmap_shard_placement p = placement_of(m, i);
    CHECK(p.node == -1 && !p.bound && p.node_count == 2);
    CHECK(strstr(p.reason, "is in no node's cpulist") != NULL);
  }
  tsmap_destroy(m);
}

/* Shards a reshard adds are placed as at create (interleaved: shard i on node i mod k),
 * and their placement can be read while the reshard fills them, before the routing
 * counts them. */
static void test_g14_placement_of_shards_a_reshard_adds(void) {
  tsmap_config c;
  tsmap_config_init(&c, 8);
  c.key_size = 8;
  c.shard_count = 2;
  c.max_shard_count = 16;
  c.placement = TSMAP_PLACE_INTERLEAVE;
  c.numa_root = TREE("two-node");
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&c, &m), TSMAP_OK);
  fill(m, 1000);
  CHECK_ST(tsmap_reshard(m, 4), TSMAP_OK); /* a phase now runs: nobody writes */
  tsmap_shard_placement p;
  CHECK_ST(tsmap_placement(m, 3, &p), TSMAP_OK);
  CHECK(p.node == 1 && p.shard_count == 2);
  CHECK_ST(tsmap_placement(m, 4, &p), TSMAP_INVALID_ARGUMENT);
  tsmap_test_finish_reshard(m);
  CHECK_ST(tsmap_reshard(m, 16), TSMAP_OK);
  tsmap_test_finish_reshard(m);
  for (size_t i = 0; i < 16; i++)
    CHECK(placement_of(m, i).node == (int)(i % 2));
  CHECK_ST(tsmap_placement(m, 16, &p), TSMAP_INVALID_ARGUMENT);
  tsmap_destroy(m);
}

static void test_g14_local_with_a_given_cpu(void) {
  tsmap_topology t;
  char why[256];
  int nodes[8];
  static const struct {
    const char *root;
    int cpu, node;
  } cases[] = {{TREE("two-node"), 0, 0},   {TREE("two-node"), 9, 1},
               {TREE("two-node"), 31, 1},  {TREE("four-node"), 5, 1},
               {TREE("four-node"), 27, 2}, {TREE("four-node"), 28, 3},
               {TREE("sparse"), 2, 2},     {TREE("two-node"), 32, -1},
               {TREE("sparse"), 7, -1}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    CHECK(tsmap_topology_read(cases[i].root, cases[i].cpu, &t, why, sizeof why) == 0);
    why[0] = '\0';
    int rc = tsmap_place_decide(TSMAP_PLACE_LOCAL, &t, cases[i].cpu, 8, nodes, why, sizeof why);
    CHECK(rc == (cases[i].node < 0 ? -1 : 0));
    for (size_t s = 0; rc == 0 && s < 8; s++)
      CHECK(nodes[s] == cases[i].node);
    if (rc != 0)
      CHECK(strstr(why, "is in no node's cpulist") != NULL);
  }
  /* interleave decided directly too: the same rule as through tsmap_create */
  CHECK(tsmap_topology_read(TREE("four-node"), -1, &t, why, sizeof why) == 0);
  CHECK(tsmap_place_decide(TSMAP_PLACE_INTERLEAVE, &t, -1, 8, nodes, why, sizeof why) == 0);
  for (int s = 0; s < 8; s++)
    CHECK(nodes[s] == s % 4);
}

/* Local through tsmap_create: pinned to a CPU, every shard gets that CPU's node. */
static void test_g14_local_follows_the_creating_cpu(void) {
  cpu_set_t saved, one;
  if (sched_getaffinity(0, sizeof saved, &saved) != 0) {
    fprintf(stderr, "  skipped: sched_getaffinity: %s\n", strerror(errno));
    return;
  }
  for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
    if (!CPU_ISSET(cpu, &saved))
      continue;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    CHECK(sched_setaffinity(0, sizeof one, &one) == 0);
    tsmap_topology t;
    char why[256];
    CHECK(tsmap_topology_read(TREE("two-node"), cpu, &t, why, sizeof why) == 0);
    tsmap *m = make_map(TSMAP_PLACE_LOCAL, TREE("two-node"), 4, TSMAP_OK);
    for (size_t i = 0; m && i < 4; i++) {
      tsmap_shard_placement p = placement_of(m, i);
      CHECK(p.node == t.cpu_node); /* CPUs 0-7 and 16-23: node 0; 8-15, 24-31: node 1 */
      if (t.cpu_node < 0)
        CHECK(p.bound == 0 && strstr(p.reason, "no node's cpulist"));
    }
    tsmap_destroy(m);
    if (access("/sys/devices/system/node/online", R_OK) == 0) { /* the real machine */
      CHECK(tsmap_topology_read(NULL, cpu, &t, why, sizeof why) == 0);
      m = make_map(TSMAP_PLACE_LOCAL, NULL, 4, TSMAP_OK);
      for (size_t i = 0; m && i < 4; i++) {
        tsmap_shard_placement p = placement_of(m, i);
        CHECK(p.node == t.cpu_node && t.cpu_node >= 0);
        CHECK(p.bound == !kernel_refusal() && p.error == kernel_refusal());
      }
      tsmap_destroy(m);
    }
  }
  CHECK(sched_setaffinity(0, sizeof saved, &saved) == 0);
}

/* ======================================================================================
 * Where the tables landed (P2, P3), on this machine
 * ====================================================================================== */

/* The policy of the mapping holding `addr`: its mode, and whether its node mask is just
 * `node`. -1 if get_mempolicy fails. */
static int policy_at(const void *addr, int node, int *only_node) {
  unsigned long mask[TSMAP_TOPO_MAX_NODES / (8 * sizeof(unsigned long))] = {0};
  int mode = -1;
  if (syscall(SYS_get_mempolicy, &mode, mask, TSMAP_TOPO_MAX_NODES + 1, addr, MPOL_F_ADDR) != 0)
    return -1;
  int only = 1;
  for (size_t w = 0; w < sizeof mask / sizeof mask[0]; w++) {
    unsigned long want = (size_t)node / (8 * sizeof(unsigned long)) == w
                             ? 1ul << ((unsigned)node % (8 * sizeof(unsigned long)))
                             : 0;
    only &= mask[w] == want;
  }
  *only_node = only;
  return mode;
}

/* The node the page at `addr` is on (move_pages with no target: a query), or -errno. */
static int page_node(const void *addr) {
  void *pages[1] = {(void *)(uintptr_t)addr};
  int status[1] = {-1};
  if (syscall(SYS_move_pages, 0, 1ul, pages, NULL, status, 0) != 0)
    return -errno;
  return status[0];
}

static void test_g14_tables_land_on_their_node(void) {
  if (access("/sys/devices/system/node/online", R_OK) != 0) {
    fprintf(stderr, "  skipped: no /sys/devices/system/node on this machine\n");
    return;
  }
  if (kernel_refusal()) {
    fprintf(stderr, "  skipped: mbind refused here (%s)\n", strerror(kernel_refusal()));
    return;
  }
  tsmap *m = make_map(TSMAP_PLACE_INTERLEAVE, NULL, 4, TSMAP_OK);
  if (!m)
    return;
  for (size_t i = 0; i < 4; i++) { /* P3: even the first, minimal table is mapped */
    const void *cur;
    int mapped;
    size_t spares;
    tsmap_debug_paging(m, i, &cur, &mapped, &spares);
    CHECK(mapped);
  }
  size_t tables = 0, pages = 0;
  for (uint64_t round = 0; round < 4; round++) { /* growths: new, next and spare tables */
    for (uint64_t k = round * NFILL; k < (round + 1) * NFILL; k++)
      CHECK_ST(tsmap_put(m, &k, 8, &k, NULL), TSMAP_OK);
    for (size_t i = 0; i < 4; i++) {
      tsmap_shard_placement p = placement_of(m, i);
      CHECK(p.bound == 1 && p.node >= 0);
      const void *t[8];
      size_t n = tsmap_debug_place_tables(m, i, t, 8);
      for (size_t k = 0; k < n; k++) {
        int only = 0, mode = policy_at(t[k], p.node, &only);
        CHECK(mode == MPOL_PREFERRED && only);
        tables++;
        /* a table's first page; a spare's pages are given back and a prepared table's
         * not yet faulted in: not present (-ENOENT), so nothing to place */
        int at = page_node(t[k]);
        if (at == -ENOSYS || at == -EPERM || at == -ENOENT)
          continue;
        CHECK(at == p.node);
        pages++;
      }
    }
  }
  fprintf(stderr, "  %zu tables bound (get_mempolicy), %zu pages on their node (move_pages)\n",
          tables, pages);
  CHECK(tables >= 16);
  CHECK(pages >= 4 || page_node(&tables) == -ENOSYS || page_node(&tables) == -EPERM);
  tsmap_destroy(m);

  /* P5: policy none binds nothing, and small tables still come from the heap */
  m = make_map(TSMAP_PLACE_NONE, NULL, 4, TSMAP_OK);
  if (!m)
    return;
  const void *cur;
  int mapped, only;
  size_t spares;
  tsmap_debug_paging(m, 0, &cur, &mapped, &spares);
  CHECK(!mapped);
  fill(m, NFILL);
  tsmap_debug_paging(m, 0, &cur, &mapped, &spares);
  CHECK(mapped && policy_at(cur, 0, &only) == MPOL_DEFAULT); /* (binding allowed here) */
  tsmap_destroy(m);
}

/* ======================================================================================
 * Refusals and bad input (P4, G1)
 * ====================================================================================== */

static void expect_refused(int err, const char *words) {
  atomic_store(&tsmap_place_fail_errno, err);
  tsmap *m = make_map(TSMAP_PLACE_INTERLEAVE, TREE("two-node"), 4, TSMAP_OK);
  if (m) {
    fill(m, NFILL / 4); /* the map works; growths do not ask again */
    for (size_t i = 0; i < 4; i++) {
      tsmap_shard_placement p = placement_of(m, i);
      CHECK(p.node == (int)(i % 2) && p.bound == 0 && p.error == err);
      CHECK(strstr(p.reason, words) != NULL);
      const void *cur;
      int mapped, only;
      size_t spares;
      tsmap_debug_paging(m, i, &cur, &mapped, &spares);
      CHECK(mapped && (kernel_refusal() || policy_at(cur, p.node, &only) == MPOL_DEFAULT));
    }
    /* the kernel would bind later tables now, but the shard is already not all bound */
    atomic_store(&tsmap_place_fail_errno, 0);
    for (uint64_t k = NFILL / 4; k < NFILL; k++)
      CHECK_ST(tsmap_put(m, &k, 8, &k, NULL), TSMAP_OK);
    for (size_t i = 0; i < 4; i++)
      CHECK(placement_of(m, i).bound == 0 && placement_of(m, i).error == err);
  }
  tsmap_destroy(m);
  atomic_store(&tsmap_place_fail_errno, 0);
}

static void test_g14_refusals_degrade_with_a_reason(void) {
  expect_refused(EPERM, "EPERM");
  expect_refused(ENOSYS, "ENOSYS");
  expect_refused(ENOMEM, "mbind failed");
  /* a user allocator: the nodes are decided and reported, the tables are not bound */
  _Atomic int off = 0;
  tsmap_allocator al = {tsmap_test_switch_alloc, tsmap_test_free, &off};
  tsmap_config c;
  tsmap_config_init(&c, 8);
  c.shard_count = 4;
  c.allocator = &al;
  c.placement = TSMAP_PLACE_INTERLEAVE;
  c.numa_root = TREE("four-node");
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&c, &m), TSMAP_OK);
  for (size_t i = 0; m && i < 4; i++) {
    tsmap_shard_placement p = placement_of(m, i);
    CHECK(p.node == (int)i && p.bound == 0 && p.error == 0 && strstr(p.reason, "allocator"));
  }
  tsmap_destroy(m);
}

static void test_g14_bad_input(void) {
  tsmap_config c;
  tsmap_config_init(&c, 8);
  tsmap *m = NULL;
  c.placement = (tsmap_placement_policy)3;
  CHECK_ST(tsmap_create(&c, &m), TSMAP_INVALID_ARGUMENT);
  c.placement = (tsmap_placement_policy)-1;
  CHECK_ST(tsmap_create(&c, &m), TSMAP_INVALID_ARGUMENT);
  CHECK(m == NULL);
  c.placement = TSMAP_PLACE_NONE;
  c.numa_root = TREE("bad-cpulist"); /* read only with a policy */
  CHECK_ST(tsmap_create(&c, &m), TSMAP_OK);
  tsmap_shard_placement p;
  CHECK_ST(tsmap_placement(NULL, 0, &p), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_placement(m, 0, NULL), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_placement(m, (size_t)-1, &p), TSMAP_INVALID_ARGUMENT);
  size_t shards = p.shard_count;
  CHECK(shards >= 1);
  CHECK_ST(tsmap_placement(m, shards, &p), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_placement(m, shards - 1, &p), TSMAP_OK);
  CHECK(p.node == -1 && p.bound == 0 && p.node_count == 0 && strstr(p.reason, "none"));
  tsmap_close(m);
  CHECK_ST(tsmap_placement(m, 0, &p), TSMAP_CLOSED);
  tsmap_destroy(m);
}

/* Two writers grow a placed map's shards, whose first tables were bound, while mbind is
 * refused, and a third thread reads every shard's placement: under TSan, the per-shard
 * record a growth writes under its shard lock and tsmap_placement reads with none must
 * not race (P4); every report is consistent, and each node-0 shard ends refused (its
 * first growth maps a new table: there is no spare mapping yet). */
typedef struct race_ctx {
  tsmap *m;
  uint64_t base;
  _Atomic int done;
} race_ctx;

static void *race_writer(void *arg) {
  race_ctx *c = (race_ctx *)arg;
  for (uint64_t k = c->base; k < c->base + NFILL / 2; k++)
    CHECK_ST(tsmap_put(c->m, &k, 8, &k, NULL), TSMAP_OK);
  return NULL;
}

static void *race_reader(void *arg) {
  race_ctx *c = (race_ctx *)arg;
  while (!atomic_load(&c->done))
    for (size_t i = 0; i < 8; i++) {
      tsmap_shard_placement p = placement_of(c->m, i);
      CHECK(p.node == (int)(i % 2));
      /* node 1 does not exist on a 1-node machine: refused at create (EINVAL) */
      CHECK(p.bound ? p.error == 0 && !p.reason[0]
                    : (p.error == EPERM || p.error == EINVAL || p.error == kernel_refusal()) &&
                          p.reason[0]);
    }
  return NULL;
}

static void test_g14_placement_read_while_shards_grow(void) {
  (void)kernel_refusal(); /* probed before the threads read it */
  race_ctx w0 = {make_map(TSMAP_PLACE_INTERLEAVE, TREE("two-node"), 8, TSMAP_OK), 0, 0};
  if (!w0.m)
    return;
  race_ctx w1 = {w0.m, 1u << 30, 0};
  for (size_t i = 0; i < 8; i += 2)
    CHECK(placement_of(w0.m, i).bound || kernel_refusal());
  atomic_store(&tsmap_place_fail_errno, EPERM);
  pthread_t t[3];
  pthread_create(&t[0], NULL, race_reader, &w0);
  pthread_create(&t[1], NULL, race_writer, &w0);
  pthread_create(&t[2], NULL, race_writer, &w1);
  pthread_join(t[1], NULL);
  pthread_join(t[2], NULL);
  atomic_store(&w0.done, 1);
  pthread_join(t[0], NULL);
  atomic_store(&tsmap_place_fail_errno, 0);
  for (size_t i = 0; i < 8; i += 2)
    CHECK(!placement_of(w0.m, i).bound &&
          placement_of(w0.m, i).error == (kernel_refusal() ? kernel_refusal() : EPERM));
  tsmap_destroy(w0.m);
}

/* An allocator that fails its n-th allocation and counts what is still allocated. */
typedef struct nth_alloc {
  long count, fail_at, live;
} nth_alloc;
static void *nth_alloc_fn(size_t size, void *ctx) {
  nth_alloc *a = (nth_alloc *)ctx;
  if (a->count++ == a->fail_at)
    return NULL;
  void *p = malloc(size);
  a->live += p != NULL;
  return p;
}
static void nth_free_fn(void *p, size_t size, void *ctx) {
  (void)size;
  ((nth_alloc *)ctx)->live--;
  free(p);
}

/* Every allocation of a placed create failing in turn (G1): TSMAP_NO_MEMORY and nothing
 * left allocated, until the create makes fewer allocations than the one that fails. */
static void test_g14_create_without_memory(void) {
  int completed = 0;
  for (long fail_at = 0; fail_at < 64 && !completed; fail_at++) {
    for (int local = 0; local < 2; local++) {
      nth_alloc a = {0, fail_at, 0};
      tsmap_allocator al = {nth_alloc_fn, nth_free_fn, &a};
      tsmap_config c;
      tsmap_config_init(&c, 8);
      c.shard_count = 4;
      c.allocator = &al;
      c.placement = local ? TSMAP_PLACE_LOCAL : TSMAP_PLACE_INTERLEAVE;
      c.numa_root = TREE("two-node");
      tsmap *m = NULL;
      tsmap_status st = tsmap_create(&c, &m);
      CHECK(st == (a.count > fail_at ? TSMAP_NO_MEMORY : TSMAP_OK));
      CHECK(st == TSMAP_OK || m == NULL);
      completed |= st == TSMAP_OK;
      tsmap_destroy(m);
      CHECK(a.live == 0);
    }
  }
  CHECK(completed);
}

TEST_MAIN(T(test_g14_topology_of_the_fake_trees), T(test_g14_broken_trees_are_a_status),
          T(test_g14_list_format), T(test_g14_interleave_on_two_and_four_nodes),
          T(test_g14_interleave_without_cpu_nodes_uses_every_node),
          T(test_g14_local_with_a_given_cpu), T(test_g14_local_follows_the_creating_cpu),
          T(test_g14_tables_land_on_their_node), T(test_g14_refusals_degrade_with_a_reason),
          T(test_g14_placement_read_while_shards_grow), T(test_g14_bad_input),
          T(test_g14_create_without_memory), T(test_g14_placement_of_shards_a_reshard_adds))
