/* Declares the contract subjects of config-subjects.test. */
typedef struct {
  char *path;
  unsigned timeout_id;
} Watch;
int kv_update(void *t, const char *k, int (*fn)(void *), void *ctx);
void timer_cancel(unsigned id);
int watch1(Watch *w) { return kv_update(w, w->path, 0, 0); }
