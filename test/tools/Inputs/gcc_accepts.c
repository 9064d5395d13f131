/* C that gcc 12 compiles with warnings and clang makes errors of by default: an implicit
 * declaration, an int/pointer mix-up, a function pointer of another type. Its finding
 * must still be reported. */
#include <tsmap/annotations.h>

typedef struct store store;
int store_compute(store *s, const char *key,
                  int (*fn)(void *ctx, int *out) TSMAP_CALLBACK, void *ctx);
void send_mail(const char *to) TSMAP_NON_IDEMPOTENT;

static int load_rule(void *ctx, int *out) {
  send_mail("ops@example.com");
  *out = 1;
  return 0;
}

typedef void (*notify_fn)(int);
static void notify_long(long code) { (void)code; }

int use(store *s) {
  notify_fn n = notify_long;
  int handle = s;
  legacy_init(handle);
  (void)n;
  return store_compute(s, "k", load_rule, 0);
}
