//===--- ObjectOrigins.cpp - where a function's object pointers come from -===//

#include "ObjectOrigins.h"
#include "clang/AST/ASTContext.h"
#include "clang/AST/Expr.h"
#include "clang/AST/ParentMapContext.h"
#include "clang/AST/Stmt.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringSet.h"

namespace clang::tidy::tsmap {

bool isAllocatorName(llvm::StringRef Name) {
  static const llvm::StringSet<> Set = {
      "malloc",        "calloc",         "g_malloc",
      "g_malloc0",     "g_malloc_n",     "g_malloc0_n",
      "g_try_malloc",  "g_try_malloc0",  "g_try_malloc_n",
      "g_try_malloc0_n", "g_slice_alloc", "g_slice_alloc0",
      "g_object_new",  "g_object_new_with_properties", "g_object_newv",
      "g_type_create_instance"};
  return Set.contains(Name);
}

namespace {
/// The origins of one root: the variables it may come from, and whether it
/// may be a new allocation. Unknown when a value cannot be traced.
struct Origins {
  llvm::SmallPtrSet<const VarDecl *, 4> Vars;
  bool Fresh = false;
  bool Unknown = false;
};

/// The values \p V is given in \p Body (`v = e`), and whether its address is
/// taken (`&v`: written elsewhere).
void assignmentsTo(const VarDecl *V, const Stmt *S,
                   llvm::SmallVectorImpl<const Expr *> &Values, bool &Escapes) {
  if (!S || Escapes)
    return;
  if (const auto *BO = dyn_cast<BinaryOperator>(S); BO && BO->isAssignmentOp())
    if (const auto *DRE = dyn_cast<DeclRefExpr>(BO->getLHS()->IgnoreParenImpCasts());
        DRE && DRE->getDecl() == V)
      Values.push_back(BO->getRHS());
  if (const auto *UO = dyn_cast<UnaryOperator>(S); UO && UO->getOpcode() == UO_AddrOf)
    if (const auto *DRE = dyn_cast<DeclRefExpr>(UO->getSubExpr()->IgnoreParenImpCasts());
        DRE && DRE->getDecl() == V)
      Escapes = true;
  for (const Stmt *C : S->children())
    assignmentsTo(V, C, Values, Escapes);
}

void namedVars(const Stmt *S, llvm::SmallVectorImpl<const VarDecl *> &Out) {
  if (!S)
    return;
  if (const auto *DRE = dyn_cast<DeclRefExpr>(S))
    if (const auto *V = dyn_cast<VarDecl>(DRE->getDecl()))
      Out.push_back(V);
  for (const Stmt *C : S->children())
    namedVars(C, Out);
}

void addOrigins(const VarDecl *V, const FunctionDecl *Owner, Origins &O,
                llvm::SmallPtrSetImpl<const VarDecl *> &Seen, unsigned Depth) {
  if (O.Unknown || !Seen.insert(V).second)
    return;
  // A parameter, a global, or a local object (not a pointer) is an object.
  if (isa<ParmVarDecl>(V) || V->hasGlobalStorage() || !V->getType()->isPointerType()) {
    O.Vars.insert(V);
    return;
  }
  llvm::SmallVector<const Expr *, 4> Values;
  bool Escapes = false;
  if (V->getInit())
    Values.push_back(V->getInit());
  assignmentsTo(V, Owner->getBody(), Values, Escapes);
  if (Escapes || Values.empty() || Depth > 4) {
    O.Unknown = true;
    return;
  }
  for (const Expr *E : Values) {
    E = E->IgnoreParenCasts();
    if (E->isNullPointerConstant(Owner->getASTContext(),
                                 Expr::NPC_ValueDependentIsNotNull))
      continue;
    if (const auto *Call = dyn_cast<CallExpr>(E)) {
      const FunctionDecl *Callee = Call->getDirectCallee();
      if (Callee && Callee->getIdentifier() && isAllocatorName(Callee->getName())) {
        O.Fresh = true;
        continue;
      }
    }
    llvm::SmallVector<const VarDecl *, 4> Named;
    namedVars(E, Named);
    if (Named.empty()) {
      O.Unknown = true; // `get_default()`: any object
      return;
    }
    for (const VarDecl *N : Named)
      addOrigins(N, Owner, O, Seen, Depth + 1);
  }
}

std::optional<Origins> originsOf(const Place &P, const FunctionDecl *Owner) {
  const VarDecl *Root = nullptr;
  if (P.Root == Place::RootKind::Param && P.Param < Owner->getNumParams())
    Root = Owner->getParamDecl(P.Param);
  else if (P.Root == Place::RootKind::Global || P.Root == Place::RootKind::Local)
    Root = P.Var;
  if (!Root)
    return std::nullopt;
  Origins O;
  llvm::SmallPtrSet<const VarDecl *, 8> Seen;
  addOrigins(Root, Owner, O, Seen, 0);
  if (O.Unknown || (O.Vars.empty() && !O.Fresh))
    return std::nullopt;
  return O;
}
} // namespace

namespace {
/// \p S writes \p V: assigns it, increments it, or takes its address.
bool writesVar(const Stmt *S, const VarDecl *V) {
  if (!S)
    return false;
  auto IsV = [V](const Expr *E) {
    const auto *DRE = dyn_cast<DeclRefExpr>(E->IgnoreParenImpCasts());
    return DRE && DRE->getDecl() == V;
  };
  if (const auto *BO = dyn_cast<BinaryOperator>(S); BO && BO->isAssignmentOp() && IsV(BO->getLHS()))
    return true;
  if (const auto *UO = dyn_cast<UnaryOperator>(S);
      UO && (UO->isIncrementDecrementOp() || UO->getOpcode() == UO_AddrOf) && IsV(UO->getSubExpr()))
    return true;
  if (const auto *DS = dyn_cast<DeclStmt>(S))
    for (const Decl *D : DS->decls())
      if (D == V)
        return true;
  for (const Stmt *C : S->children())
    if (writesVar(C, V))
      return true;
  return false;
}

/// The value statement \p S gives \p V when it is a plain `v = e;` or `T *v = e;`.
const Expr *assignedValue(const Stmt *S, const VarDecl *V) {
  if (const auto *E = dyn_cast<Expr>(S))
    if (const auto *BO = dyn_cast<BinaryOperator>(E->IgnoreParenImpCasts());
        BO && BO->getOpcode() == BO_Assign)
      if (const auto *DRE = dyn_cast<DeclRefExpr>(BO->getLHS()->IgnoreParenImpCasts());
          DRE && DRE->getDecl() == V)
        return BO->getRHS();
  if (const auto *DS = dyn_cast<DeclStmt>(S); DS && DS->isSingleDecl() && DS->getSingleDecl() == V)
    return V->getInit();
  return nullptr;
}

bool freshValue(const Expr *E, unsigned Depth);

/// Every return of \p FD hands back an allocation, directly or through a local
/// that is given nothing else.
bool returnsFresh(const FunctionDecl *FD, unsigned Depth) {
  const FunctionDecl *Def = nullptr;
  if (Depth > 2 || !FD || !FD->hasBody(Def) || !Def)
    return false;
  llvm::SmallVector<const ReturnStmt *, 4> Returns;
  llvm::SmallVector<const Stmt *, 16> Work{Def->getBody()};
  while (!Work.empty()) {
    const Stmt *S = Work.pop_back_val();
    if (!S)
      continue;
    if (const auto *R = dyn_cast<ReturnStmt>(S))
      Returns.push_back(R);
    for (const Stmt *C : S->children())
      Work.push_back(C);
  }
  if (Returns.empty())
    return false;
  for (const ReturnStmt *R : Returns) {
    const Expr *E = R->getRetValue();
    if (!E)
      return false;
    E = E->IgnoreParenCasts();
    if (const auto *DRE = dyn_cast<DeclRefExpr>(E)) {
      const auto *V = dyn_cast<VarDecl>(DRE->getDecl());
      if (!V || !V->isLocalVarDecl() || V->isStaticLocal())
        return false;
      llvm::SmallVector<const Expr *, 4> Values;
      bool Escapes = false;
      if (V->getInit())
        Values.push_back(V->getInit());
      assignmentsTo(V, Def->getBody(), Values, Escapes);
      if (Escapes || Values.empty())
        return false;
      for (const Expr *Val : Values)
        if (!freshValue(Val, Depth + 1))
          return false;
      continue;
    }
    if (!freshValue(E, Depth + 1))
      return false;
  }
  return true;
}

bool freshValue(const Expr *E, unsigned Depth) {
  const auto *Call = dyn_cast<CallExpr>(E->IgnoreParenCasts());
  const FunctionDecl *Callee = Call ? Call->getDirectCallee() : nullptr;
  if (!Callee)
    return false;
  if (Callee->getIdentifier() && isAllocatorName(Callee->getName()))
    return true;
  return returnsFresh(Callee, Depth);
}
} // namespace

bool freshAtCall(const VarDecl *V, const Stmt *Site, ASTContext &Ctx) {
  if (!V || !Site || !V->isLocalVarDecl() || V->isStaticLocal() ||
      !V->getType()->isPointerType())
    return false;
  // Up from the call to the statement of a block, then back through the block
  // (and the blocks around it) to the nearest statement that writes V.
  const Stmt *Cur = Site;
  for (unsigned Up = 0; Up < 64; ++Up) {
    DynTypedNodeList Parents = Ctx.getParents(*Cur);
    if (Parents.size() != 1)
      return false;
    const Stmt *Parent = Parents[0].get<Stmt>();
    if (!Parent || isa<ForStmt, WhileStmt, DoStmt>(Parent))
      return false; // a function's top, or a loop: an earlier iteration may write V
    if (const auto *CS = dyn_cast<CompoundStmt>(Parent)) {
      const Stmt *const *It = llvm::find(CS->body(), Cur);
      if (It == CS->body_end())
        return false;
      while (It != CS->body_begin()) {
        const Stmt *Prev = *--It;
        if (!writesVar(Prev, V))
          continue;
        const Expr *Value = assignedValue(Prev, V);
        return Value && freshValue(Value, 0);
      }
    }
    Cur = Parent;
  }
  return false;
}

bool distinctOrigins(const Place &A, const Place &B, const FunctionDecl *Owner) {
  if (!Owner || !Owner->getBody())
    return false;
  std::optional<Origins> OA = originsOf(A, Owner), OB = originsOf(B, Owner);
  if (!OA || !OB)
    return false;
  for (const VarDecl *V : OA->Vars)
    if (OB->Vars.contains(V))
      return false;
  // Two allocations of the same function may be one (a loop): only an
  // allocation against variables counts.
  if (OA->Vars.empty() && OB->Vars.empty())
    return false;
  return true;
}

} // namespace clang::tidy::tsmap
