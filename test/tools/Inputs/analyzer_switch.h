/* Like GLib's gmacros.h and gmessages.h: under __clang_analyzer__ (which clang-tidy
 * defines, and the real compiler does not) the logging macros become inline functions
 * that pass their format on as a variable, and the project's own warnings setting (GLib's
 * -Werror=format=2, here a pragma, since the runner takes -Werror flags out) makes that
 * an error. */
#pragma clang diagnostic error "-Wformat-nonliteral"
#include <stdarg.h>
void log_v(const char *format, va_list args) __attribute__((format(printf, 1, 0)));
#if defined(__clang_analyzer__)
static inline void log_message(const char *format, ...) {
  va_list args;
  va_start(args, format);
  log_v(format, args);
  va_end(args);
}
#else
void log_printf(const char *format, ...) __attribute__((format(printf, 1, 2)));
#define log_message(...) log_printf(__VA_ARGS__)
#endif
