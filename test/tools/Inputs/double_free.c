/* One clang-analyzer-unix.Malloc finding, with notes walking the path to it. */
#include <stdlib.h>

void release_twice(void) {
  char *q = malloc(4);
  free(q);
  free(q);
}
