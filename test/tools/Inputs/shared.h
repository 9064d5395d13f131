/* Included by use1.c and use2.c: one finding, reported once. */
static inline int same(int a) {
  return a == 1 || a == 1;
}
