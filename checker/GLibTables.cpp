//===--- GLibTables.cpp - GLib's GHashTable value lifecycle ---------------===//

#include "GLibTables.h"
#include "CallOutcome.h"
#include "ObjectOrigins.h"
#include "Publication.h"
#include "RcuSections.h"
#include "clang/AST/ParentMapContext.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/FoldingSet.h"
#include "llvm/ADT/StringSwitch.h"
#include <vector>

namespace clang::tidy::tsmap {

GLibOp glibOpOf(const FunctionDecl *FD) {
  if (!FD || !FD->getIdentifier())
    return GLibOp::None;
  // One .Case per name: .Cases is deprecated in LLVM 22.
  return llvm::StringSwitch<GLibOp>(FD->getName())
      .Case("g_hash_table_new", GLibOp::Create)
      .Case("g_hash_table_new_full", GLibOp::Create)
      .Case("g_hash_table_remove", GLibOp::Remove)
      .Case("g_hash_table_iter_remove", GLibOp::IterRemove)
      .Case("g_hash_table_remove_all", GLibOp::RemoveAll)
      .Case("g_hash_table_foreach_remove", GLibOp::RemoveAll)
      // Destroying the table (or dropping what may be its last reference)
      // removes every entry, through the destroy functions.
      .Case("g_hash_table_destroy", GLibOp::RemoveAll)
      .Case("g_hash_table_unref", GLibOp::RemoveAll)
      .Case("g_hash_table_steal", GLibOp::Steal)
      .Case("g_hash_table_iter_steal", GLibOp::IterSteal)
      .Case("g_hash_table_steal_extended", GLibOp::StealExtended)
      .Case("g_hash_table_foreach_steal", GLibOp::ForeachSteal)
      .Case("g_hash_table_insert", GLibOp::Insert)
      .Case("g_hash_table_replace", GLibOp::Replace)
      .Case("g_hash_table_add", GLibOp::Add)
      .Case("g_hash_table_lookup", GLibOp::Lookup)
      .Case("g_hash_table_contains", GLibOp::Lookup)
      .Case("g_hash_table_lookup_extended", GLibOp::Lookup)
      .Default(GLibOp::None);
}

const ValueDecl *tableDeclOf(const Expr *E) {
  E = E->IgnoreParenCasts();
  if (const auto *UO = dyn_cast<UnaryOperator>(E); UO && UO->getOpcode() == UO_AddrOf)
    E = UO->getSubExpr()->IgnoreParenCasts();
  if (const auto *DRE = dyn_cast<DeclRefExpr>(E)) // one key for every redeclaration
    return cast<ValueDecl>(DRE->getDecl()->getCanonicalDecl());
  if (const auto *ME = dyn_cast<MemberExpr>(E))
    return ME->getMemberDecl();
  return nullptr;
}

/// The last call of \p Name with \p NumArgs arguments in \p Body before
/// \p Use that is given the same iterator first.
static const CallExpr *lastIteratorCall(const CallExpr *Use, const Stmt *Body,
                                        const SourceManager &SM, llvm::StringRef Name,
                                        unsigned NumArgs) {
  const ValueDecl *Iter = Use->getNumArgs() ? tableDeclOf(Use->getArg(0)) : nullptr;
  if (!Iter || !Body)
    return nullptr;
  llvm::SmallVector<const CallExpr *, 16> Calls;
  collectCalls(Body, Calls);
  const CallExpr *Last = nullptr;
  for (const CallExpr *C : Calls) {
    const FunctionDecl *FD = C->getDirectCallee();
    if (FD && FD->getIdentifier() && FD->getName() == Name &&
        C->getNumArgs() == NumArgs && tableDeclOf(C->getArg(0)) == Iter &&
        SM.isBeforeInTranslationUnit(C->getBeginLoc(), Use->getBeginLoc()))
      Last = C;
  }
  return Last;
}

const CallExpr *iteratorInitOf(const CallExpr *Use, const Stmt *Body,
                               const SourceManager &SM) {
  return lastIteratorCall(Use, Body, SM, "g_hash_table_iter_init", 2);
}

const CallExpr *iteratorNextOf(const CallExpr *Use, const Stmt *Body,
                               const SourceManager &SM) {
  return lastIteratorCall(Use, Body, SM, "g_hash_table_iter_next", 3);
}

/// The local pointer whose address \p E is (`&v`, `(gpointer *) &w`): where
/// an out-parameter writes a value; else null.
static const VarDecl *addressedLocalPointer(const Expr *E) {
  const auto *UO = dyn_cast<UnaryOperator>(E->IgnoreParenCasts());
  const auto *DRE = UO && UO->getOpcode() == UO_AddrOf
                        ? dyn_cast<DeclRefExpr>(UO->getSubExpr()->IgnoreParenCasts())
                        : nullptr;
  const auto *V = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
  return V && V->hasLocalStorage() && V->getType()->isPointerType() ? V : nullptr;
}

const VarDecl *iteratedKeyOf(const CallExpr *Next) {
  return Next && Next->getNumArgs() > 1 ? addressedLocalPointer(Next->getArg(1)) : nullptr;
}

const VarDecl *iteratedValueOf(const CallExpr *Next) {
  return Next ? addressedLocalPointer(Next->getArg(2)) : nullptr;
}

bool sameExpr(const Expr *A, const Expr *B, const ASTContext &Ctx) {
  if (!A || !B)
    return false;
  llvm::FoldingSetNodeID IA, IB;
  A->IgnoreParenCasts()->Profile(IA, Ctx, /*Canonical=*/true);
  B->IgnoreParenCasts()->Profile(IB, Ctx, /*Canonical=*/true);
  return IA == IB;
}

const ValueDecl *assignedFrom(const CallExpr *Call, ASTContext &Ctx) {
  DynTypedNode Node = DynTypedNode::create(*Call);
  const Expr *Inner = Call;
  for (unsigned Depth = 0; Depth < 8; ++Depth) {
    DynTypedNodeList Parents = Ctx.getParents(Node);
    if (Parents.size() != 1)
      return nullptr;
    if (const auto *V = Parents[0].get<VarDecl>())
      return V;
    const auto *E = Parents[0].get<Expr>();
    if (!E)
      return nullptr;
    if (isa<ParenExpr>(E) || isa<CastExpr>(E)) {
      Inner = E;
      Node = Parents[0];
      continue;
    }
    if (const auto *BO = dyn_cast<BinaryOperator>(E);
        BO && BO->getOpcode() == BO_Assign && BO->getRHS() == Inner)
      return tableDeclOf(BO->getLHS());
    return nullptr;
  }
  return nullptr;
}

/// The destroy function argument \p Arg of a creation names.
static GLibTables::Destroy destroyOf(const Expr *Arg, ASTContext &Ctx) {
  GLibTables::Destroy D;
  const Expr *E = Arg->IgnoreParenCasts();
  if (const auto *UO = dyn_cast<UnaryOperator>(E); UO && UO->getOpcode() == UO_AddrOf)
    E = UO->getSubExpr()->IgnoreParenCasts();
  const auto *DRE = dyn_cast<DeclRefExpr>(E);
  if (const auto *FD = DRE ? dyn_cast<FunctionDecl>(DRE->getDecl()) : nullptr)
    D.Fn = FD;
  else if (E->isNullPointerConstant(Ctx, Expr::NPC_ValueDependentIsNotNull) ==
           Expr::NPCK_NotNull)
    D.Opaque = true;
  return D;
}

/// How the key_equal_func argument \p Arg of a creation compares keys.
static KeyEquality equalityOf(const Expr *Arg, ASTContext &Ctx) {
  const Expr *E = Arg->IgnoreParenCasts();
  if (const auto *UO = dyn_cast<UnaryOperator>(E); UO && UO->getOpcode() == UO_AddrOf)
    E = UO->getSubExpr()->IgnoreParenCasts();
  if (E->isNullPointerConstant(Ctx, Expr::NPC_ValueDependentIsNotNull))
    return KeyEquality::Pointer;
  const auto *DRE = dyn_cast<DeclRefExpr>(E);
  const auto *FD = DRE ? dyn_cast<FunctionDecl>(DRE->getDecl()) : nullptr;
  if (!FD || !FD->getIdentifier())
    return KeyEquality::Unknown;
  return llvm::StringSwitch<KeyEquality>(FD->getName())
      .Case("g_direct_equal", KeyEquality::Pointer)
      .Case("g_str_equal", KeyEquality::String)
      .Case("g_int_equal", KeyEquality::Pointee)
      .Case("g_int64_equal", KeyEquality::Pointee)
      .Case("g_double_equal", KeyEquality::Pointee)
      .Default(KeyEquality::Unknown);
}

bool copyComparesEqual(KeyCopy Copy, KeyEquality Equal) {
  return (Copy == KeyCopy::String && Equal == KeyEquality::String) ||
         (Copy == KeyCopy::Bytes && Equal == KeyEquality::Pointee);
}

void GLibTables::learnCreation(const CallExpr *Call, ASTContext &Ctx) {
  const ValueDecl *Table = assignedFrom(Call, Ctx);
  if (!Table)
    return;
  Creation C{Call, {}, {}, KeyEquality::Unknown};
  if (Call->getNumArgs() >= 2)
    C.Equal = equalityOf(Call->getArg(1), Ctx);
  if (Call->getNumArgs() >= 4) {
    C.Key = destroyOf(Call->getArg(2), Ctx);
    C.Value = destroyOf(Call->getArg(3), Ctx);
  }
  auto [It, Inserted] = Created.try_emplace(Table, C);
  if (Inserted)
    return;
  if (It->second.Equal != C.Equal)
    It->second.Equal = KeyEquality::Unknown;
  // Created twice with different destroy functions: which one holds is not
  // known (for that side).
  auto Merge = [](Destroy &Old, const Destroy &New) {
    if (Old.Fn != New.Fn || New.Opaque)
      Old.Opaque = true;
  };
  Merge(It->second.Value, C.Value);
  Merge(It->second.Key, C.Key);
}

namespace {
/// Every g_hash_table_new / _new_full of a translation unit.
class CreationFinder : public RecursiveASTVisitor<CreationFinder> {
public:
  explicit CreationFinder(std::vector<const CallExpr *> &Out) : Out(Out) {}
  bool VisitCallExpr(CallExpr *C) {
    if (glibOpOf(C->getDirectCallee()) == GLibOp::Create)
      Out.push_back(C);
    return true;
  }

private:
  std::vector<const CallExpr *> &Out;
};
} // namespace

void GLibTables::learnTranslationUnit(ASTContext &Ctx) {
  std::vector<const CallExpr *> Calls;
  CreationFinder(Calls).TraverseDecl(Ctx.getTranslationUnitDecl());
  for (const CallExpr *C : Calls)
    learnCreation(C, Ctx);
}

const GLibTables::Creation *GLibTables::creationOf(const ValueDecl *Table) const {
  auto It = Created.find(Table);
  return It == Created.end() ? nullptr : &It->second;
}

/// The expression \p Key copies, and how: `g_strdup(x)`, `strdup(x)`,
/// `g_strndup(x, strlen(x))` (a shorter length copies a prefix: another
/// key), `g_memdup2(x, n)`.
std::pair<const Expr *, KeyCopy> keyCopiedFrom(const Expr *Key,
                                               const ASTContext &Ctx) {
  const auto *Call = dyn_cast<CallExpr>(Key->IgnoreParenCasts());
  const FunctionDecl *FD = Call ? Call->getDirectCallee() : nullptr;
  if (!FD || !FD->getIdentifier() || Call->getNumArgs() < 1)
    return {nullptr, KeyCopy::None};
  llvm::StringRef Name = FD->getName();
  const Expr *Source = Call->getArg(0);
  if ((Name == "g_strdup" || Name == "strdup") && Call->getNumArgs() == 1)
    return {Source, KeyCopy::String};
  if ((Name == "g_strndup" || Name == "strndup") && Call->getNumArgs() == 2) {
    const auto *Len = dyn_cast<CallExpr>(Call->getArg(1)->IgnoreParenCasts());
    const FunctionDecl *LenFn = Len ? Len->getDirectCallee() : nullptr;
    if (LenFn && LenFn->getIdentifier() && LenFn->getName() == "strlen" &&
        Len->getNumArgs() == 1 && sameExpr(Len->getArg(0), Source, Ctx))
      return {Source, KeyCopy::String};
    return {nullptr, KeyCopy::None};
  }
  if ((Name == "g_memdup2" || Name == "g_memdup") && Call->getNumArgs() == 2)
    return {Source, KeyCopy::Bytes};
  return {nullptr, KeyCopy::None};
}

/// Every lookup of \p Key in \p Table in \p S.
static void findLookups(const Stmt *S, const Expr *Table, const Expr *Key,
                        const ASTContext &Ctx,
                        std::vector<const CallExpr *> &Out) {
  if (!S)
    return;
  if (const auto *Call = dyn_cast<CallExpr>(S);
      Call && glibOpOf(Call->getDirectCallee()) == GLibOp::Lookup &&
      Call->getNumArgs() >= 2 && sameExpr(Call->getArg(0), Table, Ctx) &&
      sameExpr(Call->getArg(1), Key, Ctx))
    Out.push_back(Call);
  for (const Stmt *C : S->children())
    findLookups(C, Table, Key, Ctx, Out);
}

static const CFGBlock *blockOf(const CFG &G, const Stmt *S) {
  for (const CFGBlock *B : G)
    for (const CFGElement &E : *B)
      if (auto CS = E.getAs<CFGStmt>(); CS && CS->getStmt() == S)
        return B;
  return nullptr;
}

/// On every path from the entry of \p G to \p Insert, one of \p Lookups
/// reported the key absent.
static bool everyPathAfterFailure(const CallExpr *Insert,
                                  const std::vector<const CallExpr *> &Lookups,
                                  const FunctionDecl *FD, const CFG &G,
                                  ASTContext &Ctx) {
  const CFGBlock *Target = blockOf(G, Insert);
  if (Lookups.empty() || !Target)
    return false;
  std::vector<CallOutcome> Outcomes;
  for (const CallExpr *L : Lookups) {
    Outcomes.emplace_back(Ctx, L, CallEvent::Found);
    Outcomes.back().findResultVars(FD->getBody());
  }
  // Can the insert be reached without leaving a failed lookup's test on its
  // "absent" side?
  llvm::SmallVector<const CFGBlock *, 16> Work{&G.getEntry()};
  llvm::DenseSet<const CFGBlock *> Seen{&G.getEntry()};
  while (!Work.empty()) {
    const CFGBlock *B = Work.pop_back_val();
    if (B == Target)
      return false;
    unsigned I = 0;
    for (const CFGBlock *S : B->succs()) {
      bool Absent = llvm::any_of(Outcomes, [&](const CallOutcome &O) {
        return O.onEdge(*B, I) == Verdict::NotHappened;
      });
      ++I;
      if (S && !Absent && Seen.insert(S).second)
        Work.push_back(S);
    }
  }
  return true;
}

FailedLookup insertFollowsFailedLookup(const CallExpr *Insert,
                                       const FunctionDecl *FD, const CFG &G,
                                       ASTContext &Ctx) {
  FailedLookup R;
  if (Insert->getNumArgs() < 2)
    return R;
  std::vector<const CallExpr *> Lookups;
  findLookups(FD->getBody(), Insert->getArg(0), Insert->getArg(1), Ctx, Lookups);
  if (everyPathAfterFailure(Insert, Lookups, FD, G, Ctx)) {
    R.Same = true;
    return R;
  }
  // `insert(t, g_strdup(path), v)`: a lookup of `path` counts too, when the
  // table compares what its keys point to (the caller's to decide).
  auto [Source, Copy] = keyCopiedFrom(Insert->getArg(1), Ctx);
  if (!Source)
    return R;
  findLookups(FD->getBody(), Insert->getArg(0), Source, Ctx, Lookups);
  if (everyPathAfterFailure(Insert, Lookups, FD, G, Ctx))
    R.Copied = Copy;
  return R;
}

// ---- Failed lookups, for lookup-or-create -----------------------------------

namespace {

/// \p E, casts and parentheses aside, names parameter \p P.
bool namesParam(const Expr *E, const ParmVarDecl *P) {
  const auto *DRE = dyn_cast<DeclRefExpr>(E->IgnoreParenCasts());
  return DRE && DRE->getDecl() == P;
}

/// \p E is a null pointer constant or the integer 0 (`NULL`, `FALSE`).
bool isNullOrZero(const Expr *E, ASTContext &Ctx) {
  return E->IgnoreParenCasts()->isNullPointerConstant(
      Ctx, Expr::NPC_ValueDependentIsNotNull);
}

/// What condition \p Cond says of parameter \p P when it is true: true when
/// it holds exactly when \p P is not null (`t`, `t != NULL`, `NULL != t`),
/// false when exactly when it is (`!t`, `t == NULL`); none otherwise.
std::optional<bool> testsNonNull(const Expr *Cond, const ParmVarDecl *P,
                                 ASTContext &Ctx) {
  Cond = Cond->IgnoreParenImpCasts();
  if (namesParam(Cond, P))
    return true;
  if (const auto *UO = dyn_cast<UnaryOperator>(Cond); UO && UO->getOpcode() == UO_LNot)
    if (std::optional<bool> Inner = testsNonNull(UO->getSubExpr(), P, Ctx))
      return !*Inner;
  const auto *BO = dyn_cast<BinaryOperator>(Cond);
  if (!BO || !BO->isEqualityOp())
    return std::nullopt;
  const Expr *Other = namesParam(BO->getLHS(), P)   ? BO->getRHS()
                      : namesParam(BO->getRHS(), P) ? BO->getLHS()
                                                    : nullptr;
  if (!Other || !isNullOrZero(Other, Ctx))
    return std::nullopt;
  return BO->getOpcode() == BO_NE;
}

/// The lookup a thin wrapper's returned expression \p E makes of its own
/// parameters: the table parameter, the key parameter; \p NullIfNoTable
/// accepts `t ? lookup (t, k) : NULL`.
std::optional<std::pair<const ParmVarDecl *, const ParmVarDecl *>>
wrappedLookup(const Expr *E, unsigned Depth, ASTContext &Ctx) {
  E = E->IgnoreParenCasts();
  if (const auto *CO = dyn_cast<ConditionalOperator>(E)) {
    auto Inner = isNullOrZero(CO->getFalseExpr(), Ctx)
                     ? wrappedLookup(CO->getTrueExpr(), Depth, Ctx)
                     : std::nullopt;
    if (!Inner || testsNonNull(CO->getCond(), Inner->first, Ctx) != true)
      return std::nullopt;
    return Inner;
  }
  const auto *Call = dyn_cast<CallExpr>(E);
  std::optional<TableLookup> L = Call ? tableLookupOf(Call, Depth + 1) : std::nullopt;
  const auto *T = L ? dyn_cast<DeclRefExpr>(L->Table->IgnoreParenCasts()) : nullptr;
  const auto *K = L ? dyn_cast<DeclRefExpr>(L->Key->IgnoreParenCasts()) : nullptr;
  const auto *TP = T ? dyn_cast<ParmVarDecl>(T->getDecl()) : nullptr;
  const auto *KP = K ? dyn_cast<ParmVarDecl>(K->getDecl()) : nullptr;
  if (!TP || !KP || TP == KP)
    return std::nullopt;
  return std::make_pair(TP, KP);
}

/// The table and key parameters of \p Fn when it is a thin lookup wrapper
/// (tableLookupOf): its body is `return L;`, `if (t) return L; return
/// NULL;` (the `if`'s branch a block of that one return, or an `else`), or
/// `if (!t) return NULL; return L;`, with `L` a lookup of its parameters
/// (wrappedLookup), which it never assigns.
std::optional<std::pair<const ParmVarDecl *, const ParmVarDecl *>>
thinLookupWrapper(const FunctionDecl *Fn, unsigned Depth) {
  const auto *Body = dyn_cast_or_null<CompoundStmt>(Fn->getBody());
  if (!Body || Depth > 2 || Body->size() == 0 || Body->size() > 2)
    return std::nullopt;
  ASTContext &Ctx = Fn->getASTContext();
  auto ReturnOf = [](const Stmt *S) -> const Expr * {
    if (const auto *CS = dyn_cast_or_null<CompoundStmt>(S); CS && CS->size() == 1)
      S = CS->body_front();
    const auto *R = dyn_cast_or_null<ReturnStmt>(S);
    return R ? R->getRetValue() : nullptr;
  };
  std::optional<std::pair<const ParmVarDecl *, const ParmVarDecl *>> Found;
  const Expr *Last = ReturnOf(Body->body_back());
  if (Body->size() == 1) {
    Found = Last ? wrappedLookup(Last, Depth, Ctx) : std::nullopt;
  } else if (const auto *If = dyn_cast<IfStmt>(Body->body_front());
             If && Last && !If->getInit() && !If->getConditionVariable() && !If->getElse()) {
    // `if (t) return L; return NULL;` or `if (!t) return NULL; return L;`
    const Expr *Then = ReturnOf(If->getThen());
    bool LookupFirst = Then && isNullOrZero(Last, Ctx);
    const Expr *L = LookupFirst ? Then : Last;
    const Expr *Null = LookupFirst ? Last : Then;
    Found = L && Null && isNullOrZero(Null, Ctx) ? wrappedLookup(L, Depth, Ctx)
                                                 : std::nullopt;
    if (Found && testsNonNull(If->getCond(), Found->first, Ctx) != LookupFirst)
      Found.reset();
  }
  if (Found && (assignsVar(Body, Found->first) || assignsVar(Body, Found->second)))
    Found.reset();
  return Found;
}

/// A path walk (FunctionFlow) that ends where a lookup reported the key
/// absent: the "not found" side of a test of its result (CallOutcome, with
/// what the path learned on its way: a local given another value since no
/// longer reads the lookup).
class FoundOutcome : public PathTracker {
public:
  FoundOutcome(const CallExpr *Lookup, const FunctionFlow &Flow)
      : Outcome(Flow.decl()->getASTContext(), Lookup, CallEvent::Found) {
    Outcome.findResultVars(Flow.decl()->getBody());
  }
  uint64_t initialState() const override { return Outcome.atCall().pack(); }
  uint64_t afterElement(uint64_t State, const Stmt *S) const override {
    return Outcome.afterElement(CallOutcome::PathFacts::unpack(State), S).pack();
  }
  bool follows(const CFGBlock &B, unsigned I, uint64_t &State) const override {
    CallOutcome::PathFacts Facts = CallOutcome::PathFacts::unpack(State);
    bool Absent = Outcome.onEdge(B, I, Facts) == Verdict::NotHappened;
    State = Facts.pack();
    return !Absent;
  }

private:
  CallOutcome Outcome;
};

} // namespace

std::optional<TableLookup> tableLookupOf(const CallExpr *Call, unsigned Depth) {
  const FunctionDecl *FD = Call->getDirectCallee();
  if (!FD)
    return std::nullopt;
  if (glibOpOf(FD) == GLibOp::Lookup)
    return Call->getNumArgs() >= 2
               ? std::optional<TableLookup>({Call->getArg(0), Call->getArg(1)})
               : std::nullopt;
  const FunctionDecl *Def = nullptr;
  if (!FD->hasBody(Def) || !Def || FD->isVariadic())
    return std::nullopt;
  auto Params = thinLookupWrapper(Def, Depth);
  if (!Params)
    return std::nullopt;
  unsigned T = Params->first->getFunctionScopeIndex();
  unsigned K = Params->second->getFunctionScopeIndex();
  if (T >= Call->getNumArgs() || K >= Call->getNumArgs())
    return std::nullopt;
  return TableLookup{Call->getArg(T), Call->getArg(K)};
}

llvm::SmallVector<const Expr *, 2> failedLookupKeys(const CallExpr *Store,
                                                   const FunctionFlow &Flow) {
  llvm::SmallVector<const Expr *, 2> Keys;
  GLibOp Op = glibOpOf(Store->getDirectCallee());
  if ((Op != GLibOp::Insert && Op != GLibOp::Replace && Op != GLibOp::Add) ||
      Store->getNumArgs() < 2)
    return Keys;
  ASTContext &Ctx = Flow.decl()->getASTContext();
  std::optional<FunctionFlow::Point> At = Flow.pointOf(Store);
  if (!At)
    return Keys;
  llvm::SmallVector<const CallExpr *, 16> Calls;
  collectCalls(Flow.decl()->getBody(), Calls);
  FunctionFlow::Point Entry{&Flow.graph().getEntry(), 0};
  for (const CallExpr *C : Calls) {
    std::optional<TableLookup> L = C != Store ? tableLookupOf(C) : std::nullopt;
    std::optional<FunctionFlow::Point> From = L ? Flow.pointOf(C) : std::nullopt;
    if (!From || !sameExpr(L->Table, Store->getArg(0), Ctx))
      continue;
    // Every path to the store passes the lookup ...
    if (Flow.reachesWithout(Entry, *At, [&](const Stmt *S) { return S == C; },
                            [](const CFGBlock *, unsigned) { return false; }))
      continue;
    // ... and, past it, a test that says it found nothing.
    if (Flow.reachesWithout(*From, *At, [](const Stmt *) { return false; },
                            FoundOutcome(C, Flow)))
      continue;
    Keys.push_back(L->Key);
  }
  return Keys;
}

namespace {
struct LookupFinder {
  const CallExpr *Steal;
  ASTContext &Ctx;
  const VarDecl *Found = nullptr;
  /// \p Call, before the steal, looks up the same key in the same table.
  bool ofStolenKey(const CallExpr *Call) const {
    return Call->getNumArgs() >= 2 &&
           Ctx.getSourceManager().isBeforeInTranslationUnit(Call->getBeginLoc(),
                                                            Steal->getBeginLoc()) &&
           sameExpr(Call->getArg(0), Steal->getArg(0), Ctx) &&
           sameExpr(Call->getArg(1), Steal->getArg(1), Ctx);
  }
  void check(const VarDecl *V, const Expr *Init) {
    const auto *Call = dyn_cast_or_null<CallExpr>(Init ? Init->IgnoreParenCasts() : nullptr);
    if (!V || !V->hasLocalStorage() || !V->getType()->isPointerType() || !Call ||
        glibOpOf(Call->getDirectCallee()) != GLibOp::Lookup ||
        Call->getDirectCallee()->getName() != "g_hash_table_lookup" ||
        !ofStolenKey(Call))
      return;
    Found = V;
  }
  /// `g_hash_table_lookup_extended(t, k, &orig_key, &v)`: v holds the value.
  void checkExtended(const CallExpr *Call) {
    const FunctionDecl *Callee = Call->getDirectCallee();
    if (!Callee || !Callee->getIdentifier() ||
        Callee->getName() != "g_hash_table_lookup_extended" ||
        Call->getNumArgs() < 4 || !ofStolenKey(Call))
      return;
    if (const VarDecl *V = addressedLocalPointer(Call->getArg(3)))
      Found = V;
  }
  void walk(const Stmt *S) {
    if (!S)
      return;
    if (const auto *Call = dyn_cast<CallExpr>(S))
      checkExtended(Call);
    if (const auto *DS = dyn_cast<DeclStmt>(S))
      for (const Decl *D : DS->decls())
        if (const auto *V = dyn_cast<VarDecl>(D))
          check(V, V->getInit());
    if (const auto *BO = dyn_cast<BinaryOperator>(S); BO && BO->getOpcode() == BO_Assign)
      if (const auto *DRE = dyn_cast<DeclRefExpr>(BO->getLHS()->IgnoreParenCasts()))
        check(dyn_cast<VarDecl>(DRE->getDecl()), BO->getRHS());
    for (const Stmt *C : S->children())
      walk(C);
  }
};
} // namespace

const VarDecl *lookedUpValueOf(const CallExpr *Steal, const FunctionDecl *FD,
                               ASTContext &Ctx) {
  if (Steal->getNumArgs() < 2)
    return nullptr;
  LookupFinder F{Steal, Ctx};
  F.walk(FD->getBody());
  return F.Found;
}

} // namespace clang::tidy::tsmap
