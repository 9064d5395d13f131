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

namespace clang::tidy {
static ClangTidyModuleRegistry::Add<tsmap::TsmapTidyModule>
    X("tsmap-module", "Checks for the contracts of thread-safe maps.");
} // namespace clang::tidy
