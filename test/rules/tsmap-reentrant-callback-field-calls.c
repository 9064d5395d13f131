// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
//
// A call through a function-pointer field goes to the functions the file
// stores into that field; when the object is a struct embedded in another
// (`&w->super`, also passed down through helpers' parameters), only to those
// stored into that embedding field's own (`w->super.init = ...`) or through an
// object no embedding field names (syslog-ng's `log_pipe_init`, bench/realworld
// R32). A writer's pipe cannot run the driver's init, which walks the drivers'
// table; a driver's pipe, a pipe cast from its struct, or a store through a
// plain pointer keep it a candidate.

#include "reentrant-glib.h"

typedef struct LogPipe { gboolean (*init)(struct LogPipe *s); } LogPipe;

static gboolean log_pipe_init(LogPipe *s) { return s->init ? s->init(s) : 1; }
static gboolean pipe_start(LogPipe *s) { return log_pipe_init(s); }

typedef struct { LogPipe super; char *filename; } Writer;
typedef struct { LogPipe super; GHashTable *writer_hash; } Driver;

static GHashTable *pipes;

static gboolean writer_init(LogPipe *s) { return 1; }

// Quiet: `&w->super` is a Writer's pipe, and only writer_init is stored there.
static gboolean reuse_writer(gpointer key, gpointer value, gpointer user_data) {
  Writer *w = value;
  return !log_pipe_init(&w->super);
}

static gboolean driver_init(LogPipe *s) {
  Driver *self = (Driver *)s;
  g_hash_table_foreach_remove(self->writer_hash, reuse_writer, self);
  g_hash_table_remove(pipes, s);
  return 1;
}

Writer *writer_new(void) {
  Writer *w = g_malloc0(sizeof *w);
  w->super.init = writer_init;
  return w;
}

Driver *driver_new(void) {
  Driver *d = g_malloc0(sizeof *d);
  d->super.init = driver_init;
  return d;
}

// Quiet: the same two helpers down.
static gboolean restart_writer(gpointer key, gpointer value, gpointer user_data) {
  Writer *w = value;
  return !pipe_start(&w->super);
}

// Quiet: the same called directly on the embedded pipe.
static gboolean reinit_writer(gpointer key, gpointer value, gpointer user_data) {
  Writer *w = value;
  return !w->super.init(&w->super);
}

// Quiet: a Writer's pointer cast to the type of its first field is its pipe.
static gboolean upcast_writer(gpointer key, gpointer value, gpointer user_data) {
  Writer *w = value;
  return !log_pipe_init((LogPipe *)w);
}

// Quiet: a cast to its own type changes nothing.
static gboolean recast_writer(gpointer key, gpointer value, gpointer user_data) {
  Writer *w = value;
  return !log_pipe_init((LogPipe *)&w->super);
}

// Reported: a pipe cast from an untyped pointer may be any pipe.
static gboolean init_any(gpointer key, gpointer value, gpointer user_data) {
  return !log_pipe_init((LogPipe *)value);
}

// Quiet: a pipe cast from a struct the file does not define is neither a
// Writer's nor a Driver's (syslog-ng's `(LogPipe *) self->writer`, R32).
typedef struct Opaque Opaque;
static gboolean init_opaque(gpointer key, gpointer value, gpointer user_data) {
  Opaque *o = value;
  return !log_pipe_init((LogPipe *)o);
}

// Quiet: the same called directly.
static gboolean call_opaque(gpointer key, gpointer value, gpointer user_data) {
  Opaque *o = value;
  return !((LogPipe *)o)->init((LogPipe *)o);
}

// Reported: a driver's pipe runs driver_init.
static gboolean init_driver(gpointer key, gpointer value, gpointer user_data) {
  Driver *d = value;
  return !pipe_start(&d->super);
}

void init_pipes(void) {
  g_hash_table_foreach_remove(pipes, reuse_writer, 0);
  g_hash_table_foreach_remove(pipes, restart_writer, 0);
  g_hash_table_foreach_remove(pipes, reinit_writer, 0);
  g_hash_table_foreach_remove(pipes, upcast_writer, 0);
  g_hash_table_foreach_remove(pipes, recast_writer, 0);
  g_hash_table_foreach_remove(pipes, init_any, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:38: warning: callback 'init_any' passed to 'g_hash_table_foreach_remove' re-enters the same map
  g_hash_table_foreach_remove(pipes, init_opaque, 0);
  g_hash_table_foreach_remove(pipes, call_opaque, 0);
  g_hash_table_foreach_remove(pipes, init_driver, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:38: warning: callback 'init_driver' passed to 'g_hash_table_foreach_remove' re-enters the same map
}

// The same through initializer lists: a nested list knows the field it fills.
typedef struct Hook { gboolean (*run)(struct Hook *h); } Hook;
typedef struct { Hook hook; int id; } Item;
typedef struct { Hook hook; GHashTable *items; } Owner;

static GHashTable *hooks;

static gboolean hook_run(Hook *h) { return h->run(h); }
static gboolean item_run(Hook *h) { return 1; }
static gboolean owner_run(Hook *h) { return g_hash_table_remove(hooks, h); }

static const Item item_proto = {.hook = {.run = item_run}};
static const Owner owner_proto = {.hook = {.run = owner_run}};

// Quiet: an Item's hook runs item_run.
static void run_item(gpointer key, gpointer value, gpointer user_data) {
  Item *it = value;
  hook_run(&it->hook);
}

// Reported: an Owner's runs owner_run.
static void run_owner(gpointer key, gpointer value, gpointer user_data) {
  Owner *o = value;
  hook_run(&o->hook);
}

void run_hooks(void) {
  g_hash_table_foreach(hooks, run_item, 0);
  g_hash_table_foreach(hooks, run_owner, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:31: warning: callback 'run_owner' passed to 'g_hash_table_foreach' re-enters the same map
}

// A store through a plain pointer: any hook may run it.
typedef struct Task { gboolean (*step)(struct Task *t); } Task;
typedef struct { Task task; int n; } Job;
typedef struct { Task task; GHashTable *jobs; } Queue;

static gboolean task_step(Task *t) { return t->step(t); }
static gboolean job_step(Task *t) { return 1; }

// Reported: queue_step may be in a Job's task (set_queue_step).
static gboolean step_job(gpointer key, gpointer value, gpointer user_data) {
  Job *j = value;
  return !task_step(&j->task);
}

static gboolean queue_step(Task *t) {
  Queue *q = (Queue *)t;
  return g_hash_table_foreach_remove(q->jobs, step_job, q) > 0;
  // CHECK-MESSAGES: :[[@LINE-1]]:47: warning: callback 'step_job' passed to 'g_hash_table_foreach_remove' re-enters the same map
}

// Reported: an opaque struct's task may run what a plain pointer stored,
// through a helper or called directly.
typedef struct Remote Remote;
static GHashTable *remotes;
static gboolean remote_step(Task *t) { return g_hash_table_remove(remotes, t); }
void set_remote_step(Task *t) { t->step = remote_step; }

static gboolean step_remote(gpointer key, gpointer value, gpointer user_data) {
  Remote *r = value;
  return !task_step((Task *)r);
}
static gboolean call_remote(gpointer key, gpointer value, gpointer user_data) {
  Remote *r = value;
  return !((Task *)r)->step((Task *)r);
}

void step_remotes(void) {
  g_hash_table_foreach_remove(remotes, step_remote, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:40: warning: callback 'step_remote' passed to 'g_hash_table_foreach_remove' re-enters the same map
  g_hash_table_foreach_remove(remotes, call_remote, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:40: warning: callback 'call_remote' passed to 'g_hash_table_foreach_remove' re-enters the same map
}

void job_init(Job *j) { j->task.step = job_step; }
void set_queue_step(Task *t) { t->step = queue_step; }
