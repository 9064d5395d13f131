// RUN: %check_tsmap_tidy %s tsmap-weak-mutable-value %t
// A thread-local object (`_Thread_local`, `__thread`) is not static storage:
// it dies when its thread exits, and its thread rewrites it while others read
// it through the map. Publishing its address is reported; a static object, or
// a copy (tsmap_put copies the bytes it is given), is not.
#include <stdio.h>
#include <string.h>
#include <tsmap/tsmap.h>

struct cfg { int port; };
static _Thread_local char t_label[64];
static __thread struct cfg t_cfg;
static char g_label[64];

int label(tsmap *m, const char *name, int id) {
  snprintf(t_label, sizeof t_label, "%s#%d", name, id);
  return tsmap_put_ptr(m, name, strlen(name), t_label, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:47: warning: 'tsmap_put_ptr' publishes the address of thread-local variable 't_label'; the map keeps the pointer after its thread exits, and other threads read it while its thread writes it [tsmap-weak-mutable-value]
}

int config(tsmap *m) {
  struct cfg *c = &t_cfg;
  return tsmap_put_ptr_if_absent(m, "cfg", 3, c, NULL);
  // CHECK-MESSAGES: :[[@LINE-1]]:47: warning: 'tsmap_put_ptr_if_absent' publishes the address of thread-local variable 't_cfg'; the map keeps the pointer after its thread exits, and other threads read it while its thread writes it [tsmap-weak-mutable-value]
}

int label_static(tsmap *m, const char *name) {
  return tsmap_put_ptr(m, name, strlen(name), g_label, NULL); // static storage
}

int config_copy(tsmap *m) {
  return tsmap_put(m, "cfg", 3, &t_cfg, NULL); // the bytes are copied
}
