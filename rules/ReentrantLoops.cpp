//===--- ReentrantLoops.cpp - tsmap-reentrant-callback: iterator loops ----===//
//
// The loop body plays the part of the callback. A `GHashTableIter` loop
//
//   g_hash_table_iter_init(&it, table);
//   while (g_hash_table_iter_next(&it, &k, &v)) { ... }
//
// must not insert into or remove from `table` in its body (directly or
// through calls whose bodies are in the TU): GLib's iterator asserts, or walks
// buckets that moved. `g_hash_table_iter_remove` / `_replace` are the safe
// calls. What is read locally:
//   - the table is the one `g_hash_table_iter_init` gave the same iterator
//     variable before the loop, in the same function;
//   - a change followed, in its block, by `break`, `return` or `goto` leaves
//     the loop before the iterator is used again: not reported; so does a
//     call `if (f (...)) return;` to a function whose every change is
//     followed by `return TRUE` (changesOnlyBeforeTrue);
//   - `g_hash_table_insert` / `_replace` of the loop's own key variable (also
//     written through a cast, `(gpointer *) &name`) only replaces a value
//     (GLib invalidates iterators only when a key is added), and so does one
//     of a copy of it (`g_strdup (k)`) in a table whose creation in the TU
//     compares what keys point to (g_str_equal); so does a helper's store
//     under the key variable it was handed, and a store that runs only when
//     a lookup of the key variable in its table found nothing (lookup-or-
//     create, failedLookupKeys), unless the body may have taken the key out
//     first (bodyMayRemoveVisited);
//   - maps are compared as for callbacks (same place, or same field and type);
//     a helper's change is restated on the object the body passes it, also
//     through the helper's `priv = foo_get_instance_private (self)`, so the
//     origins of the two objects (a clone, another variable) tell them apart.
//
// liburcu's lock-free table (see rules/tsmap-reentrant-callback.md):
//   - `cds_lfht_for_each*` outside an RCU read-side critical section: some
//     path from the loop's function's entry reaches the loop without the
//     read lock (RcuSections, on the CFG; wrappers of lock and unlock count),
//     the comment above it does not say the caller holds it, and it is extern
//     or some call to it in the TU is not in a section (callers vouch only for
//     a static function); QSBR programs (threads are always in a read-side
//     section) are not checked;
//   - `cds_lfht_del(ht, n)` then `free` of the node's object (`n`, `&r->node`
//     and `caa_container_of(n, ...)` name one object) in the same function,
//     with no `synchronize_rcu` (or a wrapper of it), `call_rcu` or other
//     removal between in source order, on a path where the freed variable
//     still holds that object: readers may still hold the node. The node
//     `cds_lfht_add_replace` returns (the local it is stored in) and the one
//     `cds_lfht_replace` unlinks (the local holding `cds_lfht_iter_get_node`
//     of the same iterator, taken before it) are removed nodes alike. A call
//     of the TU given the node's object frees it when the callee frees its
//     parameter's object on every path where it is not null (freeOfParam).
//
//===----------------------------------------------------------------------===//

#include "CallbackResolution.h"
#include "ChainNotes.h"
#include "GLibTables.h"
#include "ObjectOrigins.h"
#include "ReentrantCallbackCheck.h"
#include "clang/AST/ASTContext.h"
#include "clang/AST/ParentMapContext.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/Lex/Lexer.h"

namespace clang::tidy::tsmap {

namespace {

bool calleeIs(const CallExpr *C, llvm::StringRef Name) {
  const FunctionDecl *FD = C ? C->getDirectCallee() : nullptr;
  return FD && FD->getDeclName().isIdentifier() && FD->getName() == Name;
}

} // namespace

bool storesEntry(const CallExpr *C) {
  return calleeIs(C, "g_hash_table_insert") || calleeIs(C, "g_hash_table_replace");
}

namespace {

/// The variable whose address \p E takes (`&it`), or that \p E names.
const VarDecl *addressedVar(const Expr *E) {
  E = E->IgnoreParenImpCasts();
  if (const auto *UO = dyn_cast<UnaryOperator>(E); UO && UO->getOpcode() == UO_AddrOf)
    E = UO->getSubExpr()->IgnoreParenImpCasts();
  const auto *DRE = dyn_cast<DeclRefExpr>(E);
  return DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
}


/// The statement \p S is a child of, or null.
const Stmt *parentStmt(const Stmt *S, ASTContext &Ctx) {
  DynTypedNodeList Parents = Ctx.getParents(*S);
  return Parents.empty() ? nullptr : Parents[0].get<Stmt>();
}

/// \p S is within \p Outer (a statement of a function body), \p Outer
/// itself included.
bool within(const Stmt *S, const Stmt *Outer, ASTContext &Ctx) {
  for (unsigned Guard = 0; S && Guard < 256; ++Guard, S = parentStmt(S, Ctx))
    if (S == Outer)
      return true;
  return false;
}

/// A `switch` or a loop encloses \p S below the loop body \p Body: a
/// `break` at \p S leaves that, not the walk.
bool breakableBelow(const Stmt *S, const Stmt *Body, ASTContext &Ctx) {
  for (unsigned Guard = 0; S && S != Body && Guard < 256; ++Guard) {
    S = parentStmt(S, Ctx);
    if (S != Body && isa_and_nonnull<SwitchStmt, WhileStmt, ForStmt, DoStmt>(S))
      return true;
  }
  return false;
}

/// \p S, a statement of loop body \p Body, leaves the walk: a `return`, a
/// `break` of the walk's own loop (not of a `switch`, an inner loop or a
/// `do { } while (0)`), a `goto` to a label outside the body (bench/realworld
/// R49, R50).
bool leavesWalk(const Stmt *S, const Stmt *Body, ASTContext &Ctx) {
  if (isa_and_nonnull<ReturnStmt>(S))
    return true;
  if (isa_and_nonnull<BreakStmt>(S))
    return !breakableBelow(S, Body, Ctx);
  if (const auto *G = dyn_cast_or_null<GotoStmt>(S))
    return !G->getLabel() || !G->getLabel()->getStmt() ||
           !within(G->getLabel()->getStmt(), Body, Ctx);
  return false;
}

/// \p S restarts the walk: `g_hash_table_iter_init (&it, ...)` of iterator \p Iter.
bool restartsIterator(const Stmt *S, const VarDecl *Iter) {
  const auto *CE = dyn_cast_or_null<CallExpr>(S);
  const FunctionDecl *FD = CE ? CE->getDirectCallee() : nullptr;
  return Iter && FD && FD->getIdentifier() && FD->getName() == "g_hash_table_iter_init" &&
         CE->getNumArgs() > 0 && addressedVar(CE->getArg(0)) == Iter;
}

/// \p S holds a call (the iterator's own calls included).
bool hasCall(const Stmt *S) {
  if (!S)
    return false;
  if (isa<CallExpr>(S))
    return true;
  return llvm::any_of(S->children(), [](const Stmt *C) { return hasCall(C); });
}

/// \p S is `g_hash_table_iter_remove (&it)` or `_iter_steal (&it)` of
/// iterator \p Iter, as a statement (a `(void)` cast aside).
bool removesThroughIterator(const Stmt *S, const VarDecl *Iter) {
  const auto *E = dyn_cast_or_null<Expr>(S);
  const auto *CE = E ? dyn_cast<CallExpr>(E->IgnoreParenCasts()) : nullptr;
  GLibOp Op = CE ? glibOpOf(CE->getDirectCallee()) : GLibOp::None;
  return Iter && (Op == GLibOp::IterRemove || Op == GLibOp::IterSteal) &&
         CE->getNumArgs() > 0 && addressedVar(CE->getArg(0)) == Iter;
}

/// Before \p Site, every path through the loop body \p Body took the
/// visited entry out through iterator \p Iter: a statement of the body's
/// own block before the one holding \p Site is `g_hash_table_iter_remove
/// (&it)` (or `_iter_steal`), and the statements between hold no call and no
/// label (nothing can add the key back, nor jump past the removal).
bool removedByIteratorBefore(const Stmt *Site, const Stmt *Body, const VarDecl *Iter,
                             ASTContext &Ctx) {
  const auto *CS = dyn_cast_or_null<CompoundStmt>(Body);
  const Stmt *Cur = Site;
  for (unsigned Guard = 0; CS && Cur && Guard < 64; ++Guard) {
    DynTypedNodeList Parents = Ctx.getParents(*Cur);
    const Stmt *Parent = Parents.empty() ? nullptr : Parents[0].get<Stmt>();
    if (Parent == Body)
      break;
    Cur = Parent;
  }
  if (!CS || !Cur)
    return false;
  bool Removed = false;
  for (const Stmt *Child : CS->body()) {
    if (Child == Cur)
      return Removed;
    if (removesThroughIterator(Child, Iter))
      Removed = true;
    else if (hasCall(Child) || isa<LabelStmt>(Child) || isa<CaseStmt>(Child))
      Removed = false;
  }
  return false;
}

/// \p S, a statement of loop body \p Body, holds one that leaves the walk
/// (leavesWalk), in a branch or not.
bool mayLeaveWalk(const Stmt *S, const Stmt *Body, ASTContext &Ctx) {
  if (!S || isa<LambdaExpr>(S) || isa<BlockExpr>(S))
    return false;
  if (leavesWalk(S, Body, Ctx))
    return true;
  return llvm::any_of(S->children(),
                      [&](const Stmt *C) { return mayLeaveWalk(C, Body, Ctx); });
}

/// After \p Site, the loop whose body is \p Body is left before its
/// condition runs again, or its iterator \p Iter is set up anew: a `break`,
/// `return`, `goto` or `g_hash_table_iter_init (&it, ...)` follows \p Site in
/// one of the blocks between it and \p Body (before any `continue`).
/// FIXME: a `break` under an `if` after the change is not read.
bool leavesLoopAfter(const Stmt *Site, const Stmt *Body, const VarDecl *Iter,
                     ASTContext &Ctx) {
  const Stmt *Cur = Site;
  // Past an inner loop or a `switch` (which a `break` leaves, not the walk),
  // a later statement that may leave the walk counts: `if (found) break;`
  // after an inner search loop.
  bool Crossed = false;
  for (unsigned Guard = 0; Cur && Cur != Body && Guard < 64; ++Guard) {
    const Stmt *Parent = parentStmt(Cur, Ctx);
    if (!Parent)
      return false;
    Crossed |= isa<SwitchStmt, WhileStmt, ForStmt, DoStmt>(Parent);
    if (const auto *CS = dyn_cast<CompoundStmt>(Parent)) {
      bool After = false;
      for (const Stmt *Child : CS->body()) {
        if (After && isa<ContinueStmt>(Child))
          return false;
        if (After && (leavesWalk(Child, Body, Ctx) || restartsIterator(Child, Iter) ||
                      (Crossed && mayLeaveWalk(Child, Body, Ctx))))
          return true;
        After |= Child == Cur;
      }
    }
    if (Parent == Body)
      return false;
    Cur = Parent;
  }
  return false;
}

/// \p S contains a `return`, `break`, `continue` or `goto` (not in a lambda).
bool jumps(const Stmt *S) {
  if (!S || isa<LambdaExpr>(S) || isa<BlockExpr>(S))
    return false;
  if (isa<ReturnStmt>(S) || isa<BreakStmt>(S) || isa<ContinueStmt>(S) ||
      isa<GotoStmt>(S) || isa<IndirectGotoStmt>(S))
    return true;
  return llvm::any_of(S->children(), jumps);
}

/// \p S is `return K;` with `K` a nonzero integer constant (`return TRUE;`).
bool returnsTrue(const Stmt *S, const ASTContext &Ctx) {
  const auto *R = dyn_cast_or_null<ReturnStmt>(S);
  const Expr *V = R ? R->getRetValue() : nullptr;
  std::optional<llvm::APSInt> K =
      V && !V->isValueDependent() ? V->getIntegerConstantExpr(Ctx) : std::nullopt;
  return K && !K->isZero();
}

/// Once \p S (a statement or expression of a function body) has run, the
/// function returns a nonzero constant before any other jump: `replace (t,
/// k, v); return TRUE;`, also from an `if`'s branch on to the statements
/// after the `if`. Not across a loop or a `switch`.
bool thenReturnsTrue(const Stmt *S, ASTContext &Ctx) {
  const Stmt *Cur = S;
  for (unsigned Guard = 0; Cur && Guard < 64; ++Guard) {
    DynTypedNodeList Parents = Ctx.getParents(*Cur);
    const Stmt *Parent = Parents.empty() ? nullptr : Parents[0].get<Stmt>();
    // `return (insert (...), 0);`: the statement itself returns.
    if (!Parent || isa<WhileStmt>(Parent) || isa<ForStmt>(Parent) ||
        isa<DoStmt>(Parent) || isa<SwitchStmt>(Parent) || isa<SwitchCase>(Parent) ||
        isa<ReturnStmt>(Parent))
      return false;
    if (const auto *CS = dyn_cast<CompoundStmt>(Parent)) {
      bool After = false;
      for (const Stmt *Child : CS->body()) {
        if (After && returnsTrue(Child, Ctx))
          return true;
        if (After && jumps(Child))
          return false;
        After |= Child == Cur;
      }
    } else if (const auto *If = dyn_cast<IfStmt>(Parent); If && If->getCond() == Cur) {
      return false; // `if (g_hash_table_remove (...))`: its result decides
    }
    Cur = Parent;
  }
  return false;
}

/// \p Call is the condition of an `if` whose branch \p Leave accepts:
/// `if (f (...)) return TRUE;`, also `if (f (...)) { ...; break; }`.
bool ifLeavesOnTrue(const CallExpr *Call, ASTContext &Ctx,
                    llvm::function_ref<bool(const Stmt *)> Leave) {
  DynTypedNodeList Parents = Ctx.getParents(*Call);
  const Stmt *Parent = Parents.empty() ? nullptr : Parents[0].get<Stmt>();
  while (Parent && isa<ImplicitCastExpr, ParenExpr>(Parent)) {
    DynTypedNodeList Up = Ctx.getParents(*Parent);
    Parent = Up.empty() ? nullptr : Up[0].get<Stmt>();
  }
  const auto *If = dyn_cast_or_null<IfStmt>(Parent);
  if (!If || If->getCond()->IgnoreParenImpCasts() != Call || If->getInit() ||
      If->getConditionVariable())
    return false;
  const Stmt *Then = If->getThen();
  if (Leave(Then))
    return true;
  const auto *CS = dyn_cast<CompoundStmt>(Then);
  if (!CS)
    return false;
  for (const Stmt *Child : CS->body()) {
    if (Leave(Child))
      return true;
    if (jumps(Child))
      return false;
  }
  return false;
}

/// The loop statement whose condition contains \p Call, with its body.
const Stmt *loopOfCondition(const CallExpr *Call, ASTContext &Ctx,
                            const Stmt *&Body) {
  const Stmt *Cur = Call;
  for (unsigned Guard = 0; Guard < 16; ++Guard) {
    DynTypedNodeList Parents = Ctx.getParents(*Cur);
    const Stmt *Parent = Parents.empty() ? nullptr : Parents[0].get<Stmt>();
    if (!Parent)
      return nullptr;
    if (const auto *W = dyn_cast<WhileStmt>(Parent))
      return W->getCond() == Cur ? (Body = W->getBody(), W) : nullptr;
    if (const auto *F = dyn_cast<ForStmt>(Parent))
      return F->getCond() == Cur ? (Body = F->getBody(), F) : nullptr;
    if (const auto *D = dyn_cast<DoStmt>(Parent))
      return D->getCond() == Cur ? (Body = D->getBody(), D) : nullptr;
    if (!isa<Expr>(Parent))
      return nullptr;
    Cur = Parent;
  }
  return nullptr;
}


/// \p Site is inside a read-side critical section of \p Fn: every path from
/// \p Fn's entry to it holds the read lock (RcuSections). Undecided: yes.
bool inReadSection(const Stmt *Site, const FunctionDecl *Fn, RcuSections &R) {
  return R.holdsReadLock(Site, Fn).value_or(true);
}

/// The comment just before \p Fn (a doc comment or a plain `/* */` or `//`
/// block, as lttng writes "must be called with rcu_read_lock held") says its
/// caller holds the RCU read lock: a sentence (or clause) names the read lock
/// and no word of it denies it.
bool documentsReadLock(const FunctionDecl *Fn, ASTContext &Ctx) {
  const SourceManager &SM = Ctx.getSourceManager();
  SourceLocation Begin = SM.getExpansionLoc(Fn->getBeginLoc());
  bool Invalid = false;
  llvm::StringRef Buffer = SM.getBufferData(SM.getFileID(Begin), &Invalid);
  if (Invalid)
    return false;
  unsigned Offset = SM.getFileOffset(Begin);
  llvm::StringRef Before = Buffer.substr(0, Offset).rtrim();
  std::string Text;
  if (Before.ends_with("*/")) {
    size_t Open = Before.rfind("/*");
    if (Open == llvm::StringRef::npos)
      return false;
    Text = Before.substr(Open).lower();
  } else {
    // Consecutive `//` lines.
    while (!Before.empty()) {
      size_t LineStart = Before.rfind('\n');
      llvm::StringRef Line =
          Before.substr(LineStart == llvm::StringRef::npos ? 0 : LineStart + 1)
              .trim();
      if (!Line.starts_with("//"))
        break;
      Text += Line.lower();
      Before = LineStart == llvm::StringRef::npos
                   ? llvm::StringRef()
                   : Before.substr(0, LineStart).rtrim();
    }
  }
  // A sentence that names the read lock and does not deny it ("called outside
  // any RCU read-side critical section", "no rcu_read_lock here" say the opposite).
  llvm::SmallVector<llvm::StringRef, 8> Sentences;
  llvm::StringRef(Text).split(Sentences, '.');
  for (llvm::StringRef Part : Sentences) {
    llvm::SmallVector<llvm::StringRef, 4> Clauses;
    Part.split(Clauses, ';');
    for (llvm::StringRef T : Clauses) {
      bool Names = T.contains("rcu_read_lock") || T.contains("rcu read") ||
                   T.contains("read-side") || T.contains("read side");
      bool Denies = T.contains("outside") || T.contains("not ") || T.contains("n't") ||
                    T.contains("no rcu") || T.contains("without") ||
                    T.contains("unlocked") || T.contains("never");
      if (Names && !Denies)
        return true;
    }
  }
  return false;
}

/// Whether \p Fn runs in a read-side section: the comment above it says its
/// caller holds the lock, or it is static and every call to it in the TU is
/// in one (or in a function that, in turn, is; \p Depth levels up). An
/// extern function may be called from other files, so callers in the TU
/// that hold the lock do not vouch for it (lttng's viewer_session_close_one
/// _session: locked in its file, unlocked in live.c). Beyond \p Depth, and
/// for a static function nothing calls, quiet. \p Known memoizes answers.
bool calledInReadSection(const FunctionDecl *Fn, ASTContext &Ctx,
                         unsigned Depth, RcuSections &R,
                         llvm::DenseMap<std::pair<const FunctionDecl *, unsigned>, bool> &Known) {
  if (documentsReadLock(Fn, Ctx))
    return true;
  if (Fn->isExternallyVisible())
    return false;
  if (Depth == 0)
    return true;
  auto Key = std::make_pair(Fn->getCanonicalDecl(), Depth);
  if (auto It = Known.find(Key); It != Known.end())
    return It->second;
  Known[Key] = true; // a call cycle vouches for nothing it does not reach
  bool Locked = true;
  for (const auto &[Site, Caller] : R.callersOf(Fn))
    if (!inReadSection(Site, Caller, R) &&
        !calledInReadSection(Caller, Ctx, Depth - 1, R, Known)) {
      Locked = false;
      break;
    }
  return Known[Key] = Locked;
}

/// The definitions of the locals of one function, read once: a local's
/// value is known when it has exactly one (its initializer or its only
/// assignment) and its address is never taken.
class LocalValues : public RecursiveASTVisitor<LocalValues> {
public:
  explicit LocalValues(const FunctionDecl *Fn) {
    TraverseStmt(const_cast<Stmt *>(Fn->getBody()));
  }
  /// \p V is given a value (or has its address taken) in the function.
  bool defined(const VarDecl *V) const { return Values.count(V); }
  /// The only value \p V is ever given, or null.
  const Expr *onlyValue(const VarDecl *V) const {
    auto It = Values.find(V);
    return It != Values.end() && It->second.second == 1 ? It->second.first
                                                        : nullptr;
  }
  bool VisitVarDecl(VarDecl *V) {
    if (V->getInit())
      add(V, V->getInit());
    return true;
  }
  bool VisitBinaryOperator(BinaryOperator *BO) {
    if (BO->isAssignmentOp())
      add(varOf(BO->getLHS()), BO->getOpcode() == BO_Assign ? BO->getRHS() : nullptr);
    return true;
  }
  bool VisitUnaryOperator(UnaryOperator *UO) {
    if (UO->getOpcode() == UO_AddrOf || UO->isIncrementDecrementOp())
      add(varOf(UO->getSubExpr()), nullptr);
    return true;
  }

private:
  static const VarDecl *varOf(const Expr *E) {
    const auto *DRE = dyn_cast<DeclRefExpr>(E->IgnoreParenImpCasts());
    return DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
  }
  /// Counts a definition; an opaque one (null \p Value) spoils the count.
  void add(const VarDecl *V, const Expr *Value) {
    if (!V)
      return;
    auto &[First, Count] = Values[V];
    First = Count == 0 ? Value : First;
    Count = Value ? Count + 1 : 2;
  }
  llvm::DenseMap<const VarDecl *, std::pair<const Expr *, unsigned>> Values;
};

const VarDecl *objectVar(const Expr *E, const LocalValues &Values,
                         llvm::SmallPtrSetImpl<const VarDecl *> &Through,
                         unsigned Depth = 0);

/// The parameter of \p FD, a function of the file, whose object every return
/// hands back (`to_test_node (n)`: `return caa_container_of (n, ...)`).
std::optional<unsigned> returnsParamObject(const FunctionDecl *FD, unsigned Depth) {
  const FunctionDecl *Def = FD ? FD->getDefinition() : nullptr;
  if (!Def || !Def->getBody() || Depth >= 4)
    return std::nullopt;
  LocalValues Values(Def);
  std::optional<unsigned> Index;
  llvm::SmallVector<const Stmt *, 16> Work{Def->getBody()};
  bool Any = false;
  while (!Work.empty()) {
    const Stmt *S = Work.pop_back_val();
    if (!S || isa<LambdaExpr>(S) || isa<BlockExpr>(S))
      continue;
    if (const auto *R = dyn_cast<ReturnStmt>(S)) {
      llvm::SmallPtrSet<const VarDecl *, 4> Through;
      const auto *P = dyn_cast_or_null<ParmVarDecl>(
          R->getRetValue() ? objectVar(R->getRetValue(), Values, Through, Depth + 1) : nullptr);
      if (!P || (Index && *Index != P->getFunctionScopeIndex()))
        return std::nullopt;
      Index = P->getFunctionScopeIndex();
      Any = true;
      continue;
    }
    for (const Stmt *C : S->children())
      Work.push_back(C);
  }
  return Any ? Index : std::nullopt;
}

/// The variable that names the object node pointer \p E belongs to: `&r->node`
/// and `caa_container_of(n, T, node)` (liburcu's is a GNU statement expression
/// `({ const ... *__ptr = (n); (T *)((char *)__ptr - offsetof(T, node)); })`;
/// Linux-style `container_of` and the plain arithmetic read alike) name the
/// object of `r` and of `n`. A parameter or global names itself; a local is
/// followed through its only value (LocalValues), and names itself when that
/// leads nowhere. \p Through collects the locals passed. Null: not a
/// variable's object (`r->name`, a call's result).
const VarDecl *objectVar(const Expr *E, const LocalValues &Values,
                         llvm::SmallPtrSetImpl<const VarDecl *> &Through,
                         unsigned Depth) {
  for (unsigned Guard = 0; E && Guard < 32; ++Guard) {
    E = E->IgnoreParenCasts();
    if (const auto *Call = dyn_cast<CallExpr>(E)) {
      // `cds_lfht_iter_get_node (&it)`: the node the iterator `it` is on,
      // named by the iterator (R44).
      if (calleeName(Call) == "cds_lfht_iter_get_node" && Call->getNumArgs() == 1) {
        const auto *UO = dyn_cast<UnaryOperator>(Call->getArg(0)->IgnoreParenImpCasts());
        if (!UO || UO->getOpcode() != UO_AddrOf) {
          E = Call->getArg(0); // a helper's iterator parameter
          continue;
        }
        const auto *DRE = dyn_cast<DeclRefExpr>(UO->getSubExpr()->IgnoreParens());
        return DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
      }
      // A function of the file that hands back its parameter's object.
      if (std::optional<unsigned> I = returnsParamObject(Call->getDirectCallee(), Depth);
          I && *I < Call->getNumArgs()) {
        E = Call->getArg(*I);
        continue;
      }
      return nullptr;
    }
    if (const auto *SE = dyn_cast<StmtExpr>(E)) {
      const CompoundStmt *CS = SE->getSubStmt();
      E = CS->body_empty() ? nullptr : dyn_cast<Expr>(CS->body_back());
      continue;
    }
    if (const auto *BO = dyn_cast<BinaryOperator>(E); BO && BO->isAdditiveOp()) {
      E = BO->getLHS()->getType()->isPointerType() ? BO->getLHS() : BO->getRHS();
      continue;
    }
    if (const auto *UO = dyn_cast<UnaryOperator>(E); UO && UO->getOpcode() == UO_AddrOf) {
      // `&r->a.node`: the object `r` points to; `&s.node`: `s` itself.
      const Expr *Sub = UO->getSubExpr()->IgnoreParens();
      while (const auto *ME = dyn_cast<MemberExpr>(Sub)) {
        if (ME->isArrow())
          break;
        Sub = ME->getBase()->IgnoreParens();
      }
      if (const auto *ME = dyn_cast<MemberExpr>(Sub)) {
        E = ME->getBase();
        continue;
      }
      const auto *DRE = dyn_cast<DeclRefExpr>(Sub);
      return DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
    }
    const auto *DRE = dyn_cast<DeclRefExpr>(E);
    const auto *V = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
    if (V && V->hasLocalStorage())
      Through.insert(V);
    if (!V || !V->hasLocalStorage() || isa<ParmVarDecl>(V))
      return V;
    if (const Expr *Only = Values.onlyValue(V); Only && Depth < 8)
      if (const VarDecl *R = objectVar(Only, Values, Through, Depth + 1))
        return R;
    return V;
  }
  return nullptr;
}

/// \p S gives one of \p Vars a value that is not the object of \p Node: an
/// assignment or initializer of another object, `&v` handed on, `v++`.
bool repointsAway(const Stmt *S, const llvm::SmallPtrSetImpl<const VarDecl *> &Vars,
                  const VarDecl *Node, const LocalValues &Values) {
  for (const VarDecl *V : Vars) {
    std::optional<const Expr *> Value = definitionOf(S, V);
    if (!Value || (!*Value && isa<DeclStmt>(S)))
      continue; // no definition, or a declaration with no initializer
    llvm::SmallPtrSet<const VarDecl *, 4> Ignored;
    if (!*Value || objectVar(*Value, Values, Ignored) != Node)
      return true;
  }
  return false;
}

/// Reads whether every entry of a GLib table is stored under a field of its
/// own: each `g_hash_table_insert` / `_replace` into the table (a variable,
/// or a field of any object) stores a variable `v` under a variable `k` in a
/// function that also writes `v->key = k`, and the translation unit writes
/// that field nowhere else (no other assignment, `++`, `&e->key`, or
/// initializer list). Then the key of a visited entry, `e->key`, is in the
/// table while the walk runs: a store under it replaces a value.
class KeyedByField : public RecursiveASTVisitor<KeyedByField> {
public:
  KeyedByField(const ValueDecl *Table, const FieldDecl *Key) : Table(Table), Key(Key) {}
  bool holds(ASTContext &Ctx) {
    TraverseDecl(Ctx.getTranslationUnitDecl());
    if (Broken || Stores.empty())
      return false;
    auto Paired = [](const Pair &A, llvm::ArrayRef<Pair> Others) {
      return llvm::any_of(Others, [&](const Pair &B) {
        return A.Fn == B.Fn && A.Entry == B.Entry && A.KeyVar == B.KeyVar;
      });
    };
    return llvm::all_of(Stores, [&](const Pair &P) { return Paired(P, Writes); }) &&
           llvm::all_of(Writes, [&](const Pair &P) { return Paired(P, Stores); });
  }
  bool TraverseDecl(Decl *D) {
    const FunctionDecl *Saved = Fn;
    if (const auto *FD = dyn_cast_or_null<FunctionDecl>(D))
      Fn = FD;
    bool R = RecursiveASTVisitor::TraverseDecl(D);
    Fn = Saved;
    return R;
  }
  bool VisitCallExpr(CallExpr *C) {
    GLibOp Op = glibOpOf(C->getDirectCallee());
    if ((Op != GLibOp::Insert && Op != GLibOp::Replace && Op != GLibOp::Add) ||
        C->getNumArgs() < 2 || tableDeclOf(C->getArg(0)) != Table)
      return true;
    const VarDecl *K = varOf(C->getArg(1));
    const VarDecl *V = Op != GLibOp::Add && C->getNumArgs() > 2 ? varOf(C->getArg(2)) : nullptr;
    if (!K || !V)
      Broken = true; // a set, or a key or value that is no variable
    else
      Stores.push_back({Fn, V, K});
    return true;
  }
  bool VisitBinaryOperator(BinaryOperator *BO) {
    if (!BO->isAssignmentOp() || !isKey(BO->getLHS()))
      return true;
    const auto *ME = cast<MemberExpr>(BO->getLHS()->IgnoreParenCasts());
    const VarDecl *V = varOf(ME->getBase());
    const VarDecl *K = BO->getOpcode() == BO_Assign ? varOf(BO->getRHS()) : nullptr;
    if (!V || !K)
      Broken = true;
    else
      Writes.push_back({Fn, V, K});
    return true;
  }
  bool VisitUnaryOperator(UnaryOperator *UO) {
    if ((UO->getOpcode() == UO_AddrOf || UO->isIncrementDecrementOp()) &&
        isKey(UO->getSubExpr()))
      Broken = true;
    return true;
  }
  bool VisitInitListExpr(InitListExpr *ILE) {
    const auto *RD = ILE->getType()->getAsRecordDecl();
    if (RD && RD == Key->getParent() && ILE->getNumInits() > Key->getFieldIndex() &&
        !isa<ImplicitValueInitExpr>(ILE->getInit(Key->getFieldIndex())))
      Broken = true;
    return true;
  }

private:
  struct Pair {
    const FunctionDecl *Fn;
    const VarDecl *Entry;
    const VarDecl *KeyVar;
  };
  static const VarDecl *varOf(const Expr *E) {
    const auto *DRE = dyn_cast<DeclRefExpr>(E->IgnoreParenCasts());
    return DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
  }
  bool isKey(const Expr *E) const {
    const auto *ME = dyn_cast<MemberExpr>(E->IgnoreParenCasts());
    return ME && ME->getMemberDecl() == Key;
  }
  const ValueDecl *Table;
  const FieldDecl *Key;
  const FunctionDecl *Fn = nullptr;
  bool Broken = false;
  std::vector<Pair> Stores, Writes;
};

} // namespace

bool restartsAfterCallback(const WrapperHop &Hop, ASTContext &Ctx) {
  if (!Hop.Direct || !Hop.Next || Hop.Next->getNumArgs() == 0)
    return false;
  // The loop whose condition is the `g_hash_table_iter_next` call.
  const Stmt *Cur = Hop.Next;
  for (unsigned Guard = 0; Cur && Guard < 16; ++Guard) {
    DynTypedNodeList Parents = Ctx.getParents(*Cur);
    const Stmt *Parent = Parents.empty() ? nullptr : Parents[0].get<Stmt>();
    const Stmt *Body = nullptr;
    if (const auto *W = dyn_cast_or_null<WhileStmt>(Parent); W && W->getCond() == Cur)
      Body = W->getBody();
    else if (const auto *F = dyn_cast_or_null<ForStmt>(Parent); F && F->getCond() == Cur)
      Body = F->getBody();
    if (Body)
      return leavesLoopAfter(Hop.Direct, Body, addressedVar(Hop.Next->getArg(0)), Ctx);
    if (!Parent || !isa<Expr>(Parent))
      return false;
    Cur = Parent;
  }
  return false;
}

bool ReentrantCallbackCheck::namesValue(const VarDecl *V, const VarDecl *Value,
                                        const FunctionDecl *Fn) {
  if (!V || !Value)
    return false;
  if (V == Value)
    return true;
  const Expr *Only = V->hasLocalStorage() && !isa<ParmVarDecl>(V) && Fn->hasBody()
                         ? LocalValues(Fn).onlyValue(V)
                         : nullptr;
  const auto *DRE = Only ? dyn_cast<DeclRefExpr>(Only->IgnoreParenCasts()) : nullptr;
  return DRE && DRE->getDecl() == Value;
}

bool ReentrantCallbackCheck::namesKey(const Expr *K, const VarDecl *Key,
                                      const FunctionDecl *Fn, const Stmt *Scope) {
  const auto *DRE = K ? dyn_cast<DeclRefExpr>(K->IgnoreParenCasts()) : nullptr;
  const auto *V = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
  if (!V || !Key)
    return false;
  if (V == Key)
    return true;
  if (!Fn || !Fn->hasBody() || (!Scope && assignsVar(Fn->getBody(), Key)))
    return false;
  if (Scope && !Scope->getSourceRange().fullyContains(V->getSourceRange()))
    return false; // a local of the loop given the key before the loop: stale
  return namesValue(V, Key, Fn);
}

namespace {

/// \p Key, an expression of the last function of \p Chain, restated in the
/// terms of the function the chain starts in: while it names a parameter of
/// the hop's callee that the callee never assigns, the argument the hop's
/// call passes for it. Null when it names anything else on the way.
const Expr *keyInTopTerms(const Expr *Key, llvm::ArrayRef<Hop> Chain) {
  Key = Key->IgnoreParenCasts();
  for (auto It = Chain.rbegin(); It != Chain.rend(); ++It) {
    const auto *DRE = dyn_cast<DeclRefExpr>(Key);
    const auto *P = DRE ? dyn_cast<ParmVarDecl>(DRE->getDecl()) : nullptr;
    const auto *PFn = P ? dyn_cast<FunctionDecl>(P->getDeclContext()) : nullptr;
    if (!PFn || !It->Callee ||
        PFn->getCanonicalDecl() != It->Callee->getCanonicalDecl() ||
        !PFn->hasBody() || LocalValues(PFn).defined(P) ||
        P->getFunctionScopeIndex() >= It->Site->getNumArgs())
      return nullptr;
    Key = It->Site->getArg(P->getFunctionScopeIndex())->IgnoreParenCasts();
  }
  return Key;
}

/// The variable an access path \p E starts from: `t`, `r->a.b` (`r`), through
/// casts and parentheses; null for another expression.
const VarDecl *rootVarOf(const Expr *E) {
  for (unsigned Guard = 0; E && Guard < 16; ++Guard) {
    E = E->IgnoreParenCasts();
    if (const auto *ME = dyn_cast<MemberExpr>(E)) {
      E = ME->getBase();
      continue;
    }
    const auto *DRE = dyn_cast<DeclRefExpr>(E);
    return DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
  }
  return nullptr;
}

} // namespace

GLibTables &ReentrantCallbackCheck::tables(ASTContext &Ctx) {
  if (!Tables) { // once per TU, and only when a rule asks
    Tables = std::make_unique<GLibTables>();
    Tables->learnTranslationUnit(Ctx);
  }
  return *Tables;
}

const FunctionFlow *ReentrantCallbackCheck::flowOf(const FunctionDecl *Fn) {
  auto [It, New] = Flows.try_emplace(Fn->getCanonicalDecl());
  if (New)
    It->second = FunctionFlow::build(Fn, Fn->getASTContext());
  return It->second.get();
}

bool ReentrantCallbackCheck::storesOnlyVisitedKey(
    const Effect &E, const FunctionDecl *Top,
    llvm::function_ref<bool(const Expr *)> IsVisitedKey) {
  const auto *Store = dyn_cast_or_null<CallExpr>(E.Where);
  GLibOp Op = Store ? glibOpOf(Store->getDirectCallee()) : GLibOp::None;
  if ((Op != GLibOp::Insert && Op != GLibOp::Replace && Op != GLibOp::Add) ||
      Store->getNumArgs() < 2)
    return false;
  // A helper's store under the visited key it was handed: an overwrite.
  if (const Expr *Own = keyInTopTerms(Store->getArg(1), E.Chain); Own && IsVisitedKey(Own))
    return true;
  // Lookup-or-create: the store runs only when a lookup of a key found nothing.
  const FunctionDecl *In = E.Chain.empty() ? Top : E.Chain.back().Callee;
  const FunctionDecl *Def = nullptr;
  if (!In || !In->hasBody(Def) || !Def)
    return false;
  // The table expression names one table at the lookup and at the store.
  const VarDecl *Root = rootVarOf(Store->getArg(0));
  if (!Root || (Root->hasLocalStorage() && assignsVar(Def->getBody(), Root)))
    return false;
  const FunctionFlow *Flow = flowOf(Def);
  if (!Flow)
    return false;
  return llvm::any_of(failedLookupKeys(Store, *Flow), [&](const Expr *Key) {
    const Expr *Visited = keyInTopTerms(Key, E.Chain);
    return Visited && IsVisitedKey(Visited);
  });
}

bool ReentrantCallbackCheck::storesUnderEntryKey(
    const Effect &E, llvm::function_ref<bool(const VarDecl *)> IsVisitedValue,
    ASTContext &Ctx) {
  const auto *Store = dyn_cast_or_null<CallExpr>(E.Where);
  GLibOp Op = Store ? glibOpOf(Store->getDirectCallee()) : GLibOp::None;
  if ((Op != GLibOp::Insert && Op != GLibOp::Replace) || Store->getNumArgs() < 3)
    return false;
  return keyedByVisitedField(E, IsVisitedValue, Ctx);
}

bool ReentrantCallbackCheck::removesEntryKeyAgain(
    const Effect &E, llvm::function_ref<bool(const VarDecl *)> IsVisitedValue,
    ASTContext &Ctx) {
  const auto *Removal = dyn_cast_or_null<CallExpr>(E.Where);
  GLibOp Op = Removal ? glibOpOf(Removal->getDirectCallee()) : GLibOp::None;
  if ((Op != GLibOp::Remove && Op != GLibOp::Steal) || Removal->getNumArgs() < 2 ||
      !keyedByVisitedField(E, IsVisitedValue, Ctx))
    return false;
  return destroysNothing(Removal, Ctx);
}

bool ReentrantCallbackCheck::destroysNothing(const CallExpr *Removal, ASTContext &Ctx) {
  // The iterator's removal ran no destroy function: the entry and its key
  // are still what they were (a freed key could hash like another one).
  const ValueDecl *Table = tableDeclOf(Removal->getArg(0));
  const GLibTables::Creation *C = Table ? tables(Ctx).creationOf(Table) : nullptr;
  return C && !C->Key.Fn && !C->Key.Opaque && !C->Value.Fn && !C->Value.Opaque;
}

bool ReentrantCallbackCheck::removesVisitedKeyAgain(
    const Effect &E, llvm::function_ref<bool(const Expr *)> IsVisitedKey,
    ASTContext &Ctx) {
  const auto *Removal = dyn_cast_or_null<CallExpr>(E.Where);
  GLibOp Op = Removal ? glibOpOf(Removal->getDirectCallee()) : GLibOp::None;
  if ((Op != GLibOp::Remove && Op != GLibOp::Steal) || Removal->getNumArgs() < 2)
    return false;
  const Expr *Key = keyInTopTerms(Removal->getArg(1), E.Chain);
  return Key && IsVisitedKey(Key) && destroysNothing(Removal, Ctx);
}

bool ReentrantCallbackCheck::keyedByVisitedField(
    const Effect &E, llvm::function_ref<bool(const VarDecl *)> IsVisitedValue,
    ASTContext &Ctx) {
  const auto *Store = cast<CallExpr>(E.Where);
  // The key, up the chain of calls to the walking function's terms; each
  // hop's parameter keeps the value the caller passed: `add (e->f)` whose
  // store is keyed by its parameter, or `drop (e)` whose removal is keyed by
  // its parameter's field (`node->element`).
  const Expr *Key = Store->getArg(1)->IgnoreParenCasts();
  const auto *ME = dyn_cast<MemberExpr>(Key);
  const Expr *BaseExpr = ME ? keyInTopTerms(ME->getBase(), E.Chain) : nullptr;
  if (!BaseExpr) {
    Key = keyInTopTerms(Key, E.Chain);
    ME = Key ? dyn_cast<MemberExpr>(Key) : nullptr;
    BaseExpr = ME ? ME->getBase() : nullptr;
  }
  // `e->key` of the entry being visited.
  const auto *Field = ME ? dyn_cast<FieldDecl>(ME->getMemberDecl()) : nullptr;
  const auto *Base = BaseExpr ? dyn_cast<DeclRefExpr>(BaseExpr->IgnoreParenCasts()) : nullptr;
  const auto *Entry = Base ? dyn_cast<VarDecl>(Base->getDecl()) : nullptr;
  const ValueDecl *Table = tableDeclOf(Store->getArg(0));
  if (!Field || !Entry || !Table || !IsVisitedValue(Entry))
    return false;
  auto [It, New] = KeyedTables.try_emplace({Table, Field}, false);
  if (New)
    It->second = KeyedByField(Table, Field).holds(Ctx);
  return It->second;
}

RcuSections &ReentrantCallbackCheck::rcu(ASTContext &Ctx) {
  if (!Rcu)
    Rcu = std::make_unique<RcuSections>(Ctx, MaxCallDepth);
  return *Rcu;
}

void ReentrantCallbackCheck::checkIteratorLoop(const CallExpr *Next,
                                               ASTContext &Ctx) {
  if (Next->getNumArgs() < 1)
    return;
  const VarDecl *Iter = addressedVar(Next->getArg(0));
  const Stmt *Body = nullptr;
  const Stmt *Loop = Iter ? loopOfCondition(Next, Ctx, Body) : nullptr;
  const FunctionDecl *Owner = Loop ? enclosingFunction(Next, Ctx) : nullptr;
  if (!Owner || !Body || !Owner->getBody())
    return;
  // The table: the last g_hash_table_iter_init of this iterator before the loop.
  const CallExpr *Init =
      iteratorInitOf(Next, Owner->getBody(), Ctx.getSourceManager());
  if (!Init)
    return;
  if (!Analysis)
    Analysis = std::make_unique<EffectAnalysis>(Ctx, Model, EffectOpts);
  MapRef Outer{Analysis->walkedPlace(Init->getArg(1), Owner),
               Analysis->fieldLoadedInto(Init->getArg(1), Owner)};
  Outer.Held = heldTable(Outer.P, Init->getArg(1), Owner);
  // The key variable, also through a cast (`(gpointer *) &name`).
  const VarDecl *KeyVar = iteratedKeyOf(Next);
  if (!KeyVar && Next->getNumArgs() > 1)
    KeyVar = addressedVar(Next->getArg(1));
  llvm::SmallVector<const CallExpr *, 16> InBody;
  collectCalls(Body, InBody);
  // Whether the body may take the visited key out of the table (asked once,
  // and only for a store that needs the key to be there).
  std::optional<bool> MayGo;
  const CallExpr *Asking = nullptr;
  auto VisitedKeyMayGo = [&] {
    if (!MayGo)
      MayGo = bodyMayRemoveVisited(Body, Asking, Iter, Outer, Owner, Ctx);
    return *MayGo;
  };
  for (const CallExpr *Site : InBody) {
    std::vector<const FunctionDecl *> Callees;
    if (const FunctionDecl *D = Site->getDirectCallee())
      Callees.push_back(D);
    else if (const auto *Fns = Analysis->fieldFunctions().calledAt(Site))
      Callees = *Fns; // `r->on_expire(s, k)`
    if (Callees.empty() || leavesLoopAfter(Site, Body, addressedVar(Init->getArg(0)), Ctx))
      continue;
    if (otherIteratorChanges(Site, Iter, Outer, Owner, Init, Next, Ctx))
      continue;
    // `if (insert_menu_item (next->children, item)) return TRUE;` whose every
    // change is followed by `return TRUE`: the loop is left after a change.
    if (Site->getDirectCallee() &&
        ifLeavesOnTrue(Site, Ctx,
                       [&](const Stmt *S) { return leavesWalk(S, Body, Ctx); }) &&
        changesOnlyBeforeTrue(Site->getDirectCallee(), Site->getDirectCallee(), 0, Ctx))
      continue;
    // The answer leaves out the asking call's own changes, which that call
    // is reported for anyway; another call asking gets its own.
    if (Asking != Site)
      MayGo.reset();
    Asking = Site;
    for (const FunctionDecl *Callee : Callees)
      if (loopCallChanges(Site, Callee, Owner, Outer, KeyVar, Init, Next, Ctx,
                          VisitedKeyMayGo))
        break; // one finding per call in the body
  }
}

/// Every map change \p Fn makes (not an AllowedMapOperations reader),
/// directly or through its callees, is followed by `return TRUE` (a nonzero
/// constant), or is made by a callee with the same property whose result
/// is tested by `if (g (...)) return TRUE;`: a caller that gets 0 knows no
/// map changed. \p Self, the function asked about first, is taken to have
/// the property in its own recursive calls; another function met again is not.
bool ReentrantCallbackCheck::changesOnlyBeforeTrue(const FunctionDecl *Fn,
                                                   const FunctionDecl *Self,
                                                   unsigned Depth, ASTContext &Ctx) {
  const FunctionDecl *Def = nullptr;
  if (!Fn || !Fn->hasBody(Def) || !Def ||
      !Def->getReturnType()->isIntegralOrEnumerationType() || Depth > MaxCallDepth)
    return false;
  // By (function, Self): a result that took Self's recursion on trust holds
  // only for Self's question.
  auto Key = std::make_pair(Def->getCanonicalDecl(), Self->getCanonicalDecl());
  if (auto It = ReturnsTrueAfterChange.find(Key); It != ReturnsTrueAfterChange.end())
    return It->second;
  ReturnsTrueAfterChange[Key] = false; // met again, other than as Self: no
  const FunctionSummary &S = Analysis->summary(Def);
  bool Holds = !S.Truncated;
  for (const Effect &E : S.Effects) {
    if (!Holds)
      break;
    if (E.Kind != EffectKind::MapOperation ||
        (E.Callee && E.Callee->getDeclName().isIdentifier() &&
         AllowedMapOperations.contains(E.Callee->getName())))
      continue;
    const auto *At = E.Chain.empty() ? dyn_cast_or_null<CallExpr>(E.Where)
                                     : E.Chain.front().Site;
    if (!At) {
      Holds = false;
    } else if (!thenReturnsTrue(At, Ctx)) {
      // The callee at At: a hop of the chain, or a helper of the TU that
      // takes the map and is recorded as the map operation itself.
      const FunctionDecl *Next = !E.Chain.empty() ? E.Chain.front().Callee
                                 : E.Callee && E.Callee->hasBody() &&
                                           !Model.functionHas(E.Callee, ContractKind::MapOperation) &&
                                           !isMapMethod(E.Callee, Model)
                                     ? E.Callee
                                     : nullptr;
      Holds = Next && ifLeavesOnTrue(At, Ctx, [&](const Stmt *L) { return returnsTrue(L, Ctx); }) &&
              (Next->getCanonicalDecl() == Self->getCanonicalDecl() ||
               changesOnlyBeforeTrue(Next, Self, Depth + 1, Ctx));
    }
  }
  ReturnsTrueAfterChange[Key] = Holds;
  return Holds;
}

bool ReentrantCallbackCheck::loopCallChanges(
    const CallExpr *Site, const FunctionDecl *Callee, const FunctionDecl *Owner,
    const MapRef &Outer, const VarDecl *KeyVar, const CallExpr *Init,
    const CallExpr *Next, ASTContext &Ctx,
    llvm::function_ref<bool()> VisitedKeyMayGo) {
  std::vector<Effect> Ops;
  if (!loopCallOps(Site, Callee, Owner, Ops))
    return false;
  std::optional<unsigned> MI;
  if (!Model.isMapOperation(Callee, &MI))
    MI.reset();
  // The loop's key variable, never given another value in the body: the key
  // of the entry being visited wherever the body reads it.
  const Stmt *Body = nullptr;
  loopOfCondition(Next, Ctx, Body);
  bool KeyHeld = KeyVar && Body && !assignsVar(Body, KeyVar);
  const VarDecl *Iter = addressedVar(Init->getArg(0));
  bool ValueHeld = Body && iteratedValueOf(Next) && !assignsVar(Body, iteratedValueOf(Next));
  for (Effect &E : Ops) {
    // Replacing the value of the key being visited adds no key, nor does a
    // store under a copy of it in a table that compares the copies' contents.
    auto IsKey = [&](const Expr *K) {
      const auto *DRE = dyn_cast<DeclRefExpr>(K->IgnoreParenCasts());
      return KeyVar && ((DRE && DRE->getDecl() == KeyVar) ||
                        (KeyHeld && namesKey(K, KeyVar, Owner, Body)));
    };
    if (E.Chain.empty() && KeyVar && Site->getNumArgs() > 1 && storesEntry(Site) &&
        (IsKey(Site->getArg(1)) ||
         storesVisitedKeyCopy(Site, Init->getArg(1), IsKey, Ctx)))
      continue;
    // A store under the visited entry's own key field (`e->device`) in a table
    // whose every entry is stored under that field: the key is there.
    auto IsValue = [&](const VarDecl *V) {
      return namesValue(V, iteratedValueOf(Next), Owner);
    };
    if (storesUnderEntryKey(E, IsValue, Ctx))
      continue;
    // A removal keyed by that field after the body took the entry out through
    // the iterator (tracker's LRU, R29): the key is gone, nothing changes.
    // So is one keyed by the loop's own key variable, written in the body or
    // in a helper handed it (libsoup3's drop helper, R35).
    if (removedByIteratorBefore(Site, Body, Iter, Ctx) &&
        ((ValueHeld && removesEntryKeyAgain(E, IsValue, Ctx)) ||
         (KeyHeld && removesVisitedKeyAgain(E, IsKey, Ctx))))
      continue;
    MapRef Inner{E.Target, E.MapField};
    if (!Inner.Field && !Inner.P.Fields.empty())
      Inner.Field = Inner.P.Fields.back();
    // The unref of a reference the body took gives back only that reference.
    if (!E.OwnReference)
      Inner.Held = heldTable(
          Inner.P, E.Chain.empty() ? dyn_cast_or_null<Expr>(E.Where) : E.Chain.front().Site,
          Owner);
    // `self->priv->meta` walked, `set_meta (self, ...)` reaching it through
    // get_instance_private: compared by field and type.
    if (E.IntoObject && anotherObjectsTable(Outer, Inner, Owner))
      continue;
    Identity I = compareMaps(Outer, Inner, E.IntoObject ? Place() : E.Target,
                             std::nullopt, /*InLoop=*/true, Owner);
    if (I != Identity::Same && I != Identity::SameField &&
        !(I == Identity::Unknown && StrictMapIdentity))
      continue;
    // Under StrictMapIdentity, a table of an entry a callee looked up (`info =
    // g_hash_table_lookup (...); add_row (self, info)`): the entry's own.
    if (I == Identity::Unknown && !E.IntoObject &&
        E.Target.Root == Place::RootKind::Unknown &&
        entryOwnTable(E.Target, Outer.Field, Ctx, E.MapField, &Outer.P))
      continue;
    // A release on the last reference of an object the code took a reference
    // to (while the loop can reach its table, someone holds one), a table a
    // callee made, or a reference it took and drops (R16-R18).
    if (I != Identity::Same && E.leavesCallerMaps())
      continue;
    // A table of an object made before the loop and not written in it (`p =
    // parser_new (); while (...) g_hash_table_replace (p->options, ...)`, or
    // `fill (p, ...)` whose change is restated on `p`), as for a map operation
    // of a callee (R20, bench/realworld R21), unless the loop walks that table.
    if (I != Identity::Same && E.Target.Root == Place::RootKind::Local &&
        !E.Target.Fields.empty() && freshAtCall(E.Target.Var, Site, Ctx))
      continue;
    // A helper's store under the visited key, or a store that runs only when
    // a lookup of the visited key in its table found nothing (lookup-or-
    // create): no key is added, unless the body may have taken the key out.
    // Asked last: it reads the flow of the store's function.
    if (KeyHeld &&
        storesOnlyVisitedKey(E, Owner, [&](const Expr *K) { return IsKey(K); }) &&
        !VisitedKeyMayGo())
      continue;
    // A direct change names the table as the call writes it (`r->table`,
    // where the loop walks an alias `old`); a call's, the iterated one.
    const Expr *Changed = E.Chain.empty() && MI && *MI < Site->getNumArgs()
                              ? Site->getArg(*MI)
                              : Init->getArg(1);
    diag(Site->getBeginLoc(),
         "%select{'%3' |call to '%3' }2%select{changes|may change}0 '%1' while a "
         "loop iterates it with 'g_hash_table_iter_next'%select{|: it calls "
         "'%4' on it}2; the change invalidates the iterator")
        << (I == Identity::Unknown ? 1 : 0)
        << sourceText(Changed->IgnoreParenImpCasts(), Ctx)
        << (E.Chain.empty() ? 0 : 1) << functionName(Callee)
        << functionName(E.Callee)
        << Site->getSourceRange();
    if (!E.Chain.empty())
      emitChainNotes(*this, Owner, E, Ctx, Model);
    if (I == Identity::SameField)
      fieldIdentityNote(E, Inner.Field, Ctx);
    loopNote(Next, Init, Ctx);
    return true;
  }
  return false;
}

bool ReentrantCallbackCheck::otherIteratorChanges(const CallExpr *Site, const VarDecl *Iter,
                                                  const MapRef &Outer,
                                                  const FunctionDecl *Owner,
                                                  const CallExpr *Init, const CallExpr *Next,
                                                  ASTContext &Ctx) {
  // `g_hash_table_iter_remove (&inner)` of a second iterator over the walked
  // table: GLib counts it as a change of the table, so the walk's own
  // iterator is invalid at its next step (bench/realworld R51).
  llvm::StringRef Name = calleeName(Site);
  if ((Name != "g_hash_table_iter_remove" && Name != "g_hash_table_iter_steal" &&
       Name != "g_hash_table_iter_replace") ||
      Site->getNumArgs() < 1)
    return false;
  const VarDecl *Other = addressedVar(Site->getArg(0));
  if (!Other || Other == Iter)
    return false;
  const CallExpr *OtherInit = iteratorInitOf(Site, Owner->getBody(), Ctx.getSourceManager());
  if (!OtherInit || OtherInit->getNumArgs() < 2)
    return false;
  MapRef Inner{Analysis->walkedPlace(OtherInit->getArg(1), Owner),
               Analysis->fieldLoadedInto(OtherInit->getArg(1), Owner)};
  Identity I = compareMaps(Outer, Inner, Place(), std::nullopt, /*InLoop=*/true, Owner);
  if (I != Identity::Same && !(I == Identity::SameField && sameExpr(OtherInit->getArg(1),
                                                                    Init->getArg(1), Ctx)))
    return false;
  diag(Site->getBeginLoc(),
       "'%0' changes '%1' through iterator '%2' while a loop iterates it with "
       "'g_hash_table_iter_next'; the change invalidates the iterator")
      << Name << sourceText(OtherInit->getArg(1)->IgnoreParenImpCasts(), Ctx)
      << Other->getName() << Site->getSourceRange();
  loopNote(Next, Init, Ctx);
  return true;
}

void ReentrantCallbackCheck::loopNote(const CallExpr *Next, const CallExpr *Init,
                                      ASTContext &Ctx) {
  diag(Next->getBeginLoc(),
       "the loop iterates '%0' here; change it through the iterator "
       "('g_hash_table_iter_remove', 'g_hash_table_iter_replace') or after "
       "the loop",
       DiagnosticIDs::Note)
      << sourceText(Init->getArg(1)->IgnoreParenImpCasts(), Ctx);
}

bool ReentrantCallbackCheck::loopCallOps(const CallExpr *Site,
                                         const FunctionDecl *Callee,
                                         const FunctionDecl *Owner,
                                         std::vector<Effect> &Ops) {
  Effect Direct;
  Direct.Kind = EffectKind::MapOperation;
  Direct.Where = Site;
  Direct.Callee = Callee;
  ExpansionSteps = 0;
  std::optional<unsigned> MI;
  if (Model.isMapOperation(Callee, &MI) && MI && *MI < Site->getNumArgs()) {
    // `t` given `r->a` or `r->b` before: a change of each.
    for (MapArgPlace &M : Analysis->mapArgumentPlaces(Site->getArg(*MI), Owner)) {
      Direct.Target = std::move(M.P);
      Direct.MapField = M.Field;
      Direct.MapFieldAt = M.FieldAt;
      // `r->table = g_hash_table_new (...)` before it in the loop's body
      markNewInPlace(Direct, Owner, *Analysis, /*InLoop=*/true);
      markOwnTable(Direct, Owner); // `g_hash_table_unref (r)` of a reference it took
      mapOperations(Owner, Direct, 0, Ops);
    }
    return true;
  }
  if (!Callee->hasBody())
    return false;
  mapOperations(Owner, Direct, 0, Ops);
  return true;
}

bool ReentrantCallbackCheck::bodyMayRemoveVisited(const Stmt *Body,
                                                  const CallExpr *Site,
                                                  const VarDecl *Iter,
                                                  const MapRef &Outer,
                                                  const FunctionDecl *Owner,
                                                  ASTContext &Ctx) {
  llvm::SmallVector<const CallExpr *, 16> InBody;
  collectCalls(Body, InBody);
  for (const CallExpr *C : InBody) {
    llvm::StringRef Name = calleeName(C);
    bool KeepsEntry = Name == "g_hash_table_iter_next" || Name == "g_hash_table_iter_init" ||
                      Name == "g_hash_table_iter_replace" ||
                      Name == "g_hash_table_iter_get_hash_table";
    if (Iter && !KeepsEntry &&
        llvm::any_of(C->arguments(), [&](const Expr *A) { return addressedVar(A) == Iter; }))
      return true; // `g_hash_table_iter_remove (&it)`, or a helper given `&it`
    if (C == Site || leavesLoopAfter(C, Body, Iter, Ctx))
      continue;
    // The callees as checkIteratorLoop reads them: the direct one, or the
    // functions the TU stores into the field called through.
    std::vector<const FunctionDecl *> Callees;
    if (const FunctionDecl *D = C->getDirectCallee())
      Callees.push_back(D);
    else if (const auto *Fns = Analysis->fieldFunctions().calledAt(C))
      Callees = *Fns;
    std::vector<Effect> Ops;
    for (const FunctionDecl *Callee : Callees)
      loopCallOps(C, Callee, Owner, Ops);
    for (const Effect &E : Ops) {
      GLibOp Op = glibOpOf(E.Callee);
      if (Op == GLibOp::Insert || Op == GLibOp::Replace || Op == GLibOp::Add)
        continue; // a store adds or overwrites; it takes no key out
      MapRef Inner{E.Target, E.MapField};
      if (!Inner.Field && !Inner.P.Fields.empty())
        Inner.Field = Inner.P.Fields.back();
      Identity I = compareMaps(Outer, Inner, E.Target, std::nullopt, /*InLoop=*/true, Owner);
      if (I == Identity::Same || I == Identity::SameField ||
          (I == Identity::Unknown && StrictMapIdentity))
        return true;
    }
  }
  return false;
}

bool ReentrantCallbackCheck::storesVisitedKeyCopy(
    const CallExpr *Store, const Expr *Walked,
    llvm::function_ref<bool(const Expr *)> IsVisitedKey, ASTContext &Ctx) {
  if (!storesEntry(Store) || Store->getNumArgs() < 2)
    return false;
  auto [Source, Copy] = keyCopiedFrom(Store->getArg(1), Ctx);
  if (!Source || !IsVisitedKey(Source))
    return false;
  for (const Expr *T : {Store->getArg(0), Walked}) {
    const ValueDecl *D = T ? tableDeclOf(T) : nullptr;
    if (const GLibTables::Creation *C = D ? tables(Ctx).creationOf(D) : nullptr)
      return copyComparesEqual(Copy, C->Equal);
  }
  return false; // no creation seen: the table may compare pointers
}

void ReentrantCallbackCheck::checkLfhtLoop(const CallExpr *First,
                                           ASTContext &Ctx) {
  const SourceManager &SM = Ctx.getSourceManager();
  SourceLocation Loc = First->getBeginLoc();
  if (!Loc.isMacroID())
    return; // a hand-written walk: FIXME, read like the macros
  llvm::StringRef Macro;
  for (SourceLocation L = Loc; L.isMacroID();
       L = SM.getImmediateMacroCallerLoc(L))
    Macro = Lexer::getImmediateMacroName(L, SM, Ctx.getLangOpts());
  if (!Macro.starts_with("cds_lfht_for_each"))
    return;
  const FunctionDecl *Owner = enclosingFunction(First, Ctx);
  llvm::DenseMap<std::pair<const FunctionDecl *, unsigned>, bool> KnownCallers;
  if (!Owner || !Owner->getBody() || usesQsbrFlavor(Ctx) ||
      inReadSection(First, Owner, rcu(Ctx)) ||
      calledInReadSection(Owner, Ctx, MaxCallDepth, rcu(Ctx), KnownCallers))
    return;
  const Expr *Table = First->getNumArgs() ? First->getArg(0) : nullptr;
  diag(SM.getExpansionLoc(Loc),
       "'%0' iterates '%1' outside an RCU read-side critical section; nodes "
       "it visits may be freed under it")
      << Macro << (Table ? sourceText(Table->IgnoreParenImpCasts(), Ctx) : "");
  // The call the user has to fix, when some calls of the file hold the lock
  // and one does not (bench/realworld R48).
  const RcuSections::CallSite *Unlocked = nullptr;
  bool SomeLocked = false;
  for (const RcuSections::CallSite &C : rcu(Ctx).callersOf(Owner)) {
    bool Held = inReadSection(C.first, C.second, rcu(Ctx)) ||
                (MaxCallDepth > 0 && calledInReadSection(C.second, Ctx, MaxCallDepth - 1,
                                                         rcu(Ctx), KnownCallers));
    SomeLocked |= Held;
    if (!Held && !Unlocked)
      Unlocked = &C;
  }
  if (Unlocked && SomeLocked) {
    diag(Owner->getLocation(),
         "'%0' does not hold 'rcu_read_lock' on every path to the loop, and not "
         "every caller in this file holds it; take the read lock around the loop, "
         "or around the call below",
         DiagnosticIDs::Note)
        << functionName(Owner);
    diag(Unlocked->first->getBeginLoc(),
         "'%0' calls '%1' here, outside a read-side critical section",
         DiagnosticIDs::Note)
        << functionName(Unlocked->second) << functionName(Owner);
    return;
  }
  diag(Owner->getLocation(),
       "'%0' does not hold 'rcu_read_lock' on every path to the loop, and no "
       "caller in this file holds it; take the read lock around the loop, or "
       "say in the comment above '%0' that its caller must hold it",
       DiagnosticIDs::Note)
      << functionName(Owner);
}

bool removesLfhtNode(llvm::StringRef Name) {
  return Name == "cds_lfht_del" || Name == "cds_lfht_add_replace" ||
         Name == "cds_lfht_replace";
}

namespace {

/// The local \p Call's result is stored in (`T *v = call;` or `v = call;`).
const VarDecl *resultVar(const CallExpr *Call, ASTContext &Ctx) {
  const auto *V = dyn_cast_or_null<VarDecl>(assignedFrom(Call, Ctx));
  return V && V->hasLocalStorage() ? V : nullptr;
}

/// The iterator variable of an `&it` argument.
const VarDecl *iteratorVar(const Expr *E) {
  const auto *UO = dyn_cast<UnaryOperator>(E->IgnoreParenImpCasts());
  const auto *DRE = UO && UO->getOpcode() == UO_AddrOf
                        ? dyn_cast<DeclRefExpr>(UO->getSubExpr()->IgnoreParens())
                        : nullptr;
  return DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
}

/// \p C ends the wait for a removed node: `call_rcu` defers the free, another
/// removal starts a new one, or it waits for a grace period (or a wrapper
/// of one).
bool endsWait(const CallExpr *C, RcuSections &R) {
  llvm::StringRef N = calleeName(C);
  return N.contains("call_rcu") || removesLfhtNode(N) || R.waitsForGracePeriod(C);
}

/// For `cds_lfht_iter_get_node (&it)` \p GetNode inside a
/// `cds_lfht_for_each_entry (ht, &it, pos, member)` loop of the same
/// iterator: `pos`, which the loop sets to the container of that node.
const VarDecl *loopEntryOfNode(const CallExpr *GetNode, ASTContext &Ctx) {
  if (calleeName(GetNode) != "cds_lfht_iter_get_node" || GetNode->getNumArgs() != 1)
    return nullptr;
  const VarDecl *It = iteratorVar(GetNode->getArg(0));
  if (!It)
    return nullptr;
  // The loop's step gives the entry variable the container of its iterator's
  // node: `pos = caa_container_of (cds_lfht_iter_get_node (iter), ...)`.
  auto EntryOf = [&](const Stmt *Step) -> const VarDecl * {
    llvm::SmallVector<const Stmt *, 8> Work{Step};
    while (!Work.empty()) {
      const Stmt *S = Work.pop_back_val();
      if (!S)
        continue;
      if (const auto *BO = dyn_cast<BinaryOperator>(S); BO && BO->getOpcode() == BO_Assign) {
        llvm::SmallVector<const CallExpr *, 4> Calls;
        collectCalls(BO->getRHS(), Calls);
        const auto *DRE = dyn_cast<DeclRefExpr>(BO->getLHS()->IgnoreParenImpCasts());
        if (DRE && llvm::any_of(Calls, [&](const CallExpr *C) {
              return calleeName(C) == "cds_lfht_iter_get_node" && C->getNumArgs() == 1 &&
                     iteratorVar(C->getArg(0)) == It;
            }))
          return dyn_cast<VarDecl>(DRE->getDecl());
      }
      for (const Stmt *C : S->children())
        Work.push_back(C);
    }
    return nullptr;
  };
  DynTypedNodeList Parents = Ctx.getParents(*GetNode);
  for (unsigned Guard = 0; Guard < 64 && !Parents.empty(); ++Guard) {
    if (const auto *For = Parents[0].get<ForStmt>())
      if (const VarDecl *Pos = EntryOf(For->getInc()))
        return Pos;
    Parents = Ctx.getParents(Parents[0]);
  }
  return nullptr;
}

/// \p C is given `&it` of iterator \p It (`cds_lfht_next (ht, &it)`,
/// `cds_lfht_lookup (..., &it)`) and may move it to another node; reading
/// its node (`cds_lfht_iter_get_node`, a file's accessor that returns it)
/// does not.
bool movesIterator(const CallExpr *C, const VarDecl *It) {
  if (!It || It->getType()->isPointerType() || calleeName(C) == "cds_lfht_iter_get_node")
    return false;
  // The accessor's body is read only for a call given the iterator.
  std::optional<std::optional<unsigned>> Accessor;
  for (unsigned I = 0; I < C->getNumArgs(); ++I) {
    if (iteratorVar(C->getArg(I)) != It)
      continue;
    if (!Accessor)
      Accessor = returnsParamObject(C->getDirectCallee(), 0);
    if (!*Accessor || **Accessor != I)
      return true;
  }
  return false;
}

bool isFreeCall(const CallExpr *C) {
  llvm::StringRef N = calleeName(C);
  return (N == "free" || N == "g_free") && C->getNumArgs() == 1;
}

/// The successor of \p B's test that the path takes when parameter \p P is
/// null (`if (!p)`, `p == NULL`, `if (p)`, `NULL != p`), or -1.
int nullSuccessor(const CFGBlock *B, const ParmVarDecl *P, ASTContext &Ctx) {
  const auto *E = dyn_cast_or_null<Expr>(B->getTerminatorCondition());
  if (!E || B->succ_size() != 2)
    return -1;
  bool Negated = false;
  E = E->IgnoreParenImpCasts();
  while (const auto *UO = dyn_cast<UnaryOperator>(E)) {
    if (UO->getOpcode() != UO_LNot)
      break;
    Negated = !Negated;
    E = UO->getSubExpr()->IgnoreParenImpCasts();
  }
  auto IsNull = [&](const Expr *X) {
    return X->IgnoreParenCasts()->isNullPointerConstant(
               Ctx, Expr::NPC_ValueDependentIsNotNull) != Expr::NPCK_NotNull;
  };
  bool TrueIsNull = Negated; // `if (p)`: true when not null
  if (const auto *BO = dyn_cast<BinaryOperator>(E);
      BO && (BO->getOpcode() == BO_EQ || BO->getOpcode() == BO_NE)) {
    const Expr *Other = IsNull(BO->getRHS())   ? BO->getLHS()
                        : IsNull(BO->getLHS()) ? BO->getRHS()
                                               : nullptr;
    if (!Other)
      return -1;
    E = Other->IgnoreParenImpCasts();
    TrueIsNull = Negated != (BO->getOpcode() == BO_EQ);
  }
  const auto *DRE = dyn_cast<DeclRefExpr>(E);
  if (!DRE || DRE->getDecl() != P)
    return -1;
  return TrueIsNull ? 0 : 1;
}

} // namespace

const CallExpr *ReentrantCallbackCheck::freeOfParam(const FunctionDecl *Fn,
                                                    unsigned Index,
                                                    unsigned Budget,
                                                    ASTContext &Ctx) {
  // A destroy helper (`chan_destroy (c)`), or a call_rcu callback called
  // directly (`free_rcu (&c->rcu)`), that frees the object of its parameter
  // on every path on which the parameter is not null. Quiet when it waits
  // for a grace period, defers or removes anything itself, or reassigns the
  // parameter: those are read as written in it, not here.
  Fn = Fn ? Fn->getDefinition() : nullptr;
  if (!Fn || !Fn->getBody() || Index >= Fn->getNumParams())
    return nullptr;
  const ParmVarDecl *P = Fn->getParamDecl(Index);
  RcuSections &R = rcu(Ctx);
  const FunctionFlow *Flow = R.flowOf(Fn);
  LocalValues Values(Fn);
  if (!Flow || Values.defined(P))
    return nullptr;
  llvm::SmallVector<const CallExpr *, 16> Calls;
  collectCalls(Fn->getBody(), Calls);
  llvm::SmallPtrSet<const Stmt *, 4> Frees;
  const CallExpr *First = nullptr;
  // `free (p)`, or a call handing p's object to a function that frees it.
  auto FreesParam = [&](const CallExpr *C) {
    for (unsigned I = 0; I < C->getNumArgs(); ++I) {
      llvm::SmallPtrSet<const VarDecl *, 4> Vars;
      if (objectVar(C->getArg(I), Values, Vars) == P &&
          (isFreeCall(C) || (Budget && C->getDirectCallee() != Fn &&
                             freeOfParam(C->getDirectCallee(), I, Budget - 1, Ctx))))
        return true;
    }
    return false;
  };
  for (const CallExpr *C : Calls) {
    if (endsWait(C, R))
      return nullptr;
    if (FreesParam(C)) {
      Frees.insert(C);
      First = First ? First : C;
    }
  }
  if (!First)
    return nullptr;
  FunctionFlow::Point Entry{&Flow->graph().getEntry(), 0};
  bool Skips = Flow->reachesExitWithout(
      Entry, [&](const Stmt *S) { return Frees.count(S) > 0; },
      [&](const CFGBlock *B, unsigned I) {
        return nullSuccessor(B, P, Ctx) == static_cast<int>(I);
      });
  return Skips ? nullptr : First;
}

void ReentrantCallbackCheck::checkLfhtDelete(const CallExpr *Del,
                                             ASTContext &Ctx) {
  const FunctionDecl *Owner = enclosingFunction(Del, Ctx);
  if (Del->getNumArgs() < 2 || !Owner || !Owner->getBody())
    return;
  llvm::StringRef How = calleeName(Del);
  LocalValues Values(Owner);
  llvm::SmallVector<const CallExpr *, 16> Calls;
  collectCalls(Owner->getBody(), Calls);
  // The removed node: del's argument; the node add_replace returns; for
  // replace, the last `cds_lfht_iter_get_node(&it)` of its iterator before it.
  const Expr *Removed = How == "cds_lfht_del" ? Del->getArg(1) : nullptr;
  const VarDecl *Stored = How == "cds_lfht_add_replace" ? resultVar(Del, Ctx) : nullptr;
  if (How == "cds_lfht_replace")
    if (const VarDecl *It = iteratorVar(Del->getArg(1)))
      for (const CallExpr *C : Calls) {
        if (C == Del)
          break;
        if (calleeName(C) == "cds_lfht_iter_get_node" && C->getNumArgs() == 1 &&
            iteratorVar(C->getArg(0)) == It)
          Stored = resultVar(C, Ctx);
      }
  // In a `cds_lfht_for_each_entry` loop, the iterator's node (also through a
  // local whose one value it is) is the loop's entry (bench/realworld R43).
  const VarDecl *Node = nullptr;
  if (Removed) {
    const Expr *R = Removed->IgnoreParenImpCasts();
    if (const auto *DRE = dyn_cast<DeclRefExpr>(R))
      if (const auto *V = dyn_cast<VarDecl>(DRE->getDecl()))
        if (const Expr *Only = Values.onlyValue(V))
          R = Only->IgnoreParenImpCasts();
    if (const auto *GetNode = dyn_cast<CallExpr>(R))
      Node = loopEntryOfNode(GetNode, Ctx);
  }
  llvm::SmallPtrSet<const VarDecl *, 4> NodeVars;
  if (!Node && Removed)
    Node = objectVar(Removed, Values, NodeVars);
  // A local given the iterator's node names the iterator's object, as the
  // free's argument will (objectVar).
  if (!Node && Stored) {
    const Expr *Only = Values.onlyValue(Stored);
    Node = Only ? objectVar(Only, Values, NodeVars) : nullptr;
    Node = Node ? Node : Stored;
  }
  if (!Node)
    return;
  RcuSections &R = rcu(Ctx);
  const FunctionFlow *Flow = R.flowOf(Owner);
  std::optional<FunctionFlow::Point> From = Flow ? Flow->pointOf(Del) : std::nullopt;
  // The frees after the removal in source order, up to the first grace
  // period (or call_rcu, or another removal), as before; each must also be
  // reached on some path that leaves its variables on the node's object.
  for (auto It = llvm::find(Calls, Del); It != Calls.end(); ++It) {
    const CallExpr *C = *It;
    if (C != Del && endsWait(C, R))
      return;
    llvm::StringRef N = calleeName(C);
    // The free: `free (n)`, or a call of the TU that frees the node's
    // object on every path (freeOfParam; \p Inner is that free).
    llvm::SmallPtrSet<const VarDecl *, 4> Vars;
    const CallExpr *Inner = nullptr;
    for (unsigned I = 0; I < C->getNumArgs() && !Inner; ++I) {
      Vars.clear();
      if (C == Del || objectVar(C->getArg(I), Values, Vars) != Node)
        continue;
      Inner = isFreeCall(C) ? C : freeOfParam(C->getDirectCallee(), I, MaxCallDepth, Ctx);
    }
    if (!Inner)
      continue;
    std::optional<FunctionFlow::Point> To = Flow ? Flow->pointOf(C) : std::nullopt;
    if (!From || !To) // FIXME: no CFG: quiet
      continue;
    auto Stops = [&](const Stmt *S) {
      const auto *Call = dyn_cast<CallExpr>(S);
      if (Stored) // `old = cds_lfht_add_replace(...)` gives `old` the node
        if (std::optional<const Expr *> V = definitionOf(S, Stored);
            V && *V && (*V)->IgnoreParenImpCasts() == Del)
          return false;
      return (Call && endsWait(Call, R)) || repointsAway(S, Vars, Node, Values) ||
             (Call && Call != Del && movesIterator(Call, Node));
    };
    if (!Flow->reachesWithout(*From, *To, Stops,
                              [](const CFGBlock *, unsigned) { return false; }))
      continue;
    diag(C->getBeginLoc(),
         "%select{'%1'|call to '%1'}0 frees a node removed with '%2' before a grace "
         "period; readers in a read-side critical section may still hold it")
        << (Inner != C) << N << How << C->getSourceRange();
    diag(Del->getBeginLoc(),
         "removed here; free it with 'call_rcu', or after 'synchronize_rcu'",
         DiagnosticIDs::Note);
    if (Inner != C)
      diag(Inner->getBeginLoc(), "'%0' frees it here, on every path", DiagnosticIDs::Note)
          << functionName(enclosingFunction(Inner, Ctx));
    return;
  }
}

} // namespace clang::tidy::tsmap
