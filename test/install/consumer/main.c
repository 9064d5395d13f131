/* The consumer: links the installed libtsmap and uses it (or, before the runtime is
 * installed, compiles against the annotation header alone). Prints "consumer: ok". */
#include <stdio.h>
#include <string.h>
#include <tsmap/annotations.h>

#if defined(CONSUMER_HAVE_RUNTIME)
#include <tsmap/tsmap.h>

static int use_runtime(void) {
  tsmap_config cfg;
  tsmap *map = NULL;
  int value = 42, got = 0;
  if (tsmap_config_init(&cfg, sizeof value) != TSMAP_OK || tsmap_create(&cfg, &map) != TSMAP_OK)
    return 1;
  if (tsmap_put(map, "answer", strlen("answer"), &value, NULL) != TSMAP_OK)
    return 1;
  if (tsmap_get(map, "answer", strlen("answer"), &got) != TSMAP_OK || got != 42)
    return 1;
  printf("consumer: runtime get -> %d (%s)\n", got, tsmap_status_name(TSMAP_OK));
  return tsmap_destroy(map) == TSMAP_OK ? 0 : 1;
}
#else
static int use_runtime(void) { return 0; }
#endif

typedef struct TSMAP_THREAD_SAFE_MAP consumer_map consumer_map;

int main(void) {
  if (use_runtime() != 0) {
    printf("consumer: FAILED\n");
    return 1;
  }
  printf("consumer: ok\n");
  return 0;
}
