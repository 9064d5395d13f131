//===--- RemovalPaths.h - does a removed value get cleaned up on every path ===//
//
// The path analysis behind tsmap-remove-without-cleanup. A removal hands the
// caller a value that owes cleanups (TSMAP_CLEANUP on its type or fields).
// Starting right after the removal call, findMissedCleanup() walks Clang's CFG
// of the enclosing function to its exit and reports the first path on which a
// cleanup is still owed. Along a path a statement discharges cleanups when it
//   - calls the cleanup function on the value, `v->field` or `&v->field`,
//     or on a local copy of the field (GLib's g_clear_pointer and
//     g_clear_handle_id copy it into a macro-local variable first);
//   - calls a function with a body that does so (a bounded, recursion-safe
//     walk of the callee, ValueUses::calleeDischarges);
//   - hands the value on: returns it, stores it into memory that outlives the
//     function, passes it to a function that hands it on or has no body
//     (`g_steal_pointer(&v)` stands for `v`).
// Deallocators (free and the configured ones) are not a hand-off.
// A branch on which the removal reported "not found" (its status, or a null
// test of the received value, read by CallOutcome with what the path learned
// on its way: CallOutcome::PathFacts) has nothing to clean and is not
// followed; nor is one that tests the removal in a way that cannot be read. The side of a null or zero test of a field where the field is null
// owes nothing for that field's cleanup.
//
//===----------------------------------------------------------------------===//

#ifndef TSMAP_CHECKER_REMOVALPATHS_H
#define TSMAP_CHECKER_REMOVALPATHS_H

#include "CallOutcome.h"
#include "clang/AST/Decl.h"
#include "clang/AST/Expr.h"
#include "clang/Analysis/CFG.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallPtrSet.h"
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace clang::tidy::tsmap {

class EffectAnalysis;

/// One cleanup a removed value owes: `FnName` called on the value itself
/// (`Field` null) or on its field `Field`; when that field is a struct held
/// by value, `Below` leads from it to the annotated field (`core.idle`). A
/// cleanup call on any part of `Field` counts.
struct CleanupGoal {
  std::string FnName;
  const FieldDecl *Field = nullptr;
  llvm::SmallVector<const FieldDecl *, 1> Below = {};
};

/// A set of goals, bit I for goal I (at most 63 goals are tracked).
using GoalMask = uint64_t;
inline GoalMask allGoals(size_t N) {
  return N >= 63 ? ~GoalMask(0) >> 1 : (GoalMask(1) << N) - 1;
}

/// How an expression refers to the tracked value.
struct ValueRef {
  enum Kind { None, Whole, Member } K = None;
  const FieldDecl *Field = nullptr; ///< For Member: the field right below the value.
  /// For Whole: the fields from what is referred to down to the value, when
  /// it is an aggregate that holds the value (`&b` for a value in
  /// `b.items[n]`: `items`); empty for the value itself.
  llvm::SmallVector<const FieldDecl *, 2> Inside = {};
};

/// What the analysis may assume about functions.
struct RemovalPolicy {
  /// Functions that destroy memory without its cleanup (besides free, realloc).
  std::vector<std::string> Deallocators;
  /// How deep calls are followed into callees with bodies.
  unsigned MaxCallDepth = 8;
  bool isDeallocator(llvm::StringRef Name) const;
};

/// Whether eviction hook \p Hook (with a visible body) hands the value it is
/// given (its third parameter, a tsmap hook's `value`; else its first, a
/// GDestroyNotify's) or something read from it to a call whose body the
/// translation unit does not show (a release function in another file, a
/// function pointer), other than a deallocator or a variadic logger: that
/// callee may clean it, so the hook is trusted as an invisible one is.
bool hookHandsValueToUnseen(const clang::FunctionDecl *Hook, const RemovalPolicy &P);

/// Classifies statements by what they do to one tracked value: the variables
/// that hold it, and the goals it owes.
class ValueUses {
public:
  ValueUses(ASTContext &Ctx, std::vector<CleanupGoal> Goals,
            const RemovalPolicy &Policy, unsigned Depth = 0);

  /// Where the value is held: variable \p Var, or the place reached from it
  /// through the fields \p Path (`op.reg`, `local.items[i]`: array elements
  /// are looked through) when \p Var is a local aggregate that dies with the
  /// function.
  struct Holder {
    const VarDecl *Var = nullptr;
    llvm::SmallVector<const FieldDecl *, 2> Path;
    bool operator==(const Holder &O) const {
      return Var == O.Var && Path == O.Path;
    }
  };
  /// The place in a local aggregate (or a by-value struct parameter) that
  /// lvalue \p E names through `.` and array subscripts only; else nothing.
  static std::optional<Holder> localPlace(const Expr *E);

  /// Tracks \p V, and every local pointer or local place of \p Body
  /// assigned from it.
  void track(const VarDecl *V, const Stmt *Body);
  /// Tracks place \p H (a local aggregate's field) the same way.
  void track(const Holder &H, const Stmt *Body);
  /// \p V is a live holder of the value.
  bool isTracked(const VarDecl *V) const;
  /// The index of the holder lvalue \p E names exactly, if any.
  std::optional<unsigned> holderIndex(const Expr *E) const;
  const std::vector<Holder> &holders() const { return Holders; }
  /// Which holders still hold the value (bit I for holder I), along the
  /// path being walked; all at first.
  uint64_t live() const { return Live; }
  void setLive(uint64_t L) { Live = L; }

  /// How \p E (casts, parentheses and `&` looked through) refers to the value.
  ValueRef refersTo(const Expr *E) const;
  /// \p E is the whole value, or (C++) an object constructed from it: the
  /// value held by a `std::optional`, a `std::pair` (`{fd, c}`), a class
  /// built around it.
  bool carriesValue(const Expr *E) const;
  /// The goals statement \p S (its top node only) discharges.
  GoalMask discharged(const Stmt *S);
  /// \p Owed, less the value-level goals when no field goal is owed (doing
  /// every field's cleanup by hand stands for the value-level cleanup).
  GoalMask settle(GoalMask Owed) const;
  /// What the cleanup attributes of the live holders do at the function's
  /// exit (`g_autoptr(Session) s`, `__attribute__((cleanup(f)))`): each calls
  /// its function with the holder's address.
  GoalMask dischargedByScopeCleanups();
  /// \p S is a deallocator called on the whole value (destroys it without
  /// its cleanup).
  bool isDeallocation(const Stmt *S) const;
  /// The goals anything in \p S (the whole subtree) discharges.
  GoalMask dischargedAnywhere(const Stmt *S);

  const std::vector<CleanupGoal> &goals() const { return Goals; }
  /// Asks the engine's effect summaries about callees with bodies too (the
  /// local walk of calleeDischarges stays: either one finding the cleanup or
  /// a hand-off is enough).
  void useSummaries(EffectAnalysis *EA) { Effects = EA; }
  GoalMask all() const { return allGoals(Goals.size()); }

private:
  ValueRef refersTo(const Expr *E, unsigned CopyDepth) const;
  /// Whether initializer list \p ILE holds the value, with \p Path set to
  /// the fields down to it.
  bool placeInInit(const InitListExpr *ILE,
                   llvm::SmallVectorImpl<const FieldDecl *> &Path,
                   unsigned CopyDepth) const;
  /// Records in FieldCopies the locals of \p S given a field of the value.
  void addFieldCopies(const Stmt *S);
  GoalMask dischargedByCall(const CallExpr *Call);
  /// What the engine's summary of \p FD says it does to parameter \p Param.
  GoalMask summaryDischarges(const FunctionDecl *FD, unsigned Param,
                             const ValueRef &Arg);
  GoalMask calleeDischarges(const FunctionDecl *FD, unsigned Param,
                            const ValueRef &Arg);

  /// What a callee does to its parameter, per (callee, parameter, field
  /// argument, goals); shared by the walks of one removal. Seeded with
  /// "nothing" before a callee is walked, so recursion ends.
  using CalleeMemo = std::map<std::tuple<const FunctionDecl *, unsigned,
                                         const FieldDecl *, std::string>,
                              GoalMask>;

  ASTContext &Ctx;
  std::vector<CleanupGoal> Goals;
  const RemovalPolicy &Policy;
  unsigned Depth;
  void addHolder(const Holder &H);
  std::vector<Holder> Holders; ///< At most 64.
  uint64_t Live = ~uint64_t(0);
  /// Locals holding a copy of a field of the value, or a pointer to one
  /// (`guint id = s->timeout_id`, `_pp = &c->idle`), with the expression
  /// they are given; null when they are also given something else.
  llvm::DenseMap<const VarDecl *, const Expr *> FieldCopies;
  std::shared_ptr<CalleeMemo> Memo;
  EffectAnalysis *Effects = nullptr;
};

/// The first path from a removal to the function's exit that still owes
/// goals.
struct MissedCleanup {
  GoalMask Missing = 0;
  SourceLocation Exit;  ///< The return statement, or the closing brace.
  bool AtReturn = false;
  /// The last deallocator call on the value along the path, if any.
  const CallExpr *Freed = nullptr;
  /// Where the last variable holding the value was given another value
  /// (`s = NULL;`), or where a loop came back to the removal, which
  /// overwrites it, or where a `g_steal_pointer(&h)` took it out of the last
  /// holder and dropped it; then Exit is that place.
  /// NextValue: the loop came back to RemovalStatus::Refill instead.
  enum { AtExit, Overwritten, NextRemoval, NextValue, StolenAndDropped } How = AtExit;
  /// For AtExit: the last `continue` or `break` the path took, if any (a value
  /// dropped there is better shown there than at the function's end).
  const Stmt *Jump = nullptr;
};

/// What the removal call's result says.
struct RemovalStatus {
  const CallExpr *Call = nullptr;     ///< The removal.
  const VarDecl *StatusVar = nullptr; ///< A local holding its result, if any.
  bool Replaces = false;              ///< A TSMAP_REPLACES put: only
                                      ///< "replaced" hands a value back.
  /// How plain integer statuses are read on this walk.
  StatusReading Reading = StatusReading::ZeroIsSuccess;
  /// Set to whether some test on the walk depended on that reading.
  bool *ReadingUsed = nullptr;
  /// The call that gives the value's first holder its value, when that is
  /// not the removal (`g_hash_table_iter_next (&it, NULL, &w)` before an
  /// iter_remove): a loop that comes back to it overwrites the holder, and
  /// the holders declared after it are out of scope.
  const CallExpr *Refill = nullptr;
};

/// Walks \p G (of function \p FD) from just after \p Status.Call and returns
/// the first path to exit on which \p Uses's goals are not all discharged.
/// Paths that reach the removal again, or end in a noreturn call, are not
/// reported.
std::optional<MissedCleanup> findMissedCleanup(const CFG &G,
                                               const FunctionDecl *FD,
                                               const RemovalStatus &Status,
                                               ValueUses &Uses);

/// Does \p FD (transitively, up to \p Depth calls) call a function named
/// \p Name at all. For eviction hooks, whose value arrives through `void *`.
bool callsFunctionNamed(const FunctionDecl *FD, llvm::StringRef Name,
                        unsigned Depth);

} // namespace clang::tidy::tsmap

#endif
