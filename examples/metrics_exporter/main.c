/*
 * metrics_exporter - serves the metrics of libtsmap's named maps at
 * http://127.0.0.1:PORT/metrics in the Prometheus text format (0.0.4), with libmicrohttpd.
 *
 *   example_metrics_exporter [--port N] [--seconds S]
 *
 * Two metered maps ("orders", "sessions") are kept busy by a worker thread (puts, gets,
 * removes, compute_if_absent) so that every series moves. --port 0 (the default) takes a
 * free port; the first line printed is "listening on 127.0.0.1:PORT". The program exits
 * after S seconds (default 600), or on SIGINT/SIGTERM. Scrape it with the configuration
 * in docs/observability.md. Unlike its neighbours in examples/, it breaks no contract.
 */
#define _DEFAULT_SOURCE 1 /* usleep */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <tsmap/tsmap.h>

static volatile sig_atomic_t g_stop;
static tsmap *g_orders, *g_sessions;

static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
}

/* The value an absent session gets: a pure function of its key. */
TSMAP_CALLBACK_FN static int new_session(const void *key, size_t key_len, void *ctx,
                                         TSMAP_OUT void *value_out) {
  (void)key_len;
  (void)ctx;
  uint64_t k;
  memcpy(&k, key, sizeof k);
  k *= 2654435761u;
  memcpy(value_out, &k, sizeof k);
  return 0;
}

/* Keep both maps busy: a rolling window of orders, sessions made on first use. */
static void *worker(void *arg) {
  (void)arg;
  for (uint64_t i = 0; !g_stop; i++) {
    uint64_t k = i % 50000, v = i, old = k + 40000;
    tsmap_put(g_orders, &k, sizeof k, &v, NULL);
    tsmap_get(g_orders, &old, sizeof old, &v);
    if (i % 4 == 0)
      tsmap_remove(g_orders, &old, sizeof old, NULL);
    uint64_t s = i % 1000;
    tsmap_compute_if_absent(g_sessions, &s, sizeof s, new_session, NULL, &v);
    if (i % 4096 == 0)
      usleep(1000); /* about 4M operations a second would only heat the machine */
  }
  return NULL;
}

/* GET /metrics: every named map, formatted into a buffer grown until it fits. */
static enum MHD_Result serve(void *cls, struct MHD_Connection *conn, const char *url,
                             const char *method, const char *version, const char *upload,
                             size_t *upload_size, void **con_cls) {
  (void)cls, (void)version, (void)upload, (void)upload_size, (void)con_cls;
  struct MHD_Response *resp;
  unsigned code = MHD_HTTP_OK;
  size_t cap = 16384, len = 0;
  char *buf = NULL;
  if (strcmp(method, "GET") != 0 || strcmp(url, "/metrics") != 0) {
    static const char nf[] = "try /metrics\n";
    code = MHD_HTTP_NOT_FOUND;
    resp = MHD_create_response_from_buffer(sizeof nf - 1, (void *)nf, MHD_RESPMEM_PERSISTENT);
  } else {
    for (;;) {
      char *bigger = realloc(buf, cap);
      if (!bigger)
        break;
      buf = bigger;
      tsmap_status st = tsmap_metrics_format(NULL, buf, cap, &len);
      if (st != TSMAP_NO_MEMORY || len < cap)
        break;
      cap = len + 1;
    }
    resp = MHD_create_response_from_buffer(buf ? len : 0, buf, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  }
  enum MHD_Result r = MHD_queue_response(conn, code, resp);
  MHD_destroy_response(resp);
  return r;
}

/* A listening socket on 127.0.0.1:port (0: any free port); *bound gets the port. */
static int listen_loopback(unsigned port, unsigned *bound) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  socklen_t alen = sizeof a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 64) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
    perror("metrics_exporter: listen");
    return -1;
  }
  *bound = ntohs(a.sin_port);
  return fd;
}

static tsmap *make_map(const char *name) {
  tsmap_config cfg;
  tsmap *m = NULL;
  tsmap_config_init(&cfg, sizeof(uint64_t));
  cfg.key_size = sizeof(uint64_t);
  cfg.name = name;
  cfg.metrics = 1;
  if (tsmap_create(&cfg, &m) != TSMAP_OK)
    fprintf(stderr, "metrics_exporter: cannot create map %s\n", name);
  return m;
}

int main(int argc, char **argv) {
  unsigned port = 0, bound = 0;
  long seconds = 600;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--port") == 0)
      port = (unsigned)atoi(argv[i + 1]);
    else if (strcmp(argv[i], "--seconds") == 0)
      seconds = atol(argv[i + 1]);
  }
  g_orders = make_map("orders");
  g_sessions = make_map("sessions");
  int fd = listen_loopback(port, &bound);
  if (!g_orders || !g_sessions || fd < 0)
    return 1;
  struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
                                          serve, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
                                          MHD_OPTION_END);
  if (!d) {
    fprintf(stderr, "metrics_exporter: MHD_start_daemon failed\n");
    return 1;
  }
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  pthread_t w;
  pthread_create(&w, NULL, worker, NULL);
  printf("listening on 127.0.0.1:%u\n", bound);
  fflush(stdout);
  for (time_t end = time(NULL) + seconds; !g_stop && time(NULL) < end;)
    usleep(100000);
  g_stop = 1;
  pthread_join(w, NULL);
  MHD_stop_daemon(d);
  tsmap_destroy(g_orders);
  tsmap_destroy(g_sessions);
  return 0;
}
