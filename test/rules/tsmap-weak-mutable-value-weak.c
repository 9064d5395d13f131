// RUN: %check_tsmap_tidy %s tsmap-weak-mutable-value %t -- -- -I%S/Inputs
//
// Weak references to mutable state: the published value is a TSMAP_WEAK
// pointer, or points to a struct with a TSMAP_WEAK field, whose target is
// neither const nor TSMAP_IMMUTABLE.

#include "publish-registry.h"
#include <stdlib.h>

struct user { char name[32]; int logins; };
struct TSMAP_IMMUTABLE config { int port; };
typedef struct TSMAP_IMMUTABLE limits { int max; } limits;

struct session {
  int id;
  TSMAP_WEAK struct user *owner;
};
struct ro_session {
  int id;
  TSMAP_WEAK const struct user *owner;
};
struct cfg_session {
  int id;
  TSMAP_WEAK struct config *cfg;
  TSMAP_WEAK limits *lim;
};
struct outer {
  int n;
  struct session inner;
};

typedef struct user *user_ref TSMAP_WEAK;
typedef const struct user *const_user_ref TSMAP_WEAK;

// ---- Positives ----------------------------------------------------------------

void pub_weak_field(registry *r, struct session *s) {
  reg_publish(r, "owner", s->owner);
  // CHECK-MESSAGES: :[[@LINE-1]]:27: warning: 'reg_publish' publishes 's->owner', a weak reference to mutable 'struct user': its owner may modify or free it while other threads read it through the map [tsmap-weak-mutable-value]
}

void pub_session(registry *r) {
  struct session *s = calloc(1, sizeof *s);
  if (s)
    reg_publish(r, "session", s);
  // CHECK-MESSAGES: :[[@LINE-1]]:31: warning: 'reg_publish' publishes 's', whose field 'owner' is a weak reference to mutable 'struct user': its owner may modify or free it while other threads read it through the map [tsmap-weak-mutable-value]
}

void pub_weak_var(registry *r, struct user *u) {
  TSMAP_WEAK struct user *borrowed = u;
  reg_publish(r, "borrowed", borrowed);
  // CHECK-MESSAGES: :[[@LINE-1]]:30: warning: 'reg_publish' publishes 'borrowed', a weak reference to mutable 'struct user': its owner may modify or free it while other threads read it through the map [tsmap-weak-mutable-value]
}

void pub_weak_typedef(registry *r, user_ref u) {
  reg_publish(r, "typedef", u);
  // CHECK-MESSAGES: :[[@LINE-1]]:29: warning: 'reg_publish' publishes 'u', a weak reference to mutable 'struct user': its owner may modify or free it while other threads read it through the map [tsmap-weak-mutable-value]
}

void pub_nested(registry *r, struct outer *o) {
  reg_publish_new(r, "outer", o);
  // CHECK-MESSAGES: :[[@LINE-1]]:31: warning: 'reg_publish_new' publishes 'o', whose field 'inner.owner' is a weak reference to mutable 'struct user': its owner may modify or free it while other threads read it through the map [tsmap-weak-mutable-value]
}

TSMAP_WEAK struct user *g_current;
void pub_weak_param_and_global(registry *r, TSMAP_WEAK struct user *u) {
  reg_publish(r, "param", u);
  // CHECK-MESSAGES: :[[@LINE-1]]:27: warning: 'reg_publish' publishes 'u', a weak reference to mutable 'struct user': its owner may modify or free it while other threads read it through the map [tsmap-weak-mutable-value]
  reg_publish(r, "global", g_current);
  // CHECK-MESSAGES: :[[@LINE-1]]:28: warning: 'reg_publish' publishes 'g_current', a weak reference to mutable 'struct user': its owner may modify or free it while other threads read it through the map [tsmap-weak-mutable-value]
}

struct typed_session { int id; user_ref owner; };
void pub_typed_field(registry *r, struct typed_session *s) {
  reg_publish(r, "typed", s);
  // CHECK-MESSAGES: :[[@LINE-1]]:27: warning: 'reg_publish' publishes 's', whose field 'owner' is a weak reference to mutable 'struct user': its owner may modify or free it while other threads read it through the map [tsmap-weak-mutable-value]
}

// ---- Negatives ----------------------------------------------------------------

void pub_const_weak(registry *r, struct ro_session *s, const_user_ref cu) {
  reg_publish(r, "ro", s);
  reg_publish(r, "ro-owner", (void *)s->owner);
  reg_publish(r, "cu", (void *)cu);
}

void pub_immutable_weak(registry *r, struct cfg_session *s) {
  reg_publish(r, "cfg", s);
  reg_publish(r, "cfg-field", s->cfg);
  reg_publish(r, "lim", s->lim);
}

void pub_owned_user(registry *r) {
  struct user *u = calloc(1, sizeof *u);
  if (u)
    reg_publish(r, "owned", u);
}

void weak_not_published(registry *r, struct session *s) {
  reg_store_copy(r, "copy", s, sizeof *s);
  (void)r;
}

struct const_typed_session { int id; const_user_ref owner; };
void pub_const_typed_field(registry *r, struct const_typed_session *s) {
  reg_publish(r, "ctyped", s);
}
