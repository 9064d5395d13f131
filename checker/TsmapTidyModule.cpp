//===--- TsmapTidyModule.cpp - registers every tsmap-* check -------------===//
//
// The one place where check names are registered. Every name here has a page
// rules/<name>.md and tests test/rules/<name>*.c; test/module/list-checks.test
// keeps the three in step.

#include "clang-tidy/ClangTidyModule.h"
#include "llvm/Config/llvm-config.h"
#if LLVM_VERSION_MAJOR < 22
// Since LLVM 22 the registry lives in ClangTidyModule.h (this header warns).
#include "clang-tidy/ClangTidyModuleRegistry.h"
#endif

#include "NonIdempotentCallbackCheck.h"
#include "ReentrantCallbackCheck.h"
#include "RemoveWithoutCleanupCheck.h"
#include "WeakMutableValueCheck.h"

#include <cstdio>
#include <dlfcn.h>

namespace clang::tidy::tsmap {

class TsmapTidyModule : public ClangTidyModule {
public:
  void addCheckFactories(ClangTidyCheckFactories &Factories) override {
    Factories.registerCheck<NonIdempotentCallbackCheck>("tsmap-non-idempotent-callback");
    Factories.registerCheck<ReentrantCallbackCheck>("tsmap-reentrant-callback");
    Factories.registerCheck<RemoveWithoutCleanupCheck>("tsmap-remove-without-cleanup");
    Factories.registerCheck<WeakMutableValueCheck>("tsmap-weak-mutable-value");
  }
};

} // namespace clang::tidy::tsmap

#define TSMAP_STR2(X) #X
#define TSMAP_STR(X) TSMAP_STR2(X)

/// What the plugin was built for, readable without loading it: tools/tsmap-tidy
/// finds this string in the file (an exported symbol, so no linker drops it).
extern "C" __attribute__((visibility("default"), used)) const char
    tsmap_plugin_info[] = "tsmap-plugin-info: llvm-major=" TSMAP_STR(
        LLVM_VERSION_MAJOR) ";";

namespace clang::tidy {
namespace {

/// The LLVM major version of the process that loaded the plugin (the one
/// clang-tidy runs on), from LLVM's C API; 0 if it cannot tell.
unsigned hostLLVMMajor() {
  using GetVersion = void (*)(unsigned *, unsigned *, unsigned *);
  auto *Get = reinterpret_cast<GetVersion>(dlsym(RTLD_DEFAULT, "LLVMGetVersion"));
  if (!Get)
    return 0;
  unsigned Major = 0, Minor = 0, Patch = 0;
  Get(&Major, &Minor, &Patch);
  return Major;
}

/// Registers the module only in a clang-tidy of the LLVM major version the
/// plugin was built against: in another one, its checks would load and find
/// nothing (or crash), so it says why on one line and registers nothing.
bool registerModule() {
  unsigned Host = hostLLVMMajor();
  if (Host != 0 && Host != LLVM_VERSION_MAJOR) {
    std::fprintf(stderr,
                 "error: the tsmap plugin was built for LLVM %d but is loaded "
                 "into clang-tidy of LLVM %u; its tsmap-* checks are not "
                 "registered (use clang-tidy-%d, or a tsmap plugin built with "
                 "-DTSMAP_LLVM_VERSION=%u)\n",
                 LLVM_VERSION_MAJOR, Host, LLVM_VERSION_MAJOR, Host);
    return false;
  }
  static ClangTidyModuleRegistry::Add<tsmap::TsmapTidyModule> X(
      "tsmap-module", "Checks for the contracts of thread-safe maps.");
  return true;
}

[[maybe_unused]] const bool Registered = registerModule();

} // namespace
} // namespace clang::tidy
