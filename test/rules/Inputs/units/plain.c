/* No contract anywhere: the tsmap pass does not run on this unit. */
static int g_count;
int bump(void) { return ++g_count; }
