// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback %t
// liburcu's uatomic_* on x86 are static inline functions around a locked
// instruction in asm (urcu/uatomic/x86.h, shaped here as it is there): a
// read-modify-write the body reading cannot see, known by name (an
// independent tester's false negative, round 3). A plain store and a count
// in the callback's own local stay quiet.
#include <stddef.h>
#include <tsmap/tsmap.h>

static inline void __uatomic_inc(void *addr, int len) {
  __asm__ __volatile__("lock; incl %0" : "+m"(*(volatile int *)addr) : : "memory");
}
static inline void __uatomic_dec(void *addr, int len) {
  __asm__ __volatile__("lock; decl %0" : "+m"(*(volatile int *)addr) : : "memory");
}
static inline unsigned long __uatomic_add_return(void *addr, unsigned long val, int len) {
  unsigned long result = val;
  __asm__ __volatile__("lock; xaddl %1, %0"
                       : "+m"(*(volatile int *)addr), "+r"(result) : : "memory");
  return result + val;
}
#define uatomic_inc(addr) (__uatomic_inc((addr), sizeof(*(addr))))
#define uatomic_dec(addr) (__uatomic_dec((addr), sizeof(*(addr))))
#define uatomic_add_return(addr, v) \
  ((__typeof__(*(addr)))__uatomic_add_return((addr), (unsigned long)(v), sizeof(*(addr))))
#define uatomic_set(addr, v) ((void)(*(volatile __typeof__(*(addr)) *)(addr) = (v)))

struct entry {
  int refs;
  int hits;
  int state;
};

static tsmap_verdict take_ref(const void *k, size_t n, const void *old, void *ctx,
                              void *out) {
  struct entry *e = *(struct entry *const *)old;
  uatomic_inc(&e->refs);
  *(struct entry **)out = e;
  return TSMAP_STORE;
}
static tsmap_verdict drop_ref(const void *k, size_t n, const void *old, void *ctx,
                              void *out) {
  struct entry *e = *(struct entry *const *)old;
  uatomic_dec(&e->refs);
  *(struct entry **)out = e;
  return TSMAP_STORE;
}
static tsmap_verdict count_hit(const void *k, size_t n, const void *old, void *ctx,
                               void *out) {
  struct entry *e = *(struct entry *const *)old;
  (void)uatomic_add_return(&e->hits, 1);
  *(struct entry **)out = e;
  return TSMAP_STORE;
}
static tsmap_verdict mark(const void *k, size_t n, const void *old, void *ctx, void *out) {
  struct entry *e = *(struct entry *const *)old;
  uatomic_set(&e->state, 1); /* the same store on every run */
  *(struct entry **)out = e;
  return TSMAP_STORE;
}
static tsmap_verdict local_count(const void *k, size_t n, const void *old, void *ctx,
                                 void *out) {
  int tries = 0;
  uatomic_inc(&tries); /* its own local: gone with the run */
  *(struct entry **)out = *(struct entry *const *)old;
  return tries ? TSMAP_STORE : TSMAP_KEEP;
}

void use(tsmap *m, unsigned long id) {
  struct entry *out;
  tsmap_compute(m, &id, sizeof id, take_ref, NULL, &out);
  // CHECK-MESSAGES: :[[@LINE-1]]:36: warning: callback 'take_ref' passed to 'tsmap_compute' is not idempotent: it may run more than once, and each run increments 'e->refs' [tsmap-non-idempotent-callback]
  tsmap_compute(m, &id, sizeof id, drop_ref, NULL, &out);
  // CHECK-MESSAGES: :[[@LINE-1]]:36: warning: callback 'drop_ref' passed to 'tsmap_compute' is not idempotent: it may run more than once, and each run decrements 'e->refs' [tsmap-non-idempotent-callback]
  tsmap_compute(m, &id, sizeof id, count_hit, NULL, &out);
  // CHECK-MESSAGES: :[[@LINE-1]]:36: warning: callback 'count_hit' passed to 'tsmap_compute' is not idempotent: it may run more than once, and each run increments 'e->hits' [tsmap-non-idempotent-callback]
  tsmap_compute(m, &id, sizeof id, mark, NULL, &out);        // quiet
  tsmap_compute(m, &id, sizeof id, local_count, NULL, &out); // quiet
}
