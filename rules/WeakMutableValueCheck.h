//===--- WeakMutableValueCheck.h - tsmap-weak-mutable-value ---------------===//

#ifndef TSMAP_RULES_WEAKMUTABLEVALUECHECK_H
#define TSMAP_RULES_WEAKMUTABLEVALUECHECK_H

#include "CallbackResolution.h"
#include "ContractModel.h"
#include "GatedMatchPass.h"
#include "EffectSummary.h"
#include "Publication.h"
#include "clang-tidy/ClangTidyCheck.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include <memory>
#include <string>
#include <vector>

namespace clang::tidy::tsmap {

/// The expansions of liburcu's publishing and loading macros outside system
/// headers, recorded by the preprocessor (rules/WeakMutableValueRcu.cpp).
struct RcuMacros {
  unsigned Publishes = 0;         ///< How many publishing macros.
  std::vector<SourceRange> Loads; ///< Where `rcu_dereference` is.
  std::vector<SourceRange> Exchanges; ///< Where `rcu_xchg_pointer` is.
};

/// Finds values published to a thread-safe map that the map neither owns nor
/// can protect: the address of an automatic object, a TSMAP_WEAK reference to
/// mutable state, or an object written after it was published.
///
/// For the user-facing documentation see rules/tsmap-weak-mutable-value.md.
class WeakMutableValueCheck : public ClangTidyCheck {
public:
  WeakMutableValueCheck(llvm::StringRef Name, ClangTidyContext *Context);
  void storeOptions(ClangTidyOptions::OptionMap &Opts) override;
  void registerMatchers(ast_matchers::MatchFinder *Finder) override;
  void registerPPCallbacks(const SourceManager &SM, Preprocessor *PP,
                           Preprocessor *ModuleExpanderPP) override;
  void check(const ast_matchers::MatchFinder::MatchResult &Result) override;
  void onEndOfTranslationUnit() override;

private:
  /// A publication: argument \c Arg of \c Call reaches a TSMAP_PUBLISHES
  /// parameter of \c Callee, inside function (or block) \c Owner.
  struct Publish {
    const CallExpr *Call;
    const FunctionDecl *Callee;
    const Expr *Arg;
    const Decl *Owner; ///< Null at file scope.
    /// When \c Callee publishes its parameter by passing it on: the calls
    /// that pass it, from inside \c Callee down to the TSMAP_PUBLISHES one.
    std::vector<const CallExpr *> Via;
  };
  /// A write through a published object, found after the publish.
  struct Write {
    const Stmt *Where = nullptr;
    const VarDecl *Through = nullptr; ///< The alias written through.
    const FunctionDecl *Callee = nullptr; ///< For a write by a call.
    const Effect *Chain = nullptr; ///< From the callee's summary, if any.
  };

  /// Checks the publications of \p Call: those through a TSMAP_PUBLISHES
  /// parameter of \p Callee, or with \p Indirect, through its body.
  void checkCall(const CallExpr *Call, const FunctionDecl *Callee,
                 ASTContext &Ctx, bool Indirect);
  bool reportDangling(const Publish &P, ASTContext &Ctx);
  /// On every path from the publish to the return, the same map is destroyed
  /// or cleared, or the same key removed from it.
  bool releasedBeforeReturn(const Publish &P, const FunctionFlow &Flow,
                            ASTContext &Ctx);
  bool reportWeak(const Publish &P);
  /// The notes of a weak-reference finding: the hops, then the declaration.
  void noteWeak(const Publish &P, const Decl *Weak);
  bool reportWeakField(const Publish &P, QualType Record, unsigned Depth,
                       const std::string &Path);
  void reportWritesAfter(const Publish &P, ASTContext &Ctx);
  std::optional<Write> writeAt(const Stmt *S,
                               const std::vector<Handle> &Aliases,
                               const CallExpr *Publisher);
  /// A callee's write \p E (a call of \p Callee) that readers can see torn:
  /// not an atomic or volatile store, nor (with \p LocksCount) made under a
  /// lock a function of its chain holds.
  bool calleeWriteCounts(const FunctionDecl *Callee, const Effect &E, bool LocksCount);
  void checkMapValueType(const DeclaratorDecl *D);
  /// Whether \p FD passes its parameter \p I, unchanged, to a
  /// TSMAP_PUBLISHES parameter (directly or through functions that do): the
  /// calls that pass it on, outermost first; empty when it does not.
  const std::vector<const CallExpr *> &publishesParam(const FunctionDecl *FD,
                                                     unsigned I,
                                                     unsigned Depth);
  void emitViaNotes(const Publish &P);
  bool isWriteFunction(const FunctionDecl *FD) const;
  const FunctionFlow *flowOf(const Decl *Owner, ASTContext &Ctx);
  bool isMutableTarget(QualType Pointer) const;
  const Decl *weakDeclOfType(QualType T) const;

  /// Writes into an object RCU readers may be reading: loaded with
  /// `rcu_dereference` from a pointer the TU publishes with
  /// `rcu_assign_pointer` (rules/WeakMutableValueRcu.cpp).
  void checkRcuWrites(ASTContext &Ctx);
  std::shared_ptr<RcuMacros> Rcu = std::make_shared<RcuMacros>();

  ContractModel Model;
  GatedMatchPass::Membership Gate; ///< Runs this check's matchers.
  const std::string WriteFunctionsOption;
  unsigned MaxCallDepth;
  const std::string StatusConventionOption;
  StatusConvention Convention = StatusConvention::Unknown;
  std::vector<std::string> WriteFunctions;

  std::unique_ptr<EffectAnalysis> Effects;
  /// Every effect of \p Callee's summary at its call \p Inner (the first hop
  /// of a publish through it) is under a test of a parameter that the
  /// constant argument of \p Site fails (`if (share)` given `false`).
  bool guardedOff(const FunctionDecl *Callee, const CallExpr *Inner,
                  const CallExpr *Site, const FunctionDecl *Caller);
  llvm::DenseMap<const Decl *, std::unique_ptr<FunctionFlow>> Flows;
  /// The locks each flow takes (calleeWriteCounts), found once per flow.
  llvm::DenseMap<const FunctionFlow *,
                 std::vector<std::pair<const Stmt *, FunctionFlow::Point>>>
      LockPoints;
  /// Publishes whose later writes are looked for at the end of the TU, once
  /// every map callback of the TU is known.
  std::vector<Publish> Pending;
  /// Calls that may publish through the callee's body, checked at the end of
  /// the TU if some call there publishes directly (PublisherCalled).
  std::vector<const CallExpr *> MaybeIndirect;
  bool PublisherCalled = false;
  /// Functions passed to a map operation as a callback in this TU.
  llvm::DenseSet<const Decl *> Callbacks;
  /// Records the functions \p Arg resolves to in Callbacks.
  void addCallbacks(const CallbackArgument &Arg);
  /// The TU's wrappers of map operations (built on first use).
  std::unique_ptr<WrapperContracts> Wrappers;
  llvm::DenseSet<const Stmt *> ReportedWrites;
  /// Per function: for each parameter, the calls that pass it on to a
  /// TSMAP_PUBLISHES parameter (see publishesParam).
  llvm::DenseMap<const FunctionDecl *,
                 std::vector<std::vector<const CallExpr *>>>
      PublishingParams;
};

} // namespace clang::tidy::tsmap

#endif
