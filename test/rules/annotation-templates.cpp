// RUN: %check_tsmap_tidy %s tsmap-non-idempotent-callback,tsmap-reentrant-callback,tsmap-remove-without-cleanup,tsmap-weak-mutable-value %t
//
// A template's annotations are validated once, as written: its instantiations
// repeat them with the arguments substituted (`TSMAP_PUBLISHES V value` with V
// a struct is fine in the template and must not be reported per instance).

#include <tsmap/annotations.h>

struct point { int x, y; };

template <typename K, typename V> class TSMAP_THREAD_SAFE_MAP store {
public:
  int put(const K &key, TSMAP_PUBLISHES V value);
  int put_ptr(const K &key, TSMAP_PUBLISHES V *value);
};

store<int, point> by_value;
store<int, int> by_int;

int use() { return by_value.put(1, point{1, 2}) + by_int.put(2, 3); }

// The template itself is still validated: a misplaced annotation is reported
// once, at the template, however many times it is instantiated.
template <typename T> struct holder {
  TSMAP_CLEANUP(no_such_cleanup) T *item;
  // CHECK-MESSAGES: :[[@LINE-1]]:3: warning: TSMAP_CLEANUP(no_such_cleanup) names no function declared in this translation unit, so the contract cannot be checked [tsmap-remove-without-cleanup]
};
holder<int> h1;
holder<point> h2;

// An out-parameter whose type is a template parameter: a pointer in one
// instance, not in another. Only the template is judged, and T may be a pointer.
template <typename T> struct remover {
  int remove(int key, TSMAP_REMOVED_OUT T out);
};
remover<point *> r1;
remover<int> r2;
int use_remover() { return r1.remove(1, nullptr) + r2.remove(2, 0); }
