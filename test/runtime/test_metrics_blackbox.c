/*
 * test_metrics_blackbox.c - black-box round 12: the observability contract (tsmap.h's
 * metrics section, docs/observability.md, runtime/DESIGN.md "Metrics and probes",
 * docs/spec.md) as an independent tester reads it. Every exposition is read by a strict
 * parser of the Prometheus text format 0.0.4 written here (HELP and TYPE once per family
 * and before its samples, families not interleaved, label syntax and escapes, sample
 * values, histograms cumulative with le="+Inf" equal to _count and a _sum, no duplicate
 * series), and its content is checked against a model: operation counts by op and status
 * after known single- and multi-threaded workloads (threads that exited included),
 * evictions by reason against the hooks, gauges against tsmap_size and
 * tsmap_shard_counts, counters that never go down across scrapes (growth, reshards,
 * exiting threads), names with odd characters, the name registry, unmetered maps, the
 * buffer protocol of tsmap_metrics_format, failing and re-entering writers, NULL
 * arguments, and tsmap_metrics_write_all racing named maps' creation and destruction.
 */
#include "tsmap_test.h"

#include <math.h> /* INFINITY, NAN, isinf, isnan: macros, no libm */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#ifdef TSMAP_STRESS_SMALL
#define SCALE 8
#else
#define SCALE 1
#endif

/* ---- Collecting a writer's text --------------------------------------------------------- */

typedef struct text_buf {
  char *p;
  size_t len, cap;
  long pieces;
  size_t longest, empty; /* the longest piece, and pieces of 0 bytes */
} text_buf;

static int collect_writer(const char *text, size_t len, void *ctx) {
  text_buf *b = ctx;
  if (b->len + len + 1 > b->cap) {
    size_t cap = (b->len + len + 1) * 2;
    char *p = realloc(b->p, cap);
    if (!p)
      return 1;
    b->p = p, b->cap = cap;
  }
  memcpy(b->p + b->len, text, len);
  b->len += len;
  b->p[b->len] = '\0';
  b->pieces++;
  b->longest = len > b->longest ? len : b->longest;
  b->empty += len == 0;
  return 0;
}

static void text_free(text_buf *b) {
  free(b->p);
  memset(b, 0, sizeof *b);
}

/* ---- A strict parser of the text exposition format 0.0.4 -------------------------------- */

#define MAX_LABELS 8

typedef struct label {
  char *name, *value; /* value unescaped */
} label;

typedef struct sample {
  char *name;     /* as written: tsmap_x_bucket for a histogram's bucket */
  label labels[MAX_LABELS];
  size_t nlabels;
  double value;
  size_t family;
  char *key;      /* name and sorted labels: the series' identity */
} sample;

typedef struct family {
  char *name, *type, *help; /* help unescaped */
  int has_samples, left;    /* left: another family's line came after its samples */
} family;

typedef struct expo {
  family *fam;
  size_t nfam;
  sample *s;
  size_t ns;
  char err[512]; /* the first violation, "" if none */
} expo;

static void expo_free(expo *e) {
  for (size_t i = 0; i < e->nfam; i++)
    free(e->fam[i].name), free(e->fam[i].type), free(e->fam[i].help);
  for (size_t i = 0; i < e->ns; i++) {
    free(e->s[i].name), free(e->s[i].key);
    for (size_t j = 0; j < e->s[i].nlabels; j++)
      free(e->s[i].labels[j].name), free(e->s[i].labels[j].value);
  }
  free(e->fam), free(e->s);
  memset(e, 0, sizeof *e);
}

static void fail_at(expo *e, long line, const char *fmt, ...) {
  if (e->err[0])
    return;
  int n = snprintf(e->err, sizeof e->err, "line %ld: ", line);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->err + n, sizeof e->err - (size_t)n, fmt, ap);
  va_end(ap);
}

static char *dup_n(const char *p, size_t n) {
  char *s = malloc(n + 1);
  memcpy(s, p, n);
  s[n] = '\0';
  return s;
}

/* Well-formed UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF). */
static int utf8_valid(const unsigned char *p, size_t n) {
  static const uint32_t least[4] = {0, 0x80, 0x800, 0x10000};
  for (size_t i = 0; i < n;) {
    unsigned c = p[i];
    size_t k = c < 0x80 ? 0 : (c & 0xe0) == 0xc0 ? 1 : (c & 0xf0) == 0xe0 ? 2
             : (c & 0xf8) == 0xf0 ? 3 : 4;
    if (k == 4 || i + k >= n) /* not a lead byte, or cut short */
      return 0;
    uint32_t cp = k == 0 ? c : k == 1 ? (c & 0x1f) : k == 2 ? (c & 0x0f) : (c & 0x07);
    for (size_t j = 1; j <= k; j++) {
      if ((p[i + j] & 0xc0) != 0x80)
        return 0;
      cp = (cp << 6) | (p[i + j] & 0x3f);
    }
    if (cp < least[k] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return 0;
    i += k + 1;
  }
  return 1;
}

static int is_metric_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
static int is_metric_char(char c) { return is_metric_start(c) || (c >= '0' && c <= '9'); }
static int is_label_start(char c) { return is_metric_start(c) && c != ':'; }
static int is_label_char(char c) { return is_metric_char(c) && c != ':'; }

/* The length of a metric name at p (0 if none). */
static size_t metric_name_len(const char *p, const char *end) {
  if (p >= end || !is_metric_start(*p))
    return 0;
  size_t n = 1;
  while (p + n < end && is_metric_char(p[n]))
    n++;
  return n;
}

/* A sample value as Go's ParseFloat takes it in this format: a decimal float, NaN, +Inf
 * or -Inf. Returns 0 on anything else. */
static int parse_value(const char *p, size_t n, double *out) {
  char tmp[64];
  if (n == 0 || n >= sizeof tmp)
    return 0;
  memcpy(tmp, p, n);
  tmp[n] = '\0';
  if (!strcmp(tmp, "NaN") || !strcmp(tmp, "+Inf") || !strcmp(tmp, "-Inf")) {
    *out = tmp[0] == 'N' ? NAN : tmp[0] == '+' ? INFINITY : -INFINITY;
    return 1;
  }
  size_t i = 0, digits = 0;
  if (tmp[i] == '+' || tmp[i] == '-')
    i++;
  while (tmp[i] >= '0' && tmp[i] <= '9')
    i++, digits++;
  if (tmp[i] == '.')
    for (i++; tmp[i] >= '0' && tmp[i] <= '9'; i++)
      digits++;
  if (!digits)
    return 0;
  if (tmp[i] == 'e' || tmp[i] == 'E') {
    i++;
    if (tmp[i] == '+' || tmp[i] == '-')
      i++;
    if (!(tmp[i] >= '0' && tmp[i] <= '9'))
      return 0;
    while (tmp[i] >= '0' && tmp[i] <= '9')
      i++;
  }
  if (tmp[i] != '\0')
    return 0;
  *out = strtod(tmp, NULL);
  return 1;
}

static size_t family_find(const expo *e, const char *name, size_t n) {
  for (size_t i = 0; i < e->nfam; i++)
    if (strlen(e->fam[i].name) == n && !memcmp(e->fam[i].name, name, n))
      return i;
  return SIZE_MAX;
}

/* The family a HELP or TYPE line names: found or added; every other family is left. */
static size_t family_enter(expo *e, const char *name, size_t n, long line) {
  size_t f = family_find(e, name, n);
  if (f == SIZE_MAX) {
    e->fam = realloc(e->fam, (e->nfam + 1) * sizeof *e->fam);
    f = e->nfam++;
    memset(&e->fam[f], 0, sizeof e->fam[f]);
    e->fam[f].name = dup_n(name, n);
  }
  if (e->fam[f].has_samples)
    fail_at(e, line, "HELP or TYPE of %s after its samples", e->fam[f].name);
  for (size_t i = 0; i < e->nfam; i++)
    if (i != f && e->fam[i].has_samples)
      e->fam[i].left = 1;
  return f;
}

/* HELP text: only \\ and \n are escapes. */
static char *unescape_help(expo *e, long line, const char *p, size_t n) {
  char *out = malloc(n + 1);
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] != '\\') {
      out[o++] = p[i];
      continue;
    }
    if (i + 1 < n && (p[i + 1] == '\\' || p[i + 1] == 'n'))
      out[o++] = p[++i] == 'n' ? '\n' : '\\';
    else
      fail_at(e, line, "bad escape in HELP");
  }
  out[o] = '\0';
  return out;
}

static void parse_comment(expo *e, long line, const char *p, const char *end) {
  int help = end - p >= 7 && !memcmp(p, "# HELP ", 7);
  int type = end - p >= 7 && !memcmp(p, "# TYPE ", 7);
  if (!help && !type)
    return; /* a plain comment */
  p += 7;
  size_t n = metric_name_len(p, end);
  if (!n || p + n >= end || p[n] != ' ') {
    fail_at(e, line, "bad metric name in %s", help ? "HELP" : "TYPE");
    return;
  }
  size_t f = family_enter(e, p, n, line);
  const char *rest = p + n + 1;
  if (help) {
    if (e->fam[f].help)
      fail_at(e, line, "second HELP for %s", e->fam[f].name);
    free(e->fam[f].help);
    e->fam[f].help = unescape_help(e, line, rest, (size_t)(end - rest));
    return;
  }
  static const char *const types[] = {"counter", "gauge", "histogram", "summary", "untyped"};
  int known = 0;
  for (size_t i = 0; i < 5; i++)
    known |= (size_t)(end - rest) == strlen(types[i]) && !memcmp(rest, types[i], strlen(types[i]));
  if (!known)
    fail_at(e, line, "unknown TYPE for %s", e->fam[f].name);
  if (e->fam[f].type)
    fail_at(e, line, "second TYPE for %s", e->fam[f].name);
  free(e->fam[f].type);
  e->fam[f].type = dup_n(rest, (size_t)(end - rest));
}

/* A label value between quotes at *pp (past the opening quote); escapes \\ \" \n. */
static char *parse_label_value(expo *e, long line, const char **pp, const char *end) {
  const char *p = *pp;
  char *out = malloc((size_t)(end - p) + 1);
  size_t o = 0;
  for (; p < end && *p != '"'; p++) {
    if (*p != '\\') {
      out[o++] = *p;
      continue;
    }
    if (p + 1 < end && (p[1] == '\\' || p[1] == '"' || p[1] == 'n'))
      out[o++] = *++p == 'n' ? '\n' : *p;
    else
      fail_at(e, line, "bad escape in a label value");
  }
  if (p >= end)
    fail_at(e, line, "unterminated label value");
  out[o] = '\0';
  *pp = p < end ? p + 1 : p;
  return out;
}

static int parse_labels(expo *e, long line, sample *s, const char **pp, const char *end) {
  const char *p = *pp + 1; /* past '{' */
  while (p < end && *p != '}') {
    if (!is_label_start(*p))
      return fail_at(e, line, "bad label name"), 0;
    const char *n0 = p;
    while (p < end && is_label_char(*p))
      p++;
    if (p - n0 >= 2 && n0[0] == '_' && n0[1] == '_')
      return fail_at(e, line, "reserved label name"), 0;
    if (p + 1 >= end || p[0] != '=' || p[1] != '"')
      return fail_at(e, line, "label without =\"value\""), 0;
    if (s->nlabels == MAX_LABELS)
      return fail_at(e, line, "too many labels"), 0;
    label *l = &s->labels[s->nlabels++];
    l->name = dup_n(n0, (size_t)(p - n0));
    p += 2;
    l->value = parse_label_value(e, line, &p, end);
    for (size_t i = 0; i + 1 < s->nlabels; i++)
      if (!strcmp(s->labels[i].name, l->name))
        return fail_at(e, line, "label %s twice", l->name), 0;
    if (p < end && *p == ',')
      p++;
    else if (p < end && *p != '}')
      return fail_at(e, line, "no ',' between labels"), 0;
  }
  if (p >= end)
    return fail_at(e, line, "no closing '}'"), 0;
  *pp = p + 1;
  return 1;
}

/* The family a sample belongs to: its own name's, or a histogram's for _bucket, _sum and
 * _count. */
static size_t sample_family(const expo *e, const char *name) {
  static const char *const suffixes[] = {"_bucket", "_sum", "_count"};
  size_t n = strlen(name);
  for (size_t i = 0; i < 3; i++) {
    size_t k = strlen(suffixes[i]);
    if (n > k && !strcmp(name + n - k, suffixes[i])) {
      size_t f = family_find(e, name, n - k);
      if (f != SIZE_MAX && e->fam[f].type && !strcmp(e->fam[f].type, "histogram"))
        return f;
    }
  }
  return family_find(e, name, n);
}

static int cmp_label(const void *a, const void *b) {
  return strcmp(((const label *)a)->name, ((const label *)b)->name);
}

/* name{a="x",b="y"} with labels sorted and values as given (escaped the same way). */
static char *series_key(const sample *s, int without_le) {
  label sorted[MAX_LABELS];
  memcpy(sorted, s->labels, s->nlabels * sizeof *sorted);
  qsort(sorted, s->nlabels, sizeof *sorted, cmp_label);
  size_t need = strlen(s->name) + 3;
  for (size_t i = 0; i < s->nlabels; i++)
    need += strlen(sorted[i].name) + 2 * strlen(sorted[i].value) + 5;
  char *k = malloc(need), *o = k;
  o += sprintf(o, "%s{", s->name);
  for (size_t i = 0; i < s->nlabels; i++) {
    if (without_le && !strcmp(sorted[i].name, "le"))
      continue;
    o += sprintf(o, "%s=\"", sorted[i].name);
    for (const char *v = sorted[i].value; *v; v++) {
      if (*v == '"' || *v == '\\' || *v == '\n')
        *o++ = '\\';
      *o++ = *v == '\n' ? 'n' : *v;
    }
    o += sprintf(o, "\",");
  }
  sprintf(o, "}");
  return k;
}

static void parse_sample(expo *e, long line, const char *p, const char *end) {
  sample s;
  memset(&s, 0, sizeof s);
  size_t n = metric_name_len(p, end);
  if (!n) {
    fail_at(e, line, "bad metric name");
    return;
  }
  s.name = dup_n(p, n);
  p += n;
  if (p < end && *p == '{' && !parse_labels(e, line, &s, &p, end))
    goto drop;
  if (p >= end || *p != ' ') {
    fail_at(e, line, "no space before the value");
    goto drop;
  }
  while (p < end && *p == ' ')
    p++;
  const char *v0 = p;
  while (p < end && *p != ' ')
    p++;
  if (!parse_value(v0, (size_t)(p - v0), &s.value)) {
    fail_at(e, line, "bad value '%.*s'", (int)(p - v0), v0);
    goto drop;
  }
  if (p < end) { /* an optional timestamp: an integer */
    const char *t = p + 1;
    if (t < end && *t == '-')
      t++;
    if (t >= end)
      fail_at(e, line, "empty timestamp");
    for (; t < end; t++)
      if (*t < '0' || *t > '9') {
        fail_at(e, line, "bad timestamp");
        break;
      }
  }
  s.family = sample_family(e, s.name);
  if (s.family == SIZE_MAX) {
    fail_at(e, line, "sample %s without a TYPE", s.name);
    goto drop;
  }
  family *f = &e->fam[s.family];
  if (f->left)
    fail_at(e, line, "samples of %s interleaved with another family's", f->name);
  for (size_t i = 0; i < e->nfam; i++)
    if (i != s.family && e->fam[i].has_samples)
      e->fam[i].left = 1;
  f->has_samples = 1;
  s.key = series_key(&s, 0);
  e->s = realloc(e->s, (e->ns + 1) * sizeof *e->s);
  e->s[e->ns++] = s;
  return;
drop:
  free(s.name);
  for (size_t j = 0; j < s.nlabels; j++)
    free(s.labels[j].name), free(s.labels[j].value);
}

static const char *label_of(const sample *s, const char *name) {
  for (size_t i = 0; i < s->nlabels; i++)
    if (!strcmp(s->labels[i].name, name))
      return s->labels[i].value;
  return NULL;
}

static int cmp_str_ptr(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check_no_duplicate_series(expo *e) {
  char **keys = malloc((e->ns + 1) * sizeof *keys);
  for (size_t i = 0; i < e->ns; i++)
    keys[i] = e->s[i].key;
  qsort(keys, e->ns, sizeof *keys, cmp_str_ptr);
  for (size_t i = 1; i < e->ns; i++)
    if (!strcmp(keys[i - 1], keys[i]))
      fail_at(e, 0, "duplicate series %s", keys[i]);
  free(keys);
}

/* Each family's samples fit its type: counters and gauges by the family's own name,
 * counters finite and >= 0; histograms per series buckets by rising le, cumulative, the
 * last +Inf equal to _count, and a _sum. */
static void check_histogram_series(expo *e, size_t first) {
  const sample *s0 = &e->s[first];
  char *group = series_key(s0, 1);
  size_t fam = s0->family;
  double last_le = -INFINITY, last_count = 0, inf_count = -1, count = -1;
  int has_sum = 0, buckets = 0;
  for (size_t i = first; i < e->ns; i++) {
    const sample *s = &e->s[i];
    if (s->family != fam)
      continue;
    char *g = series_key(s, 1);
    /* the group key holds the sample name: compare with the suffix replaced */
    const char *n = e->fam[fam].name;
    size_t nl = strlen(n);
    int same = !strcmp(g + strlen(s->name), group + strlen(s0->name));
    free(g);
    if (!same)
      continue;
    const char *suffix = s->name + nl;
    if (!strcmp(suffix, "_bucket")) {
      const char *le = label_of(s, "le");
      double lev;
      if (!le || !parse_value(le, strlen(le), &lev)) {
        fail_at(e, 0, "bucket of %s without a valid le", n);
        continue;
      }
      if (inf_count >= 0)
        fail_at(e, 0, "%s: a bucket after le=\"+Inf\"", group);
      if (!(lev > last_le))
        fail_at(e, 0, "%s: le not rising (%s)", group, le);
      if (s->value < last_count || s->value != (double)(long long)s->value)
        fail_at(e, 0, "%s: bucket le=%s not cumulative (%g after %g)", group, le, s->value,
                last_count);
      last_le = lev, last_count = s->value, buckets++;
      if (isinf(lev))
        inf_count = s->value;
    } else if (!strcmp(suffix, "_count")) {
      if (label_of(s, "le"))
        fail_at(e, 0, "%s_count with an le label", n);
      count = s->value;
    } else if (!strcmp(suffix, "_sum")) {
      if (label_of(s, "le"))
        fail_at(e, 0, "%s_sum with an le label", n);
      has_sum = 1;
      if (!(s->value >= 0) || isinf(s->value))
        fail_at(e, 0, "%s: _sum %g", group, s->value);
    }
  }
  if (inf_count < 0)
    fail_at(e, 0, "%s: no le=\"+Inf\" bucket", group);
  if (count < 0 || count != inf_count)
    fail_at(e, 0, "%s: _count %g, le=\"+Inf\" %g", group, count, inf_count);
  if (!has_sum)
    fail_at(e, 0, "%s: no _sum", group);
  free(group);
}

static void check_types(expo *e) {
  for (size_t f = 0; f < e->nfam; f++) {
    if (!e->fam[f].type)
      fail_at(e, 0, "family %s without TYPE", e->fam[f].name);
    if (!e->fam[f].help)
      fail_at(e, 0, "family %s without HELP", e->fam[f].name);
  }
  for (size_t i = 0; i < e->ns; i++) {
    const sample *s = &e->s[i];
    const family *f = &e->fam[s->family];
    if (!f->type)
      continue;
    if (strcmp(f->type, "histogram") != 0) {
      if (strcmp(s->name, f->name) != 0)
        fail_at(e, 0, "sample %s in family %s", s->name, f->name);
      if (!strcmp(f->type, "counter") && (!(s->value >= 0) || isinf(s->value)))
        fail_at(e, 0, "counter %s = %g", s->key, s->value);
      if (isnan(s->value))
        fail_at(e, 0, "%s is NaN", s->key);
      continue;
    }
    const char *suffix = s->name + strlen(f->name);
    if (!strcmp(suffix, "_bucket") != !!label_of(s, "le"))
      fail_at(e, 0, "%s: le on a sample other than a bucket, or a bucket without", s->key);
    /* check each series once, from its first bucket */
    if (!strcmp(suffix, "_bucket")) {
      int first = 1;
      char *g = series_key(s, 1);
      for (size_t j = 0; j < i && first; j++)
        if (e->s[j].family == s->family && !strcmp(e->s[j].name, s->name)) {
          char *h = series_key(&e->s[j], 1);
          first = strcmp(g, h) != 0;
          free(h);
        }
      free(g);
      if (first)
        check_histogram_series(e, i);
    }
  }
}

/* Parse `len` bytes of exposition; e->err says what was wrong, "" when all was right. */
static void expo_parse(expo *e, const char *text, size_t len) {
  memset(e, 0, sizeof *e);
  if (memchr(text, '\0', len))
    fail_at(e, 0, "a NUL byte in the text");
  if (!utf8_valid((const unsigned char *)text, len))
    fail_at(e, 0, "the text is not UTF-8");
  if (len && text[len - 1] != '\n')
    fail_at(e, 0, "the last line does not end with a line feed");
  long line = 0;
  for (const char *p = text, *end = text + len; p < end;) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol)
      eol = end;
    line++;
    if (eol > p && *p == '#')
      parse_comment(e, line, p, eol);
    else if (eol > p)
      parse_sample(e, line, p, eol);
    p = eol + 1;
  }
  check_types(e);
  check_no_duplicate_series(e);
}

/* The value of the sample named `name` whose labels are exactly the NULL-terminated
 * name/value pairs given, or -1 when there is none. */
static double expo_get(const expo *e, const char *name, ...) {
  const char *want[2 * MAX_LABELS];
  size_t nw = 0;
  va_list ap;
  va_start(ap, name);
  for (const char *k; (k = va_arg(ap, const char *)) != NULL && nw < 2 * MAX_LABELS;) {
    want[nw++] = k;
    want[nw++] = va_arg(ap, const char *);
  }
  va_end(ap);
  for (size_t i = 0; i < e->ns; i++) {
    const sample *s = &e->s[i];
    if (strcmp(s->name, name) != 0 || s->nlabels != nw / 2)
      continue;
    int match = 1;
    for (size_t j = 0; j < nw && match; j += 2) {
      const char *v = label_of(s, want[j]);
      match = v && !strcmp(v, want[j + 1]);
    }
    if (match)
      return s->value;
  }
  return -1;
}

/* The sum of the samples named `name` whose `map` label is `map` (0 when there is none),
 * and how many there were in *n (may be NULL). */
static double expo_sum_map(const expo *e, const char *name, const char *map, size_t *n) {
  double sum = 0;
  size_t count = 0;
  for (size_t i = 0; i < e->ns; i++) {
    const char *m = label_of(&e->s[i], "map");
    if (!strcmp(e->s[i].name, name) && m && !strcmp(m, map))
      sum += e->s[i].value, count++;
  }
  if (n)
    *n = count;
  return sum;
}

static const family *expo_family(const expo *e, const char *name) {
  size_t f = family_find(e, name, strlen(name));
  return f == SIZE_MAX ? NULL : &e->fam[f];
}

static double dabs(double x) { return x < 0 ? -x : x; }

/* A metered map's config named `name`: 8-byte values, keys of 8 bytes (key8) or any
 * length; the test sets the rest. */
static void metered_config(tsmap_config *cfg, const char *name, int key8) {
  tsmap_config_init(cfg, 8);
  cfg->key_size = key8 ? 8 : 0;
  cfg->name = name;
  cfg->metrics = 1;
}

/* ---- Scrapes ----------------------------------------------------------------------------- */

/* Write `m` (NULL: every named map) through the writer, parse it strictly and check that
 * it parsed. The text is kept in *raw when raw is not NULL. */
static void scrape(tsmap *m, expo *e, text_buf *raw) {
  text_buf b = {0};
  tsmap_status st = m ? tsmap_metrics_write(m, collect_writer, &b)
                      : tsmap_metrics_write_all(collect_writer, &b);
  CHECK_ST(st, TSMAP_OK);
  expo_parse(e, b.p ? b.p : "", b.len);
  if (e->err[0]) {
    fprintf(stderr, "exposition rejected: %s\n", e->err);
    CHECK(e->err[0] == '\0');
  }
  if (raw)
    *raw = b;
  else
    text_free(&b);
}

/* The label value of a status: its name without TSMAP_, in lower case. */
static void status_label(tsmap_status st, char *out, size_t cap) {
  const char *n = tsmap_status_name(st);
  if (!strncmp(n, "TSMAP_", 6))
    n += 6;
  size_t i = 0;
  for (; n[i] && i + 1 < cap; i++)
    out[i] = (char)(n[i] >= 'A' && n[i] <= 'Z' ? n[i] - 'A' + 'a' : n[i]);
  out[i] = '\0';
}

static const char *const reason_labels[] = {"removed", "replaced", "expired",
                                            "capacity", "closed", "discarded"};

/* ---- A model of operation counts ---------------------------------------------------------- */

enum { OP_GET, OP_PUT, OP_PIA, OP_REMOVE, OP_CIA, OP_CIP, OP_COMPUTE, OP_MAINTAIN,
       OP_RESHARD, OP_KINDS };
static const char *const op_labels[OP_KINDS] = {"get", "put", "put_if_absent", "remove",
                                                "compute_if_absent", "compute_if_present",
                                                "compute", "maintain", "reshard"};
#define N_STATUS 16

typedef struct op_model {
  _Atomic long count[OP_KINDS][N_STATUS];
} op_model;

static void model_add(op_model *mo, int op, tsmap_status st) {
  if ((unsigned)st < N_STATUS)
    mo->count[op][st]++;
}

/* Every series tsmap_operations_total{map=name,op,status} of the modelled ops equals the
 * model (a status the model has 0 of is 0 or absent), and each op's duration _count is
 * the sum over its statuses. */
static void check_model(const expo *e, const char *name, op_model *mo) {
  for (int op = 0; op < OP_KINDS; op++) {
    long total = 0;
    for (int st = 0; st < N_STATUS; st++) {
      char sl[32];
      status_label((tsmap_status)st, sl, sizeof sl);
      double got = expo_get(e, "tsmap_operations_total", "map", name, "op", op_labels[op],
                            "status", sl, NULL);
      long want = mo->count[op][st];
      total += want;
      if (!(got == (double)want || (want == 0 && got == -1))) {
        fprintf(stderr, "  map %s op %s status %s: exposed %.0f, model %ld\n", name,
                op_labels[op], sl, got, want);
        CHECK(got == (double)want);
      }
    }
    double dc = expo_get(e, "tsmap_operation_duration_seconds_count", "map", name, "op",
                         op_labels[op], NULL);
    if (!(dc == (double)total || (total == 0 && dc == -1))) {
      fprintf(stderr, "  map %s op %s: duration _count %.0f, operations %ld\n", name,
              op_labels[op], dc, total);
      CHECK(dc == (double)total);
    }
  }
}

/* ---- NULL arguments and statuses ---------------------------------------------------------- */

static int null_writer(const char *t, size_t n, void *c) {
  (void)t, (void)n, (void)c;
  return 0;
}

static tsmap *named_map(const char *name, int metrics) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.name = name;
  cfg.metrics = metrics;
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  return m;
}

static void test_mbb_null_arguments_are_statuses(void) {
  tsmap *m = named_map("bb-null", 1);
  char buf[64];
  size_t len = 12345;
  CHECK_ST(tsmap_metrics_write(NULL, null_writer, NULL), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_metrics_write(m, NULL, NULL), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_metrics_write_all(NULL, NULL), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_metrics_format(m, buf, sizeof buf, NULL), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_metrics_format(m, NULL, 10, &len), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_metrics_format(NULL, NULL, 10, &len), TSMAP_INVALID_ARGUMENT);
  CHECK_ST(tsmap_metrics_format(NULL, buf, sizeof buf, NULL), TSMAP_INVALID_ARGUMENT);
  /* a closed map: TSMAP_CLOSED, from the writer and the buffer forms */
  CHECK_ST(tsmap_close(m), TSMAP_OK);
  CHECK_ST(tsmap_metrics_write(m, null_writer, NULL), TSMAP_CLOSED);
  CHECK_ST(tsmap_metrics_format(m, NULL, 0, &len), TSMAP_CLOSED);
  CHECK_ST(tsmap_metrics_format(m, buf, sizeof buf, &len), TSMAP_CLOSED);
  tsmap_destroy(m);
}

/* With no named map open, the exposition of every map is empty: no call of the writer. */
static void test_mbb_no_named_map_is_an_empty_text(void) {
  tsmap *unnamed = named_map(NULL, 1);
  text_buf b = {0};
  CHECK_ST(tsmap_metrics_write_all(collect_writer, &b), TSMAP_OK);
  CHECK(b.pieces == 0 && b.len == 0);
  size_t len = 99;
  CHECK_ST(tsmap_metrics_format(NULL, NULL, 0, &len), TSMAP_OK);
  CHECK(len == 0);
  char one[1] = {'Z'};
  CHECK_ST(tsmap_metrics_format(NULL, one, 1, &len), TSMAP_OK);
  CHECK(len == 0 && one[0] == '\0');
  tsmap_destroy(unnamed);
}

/* ---- Names: checked at create, escaped in labels, one map per name ------------------------ */

static void test_mbb_names_are_checked_at_create(void) {
  static const char *const bad[] = {
      "\xff", "a\xc3", "\xc0\x80", "\xe0\x80\x80", "\xed\xa0\x80" /* a surrogate */,
      "\xf4\x90\x80\x80" /* above U+10FFFF */, "ok\x80"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    tsmap_config cfg;
    tsmap_config_init(&cfg, 8);
    cfg.name = bad[i];
    cfg.metrics = 1;
    tsmap *m = (tsmap *)&cfg; /* untouched on failure */
    tsmap_status st = tsmap_create(&cfg, &m);
    if (st != TSMAP_INVALID_ARGUMENT)
      fprintf(stderr, "  name #%zu: %s\n", i, tsmap_status_name(st));
    CHECK(st == TSMAP_INVALID_ARGUMENT && m == (tsmap *)&cfg);
    if (st == TSMAP_OK)
      tsmap_destroy(m);
  }
  /* one map per name, closed ones included until destroyed; the name is free after */
  tsmap *a = named_map("bb-twice", 1);
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.name = "bb-twice";
  tsmap *b = NULL;
  CHECK_ST(tsmap_create(&cfg, &b), TSMAP_EXISTS);
  CHECK(b == NULL);
  cfg.metrics = 1;
  CHECK_ST(tsmap_create(&cfg, &b), TSMAP_EXISTS);
  CHECK_ST(tsmap_close(a), TSMAP_OK);
  CHECK_ST(tsmap_create(&cfg, &b), TSMAP_EXISTS);
  tsmap_destroy(a);
  CHECK_ST(tsmap_create(&cfg, &b), TSMAP_OK);
  tsmap_destroy(b);
  /* unnamed maps are not registered: any number of them */
  tsmap *u1 = named_map(NULL, 1), *u2 = named_map("", 1), *u3 = named_map(NULL, 0);
  tsmap_destroy(u1), tsmap_destroy(u2), tsmap_destroy(u3);
}

/* Names a label must escape or carry as they are; each round-trips through the parser. */
static void test_mbb_odd_names_round_trip(void) {
  size_t long_len = 65536;
  char *long_name = malloc(long_len + 1);
  for (size_t i = 0; i < long_len; i++)
    long_name[i] = "ab\"\\\ncd"[i % 7];
  long_name[long_len] = '\0';
  const char *names[] = {"q\"uote",          "back\\slash", "new\nline",  "\\n literal",
                         "\\\"",              "end\\",       "\n",         "tab\there",
                         "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80", "{a=\"b\"}",
                         "# HELP x y",       " lead and trail ", long_name};
  size_t n = sizeof names / sizeof names[0];
  tsmap *maps[sizeof names / sizeof names[0]];
  for (size_t i = 0; i < n; i++) {
    maps[i] = named_map(names[i], (int)(i % 2));
    uint64_t k = i, v = i;
    CHECK_ST(tsmap_put(maps[i], &k, sizeof k, &v, NULL), TSMAP_OK);
  }
  tsmap *unnamed = named_map(NULL, 1);
  /* each map alone: its name is its map label, unescaped by the parser */
  for (size_t i = 0; i < n; i++) {
    expo e;
    scrape(maps[i], &e, NULL);
    CHECK(expo_get(&e, "tsmap_entries", "map", names[i], NULL) == 1);
    expo_free(&e);
  }
  expo e;
  scrape(unnamed, &e, NULL);
  CHECK(expo_get(&e, "tsmap_entries", "map", "", NULL) == 0);
  expo_free(&e);
  /* all of them at once: every name once, the unnamed map not listed */
  scrape(NULL, &e, NULL);
  for (size_t i = 0; i < n; i++) {
    size_t count = 0;
    expo_sum_map(&e, "tsmap_entries", names[i], &count);
    CHECK(count == 1);
  }
  size_t unnamed_count = 5;
  expo_sum_map(&e, "tsmap_entries", "", &unnamed_count);
  CHECK(unnamed_count == 0);
  expo_free(&e);
  for (size_t i = 0; i < n; i++)
    tsmap_destroy(maps[i]);
  tsmap_destroy(unnamed);
  free(long_name);
}

/* ---- Counts after known workloads -------------------------------------------------------- */

typedef struct workload {
  tsmap *m;
  op_model *mo;
  size_t key_size;
  unsigned char present[8192];
} workload;

static size_t wl_key(const workload *w, uint64_t i, char *buf) {
  if (w->key_size == 8) {
    memcpy(buf, &i, 8);
    return 8;
  }
  return (size_t)sprintf(buf, "key-%llu", (unsigned long long)i);
}

static int absent_ok(const void *k, size_t kl, void *ctx, void *out) {
  (void)k, (void)kl, (void)ctx;
  uint64_t v = 777;
  memcpy(out, &v, 8);
  return 0;
}
static int absent_fails(const void *k, size_t kl, void *ctx, void *out) {
  (void)k, (void)kl, (void)ctx, (void)out;
  return 1;
}
static tsmap_verdict verdict_of(void *ctx, const void *old, void *nv) {
  uint64_t v = old ? *(const uint64_t *)old + 1000 : 5;
  memcpy(nv, &v, 8);
  return *(const tsmap_verdict *)ctx;
}
static tsmap_verdict compute_cb(const void *k, size_t kl, const void *old, void *ctx,
                                void *nv) {
  (void)k, (void)kl;
  return verdict_of(ctx, old, nv);
}

typedef struct reenter_ctx {
  tsmap *m;
  tsmap_status inner;
} reenter_ctx;
static tsmap_verdict reentering_cb(const void *k, size_t kl, const void *old, void *ctx,
                                   void *nv) {
  (void)old, (void)nv;
  reenter_ctx *rc = ctx;
  rc->inner = tsmap_get(rc->m, k, kl, NULL);
  return TSMAP_KEEP;
}

/* Run op on key i, predicting its status from w->present; records it in the model. */
static void wl_put(workload *w, uint64_t i, int with_old) {
  char k[32];
  size_t kl = wl_key(w, i, k);
  uint64_t v = i, old;
  tsmap_status want = w->present[i] ? TSMAP_REPLACED : TSMAP_OK;
  tsmap_status st = tsmap_put(w->m, k, kl, &v, with_old ? &old : NULL);
  CHECK_ST(st, want);
  model_add(w->mo, OP_PUT, st);
  w->present[i] = 1;
}
static void wl_get(workload *w, uint64_t i) {
  char k[32];
  size_t kl = wl_key(w, i, k);
  uint64_t v;
  tsmap_status st = tsmap_get(w->m, k, kl, &v);
  CHECK_ST(st, w->present[i] ? TSMAP_OK : TSMAP_NOT_FOUND);
  model_add(w->mo, OP_GET, st);
}
static void wl_put_if_absent(workload *w, uint64_t i) {
  char k[32];
  size_t kl = wl_key(w, i, k);
  uint64_t v = i;
  tsmap_status st = tsmap_put_if_absent(w->m, k, kl, &v, NULL);
  CHECK_ST(st, w->present[i] ? TSMAP_EXISTS : TSMAP_OK);
  model_add(w->mo, OP_PIA, st);
  w->present[i] = 1;
}
static void wl_remove(workload *w, uint64_t i, int with_out) {
  char k[32];
  size_t kl = wl_key(w, i, k);
  uint64_t v;
  tsmap_status st = tsmap_remove(w->m, k, kl, with_out ? &v : NULL);
  CHECK_ST(st, w->present[i] ? TSMAP_OK : TSMAP_NOT_FOUND);
  model_add(w->mo, OP_REMOVE, st);
  w->present[i] = 0;
}
static void wl_cia(workload *w, uint64_t i, int fails) {
  char k[32];
  size_t kl = wl_key(w, i, k);
  uint64_t v;
  tsmap_status st = tsmap_compute_if_absent(w->m, k, kl, fails ? absent_fails : absent_ok,
                                            NULL, &v);
  CHECK_ST(st, fails && !w->present[i] ? TSMAP_CALLBACK_FAILED : TSMAP_OK);
  model_add(w->mo, OP_CIA, st);
  w->present[i] |= !fails;
}
static void wl_compute(workload *w, int op, uint64_t i, tsmap_verdict verdict) {
  char k[32];
  size_t kl = wl_key(w, i, k);
  uint64_t v;
  tsmap_status st = op == OP_CIP ? tsmap_compute_if_present(w->m, k, kl, compute_cb,
                                                            &verdict, &v)
                                 : tsmap_compute(w->m, k, kl, compute_cb, &verdict, &v);
  tsmap_status want = !w->present[i] ? (op == OP_COMPUTE && verdict == TSMAP_STORE
                                            ? TSMAP_OK : TSMAP_NOT_FOUND)
                      : verdict == TSMAP_DELETE ? TSMAP_REMOVED : TSMAP_OK;
  CHECK_ST(st, want);
  model_add(w->mo, op, st);
  w->present[i] = st == TSMAP_OK;
}

/* A workload of every keyed op and status, single-threaded; returns the evictions it
 * handed to callers (removes with value_out, puts with old_out) by reason. */
static void run_workload(workload *w, long to_callers[6]) {
  for (uint64_t i = 0; i < 1000; i++)
    wl_put(w, i, 0);
  for (uint64_t i = 0; i < 300; i++)
    wl_put(w, i, i % 3 == 0), to_callers[TSMAP_EVICT_REPLACED] += i % 3 == 0;
  for (uint64_t i = 0; i < 2000; i++)
    wl_get(w, i);
  for (uint64_t i = 900; i < 1100; i++)
    wl_put_if_absent(w, i);
  for (uint64_t i = 1000; i < 1200; i++)
    wl_remove(w, i, 0);
  for (uint64_t i = 0; i < 50; i++)
    wl_remove(w, i, 1), to_callers[TSMAP_EVICT_REMOVED]++;
  for (uint64_t i = 40; i < 70; i++)
    wl_cia(w, i, 0);
  wl_cia(w, 5000, 1);
  wl_cia(w, 100, 1); /* present: no callback, the value */
  static const tsmap_verdict verdicts[3] = {TSMAP_KEEP, TSMAP_STORE, TSMAP_DELETE};
  for (uint64_t i = 0; i < 30; i++) {
    wl_compute(w, OP_CIP, 100 + i, verdicts[i % 3]);
    wl_compute(w, OP_CIP, 5100 + i, verdicts[i % 3]);
    wl_compute(w, OP_COMPUTE, 200 + i, verdicts[i % 3]);
    wl_compute(w, OP_COMPUTE, 5200 + i, verdicts[i % 3]);
  }
  /* a callback that calls the map on its own key: the inner get is refused */
  reenter_ctx rc = {w->m, TSMAP_OK};
  char k[32];
  size_t kl = wl_key(w, 300, k);
  CHECK_ST(tsmap_compute_if_present(w->m, k, kl, reentering_cb, &rc, NULL), TSMAP_OK);
  CHECK_ST(rc.inner, TSMAP_REENTERED);
  model_add(w->mo, OP_CIP, TSMAP_OK);
  model_add(w->mo, OP_GET, TSMAP_REENTERED);
  for (int i = 0; i < 5; i++) {
    CHECK_ST(tsmap_maintain(w->m, 64), TSMAP_OK);
    model_add(w->mo, OP_MAINTAIN, TSMAP_OK);
  }
  CHECK_ST(tsmap_reshard(w->m, 0), TSMAP_INVALID_ARGUMENT);
  model_add(w->mo, OP_RESHARD, TSMAP_INVALID_ARGUMENT);
}

static void check_gauges(tsmap *m, const char *name, const expo *e) {
  size_t size = 0, shards = 0, target = 0;
  CHECK_ST(tsmap_size(m, &size), TSMAP_OK);
  CHECK_ST(tsmap_shard_counts(m, &shards, &target), TSMAP_OK);
  double entries = expo_get(e, "tsmap_entries", "map", name, NULL);
  double exposed_shards = expo_get(e, "tsmap_shards", "map", name, NULL);
  if (entries != (double)size || exposed_shards != (double)shards)
    fprintf(stderr, "  %s: entries %.0f (size %zu), shards %.0f (%zu)\n", name, entries,
            size, exposed_shards, shards);
  CHECK(entries == (double)size);
  CHECK(exposed_shards == (double)shards);
  CHECK(expo_get(e, "tsmap_table_bytes", "map", name, NULL) > 0);
  CHECK(expo_get(e, "tsmap_growth_in_progress", "map", name, NULL) >= 0);
  CHECK(expo_get(e, "tsmap_migrated_groups_total", "map", name, NULL) >= 0);
}

/* Evictions by reason: the hooks' counts, plus what callers received. */
static void check_evictions(const expo *e, const char *name, const long to_callers[6]) {
  for (int r = 0; r <= TSMAP_EVICT_DISCARDED; r++) {
    double got = expo_get(e, "tsmap_evictions_total", "map", name, "reason",
                          reason_labels[r], NULL);
    long want = tsmap_test_hooks.evicted[r] + (to_callers ? to_callers[r] : 0);
    if (!(got == (double)want || (want == 0 && got == -1))) {
      fprintf(stderr, "  %s evictions %s: exposed %.0f, hooks %ld + callers %ld\n", name,
              reason_labels[r], got, (long)tsmap_test_hooks.evicted[r],
              to_callers ? to_callers[r] : 0);
      CHECK(got == (double)want);
    }
  }
}

static void single_thread_counts(size_t key_size) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.key_size = key_size;
  cfg.name = key_size ? "bb-single-8" : "bb-single";
  cfg.metrics = 1;
  tsmap_test_count_hooks(&cfg);
  memset(&tsmap_test_hooks, 0, sizeof tsmap_test_hooks);
  workload *w = calloc(1, sizeof *w);
  op_model *mo = calloc(1, sizeof *mo);
  w->mo = mo, w->key_size = key_size;
  CHECK_ST(tsmap_create(&cfg, &w->m), TSMAP_OK);
  long to_callers[6] = {0};
  run_workload(w, to_callers);
  expo e;
  scrape(w->m, &e, NULL);
  check_model(&e, cfg.name, mo);
  check_gauges(w->m, cfg.name, &e);
  check_evictions(&e, cfg.name, to_callers);
  CHECK(expo_get(&e, "tsmap_reentered_total", "map", cfg.name, NULL) == 1);
  CHECK(expo_get(&e, "tsmap_compute_retries_total", "map", cfg.name, NULL) == 0);
  CHECK(expo_get(&e, "tsmap_single_flight_waits_total", "map", cfg.name, NULL) == 0);
  /* the same numbers in the every-map exposition */
  expo all;
  scrape(NULL, &all, NULL);
  check_model(&all, cfg.name, mo);
  check_evictions(&all, cfg.name, to_callers);
  expo_free(&all);
  expo_free(&e);
  tsmap_destroy(w->m);
  free(w), free(mo);
}

static void test_mbb_single_thread_counts_are_exact(void) {
  single_thread_counts(0);
  single_thread_counts(8); /* the 8-byte key and value fast paths */
}

/* ---- Threads: counts summed, exited threads included ------------------------------------- */

typedef struct thread_job {
  tsmap *m;
  op_model *mo;
  uint64_t base, n;
  pthread_barrier_t *start;
} thread_job;

static void *thread_workload(void *arg) {
  thread_job *j = arg;
  if (j->start)
    pthread_barrier_wait(j->start);
  for (uint64_t i = 0; i < j->n; i++) {
    uint64_t k = j->base + i, v = k;
    model_add(j->mo, OP_PUT, tsmap_put(j->m, &k, 8, &v, NULL));
    model_add(j->mo, OP_GET, tsmap_get(j->m, &k, 8, &v));
    uint64_t miss = k + (1ull << 40);
    model_add(j->mo, OP_GET, tsmap_get(j->m, &miss, 8, &v));
    if (i % 2)
      model_add(j->mo, OP_REMOVE, tsmap_remove(j->m, &k, 8, NULL));
    if (i % 5 == 0)
      model_add(j->mo, OP_PIA, tsmap_put_if_absent(j->m, &k, 8, &v, NULL));
  }
  return NULL;
}

static void run_threads(tsmap *m, op_model *mo, int count, uint64_t base, uint64_t n,
                        int together, size_t stack) {
  pthread_t *t = calloc((size_t)count, sizeof *t);
  thread_job *jobs = calloc((size_t)count, sizeof *jobs);
  pthread_barrier_t start;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  if (stack)
    pthread_attr_setstacksize(&attr, stack);
  if (together)
    pthread_barrier_init(&start, NULL, (unsigned)count);
  int started = 0;
  for (int i = 0; i < count; i++) {
    jobs[i] = (thread_job){m, mo, base + (uint64_t)i * n, n, together ? &start : NULL};
    if (pthread_create(&t[i], &attr, thread_workload, &jobs[i]) != 0)
      break;
    started++;
    if (!together)
      pthread_join(t[i], NULL);
  }
  CHECK(started == count);
  if (together)
    for (int i = 0; i < started; i++)
      pthread_join(t[i], NULL);
  if (together)
    pthread_barrier_destroy(&start);
  pthread_attr_destroy(&attr);
  free(t), free(jobs);
}

static void test_mbb_thread_counts_are_summed(void) {
  for (int key8 = 0; key8 < 2; key8++) {
    tsmap_config cfg;
    metered_config(&cfg, "bb-threads", key8);
    tsmap *m;
    CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
    op_model *mo = calloc(1, sizeof *mo);
    run_threads(m, mo, 8, 0, 20000 / SCALE, 1, 0);     /* together, all exited */
    expo e;
    scrape(m, &e, NULL);
    check_model(&e, cfg.name, mo);
    expo_free(&e);
    run_threads(m, mo, 200 / SCALE, 1u << 30, 50, 0, 0); /* one after another */
    scrape(m, &e, NULL);
    check_model(&e, cfg.name, mo);
    expo_free(&e);
#ifndef TSMAP_STRESS_SMALL
    /* more threads alive at once than a map has private stripes (1,024) */
    run_threads(m, mo, 1100, 1ull << 32, 3, 1, 64 * 1024);
    scrape(m, &e, NULL);
    check_model(&e, cfg.name, mo);
    check_gauges(m, cfg.name, &e);
    expo_free(&e);
#endif
    tsmap_destroy(m);
    free(mo);
  }
}

/* ---- Evictions by reason against the hooks ------------------------------------------------ */

static _Atomic uint64_t g_clock;
static uint64_t manual_clock(void *ctx) {
  (void)ctx;
  return g_clock;
}
static uint64_t heavy_weight(const void *k, size_t kl, const void *v, void *ctx) {
  (void)k, (void)kl, (void)ctx;
  return (uint64_t)(uintptr_t) * (void *const *)v;
}
static int absent_heavy(const void *k, size_t kl, void *ctx, void *out) {
  (void)k, (void)kl, (void)ctx;
  void *p = (void *)(uintptr_t)1000000;
  memcpy(out, &p, sizeof p);
  return 0;
}

static tsmap *metered_with_hooks(tsmap_config *cfg, const char *name) {
  cfg->name = name;
  cfg->metrics = 1;
  tsmap_test_count_hooks(cfg);
  memset(&tsmap_test_hooks, 0, sizeof tsmap_test_hooks);
  tsmap *m = NULL;
  CHECK_ST(tsmap_create(cfg, &m), TSMAP_OK);
  return m;
}

static void test_mbb_evictions_by_reason_match_the_hooks(void) {
  /* expired: deadlines passed on a clock the test steps, reclaimed by maintain */
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.expiry = 1;
  cfg.clock = manual_clock;
  g_clock = 1000;
  tsmap *m = metered_with_hooks(&cfg, "bb-expired");
  for (uint64_t i = 0; i < 500; i++)
    CHECK_ST(tsmap_put_ttl(m, &i, 8, &i, i < 300 ? 10 : TSMAP_TTL_NEVER, NULL), TSMAP_OK);
  g_clock = 1000000;
  CHECK_ST(tsmap_maintain(m, SIZE_MAX), TSMAP_OK);
  for (uint64_t i = 0; i < 500; i += 2)
    (void)tsmap_remove(m, &i, 8, NULL);
  expo e;
  scrape(m, &e, NULL);
  CHECK(tsmap_test_hooks.evicted[TSMAP_EVICT_EXPIRED] == 300);
  check_evictions(&e, "bb-expired", NULL);
  CHECK(expo_get(&e, "tsmap_operations_total", "map", "bb-expired", "op", "put", "status",
                 "ok", NULL) == 500); /* put_ttl counts as put */
  check_gauges(m, "bb-expired", &e);
  expo_free(&e);
  tsmap_destroy(m);

  /* capacity: a bound's victims and its admission refusals */
  tsmap_config_init(&cfg, 8);
  cfg.max_entries = 64;
  cfg.shard_count = 4;
  m = metered_with_hooks(&cfg, "bb-capacity");
  for (uint64_t i = 0; i < 2000; i++)
    CHECK_ST(tsmap_put(m, &i, 8, &i, NULL), TSMAP_OK);
  scrape(m, &e, NULL);
  CHECK(tsmap_test_hooks.evicted[TSMAP_EVICT_CAPACITY] > 0);
  check_evictions(&e, "bb-capacity", NULL);
  check_gauges(m, "bb-capacity", &e);
  expo_free(&e);
  tsmap_destroy(m);

  /* discarded: a compute_if_absent result too heavy to store */
  tsmap_config_init(&cfg, sizeof(void *));
  cfg.weight = heavy_weight;
  cfg.max_weight = 1000;
  cfg.shard_count = 4;
  m = metered_with_hooks(&cfg, "bb-discarded");
  for (uint64_t i = 0; i < 10; i++)
    CHECK_ST(tsmap_compute_if_absent(m, &i, 8, absent_heavy, NULL, NULL), TSMAP_TOO_HEAVY);
  scrape(m, &e, NULL);
  CHECK(tsmap_test_hooks.evicted[TSMAP_EVICT_DISCARDED] == 10);
  check_evictions(&e, "bb-discarded", NULL);
  char sl[32];
  status_label(TSMAP_TOO_HEAVY, sl, sizeof sl);
  CHECK(expo_get(&e, "tsmap_operations_total", "map", "bb-discarded", "op",
                 "compute_if_absent", "status", sl, NULL) == 10);
  expo_free(&e);
  tsmap_destroy(m);
}

/* closed: the values close evicts are counted, but a closed map is not exposed any more
 * (tsmap_metrics_write returns TSMAP_CLOSED, tsmap_metrics_write_all lists open maps). */
static void test_mbb_a_closed_map_leaves_the_exposition(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  tsmap *m = metered_with_hooks(&cfg, "bb-closed");
  for (uint64_t i = 0; i < 100; i++)
    CHECK_ST(tsmap_put(m, &i, 8, &i, NULL), TSMAP_OK);
  expo e;
  scrape(NULL, &e, NULL);
  CHECK(expo_get(&e, "tsmap_entries", "map", "bb-closed", NULL) == 100);
  expo_free(&e);
  CHECK_ST(tsmap_close(m), TSMAP_OK);
  CHECK(tsmap_test_hooks.evicted[TSMAP_EVICT_CLOSED] == 100);
  CHECK_ST(tsmap_metrics_write(m, null_writer, NULL), TSMAP_CLOSED);
  scrape(NULL, &e, NULL);
  size_t series = 9;
  expo_sum_map(&e, "tsmap_entries", "bb-closed", &series);
  CHECK(series == 0);
  expo_free(&e);
  tsmap_destroy(m);
}

typedef struct seen {
  char **key;
  double *value;
  size_t n;
} seen;

static void seen_free(seen *s) {
  for (size_t i = 0; i < s->n; i++)
    free(s->key[i]);
  free(s->key), free(s->value);
  memset(s, 0, sizeof *s);
}

static int is_monotone(const expo *e, const sample *s) {
  const family *f = &e->fam[s->family];
  return !strcmp(f->type, "counter") || !strcmp(f->type, "histogram");
}

/* Every counter and histogram sample of `e` is at least its value in `prev` (absent
 * before: any value), and every such series of `prev` is still there; `prev` becomes e's. */
static long check_not_down(const expo *e, seen *prev) {
  long bad = 0;
  seen next = {calloc(e->ns + 1, sizeof(char *)), calloc(e->ns + 1, sizeof(double)), 0};
  for (size_t i = 0; i < e->ns; i++)
    if (is_monotone(e, &e->s[i])) {
      next.key[next.n] = strdup(e->s[i].key);
      next.value[next.n++] = e->s[i].value;
    }
  for (size_t i = 0; i < prev->n; i++) {
    size_t j = 0;
    while (j < next.n && strcmp(next.key[j], prev->key[i]) != 0)
      j++;
    if (j == next.n || next.value[j] < prev->value[i]) {
      if (bad++ < 5)
        fprintf(stderr, "  %s went from %g to %g\n", prev->key[i], prev->value[i],
                j == next.n ? -1.0 : next.value[j]);
    }
  }
  seen_free(prev);
  *prev = next;
  return bad;
}

/* ---- The other kinds of call, each under its own op ---------------------------------------- */

static const char *op_of(int i) {
  static const char *const more[] = {"get_version", "put_if_version", "remove_if_version",
                                     "compute_if_version", "foreach_since", "export",
                                     "merge", "forget"};
  return more[i];
}

static int visit_change(const tsmap_change *c, void *ctx) {
  (void)c;
  ++*(long *)ctx;
  return 0;
}

/* Counted as op/status in *counts[op][status] of the 8 extra ops. */
typedef struct extra_model {
  long count[8][N_STATUS];
} extra_model;

static void check_extra(const expo *e, const char *name, const extra_model *x) {
  for (int op = 0; op < 8; op++)
    for (int st = 0; st < N_STATUS; st++) {
      char sl[32];
      status_label((tsmap_status)st, sl, sizeof sl);
      double got = expo_get(e, "tsmap_operations_total", "map", name, "op", op_of(op),
                            "status", sl, NULL);
      long want = x->count[op][st];
      if (!(got == (double)want || (want == 0 && got == -1))) {
        fprintf(stderr, "  %s op %s status %s: exposed %.0f, model %ld\n", name, op_of(op),
                sl, got, want);
        CHECK(got == (double)want);
      }
    }
}

static void test_mbb_versions_and_replication_ops_count_as_themselves(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.key_size = 8;
  cfg.replicas = 2;
  cfg.replica_id = 0;
  tsmap *a = metered_with_hooks(&cfg, "bb-replica-a");
  cfg.replica_id = 1;
  cfg.name = "bb-replica-b";
  tsmap *b;
  CHECK_ST(tsmap_create(&cfg, &b), TSMAP_OK);
  extra_model xa = {0}, xb = {0};
  op_model *ma = calloc(1, sizeof *ma);
  uint64_t ver = 0, v = 1;
  for (uint64_t k = 0; k < 20; k++) {
    tsmap_status st = tsmap_put_if_version(a, &k, 8, &v, TSMAP_VERSION_ABSENT, &ver, NULL);
    CHECK_ST(st, TSMAP_OK);
    xa.count[1][st]++;
  }
  uint64_t k = 3;
  tsmap_status st = tsmap_put_if_version(a, &k, 8, &v, 12345, NULL, NULL);
  CHECK_ST(st, TSMAP_CONFLICT);
  xa.count[1][st]++;
  st = tsmap_get_version(a, &k, 8, &v, &ver);
  CHECK_ST(st, TSMAP_OK);
  xa.count[0][st]++;
  v = 2;
  st = tsmap_put_if_version(a, &k, 8, &v, ver, &ver, NULL);
  CHECK_ST(st, TSMAP_REPLACED);
  xa.count[1][st]++;
  tsmap_verdict store = TSMAP_STORE;
  st = tsmap_compute_if_version(a, &k, 8, ver, compute_cb, &store, &ver, NULL);
  CHECK_ST(st, TSMAP_OK);
  xa.count[3][st]++;
  st = tsmap_compute_if_version(a, &k, 8, 1, compute_cb, &store, NULL, NULL);
  CHECK_ST(st, TSMAP_CONFLICT);
  xa.count[3][st]++;
  for (uint64_t i = 10; i < 15; i++) {
    st = tsmap_remove_if_version(a, &i, 8, TSMAP_VERSION_ANY, NULL, NULL);
    CHECK_ST(st, TSMAP_OK);
    xa.count[2][st]++;
  }
  k = 999;
  st = tsmap_get_version(a, &k, 8, NULL, NULL);
  CHECK_ST(st, TSMAP_NOT_FOUND);
  xa.count[0][st]++;
  /* plain ops are still counted under their own names */
  for (uint64_t i = 0; i < 5; i++) {
    uint64_t val = 7;
    model_add(ma, OP_PUT, tsmap_put(a, &i, 8, &val, NULL));
    model_add(ma, OP_GET, tsmap_get(a, &i, 8, NULL));
  }
  long visited = 0;
  st = tsmap_foreach_since(a, 0, visit_change, &visited, NULL);
  CHECK_ST(st, TSMAP_OK);
  xa.count[4][st]++;
  long exported = 0;
  st = tsmap_export(a, 0, visit_change, &exported, NULL);
  CHECK_ST(st, TSMAP_OK);
  xa.count[5][st]++;
  uint64_t horizon[2] = {0, 0};
  st = tsmap_forget(a, horizon, 2, NULL);
  CHECK_ST(st, TSMAP_OK);
  xa.count[7][st]++;
  /* a change from b merged into a: a new key, then the same again (a duplicate) */
  uint64_t bk = 5000, bv = 9;
  CHECK_ST(tsmap_put(b, &bk, 8, &bv, NULL), TSMAP_OK);
  uint64_t clock[2] = {0, 1};
  tsmap_change c = {&bk, 8, &bv, clock, 2, (1u << 8) | 1, 0};
  st = tsmap_merge(a, &c, NULL, NULL, NULL);
  CHECK_ST(st, TSMAP_OK);
  xa.count[6][st]++;
  st = tsmap_merge(a, &c, NULL, NULL, NULL);
  CHECK_ST(st, TSMAP_EXISTS);
  xa.count[6][st]++;
  expo e;
  scrape(a, &e, NULL);
  check_extra(&e, "bb-replica-a", &xa);
  check_model(&e, "bb-replica-a", ma); /* get and put: the 5 plain calls alone */
  check_gauges(a, "bb-replica-a", &e);  /* tombstones are not entries */
  check_evictions(&e, "bb-replica-a", NULL);
  expo_free(&e);
  scrape(b, &e, NULL);
  check_extra(&e, "bb-replica-b", &xb);
  expo_free(&e);
  tsmap_destroy(a), tsmap_destroy(b);
  free(ma);
}

/* The *_ttl and put_ptr forms count as their plain forms; a call refused for a bad
 * argument on a live map is counted with its status. */
static void test_mbb_forms_and_refusals_count_as_their_op(void) {
  for (int key8 = 0; key8 < 2; key8++) {
    tsmap_config cfg;
    tsmap_config_init(&cfg, sizeof(void *));
    cfg.key_size = key8 ? 8 : 0;
    cfg.expiry = 1;
    tsmap *m = metered_with_hooks(&cfg, "bb-forms");
    op_model *mo = calloc(1, sizeof *mo);
    static char obj[4];
    uint64_t k = 1, k2 = 2, k3 = 3, k4 = 4;
    model_add(mo, OP_PUT, tsmap_put_ptr(m, &k, 8, &obj[0], NULL));
    model_add(mo, OP_PUT, tsmap_put_ptr_ttl(m, &k, 8, &obj[1], TSMAP_TTL_NEVER, NULL));
    model_add(mo, OP_PUT, tsmap_put_ttl(m, &k2, 8, &(void *){&obj[2]}, 1000000000, NULL));
    model_add(mo, OP_PIA, tsmap_put_ptr_if_absent(m, &k, 8, &obj[2], NULL));
    model_add(mo, OP_PIA, tsmap_put_ptr_if_absent_ttl(m, &k3, 8, &obj[3], 1000, NULL));
    model_add(mo, OP_PIA, tsmap_put_if_absent_ttl(m, &k3, 8, &(void *){obj}, 1000, NULL));
    tsmap_verdict keep = TSMAP_KEEP;
    model_add(mo, OP_CIA, tsmap_compute_if_absent_ttl(m, &k4, 8, absent_ok, NULL, 10, NULL));
    model_add(mo, OP_COMPUTE, tsmap_compute_ttl(m, &k4, 8, compute_cb, &keep, 10, NULL));
    model_add(mo, OP_CIP, tsmap_compute_if_present_ttl(m, &k4, 8, compute_cb, &keep, 10,
                                                       NULL));
    /* refused: a key of the wrong length (fixed-size keys), a NULL key with a length, a
     * put_ptr on a map whose values are not pointers (here they are: so a NULL callback) */
    tsmap_status st = tsmap_get(m, "123456789", key8 ? 9 : 0 + 9, NULL);
    if (key8)
      CHECK_ST(st, TSMAP_INVALID_ARGUMENT);
    model_add(mo, OP_GET, st);
    model_add(mo, OP_GET, tsmap_get(m, NULL, 8, NULL));
    model_add(mo, OP_PUT, tsmap_put(m, NULL, 8, &(void *){obj}, NULL));
    model_add(mo, OP_REMOVE, tsmap_remove(m, NULL, 3, NULL));
    model_add(mo, OP_CIA, tsmap_compute_if_absent(m, &k, 8, NULL, NULL, NULL));
    model_add(mo, OP_COMPUTE, tsmap_compute(m, &k, 8, NULL, NULL, NULL));
    model_add(mo, OP_MAINTAIN, tsmap_maintain(m, 100));
    expo e;
    scrape(m, &e, NULL);
    check_model(&e, "bb-forms", mo);
    check_evictions(&e, "bb-forms", NULL);
    expo_free(&e);
    tsmap_destroy(m);
    free(mo);
  }
}

/* A map with no hooks still counts every value that leaves, by reason (the 8-byte paths
 * included, whose overwrites reach no hook). */
static void test_mbb_evictions_without_hooks(void) {
  for (int key8 = 0; key8 < 2; key8++) {
    tsmap_config cfg;
    metered_config(&cfg, "bb-no-hooks", key8);
    tsmap *m;
    CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
    long replaced = 0, removed = 0;
    for (int round = 0; round < 3; round++)
      for (uint64_t i = 0; i < 3000; i++)
        replaced += tsmap_put(m, &i, 8, &i, NULL) == TSMAP_REPLACED;
    uint64_t out;
    for (uint64_t i = 0; i < 3000; i += 2)
      removed += tsmap_remove(m, &i, 8, i % 4 ? &out : NULL) == TSMAP_OK;
    expo e;
    scrape(m, &e, NULL);
    double r = expo_get(&e, "tsmap_evictions_total", "map", "bb-no-hooks", "reason",
                        "replaced", NULL);
    double d = expo_get(&e, "tsmap_evictions_total", "map", "bb-no-hooks", "reason",
                        "removed", NULL);
    if (r != (double)replaced || d != (double)removed)
      fprintf(stderr, "  key_size %d: replaced %.0f of %ld, removed %.0f of %ld\n",
              key8 ? 8 : 0, r, replaced, d, removed);
    CHECK(r == (double)replaced && d == (double)removed);
    expo_free(&e);
    tsmap_destroy(m);
  }
}

/* Counting never needs memory the allocator refuses: with every allocation failing, the
 * calls of new threads are still counted exactly. */
static _Atomic int g_fail_alloc;
static void *get_three_times(void *arg) {
  op_model **pm = arg;
  tsmap *m = (tsmap *)pm[0];
  for (uint64_t i = 0; i < 3; i++)
    model_add(pm[1], OP_GET, tsmap_get(m, &i, 8, NULL));
  return NULL;
}

static void test_mbb_counts_with_a_failing_allocator(void) {
  tsmap_allocator al = {tsmap_test_switch_alloc, tsmap_test_free, &g_fail_alloc};
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.key_size = 8;
  cfg.allocator = &al;
  cfg.name = "bb-no-memory";
  cfg.metrics = 1;
  tsmap *m;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  op_model *mo = calloc(1, sizeof *mo);
  g_fail_alloc = 1;
  for (uint64_t i = 0; i < 2000; i++)
    model_add(mo, OP_PUT, tsmap_put(m, &i, 8, &i, NULL)); /* some NO_MEMORY */
  void *arg[2] = {m, mo};
  for (int t = 0; t < 4; t++) {
    pthread_t th;
    pthread_create(&th, NULL, get_three_times, arg);
    pthread_join(th, NULL);
  }
  g_fail_alloc = 0;
  CHECK(mo->count[OP_PUT][TSMAP_NO_MEMORY] > 0);
  expo e;
  scrape(m, &e, NULL);
  check_model(&e, "bb-no-memory", mo);
  check_gauges(m, "bb-no-memory", &e);
  expo_free(&e);
  tsmap_destroy(m);
  free(mo);
}

typedef struct shared_job {
  tsmap *m;
  _Atomic int stop;
  _Atomic long ok, missed;
} shared_job;

/* The allocator of the shared-stripe test: it refuses the worker threads (so that their
 * counters cannot be allocated) and serves the scraping thread (tsmap_metrics_write takes
 * its working memory from the map's allocator). */
static _Thread_local int tl_refused;
static void *alloc_unless_refused(size_t size, void *ctx) {
  (void)ctx;
  return tl_refused ? NULL : malloc(size);
}

static void *gets_and_misses(void *arg) {
  shared_job *j = arg;
  long ok = 0, missed = 0;
  tl_refused = 1; /* this thread gets no counters of its own */
  for (uint64_t i = 0; !j->stop; i++) {
    uint64_t k = i % 64;
    tsmap_status st = tsmap_get(j->m, &k, 8, NULL);
    ok += st == TSMAP_OK, missed += st == TSMAP_NOT_FOUND;
  }
  j->ok += ok, j->missed += missed;
  return NULL;
}

/* Threads whose counters could not be allocated share one set (DESIGN M1): calls timed on
 * several of them at once must still give an exact _count and cumulative buckets, scrape
 * after scrape. */
static void test_mbb_threads_sharing_counters_time_exactly(void) {
  tsmap_allocator al = {alloc_unless_refused, tsmap_test_free, NULL};
  for (int key8 = 0; key8 < 2; key8++) {
    tsmap_config cfg;
    metered_config(&cfg, "bb-shared-stripe", key8);
    cfg.allocator = &al;
    tsmap *m;
    CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
    for (uint64_t k = 0; k < 32; k++)
      CHECK_ST(tsmap_put(m, &k, 8, &k, NULL), TSMAP_OK);
    op_model *mo = calloc(1, sizeof *mo);
    mo->count[OP_PUT][TSMAP_OK] = 32;
    shared_job j = {m, 0, 0, 0};
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
      pthread_create(&t[i], NULL, gets_and_misses, &j);
    seen prev = {0};
    long bad = 0;
    for (double t0 = tsmap_test_now(); tsmap_test_now() - t0 < 1.5;) {
      expo e;
      scrape(m, &e, NULL); /* cumulative buckets, +Inf equal to _count */
      bad += check_not_down(&e, &prev);
      expo_free(&e);
      usleep(20000);
    }
    j.stop = 1;
    for (int i = 0; i < 4; i++)
      pthread_join(t[i], NULL);
    mo->count[OP_GET][TSMAP_OK] = j.ok;
    mo->count[OP_GET][TSMAP_NOT_FOUND] = j.missed;
    fprintf(stderr, "  key_size %d: %ld gets from 4 threads sharing counters\n", key8 ? 8 : 0,
            (long)(j.ok + j.missed));
    expo e;
    scrape(m, &e, NULL);
    bad += check_not_down(&e, &prev);
    check_model(&e, "bb-shared-stripe", mo);
    CHECK(bad == 0);
    expo_free(&e);
    seen_free(&prev);
    tsmap_destroy(m);
    free(mo);
  }
}

/* ---- The parser has teeth: malformed text is rejected -------------------------------------- */

static void test_mbb_the_parser_rejects_malformed_text(void) {
  static const char *const bad[] = {
      "# HELP a x\n# TYPE a counter\na 1",                                   /* no last \n */
      "# HELP a x\n# HELP a y\n# TYPE a counter\na 1\n",                     /* HELP twice */
      "# HELP a x\n# TYPE a counter\n# TYPE a counter\na 1\n",               /* TYPE twice */
      "# HELP a x\n# TYPE a counter\na 1\n# HELP b y\n# TYPE b gauge\nb 1\na{x=\"1\"} 2\n",
      "# HELP a x\n# TYPE a counter\na{l=\"\\t\"} 1\n",                       /* bad escape */
      "# HELP a x\n# TYPE a counter\na{l=\"x} 1\n",                           /* unterminated */
      "# HELP a x\n# TYPE a counter\na{l=\"1\",l=\"2\"} 1\n",                 /* label twice */
      "# HELP a x\n# TYPE a counter\na{x=\"1\",y=\"2\"} 1\na{y=\"2\",x=\"1\"} 1\n", /* dup */
      "# HELP a x\n# TYPE a counter\na 1,0\n",                                /* bad value */
      "# HELP a x\n# TYPE a counter\na -1\n",                                 /* negative */
      "a 1\n",                                                                /* no TYPE */
      "# HELP a x\na 1\n# TYPE a counter\n",                                  /* TYPE late */
      "# HELP a x\n# TYPE a counter\na{1x=\"1\"} 1\n",                        /* label name */
      "# HELP a x\n# TYPE a counter\na{l=\"\xff\"} 1\n",                      /* not UTF-8 */
      "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 3\nh_bucket{le=\"+Inf\"} 2\n"
      "h_sum 1\nh_count 2\n",                                                 /* not cumulative */
      "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n",
      "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 2\n",  /* no _sum */
      "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\n"
      "h_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n",                        /* le falls */
      "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n", /* +Inf */
      "# HELP h x\n# TYPE h histogram\nh_sum{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    expo e;
    expo_parse(&e, bad[i], strlen(bad[i]));
    if (!e.err[0])
      fprintf(stderr, "  accepted bad text #%zu\n", i);
    CHECK(e.err[0] != '\0');
    expo_free(&e);
  }
  static const char good[] =
      "# HELP h x \\\\ y\\n z\n# TYPE h histogram\n"
      "h_bucket{m=\"q\\\"\\\\\\n\",le=\"0.1\"} 1\nh_bucket{m=\"q\\\"\\\\\\n\",le=\"+Inf\"} 2\n"
      "h_sum{m=\"q\\\"\\\\\\n\"} 0.5\nh_count{m=\"q\\\"\\\\\\n\"} 2\n"
      "# a comment\n\n# HELP c y\n# TYPE c counter\nc{m=\"\"} 1e3 1700000000000\n";
  expo e;
  expo_parse(&e, good, strlen(good));
  if (e.err[0])
    fprintf(stderr, "  rejected good text: %s\n", e.err);
  CHECK(e.err[0] == '\0');
  CHECK(expo_get(&e, "h_count", "m", "q\"\\\n", NULL) == 2);
  CHECK(expo_get(&e, "c", "m", "", NULL) == 1000);
  const family *h = expo_family(&e, "h");
  CHECK(h && h->help && !strcmp(h->help, "x \\ y\n z"));
  expo_free(&e);
}

/* ---- Scrapes racing close; the map's own hooks scraping it --------------------------------- */

typedef struct close_race {
  tsmap *m;
  _Atomic int stop;
  long ok, closed;
} close_race;

static void *write_all_loop(void *arg) {
  close_race *c = arg;
  while (!c->stop)
    CHECK_ST(tsmap_metrics_write_all(null_writer, NULL), TSMAP_OK);
  return NULL;
}

static void *scrape_until_closed(void *arg) {
  close_race *c = arg;
  while (!c->stop) {
    char buf[256];
    size_t len;
    tsmap_status st = tsmap_metrics_format(c->m, buf, sizeof buf, &len);
    c->ok += st == TSMAP_NO_MEMORY;
    c->closed += st == TSMAP_CLOSED;
    CHECK(st == TSMAP_NO_MEMORY || st == TSMAP_CLOSED);
    if (st == TSMAP_CLOSED)
      break;
  }
  return NULL;
}

static void test_mbb_scrapes_racing_close(void) {
  tsmap_test_watchdog("test_mbb_scrapes_racing_close", 120);
  long ok = 0, closed = 0;
  for (int round = 0; round < 40 / (SCALE > 1 ? 4 : 1); round++) {
    tsmap_config cfg;
    tsmap_config_init(&cfg, 8);
    cfg.key_size = round % 2 ? 8 : 0;
    cfg.name = "bb-close-race";
    cfg.metrics = 1;
    tsmap *m;
    CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
    for (uint64_t i = 0; i < 5000; i++)
      (void)tsmap_put(m, &i, 8, &i, NULL);
    close_race c = {m, 0, 0, 0};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
      pthread_create(&t[i], NULL, i ? scrape_until_closed : write_all_loop, &c);
    usleep((useconds_t)(round * 100));
    CHECK_ST(tsmap_close(m), TSMAP_OK);
    c.stop = 1;
    for (int i = 0; i < 2; i++)
      pthread_join(t[i], NULL);
    ok += c.ok, closed += c.closed;
    tsmap_destroy(m);
  }
  fprintf(stderr, "  %ld scrapes before close, %ld refused after\n", ok, closed);
  alarm(0);
}

typedef struct close_scrape {
  tsmap *m;
  _Atomic long evict_calls, evict_closed, closed_hook;
} close_scrape;
static close_scrape g_cs;

static void scraping_evict_hook(const void *k, size_t kl, void *v, tsmap_evict_reason why,
                                void *ctx) {
  (void)k, (void)kl, (void)v, (void)ctx;
  if (why != TSMAP_EVICT_CLOSED)
    return;
  g_cs.evict_calls++;
  g_cs.evict_closed += tsmap_metrics_write(g_cs.m, null_writer, NULL) == TSMAP_CLOSED;
  size_t n;
  (void)tsmap_metrics_format(NULL, NULL, 0, &n);
}
static void scraping_closed_hook(void *ctx) {
  (void)ctx;
  g_cs.closed_hook = tsmap_metrics_write(g_cs.m, null_writer, NULL) == TSMAP_CLOSED;
}

/* Hooks that run during close may call the map: its metrics are refused (TSMAP_CLOSED),
 * and write_all goes on without it; nothing waits for ever. */
static void test_mbb_hooks_scraping_during_close(void) {
  tsmap_test_watchdog("test_mbb_hooks_scraping_during_close", 60);
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.name = "bb-close-hooks";
  cfg.metrics = 1;
  cfg.on_entry_evicted = scraping_evict_hook;
  cfg.on_map_closed = scraping_closed_hook;
  memset(&g_cs, 0, sizeof g_cs);
  CHECK_ST(tsmap_create(&cfg, &g_cs.m), TSMAP_OK);
  for (uint64_t i = 0; i < 50; i++)
    CHECK_ST(tsmap_put(g_cs.m, &i, 8, &i, NULL), TSMAP_OK);
  CHECK_ST(tsmap_close(g_cs.m), TSMAP_OK);
  CHECK(g_cs.evict_calls == 50 && g_cs.evict_closed == 50 && g_cs.closed_hook == 1);
  tsmap_destroy(g_cs.m);
  alarm(0);
}

/* ---- Lifespans and durations in seconds, across growth and reshards ------------------------ */

static double bucket_at(const expo *e, const char *hist, const char *name, const char *lname,
                        const char *lvalue, double le_max, int below) {
  /* the largest bucket with le <= le_max (below) or the smallest with le >= le_max */
  char bucket[128];
  snprintf(bucket, sizeof bucket, "%s_bucket", hist);
  double best_le = below ? -INFINITY : INFINITY, best = -1;
  for (size_t i = 0; i < e->ns; i++) {
    const sample *s = &e->s[i];
    const char *le = label_of(s, "le"), *mp = label_of(s, "map"), *lv = label_of(s, lname);
    double v;
    if (strcmp(s->name, bucket) || !le || !mp || strcmp(mp, name) || !lv ||
        strcmp(lv, lvalue) || !parse_value(le, strlen(le), &v))
      continue;
    if (below ? (v <= le_max && v > best_le) : (v >= le_max && v < best_le))
      best_le = v, best = s->value;
  }
  return best;
}

static void lifespans_after(int reshard) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.key_size = 8;
  cfg.shard_count = 1;
  cfg.max_shard_count = 16;
  const char *name = reshard ? "bb-life-reshard" : "bb-life-growth";
  tsmap *m = metered_with_hooks(&cfg, name);
  uint64_t n = 20000;
  for (uint64_t i = 0; i < n; i++) /* from a minimal table: growths move the entries */
    CHECK_ST(tsmap_put(m, &i, 8, &i, NULL), TSMAP_OK);
  usleep(400000);
  if (reshard) {
    CHECK_ST(tsmap_reshard(m, 8), TSMAP_OK);
    tsmap_test_finish_reshard(m);
  }
  double t0 = tsmap_test_now();
  for (uint64_t i = 0; i < n; i++)
    CHECK_ST(tsmap_remove(m, &i, 8, NULL), TSMAP_OK);
  double took = tsmap_test_now() - t0;
  expo e;
  scrape(m, &e, NULL);
  double count = expo_get(&e, "tsmap_entry_lifespan_seconds_count", "map", name, "reason",
                          "removed", NULL);
  double sum = expo_get(&e, "tsmap_entry_lifespan_seconds_sum", "map", name, "reason",
                        "removed", NULL);
  double under = bucket_at(&e, "tsmap_entry_lifespan_seconds", name, "reason", "removed",
                           0.3, 1);
  double within = bucket_at(&e, "tsmap_entry_lifespan_seconds", name, "reason", "removed",
                            60, 0);
  fprintf(stderr, "  %s: %.0f lifespans, mean %.3f s, %.0f under 0.3 s, %.0f within 60 s\n",
          name, count, count > 0 ? sum / count : 0, under, within);
  CHECK(count > 0);
  CHECK(under == 0);           /* every entry lived at least 0.4 s */
  CHECK(within == count);      /* and far less than a minute */
  CHECK(count <= 0 || (sum / count >= 0.39 && sum / count <= 60 + took));
  expo_free(&e);
  tsmap_destroy(m);
}

static void test_mbb_lifespans_survive_growth_and_reshards(void) {
  lifespans_after(0);
  lifespans_after(1);
}

static int sleepy_absent(const void *k, size_t kl, void *ctx, void *out) {
  (void)k, (void)kl, (void)ctx;
  usleep(30000);
  uint64_t v = 1;
  memcpy(out, &v, 8);
  return 0;
}
static void *two_sleepy_calls(void *arg) {
  for (uint64_t k = 100; k < 102; k++)
    CHECK_ST(tsmap_compute_if_absent((tsmap *)arg, &k, 8, sleepy_absent, NULL, NULL),
             TSMAP_OK);
  return NULL;
}

/* Every kind of overwrite ends the old value's life (replaced, at its age) and starts the
 * new one's: a value overwritten 1.2 s after its insert and removed at once lived under
 * 1 s (room for a loaded machine's stalls), whichever call overwrote it. */
enum { OW_PUT, OW_PUT_OLD, OW_COMPUTE, OW_CIP, OW_PUT_IF_VERSION, OW_COMPUTE_IF_VERSION,
       OW_KINDS };
static const char *const ow_names[OW_KINDS] = {"put", "put with old_out", "compute",
                                               "compute_if_present", "put_if_version",
                                               "compute_if_version"};

static void overwrite(tsmap *m, int kind, uint64_t k) {
  uint64_t v = k + 1, old;
  tsmap_verdict store = TSMAP_STORE;
  switch (kind) {
  case OW_PUT: CHECK_ST(tsmap_put(m, &k, 8, &v, NULL), TSMAP_REPLACED); break;
  case OW_PUT_OLD: CHECK_ST(tsmap_put(m, &k, 8, &v, &old), TSMAP_REPLACED); break;
  case OW_COMPUTE: CHECK_ST(tsmap_compute(m, &k, 8, compute_cb, &store, NULL), TSMAP_OK); break;
  case OW_CIP:
    CHECK_ST(tsmap_compute_if_present(m, &k, 8, compute_cb, &store, NULL), TSMAP_OK);
    break;
  case OW_PUT_IF_VERSION:
    CHECK_ST(tsmap_put_if_version(m, &k, 8, &v, TSMAP_VERSION_ANY, NULL, NULL),
             TSMAP_REPLACED);
    break;
  default:
    CHECK_ST(tsmap_compute_if_version(m, &k, 8, TSMAP_VERSION_ANY, compute_cb, &store, NULL,
                                      NULL), TSMAP_OK);
  }
}

static void test_mbb_every_overwrite_restarts_a_lifespan(void) {
  for (int key8 = 0; key8 < 2; key8++) {
    tsmap *maps[OW_KINDS];
    uint64_t n = 8000 / (uint64_t)SCALE + 3000;
    for (int kind = 0; kind < OW_KINDS; kind++) {
      tsmap_config cfg;
      tsmap_config_init(&cfg, 8);
      cfg.key_size = key8 ? 8 : 0;
      cfg.versions = kind >= OW_PUT_IF_VERSION;
      char name[64];
      snprintf(name, sizeof name, "bb-restamp-%d", kind);
      cfg.name = name;
      cfg.metrics = 1;
      CHECK_ST(tsmap_create(&cfg, &maps[kind]), TSMAP_OK);
      for (uint64_t k = 0; k < n; k++)
        CHECK_ST(tsmap_put(maps[kind], &k, 8, &k, NULL), TSMAP_OK);
    }
    usleep(1200000);
    for (int kind = 0; kind < OW_KINDS; kind++) {
      for (uint64_t k = 0; k < n; k++)
        overwrite(maps[kind], kind, k);
      for (uint64_t k = 0; k < n; k++)
        CHECK_ST(tsmap_remove(maps[kind], &k, 8, NULL), TSMAP_OK);
      char name[64];
      snprintf(name, sizeof name, "bb-restamp-%d", kind);
      expo e;
      scrape(maps[kind], &e, NULL);
      double rp = expo_get(&e, "tsmap_entry_lifespan_seconds_count", "map", name, "reason",
                           "replaced", NULL);
      double rp_young = bucket_at(&e, "tsmap_entry_lifespan_seconds", name, "reason",
                                  "replaced", 1, 1);
      double rm = expo_get(&e, "tsmap_entry_lifespan_seconds_count", "map", name, "reason",
                           "removed", NULL);
      double rm_young = bucket_at(&e, "tsmap_entry_lifespan_seconds", name, "reason",
                                  "removed", 1, 1);
      if (!(rp > 0 && rp_young == 0 && rm == rp && rm_young == rm))
        fprintf(stderr, "  key_size %d, %s: replaced %.0f (%.0f under 1 s), removed %.0f "
                "(%.0f under 1 s)\n", key8 ? 8 : 0, ow_names[kind], rp, rp_young, rm,
                rm_young);
      CHECK(rp > 0 && rp_young == 0); /* the first values lived 1.2 s */
      CHECK(rm == rp && rm_young == rm); /* the second ones were born at the overwrite */
      expo_free(&e);
      tsmap_destroy(maps[kind]);
    }
  }
}

/* Mid-reshard, with nobody writing: the gauges still match tsmap_size and the shard count
 * tsmap_shard_counts routes by, after each step of the moves. */
static void test_mbb_gauges_in_the_middle_of_a_reshard(void) {
  for (int metered = 0; metered < 2; metered++) {
    tsmap_config cfg;
    tsmap_config_init(&cfg, 8);
    cfg.key_size = 8;
    cfg.shard_count = 2;
    cfg.max_shard_count = 64;
    cfg.name = "bb-mid-reshard";
    cfg.metrics = metered;
    tsmap *m;
    CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
    for (uint64_t k = 0; k < 20000; k++)
      CHECK_ST(tsmap_put(m, &k, 8, &k, NULL), TSMAP_OK);
    static const size_t targets[] = {16, 4, 64, 1};
    for (size_t t = 0; t < 4; t++) {
      CHECK_ST(tsmap_reshard(m, targets[t]), TSMAP_OK);
      for (int step = 0; step < 12; step++) {
        expo e;
        scrape(m, &e, NULL);
        check_gauges(m, "bb-mid-reshard", &e);
        expo_free(&e);
        (void)tsmap_maintain(m, 700);
        usleep(2000); /* the helper prepares the next phase's tables */
      }
      tsmap_test_finish_reshard(m);
      expo e;
      scrape(m, &e, NULL);
      check_gauges(m, "bb-mid-reshard", &e);
      CHECK(expo_get(&e, "tsmap_shards", "map", "bb-mid-reshard", NULL) == (double)targets[t]);
      CHECK(expo_get(&e, "tsmap_entries", "map", "bb-mid-reshard", NULL) == 20000);
      expo_free(&e);
    }
    tsmap_destroy(m);
  }
}

/* "Every call ... by returned status": each op refused for an argument, on a live metered
 * map that has neither versions nor replicas, is counted once under its own name. */
static void test_mbb_every_op_counts_its_refusals(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.name = "bb-refusals";
  cfg.metrics = 1;
  tsmap *m;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  uint64_t k = 1, v = 1, ver = 0, horizon[1] = {0};
  tsmap_verdict keep = TSMAP_KEEP;
  tsmap_change c = {&k, 8, &v, NULL, 0, 0, 0};
  struct {
    const char *op;
    tsmap_status st;
  } calls[] = {
      {"get", tsmap_get(m, NULL, 3, NULL)},
      {"put", tsmap_put(m, NULL, 3, &v, NULL)},
      {"put_if_absent", tsmap_put_if_absent(m, NULL, 3, &v, NULL)},
      {"remove", tsmap_remove(m, NULL, 3, NULL)},
      {"compute_if_absent", tsmap_compute_if_absent(m, &k, 8, NULL, NULL, NULL)},
      {"compute_if_present", tsmap_compute_if_present(m, &k, 8, NULL, NULL, NULL)},
      {"compute", tsmap_compute(m, NULL, 3, compute_cb, &keep, NULL)},
      {"get_version", tsmap_get_version(m, &k, 8, NULL, &ver)},
      {"put_if_version", tsmap_put_if_version(m, &k, 8, &v, 0, NULL, NULL)},
      {"remove_if_version", tsmap_remove_if_version(m, &k, 8, 0, NULL, NULL)},
      {"compute_if_version",
       tsmap_compute_if_version(m, &k, 8, 0, compute_cb, &keep, NULL, NULL)},
      {"foreach_since", tsmap_foreach_since(m, 0, visit_change, &(long){0}, NULL)},
      {"export", tsmap_export(m, 0, visit_change, &(long){0}, NULL)},
      {"merge", tsmap_merge(m, &c, NULL, NULL, NULL)},
      {"forget", tsmap_forget(m, horizon, 1, NULL)},
      {"reshard", tsmap_reshard(m, 3)},
      {"put", tsmap_put_ttl(m, &k, 8, &v, 5, NULL)}, /* a map without expiry */
  };
  size_t n = sizeof calls / sizeof calls[0];
  expo e;
  scrape(m, &e, NULL);
  for (size_t i = 0; i < n; i++) {
    CHECK_ST(calls[i].st, TSMAP_INVALID_ARGUMENT);
    long want = 0;
    for (size_t j = 0; j < n; j++)
      want += !strcmp(calls[j].op, calls[i].op);
    double got = expo_get(&e, "tsmap_operations_total", "map", "bb-refusals", "op",
                          calls[i].op, "status", "invalid_argument", NULL);
    if (got != (double)want)
      fprintf(stderr, "  %s: %.0f refusals exposed, %ld made\n", calls[i].op, got, want);
    CHECK(got == (double)want);
  }
  expo_free(&e);
  tsmap_destroy(m);
}

/* A call of 30 ms is timed in seconds: the first or second call of a thread is timed. */
static void test_mbb_durations_are_seconds(void) {
  tsmap *m = named_map("bb-durations", 1);
  pthread_t t;
  pthread_create(&t, NULL, two_sleepy_calls, m);
  pthread_join(t, NULL);
  expo e;
  scrape(m, &e, NULL);
  double count = expo_get(&e, "tsmap_operation_duration_seconds_count", "map",
                          "bb-durations", "op", "compute_if_absent", NULL);
  double sum = expo_get(&e, "tsmap_operation_duration_seconds_sum", "map", "bb-durations",
                        "op", "compute_if_absent", NULL);
  double fast = bucket_at(&e, "tsmap_operation_duration_seconds", "bb-durations", "op",
                          "compute_if_absent", 0.025, 1);
  double slow = bucket_at(&e, "tsmap_operation_duration_seconds", "bb-durations", "op",
                          "compute_if_absent", 0.1, 0);
  fprintf(stderr, "  2 calls of 30 ms: _count %.0f, _sum %.4f s, %.0f under 25 ms, %.0f "
          "within 100 ms\n", count, sum, fast, slow);
  CHECK(count == 2);
  CHECK(sum >= 0.029 && sum < 5);
  CHECK(fast == 0);
  CHECK(slow >= 1 || sum > 0.1); /* timed within 100 ms, unless the machine stalled it */
  expo_free(&e);
  tsmap_destroy(m);
}

/* ---- Retries, single-flight waits, re-entries --------------------------------------------- */

typedef struct retry_ctx {
  tsmap *m;
  _Atomic int runs;
} retry_ctx;

static void *put_key_seven(void *arg) {
  uint64_t k = 7, v = 70;
  CHECK_ST(tsmap_put((tsmap *)arg, &k, 8, &v, NULL), TSMAP_REPLACED);
  return NULL;
}
/* The first run has another thread overwrite the key, so the map runs it again. */
static tsmap_verdict racing_cb(const void *k, size_t kl, const void *old, void *ctx,
                               void *nv) {
  (void)k, (void)kl;
  retry_ctx *rc = ctx;
  if (rc->runs++ == 0) {
    pthread_t t;
    pthread_create(&t, NULL, put_key_seven, rc->m);
    pthread_join(t, NULL);
  }
  uint64_t v = *(const uint64_t *)old + 1;
  memcpy(nv, &v, 8);
  return TSMAP_STORE;
}

typedef struct flight {
  tsmap *m;
  _Atomic int release, running;
  tsmap_status st;
} flight;
static int slow_absent(const void *k, size_t kl, void *ctx, void *out) {
  (void)k, (void)kl;
  flight *f = ctx;
  f->running = 1;
  while (!f->release)
    usleep(1000);
  uint64_t v = 42;
  memcpy(out, &v, 8);
  return 0;
}
static void *flight_caller(void *arg) {
  flight *f = arg;
  uint64_t k = 9, v = 0;
  f->st = tsmap_compute_if_absent(f->m, &k, 8, slow_absent, f, &v);
  CHECK(v == 42);
  return NULL;
}

static double scrape_value(tsmap *m, const char *metric, const char *name) {
  expo e;
  scrape(m, &e, NULL);
  double v = expo_get(&e, metric, "map", name, NULL);
  expo_free(&e);
  return v;
}

static void test_mbb_retries_waits_and_reentries(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  tsmap *m = metered_with_hooks(&cfg, "bb-retries");
  uint64_t k = 7, v = 1;
  CHECK_ST(tsmap_put(m, &k, 8, &v, NULL), TSMAP_OK);
  retry_ctx rc = {m, 0};
  CHECK_ST(tsmap_compute_if_present(m, &k, 8, racing_cb, &rc, &v), TSMAP_OK);  // NOLINT(tsmap-non-idempotent-callback): it counts its runs on purpose, to see the retry
  CHECK(rc.runs == 2 && v == 71);
  CHECK(scrape_value(m, "tsmap_compute_retries_total", "bb-retries") == rc.runs - 1);
  expo e;
  scrape(m, &e, NULL);
  check_evictions(&e, "bb-retries", NULL); /* the first run's result: discarded */
  expo_free(&e);

  /* one thread's callback in flight, another waits for it: one wait */
  flight f = {m, 0, 0, TSMAP_INVALID_ARGUMENT};
  flight g = f;
  pthread_t a, b;
  pthread_create(&a, NULL, flight_caller, &f);
  while (!f.running) /* a's callback is in flight (it cannot finish before release) */
    usleep(1000);
  g.release = 1; /* g's own callback, should it run, would not block */
  pthread_create(&b, NULL, flight_caller, &g);
  double waits = 0;
  for (int i = 0; i < 5000 && waits < 1; i++) {
    waits = scrape_value(m, "tsmap_single_flight_waits_total", "bb-retries");
    usleep(1000);
  }
  f.release = 1;
  pthread_join(a, NULL), pthread_join(b, NULL);
  CHECK_ST(f.st, TSMAP_OK);
  CHECK_ST(g.st, TSMAP_OK);
  CHECK(waits == 1);
  CHECK(scrape_value(m, "tsmap_single_flight_waits_total", "bb-retries") == 1);

  /* re-entries: the sum of the reentered status over ops */
  reenter_ctx re = {m, TSMAP_OK};
  for (int i = 0; i < 3; i++)
    CHECK_ST(tsmap_compute_if_present(m, &k, 8, reentering_cb, &re, NULL), TSMAP_OK);
  scrape(m, &e, NULL);
  double refused = 0;
  for (size_t i = 0; i < e.ns; i++) {
    const char *st = label_of(&e.s[i], "status");
    if (!strcmp(e.s[i].name, "tsmap_operations_total") && st && !strcmp(st, "reentered"))
      refused += e.s[i].value;
  }
  CHECK(refused == 3);
  CHECK(expo_get(&e, "tsmap_reentered_total", "map", "bb-retries", NULL) == 3);
  expo_free(&e);
  tsmap_destroy(m);
}

static uint64_t weight_of_value(const void *k, size_t kl, const void *v, void *ctx) {
  (void)k, (void)kl, (void)ctx;
  return (uint64_t)(uintptr_t) * (void *const *)v % 7 + 1;
}
static void *put_key_seven_anew(void *arg) {
  retry_ctx *rc = arg;
  uint64_t k = 7, v = 1000 + (uint64_t)rc->runs; /* new bytes each time: a change */
  CHECK_ST(tsmap_put(rc->m, &k, 8, &v, NULL), TSMAP_REPLACED);
  return NULL;
}
/* The first three runs each have another thread overwrite the key: three retries. */
static tsmap_verdict racing_compute_cb(const void *k, size_t kl, const void *old, void *ctx,
                                       void *nv) {
  (void)k, (void)kl;
  retry_ctx *rc = ctx;
  if (rc->runs++ < 3) {
    pthread_t t;
    pthread_create(&t, NULL, put_key_seven_anew, rc);
    pthread_join(t, NULL);
  }
  uint64_t x = old ? *(const uint64_t *)old + 1 : 1;
  memcpy(nv, &x, 8);
  return TSMAP_STORE;
}

/* More departures against the hooks: expired values reaped by writes (no maintain),
 * a weighted bound's victims, compute's own retries; and the maintenance thread's calls
 * counted as maintain. */
static void test_mbb_more_departures_and_the_maintenance_thread(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.expiry = 1;
  cfg.clock = manual_clock;
  cfg.shard_count = 2;
  g_clock = 1000;
  tsmap *m = metered_with_hooks(&cfg, "bb-expired-by-writes");
  for (uint64_t i = 0; i < 2000; i++)
    CHECK_ST(tsmap_put_ttl(m, &i, 8, &i, 10, NULL), TSMAP_OK);
  g_clock = 1000000;
  for (uint64_t i = 0; i < 2000; i += 3) /* over expired keys: inserts */
    CHECK_ST(tsmap_put(m, &i, 8, &i, NULL), TSMAP_OK);
  for (uint64_t i = 1; i < 2000; i += 3)
    CHECK_ST(tsmap_remove(m, &i, 8, NULL), TSMAP_NOT_FOUND);
  for (uint64_t i = 10000; i < 14000; i++) /* writes sweep a group each */
    CHECK_ST(tsmap_put(m, &i, 8, &i, NULL), TSMAP_OK);
  expo e;
  scrape(m, &e, NULL);
  CHECK(tsmap_test_hooks.evicted[TSMAP_EVICT_EXPIRED] > 1000);
  check_evictions(&e, "bb-expired-by-writes", NULL);
  expo_free(&e);
  tsmap_destroy(m);

  tsmap_config_init(&cfg, sizeof(void *));
  cfg.weight = weight_of_value;
  cfg.max_weight = 400;
  cfg.shard_count = 4;
  m = metered_with_hooks(&cfg, "bb-weighted");
  for (uint64_t i = 0; i < 3000; i++) {
    void *p = (void *)(uintptr_t)(i * 13);
    tsmap_status st = tsmap_put_ptr(m, &i, 8, p, NULL);
    CHECK(st == TSMAP_OK || st == TSMAP_REPLACED);
  }
  scrape(m, &e, NULL);
  CHECK(tsmap_test_hooks.evicted[TSMAP_EVICT_CAPACITY] > 0);
  check_evictions(&e, "bb-weighted", NULL);
  check_gauges(m, "bb-weighted", &e);
  expo_free(&e);
  tsmap_destroy(m);

  tsmap_config_init(&cfg, 8);
  m = metered_with_hooks(&cfg, "bb-compute-retries");
  uint64_t k = 7, v = 1;
  CHECK_ST(tsmap_put(m, &k, 8, &v, NULL), TSMAP_OK);
  retry_ctx rc = {m, 0};
  CHECK_ST(tsmap_compute(m, &k, 8, racing_compute_cb, &rc, &v), TSMAP_OK);  // NOLINT(tsmap-non-idempotent-callback): it counts its runs on purpose, to see the retries
  CHECK(rc.runs == 4);
  scrape(m, &e, NULL);
  CHECK(expo_get(&e, "tsmap_compute_retries_total", "map", "bb-compute-retries", NULL) == 3);
  check_evictions(&e, "bb-compute-retries", NULL);
  expo_free(&e);
  tsmap_destroy(m);

  tsmap_config_init(&cfg, 8);
  cfg.maintain_interval_ns = 1000000; /* 1 ms */
  m = metered_with_hooks(&cfg, "bb-maintained");
  usleep(100000);
  double ticks = 0;
  for (int i = 0; i < 100 && ticks < 5; i++, usleep(10000)) {
    scrape(m, &e, NULL);
    ticks = expo_get(&e, "tsmap_operations_total", "map", "bb-maintained", "op", "maintain",
                     "status", "ok", NULL);
    expo_free(&e);
  }
  fprintf(stderr, "  the maintenance thread's calls: %.0f\n", ticks);
  CHECK(ticks >= 5);
  tsmap_destroy(m);
}

/* Two compute_if_absent callbacks each asking for the other's key: the first asker waits
 * (one single-flight wait), the second would close a cycle and is refused (one
 * re-entry), and both keys end stored. */
typedef struct cycle {
  tsmap *m;
  _Atomic int in[2];
  tsmap_status inner[2];
} cycle;
static cycle g_cycle;

static int cycle_cb(const void *k, size_t kl, void *ctx, void *out) {
  (void)kl;
  int me = (int)(*(const uint64_t *)k - 100), other = 1 - me;
  (void)ctx;
  g_cycle.in[me] = 1;
  while (!g_cycle.in[other])
    usleep(1000);
  if (me == 1)
    usleep(150000); /* thread 0 asks first, and waits for this callback */
  uint64_t ok = 100 + (uint64_t)other;
  g_cycle.inner[me] = tsmap_compute_if_absent(g_cycle.m, &ok, 8, cycle_cb, NULL, NULL);  // NOLINT(tsmap-non-idempotent-callback): the test's rendezvous flags, set once each
  uint64_t v = 5;
  memcpy(out, &v, 8);
  return 0;
}
static void *cycle_thread(void *arg) {
  uint64_t k = 100 + (uint64_t)(uintptr_t)arg;
  CHECK_ST(tsmap_compute_if_absent(g_cycle.m, &k, 8, cycle_cb, NULL, NULL), TSMAP_OK);  // NOLINT(tsmap-non-idempotent-callback): the test's rendezvous flags, set once each
  return NULL;
}

static void test_mbb_a_wait_cycle_is_one_wait_and_one_reentry(void) {
  tsmap_test_watchdog("test_mbb_a_wait_cycle_is_one_wait_and_one_reentry", 60);
  memset(&g_cycle, 0, sizeof g_cycle);
  g_cycle.m = named_map("bb-cycle", 1);
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    pthread_create(&t[i], NULL, cycle_thread, (void *)(uintptr_t)i);
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
  /* thread 0 asks first unless the machine stalled it for 150 ms: either way one asker
   * waited and the other was refused */
  CHECK((g_cycle.inner[0] == TSMAP_OK && g_cycle.inner[1] == TSMAP_REENTERED) ||
        (g_cycle.inner[1] == TSMAP_OK && g_cycle.inner[0] == TSMAP_REENTERED));
  expo e;
  scrape(g_cycle.m, &e, NULL);
  CHECK(expo_get(&e, "tsmap_single_flight_waits_total", "map", "bb-cycle", NULL) == 1);
  CHECK(expo_get(&e, "tsmap_reentered_total", "map", "bb-cycle", NULL) == 1);
  CHECK(expo_get(&e, "tsmap_operations_total", "map", "bb-cycle", "op", "compute_if_absent",
                 "status", "ok", NULL) == 3);
  CHECK(expo_get(&e, "tsmap_operations_total", "map", "bb-cycle", "op", "compute_if_absent",
                 "status", "reentered", NULL) == 1);
  CHECK(expo_get(&e, "tsmap_entries", "map", "bb-cycle", NULL) == 2);
  expo_free(&e);
  tsmap_destroy(g_cycle.m);
  alarm(0);
}

/* A value a bound refuses at admission never entered: a capacity eviction with no
 * lifespan (observability.md). The hooks tell refusals (the key being inserted, evicted
 * during its own put) from victims, so lifespans of capacity departures are at most the
 * victims'. */
static _Thread_local uint64_t t_inserting = UINT64_MAX;
static _Atomic long g_refused, g_victims;
static void admission_hook(const void *k, size_t kl, void *v, tsmap_evict_reason why,
                           void *ctx) {
  (void)kl, (void)v, (void)ctx;
  uint64_t key;
  memcpy(&key, k, 8);
  if (why == TSMAP_EVICT_CAPACITY)
    (void)(key == t_inserting ? g_refused++ : g_victims++);
}

static void test_mbb_refused_values_have_no_lifespan(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.key_size = 8;
  cfg.shard_count = 1;
  cfg.max_entries = 64;
  cfg.name = "bb-admission";
  cfg.metrics = 1;
  cfg.on_entry_evicted = admission_hook;
  g_refused = g_victims = 0;
  tsmap *m;
  CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
  for (int round = 0; round < 20; round++) /* 64 keys inserted often: hard to displace */
    for (uint64_t k = 0; k < 64; k++) {
      t_inserting = k;
      (void)tsmap_put(m, &k, 8, &k, NULL);
    }
  for (uint64_t k = 1000; k < 41000; k++) { /* a scan of keys seen once */
    t_inserting = k;
    CHECK_ST(tsmap_put(m, &k, 8, &k, NULL), TSMAP_OK);
  }
  t_inserting = UINT64_MAX;
  expo e;
  scrape(m, &e, NULL);
  double left = expo_get(&e, "tsmap_evictions_total", "map", "bb-admission", "reason",
                         "capacity", NULL);
  double lives = expo_get(&e, "tsmap_entry_lifespan_seconds_count", "map", "bb-admission",
                          "reason", "capacity", NULL);
  fprintf(stderr, "  %ld refused, %ld victims; exposed: %.0f capacity evictions, %.0f "
          "lifespans\n", (long)g_refused, (long)g_victims, left, lives);
  CHECK(g_refused > 30000);
  CHECK(left == (double)(g_refused + g_victims));
  CHECK(lives <= (double)g_victims);
  expo_free(&e);
  tsmap_destroy(m);
}

/* ---- Histograms: bucket ranges, HELP, lifespans ------------------------------------------- */

/* The finite le bounds of the first series of histogram `name`: the smallest and largest. */
static void le_range(const expo *e, const char *name, double *lo, double *hi) {
  char bucket[128];
  snprintf(bucket, sizeof bucket, "%s_bucket", name);
  *lo = INFINITY, *hi = -INFINITY;
  for (size_t i = 0; i < e->ns; i++) {
    const char *le = label_of(&e->s[i], "le");
    double v;
    if (!strcmp(e->s[i].name, bucket) && le && parse_value(le, strlen(le), &v) && !isinf(v)) {
      *lo = v < *lo ? v : *lo;
      *hi = v > *hi ? v : *hi;
    }
  }
}

static void test_mbb_histograms_as_documented(void) {
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  tsmap *m = metered_with_hooks(&cfg, "bb-lifespans");
  uint64_t n = 6000;
  for (int round = 0; round < 2; round++) {
    for (uint64_t i = 0; i < n; i++)
      CHECK_ST(tsmap_put(m, &i, 8, &i, NULL), TSMAP_OK);
    for (uint64_t i = 0; i < n; i++)
      if (round == 0)
        CHECK_ST(tsmap_remove(m, &i, 8, NULL), TSMAP_OK);
      else
        CHECK_ST(tsmap_put(m, &i, 8, &i, NULL), TSMAP_REPLACED);
  }
  expo e;
  scrape(m, &e, NULL);
  double lo, hi;
  le_range(&e, "tsmap_operation_duration_seconds", &lo, &hi);
  CHECK(dabs(lo - 1e-7) < 1e-12 && dabs(hi - 0.1) < 1e-9); /* 100 ns to 100 ms */
  le_range(&e, "tsmap_entry_lifespan_seconds", &lo, &hi);
  CHECK(dabs(lo - 0.001) < 1e-9 && dabs(hi - 604800) < 1); /* 1 ms to 7 days */
  const family *d = expo_family(&e, "tsmap_operation_duration_seconds");
  CHECK(d && d->help && strstr(d->help, "256")); /* the sampling rate is in its HELP */
  static const char *const fams[] = {"tsmap_operations_total", "tsmap_evictions_total",
                                     "tsmap_compute_retries_total",
                                     "tsmap_single_flight_waits_total",
                                     "tsmap_reentered_total", "tsmap_migrated_groups_total"};
  for (size_t i = 0; i < sizeof fams / sizeof fams[0]; i++) {
    const family *f = expo_family(&e, fams[i]);
    CHECK(f && f->type && !strcmp(f->type, "counter"));
  }
  /* the same keys are tracked for the map's life: as many lifespans end removed as
   * replaced, each at most the reason's evictions, all of them well under a minute */
  double rm = expo_get(&e, "tsmap_entry_lifespan_seconds_count", "map", "bb-lifespans",
                       "reason", "removed", NULL);
  double rp = expo_get(&e, "tsmap_entry_lifespan_seconds_count", "map", "bb-lifespans",
                       "reason", "replaced", NULL);
  fprintf(stderr, "  lifespans measured: %.0f removed, %.0f replaced of %llu each\n", rm,
          rp, (unsigned long long)n);
  CHECK(rm > 0 && rm == rp && rm <= (double)n);
  CHECK(expo_get(&e, "tsmap_entry_lifespan_seconds_bucket", "map", "bb-lifespans",
                 "reason", "removed", "le", "60", NULL) == rm);
  check_evictions(&e, "bb-lifespans", NULL);
  expo_free(&e);
  tsmap_destroy(m);
}

/* ---- Counters never go down ---------------------------------------------------------------- */

typedef struct churn {
  tsmap *m;
  _Atomic int stop;
  uint64_t base;
} churn;

static void *churn_writer(void *arg) {
  churn *c = arg;
  uint64_t i = 0;
  while (!c->stop) {
    uint64_t k = c->base + i % 200000, v = i;
    (void)tsmap_put(c->m, &k, 8, &v, NULL);
    (void)tsmap_get(c->m, &k, 8, &v);
    if (i % 3 == 0)
      (void)tsmap_remove(c->m, &k, 8, NULL);
    if (i % 7 == 0)
      (void)tsmap_compute_if_absent(c->m, &k, 8, absent_ok, NULL, NULL);
    i++;
  }
  return NULL;
}
static void *short_lived(void *arg) {
  churn *c = arg;
  for (uint64_t i = 0; i < 100; i++) {
    uint64_t k = (1ull << 50) + i, v = i;
    (void)tsmap_put(c->m, &k, 8, &v, NULL);
  }
  return NULL;
}
static void *churn_resharder(void *arg) {
  churn *c = arg;
  static const size_t counts[] = {2, 8, 4, 16, 1, 4};
  for (unsigned i = 0; !c->stop; i++) {
    (void)tsmap_reshard(c->m, counts[i % 6]);
    for (int j = 0; j < 50 && !c->stop; j++) {
      (void)tsmap_maintain(c->m, 512);
      usleep(1000);
    }
    pthread_t t;
    if (pthread_create(&t, NULL, short_lived, c) == 0)
      pthread_join(t, NULL);
  }
  return NULL;
}

static void test_mbb_counters_never_go_down(void) {
  for (int key8 = 0; key8 < 2; key8++) {
    tsmap_config cfg;
    metered_config(&cfg, "bb-monotone", key8);
    cfg.shard_count = 1;
    cfg.max_shard_count = 16;
    tsmap *m;
    CHECK_ST(tsmap_create(&cfg, &m), TSMAP_OK);
    churn c[2] = {{m, 0, 0}, {m, 0, 1u << 20}};
    churn r = {m, 0, 0};
    pthread_t w[2], rs;
    for (int i = 0; i < 2; i++)
      pthread_create(&w[i], NULL, churn_writer, &c[i]);
    pthread_create(&rs, NULL, churn_resharder, &r);
    seen prev = {0};
    long bad = 0;
    int scrapes = 0;
    for (double t0 = tsmap_test_now(); tsmap_test_now() - t0 < 2.0; scrapes++) {
      expo e;
      scrape(scrapes % 2 ? m : NULL, &e, NULL);
      bad += check_not_down(&e, &prev);
      expo_free(&e);
    }
    c[0].stop = c[1].stop = r.stop = 1;
    for (int i = 0; i < 2; i++)
      pthread_join(w[i], NULL);
    pthread_join(rs, NULL);
    expo e;
    scrape(m, &e, NULL);
    bad += check_not_down(&e, &prev);
    fprintf(stderr, "  key_size %d: %d scrapes under writers, reshards and exiting threads\n",
            key8 ? 8 : 0, scrapes);
    CHECK(bad == 0);
    CHECK(expo_get(&e, "tsmap_migrated_groups_total", "map", "bb-monotone", NULL) > 0);
    tsmap_test_finish_reshard(m);
    expo_free(&e);
    scrape(m, &e, NULL);
    check_gauges(m, "bb-monotone", &e);
    expo_free(&e);
    seen_free(&prev);
    tsmap_destroy(m);
  }
}

/* A name used again after its map was destroyed is a new map: its counters start at 0
 * (Prometheus reads the drop as a counter reset, as after a process restart). */
static void test_mbb_a_name_reused_starts_from_zero(void) {
  tsmap *m = named_map("bb-reused", 1);
  for (uint64_t i = 0; i < 10; i++)
    CHECK_ST(tsmap_put(m, &i, 8, &i, NULL), TSMAP_OK);
  CHECK(scrape_value(m, "tsmap_entries", "bb-reused") == 10);
  tsmap_destroy(m);
  m = named_map("bb-reused", 1);
  for (uint64_t i = 0; i < 3; i++)
    CHECK_ST(tsmap_put(m, &i, 8, &i, NULL), TSMAP_OK);
  expo e;
  scrape(NULL, &e, NULL);
  CHECK(expo_get(&e, "tsmap_operations_total", "map", "bb-reused", "op", "put", "status",
                 "ok", NULL) == 3);
  CHECK(expo_get(&e, "tsmap_entries", "map", "bb-reused", NULL) == 3);
  expo_free(&e);
  tsmap_destroy(m);
}

/* ---- Metrics off --------------------------------------------------------------------------- */

static void test_mbb_an_unmetered_map_has_gauges_only(void) {
  tsmap *off = named_map("bb-off", 0), *on = named_map("bb-on", 1);
  for (uint64_t i = 0; i < 1000; i++) {
    CHECK_ST(tsmap_put(off, &i, 8, &i, NULL), TSMAP_OK);
    CHECK_ST(tsmap_put(on, &i, 8, &i, NULL), TSMAP_OK);
    CHECK_ST(tsmap_remove(off, &i, 8, NULL), TSMAP_OK);
  }
  static const char *const gauges[] = {"tsmap_entries", "tsmap_shards", "tsmap_table_bytes",
                                       "tsmap_retired_bytes", "tsmap_growth_in_progress",
                                       "tsmap_migrated_groups_total"};
  for (int all = 0; all < 2; all++) {
    expo e;
    scrape(all ? NULL : off, &e, NULL);
    size_t n_off = 0;
    for (size_t i = 0; i < e.ns; i++) {
      const char *mp = label_of(&e.s[i], "map");
      if (!mp || strcmp(mp, "bb-off") != 0)
        continue;
      int allowed = 0;
      for (size_t g = 0; g < sizeof gauges / sizeof gauges[0]; g++)
        allowed |= !strcmp(e.s[i].name, gauges[g]);
      if (!allowed)
        fprintf(stderr, "  unmetered map has %s\n", e.s[i].key);
      CHECK(allowed);
      n_off++;
    }
    CHECK(n_off == sizeof gauges / sizeof gauges[0]);
    check_gauges(off, "bb-off", &e);
    if (all)
      CHECK(expo_get(&e, "tsmap_operations_total", "map", "bb-on", "op", "put", "status",
                     "ok", NULL) == 1000);
    expo_free(&e);
  }
  tsmap_destroy(off), tsmap_destroy(on);
}

/* ---- tsmap_metrics_format's buffer protocol ------------------------------------------------- */

static void test_mbb_format_buffer_protocol(void) {
  tsmap *m = named_map("bb-format", 1);
  for (uint64_t i = 0; i < 100; i++)
    CHECK_ST(tsmap_put(m, &i, 8, &i, NULL), TSMAP_OK);
  text_buf w = {0};
  CHECK_ST(tsmap_metrics_write(m, collect_writer, &w), TSMAP_OK);
  size_t len = 0;
  CHECK_ST(tsmap_metrics_format(m, NULL, 0, &len), TSMAP_OK);
  CHECK(len == w.len && len > 0);
  char *buf = malloc(len + 64);
  memset(buf, 'Z', len + 64);
  CHECK_ST(tsmap_metrics_format(m, buf, len + 1, &len), TSMAP_OK);
  CHECK(len == w.len && buf[len] == '\0' && !memcmp(buf, w.p, len) && buf[len + 1] == 'Z');
  /* too small: the needed length, a NUL-terminated prefix, nothing past cap */
  size_t caps[] = {0, 1, 2, 17, len / 2, len - 1, len};
  for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
    size_t cap = caps[c], got = 0;
    memset(buf, 'Z', len + 64);
    CHECK_ST(tsmap_metrics_format(m, buf, cap, &got), TSMAP_NO_MEMORY);
    CHECK(got == len);
    if (cap > 0)
      CHECK(buf[cap - 1] == '\0' && !memcmp(buf, w.p, cap - 1));
    CHECK(buf[cap] == 'Z');
  }
  /* every named map: the same protocol */
  size_t all_len = 0;
  CHECK_ST(tsmap_metrics_format(NULL, NULL, 0, &all_len), TSMAP_OK);
  CHECK(all_len >= len);
  char *all = malloc(all_len + 1);
  size_t got = 0;
  CHECK_ST(tsmap_metrics_format(NULL, all, all_len + 1, &got), TSMAP_OK);
  CHECK(got == all_len && strlen(all) == got);
  expo e;
  expo_parse(&e, all, got);
  CHECK(e.err[0] == '\0');
  CHECK(expo_get(&e, "tsmap_entries", "map", "bb-format", NULL) == 100);
  expo_free(&e);
  CHECK_ST(tsmap_metrics_format(NULL, all, 1, &got), TSMAP_NO_MEMORY);
  CHECK(all[0] == '\0' && got == all_len);
  free(all), free(buf);
  text_free(&w);
  tsmap_destroy(m);
}

/* ---- Writers that fail and writers that re-enter ------------------------------------------- */

typedef struct failing {
  long fail_at, calls;
  text_buf got;
} failing;

static int failing_writer(const char *text, size_t len, void *ctx) {
  failing *f = ctx;
  if (++f->calls >= f->fail_at)
    return f->calls == f->fail_at ? -1 : 0; /* calls after the failure are counted */
  return collect_writer(text, len, &f->got);
}

static void check_fails_at_every_piece(tsmap *m) {
  text_buf full = {0};
  CHECK_ST(m ? tsmap_metrics_write(m, collect_writer, &full)
             : tsmap_metrics_write_all(collect_writer, &full), TSMAP_OK);
  long pieces = full.pieces;
  CHECK(pieces >= 1);
  CHECK(full.longest <= 4096 && full.empty == 0); /* pieces of up to 4 KiB (tsmap.h) */
  long step = pieces > 200 ? pieces / 200 : 1;
  for (long k = 1; k <= pieces; k += k < 5 ? 1 : step) {
    failing f = {k, 0, {0}};
    tsmap_status st = m ? tsmap_metrics_write(m, failing_writer, &f)
                        : tsmap_metrics_write_all(failing_writer, &f);
    CHECK_ST(st, TSMAP_STOPPED);
    CHECK(f.calls == k); /* no call after the one that failed */
    CHECK(f.got.len <= full.len && (f.got.len == 0 || !memcmp(f.got.p, full.p, f.got.len)));
    text_free(&f.got);
  }
  text_free(&full);
}

typedef struct reentry {
  tsmap *m;
  tsmap_status all, format_all, format_one, write_one, create_named, create_unnamed;
  int done;
} reentry;

static int reentering_writer(const char *text, size_t len, void *ctx) {
  (void)text, (void)len;
  reentry *r = ctx;
  if (r->done++)
    return 0;
  size_t n;
  r->all = tsmap_metrics_write_all(null_writer, NULL);
  r->format_all = tsmap_metrics_format(NULL, NULL, 0, &n);
  r->format_one = tsmap_metrics_format(r->m, NULL, 0, &n);
  r->write_one = tsmap_metrics_write(r->m, null_writer, NULL);
  tsmap_config cfg;
  tsmap_config_init(&cfg, 8);
  cfg.name = "bb-from-a-writer";
  tsmap *x = NULL;
  r->create_named = tsmap_create(&cfg, &x);
  if (r->create_named == TSMAP_OK)
    tsmap_destroy(x);
  cfg.name = NULL;
  r->create_unnamed = tsmap_create(&cfg, &x);
  if (r->create_unnamed == TSMAP_OK)
    tsmap_destroy(x);
  return 0;
}

static void *write_all_once(void *arg) {
  *(tsmap_status *)arg = tsmap_metrics_write_all(null_writer, NULL);
  return NULL;
}

static void test_mbb_failing_and_reentering_writers(void) {
  tsmap_test_watchdog("test_mbb_failing_and_reentering_writers", 120);
  tsmap *m = named_map("bb-writer", 1), *n = named_map("bb-writer-2", 0);
  for (uint64_t i = 0; i < 100; i++)
    CHECK_ST(tsmap_put(m, &i, 8, &i, NULL), TSMAP_OK);
  check_fails_at_every_piece(m);
  check_fails_at_every_piece(NULL);
  /* the registry is free again after a stopped write_all: another thread gets through */
  tsmap_status other = TSMAP_INVALID_ARGUMENT;
  pthread_t t;
  pthread_create(&t, NULL, write_all_once, &other);
  pthread_join(t, NULL);
  CHECK_ST(other, TSMAP_OK);
  /* from a write_all writer: every-map calls and named creates are refused, the rest works */
  reentry r = {m, 0, 0, 0, 0, 0, 0, 0};
  CHECK_ST(tsmap_metrics_write_all(reentering_writer, &r), TSMAP_OK);
  CHECK_ST(r.all, TSMAP_REENTERED);
  CHECK_ST(r.format_all, TSMAP_REENTERED);
  CHECK_ST(r.format_one, TSMAP_OK);
  CHECK_ST(r.write_one, TSMAP_OK);
  CHECK_ST(r.create_named, TSMAP_REENTERED);
  CHECK_ST(r.create_unnamed, TSMAP_OK);
  /* from a one-map writer, nothing is held: everything works */
  reentry s = {m, 0, 0, 0, 0, 0, 0, 0};
  CHECK_ST(tsmap_metrics_write(m, reentering_writer, &s), TSMAP_OK);
  CHECK_ST(s.all, TSMAP_OK);
  CHECK_ST(s.format_all, TSMAP_OK);
  CHECK_ST(s.create_named, TSMAP_OK);
  CHECK_ST(s.create_unnamed, TSMAP_OK);
  tsmap_destroy(m), tsmap_destroy(n);
  alarm(0);
}

/* ---- write_all while other threads create and destroy named maps ---------------------------- */

typedef struct lifecycle {
  int id;
  _Atomic int stop;
  long maps;
} lifecycle;

static void *create_destroy_loop(void *arg) {
  lifecycle *l = arg;
  for (long i = 0; !l->stop; i++) {
    char name[64];
    snprintf(name, sizeof name, "bb-race-%d-%ld", l->id, i % 4);
    tsmap_config cfg;
    tsmap_config_init(&cfg, 8);
    cfg.name = name;
    cfg.metrics = (int)(i % 2);
    cfg.key_size = i % 3 == 0 ? 8 : 0;
    tsmap *m;
    if (tsmap_create(&cfg, &m) != TSMAP_OK)
      continue;
    for (uint64_t k = 0; k < 200; k++)
      (void)tsmap_put(m, &k, 8, &k, NULL);
    (void)tsmap_metrics_write(m, null_writer, NULL);
    if (i % 5 == 0)
      (void)tsmap_close(m);
    tsmap_destroy(m);
    l->maps++;
  }
  return NULL;
}

static void test_mbb_write_all_races_creates_and_destroys(void) {
  tsmap_test_watchdog("test_mbb_write_all_races_creates_and_destroys", 120);
  lifecycle l[2] = {{0, 0, 0}, {1, 0, 0}};
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    pthread_create(&t[i], NULL, create_destroy_loop, &l[i]);
  long scrapes = 0, bad = 0;
  for (double t0 = tsmap_test_now(); tsmap_test_now() - t0 < 1.5; scrapes++) {
    text_buf b = {0};
    tsmap_status st = scrapes % 2 ? tsmap_metrics_write_all(collect_writer, &b)
                                  : TSMAP_OK;
    if (scrapes % 2 == 0) {
      size_t len = 0;
      st = tsmap_metrics_format(NULL, NULL, 0, &len);
      b.cap = len + 4096; /* room for maps created meanwhile */
      b.p = malloc(b.cap);
      if (st == TSMAP_OK) {
        st = tsmap_metrics_format(NULL, b.p, b.cap, &b.len);
        if (st == TSMAP_NO_MEMORY) /* maps created meanwhile: nothing to parse */
          st = TSMAP_OK, b.len = 0;
      }
    }
    CHECK_ST(st, TSMAP_OK);
    expo e;
    expo_parse(&e, b.p ? b.p : "", b.len);
    if (e.err[0] && bad++ < 3)
      fprintf(stderr, "  scrape %ld rejected: %s\n", scrapes, e.err);
    expo_free(&e);
    text_free(&b);
  }
  for (int i = 0; i < 2; i++)
    l[i].stop = 1, pthread_join(t[i], NULL);
  fprintf(stderr, "  %ld scrapes, %ld + %ld maps created and destroyed\n", scrapes,
          l[0].maps, l[1].maps);
  CHECK(bad == 0 && l[0].maps > 0 && l[1].maps > 0);
  alarm(0);
}

/* ---- promtool on expositions with odd names ------------------------------------------------- */

static void test_mbb_promtool_accepts_odd_names(void) {
  if (system("command -v promtool >/dev/null 2>&1") != 0) {
    fprintf(stderr, "  SKIP: promtool not installed (Debian package prometheus)\n");
    CHECK(1);
    return;
  }
  const char *names[] = {"q\"uote", "back\\slash", "new\nline", "caf\xc3\xa9 \xe6\x97\xa5",
                         "", "\\n"};
  tsmap *maps[6];
  for (int i = 0; i < 6; i++) {
    maps[i] = named_map(names[i], i % 2 == 0);
    uint64_t k = 1;
    (void)tsmap_put(maps[i], &k, 8, &k, NULL);
    (void)tsmap_get(maps[i], &k, 8, NULL);
  }
  char path[] = "/tmp/tsmap-bb-promXXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  text_buf b = {0};
  CHECK_ST(tsmap_metrics_write_all(collect_writer, &b), TSMAP_OK);
  CHECK((size_t)write(fd, b.p, b.len) == b.len);
  close(fd);
  char cmd[256];
  snprintf(cmd, sizeof cmd, "promtool check metrics < %s 2>&1", path);
  FILE *p = popen(cmd, "r");
  char out[4096] = "";
  size_t n = p ? fread(out, 1, sizeof out - 1, p) : 0;
  out[n] = '\0';
  int rc = p ? pclose(p) : -1;
  if (rc != 0 || n != 0)
    fprintf(stderr, "  promtool (exit %d): %s\n", rc, out);
  CHECK(rc == 0 && n == 0);
  unlink(path);
  text_free(&b);
  for (int i = 0; i < 6; i++)
    tsmap_destroy(maps[i]);
}

TEST_MAIN(T(test_mbb_the_parser_rejects_malformed_text), T(test_mbb_no_named_map_is_an_empty_text),
          T(test_mbb_null_arguments_are_statuses), T(test_mbb_names_are_checked_at_create),
          T(test_mbb_odd_names_round_trip), T(test_mbb_single_thread_counts_are_exact),
          T(test_mbb_thread_counts_are_summed), T(test_mbb_evictions_by_reason_match_the_hooks),
          T(test_mbb_a_closed_map_leaves_the_exposition),
          T(test_mbb_versions_and_replication_ops_count_as_themselves),
          T(test_mbb_forms_and_refusals_count_as_their_op), T(test_mbb_evictions_without_hooks),
          T(test_mbb_counts_with_a_failing_allocator),
          T(test_mbb_threads_sharing_counters_time_exactly),
          T(test_mbb_retries_waits_and_reentries), T(test_mbb_histograms_as_documented),
          T(test_mbb_counters_never_go_down), T(test_mbb_a_name_reused_starts_from_zero),
          T(test_mbb_an_unmetered_map_has_gauges_only), T(test_mbb_format_buffer_protocol),
          T(test_mbb_failing_and_reentering_writers),
          T(test_mbb_write_all_races_creates_and_destroys),
          T(test_mbb_promtool_accepts_odd_names), T(test_mbb_scrapes_racing_close),
          T(test_mbb_hooks_scraping_during_close),
          T(test_mbb_lifespans_survive_growth_and_reshards), T(test_mbb_durations_are_seconds),
          T(test_mbb_every_overwrite_restarts_a_lifespan),
          T(test_mbb_gauges_in_the_middle_of_a_reshard),
          T(test_mbb_every_op_counts_its_refusals),
          T(test_mbb_more_departures_and_the_maintenance_thread),
          T(test_mbb_a_wait_cycle_is_one_wait_and_one_reentry),
          T(test_mbb_refused_values_have_no_lifespan))
