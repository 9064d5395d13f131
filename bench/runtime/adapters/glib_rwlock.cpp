// GLib GHashTable behind one GRWLock; 8-byte keys and values stored directly in the
// gpointer slots (no allocation per entry).
#include "../src/workloads.h"

#include <glib.h>

namespace {

class GlibRwlock : public tsmap_bench::AdapterBase {
public:
  static constexpr const char *kName = "glib_rwlock";
  static constexpr const char *kDesc = "GLib GHashTable behind one GRWLock (direct keys)";
  static constexpr unsigned kCaps = tsmap_bench::kConcurrent;

  GlibRwlock() : table_(g_hash_table_new(hash, nullptr)) { g_rw_lock_init(&lock_); }
  ~GlibRwlock() {
    g_hash_table_destroy(table_);
    g_rw_lock_clear(&lock_);
  }

  bool get(uint64_t k, uint64_t *v) {
    gpointer value = nullptr;
    g_rw_lock_reader_lock(&lock_);
    gboolean found = g_hash_table_lookup_extended(table_, ptr(k), nullptr, &value);
    g_rw_lock_reader_unlock(&lock_);
    if (found)
      *v = uint64_t(reinterpret_cast<uintptr_t>(value));
    return found;
  }
  void put(uint64_t k, uint64_t v) {
    g_rw_lock_writer_lock(&lock_);
    g_hash_table_insert(table_, ptr(k), ptr(v));
    g_rw_lock_writer_unlock(&lock_);
  }
  bool erase(uint64_t k) {
    g_rw_lock_writer_lock(&lock_);
    gboolean gone = g_hash_table_remove(table_, ptr(k));
    g_rw_lock_writer_unlock(&lock_);
    return gone;
  }
  /// Read-locked lookup; on a miss the callback runs unlocked, then the write lock
  /// inserts unless another thread got there first.
  template <class F> uint64_t compute_if_absent(uint64_t k, F &&make) {
    uint64_t v;
    if (get(k, &v))
      return v;
    uint64_t made = make(k);
    gpointer value = nullptr;
    g_rw_lock_writer_lock(&lock_);
    if (g_hash_table_lookup_extended(table_, ptr(k), nullptr, &value)) {
      made = uint64_t(reinterpret_cast<uintptr_t>(value));
    } else {
      g_hash_table_insert(table_, ptr(k), ptr(made));
    }
    g_rw_lock_writer_unlock(&lock_);
    return made;
  }

private:
  static gpointer ptr(uint64_t x) { return reinterpret_cast<gpointer>(uintptr_t(x)); }
  static guint hash(gconstpointer p) {
    uint64_t k = uint64_t(reinterpret_cast<uintptr_t>(p));
    return guint(k ^ (k >> 32));
  }

  GRWLock lock_;
  GHashTable *table_;
};

} // namespace

TSMAP_BENCH_REGISTER(GlibRwlock);
