//===--- RcuSections.h - liburcu read-side sections and grace periods -----===//
//
// What tsmap-reentrant-callback asks about liburcu, read on clang's CFG:
//   - whether every path from a function's entry to a statement holds the
//     RCU read lock (a forward must-analysis of the lock depth: the least
//     depth over the paths that reach each block);
//   - what a call to a function of the TU does to the depth (the least depth
//     it leaves on return, relative to its entry: `db_read_lock()` +1,
//     `db_read_unlock()` -1, a balanced helper 0) and whether it waits for a
//     grace period on every path (`db_quiesce()` around `synchronize_rcu`);
//   - whether the TU uses the QSBR flavor.
// Calls are followed up to a budget of hops (the check's MaxCallDepth).
// Everything that cannot be decided answers std::nullopt, and callers stay
// quiet on it.
//
//===----------------------------------------------------------------------===//

#ifndef TSMAP_CHECKER_RCUSECTIONS_H
#define TSMAP_CHECKER_RCUSECTIONS_H

#include "Publication.h"
#include "clang/AST/ASTContext.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/DenseSet.h"
#include <memory>
#include <optional>
#include <vector>

namespace clang::tidy::tsmap {

/// liburcu's read lock in any flavor and spelling: `rcu_read_lock`,
/// `urcu_memb_read_lock`, `_urcu_memb_read_lock` (_LGPL_SOURCE),
/// `urcu_qsbr_read_lock`, `rcu_read_lock_memb` (liburcu < 0.11).
bool isRcuReadLockName(llvm::StringRef Name);
bool isRcuReadUnlockName(llvm::StringRef Name);
/// `synchronize_rcu` or `rcu_barrier` in any flavor and spelling.
bool isGracePeriodName(llvm::StringRef Name);

/// The TU uses liburcu's QSBR flavor (`urcu-qsbr.h`, with or without
/// _LGPL_SOURCE, or liburcu < 0.11's `_qsbr` names).
bool usesQsbrFlavor(ASTContext &Ctx);

/// The name of \p C's direct callee, or "".
llvm::StringRef calleeName(const CallExpr *C);
/// Every call in \p S (not in lambdas or blocks), in source order.
void collectCalls(const Stmt *S, llvm::SmallVectorImpl<const CallExpr *> &Out);

/// The read-side facts of one TU's functions, computed on first use.
class RcuSections {
public:
  /// Calls to functions of the TU are followed up to \p MaxCallDepth hops.
  RcuSections(ASTContext &Ctx, unsigned MaxCallDepth)
      : Ctx(Ctx), MaxCallDepth(MaxCallDepth) {}

  /// True when every path from \p Fn's entry to \p Site holds the read lock
  /// (taken in \p Fn itself); false when some path does not; std::nullopt
  /// when no CFG, \p Site unreachable, or the analysis hit its bound.
  std::optional<bool> holdsReadLock(const Stmt *Site, const FunctionDecl *Fn);

  /// \p Call waits for a grace period: `synchronize_rcu`/`rcu_barrier`, or
  /// a function of the TU that calls one (or such a function) on every path.
  bool waitsForGracePeriod(const CallExpr *Call);

  /// The flow of \p Fn's body, built once; null when clang cannot build it.
  const FunctionFlow *flowOf(const FunctionDecl *Fn);

  /// A direct call and the function that makes it.
  using CallSite = std::pair<const CallExpr *, const FunctionDecl *>;
  /// The calls to \p Fn in the TU (one walk of the TU, on first use).
  llvm::ArrayRef<CallSite> callersOf(const FunctionDecl *Fn);

private:
  /// The least lock depth at the entry of each block of \p Fn (by block ID;
  /// Unreached for blocks no path reaches); null when undecided.
  const std::vector<int> *entryDepths(const FunctionDecl *Fn, unsigned Budget);
  /// What a call changes in the depth (\p Budget hops left for callees).
  int callDelta(const CallExpr *Call, unsigned Budget);
  /// The least depth \p Fn leaves on return; 0 when it never returns.
  int exitDelta(const FunctionDecl *Fn, unsigned Budget);
  bool waits(const CallExpr *Call, unsigned Budget);
  bool alwaysWaits(const FunctionDecl *Fn, unsigned Budget);
  /// \p Fn's body (or a callee's, \p Budget hops down) calls the read lock
  /// or unlock (\p Grace false) or a grace period (\p Grace true): an AST
  /// walk, so no CFG is built for functions that cannot matter.
  bool mentions(const FunctionDecl *Fn, unsigned Budget, bool Grace);

  using Key = std::pair<const FunctionDecl *, unsigned>;
  ASTContext &Ctx;
  unsigned MaxCallDepth;
  /// Per function (null: clang built no CFG).
  llvm::DenseMap<const FunctionDecl *, std::unique_ptr<FunctionFlow>> Flows;
  /// Per function and budget (null: undecided). Pointers stay valid.
  llvm::DenseMap<Key, std::unique_ptr<std::vector<int>>> Depths;
  llvm::DenseMap<Key, bool> Waits;
  llvm::DenseMap<std::pair<Key, unsigned>, bool> Mentions;
  /// Recursion guard: (function, budget) and the question (a Question).
  llvm::DenseSet<std::pair<Key, unsigned>> InProgress;
  /// By canonical callee; built by the first callersOf.
  std::optional<llvm::DenseMap<const FunctionDecl *, std::vector<CallSite>>> Callers;
};

} // namespace clang::tidy::tsmap

#endif
