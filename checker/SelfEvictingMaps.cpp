//===--- SelfEvictingMaps.cpp - maps that evict entries on their own ------===//

#include "SelfEvictingMaps.h"
#include "CallbackResolution.h"
#include "GLibTables.h"
#include "RemovalPaths.h"
#include "clang/AST/Decl.h"
#include "clang/Basic/SourceManager.h"
#include "llvm/ADT/STLExtras.h"

namespace clang::tidy::tsmap {

/// The tsmap_config fields that make a map evict on its own.
static bool isSelfEvictingField(llvm::StringRef Name) {
  return Name == "expiry" || Name == "default_ttl_ns" || Name == "max_entries" ||
         Name == "max_weight";
}

/// The config variable of `tsmap_create(&cfg, ...)`; null for a pointer (a
/// config built elsewhere) or a parameter.
static const VarDecl *configVarOf(const Expr *E) {
  const auto *UO = dyn_cast<UnaryOperator>(E->IgnoreParenCasts());
  if (!UO || UO->getOpcode() != UO_AddrOf)
    return nullptr;
  const auto *DRE = dyn_cast<DeclRefExpr>(UO->getSubExpr()->IgnoreParenCasts());
  const auto *V = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
  return V && !isa<ParmVarDecl>(V) ? V : nullptr;
}

/// The map variable or field of `tsmap_create(..., &map)`.
static const ValueDecl *createdMapOf(const Expr *E) {
  const auto *UO = dyn_cast<UnaryOperator>(E->IgnoreParenCasts());
  if (!UO || UO->getOpcode() != UO_AddrOf)
    return nullptr;
  const Expr *M = UO->getSubExpr()->IgnoreParenCasts();
  if (const auto *DRE = dyn_cast<DeclRefExpr>(M))
    return DRE->getDecl();
  if (const auto *ME = dyn_cast<MemberExpr>(M))
    return ME->getMemberDecl();
  return nullptr;
}

/// A setting counts unless it is a constant zero.
static bool isSet(const Expr *E, const ASTContext &Ctx) {
  Expr::EvalResult R;
  if (E->isValueDependent() || !E->EvaluateAsInt(R, Ctx))
    return true; // FIXME: a value computed at run time may be 0 (no expiry).
  return R.Val.getInt() != 0;
}

namespace {
/// What the config's fields are set to before the create call.
struct ConfigReader {
  const VarDecl *Cfg;
  const CallExpr *Create;
  const ASTContext &Ctx;
  SelfEvictingMap Out;
  bool HookUnknown = false;

  /// One `field = value` of the config, at \p At.
  void setField(llvm::StringRef Field, const Expr *Value, const Expr *At) {
    if (isSelfEvictingField(Field) && isSet(Value, Ctx) && !Out.Setting) {
      Out.Setting = At;
      Out.SettingName = Field.str();
    }
    if (Field != "on_entry_evicted")
      return;
    Out.HookSetting = At;
    Out.Hook = nullptr;
    const Expr *V = Value->IgnoreParenCasts();
    if (const auto *UO = dyn_cast<UnaryOperator>(V); UO && UO->getOpcode() == UO_AddrOf)
      V = UO->getSubExpr()->IgnoreParenCasts();
    const auto *DRE = dyn_cast<DeclRefExpr>(V);
    Out.Hook = DRE ? dyn_cast<FunctionDecl>(DRE->getDecl()) : nullptr;
    HookUnknown = !Out.Hook && Value->IgnoreParenCasts()->isNullPointerConstant(
                                   const_cast<ASTContext &>(Ctx),
                                   Expr::NPC_ValueDependentIsNotNull) == Expr::NPCK_NotNull;
  }

  /// Designated or positional initializers of the config variable.
  void readInit() {
    const auto *ILE = dyn_cast_or_null<InitListExpr>(Cfg->getInit());
    const RecordDecl *RD = Cfg->getType()->getAsRecordDecl();
    if (!ILE || !RD)
      return;
    unsigned I = 0;
    for (const FieldDecl *F : RD->fields()) {
      if (I >= ILE->getNumInits())
        break;
      const Expr *E = ILE->getInit(I++);
      if (!isa<ImplicitValueInitExpr>(E))
        setField(F->getName(), E, E);
    }
  }

  /// `cfg.field = value` statements in \p S before the create call.
  void walk(const Stmt *S) {
    if (!S)
      return;
    if (const auto *BO = dyn_cast<BinaryOperator>(S); BO && BO->getOpcode() == BO_Assign)
      if (const auto *ME = dyn_cast<MemberExpr>(BO->getLHS()->IgnoreParenImpCasts()))
        if (const auto *Base = dyn_cast<DeclRefExpr>(ME->getBase()->IgnoreParenImpCasts());
            Base && Base->getDecl() == Cfg && !ME->isArrow() &&
            Ctx.getSourceManager().isBeforeInTranslationUnit(BO->getBeginLoc(),
                                                             Create->getBeginLoc()))
          setField(ME->getMemberDecl()->getName(), BO->getRHS(), BO);
    for (const Stmt *C : S->children())
      walk(C);
  }
};
} // namespace

const ValueDecl *closedMapOf(const CallExpr *Call) {
  const FunctionDecl *Callee = Call->getDirectCallee();
  if (!Callee || !Callee->getIdentifier() || Call->getNumArgs() != 1 ||
      (Callee->getName() != "tsmap_close" && Callee->getName() != "tsmap_destroy"))
    return nullptr;
  const auto *ET = Callee->getReturnType()->getAs<EnumType>();
  if (!ET || ET->getDecl()->getName() != "tsmap_status")
    return nullptr; // Another library's tsmap_close.
  return tableDeclOf(Call->getArg(0));
}

/// The config of a `tsmap_create(&cfg, &map)` call, read in the function
/// around it; none for any other call or a config that cannot be read.
static std::optional<ConfigReader> readConfig(const CallExpr *Call,
                                              ASTContext &Ctx) {
  const FunctionDecl *Callee = Call->getDirectCallee();
  if (!Callee || !Callee->getDeclName().isIdentifier() ||
      Callee->getName() != "tsmap_create" || Call->getNumArgs() != 2)
    return std::nullopt;
  const VarDecl *Cfg = configVarOf(Call->getArg(0));
  const ValueDecl *Map = createdMapOf(Call->getArg(1));
  const FunctionDecl *FD = Cfg && Map ? enclosingFunction(Call, Ctx) : nullptr;
  if (!FD || !FD->hasBody())
    return std::nullopt;
  ConfigReader R{Cfg, Call, FD->getASTContext(), {}, false};
  R.readInit();
  R.walk(FD->getBody());
  R.Out.Create = Call;
  R.Out.Map = Map;
  return R;
}

std::optional<SelfEvictingMap> selfEvictingMapOf(const CallExpr *Call,
                                                 ASTContext &Ctx) {
  std::optional<ConfigReader> R = readConfig(Call, Ctx);
  if (!R || !R->Out.Setting || R->HookUnknown)
    return std::nullopt;
  return R->Out;
}

std::optional<ConfigHook> configHookOf(const CallExpr *Call, ASTContext &Ctx) {
  std::optional<ConfigReader> R = readConfig(Call, Ctx);
  if (!R || (!R->Out.HookSetting && R->HookUnknown))
    return std::nullopt;
  if (!R->Out.HookSetting) // created here, the config leaving the hook unset
    return ConfigHook{R->Out.Map, nullptr, false, false};
  return ConfigHook{R->Out.Map, R->Out.Hook, true, R->HookUnknown};
}

const CleanupContract *reportSelfEviction(ClangTidyCheck &Check,
                                          const SelfEvictingMap &M,
                                          const std::vector<CleanupContract> &Cs,
                                          const ContractModel &Model,
                                          ASTContext &Ctx, const RemovalPolicy &Policy) {
  if (Cs.empty())
    return nullptr;
  const FunctionDecl *Hook = M.Hook;
  std::optional<std::string> HookName;
  if (Hook)
    HookName = Hook->getNameAsString();
  else if (!M.HookSetting) // The config leaves it unset: the map's annotation.
    HookName = Model.evictionHookOf(M.Map);
  if (HookName && !Hook)
    Hook = ContractModel::lookupFunction(Ctx, *HookName);
  const CleanupContract *Missed = &Cs.front();
  if (HookName) {
    if (!Hook || !Hook->hasBody() || hookHandsValueToUnseen(Hook, Policy))
      return nullptr; // Not visible, or hands the value on: trusted to clean.
    auto Calls = [&](const CleanupContract &C) {
      return callsFunctionNamed(Hook, C.FnName, Policy.MaxCallDepth);
    };
    if (llvm::any_of(Cs, [&](const CleanupContract &C) { return !C.Field && Calls(C); }))
      return nullptr;
    auto It = llvm::find_if(Cs, [&](const CleanupContract &C) { return !Calls(C); });
    if (It == Cs.end())
      return nullptr;
    Missed = &*It;
  }
  const CleanupContract &C = *Missed;
  Check.diag(M.Create->getBeginLoc(),
             HookName ? "map %0 evicts entries on its own (its config sets '%1') to "
                        "eviction hook '%5', which does not call '%4'; %select{its "
                        "values keep|the field '%3' of its values keeps}2 a resource "
                        "that is never released"
                      : "map %0 evicts entries on its own (its config sets '%1') and "
                        "has no eviction hook; %select{its values keep|the field '%3' "
                        "of its values keeps}2 a resource that '%4' must release")
      << M.Map << M.SettingName << (C.Field != nullptr)
      << C.fieldPath() << C.FnName
      << (HookName ? *HookName : std::string())
      << M.Create->getSourceRange();
  Check.diag(M.Setting->getBeginLoc(), "'%0' is set here", DiagnosticIDs::Note)
      << M.SettingName;
  if (Hook)
    Check.diag(Hook->getLocation(), "eviction hook '%0' does not call '%1'",
               DiagnosticIDs::Note)
        << Hook->getName() << C.FnName;
  return Missed;
}

} // namespace clang::tidy::tsmap
