//===--- ComputeVerdicts.cpp - what a compute callback decides -----------===//

#include "ComputeVerdicts.h"
#include "ObjectOrigins.h"
#include "clang/AST/ASTContext.h"
#include "clang/AST/Expr.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/AST/Stmt.h"
#include "clang/Analysis/CFG.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/SmallVector.h"

namespace clang::tidy::tsmap {

namespace {

/// Does \p E name variable \p V (casts and parentheses aside)?
bool names(const Expr *E, const VarDecl *V) {
  const auto *DRE = dyn_cast<DeclRefExpr>(E->IgnoreParenCasts());
  return DRE && DRE->getDecl() == V;
}

/// Under a non-null \p Old, which successor of a branch on \p Cond is taken:
/// 0 (true), 1 (false), or none known (-1).
int successorWhenPresent(const Expr *Cond, const ParmVarDecl *Old, ASTContext &Ctx) {
  if (!Cond)
    return -1;
  Cond = Cond->IgnoreParenImpCasts();
  if (names(Cond, Old))
    return 0; // `if (old)`
  if (const auto *UO = dyn_cast<UnaryOperator>(Cond);
      UO && UO->getOpcode() == UO_LNot && names(UO->getSubExpr(), Old))
    return 1; // `if (!old)`
  if (const auto *BO = dyn_cast<BinaryOperator>(Cond);
      BO && (BO->getOpcode() == BO_EQ || BO->getOpcode() == BO_NE)) {
    auto IsNull = [&](const Expr *E) {
      return E->isNullPointerConstant(Ctx, Expr::NPC_ValueDependentIsNotNull) !=
             Expr::NPCK_NotNull;
    };
    bool OldVsNull = (names(BO->getLHS(), Old) && IsNull(BO->getRHS())) ||
                     (names(BO->getRHS(), Old) && IsNull(BO->getLHS()));
    if (OldVsNull)
      return BO->getOpcode() == BO_NE ? 0 : 1;
  }
  return -1;
}

/// \p E is `TSMAP_KEEP`.
bool isKeep(const Expr *E) {
  const auto *DRE = E ? dyn_cast<DeclRefExpr>(E->IgnoreParenImpCasts()) : nullptr;
  const auto *EC = DRE ? dyn_cast<EnumConstantDecl>(DRE->getDecl()) : nullptr;
  return EC && EC->getIdentifier() && EC->getName() == "TSMAP_KEEP";
}

/// The local variable (not a parameter, not static) that \p R returns.
const VarDecl *returnedLocal(const ReturnStmt *R) {
  const auto *DRE = R->getRetValue()
                        ? dyn_cast<DeclRefExpr>(R->getRetValue()->IgnoreParenImpCasts())
                        : nullptr;
  const auto *V = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
  return V && V->hasLocalStorage() && !isa<ParmVarDecl>(V) ? V : nullptr;
}

/// \p S gives local \p V no value but TSMAP_KEEP: it leaves \p V alone, or it
/// is `v = TSMAP_KEEP`, or it declares \p V with that initializer or none.
bool keepsLocal(const Stmt *S, const VarDecl *V) {
  if (const auto *DS = dyn_cast<DeclStmt>(S);
      DS && llvm::is_contained(DS->decls(), V))
    return !V->getInit() || isKeep(V->getInit());
  if (const auto *BO = dyn_cast<BinaryOperator>(S);
      BO && BO->getOpcode() == BO_Assign && names(BO->getLHS(), V))
    return isKeep(BO->getRHS());
  return !assignsVar(S, V);
}

} // namespace

bool keepsEveryPresentValue(const FunctionDecl *Fn) {
  if (!Fn || !Fn->hasBody() || Fn->getNumParams() < 3)
    return false;
  const ParmVarDecl *Old = Fn->getParamDecl(2);
  if (!Old->getType()->isPointerType() || assignsVar(Fn->getBody(), Old))
    return false;
  ASTContext &Ctx = Fn->getASTContext();
  std::unique_ptr<CFG> G =
      CFG::buildCFG(Fn, Fn->getBody(), &Ctx, CFG::BuildOptions());
  if (!G)
    return false;
  llvm::SmallVector<const CFGBlock *, 16> Work{&G->getEntry()};
  llvm::DenseSet<const CFGBlock *> Seen{&G->getEntry()};
  // What runs with an old value, and the locals it returns a verdict in.
  llvm::SmallVector<const Stmt *, 32> Reached;
  llvm::SmallPtrSet<const VarDecl *, 2> Returned;
  while (!Work.empty()) {
    const CFGBlock *B = Work.pop_back_val();
    for (const CFGElement &E : *B) {
      auto S = E.getAs<CFGStmt>();
      if (!S)
        continue;
      Reached.push_back(S->getStmt());
      if (const auto *R = dyn_cast<ReturnStmt>(S->getStmt());
          R && !isKeep(R->getRetValue())) {
        const VarDecl *V = returnedLocal(R);
        if (!V)
          return false;
        Returned.insert(V);
      }
    }
    int Only = B->succ_size() == 2
                   ? successorWhenPresent(B->getLastCondition(), Old, Ctx)
                   : -1;
    unsigned Index = 0;
    for (const CFGBlock *Succ : B->succs()) {
      if (Succ && (Only < 0 || unsigned(Only) == Index) && Seen.insert(Succ).second)
        Work.push_back(Succ);
      ++Index;
    }
  }
  // `v = TSMAP_KEEP; if (!old) { ...; v = TSMAP_STORE; } return v;`: with an
  // old value, every value the returned local gets is TSMAP_KEEP.
  return llvm::all_of(Returned, [&](const VarDecl *V) {
    return llvm::all_of(Reached, [&](const Stmt *S) { return keepsLocal(S, V); });
  });
}

} // namespace clang::tidy::tsmap
