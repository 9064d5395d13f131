/* GLib's ownership macros, expanded as GLib 2.74's gmem.h, gmain.h,
 * gobject.h and gsignal.h expand them under Clang (glib_typeof is
 * __typeof__). */
#ifndef REMOVAL_GLIB_MACROS_H
#define REMOVAL_GLIB_MACROS_H
#include "removal-glib.h"
typedef unsigned long gulong;
#define G_STMT_START do
#define G_STMT_END while (0)
#define G_STATIC_ASSERT(expr) _Static_assert((expr), "")
#define glib_typeof(t) __typeof__(t)

static inline gpointer g_steal_pointer(gpointer pp) {
  gpointer *ptr = (gpointer *)pp;
  gpointer ref;
  ref = *ptr;
  *ptr = NULL;
  return ref;
}
#define g_steal_pointer(pp) ((glib_typeof(*pp))(g_steal_pointer)(pp))

#define g_clear_pointer(pp, destroy)                                           \
  G_STMT_START {                                                               \
    G_STATIC_ASSERT(sizeof *(pp) == sizeof(gpointer));                         \
    glib_typeof((pp)) _pp = (pp);                                              \
    glib_typeof(*(pp)) _ptr = *_pp;                                            \
    *_pp = NULL;                                                               \
    if (_ptr)                                                                  \
      (destroy)(_ptr);                                                         \
  }                                                                            \
  G_STMT_END

gboolean g_source_remove(guint tag);
#define g_clear_handle_id(tag_ptr, clear_func)                                 \
  G_STMT_START {                                                               \
    G_STATIC_ASSERT(sizeof *(tag_ptr) == sizeof(guint));                       \
    guint *_tag_ptr = (guint *)(tag_ptr);                                      \
    guint _handle_id;                                                          \
                                                                               \
    _handle_id = *_tag_ptr;                                                    \
    if (_handle_id > 0) {                                                      \
      *_tag_ptr = 0;                                                           \
      clear_func(_handle_id);                                                  \
    }                                                                          \
  }                                                                            \
  G_STMT_END

void g_object_unref(gpointer object);
#define g_clear_object(object_ptr) g_clear_pointer((object_ptr), g_object_unref)

void g_signal_handler_disconnect(gpointer instance, gulong handler_id);
#define g_clear_signal_handler(handler_id_ptr, instance)                       \
  G_STMT_START {                                                               \
    gpointer const _instance = (instance);                                     \
    gulong *const _handler_id_ptr = (handler_id_ptr);                          \
    const gulong _handler_id = *_handler_id_ptr;                               \
                                                                               \
    if (_handler_id > 0) {                                                     \
      *_handler_id_ptr = 0;                                                    \
      g_signal_handler_disconnect(_instance, _handler_id);                     \
    }                                                                          \
  }                                                                            \
  G_STMT_END
#endif
