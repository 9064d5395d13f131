//===--- RemoveWithoutCleanupCheck.h - tsmap-remove-without-cleanup -------===//

#ifndef TSMAP_RULES_REMOVEWITHOUTCLEANUPCHECK_H
#define TSMAP_RULES_REMOVEWITHOUTCLEANUPCHECK_H

#include "CallbackResolution.h"
#include "ContractModel.h"
#include "GatedMatchPass.h"
#include "GLibTables.h"
#include "EffectSummary.h"
#include "RemovalPaths.h"
#include "SelfEvictingMaps.h"
#include "clang-tidy/ClangTidyCheck.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallPtrSet.h"
#include <memory>
#include <optional>
#include <vector>

namespace clang::tidy::tsmap {

/// Finds a value removed from a map (or overwritten by a replacing put) whose
/// type carries TSMAP_CLEANUP and whose cleanup never runs: it is discarded
/// with no eviction hook that cleans it, or some path from the removal to
/// the function's exit neither cleans it nor hands it on.
///
/// For the user-facing documentation see rules/tsmap-remove-without-cleanup.md
class RemoveWithoutCleanupCheck : public ClangTidyCheck {
public:
  RemoveWithoutCleanupCheck(StringRef Name, ClangTidyContext *Context);
  void storeOptions(ClangTidyOptions::OptionMap &Opts) override;
  void registerMatchers(ast_matchers::MatchFinder *Finder) override;
  void check(const ast_matchers::MatchFinder::MatchResult &Result) override;
  void onEndOfTranslationUnit() override;

private:
  /// Analyzes the function around \p Removal (once per function).
  void checkEnclosingFunction(const CallExpr *Removal, ASTContext &Ctx);
  /// Records what map \p Call stores into holds (for discarded removals).
  void learnFromStore(const CallExpr *Call);
  /// Learns from GLib calls that are not removals: table creations, lookups.
  void learnFromGLib(const CallExpr *Call, GLibOp Op, ASTContext &Ctx);
  /// How a function removes values, from its contracts.
  struct RemovalApi {
    /// TSMAP_REMOVED_OUT, TSMAP_RETURNS_REMOVED or TSMAP_REPLACES (annotated
    /// or from the options).
    bool Any = false;
    bool Returns = false;  ///< TSMAP_RETURNS_REMOVED
    bool Replaces = false; ///< TSMAP_REPLACES
    bool Stores = false;   ///< Not a removal, but stores Value into Map.
    GLibOp GLib = GLibOp::None; ///< With the glib model on.
    std::optional<unsigned> Out, Map, Value;
  };
  /// A removal whose value nobody receives; decided at the end of the TU,
  /// when every use of the map has told its value type.
  struct Discard {
    enum Kind {
      NullOut,
      Replace,
      IgnoredResult,
      Stolen,      ///< g_hash_table_steal_extended with a null stolen_value
      StolenToCallback ///< g_hash_table_foreach_steal
    } K;
    const CallExpr *Call;
    const FunctionDecl *Callee;
    const ValueDecl *MapDecl;
    QualType ValueType;
    /// About the entry's key (a GLib table's key destroy function), not its
    /// value: RemoveWithoutCleanupKeys.cpp.
    bool Key = false;
  };

  const RemovalApi &apiOf(const FunctionDecl *Callee);
  void checkFunction(const FunctionDecl *FD, ASTContext &Ctx);
  void checkRemoval(const CallExpr *Call, const FunctionDecl *Callee,
                    llvm::ArrayRef<const Stmt *> Parents,
                    const FunctionDecl *FD, ASTContext &Ctx,
                    std::unique_ptr<CFG> &G);
  void checkReceived(const CallExpr *Call, const FunctionDecl *Callee,
                     const VarDecl *Value, const VarDecl *StatusVar,
                     bool Replaces, const FunctionDecl *FD, ASTContext &Ctx,
                     std::unique_ptr<CFG> &G);
  std::optional<MissedCleanup>
  missedOnEveryReading(const CFG &G, const FunctionDecl *FD,
                       const CallExpr *Call, const VarDecl *StatusVar,
                       bool Replaces, ValueUses &Uses,
                       const CallExpr *Refill = nullptr) const;
  /// A value received into \p Place, of type \p Type, named \p Name in
  /// diagnostics: every path cleans it or hands it on.
  void checkReceivedAt(const CallExpr *Call, const FunctionDecl *Callee,
                       const ValueUses::Holder &Place, QualType Type,
                       const std::string &Name, const VarDecl *StatusVar,
                       bool Replaces, const FunctionDecl *FD, ASTContext &Ctx,
                       std::unique_ptr<CFG> &G, const CallExpr *Refill = nullptr);
  /// `op.reg = take(...)`: received into a field of a local aggregate.
  void checkReceivedInPlace(const CallExpr *Call, const FunctionDecl *Callee,
                            const ValueUses::Holder &Place, const Expr *LValue,
                            const FunctionDecl *FD, ASTContext &Ctx,
                            std::unique_ptr<CFG> &G);
  void checkDiscard(const Discard &D);
  /// Handles the GLib removals the model cannot state as contracts; true
  /// when \p Call needs nothing more.
  bool checkGLibRemoval(const CallExpr *Call, const RemovalApi &A,
                        const ValueDecl *MapDecl, const FunctionDecl *FD,
                        ASTContext &Ctx, std::unique_ptr<CFG> &G);
  /// The eviction hook of GLib table \p D.MapDecl, from its creation; false
  /// when it cannot be known (nothing to report).
  bool glibHookOf(const Discard &D, const FunctionDecl *&Hook,
                  const CallExpr *&Creation) const;
  /// The first of \p Cs that eviction hook \p Hook (named \p HookName;
  /// looked up by name when null) does not call; null when it cleans, or is
  /// not visible (trusted).
  const CleanupContract *missedByHook(const FunctionDecl *&Hook,
                                      const std::string &HookName,
                                      const std::vector<CleanupContract> &Cs) const;
  /// Learns the key type of GLib table \p MapDecl from the key \p Call
  /// (an insert or replace) stores.
  void learnKey(const CallExpr *Call, const ValueDecl *MapDecl);
  /// A key dropped to a GLib table's key destroy function, or stolen and
  /// dropped (RemoveWithoutCleanupKeys.cpp).
  void checkKeyDiscard(const Discard &D);
  /// \p Removed: a foreach_remove on a table without a value destroy
  /// function, whose callback is where the values are cleaned.
  void checkStolenToCallback(const Discard &D,
                             const std::vector<CleanupContract> &Cs,
                             bool Removed = false);
  /// The goals of \p Cs that the visible callback (argument 1) of a
  /// g_hash_table_foreach_steal or _foreach_remove \p Call leaves owed for
  /// the value it is handed; std::nullopt when the callback is not visible
  /// (trusted). \p Callback is set to it.
  std::optional<GoalMask> owedByCallback(const CallExpr *Call,
                                         const std::vector<CleanupContract> &Cs,
                                         const FunctionDecl *&Callback);
  /// The goals of \p Cs that \p Callback leaves owed for the value its
  /// parameter \p Param is handed.
  std::optional<GoalMask> owedByParam(const FunctionDecl *Callback, unsigned Param,
                                      const std::vector<CleanupContract> &Cs);
  /// For \p Call to a wrapper that walks table \p Map and hands each value
  /// to its function-pointer parameter (one that passes it to
  /// `g_hash_table_foreach`, or calls it per entry of its own
  /// GHashTableIter loop: WrapperContracts), the map reaching it through
  /// the wrappers' parameters: the function given there, with a body, and the
  /// index of its parameter that gets the value; none otherwise.
  std::optional<std::pair<const FunctionDecl *, unsigned>>
  wrappedWalkCallback(const CallExpr *Call, const ValueDecl *Map);
  /// Whether the statement before \p Call (a destroy or unref of a GLib
  /// table) in its block empties the same table: a foreach_remove or
  /// foreach_steal whose callback returns TRUE on every path.
  bool drainedBefore(const CallExpr *Call, const ValueDecl *MapDecl) const;
  void checkCleanupFunction(const RecordDecl *RD, ASTContext &Ctx);
  void noteContract(const CleanupContract &C, QualType ValueType);
  EffectAnalysis &effects(ASTContext &Ctx);
  std::vector<CleanupGoal> goalsOf(const std::vector<CleanupContract> &Cs) const;

  ContractModel Model;
  GatedMatchPass::Membership Gate; ///< Runs this check's matchers.
  std::string DeallocatorsOption;
  std::string StatusConventionOption;
  StatusConvention Convention = StatusConvention::Unknown;
  RemovalPolicy Policy;
  llvm::DenseMap<const FunctionDecl *, RemovalApi> Apis;
  llvm::SmallPtrSet<const FunctionDecl *, 16> Analyzed; ///< Per TU.
  /// The value type each map holds, from its typed uses in this TU.
  llvm::DenseMap<const ValueDecl *, QualType> MapValueTypes;
  std::vector<Discard> Discards;
  GLibTables Tables;    ///< Per TU.
  /// The key type each GLib table holds, from its inserts (per TU).
  llvm::DenseMap<const ValueDecl *, QualType> MapKeyTypes;
  /// Tables some insert stores an entry into as its own key (`insert(t, e,
  /// e)`): their keys are their values, checked as values (per TU).
  llvm::SmallPtrSet<const ValueDecl *, 8> KeysAreValues;
  /// Inserts of a copy of a key a lookup found absent on every path
  /// (`insert(t, g_strdup(path), v)`), with the kind of copy: they cannot
  /// overwrite when the table's equality compares contents, which is known
  /// at the end of the TU (per TU).
  llvm::DenseMap<const CallExpr *, KeyCopy> CopiedKeyInserts;
  /// An insert's value and table: a value a function inserts into a map
  /// that owns its values and into a GHashTable created without a value
  /// destroy function makes the table an index of borrowed values (per TU).
  struct Insert {
    const VarDecl *Value; ///< A local or parameter: one object in one call.
    const ValueDecl *MapDecl;
  };
  std::vector<Insert> Inserts;
  /// Records \p Call's value when it stores one into a map.
  void noteInsert(const CallExpr *Call, const RemovalApi &A);
  /// The tables whose values are borrowed (decided at the end of the TU).
  llvm::SmallPtrSet<const ValueDecl *, 8> indexTables() const;
  /// \p Map cleans the values it drops: a GLib table created with a value
  /// destroy function, or a map with a known eviction hook.
  bool ownsValues(const ValueDecl *Map) const;
  llvm::SmallPtrSet<const ValueDecl *, 8> Borrowing;
  /// Records the map variable \p Call fills when it is not the runtime's
  /// (MadeByHelper).
  void noteMadeByHelper(const CallExpr *Call, ASTContext &Ctx);
  /// \p D is the insert of a copied key into a table that compares keys by
  /// what they point to: it cannot overwrite.
  bool insertsAbsentCopy(const Discard &D) const;
  bool GLibModel = false; ///< The shipped glib model is on.
  /// Maps created to expire or stay bounded: evicted on their own, decided
  /// at the end of the TU like the discards (SelfEvictingMaps.h).
  std::vector<SelfEvictingMap> SelfEvicting;
  /// The on_entry_evicted hook each libtsmap map's config names (per TU):
  /// the eviction hook of its discarded removals, before TSMAP_EVICTS_WITH.
  llvm::DenseMap<const ValueDecl *, ConfigHook> ConfigHooks;
  /// libtsmap map variables a call other than tsmap_create fills
  /// (`app_map_create("x", &g_m)`, `g_m = app_map_new("x")`): created by code
  /// this TU may not see, with a hook it does not know (per TU).
  llvm::DenseSet<const ValueDecl *> MadeByHelper;
  ASTContext *Ctx = nullptr;
  std::unique_ptr<EffectAnalysis> Effects; ///< Per TU, made on first use.
  std::unique_ptr<WrapperContracts> Wrappers; ///< Per TU, made on first use.
};

} // namespace clang::tidy::tsmap

#endif
