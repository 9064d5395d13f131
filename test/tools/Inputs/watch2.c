/* A second unit declaring kv_update: a bad parameter entry is printed once. */
int kv_update(void *t, const char *k, int (*fn)(void *), void *ctx);
int watch2(void) { return kv_update(0, "a", 0, 0); }
