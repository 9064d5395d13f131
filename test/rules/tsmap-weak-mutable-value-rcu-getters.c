// RUN: %check_tsmap_tidy %s tsmap-weak-mutable-value %t -- -- -I%S/Inputs
// RUN: %check_tsmap_tidy %s tsmap-weak-mutable-value %t -- -- -I%S/Inputs -D_LGPL_SOURCE
//
// A getter of the file whose every return is `rcu_dereference (G)` of a
// published global (multipathd's get_multipath_config: lock, load, return)
// loads for its caller: a write into what it returns is reported as a write
// after rcu_dereference in the caller (bench/realworld R59, MP-2). A getter
// with another return, or of a global the file never publishes, is not one.
// The publish note prefers a publish of an object to one of NULL (R55).

#include "fake_urcu.h"
#include "fake_urcu_pointer.h"

struct config { int strict_timing; int verbosity; };
static struct config *conf_ptr;
static struct config *private_ptr;
static struct config fallback;

void shutdown_config(void) {
  struct config *old = rcu_xchg_pointer(&conf_ptr, 0);
  synchronize_rcu();
  old->verbosity = 0;
}

void set_config(struct config *c) {
  rcu_assign_pointer(conf_ptr, c);
}

struct config *get_config(void) {
  rcu_read_lock();
  return rcu_dereference(conf_ptr);
}
void put_config(struct config *c) {
  (void)c;
  rcu_read_unlock();
}

void relax_timing(void) {
  struct config *conf = get_config();
  conf->strict_timing = 0;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: write to 'conf->strict_timing' while 'conf' is published through 'conf_ptr'; RCU readers may be reading it: change a copy and publish that, or write after a grace period [tsmap-weak-mutable-value]
  // CHECK-MESSAGES: :[[@LINE-3]]:25: note: 'conf' is loaded from 'conf_ptr' here, by 'get_config'
  // CHECK-MESSAGES: :[[@LINE-17]]:3: note: 'conf_ptr' is published with 'rcu_assign_pointer' here
  put_config(conf);
}

// Reading through the getter is what it is for.
int verbosity(void) {
  struct config *conf = get_config();
  int v = conf->verbosity;
  put_config(conf);
  return v;
}

// Another return: not only the published object.
static struct config *config_or_fallback(void) {
  struct config *c = rcu_dereference(conf_ptr);
  if (c)
    return rcu_dereference(conf_ptr);
  return &fallback;
}
void set_fallback_verbosity(int v) {
  struct config *c = config_or_fallback();
  c->verbosity = v;
}

// A global the file never publishes.
static struct config *get_private(void) { return rcu_dereference(private_ptr); }
void set_private(int v) {
  struct config *c = get_private();
  c->verbosity = v;
}
