/* docs/observability.md's two C blocks, run: runtime_docs.py pastes the first (a named,
 * metered config) at the first @DOC_BLOCK@ and the second (the exposition into a buffer
 * and through a writer) at the second, and this checks what the doc says of them. */
#include <stdlib.h>
#include <string.h>
#include <tsmap/tsmap.h>
#include "doc_check.h"

struct session { int n; };

/* The doc's `my_writer` and `my_ctx`: collects the pieces. */
struct pieces { char *text; size_t len, longest; int calls, stop_after; };

static int my_writer(const char *text, size_t len, void *ctx) {
  struct pieces *p = ctx;
  char *grown = realloc(p->text, p->len + len + 1);
  if (!grown) return 1;
  memcpy(grown + p->len, text, len);
  p->text = grown;
  p->len += len;
  p->text[p->len] = '\0';
  if (len > p->longest) p->longest = len;
  p->calls++;
  return p->stop_after && p->calls >= p->stop_after;
}

/* The exposition of `map` (NULL: every named map), formatted as the doc says: ask, then
 * grow to *len + 1. */
static char *exposition(tsmap *map) {
  size_t len = 0;
  if (tsmap_metrics_format(map, NULL, 0, &len) != TSMAP_OK) return NULL;
  char *text = malloc(len + 1);
  size_t again = 0;
  if (!text || tsmap_metrics_format(map, text, len + 1, &again) != TSMAP_OK || again != len) {
    free(text);
    return NULL;
  }
  return text;
}

/* The distinct metric names of an exposition's series, space-separated. */
static void families(const char *text, char *out, size_t cap) {
  out[0] = '\0';
  for (const char *line = text; line && *line; line = strchr(line, '\n'), line += !!line) {
    if (*line == '#' || *line == '\n') continue;
    size_t n = strcspn(line, "{ ");
    char name[96];
    if (n >= sizeof name) continue;
    memcpy(name, line, n);
    name[n] = '\0';
    char probe[100];
    snprintf(probe, sizeof probe, " %s ", name);
    char padded[4096];
    snprintf(padded, sizeof padded, " %s", out);
    if (!strstr(padded, probe) && strlen(out) + n + 2 < cap) {
      strcat(out, name);
      strcat(out, " ");
    }
  }
}

int main(void) {
  tsmap *sessions = NULL;
  char buf[4096];
  size_t cap = sizeof buf, len = 0;
  struct pieces collected = {0};
  void *my_ctx = &collected;

  @DOC_BLOCK@
  CHECK(sessions != NULL, "the config block creates the map `sessions`");
  if (!sessions) return 1;

  tsmap *twin = NULL;
  CHECK(tsmap_create(&cfg, &twin) == TSMAP_EXISTS && !twin,
        "one map per name: else create fails (TSMAP_EXISTS)");
  cfg.name = "caf\xc3";
  CHECK(tsmap_create(&cfg, &twin) == TSMAP_INVALID_ARGUMENT,
        "the name must be UTF-8: else create fails (TSMAP_INVALID_ARGUMENT)");

  /* Some traffic: two inserts, an overwrite, a hit, a miss, a removal. */
  struct session a = {1}, b = {2};
  struct session *pa = &a, *pb = &b, *got = NULL;
  tsmap_put_ptr(sessions, "a", 1, pa, NULL);
  tsmap_put_ptr(sessions, "b", 1, pb, NULL);
  tsmap_put_ptr(sessions, "b", 1, pb, NULL);
  tsmap_get(sessions, "a", 1, &got);
  tsmap_get(sessions, "zz", 2, &got);
  tsmap_remove(sessions, "a", 1, NULL);

  @DOC_BLOCK@
  char *all = exposition(NULL);
  CHECK(all != NULL, "tsmap_metrics_format(NULL, ...) formats every named map");
  if (!all) return 1;
  CHECK(len == strlen(all),
        "tsmap_metrics_format sets *len to the whole text's length, also when it did not fit");
  CHECK(len < cap || (strlen(buf) == cap - 1 && strncmp(buf, all, cap - 1) == 0),
        "a text that does not fit leaves a NUL-terminated prefix in buf");
  tsmap_status st = tsmap_metrics_format(NULL, buf, cap, &len);
  CHECK(len >= cap ? st == TSMAP_NO_MEMORY : st == TSMAP_OK,
        "tsmap_metrics_format returns TSMAP_NO_MEMORY when the text does not fit (grow it "
        "to *len + 1)");
  /* A series of the map `sessions`: NAME{map="sessions"LABELS} (then a space). */
#define HAS(text, name, labels) (strstr(text, name "{map=\"sessions\"" labels "} ") != NULL)
#define HAS_VALUE(text, name, labels, value) \
  (strstr(text, name "{map=\"sessions\"" labels "} " value "\n") != NULL)
  CHECK(HAS_VALUE(all, "tsmap_operations_total", ",op=\"put\",status=\"ok\"", "2") &&
            HAS_VALUE(all, "tsmap_operations_total", ",op=\"put\",status=\"replaced\"", "1") &&
            HAS_VALUE(all, "tsmap_operations_total", ",op=\"get\",status=\"not_found\"", "1") &&
            HAS_VALUE(all, "tsmap_operations_total", ",op=\"remove\",status=\"ok\"", "1"),
        "tsmap_operations_total counts every call by `op` and returned `status` (put_ptr "
        "counts as put)");
  CHECK(HAS_VALUE(all, "tsmap_evictions_total", ",reason=\"replaced\"", "1") &&
            HAS_VALUE(all, "tsmap_evictions_total", ",reason=\"removed\"", "1"),
        "tsmap_evictions_total counts the values that left, by reason");
  CHECK(HAS_VALUE(all, "tsmap_entries", "", "1"), "tsmap_entries is the map's size");
  CHECK(HAS(all, "tsmap_operation_duration_seconds_bucket", ",op=\"get\",le=\"1e-07\"") &&
            HAS(all, "tsmap_operation_duration_seconds_bucket", ",op=\"get\",le=\"0.1\"") &&
            HAS_VALUE(all, "tsmap_operation_duration_seconds_count", ",op=\"get\"", "2"),
        "the duration histogram spans 100 ns to 100 ms and its count is exact");
  CHECK(HAS(all, "tsmap_entry_lifespan_seconds_bucket", ",reason=\"removed\",le=\"0.001\"") &&
            HAS(all, "tsmap_entry_lifespan_seconds_bucket", ",reason=\"removed\",le=\"604800\""),
        "the lifespan histogram spans 1 ms to 7 days");

  char *one = exposition(sessions);
  CHECK(one && collected.len == strlen(one) && strcmp(collected.text, one) == 0,
        "tsmap_metrics_write gives the callback the map's exposition, piece by piece");
  CHECK(collected.longest <= 4096, "a writer receives the text in pieces of up to 4 KiB");

  tsmap_config plain;
  tsmap_config_init(&plain, sizeof(struct session *));
  plain.name = "plain";
  tsmap *unmetered = NULL;
  tsmap_create(&plain, &unmetered);
  char *bare = exposition(unmetered), names[1024];
  families(bare ? bare : "", names, sizeof names);
  CHECK(strcmp(names, "tsmap_entries tsmap_shards tsmap_table_bytes tsmap_retired_bytes "
                      "tsmap_growth_in_progress tsmap_migrated_groups_total ") == 0,
        "maps without config.metrics (but with a name) export the gauges and "
        "tsmap_migrated_groups_total only");
  if (strcmp(names, "tsmap_entries tsmap_shards tsmap_table_bytes tsmap_retired_bytes "
                    "tsmap_growth_in_progress tsmap_migrated_groups_total ") != 0)
    printf("  (it exports: %s)\n", names);

  struct pieces stop = {.stop_after = 1};
  CHECK(tsmap_metrics_write(sessions, my_writer, &stop) == TSMAP_STOPPED && stop.calls == 1,
        "a writer that returns non-zero is not called again, and the call returns "
        "TSMAP_STOPPED");

  tsmap_close(sessions);
  struct pieces after = {0};
  CHECK(tsmap_metrics_write(sessions, my_writer, &after) == TSMAP_CLOSED,
        "a closed map is no longer exposed: tsmap_metrics_write returns TSMAP_CLOSED");
  char *left = exposition(NULL);
  CHECK(left && !strstr(left, "map=\"sessions\"") && strstr(left, "map=\"plain\""),
        "tsmap_metrics_write_all leaves a closed map out");
  cfg.name = "sessions";
  CHECK(tsmap_create(&cfg, &twin) == TSMAP_EXISTS,
        "while a map of that name is not yet destroyed (closed included), creating another "
        "returns TSMAP_EXISTS");
  tsmap_destroy(sessions);
  CHECK(tsmap_create(&cfg, &twin) == TSMAP_OK,
        "a map created later with the name of a destroyed one can be created");
  char *fresh = exposition(twin);
  CHECK(fresh && strstr(fresh, "tsmap_operations_total{") == NULL &&
            HAS_VALUE(fresh, "tsmap_evictions_total", ",reason=\"replaced\"", "0"),
        "... and starts its counters from 0");
  tsmap_close(twin);
  tsmap_destroy(twin);
  tsmap_close(unmetered);
  tsmap_destroy(unmetered);
  free(all); free(one); free(bare); free(left); free(fresh);
  free(collected.text); free(stop.text); free(after.text);
  return doc_failures();
}
