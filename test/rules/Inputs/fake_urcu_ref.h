/* liburcu's urcu/ref.h as a system header: inline reference-count primitives
 * that write through their parameter, atomically. */
#pragma clang system_header
#ifndef FAKE_URCU_REF_H
#define FAKE_URCU_REF_H
struct urcu_ref { long refcount; };
static inline void urcu_ref_get(struct urcu_ref *ref) {
  long old = ref->refcount;
  while (!__atomic_compare_exchange_n(&ref->refcount, &old, old + 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
    ;
}
static inline void urcu_ref_reset(struct urcu_ref *ref) { ref->refcount = 1; }
#endif
