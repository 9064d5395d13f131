/* A file that uses analyzer_switch.h: it compiles with the real compiler, and has one
 * tsmap finding. */
#include "analyzer_switch.h"
#include <tsmap/annotations.h>

typedef struct store store;
int store_compute(store *s, const char *key,
                  int (*fn)(void *ctx, int *out) TSMAP_CALLBACK, void *ctx);
void send_mail(const char *to) TSMAP_NON_IDEMPOTENT;

static int load_rule(void *ctx, int *out) {
  log_message("loading %s", "rule");
  send_mail("ops@example.com");
  *out = 1;
  return 0;
}

int use(store *s) { return store_compute(s, "k", load_rule, 0); }
