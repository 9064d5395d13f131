#!/usr/bin/env python3
"""Generates a C translation unit that stresses the tsmap-* checks.

Usage: gen_stress.py N > stress.c

N units, each with:
  - a call chain of DEPTH functions (f_i_0 calls f_i_1 ... calls f_i_{DEPTH-1}),
    whose last link closes a recursion cycle back to f_i_0 (one SCC per unit)
    and, every 4th unit, also calls into the next unit's chain at mid-depth
    (longer chains across units, no cycle between units);
  - effects at the bottom: a read-modify-write of a global counter, a write
    through the context pointer, a map operation on the unit's map;
  - two callbacks: one passed to a TSMAP_CALLBACK parameter (compute), one to a
    TSMAP_CALLBACK_LOCKED parameter (each), resolved through a name, `&fn`, a
    cast, a once-assigned local, a static const variable and `?:` arms in turn.
So N units hold 2N callbacks, N*(DEPTH+2) functions and N recursion cycles; the
checks' cost should grow linearly with N.
"""
import sys

DEPTH = 20

HEADER = """\
#include <stddef.h>
#define TSMAP_THREAD_SAFE_MAP __attribute__((annotate("tsmap::thread_safe_map")))
#define TSMAP_CALLBACK __attribute__((annotate("tsmap::callback")))
#define TSMAP_CALLBACK_LOCKED __attribute__((annotate("tsmap::callback_locked")))
typedef struct TSMAP_THREAD_SAFE_MAP smap smap;
typedef int (*fill_fn)(const char *key, void *ctx, void *out);
typedef int (*visit_fn)(const char *key, void *value, void *ctx);
int smap_compute(smap *m, const char *key, TSMAP_CALLBACK fill_fn fn, void *ctx, void *out);
int smap_each(smap *m, TSMAP_CALLBACK_LOCKED visit_fn fn, void *ctx);
int smap_put(smap *m, const char *key, void *value);
int smap_del(smap *m, const char *key);
struct ctx { long hits; long last; smap *map; };
"""


def unit(i, n):
    out = []
    out.append("static long g_count_%d;\nstatic smap *g_map_%d;\n" % (i, i))
    for k in range(DEPTH):
        body = ["static int f_%d_%d(struct ctx *c, int n) {" % (i, k)]
        if k + 1 < DEPTH:
            body.append("  if (n > %d)" % k)
            body.append("    return f_%d_%d(c, n - 1);" % (i, k + 1))
            if k == DEPTH // 2 and i % 4 == 0 and i + 1 < n:
                body.append("  if (n < 0)")
                body.append("    return f_%d_%d(c, n + 1);" % (i + 1, DEPTH // 2 + 1))
        else:
            body.append("  if (n > 1000)")
            body.append("    return f_%d_0(c, n - 1000);  /* closes the cycle */" % i)
            body.append("  g_count_%d++;" % i)
            body.append("  c->last = n;")
            body.append("  if (n == 7)")
            body.append("    smap_del(c->map, \"k\");")
            body.append("  if (n == 8)")
            body.append("    smap_put(g_map_%d, \"k\", c);" % i)
        body.append("  return n;")
        body.append("}")
        out.append("\n".join(body) + "\n")
    out.append(
        "static int fill_%d(const char *key, void *ctx, void *out) {\n"
        "  (void)key; (void)out;\n"
        "  return f_%d_0(ctx, %d);\n"
        "}\n" % (i, i, DEPTH))
    out.append(
        "static int visit_%d(const char *key, void *value, void *ctx) {\n"
        "  (void)key; (void)value;\n"
        "  return f_%d_0(ctx, %d);\n"
        "}\n" % (i, i, DEPTH))
    form = i % 6
    if form == 0:
        fill, visit, pre = "fill_%d" % i, "visit_%d" % i, ""
    elif form == 1:
        fill, visit, pre = "&fill_%d" % i, "&visit_%d" % i, ""
    elif form == 2:
        fill, visit, pre = "(fill_fn)fill_%d" % i, "(visit_fn)visit_%d" % i, ""
    elif form == 3:
        pre = "  fill_fn f = fill_%d;\n  visit_fn v = visit_%d;\n" % (i, i)
        fill, visit = "f", "v"
    elif form == 4:
        pre = ("  static const fill_fn f = fill_%d;\n"
               "  static const visit_fn v = visit_%d;\n" % (i, i))
        fill, visit = "f", "v"
    else:
        fill = "sel ? fill_%d : fill_%d" % (i, i)
        visit = "sel ? visit_%d : visit_%d" % (i, i)
        pre = ""
    out.append(
        "void use_%d(int sel, char *out) {\n"
        "  struct ctx c = {0, 0, g_map_%d};\n"
        "  (void)sel;\n%s"
        "  smap_compute(g_map_%d, \"k\", %s, &c, out);\n"
        "  smap_each(g_map_%d, %s, &c);\n"
        "}\n" % (i, i, pre, i, fill, i, visit))
    return "".join(out)


def main():
    n = int(sys.argv[1])
    sys.stdout.write(HEADER)
    for i in range(n):
        for k in range(DEPTH):
            sys.stdout.write("static int f_%d_%d(struct ctx *c, int n);\n" % (i, k))
    for i in range(n):
        sys.stdout.write(unit(i, n))


if __name__ == "__main__":
    main()
