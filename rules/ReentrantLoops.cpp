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
//     the loop before the iterator is used again: not reported;
//   - `g_hash_table_insert` / `_replace` of the loop's own key variable only
//     replaces a value (GLib invalidates iterators only when a key is added);
//   - maps are compared as for callbacks (same place, or same field and type).
//
// liburcu's lock-free table (see rules/tsmap-reentrant-callback.md):
//   - `cds_lfht_for_each*` outside an RCU read-side critical section: the
//     loop's function takes no read lock before it, the comment above it does
//     not say the caller holds it, and it is extern or not every caller in the
//     TU holds it (callers vouch only for a static function); QSBR
//     programs (threads are always in a read-side section) are not checked;
//   - `cds_lfht_del(ht, n)` then `free` of the node's object in the same
//     function with no `synchronize_rcu` between (source order): readers may
//     still hold the node; `call_rcu` defers the free.
//
//===----------------------------------------------------------------------===//

#include "CallbackResolution.h"
#include "ChainNotes.h"
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

/// The variable whose address \p E takes (`&it`), or that \p E names.
const VarDecl *addressedVar(const Expr *E) {
  E = E->IgnoreParenImpCasts();
  if (const auto *UO = dyn_cast<UnaryOperator>(E); UO && UO->getOpcode() == UO_AddrOf)
    E = UO->getSubExpr()->IgnoreParenImpCasts();
  const auto *DRE = dyn_cast<DeclRefExpr>(E);
  return DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
}

/// Every call in \p S (not in lambdas or blocks), in source order.
void collectCalls(const Stmt *S, std::vector<const CallExpr *> &Out) {
  if (!S || isa<LambdaExpr>(S) || isa<BlockExpr>(S))
    return;
  if (const auto *C = dyn_cast<CallExpr>(S))
    Out.push_back(C);
  for (const Stmt *Child : S->children())
    collectCalls(Child, Out);
}

/// \p S leaves the enclosing loop: `break`, `return`, `goto`.
bool leaves(const Stmt *S) {
  return isa_and_nonnull<BreakStmt>(S) || isa_and_nonnull<ReturnStmt>(S) ||
         isa_and_nonnull<GotoStmt>(S);
}

/// \p S restarts the walk: `g_hash_table_iter_init (&it, ...)` of iterator \p Iter.
bool restartsIterator(const Stmt *S, const VarDecl *Iter) {
  const auto *CE = dyn_cast_or_null<CallExpr>(S);
  const FunctionDecl *FD = CE ? CE->getDirectCallee() : nullptr;
  return Iter && FD && FD->getIdentifier() && FD->getName() == "g_hash_table_iter_init" &&
         CE->getNumArgs() > 0 && addressedVar(CE->getArg(0)) == Iter;
}

/// After \p Site, the loop whose body is \p Body is left before its
/// condition runs again, or its iterator \p Iter is set up anew: a `break`,
/// `return`, `goto` or `g_hash_table_iter_init (&it, ...)` follows \p Site in
/// one of the blocks between it and \p Body (before any `continue`).
/// FIXME: a `break` under an `if` after the change is not read.
bool leavesLoopAfter(const Stmt *Site, const Stmt *Body, const VarDecl *Iter,
                     ASTContext &Ctx) {
  const Stmt *Cur = Site;
  for (unsigned Guard = 0; Cur && Cur != Body && Guard < 64; ++Guard) {
    DynTypedNodeList Parents = Ctx.getParents(*Cur);
    const Stmt *Parent = Parents.empty() ? nullptr : Parents[0].get<Stmt>();
    if (!Parent || isa<SwitchStmt>(Parent) || isa<WhileStmt>(Parent) ||
        isa<ForStmt>(Parent) || isa<DoStmt>(Parent))
      return false; // a `break` there leaves a switch or an inner loop
    if (const auto *CS = dyn_cast<CompoundStmt>(Parent)) {
      bool After = false;
      for (const Stmt *Child : CS->body()) {
        if (After && isa<ContinueStmt>(Child))
          return false;
        if (After && (leaves(Child) || restartsIterator(Child, Iter)))
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

/// liburcu's flavors: `rcu_read_lock()` is a macro for `urcu_memb_read_lock`
/// (`_urcu_memb_read_lock` under _LGPL_SOURCE), `urcu_qsbr_`, `urcu_bp_`,
/// `urcu_mb_`, `urcu_signal_`; older releases spell `rcu_read_lock_memb`.
bool urcuName(llvm::StringRef N, llvm::StringRef What) {
  N = N.ltrim('_');
  return N == ("rcu_" + What).str() ||
         (N.starts_with("urcu_") && N.ends_with(("_" + What).str())) ||
         N.starts_with(("rcu_" + What + "_").str());
}
bool isReadLock(llvm::StringRef N) { return urcuName(N, "read_lock"); }
bool isReadUnlock(llvm::StringRef N) { return urcuName(N, "read_unlock"); }
bool isGracePeriod(llvm::StringRef N) {
  return N.contains("synchronize_rcu") || urcuName(N, "barrier");
}

llvm::StringRef calleeName(const CallExpr *C) {
  const FunctionDecl *FD = C->getDirectCallee();
  return FD && FD->getDeclName().isIdentifier() ? FD->getName() : "";
}

/// \p Site is inside a read-side critical section of \p Fn: the last read
/// lock or unlock call before it (source order) is a lock.
bool inReadSection(const Stmt *Site, const FunctionDecl *Fn, ASTContext &Ctx) {
  std::vector<const CallExpr *> Calls;
  collectCalls(Fn->getBody(), Calls);
  const SourceManager &SM = Ctx.getSourceManager();
  bool Locked = false;
  for (const CallExpr *C : Calls) {
    if (!SM.isBeforeInTranslationUnit(SM.getExpansionLoc(C->getBeginLoc()),
                                      SM.getExpansionLoc(Site->getBeginLoc())))
      break;
    llvm::StringRef N = calleeName(C);
    if (isReadLock(N))
      Locked = true;
    else if (isReadUnlock(N))
      Locked = false;
  }
  return Locked;
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

/// The calls to \p Fn in the TU, with the functions that make them.
class CallerFinder : public RecursiveASTVisitor<CallerFinder> {
public:
  explicit CallerFinder(const FunctionDecl *Fn) : Target(Fn->getCanonicalDecl()) {}
  bool TraverseFunctionDecl(FunctionDecl *FD) {
    const FunctionDecl *Saved = Current;
    Current = FD;
    bool R = RecursiveASTVisitor::TraverseFunctionDecl(FD);
    Current = Saved;
    return R;
  }
  bool VisitCallExpr(CallExpr *C) {
    if (const FunctionDecl *FD = C->getDirectCallee();
        FD && FD->getCanonicalDecl() == Target && Current)
      Sites.push_back({C, Current});
    return true;
  }
  const FunctionDecl *Target;
  const FunctionDecl *Current = nullptr;
  std::vector<std::pair<const CallExpr *, const FunctionDecl *>> Sites;
};

/// Whether \p Fn runs in a read-side section: the comment above it says its
/// caller holds the lock, or it is static and every call to it in the TU is
/// in one (or in a function that, in turn, is; \p Depth levels up). An
/// extern function may be called from other files, so callers in the TU
/// that hold the lock do not vouch for it (lttng's viewer_session_close_one
/// _session: locked in its file, unlocked in live.c). Beyond \p Depth, and
/// for a static function nothing calls, quiet.
bool calledInReadSection(const FunctionDecl *Fn, ASTContext &Ctx,
                         unsigned Depth) {
  if (documentsReadLock(Fn, Ctx))
    return true;
  if (Fn->isExternallyVisible())
    return false;
  if (Depth == 0)
    return true;
  CallerFinder Finder(Fn);
  Finder.TraverseDecl(Ctx.getTranslationUnitDecl());
  if (Finder.Sites.empty())
    return true;
  for (auto &[Site, Caller] : Finder.Sites)
    if (!inReadSection(Site, Caller, Ctx) &&
        !calledInReadSection(Caller, Ctx, Depth - 1))
      return false;
  return true;
}

/// The TU uses liburcu's QSBR flavor: registered threads are always in a
/// read-side section unless they say they are offline.
bool usesQsbr(ASTContext &Ctx) {
  for (llvm::StringRef N : {"urcu_qsbr_quiescent_state", "rcu_quiescent_state_qsbr"})
    if (ContractModel::lookupFunction(Ctx, N))
      return true;
  return false;
}

} // namespace

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
  std::vector<const CallExpr *> Calls;
  collectCalls(Owner->getBody(), Calls);
  const SourceManager &SM = Ctx.getSourceManager();
  const CallExpr *Init = nullptr;
  for (const CallExpr *C : Calls)
    if (calleeIs(C, "g_hash_table_iter_init") && C->getNumArgs() == 2 &&
        addressedVar(C->getArg(0)) == Iter &&
        SM.isBeforeInTranslationUnit(C->getBeginLoc(), Next->getBeginLoc()))
      Init = C;
  if (!Init)
    return;
  if (!Analysis)
    Analysis = std::make_unique<EffectAnalysis>(Ctx, Model, EffectOpts);
  MapRef Outer{Analysis->placeOfPointer(Init->getArg(1), Owner),
               Analysis->fieldLoadedInto(Init->getArg(1), Owner)};
  const VarDecl *KeyVar =
      Next->getNumArgs() > 1 ? addressedVar(Next->getArg(1)) : nullptr;
  std::vector<const CallExpr *> InBody;
  collectCalls(Body, InBody);
  for (const CallExpr *Site : InBody) {
    std::vector<const FunctionDecl *> Callees;
    if (const FunctionDecl *D = Site->getDirectCallee())
      Callees.push_back(D);
    else if (const auto *ME = dyn_cast<MemberExpr>(
                 Site->getCallee()->IgnoreParenImpCasts()))
      if (const auto *Fns = Analysis->fieldFunctions().of(
              dyn_cast<FieldDecl>(ME->getMemberDecl())))
        Callees = *Fns; // `r->on_expire(s, k)`
    if (Callees.empty() || leavesLoopAfter(Site, Body, addressedVar(Init->getArg(0)), Ctx))
      continue;
    for (const FunctionDecl *Callee : Callees)
      if (loopCallChanges(Site, Callee, Owner, Outer, KeyVar, Init, Next, Ctx))
        break; // one finding per call in the body
  }
}

bool ReentrantCallbackCheck::loopCallChanges(
    const CallExpr *Site, const FunctionDecl *Callee, const FunctionDecl *Owner,
    const MapRef &Outer, const VarDecl *KeyVar, const CallExpr *Init,
    const CallExpr *Next, ASTContext &Ctx) {
  Effect Direct;
  Direct.Kind = EffectKind::MapOperation;
  Direct.Where = Site;
  Direct.Callee = Callee;
  std::optional<unsigned> MI;
  if (Model.isMapOperation(Callee, &MI) && MI && *MI < Site->getNumArgs()) {
    Direct.Target = Analysis->placeOfPointer(Site->getArg(*MI), Owner);
    Direct.MapField = loadedFromField(Site->getArg(*MI));
    Direct.MapFieldAt = Direct.MapField ? Site->getArg(*MI) : nullptr;
  } else if (!Callee->hasBody()) {
    return false;
  }
  std::vector<Effect> Ops;
  mapOperations(Owner, Direct, 0, Ops);
  for (Effect &E : Ops) {
    // Replacing the value of the key being visited adds no key.
    if (E.Chain.empty() && KeyVar && Site->getNumArgs() > 1 &&
        (calleeIs(Site, "g_hash_table_insert") ||
         calleeIs(Site, "g_hash_table_replace")) &&
        addressedVar(Site->getArg(1)) == KeyVar)
      continue;
    MapRef Inner{E.Target, E.MapField};
    if (!Inner.Field && !Inner.P.Fields.empty())
      Inner.Field = Inner.P.Fields.back();
    Identity I = compareMaps(Outer, Inner, E.Target, std::nullopt,
                             /*InLoop=*/true, Owner);
    if (I != Identity::Same && I != Identity::SameField &&
        !(I == Identity::Unknown && StrictMapIdentity))
      continue;
    // A release on the last reference of an object the code took a reference
    // to (while the loop can reach its table, someone holds one), a table a
    // callee made, or a reference it took and drops (R16-R18).
    if (I != Identity::Same && E.leavesCallerMaps())
      continue;
    // A direct change names the table as the call writes it (`r->table`,
    // where the loop walks an alias `old`); a call's, the iterated one.
    const Expr *Changed = E.Chain.empty() && MI && *MI < Site->getNumArgs()
                              ? Site->getArg(*MI)
                              : Init->getArg(1);
    diag(Site->getBeginLoc(),
         "%select{|call to '%3' }2%select{changes|may change}0 '%1' while a "
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
    diag(Next->getBeginLoc(),
         "the loop iterates '%0' here; change it through the iterator "
         "('g_hash_table_iter_remove', 'g_hash_table_iter_replace') or after "
         "the loop",
         DiagnosticIDs::Note)
        << sourceText(Init->getArg(1)->IgnoreParenImpCasts(), Ctx);
    return true;
  }
  return false;
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
  if (!Owner || !Owner->getBody() || inReadSection(First, Owner, Ctx) ||
      usesQsbr(Ctx) || calledInReadSection(Owner, Ctx, 3))
    return;
  const Expr *Table = First->getNumArgs() ? First->getArg(0) : nullptr;
  diag(SM.getExpansionLoc(Loc),
       "'%0' iterates '%1' outside an RCU read-side critical section; nodes "
       "it visits may be freed under it")
      << Macro << (Table ? sourceText(Table->IgnoreParenImpCasts(), Ctx) : "");
  diag(Owner->getLocation(),
       "no 'rcu_read_lock' before the loop in '%0', and no caller in this "
       "file holds it; take the read lock around the loop, or say in '%0''s "
       "comment that its caller must hold it",
       DiagnosticIDs::Note)
      << functionName(Owner);
}

void ReentrantCallbackCheck::checkLfhtDelete(const CallExpr *Del,
                                             ASTContext &Ctx) {
  const FunctionDecl *Owner = enclosingFunction(Del, Ctx);
  if (Del->getNumArgs() < 2 || !Owner || !Owner->getBody())
    return;
  if (!Analysis)
    Analysis = std::make_unique<EffectAnalysis>(Ctx, Model, EffectOpts);
  Place Node = Analysis->placeOfPointer(Del->getArg(1), Owner);
  if (Node.Root == Place::RootKind::Unknown ||
      (!Node.Var && Node.Root != Place::RootKind::Param))
    return;
  std::vector<const CallExpr *> Calls;
  collectCalls(Owner->getBody(), Calls);
  bool After = false;
  for (const CallExpr *C : Calls) {
    if (C == Del) {
      After = true;
      continue;
    }
    if (!After)
      continue;
    llvm::StringRef N = calleeName(C);
    if (isGracePeriod(N) || N.contains("call_rcu") || N == "cds_lfht_del")
      return;
    if ((N != "free" && N != "g_free") || C->getNumArgs() != 1)
      continue;
    // The node's object itself: freeing a field of it (`free(i->name)`)
    // before handing the node to call_rcu is not freeing the node.
    Place Freed = Analysis->placeOfPointer(C->getArg(0), Owner);
    if (!Freed.Fields.empty() || Freed.Root != Node.Root || Freed.Var != Node.Var ||
        (Node.Root == Place::RootKind::Param && Freed.Param != Node.Param))
      continue;
    diag(C->getBeginLoc(),
         "'%0' frees a node removed with 'cds_lfht_del' before a grace "
         "period; readers in a read-side critical section may still hold it")
        << N
        << C->getSourceRange();
    diag(Del->getBeginLoc(),
         "removed here; free it with 'call_rcu', or after 'synchronize_rcu'",
         DiagnosticIDs::Note);
    return;
  }
}

} // namespace clang::tidy::tsmap
