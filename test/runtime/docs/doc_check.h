/* doc_check.h: what a doc example's harness checks, said in the doc's words. CHECK
 * prints each claim it checked (or why it failed) and counts failures; a harness returns
 * doc_failures() from main. */
#ifndef TSMAP_DOC_CHECK_H
#define TSMAP_DOC_CHECK_H
#include <stdio.h>

static int doc_failed;

#define CHECK(cond, claim)                                                            \
  do {                                                                                \
    if (cond) {                                                                       \
      printf("ok: %s\n", claim);                                                      \
    } else {                                                                          \
      printf("FAILED: %s\n  (%s:%d: %s)\n", claim, __FILE__, __LINE__, #cond);         \
      doc_failed++;                                                                   \
    }                                                                                 \
  } while (0)

static inline int doc_failures(void) { return doc_failed ? 1 : 0; }

#endif
