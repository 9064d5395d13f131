/* A finding only when VARIANT is defined; an unused variable, which -Werror turns into
 * an error. */
int variant(int x) {
  int unused;
#ifdef VARIANT
  if (x == x)
    return 1;
#endif
  return 0;
}
