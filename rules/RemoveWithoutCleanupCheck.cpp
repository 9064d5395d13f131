//===--- RemoveWithoutCleanupCheck.cpp - tsmap-remove-without-cleanup -----===//

#include "RemoveWithoutCleanupCheck.h"
#include "AnnotationValidation.h"
#include "ChainNotes.h"
#include "CallbackResolution.h"
#include "CheckOptions.h"
#include "ComputeVerdicts.h"
#include "clang/AST/ASTContext.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "clang/Lex/Lexer.h"
#include "llvm/ADT/StringExtras.h"
#include <functional>
#include "llvm/Config/llvm-config.h"

using namespace clang::ast_matchers;

namespace clang::tidy::tsmap {

RemoveWithoutCleanupCheck::RemoveWithoutCleanupCheck(StringRef Name,
                                                     ClangTidyContext *Context)
    : ClangTidyCheck(Name, Context), Model(*this, Options, Context),
      Gate(Context),
      DeallocatorsOption(Options.get("Deallocators", "g_free;g_slice_free1")),
      StatusConventionOption(Options.get("StatusConvention", "unknown")) {
  Convention = readStatusConvention(*this, StatusConventionOption);
  GLibModel = llvm::is_contained(Model.contractNames(), "g_hash_table_insert");
  Policy.Deallocators =
      readFunctionNames(*this, "Deallocators", DeallocatorsOption);
  Policy.MaxCallDepth = readMaxCallDepth(*this, Options);
}

void RemoveWithoutCleanupCheck::storeOptions(ClangTidyOptions::OptionMap &Opts) {
  Model.storeOptions(Options, Opts);
  Options.store(Opts, "Deallocators", DeallocatorsOption);
  storeMaxCallDepth(Options, Opts, Policy.MaxCallDepth);
  Options.store(Opts, "StatusConvention", StatusConventionOption);
}

void RemoveWithoutCleanupCheck::registerMatchers(MatchFinder *TidyFinder) {
  GatedMatchPass &Shared = Gate.join(TidyFinder, this, Model);
  // Every call: removals and stores are told apart by their callee's
  // contracts (memoized per callee), so code without them costs one lookup.
  Shared.matchCalls(this);
  Shared.addMatcher(recordDecl(isDefinition()).bind("record"), this);
  Shared.matchAnnotatedDecls(this);
}

/// The call that makes up the statement before the one holding \p Call in
/// its block (`(void)` and parentheses aside); null when there is none.
static const CallExpr *previousCallInBlock(const CallExpr *Call, ASTContext &Ctx) {
  DynTypedNodeList Parents = Ctx.getParents(*Call);
  const Stmt *Holder = Call;
  while (!Parents.empty() && !Parents[0].get<CompoundStmt>()) {
    Holder = Parents[0].get<Stmt>();
    if (!Holder)
      return nullptr;
    Parents = Ctx.getParents(*Holder);
  }
  const auto *Block = Parents.empty() ? nullptr : Parents[0].get<CompoundStmt>();
  if (!Block)
    return nullptr;
  const Stmt *Prev = nullptr;
  for (const Stmt *S : Block->body()) {
    if (S == Holder)
      break;
    Prev = S;
  }
  const auto *PrevExpr = dyn_cast_or_null<Expr>(Prev);
  return PrevExpr ? dyn_cast<CallExpr>(PrevExpr->IgnoreParenCasts()) : nullptr;
}

/// Whether a `tsmap_close` of \p Closed comes before \p Call (a destroy or a
/// close) in the function around it: the map is closed there already, and its
/// values went to the hook then (`tsmap_close(m); n = 0; tsmap_destroy(m);`,
/// also with the close inside a checking macro). Source order, not paths: a
/// close on another branch also counts (quiet rather than noisy).
static bool closedEarlier(const CallExpr *Call, const ValueDecl *Closed,
                          ASTContext &Ctx) {
  const FunctionDecl *FD = enclosingFunction(Call, Ctx);
  if (!FD || !FD->getBody())
    return false;
  const SourceManager &SM = Ctx.getSourceManager();
  SourceLocation At = SM.getExpansionLoc(Call->getBeginLoc());
  std::function<bool(const Stmt *)> Find = [&](const Stmt *S) {
    if (!S)
      return false;
    if (const auto *C = dyn_cast<CallExpr>(S); C && C != Call &&
        closedMapOf(C) == Closed &&
        C->getDirectCallee()->getName() == "tsmap_close" &&
        SM.isBeforeInTranslationUnit(SM.getExpansionLoc(C->getBeginLoc()), At))
      return true;
    return llvm::any_of(S->children(), Find);
  };
  return Find(FD->getBody());
}

/// Whether \p D holds a libtsmap map (`tsmap *`).
static bool isRuntimeMap(const ValueDecl *D) {
  QualType T = D->getType();
  if (!T->isPointerType())
    return false;
  const auto *RD = T->getPointeeType()->getAsRecordDecl();
  return RD && RD->getName() == "tsmap";
}

/// The libtsmap map variable \p E names, else null.
static const VarDecl *runtimeMapVar(const Expr *E) {
  const auto *DRE = E ? dyn_cast<DeclRefExpr>(E->IgnoreParenImpCasts()) : nullptr;
  const auto *VD = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
  return VD && isRuntimeMap(VD) ? VD : nullptr;
}

void RemoveWithoutCleanupCheck::noteMadeByHelper(const CallExpr *Call,
                                                 ASTContext &Ctx) {
  const FunctionDecl *Callee = Call->getDirectCallee();
  if (Callee && Callee->getIdentifier() && Callee->getName() == "tsmap_create")
    return; // the runtime's own creation: configHookOf reads its hook
  for (const Expr *Arg : Call->arguments())
    if (const auto *UO = dyn_cast<UnaryOperator>(Arg->IgnoreParenImpCasts());
        UO && UO->getOpcode() == UO_AddrOf)
      if (const VarDecl *VD = runtimeMapVar(UO->getSubExpr()))
        MadeByHelper.insert(VD->getCanonicalDecl());
  DynTypedNodeList Parents = Ctx.getParents(*Call);
  while (Parents.size() == 1 && Parents[0].get<ImplicitCastExpr>())
    Parents = Ctx.getParents(Parents[0]);
  if (Parents.size() == 1)
    if (const auto *BO = Parents[0].get<BinaryOperator>();
        BO && BO->getOpcode() == BO_Assign)
      if (const VarDecl *VD = runtimeMapVar(BO->getLHS()))
        MadeByHelper.insert(VD->getCanonicalDecl());
}

void RemoveWithoutCleanupCheck::check(const MatchFinder::MatchResult &Result) {
  Ctx = Result.Context;
  if (const auto *Call = Result.Nodes.getNodeAs<CallExpr>("call")) {
    // A copy: analyzing the function adds to the map the reference is into.
    const RemovalApi Api = apiOf(Call->getDirectCallee());
    if (Api.GLib == GLibOp::Create || Api.GLib == GLibOp::Lookup)
      learnFromGLib(Call, Api.GLib, *Result.Context);
    if (Api.Any)
      checkEnclosingFunction(Call, *Result.Context);
    if (Api.Stores)
      learnFromStore(Call);
    noteInsert(Call, Api);
    if (auto M = selfEvictingMapOf(Call, *Result.Context))
      SelfEvicting.push_back(*M);
    // Closing a map hands every value still in it to its hook, as
    // g_hash_table_destroy does.
    // A destroy after a close of the same map finds it empty.
    if (const ValueDecl *Closed = closedMapOf(Call)) {
      if (!closedEarlier(Call, Closed, *Result.Context))
        Discards.push_back({Discard::NullOut, Call, Call->getDirectCallee(),
                            Closed, QualType()});
    }
    noteMadeByHelper(Call, *Result.Context);
    if (auto H = configHookOf(Call, *Result.Context)) {
      auto [It, Inserted] = ConfigHooks.try_emplace(H->Map, *H);
      // Created with two different hooks: which one holds is not known.
      if (!Inserted && (It->second.Hook != H->Hook || It->second.Set != H->Set))
        It->second.Unknown = true;
    }
    return;
  }
  if (const auto *RD = Result.Nodes.getNodeAs<RecordDecl>("record"))
    return checkCleanupFunction(RD, *Result.Context);
  if (const auto *D = Result.Nodes.getNodeAs<Decl>(AnnotatedDeclId))
    reportAnnotationProblems(*this, D, *Result.Context,
                             {ContractKind::RemovedOut, ContractKind::Replaces,
                              ContractKind::ReturnsRemoved, ContractKind::Cleanup,
                              ContractKind::EvictsWith});
}

// ===------------------------------------------------------------------=== //
// Finding removals
// ===------------------------------------------------------------------=== //

void RemoveWithoutCleanupCheck::checkEnclosingFunction(const CallExpr *Removal,
                                                       ASTContext &Ctx) {
  // The parent map is built only for a removal; each function with one is
  // analyzed whole, once.
  auto Enclosing = callExpr(forCallable(
      functionDecl(isDefinition(), hasBody(compoundStmt())).bind("fn")));
  for (const BoundNodes &N : match(Enclosing, *Removal, Ctx))
    if (const auto *FD = N.getNodeAs<FunctionDecl>("fn"))
      if (Analyzed.insert(FD).second)
        checkFunction(FD, Ctx);
}

/// The parameter that receives the stored value of a put: TSMAP_PUBLISHES,
/// else one named like a value.
static std::optional<unsigned> valueParamOf(const FunctionDecl *FD,
                                            const ContractModel &Model) {
  for (unsigned I = 0, N = FD->getNumParams(); I < N; ++I)
    if (Model.paramHas(FD, I, ContractKind::Publishes))
      return I;
  for (unsigned I = 0, N = FD->getNumParams(); I < N; ++I) {
    llvm::StringRef P = FD->getParamDecl(I)->getName();
    if (P == "value" || P == "val" || P == "new_value" || P == "data" ||
        P == "item" || P == "v")
      return I;
  }
  return std::nullopt;
}

const RemoveWithoutCleanupCheck::RemovalApi &
RemoveWithoutCleanupCheck::apiOf(const FunctionDecl *Callee) {
  Callee = Callee->getCanonicalDecl();
  auto [It, Inserted] = Apis.try_emplace(Callee);
  if (!Inserted)
    return It->second;
  RemovalApi &A = It->second;
  if (GLibModel)
    A.GLib = glibOpOf(Callee);
  A.Returns = Model.functionHas(Callee, ContractKind::ReturnsRemoved);
  A.Replaces = Model.functionHas(Callee, ContractKind::Replaces);
  for (unsigned I = 0, N = Callee->getNumParams(); I < N; ++I)
    if (Model.paramHas(Callee, I, ContractKind::RemovedOut)) {
      A.Out = I;
      break;
    }
  // GLib's removals that take no out-parameter: what they do to the value is
  // in GLibTables, not in a contract.
  bool GLibRemoval = A.GLib == GLibOp::Remove || A.GLib == GLibOp::IterRemove ||
                     A.GLib == GLibOp::RemoveAll || A.GLib == GLibOp::Steal ||
                     A.GLib == GLibOp::IterSteal || A.GLib == GLibOp::ForeachSteal;
  if (GLibRemoval && Callee->getNumParams() > 0)
    A.Map = 0;
  A.Any = A.Returns || A.Replaces || A.Out || GLibRemoval;
  if (GLibRemoval)
    return A;
  if (!A.Any) {
    // A put that never replaces (put_if_absent) still tells what the map
    // holds, for the discarded removals of the same map.
    for (unsigned I = 0, N = Callee->getNumParams(); I < N && !A.Value; ++I)
      if (Model.paramHas(Callee, I, ContractKind::Publishes))
        A.Value = I;
    std::optional<unsigned> Map;
    A.Stores = A.Value && Model.isMapOperation(Callee, &Map) && Map;
    A.Map = Map;
    return A;
  }
  std::optional<unsigned> Map;
  if (Model.isMapOperation(Callee, &Map))
    A.Map = Map;
  if (A.Replaces)
    A.Value = A.GLib == GLibOp::Add && Callee->getNumParams() == 2
                  ? std::optional<unsigned>(1) // a set's key is its value
                  : valueParamOf(Callee, Model);
  return A;
}

/// The value type an argument speaks of: `&x` is about `x`'s type, a pointer
/// about what it points to (cleanupsOf looks through one pointer).
static QualType valueTypeOfArg(const Expr *E) {
  E = E->IgnoreParenCasts();
  if (const auto *UO = dyn_cast<UnaryOperator>(E); UO && UO->getOpcode() == UO_AddrOf)
    return UO->getSubExpr()->getType();
  QualType T = E->getType();
  if (T->isVoidPointerType() || T->isNullPtrType() || T->isIntegerType())
    return QualType();
  return T;
}

static const VarDecl *localVarOf(const Expr *E) {
  const auto *DRE = dyn_cast<DeclRefExpr>(E->IgnoreParenCasts());
  const auto *V = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
  return V && V->hasLocalStorage() && !isa<ParmVarDecl>(V) ? V : nullptr;
}

static bool isNull(const Expr *E, ASTContext &Ctx) {
  return E->IgnoreParenCasts()->isNullPointerConstant(
             Ctx, Expr::NPC_ValueDependentIsNotNull) != Expr::NPCK_NotNull;
}

namespace {
/// Visits every call of a function body with the chain of its parents.
struct CallWalker {
  llvm::function_ref<void(const CallExpr *, llvm::ArrayRef<const Stmt *>)> Fn;
  llvm::SmallVector<const Stmt *, 16> Parents;
  void walk(const Stmt *S) {
    if (!S)
      return;
    if (const auto *Call = dyn_cast<CallExpr>(S))
      Fn(Call, Parents);
    Parents.push_back(S);
    for (const Stmt *C : S->children())
      walk(C);
    Parents.pop_back();
  }
};
} // namespace

void RemoveWithoutCleanupCheck::checkFunction(const FunctionDecl *FD,
                                              ASTContext &Ctx) {
  if (FD->isDependentContext()) // FIXME: templates are checked per instance only.
    return;
  std::unique_ptr<CFG> G; // Built on the first removal only.
  auto OnCall = [&](const CallExpr *Call, llvm::ArrayRef<const Stmt *> Parents) {
    const FunctionDecl *Callee = Call->getDirectCallee();
    if (Callee && apiOf(Callee).Any)
      checkRemoval(Call, Callee, Parents, FD, Ctx, G);
  };
  CallWalker W{OnCall, {}};
  W.walk(FD->getBody());
}

/// The innermost parent of the call that is not a parenthesis or a cast
/// (other than a cast to void).
static const Stmt *contextOf(const CallExpr *Call,
                             llvm::ArrayRef<const Stmt *> Parents,
                             const Expr *&Inner) {
  Inner = Call;
  for (auto It = Parents.rbegin(); It != Parents.rend(); ++It) {
    const auto *E = dyn_cast<Expr>(*It);
    if (E && (isa<ParenExpr>(E) || isa<ImplicitCastExpr>(E) ||
              isa<ExprWithCleanups>(E) || isa<MaterializeTemporaryExpr>(E) ||
              (isa<ExplicitCastExpr>(E) && !E->getType()->isVoidType()))) {
      Inner = E;
      continue;
    }
    return *It;
  }
  return nullptr;
}

/// The condition of \p S, an `if`, a loop or a `switch`; else null.
static const Stmt *conditionOf(const Stmt *S) {
  if (const auto *If = dyn_cast_or_null<IfStmt>(S))
    return If->getCond();
  if (const auto *While = dyn_cast_or_null<WhileStmt>(S))
    return While->getCond();
  if (const auto *Do = dyn_cast_or_null<DoStmt>(S))
    return Do->getCond();
  if (const auto *For = dyn_cast_or_null<ForStmt>(S))
    return For->getCond();
  if (const auto *Switch = dyn_cast_or_null<SwitchStmt>(S))
    return Switch->getCond();
  return nullptr;
}

/// `std::ignore = <call>`.
static bool isAssignedToIgnore(const Stmt *Context, const Expr *Inner) {
  const auto *Op = dyn_cast_or_null<CXXOperatorCallExpr>(Context);
  if (!Op || Op->getOperator() != OO_Equal || Op->getNumArgs() != 2 ||
      Op->getArg(1)->IgnoreParenImpCasts() != Inner->IgnoreParenImpCasts())
    return false;
  const auto *DRE = dyn_cast<DeclRefExpr>(Op->getArg(0)->IgnoreParenImpCasts());
  const auto *V = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
  return V && V->getName() == "ignore" && V->isInStdNamespace();
}

/// The value is only tested: `take(...) != NULL`, `!take(...)`, or the whole
/// condition of an `if`/loop, possibly under `&&`/`||`; it goes nowhere.
static bool isOnlyTested(const Stmt *Context, const Expr *Inner) {
  if (!Inner->getType()->isPointerType())
    return false;
  const auto *BO = dyn_cast_or_null<BinaryOperator>(Context);
  const auto *UO = dyn_cast_or_null<UnaryOperator>(Context);
  if ((BO && (BO->isComparisonOp() || BO->isLogicalOp())) ||
      (UO && UO->getOpcode() == UO_LNot))
    return true;
  const Stmt *Cond = conditionOf(Context);
  return Cond && Cond == Inner && !isa<SwitchStmt>(Context);
}

/// The call (seen as \p Inner) is a statement of its own in \p Context, or
/// cast to void (`(void)`, `static_cast<void>`, `void(...)`), or assigned to
/// `std::ignore`.
static bool isIgnoredResult(const Stmt *Context, const Expr *Inner) {
  if (!Context)
    return true;
  if (const auto *Cast = dyn_cast<ExplicitCastExpr>(Context))
    return Cast->getType()->isVoidType();
  if (isAssignedToIgnore(Context, Inner))
    return true;
  if (isa<Expr>(Context) || isa<DeclStmt>(Context) || isa<ReturnStmt>(Context))
    return false;
  return conditionOf(Context) != Inner;
}

/// The local that holds the status the call returns, if any.
static const VarDecl *statusVarOf(const Stmt *Ctx, const Expr *Inner) {
  if (const auto *DS = dyn_cast_or_null<DeclStmt>(Ctx))
    for (const Decl *D : DS->decls())
      if (const auto *V = dyn_cast<VarDecl>(D); V && V->getInit() &&
                                                V->getInit()->IgnoreParenCasts() ==
                                                    Inner->IgnoreParenCasts())
        return V->hasLocalStorage() ? V : nullptr;
  if (const auto *BO = dyn_cast_or_null<BinaryOperator>(Ctx);
      BO && BO->getOpcode() == BO_Assign && BO->getRHS() == Inner)
    return localVarOf(BO->getLHS());
  return nullptr;
}

/// For an intrusive map, whose removal returns a node embedded in the
/// value (`cds_lfht_add_replace` returns a `struct cds_lfht_node *`): the
/// type of the struct that embeds the node \p Call stores, `&e->node` with
/// `struct entry *e`, when that struct owes cleanups; else \p Returned. The
/// node it hands back is one of the same map's, embedded the same way.
static QualType containerOfStoredNode(const CallExpr *Call, QualType Returned,
                                      const ContractModel &Model,
                                      ASTContext &Ctx) {
  if (!Returned->isPointerType())
    return Returned;
  for (const Expr *Arg : Call->arguments()) {
    const auto *UO = dyn_cast<UnaryOperator>(Arg->IgnoreParenCasts());
    const auto *ME = UO && UO->getOpcode() == UO_AddrOf
                         ? dyn_cast<MemberExpr>(UO->getSubExpr()->IgnoreParens())
                         : nullptr;
    if (!ME || !Ctx.hasSameUnqualifiedType(UO->getType(), Returned))
      continue;
    QualType Base = ME->getBase()->getType();
    QualType Container =
        ME->isArrow() ? Base : Ctx.getPointerType(Base);
    if (!Model.cleanupsOf(Container).empty())
      return Container;
  }
  return Returned;
}

/// The value type of the put's stored value argument, if it names one.
static QualType storedValueType(const CallExpr *Call,
                                std::optional<unsigned> ValueParam) {
  if (!ValueParam || *ValueParam >= Call->getNumArgs())
    return QualType();
  return valueTypeOfArg(Call->getArg(*ValueParam));
}

void RemoveWithoutCleanupCheck::learnFromStore(const CallExpr *Call) {
  const RemovalApi &A = apiOf(Call->getDirectCallee());
  if (*A.Map >= Call->getNumArgs() || *A.Value >= Call->getNumArgs())
    return;
  const ValueDecl *MapDecl = tableDeclOf(Call->getArg(*A.Map));
  QualType T = valueTypeOfArg(Call->getArg(*A.Value));
  if (MapDecl && !T.isNull() && !Model.cleanupsOf(T).empty())
    MapValueTypes.try_emplace(MapDecl, T);
}

/// A libtsmap compute whose callbacks (all resolved) keep every value they
/// find: it only inserts, so it replaces nothing.
static bool insertsOnly(const CallExpr *Call, const ContractModel &Model) {
  const FunctionDecl *Callee = Call->getDirectCallee();
  if (!Callee || !Callee->getIdentifier() ||
      !Callee->getName().starts_with("tsmap_compute"))
    return false;
  std::vector<CallbackArgument> Args = callbackArguments(Call, Model);
  return !Args.empty() && llvm::all_of(Args, [](const CallbackArgument &A) {
    return A.Complete && !A.Targets.empty() &&
           llvm::all_of(A.Targets, [](const ResolvedCallback &T) {
             return keepsEveryPresentValue(T.Fn);
           });
  });
}

void RemoveWithoutCleanupCheck::checkRemoval(
    const CallExpr *Call, const FunctionDecl *Callee,
    llvm::ArrayRef<const Stmt *> Parents, const FunctionDecl *FD,
    ASTContext &Ctx, std::unique_ptr<CFG> &G) {
  const RemovalApi &A = apiOf(Callee);
  const ValueDecl *MapDecl =
      A.Map && *A.Map < Call->getNumArgs() ? tableDeclOf(Call->getArg(*A.Map))
                                           : nullptr;
  // What the map holds, learned from every typed use of it.
  auto Learn = [&](QualType T) {
    if (MapDecl && !T.isNull() && !Model.cleanupsOf(T).empty())
      MapValueTypes.try_emplace(MapDecl, T);
  };
  QualType Stored = A.Replaces ? storedValueType(Call, A.Value) : QualType();
  Learn(Stored);
  if (A.GLib != GLibOp::None &&
      checkGLibRemoval(Call, A, MapDecl, FD, Ctx, G))
    return;
  const Expr *Inner = nullptr;
  const Stmt *Context = contextOf(Call, Parents, Inner);
  const VarDecl *StatusVar = statusVarOf(Context, Inner);

  if (A.Out && *A.Out < Call->getNumArgs()) {
    const Expr *Arg = Call->getArg(*A.Out);
    QualType T = valueTypeOfArg(Arg);
    Learn(T);
    if (isNull(Arg, Ctx)) {
      Discards.push_back({A.Replaces ? Discard::Replace : Discard::NullOut,
                          Call, Callee, MapDecl, T.isNull() ? Stored : T});
      return;
    }
    const auto *UO = dyn_cast<UnaryOperator>(Arg->IgnoreParenCasts());
    if (UO && UO->getOpcode() == UO_AddrOf) {
      if (const VarDecl *V = localVarOf(UO->getSubExpr()))
        checkReceived(Call, Callee, V, StatusVar, A.Replaces, FD, Ctx, G);
      else if (std::optional<ValueUses::Holder> H =
                   ValueUses::localPlace(UO->getSubExpr()))
        // `&op.reg` of a local aggregate: it dies with the function.
        checkReceivedAt(Call, Callee, *H, UO->getSubExpr()->getType(),
                        std::string(Lexer::getSourceText(
                            CharSourceRange::getTokenRange(
                                UO->getSubExpr()->getSourceRange()),
                            Ctx.getSourceManager(), Ctx.getLangOpts())),
                        StatusVar, A.Replaces, FD, Ctx, G);
    }
    return; // Into other memory: handed on.
  }
  if (A.Replaces && !insertsOnly(Call, Model))
    Discards.push_back({Discard::Replace, Call, Callee, MapDecl, Stored});
  if (!A.Returns)
    return;
  if (isIgnoredResult(Context, Inner) || isOnlyTested(Context, Inner)) {
    QualType T = Call->getType();
    if (Model.cleanupsOf(T).empty())
      T = containerOfStoredNode(Call, T, Model, Ctx);
    Discards.push_back({Discard::IgnoredResult, Call, Callee, MapDecl,
                        T->isVoidPointerType() ? QualType() : T});
    return;
  }
  if (StatusVar) // `v = take(...)` / `T *v = take(...)`: the value itself.
    checkReceived(Call, Callee, StatusVar, StatusVar, false, FD, Ctx, G);
  else if (const auto *BO = dyn_cast_or_null<BinaryOperator>(Context);
           BO && BO->getOpcode() == BO_Assign && BO->getRHS() == Inner)
    if (std::optional<ValueUses::Holder> H = ValueUses::localPlace(BO->getLHS()))
      checkReceivedInPlace(Call, Callee, *H, BO->getLHS(), FD, Ctx, G);
}

/// \p FD's CFG, built on first use into \p G; null when clang cannot.
static const CFG *cfgFor(const FunctionDecl *FD, ASTContext &Ctx,
                         std::unique_ptr<CFG> &G) {
  if (!G) {
    CFG::BuildOptions Opts;
    Opts.setAllAlwaysAdd();
    G = CFG::buildCFG(FD, FD->getBody(), &Ctx, Opts);
  }
  return G.get();
}

// ===------------------------------------------------------------------=== //
// GLib's tables: what the model's contracts cannot say
// ===------------------------------------------------------------------=== //

void RemoveWithoutCleanupCheck::learnFromGLib(const CallExpr *Call, GLibOp Op,
                                              ASTContext &Ctx) {
  if (Op == GLibOp::Create)
    return Tables.learnCreation(Call, Ctx);
  // `Entry *e = g_hash_table_lookup(t, k)`: the table holds Entry values.
  const ValueDecl *Table =
      Call->getNumArgs() > 0 ? tableDeclOf(Call->getArg(0)) : nullptr;
  const auto *V = dyn_cast_or_null<VarDecl>(assignedFrom(Call, Ctx));
  if (Table && V && !Model.cleanupsOf(V->getType()).empty())
    MapValueTypes.try_emplace(Table, V->getType());
}

bool RemoveWithoutCleanupCheck::checkGLibRemoval(
    const CallExpr *Call, const RemovalApi &A, const ValueDecl *MapDecl,
    const FunctionDecl *FD, ASTContext &Ctx, std::unique_ptr<CFG> &G) {
  switch (A.GLib) {
  case GLibOp::IterRemove: // On the table the iterator walks.
    if (const CallExpr *Init =
            iteratorInitOf(Call, FD->getBody(), Ctx.getSourceManager()))
      MapDecl = tableDeclOf(Init->getArg(1));
    else
      return true;
    [[fallthrough]];
  case GLibOp::Remove: {
    // On a table created (earlier in the translation unit) with no value
    // destroy function, removing drops only the table's pointer: a value
    // looked up before it (`w = lookup(t, k); remove(t, k); watch_free(w);`),
    // or the iterator's (`iter_next(&it, NULL, &w); iter_remove(&it);
    // watch_free(w);`), is the caller's, checked as a steal's is.
    const GLibTables::Creation *C = MapDecl ? Tables.creationOf(MapDecl) : nullptr;
    const CallExpr *Next =
        A.GLib == GLibOp::IterRemove
            ? iteratorNextOf(Call, FD->getBody(), Ctx.getSourceManager())
            : nullptr;
    if (C && !C->Value.Opaque && !C->Value.Fn)
      if (const VarDecl *V = A.GLib == GLibOp::Remove ? lookedUpValueOf(Call, FD, Ctx)
                                                      : iteratedValueOf(Next)) {
        // `gpointer v` copied into `Watch *w = v`: the table's value type.
        QualType T = V->getType();
        if (!Model.cleanupsOf(T).empty())
          MapValueTypes.try_emplace(MapDecl, T);
        else if (auto It = MapValueTypes.find(MapDecl); It != MapValueTypes.end())
          T = It->second;
        checkReceivedAt(Call, Call->getDirectCallee(), {V, {}}, T,
                        V->getName().str(), nullptr, false, FD, Ctx, G, Next);
        Discards.push_back({Discard::NullOut, Call, Call->getDirectCallee(),
                            MapDecl, QualType(), /*Key=*/true});
        return true;
      }
    [[fallthrough]];
  }
  case GLibOp::RemoveAll: // The table's destroy functions run on the entries.
    Discards.push_back({Discard::NullOut, Call, Call->getDirectCallee(),
                        MapDecl, QualType()});
    Discards.push_back({Discard::NullOut, Call, Call->getDirectCallee(),
                        MapDecl, QualType(), /*Key=*/true});
    return true;
  case GLibOp::ForeachSteal:
    Discards.push_back({Discard::StolenToCallback, Call,
                        Call->getDirectCallee(), MapDecl, QualType()});
    return true;
  case GLibOp::Steal:
    // The caller holds the value from a lookup of the same key; with no
    // lookup in sight, where it is held is not known (FIXME).
    if (const VarDecl *V = lookedUpValueOf(Call, FD, Ctx)) {
      if (MapDecl && !Model.cleanupsOf(V->getType()).empty())
        MapValueTypes.try_emplace(MapDecl, V->getType());
      checkReceived(Call, Call->getDirectCallee(), V, nullptr, false, FD, Ctx, G);
    }
    return true;
  case GLibOp::IterSteal: {
    // The value the iterator's last step gave is the caller's now.
    const CallExpr *Next = iteratorNextOf(Call, FD->getBody(), Ctx.getSourceManager());
    const CallExpr *Init = iteratorInitOf(Call, FD->getBody(), Ctx.getSourceManager());
    const VarDecl *V = iteratedValueOf(Next);
    if (!V || !Init)
      return true;
    const ValueDecl *Table = tableDeclOf(Init->getArg(1));
    QualType T = V->getType();
    if (Model.cleanupsOf(T).empty() && Table)
      if (auto It = MapValueTypes.find(Table); It != MapValueTypes.end())
        T = It->second;
    checkReceivedAt(Call, Call->getDirectCallee(), {V, {}}, T, V->getName().str(),
                    nullptr, false, FD, Ctx, G, Next);
    return true;
  }
  case GLibOp::StealExtended:
    // A null stolen_key drops the stored key (reported when the table owns
    // its keys).
    if (Call->getNumArgs() > 2 && isNull(Call->getArg(2), Ctx))
      Discards.push_back({Discard::Stolen, Call, Call->getDirectCallee(),
                          MapDecl, QualType(), /*Key=*/true});
    // A null stolen_value drops the value: a steal runs no destroy function.
    if (A.Out && *A.Out < Call->getNumArgs() && isNull(Call->getArg(*A.Out), Ctx)) {
      Discards.push_back({Discard::Stolen, Call, Call->getDirectCallee(),
                          MapDecl, QualType()});
      return true;
    }
    return false;
  case GLibOp::Add:
    if (MapDecl) // a set: its key destroy function cleans its values
      KeysAreValues.insert(MapDecl);
    [[fallthrough]];
  case GLibOp::Insert:
  case GLibOp::Replace: {
    learnKey(Call, MapDecl);
    // Right after a lookup of the same key reported it absent, nothing is
    // overwritten.
    const CFG *Graph = A.GLib == GLibOp::Insert ? cfgFor(FD, Ctx, G) : nullptr;
    FailedLookup Lookup =
        Graph ? insertFollowsFailedLookup(Call, FD, *Graph, Ctx) : FailedLookup();
    if (Lookup.Same)
      return true;
    // `insert(t, g_strdup(path), v)` after a lookup of `path` that failed:
    // decided at the end of the TU, from how the table compares its keys.
    if (Lookup.Copied != KeyCopy::None)
      CopiedKeyInserts[Call] = Lookup.Copied;
    // A key present: insert drops the key passed in, replace the old one.
    Discards.push_back({Discard::Replace, Call, Call->getDirectCallee(),
                        MapDecl, QualType(), /*Key=*/true});
    return false;
  }
  default:
    return false;
  }
}

bool RemoveWithoutCleanupCheck::glibHookOf(const Discard &D,
                                           const FunctionDecl *&Hook,
                                           const CallExpr *&Creation) const {
  // A table created where this translation unit cannot see (another file, a
  // parameter) may have any destroy function: nothing is known.
  const GLibTables::Creation *C = D.MapDecl ? Tables.creationOf(D.MapDecl) : nullptr;
  const GLibTables::Destroy *Side = C ? (D.Key ? &C->Key : &C->Value) : nullptr;
  if (!Side || Side->Opaque)
    return false;
  Hook = Side->Fn;
  Creation = C->Call;
  return true;
}

/// The function a GHashTable foreach call (argument 1) names, with its body.
static const FunctionDecl *foreachCallbackOf(const CallExpr *Call) {
  if (Call->getNumArgs() < 2)
    return nullptr;
  const auto *DRE = dyn_cast<DeclRefExpr>(Call->getArg(1)->IgnoreParenCasts());
  const auto *Callback = DRE ? dyn_cast<FunctionDecl>(DRE->getDecl()) : nullptr;
  Callback = Callback ? Callback->getDefinition() : nullptr;
  if (!Callback || !Callback->hasBody() || Callback->getNumParams() < 2)
    return nullptr;
  return Callback;
}

std::optional<GoalMask> RemoveWithoutCleanupCheck::owedByCallback(
    const CallExpr *Call, const std::vector<CleanupContract> &Cs,
    const FunctionDecl *&Callback) {
  Callback = foreachCallbackOf(Call);
  if (!Callback)
    return std::nullopt; // Not visible: trusted.
  return owedByParam(Callback, 1, Cs);
}

std::optional<GoalMask>
RemoveWithoutCleanupCheck::owedByParam(const FunctionDecl *Callback, unsigned Param,
                                       const std::vector<CleanupContract> &Cs) {
  ValueUses Uses(*Ctx, goalsOf(Cs), Policy);
  Uses.useSummaries(&effects(*Ctx));
  Uses.track(Callback->getParamDecl(Param), Callback->getBody());
  return Uses.settle(Uses.all() & ~Uses.dischargedAnywhere(Callback->getBody()));
}

/// The argument of \p Top that \p MapArg, the map argument of the last hop
/// of \p Via, is when every wrapper on the way passes its own parameter
/// (`g_hash_table_foreach (t, fn, d)` in `each (t, fn, d)`); null otherwise.
static const Expr *mapArgumentAtTop(const Expr *MapArg, llvm::ArrayRef<WrapperHop> Via,
                                    const CallExpr *Top) {
  for (size_t K = Via.size(); K-- > 0 && MapArg;) {
    const auto *DRE = dyn_cast<DeclRefExpr>(MapArg->IgnoreParenImpCasts());
    const auto *P = DRE ? dyn_cast<ParmVarDecl>(DRE->getDecl()) : nullptr;
    const CallExpr *Site = K == 0 ? Top : Via[K - 1].Inner;
    if (!P || P->getDeclContext() != Via[K].Wrapper ||
        P->getFunctionScopeIndex() >= Site->getNumArgs())
      return nullptr;
    MapArg = Site->getArg(P->getFunctionScopeIndex());
  }
  return MapArg;
}

std::optional<std::pair<const FunctionDecl *, unsigned>>
RemoveWithoutCleanupCheck::wrappedWalkCallback(const CallExpr *Call,
                                               const ValueDecl *Map) {
  if (!Wrappers)
    Wrappers = std::make_unique<WrapperContracts>(Model);
  for (const WrappedCallbackArgument &W : Wrappers->arguments(Call)) {
    const WrapperHop &Last = W.Via.back();
    const FunctionDecl *InnerFn = Last.Inner->getDirectCallee();
    bool Foreach = !Last.Direct && InnerFn && InnerFn->getIdentifier() &&
                   InnerFn->getName() == "g_hash_table_foreach";
    std::optional<unsigned> Value = Foreach ? std::optional<unsigned>(1)
                                            : loopValueArgument(Last);
    const FunctionDecl *Fn = W.Arg.Targets.size() == 1 && W.Arg.Complete &&
                                     W.Arg.Targets[0].Fn
                                 ? W.Arg.Targets[0].Fn->getDefinition()
                                 : nullptr;
    unsigned MapIndex = Foreach ? 0 : 1; // `_foreach (t, ...)`, `_iter_init (&it, t)`
    if (!Value || !Fn || !Fn->hasBody() || *Value >= Fn->getNumParams() ||
        Last.Inner->getNumArgs() <= MapIndex)
      continue;
    const Expr *Table = mapArgumentAtTop(Last.Inner->getArg(MapIndex), W.Via, Call);
    if (Table && tableDeclOf(Table) == Map)
      return std::make_pair(Fn, *Value);
  }
  return std::nullopt;
}

/// Whether every return of \p FD returns a nonzero integer constant (TRUE):
/// a foreach_remove or foreach_steal callback that takes every entry.
static bool returnsTrueAlways(const FunctionDecl *FD, ASTContext &Ctx) {
  bool Any = false, All = true;
  std::function<void(const Stmt *)> Walk = [&](const Stmt *S) {
    if (!S || !All)
      return;
    if (const auto *R = dyn_cast<ReturnStmt>(S)) {
      Any = true;
      Expr::EvalResult V;
      const Expr *E = R->getRetValue();
      All = E && !E->isValueDependent() && E->EvaluateAsInt(V, Ctx) &&
            V.Val.getInt().getBoolValue();
      return;
    }
    for (const Stmt *C : S->children())
      Walk(C);
  };
  Walk(FD->getBody());
  return Any && All;
}

bool RemoveWithoutCleanupCheck::drainedBefore(const CallExpr *Call,
                                              const ValueDecl *MapDecl) const {
  if (!MapDecl || !Ctx)
    return false;
  const CallExpr *Drain = previousCallInBlock(Call, *Ctx);
  const FunctionDecl *Fn = Drain ? Drain->getDirectCallee() : nullptr;
  if (!Fn || !Fn->getIdentifier() ||
      (Fn->getName() != "g_hash_table_foreach_remove" &&
       Fn->getName() != "g_hash_table_foreach_steal") ||
      Drain->getNumArgs() < 2 || tableDeclOf(Drain->getArg(0)) != MapDecl)
    return false;
  const FunctionDecl *Callback = foreachCallbackOf(Drain);
  return Callback && returnsTrueAlways(Callback, *Ctx);
}

void RemoveWithoutCleanupCheck::checkStolenToCallback(
    const Discard &D, const std::vector<CleanupContract> &Cs, bool Removed) {
  const FunctionDecl *Callback = nullptr;
  std::optional<GoalMask> Left = owedByCallback(D.Call, Cs, Callback);
  if (!Left || !*Left)
    return;
  GoalMask Owed = *Left;
  unsigned First = llvm::countr_zero(Owed);
  const CleanupContract &C = Cs[First < Cs.size() ? First : 0];
  diag(D.Call->getBeginLoc(),
       "values %select{stolen|removed}5 by %0 are handed to callback %1, which "
       "does not call '%4'; %select{a %select{stolen|removed}5 value keeps|the "
       "field '%3' of a %select{stolen|removed}5 value keeps}2 a resource that "
       "is never released")
      << D.Callee << Callback << (C.Field != nullptr)
      << C.fieldPath() << C.FnName << Removed
      << D.Call->getSourceRange();
  diag(Callback->getLocation(),
       "%0 takes the %select{stolen values; a steal runs no destroy "
       "function|removed values; the table has no value destroy function}1",
       DiagnosticIDs::Note)
      << Callback << Removed;
  noteContract(C, D.ValueType);
}

// ===------------------------------------------------------------------=== //
// A received value: every path cleans it or hands it on
// ===------------------------------------------------------------------=== //

EffectAnalysis &RemoveWithoutCleanupCheck::effects(ASTContext &Ctx) {
  if (!Effects) {
    EffectOptions Opts;
    Opts.Deallocators = Policy.Deallocators;
    Opts.MaxCallDepth = Policy.MaxCallDepth;
    Effects = std::make_unique<EffectAnalysis>(Ctx, Model, std::move(Opts));
  }
  return *Effects;
}

std::vector<CleanupGoal> RemoveWithoutCleanupCheck::goalsOf(
    const std::vector<CleanupContract> &Cs) const {
  std::vector<CleanupGoal> Goals;
  for (const CleanupContract &C : Cs) {
    CleanupGoal G{C.FnName, C.Via.empty() ? C.Field : C.Via.front()};
    if (!C.Via.empty()) { // `s->core.idle`: on `core`, down to `idle`.
      G.Below.append(C.Via.begin() + 1, C.Via.end());
      G.Below.push_back(C.Field);
    }
    Goals.push_back(std::move(G));
  }
  return Goals;
}

void RemoveWithoutCleanupCheck::noteContract(const CleanupContract &C,
                                             QualType ValueType) {
  if (C.Field) {
    // A contract from the options has the field itself as its location.
    bool FromOptions = C.Loc == C.Field->getLocation();
    diag(C.Field->getLocation(),
         FromOptions ? "field '%0' needs cleanup '%1' by option 'Contracts'"
                     : "field '%0' is declared TSMAP_CLEANUP(%1) here",
         DiagnosticIDs::Note)
        << C.fieldPath() << C.FnName;
    return;
  }
  QualType T = ValueType->isPointerType() ? ValueType->getPointeeType() : ValueType;
  SourceLocation Loc = C.Loc;
  if (const RecordDecl *RD = T->getAsRecordDecl())
    Loc = RD->getLocation();
  if (Loc.isMacroID())
    return;
  diag(Loc, "%0 is declared TSMAP_CLEANUP(%1) here", DiagnosticIDs::Note)
      << T.getUnqualifiedType() << C.FnName;
}

/// A leaking path under every reading of the statuses the path tests (under
/// the reading option StatusConvention names, if it names one).
std::optional<MissedCleanup> RemoveWithoutCleanupCheck::missedOnEveryReading(
    const CFG &G, const FunctionDecl *FD, const CallExpr *Call,
    const VarDecl *StatusVar, bool Replaces, ValueUses &Uses,
    const CallExpr *Refill) const {
  std::optional<MissedCleanup> First;
  for (StatusReading R : readingsOf(Convention)) {
    bool Used = false;
    RemovalStatus Status{Call, StatusVar, Replaces, R, &Used, Refill};
    std::optional<MissedCleanup> Miss = findMissedCleanup(G, FD, Status, Uses);
    if (!Miss)
      return std::nullopt;
    if (!First)
      First = Miss;
    if (!Used) // No test depended on the reading: the other one agrees.
      break;
  }
  return First;
}

void RemoveWithoutCleanupCheck::checkReceived(
    const CallExpr *Call, const FunctionDecl *Callee, const VarDecl *Value,
    const VarDecl *StatusVar, bool Replaces, const FunctionDecl *FD,
    ASTContext &Ctx, std::unique_ptr<CFG> &G) {
  checkReceivedAt(Call, Callee, {Value, {}}, Value->getType(),
                  Value->getName().str(), StatusVar == Value ? nullptr : StatusVar,
                  Replaces, FD, Ctx, G);
}

void RemoveWithoutCleanupCheck::checkReceivedInPlace(
    const CallExpr *Call, const FunctionDecl *Callee,
    const ValueUses::Holder &Place, const Expr *LValue, const FunctionDecl *FD,
    ASTContext &Ctx, std::unique_ptr<CFG> &G) {
  std::string Name = Lexer::getSourceText(
                         CharSourceRange::getTokenRange(LValue->getSourceRange()),
                         Ctx.getSourceManager(), Ctx.getLangOpts())
                         .str();
  checkReceivedAt(Call, Callee, Place, LValue->getType(), Name, nullptr, false,
                  FD, Ctx, G);
}

/// The goals the statements of \p Body written after \p From and before
/// \p To discharge (in source order, branches or not: quiet rather than noisy).
static GoalMask dischargedBetween(ValueUses &Uses, const Stmt *Body,
                                  const CallExpr *From, const CallExpr *To,
                                  ASTContext &Ctx) {
  const SourceManager &SM = Ctx.getSourceManager();
  GoalMask Mask = 0;
  std::function<void(const Stmt *)> Walk = [&](const Stmt *S) {
    if (!S)
      return;
    if (S != To && SM.isBeforeInTranslationUnit(From->getEndLoc(), S->getBeginLoc()) &&
        SM.isBeforeInTranslationUnit(S->getEndLoc(), To->getBeginLoc()))
      Mask |= Uses.discharged(S);
    for (const Stmt *C : S->children())
      Walk(C);
  };
  Walk(Body);
  return Mask;
}

/// \p Jump (a `continue` or `break` a leaking path took) if it belongs to a
/// loop around the removal \p Call: the value is lost there.
static const Stmt *jumpOutOfRemovalLoop(const Stmt *Jump, const CallExpr *Call,
                                        ASTContext &Ctx) {
  if (!Jump)
    return nullptr;
  const Stmt *Cur = Jump;
  for (unsigned Depth = 0; Depth < 64; ++Depth) {
    DynTypedNodeList Parents = Ctx.getParents(*Cur);
    const Stmt *P = Parents.size() == 1 ? Parents[0].get<Stmt>() : nullptr;
    if (!P || (isa<BreakStmt>(Jump) && isa<SwitchStmt>(P)))
      return nullptr; // a switch's break: the path goes on in the function
    if (isa<ForStmt, WhileStmt, DoStmt>(P)) {
      const SourceManager &SM = Ctx.getSourceManager();
      SourceRange R = P->getSourceRange();
      bool Around = !SM.isBeforeInTranslationUnit(Call->getBeginLoc(), R.getBegin()) &&
                    !SM.isBeforeInTranslationUnit(R.getEnd(), Call->getBeginLoc());
      return Around ? Jump : nullptr;
    }
    Cur = P;
  }
  return nullptr;
}

void RemoveWithoutCleanupCheck::checkReceivedAt(
    const CallExpr *Call, const FunctionDecl *Callee,
    const ValueUses::Holder &Place, QualType Type, const std::string &Name,
    const VarDecl *StatusVar, bool Replaces, const FunctionDecl *FD,
    ASTContext &Ctx, std::unique_ptr<CFG> &G, const CallExpr *Refill) {
  std::vector<CleanupContract> Cs = Model.cleanupsOf(Type);
  if (Cs.empty() || Name.empty())
    return;
  if (!cfgFor(FD, Ctx, G))
    return;
  ValueUses Uses(Ctx, goalsOf(Cs), Policy);
  Uses.useSummaries(&effects(Ctx));
  Uses.track(Place, FD->getBody());
  // An iterator's value cleaned between its step and the removal (`watch_free
  // (w); g_hash_table_iter_remove (&it);` on a table that owns nothing): done.
  if (Refill && Uses.settle(Uses.all() & ~dischargedBetween(Uses, FD->getBody(),
                                                           Refill, Call, Ctx)) == 0)
    return;
  std::optional<MissedCleanup> Miss =
      missedOnEveryReading(*G, FD, Call, StatusVar, Replaces, Uses, Refill);
  if (!Miss)
    return;
  unsigned First = llvm::countr_zero(Miss->Missing);
  const CleanupContract &C = Cs[First < Cs.size() ? First : 0];
  diag(Call->getBeginLoc(),
       "value removed by %0 into '%1' is not cleaned up on every path; "
       "%select{it keeps|its field '%3' keeps}2 a resource that '%4' must "
       "release")
      << Callee << Name << (C.Field != nullptr)
      << C.fieldPath() << C.FnName
      << Call->getSourceRange();
  if (Miss->Freed)
    diag(Miss->Freed->getBeginLoc(),
         "'%0' is destroyed here without '%1'; %2 is a deallocator, not a "
         "hand-off",
         DiagnosticIDs::Note)
        << Name << C.FnName << Miss->Freed->getDirectCallee();
  const Stmt *Jump = Miss->How == MissedCleanup::AtExit && !Miss->AtReturn
                         ? jumpOutOfRemovalLoop(Miss->Jump, Call, Ctx)
                         : nullptr;
  switch (Miss->How) {
  case MissedCleanup::AtExit:
    if (Jump) { // `if (c->id < 0) continue;`: dropped there, not at the end
      diag(Jump->getBeginLoc(),
           "'%0' is neither cleaned up with '%1' nor handed on before the loop "
           "%select{goes on|is left}2 here",
           DiagnosticIDs::Note)
          << Name << C.FnName << isa<BreakStmt>(Jump);
      break;
    }
    diag(Miss->Exit,
         "'%0' is neither cleaned up with '%1' nor handed on before the "
         "function %select{ends|returns}2 here",
         DiagnosticIDs::Note)
        << Name << C.FnName << Miss->AtReturn;
    break;
  case MissedCleanup::Overwritten:
    diag(Miss->Exit,
         "'%0' is given another value here before it is cleaned up with '%1' "
         "or handed on; the removed value is lost",
         DiagnosticIDs::Note)
        << Name << C.FnName;
    break;
  case MissedCleanup::StolenAndDropped:
    diag(Miss->Exit,
         "the value is stolen from '%0' here and dropped before it is cleaned "
         "up with '%1' or handed on",
         DiagnosticIDs::Note)
        << Name << C.FnName;
    break;
  case MissedCleanup::NextValue:
    diag(Miss->Exit,
         "the loop comes back to %2, which overwrites '%0' before it is "
         "cleaned up with '%1' or handed on",
         DiagnosticIDs::Note)
        << Name << C.FnName << Refill->getDirectCallee();
    break;
  case MissedCleanup::NextRemoval:
    diag(Miss->Exit,
         "the loop comes back to the removal, which overwrites '%0' before it "
         "is cleaned up with '%1' or handed on",
         DiagnosticIDs::Note)
        << Name << C.FnName;
    break;
  }
  noteContract(C, Type);
}

// ===------------------------------------------------------------------=== //
// A discarded value: the eviction hook must clean it
// ===------------------------------------------------------------------=== //

void RemoveWithoutCleanupCheck::noteInsert(const CallExpr *Call,
                                           const RemovalApi &A) {
  if (!(A.Stores || A.Replaces) || !A.Map || !A.Value ||
      std::max(*A.Map, *A.Value) >= Call->getNumArgs())
    return;
  // Only a value named by a local or parameter: the same object in both.
  const Expr *V = Call->getArg(*A.Value)->IgnoreParenCasts();
  if (const auto *UO = dyn_cast<UnaryOperator>(V); UO && UO->getOpcode() == UO_AddrOf)
    V = UO->getSubExpr()->IgnoreParenCasts();
  const auto *DRE = dyn_cast<DeclRefExpr>(V);
  const auto *Var = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
  if (Var && Var->hasLocalStorage())
    if (const ValueDecl *Map = tableDeclOf(Call->getArg(*A.Map)))
      Inserts.push_back({Var, Map});
}

bool RemoveWithoutCleanupCheck::ownsValues(const ValueDecl *Map) const {
  if (const GLibTables::Creation *C = Tables.creationOf(Map))
    return C->Value.Fn && !C->Value.Opaque;
  auto Created = ConfigHooks.find(Map);
  return Model.evictionHookOf(Map).has_value() ||
         (Created != ConfigHooks.end() && Created->second.Set);
}

llvm::SmallPtrSet<const ValueDecl *, 8> RemoveWithoutCleanupCheck::indexTables() const {
  llvm::SmallPtrSet<const ValueDecl *, 8> Index;
  for (const Insert &Owned : Inserts) {
    if (!ownsValues(Owned.MapDecl))
      continue;
    for (const Insert &Other : Inserts)
      if (Other.MapDecl != Owned.MapDecl && Other.Value == Owned.Value)
        // A GHashTable seen created without a value destroy function: made
        // not to own what it holds.
        if (const GLibTables::Creation *C = Tables.creationOf(Other.MapDecl);
            C && !C->Value.Fn && !C->Value.Opaque)
          Index.insert(Other.MapDecl);
  }
  return Index;
}

void RemoveWithoutCleanupCheck::onEndOfTranslationUnit() {
  Borrowing = indexTables();
  for (const Discard &D : Discards)
    checkDiscard(D);
  Inserts.clear();
  Borrowing.clear();
  Discards.clear();
  for (const SelfEvictingMap &M : SelfEvicting) { // A map that evicts on its own.
    auto It = MapValueTypes.find(M.Map);
    if (It == MapValueTypes.end() || !Ctx)
      continue;
    std::vector<CleanupContract> Cs = Model.cleanupsOf(It->second);
    if (const CleanupContract *C =
            reportSelfEviction(*this, M, Cs, Model, *Ctx, Policy))
      noteContract(*C, It->second);
  }
  SelfEvicting.clear();
  ConfigHooks.clear();
  MadeByHelper.clear();
  Tables.clear();
  CopiedKeyInserts.clear();
  MapValueTypes.clear();
  MapKeyTypes.clear();
  KeysAreValues.clear();
  Apis.clear();
  Analyzed.clear();
  Effects.reset();
  Wrappers.reset();
  Ctx = nullptr;
}

const CleanupContract *RemoveWithoutCleanupCheck::missedByHook(
    const FunctionDecl *&Hook, const std::string &HookName,
    const std::vector<CleanupContract> &Cs) const {
  if (!Hook)
    Hook = Ctx ? ContractModel::lookupFunction(*Ctx, HookName) : nullptr;
  if (Hook && Hook->getDefinition())
    Hook = Hook->getDefinition();
  // Not visible: trusted to clean, unless it is a deallocator (g_free).
  if (!Hook || (!Hook->hasBody() && !Policy.isDeallocator(HookName)))
    return nullptr;
  if (Hook->hasBody() && hookHandsValueToUnseen(Hook, Policy))
    return nullptr;
  auto Calls = [&](llvm::StringRef Name) {
    return callsFunctionNamed(Hook, Name, Policy.MaxCallDepth);
  };
  bool CallsValueCleanup = llvm::any_of(Cs, [&](const CleanupContract &C) {
    return !C.Field && Calls(C.FnName);
  });
  if (CallsValueCleanup)
    return nullptr;
  for (const CleanupContract &C : Cs)
    if (!Calls(C.FnName))
      return &C;
  return nullptr;
}

bool RemoveWithoutCleanupCheck::insertsAbsentCopy(const Discard &D) const {
  auto It = CopiedKeyInserts.find(D.Call);
  if (D.K != Discard::Replace || It == CopiedKeyInserts.end() || !D.MapDecl)
    return false;
  const GLibTables::Creation *C = Tables.creationOf(D.MapDecl);
  return C && copyComparesEqual(It->second, C->Equal);
}

void RemoveWithoutCleanupCheck::checkDiscard(const Discard &D) {
  if (insertsAbsentCopy(D))
    return;
  if (D.Key)
    return checkKeyDiscard(D);
  // An index of values another map owns (`by_fd` beside `watches`): its
  // values are borrowed, and dropping them releases nothing.
  if (D.MapDecl && Borrowing.contains(D.MapDecl))
    return;
  QualType T = D.ValueType;
  if ((T.isNull() || Model.cleanupsOf(T).empty()) && D.MapDecl)
    if (auto It = MapValueTypes.find(D.MapDecl); It != MapValueTypes.end())
      T = It->second;
  if (T.isNull())
    return;
  std::vector<CleanupContract> Cs = Model.cleanupsOf(T);
  if (Cs.empty())
    return;
  const CleanupContract *Missed = &Cs.front();
  const FunctionDecl *Hook = nullptr;
  const CallExpr *Creation = nullptr; // A GLib table's, when it is seen.
  std::optional<std::string> HookName;
  if (D.K == Discard::StolenToCallback)
    return checkStolenToCallback({D.K, D.Call, D.Callee, D.MapDecl, T}, Cs);
  bool GLib = D.K != Discard::Stolen && apiOf(D.Callee).GLib != GLibOp::None &&
              !(D.MapDecl && Model.evictionHookOf(D.MapDecl));
  if (GLib) {
    // A GHashTable's hook is the destroy function it was created with.
    if (!glibHookOf(D, Hook, Creation))
      return;
    // A destroy right after a foreach_remove or _steal that took every entry
    // finds the table empty.
    if (apiOf(D.Callee).GLib == GLibOp::RemoveAll && drainedBefore(D.Call, D.MapDecl))
      return;
    // `g_hash_table_foreach (t, free_one, NULL); g_hash_table_remove_all (t);`
    // on a table that owns nothing: the values were cleaned just before.
    // The same through a wrapper of the walk (WrapperContracts), whose
    // callback is handed each value.
    if (!Hook && apiOf(D.Callee).GLib == GLibOp::RemoveAll) {
      const CallExpr *Prev = Ctx ? previousCallInBlock(D.Call, *Ctx) : nullptr;
      const FunctionDecl *PrevFn = Prev ? Prev->getDirectCallee() : nullptr;
      const FunctionDecl *Callback = nullptr;
      if (PrevFn && PrevFn->getIdentifier() && PrevFn->getName() == "g_hash_table_foreach" &&
          Prev->getNumArgs() >= 2 && tableDeclOf(Prev->getArg(0)) == D.MapDecl) {
        std::optional<GoalMask> Left = owedByCallback(Prev, Cs, Callback);
        if (Callback && Left && !*Left)
          return;
      } else if (auto W = Prev ? wrappedWalkCallback(Prev, D.MapDecl) : std::nullopt) {
        std::optional<GoalMask> Left = owedByParam(W->first, W->second, Cs);
        if (Left && !*Left)
          return;
      }
    }
    // With no destroy function, a foreach_remove's callback is where the
    // value is cleaned (the table then drops it): read like a steal's.
    if (!Hook && D.Callee->getName() == "g_hash_table_foreach_remove") {
      const FunctionDecl *Callback = nullptr;
      std::optional<GoalMask> Left = owedByCallback(D.Call, Cs, Callback);
      if (!Left || !*Left)
        return;
      if (Callback) // visible and leaves a cleanup: name it
        return checkStolenToCallback({D.K, D.Call, D.Callee, D.MapDecl, T}, Cs,
                                     /*Removed=*/true);
    }
    if (!Hook && KeysAreValues.contains(D.MapDecl)) {
      // The keys are the values (`insert(t, e, e)`): the key destroy
      // function runs on them too.
      Discard AsKey = D;
      AsKey.Key = true;
      const CallExpr *Unused = nullptr;
      if (!glibHookOf(AsKey, Hook, Unused))
        return;
    }
    if (Hook)
      HookName = Hook->getName().str();
  } else if (D.K != Discard::IgnoredResult && D.K != Discard::Stolen) {
    // Which hook runs is only known for a map named by a variable or field
    // that could carry TSMAP_EVICTS_WITH; a map passed in as a parameter (or
    // computed) belongs to the caller, whose hook we cannot see.
    if (!D.MapDecl)
      return;
    auto Created = ConfigHooks.find(D.MapDecl);
    if (Created != ConfigHooks.end() && Created->second.Unknown)
      return;
    if (Created != ConfigHooks.end() && Created->second.Set) {
      // The config's on_entry_evicted is the hook (set to null: none,
      // whatever the map's annotation says).
      Hook = Created->second.Hook;
      if (Hook)
        HookName = Hook->getNameAsString();
    } else {
      HookName = Model.evictionHookOf(D.MapDecl);
      // A libtsmap map gets its hook from the config it is created with: one
      // created where this translation unit cannot see (a global created in
      // another file, a field set up elsewhere) and not annotated has a hook
      // that is not known, as a GLib table's created elsewhere has. A
      // file-static map is created here or nowhere, unless a helper it is
      // handed to or assigned from creates it. (A map of an annotated
      // API states its hook with TSMAP_EVICTS_WITH or has none.)
      const auto *VD = dyn_cast<VarDecl>(D.MapDecl);
      bool FileStatic = VD && VD->hasGlobalStorage() && !VD->isExternallyVisible() &&
                        !MadeByHelper.contains(VD->getCanonicalDecl());
      // Created here by a config that leaves the hook unset (a field
      // `tsmap_create (&cfg, &m->conns)`): no hook but the annotation's.
      bool CreatedHere = Created != ConfigHooks.end();
      if (!HookName && isRuntimeMap(D.MapDecl) && !FileStatic && !CreatedHere &&
          !isa<ParmVarDecl>(D.MapDecl) && !(VD && VD->hasLocalStorage()))
        return;
    }
    if (!HookName && isa<ParmVarDecl>(D.MapDecl))
      return;
  }
  if (HookName && !(Missed = missedByHook(Hook, *HookName, Cs)))
    return;
  const CleanupContract &C = *Missed;
  // A call that closes the map (tsmap_close, tsmap_destroy, g_hash_table_destroy,
  // g_hash_table_unref) discards every value left in it: the message names it.
  llvm::StringRef CalleeName =
      D.Callee && D.Callee->getIdentifier() ? D.Callee->getName() : llvm::StringRef();
  bool Closes = D.K == Discard::NullOut && D.Call->getNumArgs() >= 1 &&
                (CalleeName == "tsmap_close" || CalleeName == "tsmap_destroy" ||
                 CalleeName == "g_hash_table_destroy" || CalleeName == "g_hash_table_unref");
  std::string MapText;
  if (Closes && Ctx)
    MapText = sourceText(D.Call->getArg(0)->IgnoreParenImpCasts(), *Ctx, 80);
  if (Closes && MapText.empty())
    Closes = false;
  const char *Message = nullptr;
  switch (D.K) {
  case Discard::IgnoredResult:
    Message = "result of %0 is a removed value and is ignored; "
              "%select{it keeps|its field '%2' keeps}1 a resource that '%3' "
              "must release";
    break;
  case Discard::NullOut:
    if (Closes) // The whole map: say which.
      Message = Hook ? "values left in '%5' by %0 go to eviction hook '%4', "
                       "which does not call '%3'; %select{each keeps|the field "
                       "'%2' of each keeps}1 a resource that is never released"
                     : "values left in '%5' by %0 are discarded and the map "
                       "has no eviction hook; %select{each keeps|the field "
                       "'%2' of each keeps}1 a resource that '%3' must release";
    else
      Message = Hook ? "value removed by %0 is discarded to eviction hook '%4', "
                       "which does not call '%3'; %select{it keeps|its field "
                       "'%2' keeps}1 a resource that is never released"
                     : "value removed by %0 is discarded and the map has no "
                       "eviction hook; %select{it keeps|its field '%2' keeps}1 "
                       "a resource that '%3' must release";
    break;
  case Discard::Stolen:
    Message = "value stolen by %0 is discarded; a steal runs no destroy "
              "function, and %select{it keeps|its field '%2' keeps}1 a "
              "resource that '%3' must release";
    break;
  case Discard::StolenToCallback:
    return;
  case Discard::Replace:
    Message = Hook ? "%0 may overwrite a value, and the map's eviction hook "
                     "'%4' does not call '%3'; %select{it keeps|its field '%2' "
                     "keeps}1 a resource that is never released"
                   : "%0 may overwrite a value and the map has no eviction "
                     "hook; %select{it keeps|its field '%2' keeps}1 a "
                     "resource that '%3' must release";
    break;
  }
  diag(D.Call->getBeginLoc(), Message)
      << D.Callee << (C.Field != nullptr) << C.fieldPath()
      << C.FnName << (HookName ? *HookName : std::string()) << MapText
      << D.Call->getSourceRange();
  // A function with no body here (a library's: g_free) shows nothing at its
  // declaration: the table's creation, which installed it, is what to change.
  if (Hook && Creation && !Hook->hasBody())
    diag(Creation->getBeginLoc(),
         "eviction hook '%0' is installed here and does not call '%1'",
         DiagnosticIDs::Note)
        << Hook->getName() << C.FnName;
  else if (Hook)
    diag(Hook->getLocation(), "eviction hook '%0' does not call '%1'",
         DiagnosticIDs::Note)
        << Hook->getName() << C.FnName;
  if (!Hook && Creation)
    diag(Creation->getBeginLoc(),
         "the table is created here without a value destroy function",
         DiagnosticIDs::Note);
  noteContract(C, T);
}

// ===------------------------------------------------------------------=== //
// A value-level cleanup function that forgets a field-level cleanup
// ===------------------------------------------------------------------=== //

static QualType recordType(ASTContext &Ctx, const RecordDecl *RD) {
#if LLVM_VERSION_MAJOR < 22 // LLVM 22 names record types through TagType.
  return Ctx.getRecordType(RD);
#else
  return Ctx.getCanonicalTagType(RD);
#endif
}

void RemoveWithoutCleanupCheck::checkCleanupFunction(const RecordDecl *RD,
                                                     ASTContext &Ctx) {
  if (RD->field_empty())
    return;
  std::vector<CleanupContract> Cs =
      Model.cleanupsOf(recordType(Ctx, RD));
  std::vector<CleanupContract> Fields;
  const CleanupContract *Whole = nullptr;
  for (const CleanupContract &C : Cs)
    (C.Field ? Fields.push_back(C) : (void)(Whole = Whole ? Whole : &C));
  if (!Whole || Fields.empty())
    return;
  const FunctionDecl *Fn = ContractModel::lookupFunction(Ctx, Whole->FnName);
  if (!Fn || !Fn->hasBody() || Fn->getNumParams() == 0)
    return;
  ValueUses Uses(Ctx, goalsOf(Fields), Policy);
  Uses.useSummaries(&effects(Ctx));
  Uses.track(Fn->getParamDecl(0), Fn->getBody());
  GoalMask Done = Uses.dischargedAnywhere(Fn->getBody());
  for (size_t I = 0; I < Fields.size(); ++I) {
    if (Done & (GoalMask(1) << I))
      continue;
    diag(Fn->getLocation(),
         "cleanup function %0 of %1 does not call '%2' on field '%3'; a "
         "removed value keeps that resource")
        << Fn << recordType(Ctx, RD) << Fields[I].FnName
        << Fields[I].fieldPath();
    noteContract(Fields[I], QualType());
  }
}

} // namespace clang::tidy::tsmap
