// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback %t
// The default list names C library functions. A function of the program with
// the same name and its body here (`static void link(...)`) is the program's:
// its body is looked at instead, and reported only for what it does.
#include <stddef.h>
#include <string.h>
#include <tsmap/tsmap.h>

struct node { struct node *next; int v; };
struct wbuf { char data[64]; size_t len; };
static long g_writes;
static void link(struct node *a, struct node *b) { a->next = b; }
static size_t write(struct wbuf *w, const void *p, size_t n) {
  if (n > sizeof w->data - w->len)
    n = sizeof w->data - w->len;
  memcpy(w->data + w->len, p, n);
  w->len += n;
  g_writes++;
  return n;
}
int unlink(const char *path); // the C library's: no body here

static int load_link(const void *k, size_t n, void *ctx, void *out) {
  struct node a = {NULL, 1}, b = {NULL, 2};
  (void)k, (void)ctx;
  link(&a, &b);
  *(int *)out = a.next->v + (int)n;
  return 0;
}
static int load_write(const void *k, size_t n, void *ctx, void *out) {
  struct wbuf w = {.len = 0};
  (void)ctx;
  write(&w, k, n);
  *(size_t *)out = w.len;
  return 0;
}
static int load_unlink(const void *k, size_t n, void *ctx, void *out) {
  (void)n, (void)ctx;
  *(int *)out = unlink(k);
  return 0;
}

void go(tsmap *m) {
  int v;
  size_t s;
  tsmap_compute_if_absent(m, "k", 1, load_link, NULL, &v);
  tsmap_compute_if_absent(m, "j", 1, load_write, NULL, &s);
  // CHECK-MESSAGES: :[[@LINE-1]]:38: warning: callback 'load_write' passed to 'tsmap_compute_if_absent' is not idempotent: it may run more than once, and each run increments 'g_writes' [tsmap-non-idempotent-callback]
  tsmap_compute_if_absent(m, "u", 1, load_unlink, NULL, &v);
  // CHECK-MESSAGES: :[[@LINE-1]]:38: warning: callback 'load_unlink' passed to 'tsmap_compute_if_absent' is not idempotent: it may run more than once, and each run calls 'unlink', which changes the file system [tsmap-non-idempotent-callback]
}
