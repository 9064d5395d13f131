/* job_queue: a print server's queue of pending jobs, shared by its worker threads.
 *
 * Each job owns the spool file it writes its output to (an open descriptor). Whoever
 * takes a job out of the queue must close that descriptor, or the server runs out of
 * them after a few thousand jobs. The field says so with TSMAP_CLEANUP(close).
 *
 * The queue's own store layer follows the usual C convention: every call returns 0 or a
 * negative errno, and callers test it with `!= 0`. tsmap-remove-without-cleanup reads
 * such a test both ways (0 is success, or non-zero is) and reports a path only when it
 * leaks under both readings: whatever the convention, the descriptor leaks.
 *
 *   job_cancel()  takes a job and frees it with job_free() on every path      (quiet)
 *   job_finish()  a failed job is freed with free(), its spool file still open (REPORTED)
 *   jobs_expire() a "sticky" job is skipped with `continue` after being taken:
 *                 the next pop overwrites it, its spool file still open        (REPORTED)
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <tsmap/annotations.h>
#include <tsmap/tsmap.h>
#include <unistd.h>

struct job {
  unsigned long id;
  long deadline;   /* expires after this tick */
  int sticky;      /* kept by expiry: re-queued by its owner */
  /* The spool file the job prints into: closed when the job leaves the queue. */
  TSMAP_CLEANUP(close) int spool_fd;
};

static tsmap *g_jobs;               /* id -> struct job * */
static unsigned long g_next_id = 1; /* ids handed out so far */

static void job_free(struct job *j) {
  close(j->spool_fd);
  free(j);
}

/* ---- The store layer: 0 or a negative errno ------------------------------------------- */

static int store_errno(tsmap_status st) {
  return st == TSMAP_OK ? 0 : st == TSMAP_NOT_FOUND ? -ENOENT : -EIO;
}

static int job_store_add(struct job *j) {
  return store_errno(tsmap_put_ptr_if_absent(g_jobs, &j->id, sizeof j->id, j, NULL));
}

/* Takes job `id` out of the queue into *out; the caller owns it. */
static int job_store_take(unsigned long id, TSMAP_REMOVED_OUT struct job **out) {
  return store_errno(tsmap_remove(g_jobs, &id, sizeof id, out));
}

/* Takes the oldest job at or after *cursor; advances the cursor past it. */
static int job_store_pop(unsigned long *cursor, TSMAP_REMOVED_OUT struct job **out) {
  for (; *cursor < g_next_id; ++*cursor)
    if (store_errno(tsmap_remove(g_jobs, cursor, sizeof *cursor, out)) == 0) {
      ++*cursor;
      return 0;
    }
  return -ENOENT;
}

/* ---- The queue ----------------------------------------------------------------------- */

static int job_submit(long deadline, int sticky) {
  struct job *j = calloc(1, sizeof *j);
  if (!j)
    return -ENOMEM;
  j->id = __atomic_fetch_add(&g_next_id, 1, __ATOMIC_RELAXED);
  j->deadline = deadline;
  j->sticky = sticky;
  j->spool_fd = dup(1);
  if (job_store_add(j) != 0) {
    job_free(j);
    return -EEXIST;
  }
  return 0;
}

/* Cancels a job on request: every path releases it. */
static int job_cancel(unsigned long id) {
  struct job *j;
  if (job_store_take(id, &j) != 0)
    return -1;
  job_free(j);
  return 0;
}

/* Called by a worker when the printer reports a job done (status 0) or failed. */
static int job_finish(unsigned long id, int status) {
  struct job *j;
  int rc = job_store_take(id, &j);
  if (rc != 0)
    goto out;
  if (status != 0) {
    fprintf(stderr, "job %lu failed: %d\n", j->id, status);
    free(j); /* BUG: the spool file stays open */
    goto out;
  }
  job_free(j);
out:
  return rc;
}

/* Drops every job whose deadline has passed, except sticky ones. */
static void jobs_expire(long now) {
  unsigned long cursor = 1;
  struct job *j;
  while (job_store_pop(&cursor, &j) == 0) {
    if (j->sticky)
      continue; /* BUG: popped, then dropped with its spool file open */
    if (j->deadline > now) {
      if (job_store_add(j) != 0)
        job_free(j);
      continue;
    }
    job_free(j);
  }
}

/* ---- A worker ---------------------------------------------------------------------- */

static void *printer(void *arg) {
  (void)arg;
  job_finish(1, 0);
  job_finish(2, 0);
  return NULL;
}

int main(void) {
  tsmap_config cfg;
  if (tsmap_config_init(&cfg, sizeof(struct job *)) != TSMAP_OK)
    return 1;
  cfg.key_size = sizeof(unsigned long);
  if (tsmap_create(&cfg, &g_jobs) != TSMAP_OK)
    return 1;
  for (int i = 0; i < 4; ++i)
    if (job_submit(10 * i, 0) != 0)
      return 1;
  pthread_t worker;
  if (pthread_create(&worker, NULL, printer, NULL) != 0)
    return 1;
  pthread_join(worker, NULL);
  job_cancel(3);
  jobs_expire(100);
  size_t left = 0;
  if (tsmap_size(g_jobs, &left) == TSMAP_OK)
    printf("jobs left: %zu\n", left);
  tsmap_destroy(g_jobs);
  return 0;
}
