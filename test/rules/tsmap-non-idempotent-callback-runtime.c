// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback %t
//
// The runtime's own API: <tsmap/tsmap.h> states TSMAP_CALLBACK and TSMAP_OUT
// in its declarations, so its users are checked with no configuration.

#include <stdatomic.h>
#include <string.h>
#include <tsmap/tsmap.h>
#include <unistd.h>

struct session { int id; int hits; };
struct app { atomic_long loads; int log_fd; struct session last; };

static int load_session(const void *key, size_t key_len, void *ctx, void *value_out) {
  struct app *app = ctx;
  atomic_fetch_add(&app->loads, 1);
  memset(value_out, 0, sizeof(struct session));
  return 0;
}

static tsmap_verdict bump_hits(const void *key, size_t key_len,
                               const void *old_value, void *ctx, void *new_value) {
  struct session s;
  memcpy(&s, old_value, sizeof s);
  s.hits++;
  memcpy(new_value, &s, sizeof s);
  return TSMAP_STORE;
}

static tsmap_verdict log_and_store(const void *key, size_t key_len,
                                   const void *old_value, void *ctx, void *new_value) {
  struct app *app = ctx;
  write(app->log_fd, key, key_len);
  return TSMAP_KEEP;
}

// The output is `new_value`, marked TSMAP_OUT in tsmap_compute_fn: not a
// side effect, whatever it is called.
static tsmap_verdict count_in_output(const void *key, size_t key_len,
                                     const void *old_value, void *ctx, void *new_value) {
  struct session *s = new_value;
  if (old_value)
    memcpy(s, old_value, sizeof *s);
  s->hits += 1;
  return TSMAP_STORE;
}

static int fill_default(const void *key, size_t key_len, void *ctx, void *value_out) {
  struct app *app = ctx;
  app->last.id = 0; // an idempotent store into the context
  memcpy(value_out, &app->last, sizeof app->last);
  return 0;
}

static int count_visit(const void *key, size_t key_len, const void *value, void *ctx) {
  ++*(int *)ctx; // tsmap_foreach's visitor is not TSMAP_CALLBACK: runs once per entry
  return 0;
}

void use(tsmap *m, struct app *app) {
  struct session out;
  int n = 0;
  tsmap_compute_if_absent(m, "k", 1, load_session, app, &out);
  // CHECK-MESSAGES: :[[@LINE-1]]:38: warning: callback 'load_session' passed to 'tsmap_compute_if_absent' is not idempotent: it may run more than once, and each run increments 'app->loads' [tsmap-non-idempotent-callback]
  tsmap_compute(m, "k", 1, log_and_store, app, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:28: warning: callback 'log_and_store' passed to 'tsmap_compute' is not idempotent: it may run more than once, and each run calls 'write', which sends data [tsmap-non-idempotent-callback]
  tsmap_compute_if_present(m, "k", 1, bump_hits, app, NULL);
  tsmap_compute(m, "k", 1, count_in_output, app, NULL);
  tsmap_compute_if_absent(m, "k", 1, fill_default, app, &out);
  tsmap_foreach(m, count_visit, &n);
}
