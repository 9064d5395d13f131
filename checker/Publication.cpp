//===--- Publication.cpp - where published objects live, and what follows -===//

#include "Publication.h"
#include "clang/AST/ASTContext.h"
#include "clang/AST/ExprCXX.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SmallVector.h"

namespace clang::tidy::tsmap {

// ---- Handles ---------------------------------------------------------------

const Expr *stripCasts(const Expr *E) {
  while (E) {
    E = E->IgnoreParens();
    if (const auto *CE = dyn_cast<CastExpr>(E)) {
      // Keep the array: a decayed array is the array's own memory.
      if (CE->getCastKind() == CK_ArrayToPointerDecay)
        return CE->getSubExpr()->IgnoreParens();
      E = CE->getSubExpr();
      continue;
    }
    return E;
  }
  return E;
}

std::optional<Handle> pointeeHandle(const Expr *E) {
  const Expr *S = stripCasts(E);
  if (!S)
    return std::nullopt;
  if (S->getType()->isArrayType())
    return lvalueHandle(S);
  if (const auto *UO = dyn_cast<UnaryOperator>(S)) {
    if (UO->getOpcode() == UO_AddrOf)
      return lvalueHandle(UO->getSubExpr());
    if (UO->isIncrementDecrementOp())
      return pointeeHandle(UO->getSubExpr());
    return std::nullopt;
  }
  if (const auto *BO = dyn_cast<BinaryOperator>(S)) {
    if (BO->isAdditiveOp())
      return pointeeHandle(BO->getLHS()->getType()->isPointerType()
                               ? BO->getLHS()
                               : BO->getRHS());
    if (BO->getOpcode() == BO_Comma)
      return pointeeHandle(BO->getRHS());
    return std::nullopt;
  }
  if (const auto *DRE = dyn_cast<DeclRefExpr>(S))
    if (const auto *V = dyn_cast<VarDecl>(DRE->getDecl()))
      if (V->getType()->isPointerType())
        return Handle{V, true};
  return std::nullopt;
}

std::optional<Handle> lvalueHandle(const Expr *E) {
  if (!E)
    return std::nullopt;
  const Expr *S = E->IgnoreParenImpCasts();
  if (const auto *DRE = dyn_cast<DeclRefExpr>(S)) {
    if (const auto *V = dyn_cast<VarDecl>(DRE->getDecl()))
      return Handle{V, false};
    return std::nullopt;
  }
  if (const auto *ME = dyn_cast<MemberExpr>(S))
    return ME->isArrow() ? pointeeHandle(ME->getBase())
                         : lvalueHandle(ME->getBase());
  if (const auto *UO = dyn_cast<UnaryOperator>(S))
    return UO->getOpcode() == UO_Deref ? pointeeHandle(UO->getSubExpr())
                                       : std::nullopt;
  if (const auto *ASE = dyn_cast<ArraySubscriptExpr>(S))
    return pointeeHandle(ASE->getBase());
  return std::nullopt;
}

std::optional<const Expr *> definitionOf(const Stmt *S, const VarDecl *V) {
  if (const auto *DS = dyn_cast<DeclStmt>(S)) {
    for (const Decl *D : DS->decls())
      if (D == V)
        return V->getInit();
    return std::nullopt;
  }
  if (const auto *BO = dyn_cast<BinaryOperator>(S)) {
    const auto *DRE = dyn_cast<DeclRefExpr>(BO->getLHS()->IgnoreParenImpCasts());
    if (!DRE || DRE->getDecl() != V)
      return std::nullopt;
    if (BO->getOpcode() == BO_Assign)
      return BO->getRHS();
    // `p += n`, `i -= 2`: moved to another element (or index).
    if (BO->getOpcode() == BO_AddAssign || BO->getOpcode() == BO_SubAssign)
      return static_cast<const Expr *>(nullptr);
    return std::nullopt;
  }
  if (const auto *UO = dyn_cast<UnaryOperator>(S)) {
    // `&p` handed on: whoever receives it may re-point `p`; `p++` (or an
    // index's `i++`) moves to the next element (a loop publishing an array's).
    const auto *DRE =
        dyn_cast<DeclRefExpr>(UO->getSubExpr()->IgnoreParenImpCasts());
    if (DRE && DRE->getDecl() == V &&
        (UO->getOpcode() == UO_AddrOf || UO->isIncrementDecrementOp()))
      return static_cast<const Expr *>(nullptr);
  }
  return std::nullopt;
}

// ---- The flow of one function ----------------------------------------------

std::unique_ptr<FunctionFlow> FunctionFlow::build(const Decl *D,
                                                  ASTContext &Ctx) {
  Stmt *Body = D ? D->getBody() : nullptr;
  if (!Body)
    return nullptr;
  CFG::BuildOptions Opts;
  Opts.setAllAlwaysAdd();
  std::unique_ptr<FunctionFlow> F(new FunctionFlow());
  F->D = D;
  F->Graph = CFG::buildCFG(D, Body, &Ctx, Opts);
  if (!F->Graph)
    return nullptr;
  F->PM = std::make_unique<ParentMap>(Body);
  for (const CFGBlock *B : *F->Graph) {
    unsigned Index = 0;
    for (const CFGElement &E : *B) {
      if (std::optional<CFGStmt> S = E.getAs<CFGStmt>())
        F->Positions.try_emplace(S->getStmt(), Point{B, Index});
      ++Index;
    }
  }
  return F;
}

std::optional<FunctionFlow::Point>
FunctionFlow::pointOf(const Stmt *S) const {
  for (; S; S = PM->getParent(S)) {
    auto It = Positions.find(S);
    if (It != Positions.end())
      return It->second;
  }
  return std::nullopt;
}

/// The statement of element \p I of \p B, or null.
static const Stmt *stmtAt(const CFGBlock *B, unsigned I) {
  if (std::optional<CFGStmt> S = (*B)[I].getAs<CFGStmt>())
    return S->getStmt();
  return nullptr;
}

void FunctionFlow::forEachElement(
    llvm::function_ref<void(const Stmt *, Point)> Visit) const {
  for (const CFGBlock *B : *Graph)
    for (unsigned I = 0, N = B->size(); I < N; ++I)
      if (const Stmt *S = stmtAt(B, I))
        Visit(S, Point{B, I});
}

std::vector<FunctionFlow::Definition>
FunctionFlow::reachingDefinitions(const VarDecl *V, Point P,
                                  bool &FromEntry) const {
  std::vector<Definition> Defs;
  llvm::SmallPtrSet<const CFGBlock *, 16> Seen;
  llvm::SmallVector<std::pair<const CFGBlock *, unsigned>, 16> Work;
  Work.push_back({P.Block, P.Index});
  FromEntry = false;
  while (!Work.empty()) {
    auto [B, End] = Work.pop_back_val();
    bool Defined = false;
    for (unsigned I = End; I-- > 0 && !Defined;) {
      const Stmt *S = stmtAt(B, I);
      if (!S)
        continue;
      if (std::optional<const Expr *> Value = definitionOf(S, V)) {
        Defs.push_back({*Value, S});
        Defined = true;
      }
    }
    if (Defined)
      continue;
    if (B == &Graph->getEntry() || B->pred_empty())
      FromEntry = true;
    for (const CFGBlock *Pred : B->preds())
      if (Pred && Seen.insert(Pred).second)
        Work.push_back({Pred, Pred->size()});
  }
  return Defs;
}

/// The declaration of an automatic object if \p V is one: a local or a
/// parameter, not a reference (which names someone else's object).
static bool isAutomatic(const VarDecl *V) {
  return V && V->hasLocalStorage() && !V->getType()->isReferenceType();
}

bool FunctionFlow::automaticPointeeImpl(const Expr *E, const Stmt *At,
                                        unsigned Depth,
                                        AutomaticObject &Out) const {
  const Expr *S = stripCasts(E);
  if (!S || Depth > 8)
    return false;
  // An lvalue whose memory the pointer designates: `&x.f`, a decayed array.
  const Expr *Object = nullptr;
  if (S->getType()->isArrayType())
    Object = S;
  else if (const auto *UO = dyn_cast<UnaryOperator>(S);
           UO && UO->getOpcode() == UO_AddrOf)
    Object = UO->getSubExpr();
  if (Object) {
    for (;;) {
      Object = Object->IgnoreParenImpCasts();
      if (const auto *ME = dyn_cast<MemberExpr>(Object)) {
        if (ME->isArrow())
          return automaticPointeeImpl(ME->getBase(), At, Depth + 1, Out);
        Object = ME->getBase();
      } else if (const auto *ASE = dyn_cast<ArraySubscriptExpr>(Object)) {
        const Expr *Base = ASE->getBase()->IgnoreParens();
        const auto *Decay = dyn_cast<ImplicitCastExpr>(Base);
        if (!Decay || Decay->getCastKind() != CK_ArrayToPointerDecay)
          return automaticPointeeImpl(Base, At, Depth + 1, Out);
        Object = Decay->getSubExpr();
      } else if (const auto *UO = dyn_cast<UnaryOperator>(Object);
                 UO && UO->getOpcode() == UO_Deref) {
        return automaticPointeeImpl(UO->getSubExpr(), At, Depth + 1, Out);
      } else {
        break;
      }
    }
    if (const auto *CL = dyn_cast<CompoundLiteralExpr>(Object)) {
      if (CL->isFileScope())
        return false;
      Out.Literal = CL;
      return true;
    }
    const auto *DRE = dyn_cast<DeclRefExpr>(Object);
    const auto *V = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
    if (V && V->getTLSKind() != VarDecl::TLS_None) {
      Out.Var = V;
      Out.ThreadLocal = true;
      return true;
    }
    if (!isAutomatic(V))
      return false;
    Out.Var = V;
    return true;
  }
  // `alloca` memory lives until the function returns.
  if (const auto *CE = dyn_cast<CallExpr>(S)) {
    const FunctionDecl *FD = CE->getDirectCallee();
    if (FD && FD->getIdentifier() &&
        (FD->getName() == "alloca" || FD->getName().starts_with("__builtin_alloca"))) {
      Out.Alloca = CE;
      return true;
    }
    return false;
  }
  if (const auto *CO = dyn_cast<AbstractConditionalOperator>(S))
    return automaticPointeeImpl(CO->getTrueExpr(), At, Depth + 1, Out) ||
           automaticPointeeImpl(CO->getFalseExpr(), At, Depth + 1, Out);
  if (const auto *BO = dyn_cast<BinaryOperator>(S)) {
    if (BO->isAdditiveOp())
      return automaticPointeeImpl(BO->getLHS()->getType()->isPointerType()
                                      ? BO->getLHS()
                                      : BO->getRHS(),
                                  At, Depth + 1, Out);
    if (BO->getOpcode() == BO_Comma)
      return automaticPointeeImpl(BO->getRHS(), At, Depth + 1, Out);
    return false;
  }
  // A local pointer: follow the definitions that reach this use.
  const auto *DRE = dyn_cast<DeclRefExpr>(S);
  const auto *V = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
  if (!V || !V->hasLocalStorage() || !V->getType()->isPointerType())
    return false;
  std::optional<Point> P = pointOf(At);
  if (!P)
    return false;
  bool FromEntry = false;
  for (const Definition &Def : reachingDefinitions(V, *P, FromEntry)) {
    if (!Def.Value ||
        !automaticPointeeImpl(Def.Value, Def.At, Depth + 1, Out))
      continue;
    const Stmt *NoteAt = isa<DeclStmt>(Def.At) ? Def.Value : Def.At;
    Out.Through.insert(Out.Through.begin(), {V, NoteAt});
    return true;
  }
  return false;
}

std::optional<AutomaticObject>
FunctionFlow::automaticPointee(const Expr *E, const Stmt *At) const {
  AutomaticObject Out;
  if (automaticPointeeImpl(E, At, 0, Out))
    return Out;
  return std::nullopt;
}

namespace {
/// Paths that end on the edges \p Blocked names (none when it is null), and
/// know nothing else.
class BlockedEdges : public PathTracker {
public:
  explicit BlockedEdges(
      llvm::function_ref<bool(const CFGBlock *, unsigned)> Blocked)
      : Blocked(Blocked) {}
  bool follows(const CFGBlock &B, unsigned I, uint64_t &) const override {
    return !(Blocked && Blocked(&B, I));
  }

private:
  llvm::function_ref<bool(const CFGBlock *, unsigned)> Blocked;
};
} // namespace

bool FunctionFlow::reaches(Point From, const Point *To,
                           llvm::function_ref<bool(const Stmt *)> Kills,
                           const PathTracker &Paths) const {
  struct Item {
    const CFGBlock *B;
    unsigned Begin;
    uint64_t State;
  };
  // A block is entered once per state a path brings into it.
  llvm::DenseSet<std::pair<const CFGBlock *, uint64_t>> Seen;
  llvm::SmallVector<Item, 16> Work;
  Work.push_back({From.Block, From.Index + 1, Paths.initialState()});
  while (!Work.empty()) {
    auto [B, Begin, State] = Work.pop_back_val();
    if (!To && B == &Graph->getExit())
      return true;
    bool Stopped = false;
    for (unsigned I = Begin, N = B->size(); I < N && !Stopped; ++I) {
      if (To && B == To->Block && I == To->Index)
        return true;
      if (const Stmt *S = stmtAt(B, I)) {
        if (Kills(S))
          Stopped = true;
        else
          State = Paths.afterElement(State, S);
      }
    }
    if (Stopped)
      continue;
    unsigned Index = 0;
    for (const CFGBlock *Succ : B->succs()) {
      unsigned ThisIndex = Index++;
      uint64_t Next = State;
      if (!Succ || !Paths.follows(*B, ThisIndex, Next))
        continue;
      if (Seen.insert({Succ, Next}).second)
        Work.push_back({Succ, 0, Next});
    }
  }
  return false;
}

bool FunctionFlow::reachesWithout(
    Point From, Point To, llvm::function_ref<bool(const Stmt *)> Kills,
    llvm::function_ref<bool(const CFGBlock *, unsigned)> Blocked) const {
  return reaches(From, &To, Kills, BlockedEdges(Blocked));
}

bool FunctionFlow::reachesWithout(Point From, Point To,
                                  llvm::function_ref<bool(const Stmt *)> Kills,
                                  const PathTracker &Paths) const {
  return reaches(From, &To, Kills, Paths);
}

bool FunctionFlow::reachesExitWithout(
    Point From, llvm::function_ref<bool(const Stmt *)> Kills,
    llvm::function_ref<bool(const CFGBlock *, unsigned)> Blocked) const {
  return reaches(From, nullptr, Kills, BlockedEdges(Blocked));
}

bool FunctionFlow::reachesExitWithout(
    Point From, llvm::function_ref<bool(const Stmt *)> Kills,
    const PathTracker &Paths) const {
  return reaches(From, nullptr, Kills, Paths);
}

// ---- Aliases -----------------------------------------------------------------

const Expr *writtenLValue(const Stmt *S) {
  if (const auto *BO = dyn_cast<BinaryOperator>(S))
    return BO->getLHS();
  if (const auto *UO = dyn_cast<UnaryOperator>(S))
    return UO->getSubExpr();
  return nullptr;
}

bool repointsOff(const Stmt *S, const VarDecl *V, const std::vector<Handle> &Aliases) {
  std::optional<const Expr *> Def = definitionOf(S, V);
  if (!Def)
    return false;
  if (!*Def)
    return true;
  std::optional<Handle> H = pointeeHandle(*Def);
  return !(H && llvm::is_contained(Aliases, *H));
}

std::vector<Handle> aliasesOf(Handle Root, const FunctionFlow &Flow) {
  // Every (variable, value) definition in the body, collected once.
  std::vector<std::pair<const VarDecl *, const Expr *>> Defs;
  Flow.forEachElement([&](const Stmt *S, FunctionFlow::Point) {
    if (const auto *DS = dyn_cast<DeclStmt>(S)) {
      for (const Decl *D : DS->decls())
        if (const auto *V = dyn_cast<VarDecl>(D); V && V->getInit())
          Defs.push_back({V, V->getInit()});
    } else if (const auto *BO = dyn_cast<BinaryOperator>(S);
               BO && BO->getOpcode() == BO_Assign) {
      if (const auto *DRE =
              dyn_cast<DeclRefExpr>(BO->getLHS()->IgnoreParenImpCasts()))
        if (const auto *V = dyn_cast<VarDecl>(DRE->getDecl()))
          Defs.push_back({V, BO->getRHS()});
    }
  });
  std::vector<Handle> Aliases{Root};
  auto Known = [&](const Handle &H) {
    return llvm::is_contained(Aliases, H);
  };
  for (bool Changed = true; Changed;) {
    Changed = false;
    for (auto &[V, Value] : Defs) {
      if (!V->hasLocalStorage() || !V->getType()->isPointerType() ||
          Known(Handle{V, true}))
        continue;
      std::optional<Handle> From = pointeeHandle(Value);
      if (From && Known(*From)) {
        Aliases.push_back(Handle{V, true});
        Changed = true;
      }
    }
  }
  return Aliases;
}

// ---- How a publish reports failure -------------------------------------------

PublishOutcome::PublishOutcome(const CallExpr *Call, const FunctionFlow &Flow)
    : Outcome(Flow.decl()->getASTContext(), Call, CallEvent::Published) {
  Outcome.findResultVars(Flow.decl()->getBody());
}

uint64_t PublishOutcome::afterElement(uint64_t State, const Stmt *S) const {
  return Outcome.afterElement(CallOutcome::PathFacts::unpack(State), S).pack();
}

bool PublishOutcome::follows(const CFGBlock &B, unsigned I,
                             uint64_t &State) const {
  CallOutcome::PathFacts Facts = CallOutcome::PathFacts::unpack(State);
  bool Failed = Outcome.onEdge(B, I, Facts) == Verdict::NotHappened;
  State = Facts.pack();
  return !Failed;
}

} // namespace clang::tidy::tsmap
