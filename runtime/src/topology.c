/*
 * topology.c - NUMA nodes and their CPUs from sysfs (G14; T1, T2 in topology.h).
 *
 * Two files make the topology: `<root>/online` (the node ids) and, for each of them,
 * `<root>/node<id>/cpulist`. Both are lists in the kernel's format: comma-separated ids
 * or ranges "lo-hi", a newline at the end. The parser accepts exactly that (the stride
 * form "0-7:2" that the kernel takes as input is never what sysfs prints) and reports
 * the first byte it cannot read, so a broken tree is a sentence, never a guess.
 */
#include "topology.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define TSMAP_TOPO_FILE_MAX 4096 /* bytes of one file, as sysfs gives at most a page */
#define TSMAP_TOPO_PATH_MAX 1024

/* Write a sentence to why[why_len] (printf-style) and return -1. */
static int tsmap_topo_fail(char *why, size_t why_len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (why_len)
    vsnprintf(why, why_len, fmt, ap);
  va_end(ap);
  return -1;
}

/* Read the whole file `path` into buf (NUL-terminated). Returns 0, or -1 with why. */
static int tsmap_topo_slurp(const char *path, char *buf, size_t cap, char *why,
                            size_t why_len) {
  /* non-blocking, and only a regular file (sysfs's are): a FIFO in a test's tree would
   * block tsmap_create for ever */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return tsmap_topo_fail(why, why_len, "cannot open %s: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return tsmap_topo_fail(why, why_len, "%s: not a regular file", path);
  }
  size_t n = 0;
  for (;;) {
    ssize_t r = read(fd, buf + n, cap - 1 - n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      int e = errno;
      close(fd);
      return tsmap_topo_fail(why, why_len, "cannot read %s: %s", path, strerror(e));
    }
    n += (size_t)r;
    if (r == 0 || n == cap - 1)
      break;
  }
  close(fd);
  if (n == cap - 1)
    return tsmap_topo_fail(why, why_len, "%s: longer than %zu bytes", path, cap - 2);
  /* the parser stops at a NUL: "1\0garbage" would read as "1" (T1: no guess) */
  const char *nul = memchr(buf, '\0', n);
  if (nul)
    return tsmap_topo_fail(why, why_len, "%s: a NUL byte at byte %zu", path,
                           (size_t)(nul - buf));
  buf[n] = '\0';
  return 0;
}

/* Parse a decimal id below `limit` at s[*at]; advances *at. Returns 0, or -1. */
static int tsmap_topo_number(const char *s, size_t *at, unsigned limit, unsigned *out) {
  unsigned long v = 0;
  size_t i = *at;
  if (s[i] < '0' || s[i] > '9')
    return -1;
  for (; s[i] >= '0' && s[i] <= '9'; i++) {
    v = v * 10 + (unsigned long)(s[i] - '0');
    if (v >= limit)
      return -1;
  }
  *at = i;
  *out = (unsigned)v;
  return 0;
}

/* The next range "lo" or "lo-hi" of the list `s` read from `path` (ids below `limit`),
 * from s[*at] on: 1 with *lo and *hi, 0 at the list's end (an empty list, a node without
 * CPUs, is fine), or -1 with why naming the byte that is wrong. Ranges are read one at a
 * time, so a list may have as many as fit in a file. */
static int tsmap_topo_next(const char *path, const char *s, size_t *at, unsigned limit,
                           unsigned *lo, unsigned *hi, char *why, size_t why_len) {
  if (s[*at] == '\0' || s[*at] == '\n') {
    if (s[*at] == '\n' && s[*at + 1] != '\0')
      return tsmap_topo_fail(why, why_len, "%s: text after the list at byte %zu", path,
                             *at + 1);
    return 0;
  }
  if (tsmap_topo_number(s, at, limit, lo) != 0)
    goto bad;
  *hi = *lo;
  if (s[*at] == '-') {
    ++*at;
    if (tsmap_topo_number(s, at, limit, hi) != 0 || *hi < *lo)
      goto bad;
  }
  if (s[*at] == ',' && s[*at + 1] != '\0' && s[*at + 1] != '\n')
    ++*at;
  else if (s[*at] != '\0' && s[*at] != '\n')
    goto bad;
  return 1;
bad:
  return tsmap_topo_fail(why, why_len, "%s: not a list of ids below %u at byte %zu (\"%.16s\")",
                         path, limit, *at, s + *at);
}

/* Add node `id`'s CPUs (its cpulist under `root`) to *t. */
static int tsmap_topo_node(const char *root, unsigned id, int cpu, tsmap_topology *t,
                           char *why, size_t why_len) {
  char path[TSMAP_TOPO_PATH_MAX], buf[TSMAP_TOPO_FILE_MAX];
  if ((size_t)snprintf(path, sizeof path, "%s/node%u/cpulist", root, id) >= sizeof path)
    return tsmap_topo_fail(why, why_len, "%s: path too long", root);
  if (tsmap_topo_slurp(path, buf, sizeof buf, why, why_len) != 0)
    return -1;
  t->node[t->nnodes] = (uint16_t)id;
  t->has_cpu[t->nnodes] = 0;
  size_t at = 0;
  unsigned lo, hi;
  int r;
  while ((r = tsmap_topo_next(path, buf, &at, TSMAP_TOPO_MAX_CPUS, &lo, &hi, why, why_len)) > 0) {
    t->has_cpu[t->nnodes] = 1;
    if (cpu < 0 || (unsigned)cpu < lo || (unsigned)cpu > hi)
      continue;
    if (t->cpu_node >= 0)
      return tsmap_topo_fail(why, why_len, "%s: CPU %d is also in node %d's cpulist", path,
                             cpu, t->cpu_node);
    t->cpu_node = (int)id;
  }
  if (r < 0)
    return -1;
  t->nnodes++;
  return 0;
}

int tsmap_topology_read(const char *root, int cpu, tsmap_topology *t, char *why,
                        size_t why_len) {
  char path[TSMAP_TOPO_PATH_MAX], buf[TSMAP_TOPO_FILE_MAX];
  if (!root)
    root = TSMAP_TOPO_DEFAULT_ROOT;
  t->nnodes = 0;
  t->cpu_node = -1;
  if ((size_t)snprintf(path, sizeof path, "%s/online", root) >= sizeof path)
    return tsmap_topo_fail(why, why_len, "%s: path too long", root);
  if (tsmap_topo_slurp(path, buf, sizeof buf, why, why_len) != 0)
    return -1;
  size_t at = 0;
  unsigned lo, hi, next = 0;
  int r;
  while ((r = tsmap_topo_next(path, buf, &at, TSMAP_TOPO_MAX_NODES, &lo, &hi, why, why_len)) > 0) {
    if (lo < next)
      return tsmap_topo_fail(why, why_len, "%s: node ids not increasing at %u", path, lo);
    next = hi + 1;
    for (unsigned id = lo; id <= hi; id++)
      if (tsmap_topo_node(root, id, cpu, t, why, why_len) != 0)
        return -1;
  }
  if (r < 0)
    return -1;
  if (t->nnodes == 0)
    return tsmap_topo_fail(why, why_len, "%s: no online node", path);
  return 0;
}
