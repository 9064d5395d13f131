//===--- CallbackResolution.cpp - which functions a map will call back ---===//

#include "CallbackResolution.h"
#include "ObjectOrigins.h"
#include "GLibTables.h"
#include "clang/AST/ASTContext.h"
#include "clang/AST/ParentMapContext.h"
#include "clang/AST/DeclCXX.h"
#include "clang/AST/ExprCXX.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/AST/Stmt.h"
#include "llvm/ADT/STLExtras.h"

namespace clang::tidy::tsmap {

namespace {

/// How a variable is written in its function: the single assignment, if
/// there is exactly one, and whether anything else could change it.
struct Writes {
  const BinaryOperator *Assign = nullptr;
  unsigned Count = 0;
  bool Escapes = false; ///< Its address is taken.
};

/// Collects the writes of \p Var in \p S.
void collectWrites(const Stmt *S, const VarDecl *Var, Writes &W) {
  if (!S)
    return;
  if (const auto *BO = dyn_cast<BinaryOperator>(S);
      BO && BO->isAssignmentOp()) {
    if (const auto *DRE =
            dyn_cast<DeclRefExpr>(BO->getLHS()->IgnoreParenImpCasts());
        DRE && DRE->getDecl() == Var) {
      W.Assign = BO;
      ++W.Count;
    }
  } else if (const auto *UO = dyn_cast<UnaryOperator>(S);
             UO && UO->getOpcode() == UO_AddrOf) {
    if (const auto *DRE =
            dyn_cast<DeclRefExpr>(UO->getSubExpr()->IgnoreParenImpCasts());
        DRE && DRE->getDecl() == Var)
      W.Escapes = true;
  }
  for (const Stmt *Child : S->children())
    collectWrites(Child, Var, W);
}

/// The one value \p Var holds: its initializer when it is never assigned,
/// or its single assignment when it has no initializer. Sets \p Site.
const Expr *onlyValueOf(const VarDecl *Var, const Stmt *&Site) {
  bool IsConst = Var->getType().isConstQualified();
  if (Var->hasGlobalStorage() && !Var->isStaticLocal()) {
    // A file-scope variable: only a `const` one has a single known value.
    Site = nullptr;
    return IsConst ? Var->getInit() : nullptr;
  }
  if (IsConst) {
    Site = nullptr;
    return Var->getInit();
  }
  if (Var->isStaticLocal())
    return nullptr; // FIXME: a non-const static local may be reassigned later.
  const auto *Fn = dyn_cast_or_null<FunctionDecl>(Var->getParentFunctionOrMethod());
  if (!Fn || !Fn->getBody() || isa<ParmVarDecl>(Var))
    return nullptr;
  Writes W;
  collectWrites(Fn->getBody(), Var, W);
  if (W.Escapes)
    return nullptr;
  if (W.Count == 0) {
    Site = nullptr;
    return Var->getInit();
  }
  if (W.Count == 1 && !Var->getInit() &&
      W.Assign->getOpcode() == BO_Assign) {
    Site = W.Assign;
    return W.Assign->getRHS();
  }
  return nullptr;
}

/// Strips parentheses, casts and the C++ nodes around a callable: temporaries,
/// a lambda's conversion to a function pointer, a one-argument constructor
/// (`std::function<...>(fn)`).
const Expr *skipCxxWrappers(const Expr *E) {
  for (unsigned Guard = 0; E && Guard < 16; ++Guard) {
    const Expr *Next = E->IgnoreParenCasts()->IgnoreImplicit();
    if (const auto *MCE = dyn_cast<CXXMemberCallExpr>(Next);
        MCE && isa_and_nonnull<CXXConversionDecl>(MCE->getMethodDecl()))
      Next = MCE->getImplicitObjectArgument();
    else if (const auto *CCE = dyn_cast<CXXConstructExpr>(Next);
             CCE && CCE->getNumArgs() == 1)
      Next = CCE->getArg(0);
    else if (const auto *Call = dyn_cast<CallExpr>(Next); Call && Call->getNumArgs() == 1)
      // `std::move (f)`, `std::forward<F> (f)`: casts spelled as calls.
      if (const FunctionDecl *FD = Call->getDirectCallee();
          FD && FD->isInStdNamespace() && FD->getIdentifier() &&
          (FD->getName() == "move" || FD->getName() == "forward"))
        Next = Call->getArg(0);
    if (Next == E)
      return E;
    E = Next;
  }
  return E;
}

void resolveInto(const Expr *E, std::vector<ResolutionStep> &Steps,
                 std::vector<ResolvedCallback> &Out, bool &Complete,
                 unsigned Depth, FieldFunctions *Fields) {
  if (!E || Depth > 16) {
    Complete = false;
    return;
  }
  E = skipCxxWrappers(E);
  if (const auto *UO = dyn_cast<UnaryOperator>(E);
      UO && (UO->getOpcode() == UO_AddrOf || UO->getOpcode() == UO_Deref))
    return resolveInto(UO->getSubExpr(), Steps, Out, Complete, Depth + 1, Fields);
  if (const auto *CO = dyn_cast<AbstractConditionalOperator>(E)) {
    for (const Expr *Arm : {CO->getTrueExpr(), CO->getFalseExpr()}) {
      Steps.push_back({ResolutionStep::Kind::Arm, nullptr, Arm, CO});
      resolveInto(Arm, Steps, Out, Complete, Depth + 1, Fields);
      Steps.pop_back();
    }
    return;
  }
  if (const auto *LE = dyn_cast<LambdaExpr>(E)) {
    // A generic lambda: the operators the map's calls instantiated (their
    // calls resolve), or the pattern when there is none.
    size_t Before = Out.size();
    if (const FunctionTemplateDecl *T = LE->getDependentCallOperator())
      for (const FunctionDecl *Spec : T->specializations())
        if (Spec->hasBody())
          Out.push_back({Spec, LE, Steps});
    if (Out.size() == Before)
      Out.push_back({LE->getCallOperator(), LE, Steps});
    return;
  }
  // `ops->load`: what the TU stores into the field.
  if (const auto *ME = dyn_cast<MemberExpr>(E); ME && Fields) {
    const auto *F = dyn_cast<FieldDecl>(ME->getMemberDecl());
    const std::vector<const FunctionDecl *> *Fns = F ? Fields->of(F) : nullptr;
    if (!Fns) {
      Complete = false;
      return;
    }
    for (const FunctionDecl *Fn : *Fns) {
      ResolutionStep Step{ResolutionStep::Kind::Field};
      Step.Field = F;
      Step.Value = Fields->storeOf(F, Fn);
      std::vector<ResolutionStep> Through = Steps;
      Through.push_back(Step);
      Out.push_back({Fn, ME, std::move(Through)});
    }
    return;
  }
  const auto *DRE = dyn_cast<DeclRefExpr>(E);
  if (!DRE) {
    Complete = false; // FIXME: calls returning callbacks, ...
    return;
  }
  if (const auto *FD = dyn_cast<FunctionDecl>(DRE->getDecl())) {
    const FunctionDecl *Def = FD->getDefinition();
    Out.push_back({Def ? Def : FD, DRE, Steps});
    return;
  }
  const auto *Var = dyn_cast<VarDecl>(DRE->getDecl());
  const Stmt *Site = nullptr;
  const Expr *Value = Var ? onlyValueOf(Var, Site) : nullptr;
  if (!Value) {
    Complete = false;
    return;
  }
  Steps.push_back({ResolutionStep::Kind::Variable, Var, Value, Site});
  resolveInto(Value, Steps, Out, Complete, Depth + 1, Fields);
  Steps.pop_back();
}

bool isFunctionPointerLike(QualType T) {
  return T->isFunctionPointerType() || T->isBlockPointerType() ||
         T->isFunctionReferenceType() || T->isMemberFunctionPointerType() ||
         // C++: a std::function or a template functor, also as `F &&fn`.
         T.getNonReferenceType()->isRecordType();
}

bool isNonConstVoidPointer(QualType T) {
  return T->isPointerType() && T->getPointeeType()->isVoidType() &&
         !T->getPointeeType().isConstQualified();
}

bool looksLikeOutputName(llvm::StringRef Name) {
  return Name == "out" || Name == "result" || Name.starts_with("out_") ||
         Name.ends_with("_out");
}

} // namespace

std::vector<ResolvedCallback> resolveCallback(const Expr *E, bool *Complete,
                                              FieldFunctions *Fields) {
  std::vector<ResolvedCallback> Out;
  std::vector<ResolutionStep> Steps;
  bool AllResolved = true;
  resolveInto(E, Steps, Out, AllResolved, 0, Fields);
  if (Complete)
    *Complete = AllResolved;
  return Out;
}

llvm::ArrayRef<ParmVarDecl *> calleeParams(const CallExpr *Call) {
  if (const FunctionDecl *FD = Call->getDirectCallee())
    return FD->parameters();
  // getCalleeDecl looks through `*` and `&`: `(*fp)(...)` gives `fp`.
  return ContractModel::callbackTypeParams(
      dyn_cast_or_null<DeclaratorDecl>(Call->getCalleeDecl()));
}

std::vector<CallbackArgument> callbackArguments(const CallExpr *Call,
                                                const ContractModel &Model,
                                                FieldFunctions *Fields) {
  std::vector<CallbackArgument> Result;
  if (!Call)
    return Result;
  const FunctionDecl *FD = Call->getDirectCallee();
  llvm::ArrayRef<ParmVarDecl *> Params = calleeParams(Call);
  // A function's parameter contracts come from any of its declarations and
  // the options; a prototype's are written in it.
  auto Has = [&](unsigned I, ContractKind K) {
    return FD ? Model.paramHas(FD, I, K) : Model.declHas(Params[I], K);
  };
  unsigned N = std::min<unsigned>(Params.size(), Call->getNumArgs());
  for (unsigned I = 0; I < N; ++I) {
    if (!Params[I] || !isFunctionPointerLike(Params[I]->getType()))
      continue;
    bool IsCallback = Has(I, ContractKind::Callback);
    bool IsLocked = Has(I, ContractKind::CallbackLocked);
    if (!IsCallback && !IsLocked)
      continue;
    CallbackArgument A;
    A.ParamIndex = I;
    A.Param = Params[I];
    A.Arg = Call->getArg(I);
    A.Callback = IsCallback;
    A.Locked = IsLocked;
    A.Targets = resolveCallback(A.Arg, &A.Complete, Fields);
    Result.push_back(std::move(A));
  }
  return Result;
}

std::optional<unsigned> mapParamIndex(const FunctionDecl *FD,
                                      const ContractModel &Model) {
  std::optional<unsigned> Index;
  if (!FD || !Model.isMapOperation(FD, &Index))
    return std::nullopt;
  return Index;
}

bool isMapMethod(const FunctionDecl *FD, const ContractModel &Model) {
  const auto *MD = dyn_cast_or_null<CXXMethodDecl>(FD);
  if (!MD || !MD->isInstance() || isa<CXXConstructorDecl>(MD) ||
      isa<CXXDestructorDecl>(MD))
    return false;
  const CXXRecordDecl *RD = MD->getParent();
  if (const auto *Spec = dyn_cast<ClassTemplateSpecializationDecl>(RD))
    if (Model.declHas(Spec->getSpecializedTemplate()->getTemplatedDecl(),
                      ContractKind::ThreadSafeMap))
      return true;
  return Model.declHas(RD, ContractKind::ThreadSafeMap);
}

const Expr *mapObject(const CallExpr *Call, const ContractModel &Model) {
  const auto *MC = dyn_cast<CXXMemberCallExpr>(Call);
  if (!MC || !isMapMethod(MC->getMethodDecl(), Model))
    return nullptr;
  return MC->getImplicitObjectArgument();
}

std::optional<unsigned> mapArgumentIndex(const CallExpr *Call,
                                         const ContractModel &Model) {
  if (const FunctionDecl *FD = Call->getDirectCallee())
    return mapParamIndex(FD, Model);
  llvm::ArrayRef<ParmVarDecl *> Params = calleeParams(Call);
  for (unsigned I = 0; I < Params.size(); ++I)
    if (Params[I] && Model.isMapPointer(Params[I]->getType()))
      return I;
  return std::nullopt;
}

const Expr *mapArgument(const CallExpr *Call, const ContractModel &Model) {
  std::optional<unsigned> I = mapArgumentIndex(Call, Model);
  if (!I || *I >= Call->getNumArgs())
    return nullptr;
  return Call->getArg(*I)->IgnoreParenImpCasts();
}

std::optional<unsigned> outputParamIndex(const FunctionDecl *Callback,
                                         const ParmVarDecl *CallbackParam,
                                         const ContractModel &Model) {
  if (!Callback)
    return std::nullopt;
  unsigned N = Callback->getNumParams();
  for (unsigned I = 0; I < N; ++I)
    if (Model.paramHas(Callback, I, ContractKind::Out))
      return I;
  llvm::ArrayRef<ParmVarDecl *> TypeParams =
      ContractModel::callbackTypeParams(CallbackParam);
  for (unsigned I = 0; I < TypeParams.size() && I < N; ++I)
    if (Model.declHas(TypeParams[I], ContractKind::Out))
      return I;
  for (unsigned I = 0; I < N; ++I) {
    const ParmVarDecl *P = Callback->getParamDecl(I);
    QualType T = P->getType();
    if (T->isPointerType() && !T->getPointeeType().isConstQualified() &&
        looksLikeOutputName(P->getName()))
      return I;
  }
  return std::nullopt;
}

bool isContextNamedParam(const ParmVarDecl *P) {
  static constexpr llvm::StringLiteral ContextNames[] = {
      "ctx",  "context", "user_data", "userdata", "udata",   "data",
      "arg",  "opaque",  "cookie",    "priv",     "closure", "baton"};
  return isNonConstVoidPointer(P->getType()) &&
         llvm::is_contained(ContextNames, P->getName());
}

std::optional<unsigned> contextParamIndex(const FunctionDecl *Callback,
                                          std::optional<unsigned> Output) {
  if (!Callback)
    return std::nullopt;
  std::optional<unsigned> Last;
  for (unsigned I = 0, N = Callback->getNumParams(); I < N; ++I) {
    const ParmVarDecl *P = Callback->getParamDecl(I);
    if (I == Output || !isNonConstVoidPointer(P->getType()))
      continue;
    if (isContextNamedParam(P))
      return I;
    Last = I;
  }
  return Last;
}

const Expr *contextArgument(const CallExpr *Call, unsigned CallbackParam) {
  llvm::ArrayRef<ParmVarDecl *> Params = calleeParams(Call);
  unsigned N = std::min<unsigned>(Params.size(), Call->getNumArgs());
  auto IsContext = [&](unsigned I) {
    return Params[I] && isNonConstVoidPointer(Params[I]->getType());
  };
  for (unsigned I = CallbackParam + 1; I < N; ++I)
    if (IsContext(I))
      return Call->getArg(I)->IgnoreParenImpCasts();
  for (unsigned I = std::min(CallbackParam, N); I-- > 0;)
    if (IsContext(I))
      return Call->getArg(I)->IgnoreParenImpCasts();
  return nullptr;
}

/// Records the stores into function-pointer fields for FieldFunctions.
class FieldStoreVisitor : public RecursiveASTVisitor<FieldStoreVisitor> {
public:
  explicit FieldStoreVisitor(FieldFunctions &FF) : FF(FF) {}
  bool shouldVisitImplicitCode() const { return false; }
  bool TraverseDecl(Decl *D) {
    if (D && !isa<TranslationUnitDecl>(D) &&
        FF.Ctx.getSourceManager().isInSystemHeader(D->getLocation()))
      return true;
    return RecursiveASTVisitor::TraverseDecl(D);
  }
  bool VisitBinaryOperator(BinaryOperator *BO) {
    if (BO->getOpcode() == BO_Assign)
      if (const auto *ME = dyn_cast<MemberExpr>(BO->getLHS()->IgnoreParenImpCasts()))
        store(dyn_cast<FieldDecl>(ME->getMemberDecl()), BO->getRHS(),
              embeddedField(ME->getBase()));
    return true;
  }
  /// Without implicit code the visitor sees only the syntactic form of an
  /// initializer list (designators, elided braces); the field each value
  /// lands in is read from its semantic form. A nested list was read with
  /// the list around it, which knows the field it fills.
  bool VisitInitListExpr(InitListExpr *ILE) {
    const InitListExpr *Sem = semantic(ILE);
    if (!Nested.contains(Sem))
      storeInits(Sem, nullptr, 0);
    return true;
  }

private:
  static const InitListExpr *semantic(const InitListExpr *ILE) {
    return ILE->getSemanticForm() ? ILE->getSemanticForm() : ILE;
  }
  /// Records the function-pointer fields that the semantic initializer list
  /// \p ILE sets, also in nested structs and arrays of structs; \p Within is
  /// the struct field \p ILE initializes (null at the top).
  void storeInits(const InitListExpr *ILE, const FieldDecl *Within,
                  unsigned Depth) {
    if (!ILE || Depth > 8)
      return;
    const RecordDecl *RD = ILE->getType()->getAsRecordDecl();
    if (RD && RD->isUnion())
      return;
    auto Inner = [&](const Expr *E, const FieldDecl *F) {
      if (const auto *Sub = dyn_cast_or_null<InitListExpr>(E ? E->IgnoreParenImpCasts() : nullptr)) {
        Nested.insert(semantic(Sub));
        storeInits(semantic(Sub), F, Depth + 1);
      }
    };
    if (!RD) { // an array: its elements are no embedded struct's
      for (const Expr *E : ILE->inits())
        Inner(E, nullptr);
      return;
    }
    for (const FieldDecl *F : RD->fields()) {
      unsigned I = F->getFieldIndex();
      if (I >= ILE->getNumInits())
        continue;
      store(F, ILE->getInit(I), Within);
      Inner(ILE->getInit(I), F->getType()->isStructureOrClassType() ? F : nullptr);
    }
  }

  void store(const FieldDecl *F, const Expr *Value, const FieldDecl *Within) {
    if (!F || !F->getType()->isFunctionPointerType())
      return;
    F = F->getCanonicalDecl();
    if (FF.Unknown.count(F))
      return;
    const Expr *V = Value->IgnoreParenImpCasts();
    if (isa<ImplicitValueInitExpr>(V) ||
        V->isNullPointerConstant(FF.Ctx, Expr::NPC_ValueDependentIsNotNull))
      return; // `.load = NULL` or left out: no call to make
    bool Complete = true;
    std::vector<ResolvedCallback> R = resolveCallback(Value, &Complete);
    std::vector<const FunctionDecl *> &T = FF.Targets[F];
    for (const ResolvedCallback &C : R) {
      if (!C.Fn)
        continue;
      if (!llvm::is_contained(T, C.Fn)) {
        T.push_back(C.Fn);
        FF.Stores.try_emplace({F, C.Fn}, Value);
      }
      auto &W = FF.Withins[{F, C.Fn}];
      if (!llvm::is_contained(W, Within))
        W.push_back(Within);
    }
    if (!Complete || R.empty() || T.size() > FieldFunctions::MaxTargets) {
      FF.Targets.erase(F);
      FF.Unknown.insert(F);
    }
  }
  FieldFunctions &FF;
  llvm::DenseSet<const InitListExpr *> Nested;
};

void FieldFunctions::build() {
  Built = true;
  FieldStoreVisitor V(*this);
  V.TraverseDecl(Ctx.getTranslationUnitDecl());
}

const std::vector<const FunctionDecl *> *FieldFunctions::of(const FieldDecl *F) {
  if (!F)
    return nullptr;
  if (!Built)
    build();
  auto It = Targets.find(F->getCanonicalDecl());
  return It == Targets.end() || It->second.empty() ? nullptr : &It->second;
}

const Expr *FieldFunctions::storeOf(const FieldDecl *F,
                                    const FunctionDecl *Fn) const {
  auto It = Stores.find({F ? F->getCanonicalDecl() : nullptr, Fn});
  return It == Stores.end() ? nullptr : It->second;
}

bool FieldFunctions::mayHoldWithin(const FieldDecl *F, const FunctionDecl *Fn,
                                   const FieldDecl *Within) const {
  auto It = Withins.find({F ? F->getCanonicalDecl() : nullptr, Fn});
  return It == Withins.end() || llvm::is_contained(It->second, nullptr) ||
         llvm::is_contained(It->second, Within);
}

/// The field of struct \p From, or of its first field's struct and so on,
/// that a cast of a `From *` to a `To *` points to: the first field of type
/// \p To at offset 0 (`(LogPipe *) w` of a `Writer *` whose first field is
/// `LogPipe super`); null when there is none or a struct is not defined.
static const FieldDecl *firstFieldOfType(QualType From, QualType To) {
  const RecordDecl *RD = From->getAsRecordDecl();
  for (unsigned Depth = 0; RD && Depth < 8; ++Depth) {
    RD = RD->getDefinition();
    if (!RD || RD->isUnion() || RD->field_empty())
      return nullptr;
    const FieldDecl *F = *RD->field_begin();
    if (F->getType().getCanonicalType().getUnqualifiedType() ==
        To.getCanonicalType().getUnqualifiedType())
      return F->getType()->isStructureOrClassType() ? F->getCanonicalDecl() : nullptr;
    RD = F->getType()->getAsRecordDecl();
  }
  return nullptr;
}

const std::vector<const FunctionDecl *> *
FieldFunctions::calledAt(const CallExpr *Call) {
  const MemberExpr *ME = calledMember(Call);
  const auto *F = ME ? dyn_cast<FieldDecl>(ME->getMemberDecl()) : nullptr;
  const std::vector<const FunctionDecl *> *Fns = of(F);
  const FieldDecl *Within = Fns ? embeddedField(ME->getBase()) : nullptr;
  if (!Within && !(Fns && castFromOpaqueStruct(ME->getBase())))
    return Fns;
  auto [It, New] = AtCalls.try_emplace(Call);
  if (New)
    llvm::copy_if(*Fns, std::back_inserter(It->second), [&](const FunctionDecl *Fn) {
      return mayHoldWithin(F, Fn, Within);
    });
  return &It->second;
}

const FieldDecl *embeddedField(const Expr *Object) {
  if (!Object)
    return nullptr;
  Object = Object->IgnoreParenImpCasts();
  if (const auto *CE = dyn_cast<ExplicitCastExpr>(Object);
      CE && CE->getType()->isPointerType() &&
      CE->getSubExpr()->getType()->isPointerType()) {
    QualType From = CE->getSubExpr()->getType()->getPointeeType();
    QualType To = CE->getType()->getPointeeType();
    if (From.getCanonicalType().getUnqualifiedType() ==
        To.getCanonicalType().getUnqualifiedType())
      return embeddedField(CE->getSubExpr()); // `(LogPipe *) &w->super`
    return firstFieldOfType(From, To);
  }
  if (const auto *UO = dyn_cast<UnaryOperator>(Object); UO && UO->getOpcode() == UO_AddrOf)
    Object = UO->getSubExpr()->IgnoreParenImpCasts();
  const auto *ME = dyn_cast<MemberExpr>(Object);
  const auto *F = ME ? dyn_cast<FieldDecl>(ME->getMemberDecl()) : nullptr;
  if (!F || !F->getType()->isStructureOrClassType() || F->getParent()->isUnion())
    return nullptr;
  return F->getCanonicalDecl();
}

bool castFromOpaqueStruct(const Expr *Object) {
  const auto *CE = Object ? dyn_cast<ExplicitCastExpr>(Object->IgnoreParenImpCasts()) : nullptr;
  if (!CE || !CE->getType()->isPointerType() || !CE->getSubExpr()->getType()->isPointerType())
    return false;
  QualType From = CE->getSubExpr()->getType()->getPointeeType();
  const RecordDecl *RD = From->getAsRecordDecl();
  return RD && !RD->isUnion() && !RD->getDefinition() &&
         From.getCanonicalType().getUnqualifiedType() !=
             CE->getType()->getPointeeType().getCanonicalType().getUnqualifiedType();
}

const MemberExpr *calledMember(const CallExpr *Call) {
  if (Call->getDirectCallee())
    return nullptr;
  const Expr *Target = Call->getCallee()->IgnoreParenImpCasts();
  if (const auto *UO = dyn_cast<UnaryOperator>(Target); UO && UO->getOpcode() == UO_Deref)
    Target = UO->getSubExpr()->IgnoreParenImpCasts(); // `(*ops->load)(key)`
  return dyn_cast<MemberExpr>(Target);
}

const FunctionDecl *enclosingFunction(const Stmt *S, ASTContext &Ctx) {
  DynTypedNodeList Parents = Ctx.getParents(*S);
  for (unsigned Guard = 0; Guard < 4096 && !Parents.empty(); ++Guard) {
    const DynTypedNode &P = Parents[0];
    if (const auto *FD = P.get<FunctionDecl>())
      return FD;
    if (const auto *LE = P.get<LambdaExpr>())
      return LE->getCallOperator();
    Parents = Ctx.getParents(P);
  }
  return nullptr;
}

} // namespace clang::tidy::tsmap

namespace clang::tidy::tsmap {

/// \p E, casts and parentheses aside, names parameter \p P.
static bool namesParam(const Expr *E, const ParmVarDecl *P) {
  const auto *DRE = E ? dyn_cast<DeclRefExpr>(E->IgnoreParenCasts()) : nullptr;
  return DRE && DRE->getDecl() == P;
}

/// \p E names parameter \p P of \p Def, or a local function pointer of
/// \p Def whose one value is \p P (`GHFunc f = fn;`, or `f = fn;` once), never
/// given another nor taken the address of.
static bool namesParamOrCopy(const Expr *E, const ParmVarDecl *P,
                             const FunctionDecl *Def) {
  if (namesParam(E, P))
    return true;
  const auto *DRE = E ? dyn_cast<DeclRefExpr>(E->IgnoreParenCasts()) : nullptr;
  const auto *V = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
  if (!V || isa<ParmVarDecl>(V) || !V->hasLocalStorage() ||
      !V->getType()->isFunctionPointerType())
    return false;
  llvm::SmallVector<const Expr *, 2> Values;
  if (!assignedValuesOf(V, Def, Values)) {
    if (!V->getInit() || assignsVar(Def->getBody(), V))
      return false; // `&f` taken, or `f += ...`
    Values.push_back(V->getInit());
  }
  return Values.size() == 1 && namesParam(Values.front(), P);
}

/// The calls in \p S, in order; false when \p P is stored into or has its
/// address taken (it may not hold what the caller passed).
static bool collectCalls(const Stmt *S, const ParmVarDecl *P,
                         std::vector<const CallExpr *> &Calls) {
  if (!S)
    return true;
  if (const auto *BO = dyn_cast<BinaryOperator>(S);
      BO && BO->isAssignmentOp() && namesParam(BO->getLHS(), P))
    return false;
  if (const auto *UO = dyn_cast<UnaryOperator>(S);
      UO && UO->getOpcode() == UO_AddrOf && namesParam(UO->getSubExpr(), P))
    return false;
  if (const auto *C = dyn_cast<CallExpr>(S))
    Calls.push_back(C);
  for (const Stmt *Child : S->children())
    if (!collectCalls(Child, P, Calls))
      return false;
  return true;
}

/// \p C calls \p P of \p Def (or its local copy) in the body of a loop of
/// \p Def whose condition is `g_hash_table_iter_next (&it, ...)` (into \p
/// Next): that iterator's `g_hash_table_iter_init (&it, table)` in \p Def,
/// else null.
static const CallExpr *walkingLoopInit(const CallExpr *C, const ParmVarDecl *P,
                                       const FunctionDecl *Def,
                                       const CallExpr *&Next) {
  if (!namesParamOrCopy(C->getCallee(), P, Def))
    return nullptr;
  ASTContext &Ctx = Def->getASTContext();
  const Stmt *Cur = C;
  for (unsigned Guard = 0; Cur && Guard < 64; ++Guard) {
    DynTypedNodeList Parents = Ctx.getParents(*Cur);
    const Stmt *Parent = Parents.empty() ? nullptr : Parents[0].get<Stmt>();
    const Expr *Cond = nullptr;
    if (const auto *W = dyn_cast_or_null<WhileStmt>(Parent); W && W->getBody() == Cur)
      Cond = W->getCond();
    else if (const auto *F = dyn_cast_or_null<ForStmt>(Parent); F && F->getBody() == Cur)
      Cond = F->getCond();
    Next = Cond ? dyn_cast<CallExpr>(Cond->IgnoreParenImpCasts()) : nullptr;
    const FunctionDecl *NextFn = Next ? Next->getDirectCallee() : nullptr;
    if (NextFn && NextFn->getIdentifier() && NextFn->getName() == "g_hash_table_iter_next")
      return iteratorInitOf(Next, Def->getBody(), Ctx.getSourceManager());
    Cur = Parent;
  }
  return nullptr;
}

std::optional<unsigned> loopValueArgument(const WrapperHop &Hop) {
  if (!Hop.Direct || !Hop.Next || Hop.Next->getNumArgs() < 3)
    return std::nullopt;
  const auto *UO = dyn_cast<UnaryOperator>(Hop.Next->getArg(2)->IgnoreParenCasts());
  const auto *V = UO && UO->getOpcode() == UO_AddrOf
                      ? dyn_cast<DeclRefExpr>(UO->getSubExpr()->IgnoreParenCasts())
                      : nullptr;
  for (unsigned J = 0; V && J < Hop.Direct->getNumArgs(); ++J)
    if (const auto *A = dyn_cast<DeclRefExpr>(Hop.Direct->getArg(J)->IgnoreParenCasts());
        A && A->getDecl() == V->getDecl())
      return J;
  return std::nullopt;
}

const std::vector<WrapperContracts::Passed> &
WrapperContracts::of(const FunctionDecl *Def, unsigned I, unsigned Depth) {
  auto Key = std::make_pair(Def->getCanonicalDecl(), I);
  if (auto It = Cache.find(Key); It != Cache.end())
    return It->second;
  Cache[Key]; // a wrapper passing to itself: nothing, while it is being read
  std::vector<Passed> Found;
  const ParmVarDecl *P = Def->getParamDecl(I);
  std::vector<const CallExpr *> Calls;
  if (collectCalls(Def->getBody(), P, Calls)) {
    for (const CallExpr *C : Calls) {
      // A map operation's contract parameter given `fn` itself.
      for (const CallbackArgument &A : callbackArguments(C, Model))
        if (namesParamOrCopy(A.Arg, P, Def))
          Found.push_back(
              {{{Def, C, I}}, A.ParamIndex, A.Param, A.Callback, A.Locked});
      // `fn (k, user)` once per entry of a GHashTableIter loop: a walk that
      // runs the callback mid-iteration, as g_hash_table_foreach does.
      const CallExpr *Next = nullptr;
      if (const CallExpr *Init = walkingLoopInit(C, P, Def, Next))
        Found.push_back({{{Def, Init, I, C, Next}}, 0, nullptr, /*Callback=*/false,
                         /*Locked=*/true});
      // A wrapper of a wrapper.
      if (Depth + 1 >= MaxDepth)
        continue;
      const FunctionDecl *Callee = C->getDirectCallee();
      const FunctionDecl *CalleeDef = nullptr;
      if (!Callee || !Callee->hasBody(CalleeDef) || !CalleeDef ||
          CalleeDef->getASTContext().getSourceManager().isInSystemHeader(
              CalleeDef->getLocation()))
        continue;
      unsigned N = std::min<unsigned>(CalleeDef->getNumParams(), C->getNumArgs());
      for (unsigned J = 0; J < N; ++J) {
        if (!namesParamOrCopy(C->getArg(J), P, Def) ||
            !CalleeDef->getParamDecl(J)->getType()->isFunctionPointerType() ||
            Model.paramHas(Callee, J, ContractKind::Callback) ||
            Model.paramHas(Callee, J, ContractKind::CallbackLocked))
          continue;
        std::vector<Passed> Deeper = of(CalleeDef, J, Depth + 1);
        for (Passed &D : Deeper) {
          D.Via.insert(D.Via.begin(), {Def, C, I});
          Found.push_back(std::move(D));
        }
      }
    }
  }
  std::vector<Passed> &Slot = Cache[Key];
  Slot = std::move(Found);
  return Slot;
}

std::vector<WrappedCallbackArgument>
WrapperContracts::arguments(const CallExpr *Call, FieldFunctions *Fields) {
  std::vector<WrappedCallbackArgument> Result;
  const FunctionDecl *FD = Call ? Call->getDirectCallee() : nullptr;
  const FunctionDecl *Def = nullptr;
  if (!FD || !FD->hasBody(Def) || !Def ||
      Def->getASTContext().getSourceManager().isInSystemHeader(Def->getLocation()))
    return Result;
  unsigned N = std::min<unsigned>(Def->getNumParams(), Call->getNumArgs());
  for (unsigned I = 0; I < N; ++I) {
    if (!Def->getParamDecl(I)->getType()->isFunctionPointerType() ||
        Model.paramHas(FD, I, ContractKind::Callback) ||
        Model.paramHas(FD, I, ContractKind::CallbackLocked))
      continue;
    // A copy: resolving may read other wrappers into the cache.
    std::vector<Passed> Reached = of(Def, I, 0);
    for (const Passed &R : Reached) {
      WrappedCallbackArgument W;
      W.Arg.ParamIndex = I;
      W.Arg.Param = R.InnerParam;
      W.Arg.Arg = Call->getArg(I);
      W.Arg.Callback = R.Callback;
      W.Arg.Locked = R.Locked;
      W.Arg.Targets = resolveCallback(W.Arg.Arg, &W.Arg.Complete, Fields);
      W.Via = R.Via;
      W.InnerParamIndex = R.InnerParamIndex;
      Result.push_back(std::move(W));
    }
  }
  return Result;
}

} // namespace clang::tidy::tsmap
