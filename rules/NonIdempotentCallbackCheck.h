//===--- NonIdempotentCallbackCheck.h - tsmap-non-idempotent-callback ----===//

#ifndef TSMAP_RULES_NONIDEMPOTENTCALLBACKCHECK_H
#define TSMAP_RULES_NONIDEMPOTENTCALLBACKCHECK_H

#include "CallbackResolution.h"
#include "ContractModel.h"
#include "GatedMatchPass.h"
#include "EffectSummary.h"
#include "clang-tidy/ClangTidyCheck.h"
#include <memory>

namespace clang::tidy::tsmap {

struct CallbackArgument;
struct ResolvedCallback;

/// Finds callbacks passed to a TSMAP_CALLBACK parameter that do something
/// wrong to repeat: the map may run them more than once.
///
/// For the user-facing documentation see:
/// rules/tsmap-non-idempotent-callback.md
class NonIdempotentCallbackCheck : public ClangTidyCheck {
public:
  NonIdempotentCallbackCheck(StringRef Name, ClangTidyContext *Context);
  void storeOptions(ClangTidyOptions::OptionMap &Opts) override;
  void registerMatchers(ast_matchers::MatchFinder *Finder) override;
  void check(const ast_matchers::MatchFinder::MatchResult &Result) override;
  void onEndOfTranslationUnit() override;

private:
  const Effect *firstOffence(const FunctionSummary &S,
                             std::optional<unsigned> Output) const;
  void checkTarget(const CallExpr *Call, const CallbackArgument &Arg,
                   const ResolvedCallback &Target, ASTContext &Ctx,
                   const WrappedCallbackArgument *Wrapped = nullptr);

  ContractModel Model;
  GatedMatchPass::Membership Gate; ///< Runs this check's matchers.
  std::string NonIdempotentFunctionsOption;
  std::string IdempotentFunctionsOption;
  std::string DeallocatorsOption;
  bool StrictUnknownCalls;
  unsigned MaxCallDepth;
  EffectOptions EffectOpts;
  std::unique_ptr<EffectAnalysis> Analysis;
  std::unique_ptr<WrapperContracts> Wrappers; ///< Per TU, built on first use.
};

} // namespace clang::tidy::tsmap

#endif
