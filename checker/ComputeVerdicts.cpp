//===--- ComputeVerdicts.cpp - what a compute callback decides -----------===//

#include "ComputeVerdicts.h"
#include "ObjectOrigins.h"
#include "clang/AST/ASTContext.h"
#include "clang/AST/Expr.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/AST/Stmt.h"
#include "clang/Analysis/CFG.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SmallVector.h"

namespace clang::tidy::tsmap {

namespace {

/// Does \p E name parameter \p P (casts and parentheses aside)?
bool names(const Expr *E, const ParmVarDecl *P) {
  const auto *DRE = dyn_cast<DeclRefExpr>(E->IgnoreParenCasts());
  return DRE && DRE->getDecl() == P;
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

/// `return TSMAP_KEEP;`
bool returnsKeep(const ReturnStmt *R) {
  const Expr *V = R->getRetValue();
  const auto *DRE = V ? dyn_cast<DeclRefExpr>(V->IgnoreParenImpCasts()) : nullptr;
  const auto *EC = DRE ? dyn_cast<EnumConstantDecl>(DRE->getDecl()) : nullptr;
  return EC && EC->getIdentifier() && EC->getName() == "TSMAP_KEEP";
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
  while (!Work.empty()) {
    const CFGBlock *B = Work.pop_back_val();
    for (const CFGElement &E : *B)
      if (auto S = E.getAs<CFGStmt>())
        if (const auto *R = dyn_cast<ReturnStmt>(S->getStmt()); R && !returnsKeep(R))
          return false;
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
  return true;
}

} // namespace clang::tidy::tsmap
