//===--- ReentrantCallbackCheck.h - tsmap-reentrant-callback -------------===//

#ifndef TSMAP_RULES_REENTRANTCALLBACKCHECK_H
#define TSMAP_RULES_REENTRANTCALLBACKCHECK_H

#include "CallbackResolution.h"
#include "ContractModel.h"
#include "GatedMatchPass.h"
#include "EffectSummary.h"
#include "GLibTables.h"
#include "ObjectOrigins.h"
#include "Publication.h"
#include "RcuSections.h"
#include "clang-tidy/ClangTidyCheck.h"
#include "llvm/ADT/StringSet.h"
#include <memory>

namespace clang::tidy::tsmap {

/// \p C is `g_hash_table_insert` or `_replace`: a store under its key
/// argument, which adds no key (and invalidates no walk) when the key is the
/// one being visited (ReentrantLoops.cpp).
bool storesEntry(const CallExpr *C);
/// \p Name unlinks a node of a liburcu lfht: `cds_lfht_del`, `_add_replace`,
/// `_replace` (ReentrantLoops.cpp).
bool removesLfhtNode(llvm::StringRef Name);

struct WrapperHop;
/// A loop wrapper's call of its callback (\p Hop.Direct) is followed, in its
/// loop, by `g_hash_table_iter_init` of the loop's iterator or by leaving the
/// loop: whatever the callback changes, the walk goes on from a fresh
/// iterator or not at all (gnome-shell's gvc, bench/realworld R45;
/// ReentrantLoops.cpp).
bool restartsAfterCallback(const WrapperHop &Hop, ASTContext &Ctx);

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
  /// How the map of a call compares with the map of the outer call: the
  /// same place, the same field of the same struct type (by access path and
  /// type), different, or not known.
  enum class Identity { Same, SameField, Different, Unknown };
  /// A map as an operation names it: its place and the field it is loaded
  /// from (null if none).
  struct MapRef {
    Place P;
    const FieldDecl *Field = nullptr;
    /// The table P, a local holding references, stands for (heldTable).
    Place Held{};
  };
  /// A map operation the callback (or loop body) reaches, and how its map
  /// was found to be the outer one.
  struct Reentry {
    Effect E;
    Identity How;
  };
  /// Compares \p Inner (in the outer call's terms; \p InnerOwn in the
  /// callback's, whose context parameter is \p CtxParam) with \p Outer;
  /// in a loop (\p InLoop) both are in the terms of \p Owner.
  Identity compareMaps(const MapRef &Outer, const MapRef &Inner,
                       const Place &InnerOwn, std::optional<unsigned> CtxParam,
                       bool InLoop = false,
                       const FunctionDecl *Owner = nullptr) const;
  // Iterator loops (ReentrantLoops.cpp): the loop body plays the callback.
  void checkIteratorLoop(const CallExpr *Next, ASTContext &Ctx);
  bool loopCallChanges(const CallExpr *Site, const FunctionDecl *Callee,
                       const FunctionDecl *Owner, const MapRef &Outer,
                       const VarDecl *KeyVar, const CallExpr *Init,
                       const CallExpr *Next, ASTContext &Ctx,
                       llvm::function_ref<bool()> VisitedKeyMayGo);
  /// \p Store (g_hash_table_insert / _replace) stores under a copy of the
  /// key being visited (`g_strdup (k)`, \p IsVisitedKey tells the key) in a
  /// table whose creation the TU shows comparing what keys point to
  /// (g_str_equal for a string copy): it replaces a value, adds no key. The
  /// table is the store's, else the walked one (\p Walked).
  bool storesVisitedKeyCopy(const CallExpr *Store, const Expr *Walked,
                            llvm::function_ref<bool(const Expr *)> IsVisitedKey,
                            ASTContext &Ctx);
  /// \p E is a g_hash_table_insert / _replace whose key is, through the
  /// parameters of its chain of calls, `e->f` of the entry being visited
  /// (\p IsVisitedValue tells it), in a table whose every entry the TU
  /// stores under its own field f (KeyedByField): the key is in the table,
  /// so the store replaces a value and adds no key.
  /// \p V is \p Value, or a local of \p Fn whose only value it is
  /// (`Entry *e = value;`, never assigned again).
  static bool namesValue(const VarDecl *V, const VarDecl *Value, const FunctionDecl *Fn);
  /// \p K names the visited key \p Key of \p Fn: \p Key itself, or a local
  /// whose only value is \p Key through casts (`gchar *code = (gchar *) key;`,
  /// bench/realworld R34), declared inside \p Scope when one is given (the
  /// loop body, which gives it the key anew each round, and never gives
  /// \p Key another value: the caller's to ask), else while \p Fn never
  /// gives \p Key another value.
  static bool namesKey(const Expr *K, const VarDecl *Key, const FunctionDecl *Fn,
                       const Stmt *Scope = nullptr);
  bool storesUnderEntryKey(const Effect &E,
                           llvm::function_ref<bool(const VarDecl *)> IsVisitedValue,
                           ASTContext &Ctx);
  /// \p E is a g_hash_table_remove / _steal keyed, as storesUnderEntryKey
  /// reads it, by the visited entry's own key field, of a table whose
  /// creation the TU shows with no destroy function: once the loop body took
  /// the entry out through the iterator, the key is gone and the removal
  /// finds nothing (bench/realworld R29).
  bool removesEntryKeyAgain(const Effect &E,
                            llvm::function_ref<bool(const VarDecl *)> IsVisitedValue,
                            ASTContext &Ctx);
  /// The same for a removal keyed by the loop's own key variable
  /// (\p IsVisitedKey), through its chain's unassigned parameters (R35).
  bool removesVisitedKeyAgain(const Effect &E,
                              llvm::function_ref<bool(const Expr *)> IsVisitedKey,
                              ASTContext &Ctx);
  /// The table \p Removal removes from is created in the TU with no key or
  /// value destroy function.
  bool destroysNothing(const CallExpr *Removal, ASTContext &Ctx);
  /// The call of \p E (a GLib store or removal) is keyed by `e->f` of the
  /// visited entry (\p IsVisitedValue), through its chain's unassigned
  /// parameters, in a table the TU keys by that field (KeyedByField).
  bool keyedByVisitedField(const Effect &E,
                           llvm::function_ref<bool(const VarDecl *)> IsVisitedValue,
                           ASTContext &Ctx);
  /// \p E is a g_hash_table_insert, _replace or _add that adds no key to the
  /// walked table when the key being visited (\p IsVisitedKey tells it, in
  /// the terms of \p Top, the function the chain of \p E starts in) is in
  /// it: its own key is the visited one, passed down the chain of calls
  /// through parameters they never assign (a store made by a helper), or it
  /// runs only after a lookup of that key in the same table found nothing
  /// (failedLookupKeys: lookup-or-create). Either the table is the walked one,
  /// which holds the key, or it is another table.
  bool storesOnlyVisitedKey(const Effect &E, const FunctionDecl *Top,
                            llvm::function_ref<bool(const Expr *)> IsVisitedKey);
  /// The TU's GLib table creations (Tables), learnt on first use.
  GLibTables &tables(ASTContext &Ctx);
  /// The flow of \p Fn's body, built once per TU; null without a CFG.
  const FunctionFlow *flowOf(const FunctionDecl *Fn);
  /// The map operations a call \p Site (to \p Callee) in a loop body of
  /// \p Owner reaches, into \p Ops; false when there are none to look at.
  /// The note at a GHashTableIter loop's `g_hash_table_iter_next` (\p Next)
  /// naming the table its \p Init set the iterator up with.
  void loopNote(const CallExpr *Next, const CallExpr *Init, ASTContext &Ctx);
  /// \p Site changes the walked table through another iterator over it.
  bool otherIteratorChanges(const CallExpr *Site, const VarDecl *Iter, const MapRef &Outer,
                            const FunctionDecl *Owner, const CallExpr *Init,
                            const CallExpr *Next, ASTContext &Ctx);
  bool loopCallOps(const CallExpr *Site, const FunctionDecl *Callee,
                   const FunctionDecl *Owner, std::vector<Effect> &Ops);
  /// A call of loop body \p Body other than \p Site may take the visited
  /// key out of the walked table (\p Outer) before \p Site runs: it hands
  /// the loop's iterator \p Iter to anything but `g_hash_table_iter_next`,
  /// `_init`, `_replace` or `_get_hash_table` (`g_hash_table_iter_remove
  /// (&it)`), or changes the walked table other than by a store.
  bool bodyMayRemoveVisited(const Stmt *Body, const CallExpr *Site,
                            const VarDecl *Iter, const MapRef &Outer,
                            const FunctionDecl *Owner, ASTContext &Ctx);
  void checkLfhtLoop(const CallExpr *First, ASTContext &Ctx);
  /// cds_lfht_del, _add_replace or _replace (removesLfhtNode), then a free
  /// of the node it removed before a grace period.
  void checkLfhtDelete(const CallExpr *Del, ASTContext &Ctx);
  /// The free, in \p Fn or a function of the TU it calls (\p Budget hops
  /// down), of the object its parameter \p Index points into, that runs on
  /// every path on which the parameter is not null; null when there is none.
  const CallExpr *freeOfParam(const FunctionDecl *Fn, unsigned Index,
                              unsigned Budget, ASTContext &Ctx);
  /// The TU's read-side facts, built on first use (per TU).
  RcuSections &rcu(ASTContext &Ctx);
  /// Under StrictMapIdentity: \p Own, a table of the visited entry (or of
  /// one a callee looked up), is not the walked table: its struct cannot
  /// reach the struct holding the walked field \p OuterField, and the TU
  /// stores only new tables into its field. A walked global (\p OuterGlobal,
  /// no owner to reach) counts when the TU gives it only new tables too
  /// (wireshark's rtp_dyn_payloads, bench/realworld R30).
  bool entryOwnTable(const Place &Own, const FieldDecl *OuterField,
                     ASTContext &Ctx, const FieldDecl *Loaded = nullptr,
                     const Place *OuterGlobal = nullptr);
  bool changesOnlyBeforeTrue(const FunctionDecl *Fn, const FunctionDecl *Self,
                             unsigned Depth, ASTContext &Ctx);
  /// Per TU: changesOnlyBeforeTrue of each function asked about.
  llvm::DenseMap<std::pair<const FunctionDecl *, const FunctionDecl *>, bool>
      ReturnsTrueAfterChange;
  void fieldIdentityNote(const Effect &E, const FieldDecl *Field,
                         const ASTContext &Ctx);
  Place throughLocalStruct(Place P, const FunctionDecl *Owner) const;
  Place heldTable(const Place &P, const Expr *Use, const FunctionDecl *Owner) const;
  void toTopTerms(Effect &E, llvm::ArrayRef<Hop> Chain, const FunctionDecl *Top) const;
  void restateLostMap(Effect &E, const FunctionDecl *Top) const;
  bool anotherObjectsTable(const MapRef &Outer, MapRef &Inner,
                           const FunctionDecl *Owner) const;
  void mapOperations(const FunctionDecl *Fn, const Effect &E, unsigned Depth,
                     std::vector<Effect> &Out);
  /// Helpers mapOperations looked into for one callback; past the budget it
  /// looks into no more (a graph of helpers can have exponentially many paths).
  unsigned ExpansionSteps = 0;
  static constexpr unsigned MaxExpansionSteps = 4096;
  std::optional<Reentry> firstReentry(const CallExpr *Call,
                                      const FunctionDecl *Owner,
                                      const CallbackArgument &Arg,
                                      const ResolvedCallback &Target,
                                      const WrappedCallbackArgument *Wrapped = nullptr);
  bool throughWrappers(const CallExpr *Call, const FunctionDecl *Owner,
                       const WrappedCallbackArgument &W, MapRef &Outer) const;
  void checkTarget(const CallExpr *Call, const FunctionDecl *Owner,
                   const CallbackArgument &Arg, const ResolvedCallback &Target,
                   ASTContext &Ctx,
                   const WrappedCallbackArgument *Wrapped = nullptr);

  ContractModel Model;
  GatedMatchPass::Membership Gate; ///< Runs this check's matchers.
  bool StrictMapIdentity;
  std::string AllowedMapOperationsOption;
  llvm::StringSet<> AllowedMapOperations;
  unsigned MaxCallDepth;
  EffectOptions EffectOpts;
  std::unique_ptr<EffectAnalysis> Analysis;
  std::unique_ptr<NewTableFields> NewFields; ///< Per TU, built on first use.
  /// holdsPrivateNewTable's answers, per walked local (compareMaps asks once
  /// per effect).
  mutable llvm::DenseMap<const VarDecl *, bool> PrivateTables;
  std::unique_ptr<RcuSections> Rcu;          ///< Per TU, built on first use.
  std::unique_ptr<GLibTables> Tables;        ///< Per TU, built on first use.
  std::unique_ptr<WrapperContracts> Wrappers; ///< Per TU, built on first use.
  /// Per TU: tables (variable or field) whose entries are all stored under
  /// their own key field, by (table, field).
  llvm::DenseMap<std::pair<const ValueDecl *, const FieldDecl *>, bool> KeyedTables;
  /// Per TU: the flows flowOf built, by function definition.
  llvm::DenseMap<const FunctionDecl *, std::unique_ptr<FunctionFlow>> Flows;
};

} // namespace clang::tidy::tsmap

#endif
