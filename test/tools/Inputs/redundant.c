/* One misc-redundant-expression finding, inside find_limit(). */
int find_limit(int x) {
  int limit = 3;
  if (limit == limit)
    return x;
  return 0;
}
