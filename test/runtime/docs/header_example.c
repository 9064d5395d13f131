/* The example at the top of runtime/include/tsmap/tsmap.h, run: runtime_docs.py pastes
 * the comment's example where @DOC_BLOCK@ is, its `...` filled in with the @ELLIPSES@
 * below in order, and this checks what the header says of it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <tsmap/tsmap.h>
#include "doc_check.h"

struct session { int n; };

static struct session *session_new(int n) {
  struct session *s = malloc(sizeof *s);
  if (!s) abort();
  s->n = n;
  return s;
}

static int evictions[TSMAP_EVICT_DISCARDED + 1];
static uintptr_t last_evicted;

/* The hook the example names: it "frees what the map lets go of". */
static void session_evict(const void *key, size_t key_len, void *value,
                          tsmap_evict_reason reason, void *hook_ctx) {
  (void)key; (void)key_len; (void)hook_ctx;
  struct session *s = *(struct session **)value;
  last_evicted = (uintptr_t)s;
  evictions[reason]++;
  free(s);
}

static int run(void) {
  const char *id = "user-42";
  size_t id_len = strlen(id);
  /* @ELLIPSES: return 1; | session_new(1) @ */
  @DOC_BLOCK@
  struct session *got = NULL;
  CHECK(tsmap_get(sessions, id, id_len, &got) == TSMAP_OK && got == s,
        "tsmap_put_ptr stores `s` itself: a get returns that pointer");

  struct session *s2 = session_new(2);
  tsmap_status st = tsmap_put_ptr(sessions, id, id_len, s2, NULL);
  CHECK(st == TSMAP_REPLACED && evictions[TSMAP_EVICT_REPLACED] == 1 &&
            last_evicted == (uintptr_t)s,
        "NULL: a replaced value goes to the hook (TSMAP_EVICT_REPLACED, the old pointer)");

  /* "tsmap_put(sessions, id, id_len, &s, NULL) stores the same bytes, as a copy of s" */
  struct session *s3 = session_new(3);
  st = tsmap_put(sessions, id, id_len, &s3, NULL);
  got = NULL;
  CHECK(st == TSMAP_REPLACED && tsmap_get(sessions, id, id_len, &got) == TSMAP_OK &&
            got == s3 && last_evicted == (uintptr_t)s2,
        "tsmap_put(sessions, id, id_len, &s, NULL) stores the same bytes, as a copy of s");

  CHECK(tsmap_close(sessions) == TSMAP_OK && evictions[TSMAP_EVICT_CLOSED] == 1 &&
            last_evicted == (uintptr_t)s3,
        "tsmap_close hands the value still in the map to the hook (TSMAP_EVICT_CLOSED)");
  tsmap_destroy(sessions);
  return 0;
}

int main(void) {
  if (run() != 0) {
    printf("FAILED: the example's tsmap_create did not return TSMAP_OK\n");
    return 1;
  }
  return doc_failures();
}
