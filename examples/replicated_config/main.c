/*
 * replicated_config - two processes keep one configuration map in sync over a Unix
 * socket (runtime/DESIGN.md, G13). Each makes local edits, journals its change feed, and
 * sends the peer every change since what it sent last (all of them on a new connection);
 * what arrives is merged, concurrent edits going to config_resolve. Kill one (even with
 * SIGKILL) and start it again with the same journal: it replays the journal, reconnects,
 * and the two converge with nothing lost.
 *
 *   example_replicated_config --id 0 --socket /tmp/cfg.sock --journal a.journal \
 *       --edits 200 --dump a.dump &
 *   example_replicated_config --id 1 --socket /tmp/cfg.sock --journal b.journal \
 *       --edits 200 --dump b.dump
 *
 * Replica 0 listens, replica 1 connects (and retries). A process exits after its edits
 * once nothing changed for --settle-ms and it was in sync with its peer (connected,
 * nothing new either way) after its last change, writing its sorted state to --dump; it
 * gives up after --timeout-ms. So a replica whose peer was killed waits for it to come
 * back; one whose peer left after they were in sync leaves too.
 */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

typedef struct options {
  unsigned id;
  const char *socket_path, *journal, *dump;
  int edits, settle_ms, timeout_ms, tag;
} options;

typedef struct peer_link {
  int listen_fd, fd;
  uint64_t sent; /* the feed version the peer has everything up to */
  unsigned char in[1 << 16];
  size_t in_len;
} peer_link;

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int parse(int argc, char **argv, options *o) {
  *o = (options){0, NULL, NULL, NULL, 100, 800, 30000, 0};
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *k = argv[i], *v = argv[i + 1];
    if (!strcmp(k, "--id"))
      o->id = (unsigned)atoi(v);
    else if (!strcmp(k, "--socket"))
      o->socket_path = v;
    else if (!strcmp(k, "--journal"))
      o->journal = v;
    else if (!strcmp(k, "--dump"))
      o->dump = v;
    else if (!strcmp(k, "--edits"))
      o->edits = atoi(v);
    else if (!strcmp(k, "--settle-ms"))
      o->settle_ms = atoi(v);
    else if (!strcmp(k, "--timeout-ms"))
      o->timeout_ms = atoi(v);
    else if (!strcmp(k, "--tag"))
      o->tag = atoi(v);
    else
      return -1;
  }
  return o->socket_path && o->journal && o->id < 2 ? 0 : -1;
}

/* ---- The socket ------------------------------------------------------------------------ */

static int unix_addr(const char *path, struct sockaddr_un *a) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  if (strlen(path) >= sizeof a->sun_path)
    return -1;
  strcpy(a->sun_path, path);
  return 0;
}

static int link_open(peer_link *l, const options *o) {
  struct sockaddr_un a;
  l->listen_fd = l->fd = -1;
  if (unix_addr(o->socket_path, &a) != 0)
    return -1;
  if (o->id != 0)
    return 0; /* replica 1 connects in link_poll */
  l->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
  unlink(o->socket_path);
  if (l->listen_fd < 0 || bind(l->listen_fd, (struct sockaddr *)&a, sizeof a) != 0 ||
      listen(l->listen_fd, 1) != 0)
    return -1;
  return 0;
}

/* Connect or accept when there is no peer; a new peer gets everything (sent = 0). */
static void link_connect(peer_link *l, const options *o) {
  if (l->fd >= 0)
    return;
  if (l->listen_fd >= 0) {
    l->fd = accept4(l->listen_fd, NULL, NULL, SOCK_NONBLOCK);
  } else {
    struct sockaddr_un a;
    unix_addr(o->socket_path, &a);
    l->fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (l->fd >= 0 && connect(l->fd, (struct sockaddr *)&a, sizeof a) != 0) {
      close(l->fd);
      l->fd = -1;
    }
    if (l->fd >= 0)
      fcntl(l->fd, F_SETFL, O_NONBLOCK);
  }
  l->sent = 0;
  l->in_len = 0;
}

static void link_drop(peer_link *l) {
  if (l->fd >= 0)
    close(l->fd);
  l->fd = -1;
}

/* ---- Sending and receiving changes ----------------------------------------------------- */

typedef struct out_buf {
  unsigned char *p;
  size_t len, cap;
} out_buf;

static int queue_one(const tsmap_change *c, void *ctx) {
  out_buf *b = (out_buf *)ctx;
  size_t need;
  tsmap_change_encode(c, sizeof(config_value), NULL, 0, &need);
  if (b->len + need > b->cap) {
    b->cap = (b->len + need) * 2;
    b->p = (unsigned char *)realloc(b->p, b->cap);
  }
  tsmap_change_encode(c, sizeof(config_value), b->p + b->len, b->cap - b->len, &need);
  b->len += need;
  return 0;
}

/* Send every change since l->sent (blocking until written). Returns changes' bytes. */
static long link_send(peer_link *l, config_store *st) {
  out_buf b = {NULL, 0, 0};
  uint64_t next;
  if (l->fd < 0 || tsmap_export(st->map, l->sent, queue_one, &b, &next) != TSMAP_OK)
    return 0;
  size_t off = 0;
  while (off < b.len) {
    ssize_t n = send(l->fd, b.p + off, b.len - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EAGAIN) {
      struct pollfd p = {l->fd, POLLOUT, 0};
      poll(&p, 1, 100);
      continue;
    }
    if (n <= 0) {
      link_drop(l);
      free(b.p);
      return 0;
    }
    off += (size_t)n;
  }
  free(b.p);
  l->sent = next;
  return (long)off;
}

/* Read what arrived and merge every whole change. Returns merges that changed st. */
static int link_receive(peer_link *l, config_store *st) {
  if (l->fd < 0)
    return 0;
  ssize_t n = recv(l->fd, l->in + l->in_len, sizeof l->in - l->in_len, 0);
  if (n == 0 || (n < 0 && errno != EAGAIN)) {
    link_drop(l); /* the peer went away: wait for it again */
    return 0;
  }
  if (n > 0)
    l->in_len += (size_t)n;
  int changed = 0;
  size_t off = 0, used;
  tsmap_change c;
  uint64_t clock[TSMAP_MAX_REPLICAS];
  while (tsmap_change_decode(l->in + off, l->in_len - off, sizeof(config_value), &c, clock,
                             &used) == TSMAP_OK) {
    changed += config_merge(st, &c) > 0;
    off += used;
  }
  memmove(l->in, l->in + off, l->in_len - off);
  l->in_len -= off;
  return changed;
}

/* ---- The loop ------------------------------------------------------------------------- */

static void edit(config_store *st, const options *o, int seq) {
  char key[16];
  config_value v;
  unsigned r = (unsigned)rand();
  snprintf(key, sizeof key, "key%02u", r % 16);
  if (r % 10 == 0) {
    config_set(st, key, NULL);
    return;
  }
  memset(&v, 0, sizeof v);
  snprintf(v.text, sizeof v.text, "r%u.t%d.%d", o->id, o->tag, seq);
  v.priority = (r >> 8) % 3 == 0 ? 2 : 1;
  config_set(st, key, &v);
}

int main(int argc, char **argv) {
  options o;
  config_store st;
  peer_link l;
  if (parse(argc, argv, &o) != 0) {
    fprintf(stderr, "usage: %s --id 0|1 --socket PATH --journal FILE [--dump FILE] "
                    "[--edits N] [--settle-ms MS] [--timeout-ms MS] [--tag N]\n", argv[0]);
    return 2;
  }
  if (config_open(&st, o.id, o.journal) != 0 || link_open(&l, &o) != 0) {
    fprintf(stderr, "replica %u: cannot open the journal or the socket\n", o.id);
    return 1;
  }
  srand(o.id * 7919u + (unsigned)o.tag * 104729u + 1);
  long start = now_ms(), last_change = now_ms(), last_sync = 0;
  int done = 0;
  while (now_ms() - start < o.timeout_ms) {
    link_connect(&l, &o);
    if (done < o.edits)
      edit(&st, &o, done++);
    if (config_journal(&st) != 0)
      return 1;
    int busy = link_send(&l, &st) > 0;
    busy |= link_receive(&l, &st) > 0;
    if (busy || done < o.edits)
      last_change = now_ms();
    else if (l.fd >= 0)
      last_sync = now_ms(); /* connected, nothing new either way */
    if (done >= o.edits && last_sync > last_change && now_ms() - last_change >= o.settle_ms)
      break;
    struct pollfd p = {l.fd >= 0 ? l.fd : l.listen_fd, POLLIN, 0};
    poll(&p, 1, 2);
  }
  int timed_out = now_ms() - start >= o.timeout_ms;
  config_journal(&st);
  if (o.dump) {
    FILE *f = fopen(o.dump, "w");
    if (!f || config_dump(&st, f) != 0)
      return 1;
    fclose(f);
  }
  printf("replica %u: %d edits, %s\n", o.id, done, timed_out ? "timed out" : "settled");
  link_drop(&l);
  if (l.listen_fd >= 0) {
    close(l.listen_fd);
    unlink(o.socket_path);
  }
  config_close(&st);
  return timed_out ? 3 : 0;
}
