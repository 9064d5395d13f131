// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
//
// Iteration by iterator: the loop body plays the part of the callback.
// GHashTableIter loops must change the table only through the iterator;
// liburcu's cds_lfht_for_each* loops run in an RCU read-side critical
// section, and a node removed with cds_lfht_del is freed after a grace
// period. Each finding has its quiet twin (the fixed code).

#include "reentrant-glib.h"
#include "fake_urcu.h"

gpointer g_strdup(gconstpointer s);

typedef struct { GHashTable *history; GHashTable *pending; } State;
typedef struct { State *state; int id; } Res;

// ---- GHashTableIter ------------------------------------------------------

void expire(GHashTable *t) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, &k, &v))
    if (v == 0)
      g_hash_table_remove(t, k);
  // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: 'g_hash_table_remove' changes 't' while a loop iterates it with 'g_hash_table_iter_next'; the change invalidates the iterator [tsmap-reentrant-callback]
}
void expire_fixed(GHashTable *t) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, &k, &v))
    if (v == 0)
      g_hash_table_iter_remove(&it);
}

void grow(State *s) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, s->history);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    g_hash_table_insert(s->history, v, k);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_insert' changes 's->history' while a loop iterates it with 'g_hash_table_iter_next'
    g_hash_table_insert(s->pending, v, k);   // another table
    g_hash_table_replace(s->history, k, v);  // the visited key: no key is added
    g_hash_table_lookup(s->history, v);      // reads are fine
  }
  g_hash_table_insert(s->history, 0, 0);     // after the loop
}

// Through a helper, and through an entry's back-pointer (field identity).
static void forget(Res *r) { g_hash_table_remove(r->state->history, &r->id); }
void sweep(State *s) {
  GHashTableIter it;
  gpointer k, v;
  for (g_hash_table_iter_init(&it, s->history); g_hash_table_iter_next(&it, &k, &v);) {
    Res *r = v;
    forget(r);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'forget' changes 's->history' while a loop iterates it with 'g_hash_table_iter_next': it calls 'g_hash_table_remove' on it; the change invalidates the iterator
  }
}

// A change that leaves the loop at once is fine: the iterator is not used again.
void remove_first(GHashTable *t, gpointer want) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    if (v == want) {
      g_hash_table_remove(t, k);
      break;
    }
  }
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    if (v == want) {
      g_hash_table_remove(t, k);
      // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: 'g_hash_table_remove' changes 't' while a loop iterates it
      continue;
    }
  }
}

// The iterator passed down (pacemaker's force_reprobe): a non-null iterator
// selects the safe branch.
static void drop(State *s, const char *id, GHashTableIter *it) {
  if (it)
    g_hash_table_iter_remove(it);
  else
    g_hash_table_remove(s->history, id);
}
void reprobe(State *s) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, s->history);
  while (g_hash_table_iter_next(&it, &k, &v))
    drop(s, k, &it);
}
void reprobe_bad(State *s) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, s->history);
  while (g_hash_table_iter_next(&it, &k, &v))
    drop(s, k, 0);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'drop' changes 's->history' while a loop iterates it with 'g_hash_table_iter_next': it calls 'g_hash_table_remove' on it
}

// Quiet: a tree walk empties each child's own table.
typedef struct node { GHashTable *children; } node;
void clear_children(node *n) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, n->children);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    node *child = v;
    g_hash_table_remove(child->children, k);
  }
}

// ---- cds_lfht ------------------------------------------------------------

struct sock { struct cds_lfht_node node; int fd; struct rcu_head rcu; };
struct output { struct cds_lfht *socks; };
int send_close(int fd);

void close_chunk(struct output *o) {
  struct cds_lfht_iter iter;
  struct sock *s;
  cds_lfht_for_each_entry(o->socks, &iter, s, node)
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'cds_lfht_for_each_entry' iterates 'o->socks' outside an RCU read-side critical section; nodes it visits may be freed under it
    send_close(s->fd);
}
void close_chunk_ok(struct output *o) {
  struct cds_lfht_iter iter;
  struct sock *s;
  rcu_read_lock();
  cds_lfht_for_each_entry(o->socks, &iter, s, node)
    send_close(s->fd);
  rcu_read_unlock();
}
/* Must be called with the RCU read lock held. */
void count_socks(struct output *o, int *n) {
  struct cds_lfht_iter iter;
  struct cds_lfht_node *node;
  cds_lfht_for_each(o->socks, &iter, node)
    ++*n;
}
// Every caller in this file holds the read lock.
static void close_all(struct output *o) {
  struct cds_lfht_iter iter;
  struct sock *s;
  cds_lfht_for_each_entry(o->socks, &iter, s, node)
    send_close(s->fd);
}
void shutdown_output(struct output *o) {
  rcu_read_lock();
  close_all(o);
  rcu_read_unlock();
}

static void free_sock(struct rcu_head *head) {
  free(caa_container_of(head, struct sock, rcu));
}
void drop_sock(struct cds_lfht *ht, struct sock *s) {
  rcu_read_lock();
  cds_lfht_del(ht, &s->node);
  rcu_read_unlock();
  free(s);
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'free' frees a node removed with 'cds_lfht_del' before a grace period; readers in a read-side critical section may still hold it
}
void drop_node(struct cds_lfht *ht, struct cds_lfht_node *n) {
  rcu_read_lock();
  cds_lfht_del(ht, n);
  rcu_read_unlock();
  free(caa_container_of(n, struct sock, node));
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'free' frees a node removed with 'cds_lfht_del' before a grace period
}
void drop_sock_deferred(struct cds_lfht *ht, struct sock *s) {
  rcu_read_lock();
  if (cds_lfht_del(ht, &s->node) == 0)
    call_rcu(&s->rcu, free_sock);
  rcu_read_unlock();
}
void drop_sock_synchronized(struct cds_lfht *ht, struct sock *s, struct sock *other) {
  rcu_read_lock();
  cds_lfht_del(ht, &s->node);
  rcu_read_unlock();
  free(other); // not the removed node
  synchronize_rcu();
  free(s);
}

// ---- A callback stored in a struct field and called from the iteration ---

typedef struct { GHashTable *table; void (*on_expire)(State *s, gpointer key); } Reaper;
static void expire_entry(State *s, gpointer key) { g_hash_table_remove(s->history, key); }
void reaper_init(Reaper *r) { r->on_expire = expire_entry; }
void reap(Reaper *r, State *s) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, s->history);
  while (g_hash_table_iter_next(&it, &k, &v))
    r->on_expire(s, k);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'expire_entry' changes 's->history' while a loop iterates it with 'g_hash_table_iter_next': it calls 'g_hash_table_remove' on it
}

// ---- Real-world shapes (NOTES-realworld R7-R9) ---------------------------

// _LGPL_SOURCE: rcu_read_lock() is the static inline _urcu_memb_read_lock().
void _urcu_memb_read_lock(void);
void _urcu_memb_read_unlock(void);
static int count_lgpl(struct cds_lfht *ht) {
  struct cds_lfht_iter iter;
  struct sock *s;
  int c = 0;
  cds_lfht_for_each_entry(ht, &iter, s, node)
    c++;
  return c;
}
int total_lgpl(struct cds_lfht *ht) {
  struct cds_lfht_iter iter;
  struct sock *s;
  int c;
  _urcu_memb_read_lock();
  cds_lfht_for_each_entry(ht, &iter, s, node)
    send_close(s->fd);
  c = count_lgpl(ht); // the only caller of count_lgpl holds the lock
  _urcu_memb_read_unlock();
  return c;
}
// A field freed before the node goes to call_rcu is not the node.
struct info { struct cds_lfht_node node; char *name; struct rcu_head rcu; };
static void free_info_rcu(struct rcu_head *h) { free(caa_container_of(h, struct info, rcu)); }
void info_destroy(struct cds_lfht *ht, struct info *i) {
  rcu_read_lock();
  cds_lfht_del(ht, &i->node);
  rcu_read_unlock();
  free(i->name);
  call_rcu(&i->rcu, free_info_rcu);
}
// A nested read-only iteration of the same table does not change it.
static int count_online(State *s) {
  GHashTableIter it;
  gpointer k, v;
  int n = 0;
  g_hash_table_iter_init(&it, s->history);
  while (g_hash_table_iter_next(&it, &k, &v))
    n++;
  return n;
}
void each_online(State *s) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, s->history);
  while (g_hash_table_iter_next(&it, &k, &v))
    count_online(s);
}
// R12: an extern function may be called unlocked from another file, even if
// its callers here hold the lock.
void close_one(struct cds_lfht *streams) {
  struct cds_lfht_iter it;
  struct sock *s;
  cds_lfht_for_each_entry(streams, &it, s, node)
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'cds_lfht_for_each_entry' iterates 'streams' outside an RCU read-side critical section
    send_close(s->fd);
}
void close_all_streams(struct cds_lfht *streams) {
  rcu_read_lock();
  close_one(streams);
  rcu_read_unlock();
}

// ---- Another object's table of the same type (bench/realworld: NetworkManager's
// nm-setting.c:2301 copies src's generic data into dst's; evolution-data-server's
// camel-imapx-mailbox.c:238 copies a mailbox's attributes into its new clone). The
// roots of the two places come from different variables, or one is a new allocation.
typedef struct { GHashTable *hash; } GenData;
typedef struct { GenData *gendata; } Setting;
static GenData *gendata_of(Setting *s, int create) {
  if (!s->gendata && create)
    s->gendata = g_malloc0(sizeof *s->gendata);
  return s->gendata;
}
void copy_gendata(Setting *src, Setting *dst) {
  GenData *from = gendata_of(src, 0);
  GHashTable *h = gendata_of(dst, 1)->hash;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, from->hash);
  while (g_hash_table_iter_next(&it, &k, &v))
    g_hash_table_insert(h, v, k);         // quiet: dst's table
}
void copy_gendata_self(Setting *src) {
  GenData *from = gendata_of(src, 0);
  GHashTable *h = gendata_of(src, 1)->hash;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, from->hash);
  while (g_hash_table_iter_next(&it, &k, &v))
    g_hash_table_insert(h, v, k);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_insert' changes 'h' while a loop iterates it
}

typedef struct { GHashTable *attributes; } MailboxPriv;
typedef struct { MailboxPriv *priv; } Mailbox;
Mailbox *mailbox_default(void);
Mailbox *mailbox_clone(Mailbox *m) {
  Mailbox *clone;
  GHashTableIter it;
  gpointer k;
  clone = g_malloc0(sizeof *clone);
  clone->priv = g_malloc0(sizeof *clone->priv);
  g_hash_table_iter_init(&it, m->priv->attributes);
  while (g_hash_table_iter_next(&it, &k, 0))
    g_hash_table_add(clone->priv->attributes, g_strdup(k)); // quiet: a new object's table
  return clone;
}
void mailbox_merge_default(Mailbox *m) {
  Mailbox *d = mailbox_default();         // which object: not known
  GHashTableIter it;
  gpointer k;
  g_hash_table_iter_init(&it, m->priv->attributes);
  while (g_hash_table_iter_next(&it, &k, 0))
    g_hash_table_add(d->priv->attributes, g_strdup(k));
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_add' changes 'd->priv->attributes' while a loop iterates it
}
void mailbox_merge_entry(Mailbox *m) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, m->priv->attributes);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    Mailbox *owner = v;                   // from the entry: may be m
    g_hash_table_add(owner->priv->attributes, g_strdup(k));
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_add' changes 'owner->priv->attributes' while a loop iterates it
  }
}

// ---- independent black-box cases (2026-12-05) ------------------------------

// A comment that names the read lock only to deny it does not vouch for the
// caller; one that says the caller holds it does.
/* Called outside any RCU read-side critical section. */
void count_socks_outside(struct output *o, int *n) {
  struct cds_lfht_iter iter;
  struct cds_lfht_node *node;
  cds_lfht_for_each(o->socks, &iter, node)
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'cds_lfht_for_each' iterates 'o->socks' outside an RCU read-side critical section; nodes it visits may be freed under it
    ++*n;
}
/* No rcu_read_lock here; callers do not hold it either. */
void count_socks_unlocked(struct output *o, int *n) {
  struct cds_lfht_iter iter;
  struct cds_lfht_node *node;
  cds_lfht_for_each(o->socks, &iter, node)
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'cds_lfht_for_each' iterates 'o->socks' outside an RCU read-side critical section; nodes it visits may be freed under it
    ++*n;
}
/* Counts the sockets. The caller holds the RCU read-side lock; it does not take
 * the output's mutex. */
void count_socks_documented(struct output *o, int *n) {
  struct cds_lfht_iter iter;
  struct cds_lfht_node *node;
  cds_lfht_for_each(o->socks, &iter, node)
    ++*n;
}

// The _duplicate walks (they start with a lookup) need the read lock too.
static int match_fd(struct cds_lfht_node *n, const void *key) {
  return n != 0 && key != 0;
}
void count_dups_unlocked(struct output *o, int fd, int *n) {
  struct cds_lfht_iter iter;
  struct cds_lfht_node *node;
  cds_lfht_for_each_duplicate(o->socks, (unsigned long)fd, match_fd, &fd, &iter, node)
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: 'cds_lfht_for_each_duplicate' iterates 'o->socks' outside an RCU read-side critical section; nodes it visits may be freed under it
    ++*n;
}
void count_dups_locked(struct output *o, int fd, int *n) {
  struct cds_lfht_iter iter;
  struct cds_lfht_node *node;
  rcu_read_lock();
  cds_lfht_for_each_duplicate(o->socks, (unsigned long)fd, match_fd, &fd, &iter, node)
    ++*n;
  rcu_read_unlock();
}

// Restarting the walk after a change: the iterator is set up anew before its
// next use. A `continue` before the restart leaves the change warned.
void purge_nulls(GHashTable *t) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    if (!v) {
      g_hash_table_remove(t, k);
      g_hash_table_iter_init(&it, t); /* restart */
    }
  }
}
void purge_nulls_late(GHashTable *t, GHashTable *other) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, t);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    if (!v) {
      g_hash_table_remove(t, k);
      // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: 'g_hash_table_remove' changes 't' while a loop iterates it with 'g_hash_table_iter_next'; the change invalidates the iterator [tsmap-reentrant-callback]
      continue;
      g_hash_table_iter_init(&it, t);
    }
    g_hash_table_iter_init(&it, other); /* another iterator's walk would be a restart too */
  }
}

// A helper that, given the iterator, removes through it and returns in a
// block; without the return it falls through to the table's remove.
struct sess { State *state; char *id; };
static void session_drop(struct sess *s, GHashTableIter *it) {
  if (it) {
    g_hash_table_iter_remove(it);
    return;
  }
  g_hash_table_remove(s->state->pending, s->id);
}
static void session_drop_falls_through(struct sess *s, GHashTableIter *it) {
  if (it) {
    g_hash_table_iter_remove(it);
  }
  g_hash_table_remove(s->state->pending, s->id);
}
void shutdown_sessions(State *st) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, st->pending);
  while (g_hash_table_iter_next(&it, &k, &v))
    session_drop(v, &it);
  g_hash_table_iter_init(&it, st->pending);
  while (g_hash_table_iter_next(&it, &k, &v))
    session_drop_falls_through(v, &it);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'session_drop_falls_through' changes 'st->pending' while a loop iterates it with 'g_hash_table_iter_next': it calls 'g_hash_table_remove' on it; the change invalidates the iterator [tsmap-reentrant-callback]
}

// Known miss (rules/tsmap-reentrant-callback.md, Limits): the iterator
// advanced inside a helper the loop's condition calls is not read as a loop.
static gboolean next_value(GHashTableIter *it, gpointer *v) {
  return g_hash_table_iter_next(it, 0, v);
}
void drop_all_through_helper(GHashTable *t) {
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, t);
  while (next_value(&it, &v))
    g_hash_table_remove(t, v);
}
