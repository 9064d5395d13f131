// RUN: %check_tsmap_tidy %s tsmap-reentrant-callback %t -- -- -I%S/Inputs
//
// A change of the walked table followed by a jump that leaves the walk is
// quiet; one that only leaves an inner loop, a `switch` or a `do { } while
// (0)`, or a `goto` to a label inside the loop body, is not: the walk goes on
// with an invalidated iterator (bench/realworld R49, R50). After an inner
// search loop, a later `if (found) break;` leaves the walk.

#include "reentrant-glib.h"

typedef struct { GHashTable *globs; } Parser;
int is_dot(gpointer key);

void drop_in_inner_loop(Parser *p) {
  GHashTableIter iter;
  gpointer key;
  g_hash_table_iter_init(&iter, p->globs);
  while (g_hash_table_iter_next(&iter, &key, 0)) {
    for (int k = 0; k < 2; k++) {
      if (k == 1) {
        g_hash_table_remove(p->globs, key);
        // CHECK-MESSAGES: :[[@LINE-1]]:9: warning: 'g_hash_table_remove' changes 'p->globs' while a loop iterates it with 'g_hash_table_iter_next'
        break;
      }
    }
  }
}

void drop_in_switch(Parser *p) {
  GHashTableIter iter;
  gpointer key;
  g_hash_table_iter_init(&iter, p->globs);
  while (g_hash_table_iter_next(&iter, &key, 0)) {
    switch (is_dot(key)) {
    case 1:
      g_hash_table_remove(p->globs, key);
      // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: 'g_hash_table_remove' changes 'p->globs' while a loop iterates it with 'g_hash_table_iter_next'
      break;
    default:
      break;
    }
  }
}

void drop_in_do_while(Parser *p) {
  GHashTableIter iter;
  gpointer key;
  g_hash_table_iter_init(&iter, p->globs);
  while (g_hash_table_iter_next(&iter, &key, 0)) {
    do {
      g_hash_table_remove(p->globs, key);
      // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: 'g_hash_table_remove' changes 'p->globs' while a loop iterates it with 'g_hash_table_iter_next'
      break;
    } while (0);
  }
}

void drop_goto_next(Parser *p) {
  GHashTableIter iter;
  gpointer key;
  g_hash_table_iter_init(&iter, p->globs);
  while (g_hash_table_iter_next(&iter, &key, 0)) {
    if (is_dot(key)) {
      g_hash_table_remove(p->globs, key);
      // CHECK-MESSAGES: :[[@LINE-1]]:7: warning: 'g_hash_table_remove' changes 'p->globs' while a loop iterates it with 'g_hash_table_iter_next'
      goto next;
    }
    is_dot(key);
  next:;
  }
}

// Quiet: each of these leaves the walk after the change.
void drop_then_break(Parser *p) {
  GHashTableIter iter;
  gpointer key;
  g_hash_table_iter_init(&iter, p->globs);
  while (g_hash_table_iter_next(&iter, &key, 0)) {
    if (is_dot(key)) {
      g_hash_table_remove(p->globs, key);
      break;
    }
  }
}

int drop_goto_done(Parser *p) {
  GHashTableIter iter;
  gpointer key;
  g_hash_table_iter_init(&iter, p->globs);
  while (g_hash_table_iter_next(&iter, &key, 0)) {
    if (is_dot(key)) {
      g_hash_table_remove(p->globs, key);
      goto done;
    }
  }
  return 0;
done:
  return 1;
}

void drop_found_then_break(Parser *p) {
  GHashTableIter iter;
  gpointer key;
  g_hash_table_iter_init(&iter, p->globs);
  while (g_hash_table_iter_next(&iter, &key, 0)) {
    int found = 0;
    for (int k = 0; k < 2; k++) {
      if (k == is_dot(key)) {
        g_hash_table_remove(p->globs, key);
        found = 1;
        break;
      }
    }
    if (found)
      break;
  }
}

void drop_in_switch_then_return(Parser *p) {
  GHashTableIter iter;
  gpointer key;
  g_hash_table_iter_init(&iter, p->globs);
  while (g_hash_table_iter_next(&iter, &key, 0)) {
    switch (is_dot(key)) {
    case 1:
      g_hash_table_remove(p->globs, key);
      return;
    default:
      break;
    }
  }
}
