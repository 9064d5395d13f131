//===--- CallOutcome.cpp - did the call happen, read off a branch ---------===//

#include "CallOutcome.h"
#include "clang/Basic/Builtins.h"
#include "CheckOptions.h"
#include "Publication.h"
#include "clang/AST/ASTContext.h"
#include "clang/Lex/Lexer.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

namespace clang::tidy::tsmap {

// ===------------------------------------------------------------------=== //
// The option
// ===------------------------------------------------------------------=== //

StatusConvention readStatusConvention(ClangTidyCheck &Check,
                                      llvm::StringRef Value) {
  if (Value == "zero-is-success")
    return StatusConvention::ZeroIsSuccess;
  if (Value == "nonzero-is-success")
    return StatusConvention::NonzeroIsSuccess;
  if (Value != "unknown")
    Check.configurationDiag(
        "invalid value '%0' for option '%1'; expected "
        "'zero-is-success', 'nonzero-is-success' or 'unknown'")
        << Value << fullOptionName(Check, "StatusConvention");
  return StatusConvention::Unknown;
}

llvm::StringRef statusConventionName(StatusConvention C) {
  switch (C) {
  case StatusConvention::ZeroIsSuccess:
    return "zero-is-success";
  case StatusConvention::NonzeroIsSuccess:
    return "nonzero-is-success";
  case StatusConvention::Unknown:
    break;
  }
  return "unknown";
}

llvm::SmallVector<StatusReading, 2> readingsOf(StatusConvention C) {
  switch (C) {
  case StatusConvention::ZeroIsSuccess:
    return {StatusReading::ZeroIsSuccess};
  case StatusConvention::NonzeroIsSuccess:
    return {StatusReading::NonzeroIsSuccess};
  case StatusConvention::Unknown:
    break;
  }
  return {StatusReading::ZeroIsSuccess, StatusReading::NonzeroIsSuccess};
}

// ===------------------------------------------------------------------=== //
// Helpers
// ===------------------------------------------------------------------=== //

static Verdict negate(Verdict V) {
  return V == Verdict::Happened      ? Verdict::NotHappened
         : V == Verdict::NotHappened ? Verdict::Happened
                                     : V;
}

static const Expr *strip(const Expr *E) {
  return E ? E->IgnoreParenCasts() : nullptr;
}

static bool isBoolLikeType(QualType T) {
  if (T->isBooleanType() || T->isPointerType())
    return true;
  for (QualType Cur = T; const auto *TT = Cur->getAs<TypedefType>();
       Cur = TT->getDecl()->getUnderlyingType())
    if (TT->getDecl()->getName().contains_insensitive("bool"))
      return true;
  return false;
}

static bool hasToken(llvm::StringRef Upper, llvm::StringRef Token) {
  size_t Pos = Upper.find(Token);
  while (Pos != llvm::StringRef::npos) {
    bool StartOk = Pos == 0 || !llvm::isAlnum(Upper[Pos - 1]);
    size_t End = Pos + Token.size();
    bool EndOk = End == Upper.size() || !llvm::isAlnum(Upper[End]);
    if (StartOk && EndOk)
      return true;
    Pos = Upper.find(Token, Pos + 1);
  }
  return false;
}

static bool hasAnyToken(llvm::StringRef Upper,
                        std::initializer_list<llvm::StringRef> Tokens) {
  return llvm::any_of(Tokens, [&](llvm::StringRef T) { return hasToken(Upper, T); });
}

/// The integers a visible callee returns, when every return is a constant
/// (through `?:` arms); else nothing.
static bool collectReturns(const Stmt *S, ASTContext &Ctx,
                           llvm::SmallVectorImpl<llvm::APSInt> &Out) {
  if (!S)
    return true;
  if (const auto *Ret = dyn_cast<ReturnStmt>(S)) {
    llvm::SmallVector<const Expr *, 2> Values{Ret->getRetValue()};
    while (!Values.empty()) {
      const Expr *V = strip(Values.pop_back_val());
      if (!V)
        return false;
      if (const auto *CO = dyn_cast<ConditionalOperator>(V)) {
        Values.push_back(CO->getTrueExpr());
        Values.push_back(CO->getFalseExpr());
        continue;
      }
      Expr::EvalResult R;
      if (V->isValueDependent() || !V->EvaluateAsInt(R, Ctx))
        return false;
      Out.push_back(R.Val.getInt());
    }
    return true;
  }
  for (const Stmt *C : S->children())
    if (!collectReturns(C, Ctx, Out))
      return false;
  return true;
}

/// A callee whose body returns only 0 and negative constants reports
/// success with 0.
static std::optional<StatusReading> readingOfCallee(const CallExpr *Call,
                                                    ASTContext &Ctx) {
  const FunctionDecl *FD = Call->getDirectCallee();
  const FunctionDecl *Def = FD ? FD->getDefinition() : nullptr;
  if (!Def || !Def->hasBody() || !Def->getReturnType()->isIntegerType())
    return std::nullopt;
  llvm::SmallVector<llvm::APSInt, 4> Values;
  if (!collectReturns(Def->getBody(), Ctx, Values) || Values.empty())
    return std::nullopt;
  bool Zero = false, Negative = false;
  for (const llvm::APSInt &V : Values) {
    if (V.isZero())
      Zero = true;
    else if (V.isNegative())
      Negative = true;
    else
      return std::nullopt;
  }
  if (Zero && Negative)
    return StatusReading::ZeroIsSuccess;
  return std::nullopt;
}

/// The success statuses of a libtsmap call, as runtime/include/tsmap/tsmap.h
/// lists them per call (a `*_ttl` form has the statuses of the call without
/// the suffix): those with which a put stores its value (\p Event Published),
/// a removal hands one back (Removed), a put hands back the value it
/// overwrote (Replaced); empty for any other call.
static llvm::ArrayRef<llvm::StringRef> libtsmapStatuses(const CallExpr *Call,
                                                        CallEvent Event) {
  static const llvm::StringRef OkOrReplaced[] = {"TSMAP_OK", "TSMAP_REPLACED"};
  static const llvm::StringRef Ok[] = {"TSMAP_OK"};
  static const llvm::StringRef Replaced[] = {"TSMAP_REPLACED"};
  const FunctionDecl *FD = Call->getDirectCallee();
  const auto *ET = FD ? FD->getReturnType()->getAs<EnumType>() : nullptr;
  if (!ET || ET->getDecl()->getName() != "tsmap_status" || !FD->getIdentifier())
    return {};
  llvm::StringRef Name = FD->getName();
  Name.consume_back("_ttl");
  bool Put = Name == "tsmap_put" || Name == "tsmap_put_ptr" ||
             Name == "tsmap_put_if_version" || Name == "tsmap_merge" ||
             Name == "tsmap_merge_stored";
  switch (Event) {
  case CallEvent::Published:
    if (Put)
      return OkOrReplaced;
    if (Name == "tsmap_put_if_absent" || Name == "tsmap_put_ptr_if_absent")
      return Ok;
    return {};
  case CallEvent::Replaced:
    return Put ? llvm::ArrayRef<llvm::StringRef>(Replaced)
               : llvm::ArrayRef<llvm::StringRef>();
  case CallEvent::Removed:
    if (Name == "tsmap_remove" || Name == "tsmap_remove_if_version")
      return Ok;
    return {};
  case CallEvent::Found:
    break;
  }
  return {};
}

// ===------------------------------------------------------------------=== //
// CallOutcome
// ===------------------------------------------------------------------=== //

CallOutcome::CallOutcome(ASTContext &Ctx, const CallExpr *Call, CallEvent Event)
    : Ctx(Ctx), Call(Call), Event(Event),
      ResultType(Call->getCallReturnType(Ctx)),
      BoolLike(isBoolLikeType(ResultType)),
      Inferred(readingOfCallee(Call, Ctx)) {
  llvm::ArrayRef<llvm::StringRef> Listed = libtsmapStatuses(Call, Event);
  SuccessStatuses.assign(Listed.begin(), Listed.end());
}

/// The lvalue the top node of \p S may change (`v = ...`, `v += ...`, `++v`,
/// `&v` handed on), if any.
static const Expr *writtenBy(const Stmt *S) {
  if (const auto *BO = dyn_cast<BinaryOperator>(S); BO && BO->isAssignmentOp())
    return BO->getLHS();
  if (const auto *UO = dyn_cast<UnaryOperator>(S);
      UO && (UO->isIncrementDecrementOp() || UO->getOpcode() == UO_AddrOf))
    return UO->getSubExpr();
  return nullptr;
}

/// `c ? true : false` is `c`, `c ? 0 : 1` is `!c`: the condition, and
/// whether it is negated; null for any other conditional.
static const Expr *asTest(const ConditionalOperator *CO, const ASTContext &Ctx,
                          bool &Negated) {
  Expr::EvalResult T, F;
  if (!CO->getTrueExpr()->EvaluateAsInt(T, Ctx) ||
      !CO->getFalseExpr()->EvaluateAsInt(F, Ctx))
    return nullptr;
  bool TrueSide = T.Val.getInt().getBoolValue(), FalseSide = F.Val.getInt().getBoolValue();
  if (TrueSide == FalseSide)
    return nullptr;
  Negated = !TrueSide;
  return CO->getCond();
}

/// Whether \p E is a test of the call's result (the call itself, or a local
/// that holds it) built from comparisons of it (`st == TSMAP_OK`), `!`,
/// `c ? true : false` and `&&`/`||` of such.
bool CallOutcome::testsResult(const Expr *E) const {
  E = E->IgnoreParenImpCasts();
  if (const auto *UO = dyn_cast<UnaryOperator>(E); UO && UO->getOpcode() == UO_LNot)
    return testsResult(UO->getSubExpr());
  bool Negated = false;
  if (const auto *CO = dyn_cast<ConditionalOperator>(E))
    if (const Expr *C = asTest(CO, Ctx, Negated))
      return testsResult(C);
  const auto *BO = dyn_cast<BinaryOperator>(E);
  if (!BO)
    return false;
  if (BO->isLogicalOp())
    return testsResult(BO->getLHS()) && testsResult(BO->getRHS());
  return BO->isComparisonOp() && (isResult(BO->getLHS()) || isResult(BO->getRHS()));
}

std::optional<CallOutcome::Place> CallOutcome::placeOf(const Expr *E) {
  llvm::SmallVector<const FieldDecl *, 2> Fields;
  E = E->IgnoreParenImpCasts();
  while (const auto *ME = dyn_cast<MemberExpr>(E)) {
    const auto *FD = dyn_cast<FieldDecl>(ME->getMemberDecl());
    if (!FD || Fields.size() >= 4)
      return std::nullopt;
    Fields.insert(Fields.begin(), FD);
    E = ME->getBase()->IgnoreParenImpCasts();
  }
  // `sts[i]`: an element of a local array at a local index.
  const VarDecl *Index = nullptr;
  if (const auto *AS = dyn_cast<ArraySubscriptExpr>(E)) {
    const auto *I = dyn_cast<DeclRefExpr>(AS->getIdx()->IgnoreParenImpCasts());
    Index = I ? dyn_cast<VarDecl>(I->getDecl()) : nullptr;
    if (!Index || !Index->hasLocalStorage() ||
        !AS->getBase()->IgnoreParenImpCasts()->getType()->isArrayType())
      return std::nullopt;
    E = AS->getBase()->IgnoreParenImpCasts();
  }
  const auto *DRE = dyn_cast<DeclRefExpr>(E);
  const auto *V = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
  if (!V || !V->hasLocalStorage())
    return std::nullopt;
  return Place{V, std::move(Fields), Index};
}

/// Whether place \p Prefix is \p P or contains it (`r` and `r.st`).
static bool covers(const CallOutcome::Place &Prefix, const CallOutcome::Place &P) {
  return Prefix.Var == P.Var && Prefix.Index == P.Index &&
         Prefix.Fields.size() <= P.Fields.size() &&
         std::equal(Prefix.Fields.begin(), Prefix.Fields.end(), P.Fields.begin());
}

/// What statement \p S (its top node) gives place \p P: the value (`P = v`,
/// a declaration's initializer), null for another change (`P += 1`, `&P`
/// handed on, a whole struct that holds it assigned or redeclared); nothing
/// when \p S leaves it alone.
static std::optional<const Expr *> definitionOf(const Stmt *S,
                                                const CallOutcome::Place &P) {
  if (P.Index && definitionOf(S, P.Index)) // Another element now.
    return static_cast<const Expr *>(nullptr);
  if (P.Fields.empty() && !P.Index)
    return definitionOf(S, P.Var);
  if (isa<DeclStmt>(S))
    return definitionOf(S, P.Var) ? std::optional<const Expr *>(nullptr)
                                  : std::nullopt;
  const Expr *Target = writtenBy(S);
  std::optional<CallOutcome::Place> Written =
      Target ? CallOutcome::placeOf(Target) : std::nullopt;
  if (!Written || !covers(*Written, P))
    return std::nullopt;
  const auto *BO = dyn_cast<BinaryOperator>(S);
  if (BO && BO->getOpcode() == BO_Assign && Written->Fields == P.Fields)
    return BO->getRHS();
  return static_cast<const Expr *>(nullptr);
}

/// Calls \p Visit on every definition (`P = v`, an initializer) in \p S.
static void forEachDefinition(
    const Stmt *S,
    llvm::function_ref<void(const CallOutcome::Place &, const Expr *)> Visit) {
  if (!S)
    return;
  if (const auto *DS = dyn_cast<DeclStmt>(S)) {
    for (const Decl *D : DS->decls())
      if (const auto *V = dyn_cast<VarDecl>(D); V && V->getInit() && V->hasLocalStorage())
        Visit({V, {}}, V->getInit());
  } else if (const auto *BO = dyn_cast<BinaryOperator>(S);
             BO && BO->getOpcode() == BO_Assign) {
    if (std::optional<CallOutcome::Place> P = CallOutcome::placeOf(BO->getLHS()))
      Visit(*P, BO->getRHS());
  }
  for (const Stmt *C : S->children())
    forEachDefinition(C, Visit);
}

void CallOutcome::addResultPlace(const Place &P, bool Copy) {
  if (isResultPlace(P) || Holders.size() >= 16)
    return;
  if (Copy)
    Copies |= 1u << Holders.size();
  Holders.push_back(P);
  ++ResultPlaces;
}

bool CallOutcome::isResultPlace(const Place &P) const {
  return llvm::is_contained(llvm::ArrayRef(Holders).take_front(ResultPlaces), P);
}

void CallOutcome::findResultVars(const Stmt *Body) {
  // The places given the result, then those given a copy of it (`int rc =
  // st;`, `r.st = st;`), then the test locals.
  forEachDefinition(Body, [&](const Place &P, const Expr *Value) {
    if (strip(Value) == Call)
      addResultPlace(P, false);
  });
  for (bool Changed = true; Changed;) {
    unsigned Before = ResultPlaces;
    forEachDefinition(Body, [&](const Place &P, const Expr *Value) {
      std::optional<Place> From = placeOf(Value);
      if (From && isResultPlace(*From))
        addResultPlace(P, true);
    });
    Changed = ResultPlaces != Before;
  }
  // The test locals, declared with a test (they hold it from their
  // declaration on), or given one later (from there on, as copies).
  llvm::SmallPtrSet<const VarDecl *, 2> Several;
  forEachDefinition(Body, [&](const Place &P, const Expr *Value) {
    if (!P.Fields.empty() || !P.Var || strip(Value) == Call || !testsResult(Value))
      return;
    auto [It, New] = TestVars.try_emplace(P.Var, Value);
    if (!New && It->second != Value)
      Several.insert(P.Var); // Two tests: neither is read.
  });
  for (const VarDecl *V : Several)
    TestVars.erase(V);
  for (const auto &[V, Test] : TestVars) {
    if (Holders.size() >= 16 || llvm::is_contained(Holders, Place{V, {}}))
      continue;
    if (V->getInit() != Test)
      Copies |= 1u << Holders.size();
    Holders.push_back({V, {}});
  }
  findFlags(Body);
}

/// The integer constant \p E is, if it is one.
static std::optional<llvm::APSInt> constantOf(const Expr *E, const ASTContext &Ctx) {
  Expr::EvalResult R;
  if (!E || E->isValueDependent() || !E->EvaluateAsInt(R, Ctx))
    return std::nullopt;
  return R.Val.getInt();
}

void CallOutcome::findFlags(const Stmt *Body) {
  // Every local written: a flag when each write gives it a constant.
  llvm::SmallVector<const VarDecl *, 8> Written;
  llvm::SmallPtrSet<const VarDecl *, 8> NotFlags;
  std::function<void(const Stmt *)> Visit = [&](const Stmt *S) {
    if (!S)
      return;
    if (const auto *DS = dyn_cast<DeclStmt>(S))
      for (const Decl *D : DS->decls())
        if (const auto *V = dyn_cast<VarDecl>(D); V && V->hasLocalStorage()) {
          Written.push_back(V);
          if (!V->getType()->isIntegerType() || isa<ParmVarDecl>(V) ||
              (V->getInit() && !constantOf(V->getInit(), Ctx)))
            NotFlags.insert(V);
        }
    if (const Expr *Target = writtenBy(S))
      if (const auto *DRE = dyn_cast<DeclRefExpr>(Target->IgnoreParenImpCasts()))
        if (const auto *V = dyn_cast<VarDecl>(DRE->getDecl())) {
          const auto *BO = dyn_cast<BinaryOperator>(S);
          if (!BO || BO->getOpcode() != BO_Assign || !constantOf(BO->getRHS(), Ctx))
            NotFlags.insert(V);
        }
    for (const Stmt *C : S->children())
      Visit(C);
  };
  Visit(Body);
  // Only the locals a branch tests (`if (removed)`, `rc == 0`) are worth a
  // path's state.
  llvm::SmallPtrSet<const VarDecl *, 8> Tested;
  auto Note = [&](const Expr *Cond) {
    Cond = Cond ? Cond->IgnoreParenImpCasts() : nullptr;
    for (const auto *UO = dyn_cast_or_null<UnaryOperator>(Cond);
         UO && UO->getOpcode() == UO_LNot; UO = dyn_cast<UnaryOperator>(Cond))
      Cond = UO->getSubExpr()->IgnoreParenImpCasts();
    const auto *BO = dyn_cast_or_null<BinaryOperator>(Cond);
    for (const Expr *E : BO && BO->isEqualityOp()
                             ? llvm::SmallVector<const Expr *, 2>{BO->getLHS(), BO->getRHS()}
                             : llvm::SmallVector<const Expr *, 2>{Cond})
      if (const auto *DRE = dyn_cast_or_null<DeclRefExpr>(E ? E->IgnoreParenImpCasts() : nullptr))
        if (const auto *V = dyn_cast<VarDecl>(DRE->getDecl()))
          Tested.insert(V);
  };
  std::function<void(const Stmt *)> Conditions = [&](const Stmt *S) {
    if (!S)
      return;
    if (const auto *If = dyn_cast<IfStmt>(S))
      Note(If->getCond());
    else if (const auto *W = dyn_cast<WhileStmt>(S))
      Note(W->getCond());
    else if (const auto *F = dyn_cast<ForStmt>(S))
      Note(F->getCond());
    else if (const auto *D = dyn_cast<DoStmt>(S))
      Note(D->getCond());
    else if (const auto *CO = dyn_cast<ConditionalOperator>(S))
      Note(CO->getCond());
    else if (const auto *BO = dyn_cast<BinaryOperator>(S); BO && BO->isLogicalOp())
      Note(BO->getLHS()), Note(BO->getRHS());
    for (const Stmt *C : S->children())
      Conditions(C);
  };
  Conditions(Body);
  for (const VarDecl *V : Written)
    if (!NotFlags.contains(V) && Tested.contains(V) && Flags.size() < 16 &&
        !TestVars.count(V) && !isResultPlace({V, {}}) && !llvm::is_contained(Flags, V))
      Flags.push_back(V);
}

CallOutcome::PathFacts CallOutcome::atCall() const {
  PathFacts Facts;
  const SourceManager &SM = Ctx.getSourceManager();
  auto Before = [&](SourceLocation A, SourceLocation B) {
    return SM.isBeforeInTranslationUnit(SM.getExpansionLoc(A), SM.getExpansionLoc(B));
  };
  // The loops around the call: a definition inside one may come around.
  llvm::SmallVector<const Stmt *, 4> Loops;
  for (DynTypedNodeList P = Ctx.getParents(*Call); P.size() == 1;
       P = Ctx.getParents(P[0]))
    if (const auto *S = P[0].get<Stmt>(); S && isa<ForStmt, WhileStmt, DoStmt>(S))
      Loops.push_back(S);
  for (unsigned I = 0; I < Flags.size(); ++I) {
    const VarDecl *V = Flags[I];
    std::optional<llvm::APSInt> Init = V->getInit() ? constantOf(V->getInit(), Ctx) : std::nullopt;
    const auto *Fn = dyn_cast_or_null<FunctionDecl>(V->getParentFunctionOrMethod());
    if (!Init || !Fn || !Before(V->getLocation(), Call->getBeginLoc()))
      continue;
    bool Later = true; // Every other definition after the call, in no loop of it.
    forEachDefinition(Fn->getBody(), [&](const Place &P, const Expr *Value) {
      if (P.Var != V || !P.Fields.empty() || P.Index || Value == V->getInit())
        return;
      Later &= Before(Call->getEndLoc(), Value->getBeginLoc()) &&
               llvm::none_of(Loops, [&](const Stmt *L) {
                 return !Before(Value->getBeginLoc(), L->getBeginLoc()) &&
                        Before(Value->getEndLoc(), L->getEndLoc());
               });
    });
    if (!Later)
      continue;
    Facts.FlagSet |= uint16_t(1u << I);
    if (!Init->isZero())
      Facts.FlagTrue |= uint16_t(1u << I);
  }
  return Facts;
}

std::optional<unsigned> CallOutcome::flagIndex(const Expr *E) const {
  const auto *DRE = dyn_cast<DeclRefExpr>(E->IgnoreParenImpCasts());
  const auto *It = DRE ? llvm::find(Flags, DRE->getDecl()) : Flags.end();
  if (It == Flags.end())
    return std::nullopt;
  return unsigned(It - Flags.begin());
}

std::optional<bool> CallOutcome::flagTruth(const Expr *Cond,
                                           const PathFacts &Facts) const {
  const Expr *E = Cond->IgnoreParenImpCasts();
  if (const auto *UO = dyn_cast<UnaryOperator>(E); UO && UO->getOpcode() == UO_LNot) {
    std::optional<bool> T = flagTruth(UO->getSubExpr(), Facts);
    return T ? std::optional<bool>(!*T) : std::nullopt;
  }
  auto Known = [&](unsigned I) { return (Facts.FlagSet >> I & 1) != 0; };
  if (std::optional<unsigned> I = flagIndex(E); I && Known(*I))
    return (Facts.FlagTrue >> *I & 1) != 0;
  const auto *BO = dyn_cast<BinaryOperator>(E);
  if (!BO || !BO->isEqualityOp())
    return std::nullopt;
  const Expr *K = BO->getRHS();
  std::optional<unsigned> I = flagIndex(BO->getLHS());
  if (!I && (I = flagIndex(BO->getRHS())))
    K = BO->getLHS();
  std::optional<llvm::APSInt> C = I ? constantOf(K, Ctx) : std::nullopt;
  // Only zero and non-zero are kept: `== 0`, `!= 0`, and `== 1` of a bool-like.
  if (!C || !Known(*I) || !(C->isZero() || C->isOne()))
    return std::nullopt;
  bool True = Facts.FlagTrue >> *I & 1;
  if (C->isOne() && True && !Flags[*I]->getType()->isBooleanType())
    return std::nullopt; // `rc == 1` when rc was given some non-zero value.
  bool Equal = C->isZero() ? !True : True;
  return BO->getOpcode() == BO_EQ ? Equal : !Equal;
}

bool CallOutcome::holds(const Place &P, uint32_t Stale) const {
  for (unsigned I = 0; I < Holders.size(); ++I)
    if (Holders[I] == P)
      return ((Stale ^ Copies) >> I & 1) == 0;
  return true;
}

bool CallOutcome::isResult(const Expr *E) const {
  E = strip(E);
  if (E == Call)
    return true;
  if (const auto *BO = dyn_cast<BinaryOperator>(E);
      BO && BO->getOpcode() == BO_Assign)
    return strip(BO->getRHS()) == Call || isResult(BO->getLHS());
  if (const auto *DRE = dyn_cast<DeclRefExpr>(E);
      DRE && PredicateParams.contains(dyn_cast<VarDecl>(DRE->getDecl())))
    return true;
  std::optional<Place> P = placeOf(E);
  return P && isResultPlace(*P) && holds(*P, StaleNow);
}

bool CallOutcome::readPredicate(
    const Expr *E,
    llvm::function_ref<void(const Expr *, const CompoundStmt *)> Read) const {
  const auto *CE = dyn_cast<CallExpr>(E);
  const FunctionDecl *Callee = CE && CE != Call ? CE->getDirectCallee() : nullptr;
  const FunctionDecl *Def = Callee ? Callee->getDefinition() : nullptr;
  const auto *Body = Def ? dyn_cast_or_null<CompoundStmt>(Def->getBody()) : nullptr;
  const Stmt *First = Body && !Body->body_empty() ? Body->body_front() : nullptr;
  const auto *Ret = Body && Body->size() == 1 ? dyn_cast_or_null<ReturnStmt>(First)
                                              : nullptr;
  const auto *Switch = Body && Body->size() <= 2 ? dyn_cast_or_null<SwitchStmt>(First)
                                                 : nullptr;
  if (!((Ret && Ret->getRetValue()) || Switch) || PredicateParams.size() >= 2 ||
      CE->getNumArgs() != Def->getNumParams())
    return false;
  const ParmVarDecl *Param = nullptr;
  for (unsigned I = 0; I < CE->getNumArgs(); ++I)
    if (isResult(CE->getArg(I)))
      Param = Def->getParamDecl(I);
  if (!Param || PredicateParams.contains(Param))
    return false;
  PredicateParams.insert(Param);
  Read(Ret ? Ret->getRetValue() : nullptr, Body);
  PredicateParams.erase(Param);
  return true;
}

std::optional<Verdict> CallOutcome::whenPredicateTrue(const Expr *E) const {
  std::optional<Verdict> V;
  if (!readPredicate(E, [&](const Expr *Ret, const CompoundStmt *Body) {
        V = Ret ? whenTrue(Ret) : whenSwitchReturnsTrue(Body);
      }))
    return std::nullopt;
  return V;
}

/// Whether \p E hands the result to a call that is not the call itself
/// (`report (st, "remove")`): what it makes of it is not read here.
bool CallOutcome::passesResultOn(const Expr *E) const {
  if (!E || ResultType->isPointerType()) // A value handed back, not a status.
    return false;
  if (const auto *CE = dyn_cast<CallExpr>(E); CE && CE != Call &&
      llvm::any_of(CE->arguments(), [&](const Expr *A) { return isResult(A); }))
    return true;
  return llvm::any_of(E->children(), [&](const Stmt *C) {
    return passesResultOn(dyn_cast_or_null<Expr>(C));
  });
}

/// The truth of the constant \p S returns (`return true;`, `return 0;`);
/// none for any other statement.
static std::optional<bool> returnedTruth(const Stmt *S, const ASTContext &Ctx) {
  const auto *Ret = dyn_cast_or_null<ReturnStmt>(S);
  Expr::EvalResult R;
  if (!Ret || !Ret->getRetValue() || Ret->getRetValue()->isValueDependent() ||
      !Ret->getRetValue()->EvaluateAsInt(R, Ctx))
    return std::nullopt;
  return !R.Val.getInt().isZero();
}

std::optional<Verdict>
CallOutcome::whenSwitchReturnsTrue(const CompoundStmt *Body) const {
  const auto *Switch = cast<SwitchStmt>(Body->body_front());
  const auto *Cases = dyn_cast_or_null<CompoundStmt>(Switch->getBody());
  if (!Cases || Switch->getInit() || Switch->getConditionVariable() ||
      !isResult(Switch->getCond()))
    return std::nullopt;
  // The labels of the cases returning false, and true; what the rest returns
  // (`default:`, else the statement after the switch).
  llvm::SmallVector<const Expr *, 4> Labels[2];
  std::optional<bool> Rest, After;
  if (Body->size() == 2 && !(After = returnedTruth(Body->body_back(), Ctx)))
    return std::nullopt;
  for (const Stmt *S : Cases->body()) {
    llvm::SmallVector<const Expr *, 2> Named;
    bool Default = false;
    while (const auto *SC = dyn_cast<SwitchCase>(S)) { // `case A: case B:`
      if (const auto *C = dyn_cast<CaseStmt>(SC)) {
        if (C->getRHS())
          return std::nullopt; // `case A ... B:`
        Named.push_back(C->getLHS());
      } else {
        Default = true;
      }
      S = SC->getSubStmt();
    }
    std::optional<bool> Truth = returnedTruth(S, Ctx);
    if (!Truth || (Named.empty() && !Default))
      return std::nullopt; // A statement between the cases.
    if (Default)
      Rest = Truth;
    Labels[*Truth].append(Named.begin(), Named.end());
  }
  if (!Rest)
    Rest = After;
  if (!Rest)
    return std::nullopt; // Falls off its end.
  // True for the cases returning true, as `s == A || s == B`; or, when the
  // rest returns true, for none of the cases returning false, as
  // `s != C && s != D`. Read alike when every case reads alike.
  if (Labels[!*Rest].empty())
    return Verdict::Unknown;
  std::optional<Verdict> All;
  for (const Expr *L : Labels[!*Rest]) {
    Verdict V = *Rest ? negate(whenEquals(L)) : whenEquals(L);
    if (All && *All != V)
      return Verdict::Unknown;
    All = V;
  }
  return *All;
}

bool CallOutcome::isValue(const Expr *E) const {
  E = strip(E);
  if (const auto *BO = dyn_cast<BinaryOperator>(E);
      BO && BO->getOpcode() == BO_Assign)
    E = strip(BO->getLHS());
  return IsValueHolder && E->getType()->isPointerType() &&
         (isa<DeclRefExpr>(E) || isa<MemberExpr>(E) ||
          isa<ArraySubscriptExpr>(E)) &&
         IsValueHolder(E);
}

bool CallOutcome::zeroIsSuccess() const {
  if (Inferred)
    return *Inferred == StatusReading::ZeroIsSuccess;
  ReadingUsed = true;
  return Reading == StatusReading::ZeroIsSuccess;
}

Verdict CallOutcome::success(bool Succeeded) const {
  if (!Succeeded)
    return Verdict::NotHappened;
  // A replacing put that succeeded may have inserted instead.
  return Event == CallEvent::Replaced ? Verdict::Unknown : Verdict::Happened;
}

/// What a status named \p Name says: NOT_FOUND, ERR, CLOSED... that the event
/// did not happen; OK, FOUND, REMOVED that it did (for a replacing put only
/// REPLACED does: OK means inserted).
std::optional<bool> CallOutcome::successOfName(llvm::StringRef Name) const {
  std::string U = Name.upper();
  for (llvm::StringRef T :
       {"NOT_FOUND", "NOTFOUND", "NOENT", "ERR", "ERROR", "FAIL", "FAILED",
        "FAILURE", "CLOSED", "INVALID", "INVALID_ARGUMENT", "NOMEM",
        "NO_MEMORY", "MISSING", "ABSENT", "EMPTY", "BUSY", "AGAIN", "REENTERED",
        "EXISTS", "DUPLICATE", "DUP", "TIMEOUT", "DENIED", "NONE", "FALSE",
        "FULL", "LIMIT", "NOSPC", "OVERFLOW", "REJECTED", "CONFLICT"})
    if (U.find(T.str()) != std::string::npos && (T.size() > 4 || hasToken(U, T)))
      return false;
  switch (Event) {
  case CallEvent::Replaced:
    if (hasAnyToken(U, {"REPLACED", "REMOVED", "OVERWRITTEN"}))
      return true;
    if (hasAnyToken(U, {"OK", "SUCCESS", "INSERTED", "CREATED", "ADDED"}))
      return false;
    return std::nullopt;
  case CallEvent::Published:
    if (hasAnyToken(U, {"OK", "SUCCESS", "REPLACED", "INSERTED", "CREATED",
                        "ADDED", "STORED", "PUBLISHED"}))
      return true;
    return std::nullopt;
  case CallEvent::Removed:
  case CallEvent::Found:
    break;
  }
  if (hasAnyToken(U, {"OK", "SUCCESS", "FOUND", "REMOVED", "DONE", "TRUE",
                      "REPLACED", "TAKEN", "POPPED"}))
    return true;
  return std::nullopt;
}

/// The name a constant is written with: an enumerator, an object-like macro
/// that spells exactly the constant, or the enumerator of that value of the
/// callee's enum return type.
std::optional<llvm::StringRef> CallOutcome::nameOf(const Expr *C) const {
  const Expr *S = strip(C);
  if (const auto *DRE = dyn_cast<DeclRefExpr>(S))
    if (const auto *ECD = dyn_cast<EnumConstantDecl>(DRE->getDecl()))
      return ECD->getName();
  const SourceManager &SM = Ctx.getSourceManager();
  const LangOptions &LO = Ctx.getLangOpts();
  SourceLocation Begin = C->getBeginLoc(), End = C->getEndLoc();
  if (Begin.isMacroID() && End.isMacroID() &&
      Lexer::isAtStartOfMacroExpansion(Begin, SM, LO) &&
      Lexer::isAtEndOfMacroExpansion(End, SM, LO)) {
    llvm::StringRef Name = Lexer::getImmediateMacroName(Begin, SM, LO);
    if (!Name.empty() && Name.upper() == Name.str())
      return Name;
  }
  if (const auto *ET = ResultType->getAs<EnumType>()) {
    Expr::EvalResult R;
    if (!C->isValueDependent() && C->EvaluateAsInt(R, Ctx))
      for (const EnumConstantDecl *ECD : ET->getDecl()->enumerators())
        if (llvm::APSInt::isSameValue(ECD->getInitVal(), R.Val.getInt()))
          return ECD->getName();
  }
  return std::nullopt;
}

/// The verdict where the result equals constant \p C.
Verdict CallOutcome::whenEquals(const Expr *C) const {
  std::optional<llvm::StringRef> Name = nameOf(C);
  // A name that says the event happened is read as such: for a replacing
  // put only `*_REPLACED` does, and it leaves no room for an insert.
  if (Name)
    if (std::optional<bool> S = successOfName(*Name))
      return *S ? Verdict::Happened : Verdict::NotHappened;
  Expr::EvalResult R;
  if (C->isValueDependent() || !C->EvaluateAsInt(R, Ctx)) {
    if (BoolLike && C->isNullPointerConstant(Ctx, Expr::NPC_ValueDependentIsNotNull))
      return Verdict::NotHappened;
    return Verdict::Unknown;
  }
  const llvm::APSInt &V = R.Val.getInt();
  if (BoolLike)
    return V.isZero() ? Verdict::NotHappened : success(true);
  if (V.isNegative())
    return Verdict::NotHappened;
  bool Enumerated = ResultType->isEnumeralType() ||
                    (Name && isa<DeclRefExpr>(strip(C)));
  if (Enumerated) // An enumerator whose name says nothing.
    return Event == CallEvent::Published ? success(V.isZero()) : Verdict::Unknown;
  return success(V.isZero() == zeroIsSuccess());
}

/// The verdict where `result Op C` holds, for a relational \p Op.
Verdict CallOutcome::whenCompared(BinaryOperatorKind Op, const Expr *C) const {
  Expr::EvalResult R;
  if (BoolLike || C->isValueDependent() || !C->EvaluateAsInt(R, Ctx))
    return Verdict::Unknown;
  int64_t V = R.Val.getInt().getExtValue();
  // `< 0` (`<= -1`): negative statuses are failures, the rest success.
  if ((Op == BO_LT && V == 0) || (Op == BO_LE && V == -1))
    return Verdict::NotHappened;
  if ((Op == BO_GE && V == 0) || (Op == BO_GT && V == -1))
    return success(true);
  if (Op == BO_GT && V == 0) // `> 0`
    return success(!zeroIsSuccess());
  if (Op == BO_LE && V == 0) // `<= 0`: 0 or a negative failure
    return zeroIsSuccess() ? Verdict::Unknown : Verdict::NotHappened;
  return Verdict::Unknown;
}

Verdict CallOutcome::whenTrue(const Expr *Cond) const {
  const Expr *E = Cond->IgnoreParenImpCasts();
  // `likely (x)`, `unlikely (x)`: `__builtin_expect (!!(x), 1)` holds when x does.
  if (const auto *CE = dyn_cast<CallExpr>(E);
      CE && CE->getNumArgs() >= 1 &&
      (CE->getBuiltinCallee() == Builtin::BI__builtin_expect ||
       CE->getBuiltinCallee() == Builtin::BI__builtin_expect_with_probability))
    return whenTrue(CE->getArg(0));
  bool Negated = false;
  if (const auto *CO = dyn_cast<ConditionalOperator>(E)) // `st == OK ? true : false`
    if (const Expr *C = asTest(CO, Ctx, Negated))
      return Negated ? negate(whenTrue(C)) : whenTrue(C);
  if (const auto *UO = dyn_cast<UnaryOperator>(E);
      UO && UO->getOpcode() == UO_LNot)
    return negate(whenTrue(UO->getSubExpr()));
  if (const auto *DRE = dyn_cast<DeclRefExpr>(E)) // `if (!removed)`
    if (const auto *V = dyn_cast<VarDecl>(DRE->getDecl()))
      if (auto It = TestVars.find(V); It != TestVars.end() && holds({V, {}}, StaleNow))
        return whenTrue(It->second);
  if (std::optional<Verdict> V = whenPredicateTrue(E)) // `if (!ts_ok (st))`
    return *V;
  if (const auto *BO = dyn_cast<BinaryOperator>(E)) {
    if (BO->getOpcode() == BO_Comma)
      return whenTrue(BO->getRHS());
    if (BO->isLogicalOp()) { // `st == OK || st == REPLACED`, `st == OK && x`
      Verdict L = whenTrue(BO->getLHS()), R = whenTrue(BO->getRHS());
      if (L == R)
        return L;
      if (BO->getOpcode() == BO_LAnd) // Both hold: either side's knowledge.
        for (Verdict Known : {Verdict::Happened, Verdict::NotHappened})
          if ((L == Known && (R == Known || R == Verdict::Unrelated)) ||
              (R == Known && L == Verdict::Unrelated))
            return Known;
      return Verdict::Unknown;
    }
    if (BO->isComparisonOp()) {
      const Expr *L = BO->getLHS(), *R = BO->getRHS();
      BinaryOperatorKind Op = BO->getOpcode();
      if (!isResult(L) && !isValue(L)) {
        if (!isResult(R) && !isValue(R)) // `report (st) != 0`: not read.
          return passesResultOn(BO) ? Verdict::Unknown : Verdict::Unrelated;
        std::swap(L, R);
        Op = BinaryOperator::reverseComparisonOp(Op);
      }
      if (!isResult(L)) { // The value handed back: a null test.
        if (!BO->isEqualityOp() ||
            !R->isNullPointerConstant(Ctx, Expr::NPC_ValueDependentIsNotNull))
          return Verdict::Unknown;
        return Op == BO_EQ ? Verdict::NotHappened : Verdict::Happened;
      }
      if (Op == BO_EQ)
        return whenEquals(R);
      if (Op == BO_NE)
        return negate(whenEquals(R));
      return whenCompared(Op, R);
    }
    if (BO->getOpcode() != BO_Assign)
      return passesResultOn(BO) ? Verdict::Unknown : Verdict::Unrelated;
  }
  if (isValue(E) && !isResult(E))
    return Verdict::Happened; // `if (s)`: the null side has nothing.
  if (!isResult(E))
    return passesResultOn(E) ? Verdict::Unknown : Verdict::Unrelated;
  if (BoolLike)
    return success(true);
  // A truth test is `!= 0`; for an enum, `!=` its zero enumerator.
  IntegerLiteral Zero(Ctx, llvm::APInt(Ctx.getIntWidth(Ctx.IntTy), 0), Ctx.IntTy,
                      SourceLocation()); // No location: no macro name to read.
  if (const auto *ET = ResultType->getAs<EnumType>())
    for (const EnumConstantDecl *ECD : ET->getDecl()->enumerators())
      if (ECD->getInitVal().isZero())
        if (std::optional<bool> S = successOfName(ECD->getName()))
          return negate(*S ? Verdict::Happened : Verdict::NotHappened);
  return negate(whenEquals(&Zero));
}

Verdict CallOutcome::onSwitchEdge(const SwitchStmt *Switch,
                                  const CFGBlock *Succ,
                                  PathFacts &Facts) const {
  if (!Switch->getCond() || !Succ)
    return Verdict::Unrelated;
  if (!isResult(Switch->getCond())) // `switch (classify (st))`: not read.
    return passesResultOn(Switch->getCond()) ? Verdict::Unknown : Verdict::Unrelated;
  // A `case`: the success it names, none for a failure; else `default:`, or
  // no case matched: the successes no case names. Nothing left, with those
  // the path ruled out before: the event did not happen.
  const auto *Case = dyn_cast_or_null<CaseStmt>(Succ->getLabel());
  if (Case && Case->getRHS()) // `case A ... B:`
    return Verdict::Unrelated;
  uint32_t Possible = allSuccesses();
  if (Case) {
    std::optional<uint32_t> Equals = successesEqualTo(Case->getLHS());
    if (!Equals)
      return Verdict::Unrelated;
    Possible = *Equals;
  } else {
    for (const SwitchCase *SC = Switch->getSwitchCaseList(); SC;
         SC = SC->getNextSwitchCase())
      if (const auto *C = dyn_cast<CaseStmt>(SC); C && !C->getRHS())
        Possible &= ~successesEqualTo(C->getLHS()).value_or(0);
  }
  if (ruleOut(Possible, Facts))
    return Verdict::NotHappened;
  return Case ? whenEquals(Case->getLHS()) : Verdict::Unrelated;
}

std::optional<uint32_t> CallOutcome::successesEqualTo(const Expr *C) const {
  Verdict V = whenEquals(C);
  if (V == Verdict::NotHappened)
    return 0;
  llvm::SmallVector<llvm::StringRef, 4> Successes = successStatuses();
  std::optional<llvm::StringRef> Name = nameOf(C);
  if (Successes.size() > 1 || (!SuccessStatuses.empty() && Name)) {
    if (const auto *It = Name ? llvm::find(Successes, *Name) : Successes.end();
        It != Successes.end())
      return It - Successes.begin() < 16 ? 1u << (It - Successes.begin())
                                         : allSuccesses();
    if (Name && !SuccessStatuses.empty())
      return 0; // A status the API does not report the event with.
  }
  if (V == Verdict::Happened) // One success, or one the list cannot tell.
    return allSuccesses();
  return std::nullopt;
}

uint32_t CallOutcome::allSuccesses() const {
  size_t N = std::min<size_t>(successStatuses().size(), 16);
  return N <= 1 ? 1u : (1u << N) - 1;
}

std::optional<uint32_t> CallOutcome::possibleWhere(const Expr *E,
                                                   bool Truth) const {
  E = E->IgnoreParenImpCasts();
  uint32_t All = allSuccesses();
  if (const auto *UO = dyn_cast<UnaryOperator>(E); UO && UO->getOpcode() == UO_LNot)
    return possibleWhere(UO->getSubExpr(), !Truth);
  bool Negated = false;
  if (const auto *CO = dyn_cast<ConditionalOperator>(E))
    if (const Expr *C = asTest(CO, Ctx, Negated))
      return possibleWhere(C, Negated ? !Truth : Truth);
  if (const auto *DRE = dyn_cast<DeclRefExpr>(E)) // `if (!removed)`
    if (const auto *V = dyn_cast<VarDecl>(DRE->getDecl()))
      if (auto It = TestVars.find(V); It != TestVars.end() && holds({V, {}}, StaleNow))
        return possibleWhere(It->second, Truth);
  std::optional<uint32_t> Returned; // `if (!ts_ok (st))`: its `return`.
  bool Read = false;
  if (readPredicate(E, [&](const Expr *Ret, const CompoundStmt *) {
        if ((Read = Ret))
          Returned = possibleWhere(Ret, Truth);
      }) &&
      Read)
    return Returned;
  const auto *BO = dyn_cast<BinaryOperator>(E);
  if (BO && BO->isLogicalOp()) {
    std::optional<uint32_t> L = possibleWhere(BO->getLHS(), Truth),
                            R = possibleWhere(BO->getRHS(), Truth);
    if (!L || !R)
      return std::nullopt;
    // Both sides hold (`a && b` true, `a || b` false), or either does.
    return (BO->getOpcode() == BO_LAnd) == Truth ? *L & *R : *L | *R;
  }
  if (BO && BO->isEqualityOp()) {
    const Expr *C = isResult(BO->getLHS())   ? BO->getRHS()
                    : isResult(BO->getRHS()) ? BO->getLHS()
                                             : nullptr;
    if (C) {
      std::optional<uint32_t> Equals = successesEqualTo(C);
      if (!Equals)
        return std::nullopt;
      return (BO->getOpcode() == BO_EQ) == Truth ? *Equals : All & ~*Equals;
    }
  }
  Verdict V = whenTrue(E);
  switch (Truth ? V : negate(V)) {
  case Verdict::Unrelated:
  case Verdict::Happened:
    return All;
  case Verdict::NotHappened:
    return 0;
  case Verdict::Unknown:
    break;
  }
  return std::nullopt;
}

/// Edge verdict \p V on condition \p Cond (true on the edge when \p Truth),
/// read again as the success statuses the result may have there. A call with
/// several (tsmap_put_ptr publishes with TSMAP_OK and TSMAP_REPLACED) fails
/// only where the condition, the conditions it is joined with (`st !=
/// TSMAP_OK && st != TSMAP_REPLACED`), and the tests the path passed before
/// (\p Facts, to which it adds) rule out each; a condition over several
/// statuses, successes and failures (`st != TSMAP_OK && st != TSMAP_NO_MEMORY`,
/// `!(st == TSMAP_OK || st == TSMAP_NOT_FOUND)`), is read on both sides.
Verdict CallOutcome::narrowed(const Expr *Cond, bool Truth, Verdict V,
                              PathFacts &Facts) const {
  std::optional<uint32_t> Possible = possibleWhere(Cond, Truth);
  if (!Possible)
    return V;
  // The conditions this one is joined with hold too: the left side of `&&`
  // when it is on the right and true, of `||` when on the right and false.
  const Expr *Cur = Cond;
  for (unsigned Depth = 0; Depth < 16; ++Depth) {
    auto Parents = Ctx.getParents(*Cur);
    const auto *P = Parents.size() == 1 ? Parents[0].get<Expr>() : nullptr;
    if (!P)
      break;
    if (isa<ParenExpr>(P) || isa<ImplicitCastExpr>(P)) {
      Cur = P;
      continue;
    }
    if (const auto *UO = dyn_cast<UnaryOperator>(P); UO && UO->getOpcode() == UO_LNot) {
      Truth = !Truth, Cur = P;
      continue;
    }
    const auto *BO = dyn_cast<BinaryOperator>(P);
    if (!BO || !BO->isLogicalOp())
      break;
    bool And = BO->getOpcode() == BO_LAnd;
    if (BO->getRHS()->IgnoreParenImpCasts() == Cur->IgnoreParenImpCasts()) {
      if (std::optional<uint32_t> L = possibleWhere(BO->getLHS(), And))
        *Possible &= *L; // It held (or failed) to get here.
    } else if (Truth == And) { // `a && b` with `a` true: says nothing of the whole.
      break;
    }
    Cur = P;
  }
  if (ruleOut(*Possible, Facts))
    return Verdict::NotHappened;
  // Some success is left: the event may have happened on this side.
  return V == Verdict::NotHappened || V == Verdict::Unknown ? Verdict::Happened : V;
}

llvm::SmallVector<llvm::StringRef, 4> CallOutcome::successStatuses() const {
  llvm::SmallVector<llvm::StringRef, 4> Successes(SuccessStatuses.begin(),
                                                  SuccessStatuses.end());
  // Without the API's list, a publish into an enum status succeeds with each
  // enumerator whose name means success (REG_OK and REG_REPLACED both store);
  // other events read any success name as the one success.
  const auto *ET = ResultType->getAs<EnumType>();
  if (ET && Successes.empty() && Event == CallEvent::Published)
    for (const EnumConstantDecl *ECD : ET->getDecl()->enumerators())
      if (std::optional<bool> S = successOfName(ECD->getName()); S && *S)
        Successes.push_back(ECD->getName());
  return Successes;
}

bool CallOutcome::ruleOut(uint32_t Possible, PathFacts &Facts) const {
  uint32_t All = allSuccesses();
  Facts.RuledOut |= uint16_t(All & ~Possible);
  return (Facts.RuledOut & All) == All;
}

Verdict CallOutcome::onEdge(const CFGBlock &B, unsigned I) const {
  PathFacts None;
  return onEdge(B, I, None);
}

Verdict CallOutcome::onEdge(const CFGBlock &B, unsigned I,
                            PathFacts &Facts) const {
  if (I >= B.succ_size())
    return Verdict::Unrelated;
  // A test of a flag whose constant the path knows: the other side cannot
  // be taken (and says nothing of the call).
  if (const Expr *Cond = B.succ_size() == 2 ? B.getLastCondition() : nullptr)
    if (std::optional<bool> Truth = flagTruth(Cond, Facts))
      return *Truth == (I == 0) ? Verdict::Unrelated : Verdict::NotHappened;
  StaleNow = Facts.Stale;
  auto Read = [&]() {
    if (const auto *Switch = dyn_cast_or_null<SwitchStmt>(B.getTerminatorStmt()))
      return onSwitchEdge(Switch, *(B.succ_begin() + I), Facts);
    const Expr *Cond = B.succ_size() == 2 ? B.getLastCondition() : nullptr;
    if (!Cond)
      return Verdict::Unrelated;
    Verdict V = whenTrue(Cond);
    return narrowed(Cond, I == 0, I == 0 ? V : negate(V), Facts);
  };
  Verdict V = Read();
  StaleNow = 0;
  return V;
}

/// Whether \p E reads a holder that does not hold this call's result under
/// \p Stale.
bool CallOutcome::readsStale(const Stmt *E, uint32_t Stale) const {
  if (!E)
    return false;
  if (const auto *X = dyn_cast<Expr>(E))
    if (std::optional<Place> P = placeOf(X);
        P && llvm::is_contained(Holders, *P))
      return !holds(*P, Stale);
  return llvm::any_of(E->children(),
                      [&](const Stmt *C) { return readsStale(C, Stale); });
}

CallOutcome::PathFacts CallOutcome::afterElement(PathFacts Facts,
                                                 const Stmt *S) const {
  if (S == Call) // Run again (a loop): its earlier tests say nothing of it.
    Facts.RuledOut = 0;
  for (unsigned I = 0; I < Flags.size(); ++I)
    if (std::optional<const Expr *> Value = definitionOf(S, Flags[I])) {
      std::optional<llvm::APSInt> C =
          *Value ? constantOf(*Value, Ctx) : std::nullopt;
      uint16_t Bit = uint16_t(1u << I);
      Facts.FlagSet = C ? Facts.FlagSet | Bit : Facts.FlagSet & ~Bit;
      Facts.FlagTrue = C && !C->isZero() ? Facts.FlagTrue | Bit : Facts.FlagTrue & ~Bit;
    }
  uint32_t Before = Facts.Stale;
  for (unsigned I = 0; I < Holders.size(); ++I) {
    std::optional<const Expr *> Value = definitionOf(S, Holders[I]);
    if (!Value)
      continue;
    // A result place holds the call's result again when given it, or a
    // place that holds it (`rc = st;`); a test local when given its test,
    // reading no stale holder.
    std::optional<Place> From = *Value ? placeOf(*Value) : std::nullopt;
    auto Test = I < ResultPlaces ? TestVars.end() : TestVars.find(Holders[I].Var);
    bool Fresh =
        *Value && (I < ResultPlaces
                       ? strip(*Value) == Call ||
                             (From && isResultPlace(*From) && holds(*From, Before))
                       : Test != TestVars.end() && Test->second == *Value &&
                             !readsStale(*Value, Before));
    // The bit says "stale" for a place given the result, "holds" for one
    // given a copy of it (stale where the walk starts).
    if (Fresh == bool(Copies >> I & 1))
      Facts.Stale |= 1u << I;
    else
      Facts.Stale &= ~(1u << I);
  }
  return Facts;
}

} // namespace clang::tidy::tsmap
