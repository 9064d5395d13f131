//===--- WeakMutableValueRcu.cpp - writes into RCU-published objects ------===//
//
// tsmap-weak-mutable-value for liburcu's publication: an object a pointer is
// published through (`rcu_assign_pointer (conf, c)`) is read by RCU readers
// with no lock until it is unpublished and a grace period has passed. A
// function that loads it (`old = rcu_dereference (conf)`) and then writes
// into it, directly or through a helper of the TU, changes memory readers may
// be reading: they see it torn (bench/realworld R24, multipathd's
// reconfigure). The fix is to change a copy and publish that, or to write
// after `synchronize_rcu`.
//
// Found from the preprocessor's macro expansions (liburcu spells these as
// macros in both its modes), so a unit that never expands them costs one
// empty check.
//
//===----------------------------------------------------------------------===//

#include "ChainNotes.h"
#include "HeldLocks.h"
#include "RcuSections.h"
#include "WeakMutableValueCheck.h"
#include "clang/AST/ParentMapContext.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/Lex/Lexer.h"
#include "clang/Lex/PPCallbacks.h"
#include "clang/Lex/Preprocessor.h"

namespace clang::tidy::tsmap {

namespace {

bool isPublishMacro(llvm::StringRef N) {
  return N == "rcu_assign_pointer" || N == "rcu_set_pointer" ||
         N == "rcu_xchg_pointer" || N == "rcu_cmpxchg_pointer";
}

/// Records where liburcu's publishing and loading macros are expanded.
class RcuMacroRecorder : public PPCallbacks {
public:
  RcuMacroRecorder(const SourceManager &SM,
                   std::shared_ptr<RcuMacros> Out)
      : SM(SM), Out(std::move(Out)) {}
  void MacroExpands(const Token &Name, const MacroDefinition &, SourceRange Range,
                    const MacroArgs *) override {
    const IdentifierInfo *II = Name.getIdentifierInfo();
    if (!II)
      return;
    llvm::StringRef N = II->getName();
    bool Publish = isPublishMacro(N);
    if (!Publish && N != "rcu_dereference")
      return;
    SourceRange Written(SM.getExpansionLoc(Range.getBegin()),
                        SM.getExpansionLoc(Range.getEnd()));
    if (SM.isInSystemHeader(Written.getBegin()))
      return;
    if (Publish)
      ++Out->Publishes;
    else
      Out->Loads.push_back(Written);
    if (N == "rcu_xchg_pointer")
      Out->Exchanges.push_back(Written);
  }

private:
  const SourceManager &SM;
  std::shared_ptr<RcuMacros> Out;
};

/// The global pointer variable \p E names, or null.
const VarDecl *globalPointer(const Expr *E) {
  const auto *DRE = dyn_cast<DeclRefExpr>(E);
  const auto *V = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
  return V && V->hasGlobalStorage() && V->getType()->isPointerType()
             ? V->getCanonicalDecl()
             : nullptr;
}

/// What a pointer is published through: the global \p E names, or the
/// pointer field it reads (`t->meta`: every object's `meta`); null otherwise.
const ValueDecl *publishedPointer(const Expr *E) {
  if (const VarDecl *G = globalPointer(E))
    return G;
  const auto *ME = dyn_cast<MemberExpr>(E);
  const auto *F = ME ? dyn_cast<FieldDecl>(ME->getMemberDecl()) : nullptr;
  return F && F->getType()->isPointerType() ? F->getCanonicalDecl() : nullptr;
}

/// A load of a published pointer into a local: `old = rcu_dereference (G)`
/// (or of a field, `rcu_dereference (t->meta)`), or the object a publish
/// swapped out, `old = rcu_xchg_pointer (p, new)` (\c From null), which
/// readers may hold until a grace period.
struct RcuLoad {
  const VarDecl *Local;
  const Stmt *At;      ///< The declaration or the assignment.
  const Expr *Value;   ///< The loaded value, for the note.
  const ValueDecl *From; ///< The global or the field.
  const Expr *Read;    ///< Where it reads \c From, for the message.
  /// A getter of the file that made the load (`c = get_config ()`), or null.
  const FunctionDecl *Getter = nullptr;
};

/// The last argument of a macro invocation's text (`rcu_xchg_pointer (&g,
/// NULL)`) is a null pointer: such a publish unpublishes.
bool publishesNull(llvm::StringRef Invocation) {
  size_t Close = Invocation.rfind(')');
  int Depth = 0;
  for (size_t I = Close; I-- > 0;) {
    char C = Invocation[I];
    if (C == ')')
      ++Depth;
    else if (C == '(' && Depth-- == 0)
      return false;
    else if (C == ',' && Depth == 0) {
      llvm::StringRef Arg = Invocation.slice(I + 1, Close).trim();
      return Arg == "NULL" || Arg == "0" || Arg == "nullptr" ||
             Arg.contains_insensitive("void *)0") || Arg.contains_insensitive("void*)0");
    }
  }
  return false;
}

/// Finds, outside system headers, the globals and pointer fields whose
/// address a publishing macro takes (`rcu_assign_pointer (G, v)` is
/// `rcu_set_pointer (&(G), v)`; `rcu_xchg_pointer (&t->meta, v)`), and the
/// locals given `rcu_dereference (G)`, `rcu_dereference (t->meta)` or `G`.
class RcuUseVisitor : public RecursiveASTVisitor<RcuUseVisitor> {
public:
  RcuUseVisitor(ASTContext &Ctx, const RcuMacros &Macros)
      : Ctx(Ctx), SM(Ctx.getSourceManager()), Macros(Macros) {}
  bool TraverseDecl(Decl *D) {
    if (D && !isa<TranslationUnitDecl>(D) && SM.isInSystemHeader(D->getLocation()))
      return true;
    return RecursiveASTVisitor::TraverseDecl(D);
  }
  bool VisitUnaryOperator(UnaryOperator *UO) {
    if (UO->isIncrementDecrementOp())
      directWrite(UO, UO->getSubExpr());
    if (UO->getOpcode() != UO_AddrOf)
      return true;
    const ValueDecl *G = publishedPointer(UO->getSubExpr()->IgnoreParens());
    auto Known = G ? Published.find(G) : Published.end();
    if (!G || (Known != Published.end() && !Known->second.Null))
      return true;
    // The `&` is in the macro's body (`rcu_set_pointer (&(G), v)`) or an
    // argument of it (`rcu_xchg_pointer (&G, v)`, also `_rcu_xchg_pointer`
    // under _LGPL_SOURCE, where the name is an object-like macro).
    SourceLocation L = UO->getBeginLoc();
    for (unsigned Depth = 0; L.isMacroID() && Depth < 8; ++Depth) {
      llvm::StringRef Name = Lexer::getImmediateMacroName(L, SM, Ctx.getLangOpts());
      if (isPublishMacro(Name.ltrim('_'))) { // the outermost names it
        // The note prefers a publish of an object to one of NULL (bench/realworld R55).
        bool Null = publishesNull(Lexer::getSourceText(
            SM.getExpansionRange(UO->getBeginLoc()), SM, Ctx.getLangOpts()));
        if (Known == Published.end() || !Null)
          Published[G] = {SM.getExpansionLoc(UO->getBeginLoc()), Name.ltrim('_').str(),
                          UO->getSubExpr()->IgnoreParens(), Null};
      }
      L = SM.getImmediateMacroCallerLoc(L);
    }
    return true;
  }
  bool VisitVarDecl(VarDecl *V) {
    if (!V->hasLocalStorage() || !V->getInit())
      return true;
    DynTypedNodeList Parents = Ctx.getParents(*V);
    if (const auto *DS = Parents.empty() ? nullptr : Parents[0].get<DeclStmt>())
      load(V, V->getInit(), DS);
    return true;
  }
  bool VisitBinaryOperator(BinaryOperator *BO) {
    if (BO->isAssignmentOp())
      directWrite(BO, BO->getLHS());
    if (BO->getOpcode() != BO_Assign)
      return true;
    const auto *DRE = dyn_cast<DeclRefExpr>(BO->getLHS()->IgnoreParenImpCasts());
    if (const auto *V = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
        V && V->hasLocalStorage())
      load(V, BO->getRHS(), BO);
    return true;
  }

  struct PublishSite {
    SourceLocation Where;
    std::string Macro;
    const Expr *Target; ///< The published pointer as written.
    bool Null;          ///< It publishes NULL (`rcu_xchg_pointer (&g, NULL)`).
  };
  llvm::DenseMap<const ValueDecl *, PublishSite> Published;
  std::vector<RcuLoad> Loads;
  /// A write straight through the load, with no local
  /// (`rcu_dereference (g)->n = 1`): the write, and what it reads.
  struct DirectWrite {
    const Stmt *Where;
    const Expr *Target;
    const Expr *Read;
  };
  std::vector<DirectWrite> DirectWrites;

private:
  /// \p S writes \p LHS, whose base is an `rcu_dereference` of a pointer
  /// (`rcu_dereference (g)->n`, `rcu_dereference (t->meta)->items[i]`).
  void directWrite(const Stmt *S, const Expr *LHS) {
    if (LHS->getType()->isAtomicType() || LHS->getType().isVolatileQualified())
      return;
    const Expr *E = LHS;
    for (unsigned Guard = 0; E && Guard < 16; ++Guard) {
      E = E->IgnoreParenImpCasts();
      if (const auto *ME = dyn_cast<MemberExpr>(E))
        E = ME->getBase();
      else if (const auto *ASE = dyn_cast<ArraySubscriptExpr>(E))
        E = ASE->getBase();
      else if (const auto *UO = dyn_cast<UnaryOperator>(E); UO && UO->getOpcode() == UO_Deref)
        E = UO->getSubExpr();
      else
        break;
      if (E == LHS)
        break;
      const Expr *Base = stripCasts(E);
      SourceLocation L = SM.getExpansionLoc(Base->getBeginLoc());
      if (llvm::any_of(Macros.Loads, [&](SourceRange R) { return R.getBegin() == L; })) {
        if (const Expr *Read = namedPointer(Base))
          DirectWrites.push_back({S, LHS, Read});
        return;
      }
    }
  }
  /// \p Value, given to local \p V at \p At, is
  /// `rcu_dereference (G)` of a global: the expansion starts where the
  /// value does (a cast around it aside), and names G.
  void load(const VarDecl *V, const Expr *Value, const Stmt *At) {
    // Not a temporary a macro's body declares (rcu_dereference's own `_p1`).
    if (!V->getType()->isPointerType() || SM.isMacroBodyExpansion(V->getLocation()))
      return;
    const Expr *E = stripCasts(Value);
    SourceLocation L = SM.getExpansionLoc(E->getBeginLoc());
    auto StartsHere = [&](SourceRange R) { return R.getBegin() == L; };
    if (llvm::any_of(Macros.Exchanges, StartsHere)) {
      Loads.push_back({V, At, Value, nullptr, nullptr});
      return;
    }
    if (llvm::any_of(Macros.Loads, StartsHere)) {
      if (const Expr *Read = namedPointer(E))
        Loads.push_back({V, At, Value, publishedPointer(Read), Read});
      return;
    }
    // A plain read of the global (`c = conf`), as an updater holding its own
    // lock writes it: the object is as published as through rcu_dereference.
    // Not of a field: objects whose field no reader reads with RCU abound.
    if (E->getBeginLoc().isFileID())
      if (const VarDecl *G = globalPointer(E))
        Loads.push_back({V, At, Value, G, E});
    // A call of a getter of the file (decided once the whole TU is seen).
    if (const auto *Call = dyn_cast<CallExpr>(E); Call && Call->getDirectCallee())
      GetterCalls.push_back({V, At, Value, nullptr, nullptr,
                             Call->getDirectCallee()->getDefinition()});
  }

public:
  /// Adds the loads made by calls to the file's getters: functions whose
  /// every return is `rcu_dereference (G)` of one global (multipathd's
  /// `get_multipath_config`: lock, load, return; bench/realworld R59).
  void addGetterLoads() {
    llvm::DenseMap<const FunctionDecl *, const Expr *> Getters;
    for (RcuLoad &L : GetterCalls) {
      if (!L.Getter || !L.Getter->hasBody())
        continue;
      auto [It, New] = Getters.try_emplace(L.Getter, nullptr);
      if (New)
        It->second = returnedLoad(L.Getter);
      if (!It->second)
        continue;
      L.Read = It->second;
      L.From = publishedPointer(L.Read);
      Loads.push_back(L);
    }
  }

private:
  /// The global every return of \p Fn loads with rcu_dereference, as read;
  /// null when a return returns anything else.
  const Expr *returnedLoad(const FunctionDecl *Fn) {
    if (SM.isInSystemHeader(Fn->getLocation()))
      return nullptr;
    llvm::SmallVector<const ReturnStmt *, 4> Returns;
    collectReturns(Fn->getBody(), Returns);
    const Expr *Read = nullptr;
    for (const ReturnStmt *R : Returns) {
      const Expr *E = R->getRetValue() ? stripCasts(R->getRetValue()) : nullptr;
      if (!E)
        return nullptr;
      SourceLocation L = SM.getExpansionLoc(E->getBeginLoc());
      if (llvm::none_of(Macros.Loads, [&](SourceRange S) { return S.getBegin() == L; }))
        return nullptr;
      const Expr *This = namedPointer(E);
      if (!This || !globalPointer(This) ||
          (Read && globalPointer(This) != globalPointer(Read)))
        return nullptr;
      Read = This;
    }
    return Read;
  }
  static void collectReturns(const Stmt *S, llvm::SmallVectorImpl<const ReturnStmt *> &Out) {
    if (!S || isa<LambdaExpr>(S) || isa<BlockExpr>(S))
      return;
    if (const auto *R = dyn_cast<ReturnStmt>(S))
      Out.push_back(R);
    for (const Stmt *C : S->children())
      collectReturns(C, Out);
  }
  /// The first global pointer or pointer field \p S reads, through the
  /// macro's statement expression and casts (`t->meta` before `t`).
  static const Expr *namedPointer(const Stmt *S) {
    if (!S)
      return nullptr;
    if (const auto *E = dyn_cast<Expr>(S))
      if (publishedPointer(E->IgnoreParenCasts()))
        return E->IgnoreParenCasts();
    for (const Stmt *C : S->children())
      if (const Expr *Found = namedPointer(C))
        return Found;
    return nullptr;
  }
  ASTContext &Ctx;
  const SourceManager &SM;
  const RcuMacros &Macros;
  std::vector<RcuLoad> GetterCalls; ///< Loads if their callee is a getter.
};

/// In \p Callee, every path from its entry to the write \p E (or to the
/// first call on the way to it) passes a wait for a grace period.
bool writesAfterGrace(const FunctionDecl *Callee, const Effect &E, RcuSections &R) {
  const FunctionDecl *Def = Callee->getDefinition();
  const Stmt *First = E.Chain.empty() ? E.Where : E.Chain.front().Site;
  const FunctionFlow *Flow = Def ? R.flowOf(Def) : nullptr;
  std::optional<FunctionFlow::Point> To = Flow && First ? Flow->pointOf(First) : std::nullopt;
  if (!To)
    return false;
  FunctionFlow::Point Entry{&Flow->graph().getEntry(), 0};
  auto Waits = [&](const Stmt *S) {
    const auto *Call = dyn_cast<CallExpr>(S);
    return Call && Call != First && R.waitsForGracePeriod(Call);
  };
  return !Flow->reachesWithout(Entry, *To, Waits,
                               [](const CFGBlock *, unsigned) { return false; });
}

} // namespace

void WeakMutableValueCheck::registerPPCallbacks(const SourceManager &SM,
                                                Preprocessor *PP,
                                                Preprocessor *) {
  PP->addPPCallbacks(std::make_unique<RcuMacroRecorder>(SM, Rcu));
}

void WeakMutableValueCheck::checkRcuWrites(ASTContext &Ctx) {
  if (!Rcu->Publishes)
    return;
  RcuUseVisitor Uses(Ctx, *Rcu);
  Uses.TraverseDecl(Ctx.getTranslationUnitDecl());
  Uses.addGetterLoads();
  RcuSections Sections(Ctx, MaxCallDepth);
  for (const RcuLoad &Load : Uses.Loads) {
    auto Site = Uses.Published.find(Load.From);
    if (Load.From && Site == Uses.Published.end())
      continue; // not published here: the TU's readers only
    const FunctionDecl *Owner = enclosingFunction(Load.At, Ctx);
    const FunctionFlow *Flow = Owner ? flowOf(Owner, Ctx) : nullptr;
    std::optional<FunctionFlow::Point> From = Flow ? Flow->pointOf(Load.At) : std::nullopt;
    if (!From)
      continue;
    std::vector<Handle> Aliases = aliasesOf(Handle{Load.Local, true}, *Flow);
    // A lock of the object itself (`pthread_mutex_lock (&old->lock)`) is one
    // its readers take too; the updater's own lock keeps no reader out.
    std::vector<std::pair<const Stmt *, FunctionFlow::Point>> Locks, Writes;
    std::vector<Write> Found;
    Flow->forEachElement([&](const Stmt *S, FunctionFlow::Point At) {
      LockAction A = lockActionOf(S);
      const auto *Call = dyn_cast<CallExpr>(S);
      if ((A == LockAction::Take || A == LockAction::TryTake) && Call &&
          Call->getNumArgs() > 0) {
        std::optional<Handle> H = pointeeHandle(Call->getArg(0));
        if (H && llvm::is_contained(Aliases, *H))
          Locks.push_back({S, At});
      }
      if (std::optional<Write> W = writeAt(S, Aliases, nullptr)) {
        Found.push_back(*W);
        Writes.push_back({S, At});
      }
    });
    auto Unlocks = [](const Stmt *S) { return lockActionOf(S) == LockAction::Release; };
    auto NoBlock = [](const CFGBlock *, unsigned) { return false; };
    for (size_t K = 0; K < Found.size(); ++K) {
      const Write &W = Found[K];
      FunctionFlow::Point At = Writes[K].second;
      if (ReportedWrites.contains(W.Where))
        continue;
      // A callee that writes only after it waited for a grace period
      // (`reclaim (old)` that synchronizes first).
      if (W.Callee && W.Chain && writesAfterGrace(W.Callee, *W.Chain, Sections))
        continue;
      // Re-pointed to something else, or past a grace period (after which
      // an object unpublished before it is the updater's alone).
      auto Kills = [&](const Stmt *S) {
        const auto *Call = dyn_cast<CallExpr>(S);
        return (Call && Sections.waitsForGracePeriod(Call)) ||
               repointsOff(S, W.Through, Aliases);
      };
      if (!Flow->reachesWithout(*From, At, Kills, NoBlock))
        continue;
      if (llvm::any_of(Locks, [&](const auto &L) {
            return heldAt(L.first, L.second, At, *Flow, Unlocks);
          }))
        continue;
      ReportedWrites.insert(W.Where);
      const bool Swapped = !Load.From;
      std::string Global = Swapped ? "" : sourceText(Load.Read, Ctx);
      SourceLocation Loc = W.Where->getBeginLoc();
      if (Ctx.getSourceManager().isInSystemMacro(Loc))
        Loc = Ctx.getSourceManager().getExpansionLoc(Loc);
      if (W.Callee) {
        diag(Loc, "'%0' writes through '%1' %select{while it is published through "
                  "'%2'; RCU readers may be reading it: change a copy and publish "
                  "that, or write after a grace period|before a grace period has "
                  "passed since it was swapped out; RCU readers may still be reading "
                  "it: write after synchronize_rcu, or in its call_rcu callback}3")
            << functionName(W.Callee) << W.Through->getName() << Global << Swapped
            << W.Where->getSourceRange();
      } else {
        const Expr *Target = writtenLValue(W.Where);
        diag(Loc, "write to '%0' %select{while '%1' is published through '%2'; RCU "
                  "readers may be reading it: change a copy and publish that, or "
                  "write after a grace period|before a grace period has passed since "
                  "'%1' was swapped out; RCU readers may still be reading it: write "
                  "after synchronize_rcu, or in its call_rcu callback}3")
            << sourceText(Target, Ctx) << W.Through->getName() << Global << Swapped
            << W.Where->getSourceRange();
      }
      SourceLocation LoadLoc =
          Ctx.getSourceManager().getExpansionLoc(Load.Value->getBeginLoc());
      if (Swapped) {
        diag(LoadLoc, "'%0' is swapped out with 'rcu_xchg_pointer' here", DiagnosticIDs::Note)
            << Load.Local->getName();
      } else {
        diag(LoadLoc, "'%0' is loaded from '%1' here%select{|, by '%3'}2",
             DiagnosticIDs::Note)
            << Load.Local->getName() << Global << (Load.Getter != nullptr)
            << (Load.Getter ? functionName(Load.Getter) : "");
        diag(Site->second.Where, "'%0' is published with '%1' here", DiagnosticIDs::Note)
            << sourceText(Site->second.Target, Ctx) << Site->second.Macro;
      }
      if (W.Chain)
        emitChainNotes(*this, W.Callee, *W.Chain, Ctx, Model);
    }
  }
  // Writes straight through the load (bench/realworld R58): no path between
  // the load and the write for a grace period or a lock to be on.
  for (const RcuUseVisitor::DirectWrite &W : Uses.DirectWrites) {
    auto Site = Uses.Published.find(publishedPointer(W.Read));
    if (Site == Uses.Published.end() || ReportedWrites.contains(W.Where))
      continue;
    ReportedWrites.insert(W.Where);
    const SourceManager &SM = Ctx.getSourceManager();
    SourceLocation Loc = SM.getExpansionLoc(W.Where->getBeginLoc());
    // As written: from the macro's name to the member (`rcu_dereference (g)->n`).
    std::string Target = Lexer::getSourceText(
                             CharSourceRange::getTokenRange(
                                 SM.getExpansionLoc(W.Target->getBeginLoc()),
                                 SM.getExpansionLoc(W.Target->getEndLoc())),
                             SM, Ctx.getLangOpts())
                             .str();
    diag(Loc, "write to '%0' while it is published through '%1'; RCU readers may be "
              "reading it: change a copy and publish that, or write after a grace period")
        << (Target.empty() ? sourceText(W.Target, Ctx) : Target) << sourceText(W.Read, Ctx)
        << W.Where->getSourceRange();
    diag(Site->second.Where, "'%0' is published with '%1' here", DiagnosticIDs::Note)
        << sourceText(Site->second.Target, Ctx) << Site->second.Macro;
  }
  Rcu->Publishes = 0;
  Rcu->Loads.clear();
  Rcu->Exchanges.clear();
}

} // namespace clang::tidy::tsmap
