// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
//
// A loop body that fills a table of an object made before the loop (a clone:
// `parser = parser_new (); while (next (&it)) replace (parser->options, ...)`),
// where the constructor returns a local that holds nothing but the new object
// (`p = NULL; p = g_malloc0 (...); return p;`, bench/realworld R21, ostree).
// Still warned when the variable may hold another object at the change: a
// write in the loop, or a constructor that may hand back an existing object.

#include "reentrant-glib.h"

typedef struct { GHashTable *options; } Parser;
GHashTable *parsers;

static Parser *parser_new(void) {
  Parser *p = 0;
  p = g_malloc0(sizeof *p);
  p->options = g_hash_table_new(0, 0);
  return p;
}
gpointer g_steal_pointer(gpointer pp);
static Parser *parser_new_stolen(void) { /* GLib's hand-over of a local */
  Parser *p = g_malloc0(sizeof *p);
  p->options = g_hash_table_new(0, 0);
  return g_steal_pointer(&p);
}
static Parser *parser_or_new(Parser *given) { /* may be the one it was given */
  Parser *p = 0;
  p = given ? given : parser_new();
  return p;
}

// Quiet: `parser` holds the object parser_new made, in every iteration.
Parser *parser_clone(Parser *self) {
  Parser *parser = parser_new();
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, self->options);
  while (g_hash_table_iter_next(&it, &k, &v))
    g_hash_table_insert(parser->options, v, k);
  return parser;
}

Parser *parser_clone_stolen(Parser *self) {
  Parser *parser = parser_new_stolen();
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, self->options);
  while (g_hash_table_iter_next(&it, &k, &v))
    g_hash_table_insert(parser->options, v, k);
  return parser;
}

// Reported: parser_or_new may return the object whose table is iterated.
Parser *parser_merge(Parser *self) {
  Parser *parser = parser_or_new(self);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, self->options);
  while (g_hash_table_iter_next(&it, &k, &v))
    g_hash_table_insert(parser->options, v, k);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_insert' changes 'parser->options' while a loop iterates it
  return parser;
}

// Reported: the loop itself may point `parser` at another object.
Parser *parser_chain(Parser *self, gpointer name) {
  Parser *parser = parser_new();
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, self->options);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    g_hash_table_insert(parser->options, v, k);
    // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: 'g_hash_table_insert' changes 'parser->options' while a loop iterates it
    parser = g_hash_table_lookup(parsers, name);
  }
  return parser;
}

// ---- a project allocator declared `__attribute__((malloc))` (GLib's
// G_GNUC_MALLOC; wireshark's wmem_alloc behind wmem_new, bench/realworld R33)
// makes a new object, as malloc does: the attribute promises the pointer
// aliases nothing else. One without the attribute may return any object.

typedef unsigned long size_t;
void *pool_alloc(void *pool, size_t size) __attribute__((malloc));
void *pool_alloc_plain(void *pool, size_t size);
#define pool_new(pool, type) ((type *)pool_alloc((pool), sizeof(type)))

typedef struct { GHashTable *table; } Payload;
static Payload *payload_new(void) {
  Payload *p = pool_new(0, Payload);
  p->table = g_hash_table_new(0, 0);
  return p;
}
static Payload *payload_new_plain(void) {
  Payload *p = pool_alloc_plain(0, sizeof *p);
  p->table = g_hash_table_new(0, 0);
  return p;
}
static void payload_insert(Payload *p, gpointer key, gpointer value) {
  if (p && p->table)
    g_hash_table_insert(p->table, key, value);
}

Payload *payload_dup(Payload *pl) {
  Payload *copy = payload_new();
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, pl->table);
  while (g_hash_table_iter_next(&it, &k, &v))
    payload_insert(copy, v, k); /* quiet: copy is new */
  return copy;
}
Payload *payload_dup_direct(Payload *pl) {
  Payload *copy = pool_alloc(0, sizeof *copy);
  GHashTableIter it;
  gpointer k, v;
  copy->table = g_hash_table_new(0, 0);
  g_hash_table_iter_init(&it, pl->table);
  while (g_hash_table_iter_next(&it, &k, &v))
    g_hash_table_insert(copy->table, v, k); /* quiet */
  return copy;
}
Payload *payload_dup_plain(Payload *pl) {
  Payload *copy = payload_new_plain();
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, pl->table);
  while (g_hash_table_iter_next(&it, &k, &v))
    payload_insert(copy, v, k);
  // CHECK-MESSAGES: :[[@LINE-1]]:5: warning: call to 'payload_insert' changes 'pl->table' while a loop iterates it
  return copy;
}
