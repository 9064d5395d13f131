/* Functions in GNU layouts (the return type on its own line, a space before the
   parameter list, parameters over several lines), each with one
   misc-redundant-expression finding. */
static int drop (int *p) { return p == 0; }

void
table_clear (int limit)
{
  if (limit == limit)
    return;
}

static int
fe(int a,
   int b)
{
  return a == a ? b : 0;
}
