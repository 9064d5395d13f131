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
