//===--- ReentrantCallbackCheck.h - tsmap-reentrant-callback -------------===//

#ifndef TSMAP_RULES_REENTRANTCALLBACKCHECK_H
#define TSMAP_RULES_REENTRANTCALLBACKCHECK_H

#include "ContractModel.h"
#include "GatedMatchPass.h"
#include "EffectSummary.h"
#include "clang-tidy/ClangTidyCheck.h"
#include "llvm/ADT/StringSet.h"
#include <memory>

namespace clang::tidy::tsmap {

struct CallbackArgument;
struct ResolvedCallback;

/// Finds callbacks passed to a TSMAP_CALLBACK_LOCKED parameter that call an
/// operation on the same map: the map runs them under its own lock.
///
/// For the user-facing documentation see:
/// rules/tsmap-reentrant-callback.md
class ReentrantCallbackCheck : public ClangTidyCheck {
public:
  ReentrantCallbackCheck(StringRef Name, ClangTidyContext *Context);
  void storeOptions(ClangTidyOptions::OptionMap &Opts) override;
  void registerMatchers(ast_matchers::MatchFinder *Finder) override;
  void check(const ast_matchers::MatchFinder::MatchResult &Result) override;
  void onEndOfTranslationUnit() override;

private:
  /// How the map of a call compares with the map of the outer call.
  enum class Identity { Same, Different, Unknown };
  Identity sameMap(const Place &Outer, const Place &Inner) const;
  Place throughLocalStruct(Place P, const FunctionDecl *Owner) const;
  Place toTopTerms(Place P, llvm::ArrayRef<Hop> Chain,
                   const FunctionDecl *Top) const;
  void mapOperations(const FunctionDecl *Fn, const Effect &E, unsigned Depth,
                     std::vector<Effect> &Out);
  std::optional<Effect> firstReentry(const CallExpr *Call, const FunctionDecl *Owner,
                             const CallbackArgument &Arg,
                             const ResolvedCallback &Target, bool &Same);
  void checkTarget(const CallExpr *Call, const FunctionDecl *Owner,
                   const CallbackArgument &Arg, const ResolvedCallback &Target,
                   ASTContext &Ctx);

  ContractModel Model;
  GatedMatchPass::Membership Gate; ///< Runs this check's matchers.
  bool StrictMapIdentity;
  std::string AllowedMapOperationsOption;
  llvm::StringSet<> AllowedMapOperations;
  unsigned MaxCallDepth;
  EffectOptions EffectOpts;
  std::unique_ptr<EffectAnalysis> Analysis;
};

} // namespace clang::tidy::tsmap

#endif
