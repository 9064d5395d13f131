//===--- RemovalPaths.cpp - does a removed value get cleaned up on every path ===//

#include "RemovalPaths.h"
#include "EffectSummary.h"
#include "clang/AST/ASTContext.h"
#include "clang/AST/ExprCXX.h"
#include "clang/AST/Stmt.h"
#include "clang/AST/StmtVisitor.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include <functional>

namespace clang::tidy::tsmap {

// ===------------------------------------------------------------------=== //
// Functions
// ===------------------------------------------------------------------=== //

bool RemovalPolicy::isDeallocator(llvm::StringRef Name) const {
  if (Name == "free" || Name == "realloc" || Name == "reallocarray")
    return true;
  return llvm::is_contained(Deallocators, Name);
}

static const FunctionDecl *definitionOf(const FunctionDecl *FD) {
  if (!FD)
    return nullptr;
  const FunctionDecl *Def = FD->getDefinition();
  return Def && Def->hasBody() ? Def : nullptr;
}

// ===------------------------------------------------------------------=== //
// ValueUses
// ===------------------------------------------------------------------=== //

ValueUses::ValueUses(ASTContext &Ctx, std::vector<CleanupGoal> Goals,
                     const RemovalPolicy &Policy, unsigned Depth)
    : Ctx(Ctx), Goals(std::move(Goals)), Policy(Policy), Depth(Depth),
      Memo(std::make_shared<CalleeMemo>()) {
  if (this->Goals.size() > 63)
    this->Goals.resize(63);
}

static const VarDecl *localPointerVar(const Expr *E) {
  const auto *DRE = dyn_cast<DeclRefExpr>(E->IgnoreParenCasts());
  const auto *V = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
  return V && V->hasLocalStorage() && !isa<ParmVarDecl>(V) ? V : nullptr;
}

std::optional<ValueUses::Holder> ValueUses::localPlace(const Expr *E) {
  Holder H;
  E = E->IgnoreParenCasts();
  while (true) {
    if (const auto *ME = dyn_cast<MemberExpr>(E); ME && !ME->isArrow()) {
      const auto *F = dyn_cast<FieldDecl>(ME->getMemberDecl());
      if (!F)
        return std::nullopt;
      H.Path.insert(H.Path.begin(), F);
      E = ME->getBase()->IgnoreParenCasts();
    } else if (const auto *AS = dyn_cast<ArraySubscriptExpr>(E);
               AS && AS->getBase()->IgnoreParenImpCasts()->getType()->isArrayType()) {
      E = AS->getBase()->IgnoreParenImpCasts();
    } else {
      break;
    }
  }
  const auto *DRE = dyn_cast<DeclRefExpr>(E);
  const auto *V = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
  if (!V || !V->hasLocalStorage() || V->getType()->isReferenceType() ||
      (H.Path.empty() && !V->getType()->isArrayType()))
    return std::nullopt;
  H.Var = V;
  return H;
}

/// `*pp` where local `pp` was given `&v` of a tracked `v` at its declaration:
/// the value itself, as GLib's g_clear_pointer (&s, destroy) reads it
/// (`_pp = &s; _ptr = *_pp; *_pp = NULL; if (_ptr) destroy (_ptr);`).
static bool derefOfTrackedAddress(const Expr *E, const ValueUses &Uses) {
  const auto *UO = dyn_cast<UnaryOperator>(E->IgnoreParenCasts());
  if (!UO || UO->getOpcode() != UO_Deref)
    return false;
  const auto *DRE = dyn_cast<DeclRefExpr>(UO->getSubExpr()->IgnoreParenImpCasts());
  const auto *PP = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
  if (!PP || !PP->hasLocalStorage() || !PP->getInit())
    return false;
  const auto *Addr = dyn_cast<UnaryOperator>(PP->getInit()->IgnoreParenCasts());
  return Addr && Addr->getOpcode() == UO_AddrOf &&
         Uses.refersTo(Addr->getSubExpr()).K == ValueRef::Whole;
}

/// The initializer list \p E is (`{0, c}`, `(struct r){0, c}`), else null.
static const InitListExpr *initListOf(const Expr *E) {
  E = E ? E->IgnoreParenCasts() : nullptr;
  if (const auto *CL = dyn_cast_or_null<CompoundLiteralExpr>(E))
    E = CL->getInitializer()->IgnoreParenCasts();
  return dyn_cast_or_null<InitListExpr>(E);
}

/// The places of \p Place (a local aggregate, or a field of one) that
/// initializer list \p ILE gives the tracked value: `struct result r = {0,
/// c};` and `.conn = c` hold it in `r.conn`.
static void addInitPlaces(ValueUses::Holder Place, const InitListExpr *ILE,
                          const ValueUses &Uses,
                          llvm::SmallVectorImpl<ValueUses::Holder> &Found) {
  auto Add = [&](const ValueUses::Holder &H, const Expr *Init) {
    if (const InitListExpr *Inner = initListOf(Init))
      return addInitPlaces(H, Inner, Uses, Found);
    if (Uses.refersTo(Init).K == ValueRef::Whole &&
        !isa<UnaryOperator>(Init->IgnoreParenCasts()) &&
        (!H.Path.empty() || H.Var->getType()->isArrayType()) &&
        !llvm::is_contained(Uses.holders(), H) && !llvm::is_contained(Found, H))
      Found.push_back(H);
  };
  if (ILE->getType()->isArrayType()) { // elements are looked through
    for (const Expr *Init : ILE->inits())
      Add(Place, Init);
    return;
  }
  const RecordDecl *RD = ILE->getType()->getAsRecordDecl();
  if (!RD)
    return;
  if (RD->isUnion()) {
    if (const FieldDecl *F = ILE->getInitializedFieldInUnion(); F && ILE->getNumInits()) {
      ValueUses::Holder H = Place;
      H.Path.push_back(F);
      Add(H, ILE->getInit(0));
    }
    return;
  }
  unsigned I = 0;
  for (const FieldDecl *F : RD->fields()) {
    if (I >= ILE->getNumInits())
      break;
    ValueUses::Holder H = Place;
    H.Path.push_back(F);
    Add(H, ILE->getInit(I++));
  }
}

/// Collects `local = <tracked>`, `T *local = <tracked>`,
/// `local_struct.field = <tracked>` and initializers of local aggregates
/// (`struct result r = {0, <tracked>};`) into the tracked set.
static void addAliases(const Stmt *S, ValueUses &Uses,
                       llvm::SmallVectorImpl<ValueUses::Holder> &Found) {
  if (!S)
    return;
  if (const auto *BO = dyn_cast<BinaryOperator>(S);
      BO && BO->getOpcode() == BO_Assign && initListOf(BO->getRHS())) {
    if (const VarDecl *V = localPointerVar(BO->getLHS())) // `r = (struct r){0, c};`
      addInitPlaces({V, {}}, initListOf(BO->getRHS()), Uses, Found);
  } else if (BO && BO->getOpcode() == BO_Assign &&
             Uses.refersTo(BO->getRHS()).K == ValueRef::Whole &&
             !isa<UnaryOperator>(BO->getRHS()->IgnoreParenCasts())) {
    std::optional<ValueUses::Holder> H;
    if (const VarDecl *V = localPointerVar(BO->getLHS()))
      H = ValueUses::Holder{V, {}};
    else
      H = ValueUses::localPlace(BO->getLHS());
    if (H && !llvm::is_contained(Uses.holders(), *H))
      Found.push_back(*H);
  }
  if (const auto *DS = dyn_cast<DeclStmt>(S))
    for (const Decl *D : DS->decls()) {
      const auto *V = dyn_cast<VarDecl>(D);
      if (!V || !V->hasLocalStorage() || !V->getInit())
        continue;
      if (const InitListExpr *ILE = initListOf(V->getInit()))
        addInitPlaces({V, {}}, ILE, Uses, Found);
      else if (!Uses.isTracked(V) &&
               ((Uses.refersTo(V->getInit()).K == ValueRef::Whole &&
                 !isa<UnaryOperator>(V->getInit()->IgnoreParenCasts())) ||
                derefOfTrackedAddress(V->getInit(), Uses)))
        Found.push_back({V, {}});
    }
  for (const Stmt *Child : S->children())
    addAliases(Child, Uses, Found);
}

void ValueUses::addHolder(const Holder &H) {
  if (Holders.size() < 64 && !llvm::is_contained(Holders, H))
    Holders.push_back(H);
}

void ValueUses::track(const VarDecl *V, const Stmt *Body) {
  track(Holder{V, {}}, Body);
}

void ValueUses::track(const Holder &First, const Stmt *Body) {
  addHolder(First);
  // Aliases of aliases: iterate until nothing new (bounded by the locals).
  for (unsigned Round = 0; Round < 8; ++Round) {
    llvm::SmallVector<Holder, 4> Found;
    addAliases(Body, *this, Found);
    if (Found.empty())
      break;
    for (const Holder &H : Found)
      addHolder(H);
  }
  // Copies of a field, and copies read through a pointer to a field
  // (`_ptr = *_pp`): one walk in source order sees `_pp` before `_ptr`.
  FieldCopies.clear();
  addFieldCopies(Body);
}

bool ValueUses::isTracked(const VarDecl *V) const {
  for (size_t I = 0; I < Holders.size(); ++I)
    if (Holders[I].Var == V && Holders[I].Path.empty() && (Live >> I & 1))
      return true;
  return false;
}

std::optional<unsigned> ValueUses::holderIndex(const Expr *E) const {
  std::optional<Holder> H = localPlace(E);
  if (!H)
    if (const VarDecl *V = localPointerVar(E))
      H = Holder{V, {}};
  if (!H)
    return std::nullopt;
  for (size_t I = 0; I < Holders.size(); ++I)
    if (Holders[I] == *H)
      return I;
  return std::nullopt;
}

/// `g_steal_pointer(&p)` (GLib's macro casts the inline function's result to
/// the type of `p`): it yields `p`'s value and nulls `p`, so the call stands
/// for the value itself; returned or stored, it is handed on. Returns the
/// argument, else \p E.
static const Expr *lookThroughSteal(const Expr *E) {
  const auto *Call = dyn_cast<CallExpr>(E);
  const FunctionDecl *Callee = Call ? Call->getDirectCallee() : nullptr;
  if (!Callee || Call->getNumArgs() != 1 ||
      !Callee->getDeclName().isIdentifier())
    return E;
  // C++'s `std::move (v)` and `std::forward<T> (v)` yield `v` itself (how
  // `emplace_back (Args &&...)` and `std::make_pair` pass their arguments on).
  bool Identity = Callee->isInStdNamespace() &&
                  (Callee->getName() == "move" || Callee->getName() == "forward");
  if (!Identity && Callee->getName() != "g_steal_pointer")
    return E;
  return Call->getArg(0)->IgnoreParenCasts();
}

/// The holder `h` of a `g_steal_pointer(&h)` whose result statement \p St
/// discards (`(void)g_steal_pointer(&h);` or the bare call), else null.
static const Expr *droppedBySteal(const Stmt *St, ASTContext &Ctx) {
  const auto *E = dyn_cast<Expr>(St);
  if (!E)
    return nullptr;
  const auto *Void = dyn_cast<CStyleCastExpr>(E);
  if (!(Void && Void->getType()->isVoidType())) {
    // A statement of its own (GLib's macro wraps the call in a cast and
    // parentheses); else it is used: returned, stored, passed (refersTo
    // sees it).
    const Stmt *Cur = E;
    while (true) {
      DynTypedNodeList Parents = Ctx.getParents(*Cur);
      if (Parents.size() != 1)
        return nullptr;
      if (const auto *P = Parents[0].get<Expr>();
          P && (isa<ParenExpr>(P) || isa<CastExpr>(P))) {
        Cur = P;
        continue;
      }
      if (!Parents[0].get<CompoundStmt>())
        return nullptr;
      break;
    }
  }
  const Expr *Inner = E->IgnoreParenCasts();
  const Expr *Arg = lookThroughSteal(Inner);
  if (Arg == Inner)
    return nullptr;
  if (const auto *UO = dyn_cast<UnaryOperator>(Arg); UO && UO->getOpcode() == UO_AddrOf)
    return UO->getSubExpr()->IgnoreParenCasts();
  return nullptr; // not `&h`: nothing known nulled
}

/// The address an atomic read in \p E reads, else null: `atomic_load (&c->idle)`,
/// `atomic_exchange`, `__atomic_load_n`, `__atomic_exchange_n`, and GLib's
/// g_atomic_pointer_get, a statement expression whose last statement is the
/// local that a generic `__atomic_load (p, &local, ...)` in it filled (`p` a
/// local given the macro's argument).
static const Expr *atomicallyRead(const Expr *E) {
  if (const auto *AE = dyn_cast<AtomicExpr>(E)) {
    switch (AE->getOp()) {
    case AtomicExpr::AO__c11_atomic_load:
    case AtomicExpr::AO__c11_atomic_exchange:
    case AtomicExpr::AO__atomic_load_n:
    case AtomicExpr::AO__atomic_exchange_n:
      return AE->getPtr();
    default:
      return nullptr;
    }
  }
  const auto *SE = dyn_cast<StmtExpr>(E);
  const CompoundStmt *CS = SE ? SE->getSubStmt() : nullptr;
  const auto *Last = CS && !CS->body_empty() ? dyn_cast<Expr>(CS->body_back()) : nullptr;
  const auto *DRE = Last ? dyn_cast<DeclRefExpr>(Last->IgnoreParenCasts()) : nullptr;
  const auto *Result = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
  if (!Result)
    return nullptr;
  for (const Stmt *S : CS->body()) {
    const auto *AE = dyn_cast<AtomicExpr>(S);
    if (!AE || AE->getOp() != AtomicExpr::AO__atomic_load)
      continue;
    const auto *Into = dyn_cast<UnaryOperator>(AE->getVal1()->IgnoreParenCasts());
    const auto *IntoRef = Into && Into->getOpcode() == UO_AddrOf
                              ? dyn_cast<DeclRefExpr>(Into->getSubExpr()->IgnoreParenCasts())
                              : nullptr;
    if (!IntoRef || IntoRef->getDecl() != Result)
      continue;
    const Expr *Ptr = AE->getPtr()->IgnoreParenCasts();
    if (const auto *PRef = dyn_cast<DeclRefExpr>(Ptr))
      if (const auto *P = dyn_cast<VarDecl>(PRef->getDecl()); P && P->getInit())
        return P->getInit();
    return Ptr;
  }
  return nullptr;
}

ValueRef ValueUses::refersTo(const Expr *E) const { return refersTo(E, 0); }

bool ValueUses::placeInInit(const InitListExpr *ILE,
                            llvm::SmallVectorImpl<const FieldDecl *> &Path,
                            unsigned CopyDepth) const {
  // The fields in step with the inits (a union's one initialized field; an
  // array has none: its elements are looked through).
  const RecordDecl *RD = ILE->getType()->getAsRecordDecl();
  RecordDecl::field_iterator Next, End;
  if (RD && !RD->isUnion())
    Next = RD->field_begin(), End = RD->field_end();
  for (unsigned I = 0; I < ILE->getNumInits(); ++I) {
    const Expr *Init = ILE->getInit(I);
    const FieldDecl *F = !RD             ? nullptr
                         : RD->isUnion() ? ILE->getInitializedFieldInUnion()
                         : Next != End   ? *Next++
                                         : nullptr;
    if (RD && !F)
      continue;
    if (F)
      Path.push_back(F);
    if (const InitListExpr *Inner = initListOf(Init)) {
      if (placeInInit(Inner, Path, CopyDepth))
        return true;
    } else if (refersTo(Init, CopyDepth).K == ValueRef::Whole) {
      return true;
    }
    if (F)
      Path.pop_back();
  }
  return false;
}

ValueRef ValueUses::refersTo(const Expr *E, unsigned CopyDepth) const {
  if (!E)
    return {};
  E = lookThroughSteal(E->IgnoreParenCasts());
  // `ok ? v : NULL` is v where it is not null (`return remove(..) == OK ? c :
  // NULL;`): whatever takes it takes the value.
  if (const auto *CO = dyn_cast<ConditionalOperator>(E)) {
    auto IsNull = [&](const Expr *X) {
      return X->IgnoreParenCasts()->isNullPointerConstant(
                 Ctx, Expr::NPC_ValueDependentIsNotNull) != Expr::NPCK_NotNull;
    };
    if (IsNull(CO->getFalseExpr()))
      return refersTo(CO->getTrueExpr(), CopyDepth);
    if (IsNull(CO->getTrueExpr()))
      return refersTo(CO->getFalseExpr(), CopyDepth);
  }
  // An atomic read of a place reads that place (`atomic_load (&c->idle)`).
  if (const Expr *Read = atomicallyRead(E)) {
    ValueRef R = refersTo(Read, CopyDepth); // `&c->idle`: the field itself
    if (const auto *UO = dyn_cast<UnaryOperator>(Read->IgnoreParenCasts());
        R.K != ValueRef::None && UO && UO->getOpcode() == UO_AddrOf)
      return R;
    return {};
  }
  // A GNU statement expression is its last statement (`({ ...; taken_; })`,
  // a project's take macro).
  if (const auto *SE = dyn_cast<StmtExpr>(E))
    if (const CompoundStmt *CS = SE->getSubStmt(); CS && !CS->body_empty())
      if (const auto *Last = dyn_cast<Expr>(CS->body_back()))
        return refersTo(Last, CopyDepth);
  if (const auto *UO = dyn_cast<UnaryOperator>(E);
      UO && (UO->getOpcode() == UO_AddrOf || UO->getOpcode() == UO_Deref))
    E = UO->getSubExpr()->IgnoreParenCasts();
  // An aggregate built around the value carries it (`return (struct
  // result){0, c};`, `consume(&(struct result){0, c})`).
  if (const InitListExpr *ILE = initListOf(E)) {
    // Where in it: `job_finish (&(struct job){.conn = c})` hands the callee
    // the value at `->conn`.
    ValueRef R{ValueRef::Whole};
    return placeInInit(ILE, R.Inside, CopyDepth) ? R : ValueRef{};
  }
  // `v->a.b`, `v.a`, `(*v).a`, `op.reg->a`: the fields from the variable
  // down, array subscripts of local arrays looked through.
  llvm::SmallVector<const FieldDecl *, 4> Fields;
  while (true) {
    if (const auto *ME = dyn_cast<MemberExpr>(E)) {
      const auto *F = dyn_cast<FieldDecl>(ME->getMemberDecl());
      if (!F)
        return {};
      Fields.insert(Fields.begin(), F);
      E = ME->getBase()->IgnoreParenCasts();
    } else if (const auto *AS = dyn_cast<ArraySubscriptExpr>(E);
               AS && AS->getBase()->IgnoreParenImpCasts()->getType()->isArrayType()) {
      E = AS->getBase()->IgnoreParenImpCasts();
    } else if (const auto *UO = dyn_cast<UnaryOperator>(E);
               UO && UO->getOpcode() == UO_Deref) {
      E = UO->getSubExpr()->IgnoreParenCasts();
    } else {
      break;
    }
  }
  const auto *DRE = dyn_cast<DeclRefExpr>(E);
  const auto *V = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
  if (!V)
    return {};
  for (size_t I = 0; I < Holders.size(); ++I) {
    const Holder &H = Holders[I];
    if (H.Var != V || !(Live >> I & 1))
      continue;
    size_t N = H.Path.size();
    // The aggregate that holds the value, or a part of it above the value:
    // what is done to it is done to the value (it may be handed on).
    if (Fields.size() <= N) {
      if (std::equal(Fields.begin(), Fields.end(), H.Path.begin()))
        return {ValueRef::Whole, nullptr,
                {H.Path.begin() + Fields.size(), H.Path.end()}};
      continue;
    }
    if (std::equal(H.Path.begin(), H.Path.end(), Fields.begin()))
      return {ValueRef::Member, Fields[N]};
  }
  // A local copy of a field (`_ptr = *_pp` with `_pp = &c->idle`, as GLib's
  // g_clear_pointer and g_clear_handle_id expand): it is that field.
  if (auto It = FieldCopies.find(V); It != FieldCopies.end() && It->second &&
                                     CopyDepth < 4) {
    ValueRef Ref = refersTo(It->second, CopyDepth + 1);
    if (Ref.K == ValueRef::Member)
      return Ref;
  }
  return {};
}

/// The local variable a declaration or an assignment \p S gives a value,
/// with that value; else a null variable.
static std::pair<const VarDecl *, const Expr *> localStore(const Stmt *S) {
  if (const auto *BO = dyn_cast<BinaryOperator>(S);
      BO && BO->getOpcode() == BO_Assign)
    return {localPointerVar(BO->getLHS()), BO->getRHS()};
  if (const auto *DS = dyn_cast<DeclStmt>(S); DS && DS->isSingleDecl())
    if (const auto *V = dyn_cast<VarDecl>(DS->getSingleDecl());
        V && V->hasLocalStorage() && !isa<ParmVarDecl>(V) && V->getInit())
      return {V, V->getInit()};
  return {nullptr, nullptr};
}

void ValueUses::addFieldCopies(const Stmt *S) {
  if (!S)
    return;
  auto Store = localStore(S);
  if (const VarDecl *V = Store.first) {
    const Expr *Value = Store.second;
    bool IsHolder = llvm::any_of(Holders, [&](const Holder &H) { return H.Var == V; });
    auto [It, Inserted] = FieldCopies.try_emplace(V, Value);
    // Given anything but a field of the value (or given two values): not a
    // copy of the field.
    if (IsHolder || refersTo(Value).K != ValueRef::Member ||
        (!Inserted && It->second != Value))
      It->second = nullptr;
  }
  for (const Stmt *Child : S->children())
    addFieldCopies(Child);
}

/// The goals that calling cleanup function \p Name on \p Ref discharges.
static GoalMask cleanupCallDischarges(const std::vector<CleanupGoal> &Goals,
                                      llvm::StringRef Name, const ValueRef &Ref) {
  GoalMask Mask = 0;
  for (size_t I = 0; I < Goals.size(); ++I) {
    if (Goals[I].FnName != Name)
      continue;
    // The value-level cleanup releases the whole value, fields included
    // (whether its body really does is checked at its definition).
    if (!Goals[I].Field && Ref.K == ValueRef::Whole)
      return allGoals(Goals.size());
    if (Ref.K == ValueRef::Whole ||
        (Ref.K == ValueRef::Member && Ref.Field == Goals[I].Field))
      Mask |= GoalMask(1) << I;
  }
  return Mask;
}

/// The object member call \p Call runs on (`parked` of `parked.emplace
/// (k, c)`, `g_opt` of `g_opt = c`), and the index of its first argument
/// that is not that object; else null.
static std::pair<const Expr *, unsigned> memberObjectOf(const CallExpr *Call) {
  if (const auto *MC = dyn_cast<CXXMemberCallExpr>(Call))
    return {MC->getImplicitObjectArgument(), 0};
  if (const auto *OC = dyn_cast<CXXOperatorCallExpr>(Call);
      OC && isa_and_nonnull<CXXMethodDecl>(OC->getDirectCallee()) &&
      OC->getNumArgs() > 0)
    return {OC->getArg(0), 1};
  return {nullptr, 0};
}

/// Member function \p M of a class of the standard library stores what it
/// is given in its object: `push_back`, `push_front`, `push`, `emplace`,
/// `emplace_back`, `emplace_front`, `emplace_hint`, `try_emplace`, `insert`,
/// `insert_or_assign`, `insert_after`, `assign`, `resize`, `reset`, `store`,
/// `exchange`, `compare_exchange_*`, `set_value`, `operator=`. One that only
/// compares it with what it holds (`find`, `count`, `contains`, `erase`,
/// `remove`, `lower_bound`, `upper_bound`, `equal_range`) keeps nothing.
enum class StdMember { Other, Stores, Compares };
static StdMember stdMemberKind(const CXXMethodDecl *M) {
  if (!M || !M->getParent() || !M->getParent()->isInStdNamespace())
    return StdMember::Other;
  if (M->getOverloadedOperator() == OO_Equal)
    return StdMember::Stores;
  if (!M->getDeclName().isIdentifier())
    return StdMember::Other;
  llvm::StringRef Name = M->getName();
  if (Name.starts_with("push") || Name.starts_with("emplace") ||
      Name.starts_with("insert") || Name.starts_with("compare_exchange") ||
      llvm::is_contained({"try_emplace", "assign", "resize", "reset", "store",
                          "exchange", "set_value"},
                         Name))
    return StdMember::Stores;
  if (llvm::is_contained({"find", "count", "contains", "erase", "remove",
                          "lower_bound", "upper_bound", "equal_range"},
                         Name))
    return StdMember::Compares;
  return StdMember::Other;
}

bool ValueUses::carriesValue(const Expr *E) const {
  if (!E)
    return false;
  // `return c;` into a `std::optional<Conn *>`, `return {fd, c};` into a
  // `std::pair`, `std::optional<Conn *> (c)`: the object built from the value
  // holds it.
  for (unsigned Depth = 0; Depth < 8; ++Depth) {
    E = E->IgnoreImplicit()->IgnoreParenCasts();
    if (const auto *CE = dyn_cast<CXXConstructExpr>(E)) {
      // A constructor of the program's own, with a body, may keep only a
      // part of what it is given: not read here.
      const CXXConstructorDecl *Ctor = CE->getConstructor();
      if (Ctor->isUserProvided() && !Ctor->getParent()->isInStdNamespace())
        return false;
      return llvm::any_of(CE->arguments(),
                          [&](const Expr *A) { return carriesValue(A); });
    }
    if (const auto *PL = dyn_cast<CXXParenListInitExpr>(E))
      return llvm::any_of(PL->getInitExprs(),
                          [&](const Expr *A) { return carriesValue(A); });
    if (const auto *ILE = dyn_cast<InitListExpr>(E);
        ILE && !ILE->getType()->isRecordType() && !ILE->getType()->isArrayType())
      return llvm::any_of(ILE->inits(),
                          [&](const Expr *A) { return carriesValue(A); });
    const Expr *Next = E->IgnoreImplicit()->IgnoreParenCasts();
    if (Next == E)
      break;
  }
  return refersTo(E).K == ValueRef::Whole;
}

static GoalMask fieldGoalsOfOwnObject(const FunctionDecl *Def,
                                      const std::vector<CleanupGoal> &Goals);

GoalMask ValueUses::dischargedByCall(const CallExpr *Call) {
  const FunctionDecl *Callee = Call->getDirectCallee();
  GoalMask Mask = 0;
  // A member function run on the value (`c->shutdown ()` whose body calls
  // `timer_cancel (idle)`): the field cleanups it calls on its own object, as
  // for a destructor (spec audit S9).
  if (const auto *MC = dyn_cast<CXXMemberCallExpr>(Call);
      MC && MC->getImplicitObjectArgument() &&
      refersTo(MC->getImplicitObjectArgument()).K == ValueRef::Whole)
    if (const FunctionDecl *Def = definitionOf(MC->getDirectCallee()))
      Mask |= fieldGoalsOfOwnObject(Def, Goals);
  // A member of a standard library class given the value: one that stores
  // it hands it on (`parked.emplace (k, c)`, `g_slot.store (c)`, `g_opt =
  // c`; `reset` of a `std::unique_ptr` or `std::shared_ptr` takes it, as
  // constructing one from it does). A container of the function's own is
  // not followed further: what is stored in it is taken as handed on, as
  // `push_back` into one always was (its body is too deep to follow). One
  // that only compares it with what it holds keeps nothing. Others are
  // followed as any call is.
  auto [Obj, FirstArg] = memberObjectOf(Call);
  StdMember Kind = Obj ? stdMemberKind(dyn_cast_or_null<CXXMethodDecl>(Callee))
                       : StdMember::Other;
  if (Kind == StdMember::Stores)
    for (unsigned I = FirstArg, N = Call->getNumArgs(); I < N; ++I)
      if (carriesValue(Call->getArg(I)))
        return all();
  for (unsigned I = 0, N = Call->getNumArgs(); I < N; ++I) {
    ValueRef Ref = refersTo(Call->getArg(I));
    if (Ref.K == ValueRef::None)
      continue;
    if (Kind == StdMember::Compares && I >= FirstArg)
      continue;
    if (!Callee) // Through a pointer: unknown, it may keep the value.
      return Ref.K == ValueRef::Whole ? all() : Mask;
    llvm::StringRef Name =
        Callee->getDeclName().isIdentifier() ? Callee->getName() : "";
    Mask |= cleanupCallDischarges(Goals, Name, Ref);
    if (Policy.isDeallocator(Name) || isKnownQuietLibraryFunction(Name) ||
        Callee->getBuiltinID())
      continue;
    if (const FunctionDecl *Def = definitionOf(Callee)) {
      if (I < Def->getNumParams())
        Mask |= summaryDischarges(Def, I, Ref) | calleeDischarges(Def, I, Ref);
      continue;
    }
    // No body: it may keep what it is given (FIXME: a field passed to an
    // unknown function is taken as that field's cleanup handed on).
    if (Ref.K == ValueRef::Whole)
      return all();
    for (size_t G = 0; G < Goals.size(); ++G)
      if (Goals[G].Field == Ref.Field)
        Mask |= GoalMask(1) << G;
  }
  return Mask;
}

GoalMask ValueUses::summaryDischarges(const FunctionDecl *FD, unsigned Param,
                                      const ValueRef &Arg) {
  if (!Effects)
    return 0;
  if (Arg.K == ValueRef::Whole && Effects->handsOnParam(FD, Param))
    return all();
  GoalMask Mask = 0;
  for (size_t I = 0; I < Goals.size(); ++I) {
    const CleanupGoal &G = Goals[I];
    bool Done = Arg.K == ValueRef::Whole
                    ? Effects->callsWithParam(FD, G.FnName, Param, G.Field) ||
                          (G.Field && Effects->callsWithParam(FD, G.FnName, Param))
                    : G.Field == Arg.Field &&
                          Effects->callsWithParam(FD, G.FnName, Param);
    if (Done)
      Mask |= GoalMask(1) << I;
  }
  // The value-level cleanup called on the parameter releases everything.
  if (Arg.K == ValueRef::Whole)
    for (const CleanupGoal &G : Goals)
      if (!G.Field && (Mask & (GoalMask(1) << (&G - Goals.data()))))
        return all();
  return Mask;
}

GoalMask ValueUses::calleeDischarges(const FunctionDecl *FD, unsigned Param,
                                     const ValueRef &Arg) {
  if (Depth + 1 > Policy.MaxCallDepth)
    return all(); // Too deep to know: stay quiet.
  // Goals as the callee sees them: for a field argument, only the goals on
  // that field, now on the callee's parameter itself.
  std::vector<CleanupGoal> Inner;
  std::vector<size_t> Outer;
  for (size_t I = 0; I < Goals.size(); ++I) {
    if (Arg.K == ValueRef::Whole) {
      Inner.push_back(Goals[I]);
    } else if (Goals[I].Field == Arg.Field) {
      // `fini(&s->core)` for a goal on `s->core.idle`: a goal on the
      // callee's parameter's field `idle`.
      llvm::ArrayRef<const FieldDecl *> Below = Goals[I].Below;
      Inner.push_back({Goals[I].FnName, Below.empty() ? nullptr : Below.front(),
                       {Below.empty() ? Below.begin() : Below.begin() + 1,
                        Below.end()}});
    } else {
      continue;
    }
    Outer.push_back(I);
  }
  if (Inner.empty())
    return 0;
  // Memoized per (callee, parameter, argument shape, goal set); the entry is
  // seeded "discharges nothing" first so recursion terminates.
  std::string Key;
  for (const CleanupGoal &G : Inner) {
    Key += G.FnName + "/" + std::to_string(reinterpret_cast<uintptr_t>(G.Field));
    for (const FieldDecl *F : G.Below)
      Key += "." + std::to_string(reinterpret_cast<uintptr_t>(F));
    Key += ";";
  }
  for (const FieldDecl *F : Arg.Inside) // the value lies this far inside the argument
    Key += ">" + std::to_string(reinterpret_cast<uintptr_t>(F));
  auto MemoKey = std::make_tuple(FD, Param, Arg.Field, Key);
  GoalMask InnerMask;
  if (auto It = Memo->find(MemoKey); It != Memo->end()) {
    InnerMask = It->second;
  } else {
    (*Memo)[MemoKey] = 0;
    ValueUses Callee(Ctx, Inner, Policy, Depth + 1);
    Callee.Memo = Memo;
    Callee.Effects = Effects;
    // An aggregate holding the value (`batch_close(&b)`): the value is at
    // the same place below the parameter (`b->items[i]`).
    Callee.track(Holder{FD->getParamDecl(Param), Arg.Inside}, FD->getBody());
    InnerMask = Callee.dischargedAnywhere(FD->getBody());
    (*Memo)[MemoKey] = InnerMask;
  }
  GoalMask Mask = 0;
  for (size_t J = 0; J < Outer.size(); ++J)
    if (InnerMask & (GoalMask(1) << J))
      Mask |= GoalMask(1) << Outer[J];
  return Mask;
}

/// \p LHS is memory that outlives the function: anything but a local
/// variable of its own (a global, `*out`, `p->next`, `list[i]`).
/// A store into \p LHS keeps the value after the function returns: not a
/// local variable, nor a field or element of a local aggregate (or of a
/// by-value struct parameter), which die with the function.
static bool outlivesFunction(const Expr *LHS) {
  LHS = LHS->IgnoreParenCasts();
  if (const auto *DRE = dyn_cast<DeclRefExpr>(LHS))
    if (const auto *V = dyn_cast<VarDecl>(DRE->getDecl()))
      return !V->hasLocalStorage();
  return !ValueUses::localPlace(LHS);
}

GoalMask ValueUses::settle(GoalMask Owed) const {
  // Every field's cleanup done by hand stands for the value-level one.
  GoalMask Fields = 0, Whole = 0;
  for (size_t I = 0; I < Goals.size(); ++I)
    (Goals[I].Field ? Fields : Whole) |= GoalMask(1) << I;
  return Fields && !(Owed & Fields) ? Owed & ~Whole : Owed;
}

GoalMask ValueUses::dischargedByScopeCleanups() {
  GoalMask Mask = 0;
  for (size_t I = 0; I < Holders.size(); ++I) {
    const Holder &H = Holders[I];
    if (!(Live >> I & 1) || !H.Path.empty() || !H.Var)
      continue;
    const auto *A = H.Var->getAttr<CleanupAttr>();
    const FunctionDecl *Def = A ? definitionOf(A->getFunctionDecl()) : nullptr;
    // The function's parameter points to the holder: tracked as the holder
    // (`*p` reads as `p`), as GLib's glib_autoptr_cleanup_T (T **) is written.
    if (Def && Def->getNumParams() == 1)
      Mask |= calleeDischarges(Def, 0, {ValueRef::Whole, nullptr});
  }
  return Mask;
}

/// Does \p S (a destructor's body, and the bodies of the member functions it
/// calls on its object, \p Depth deep) call \p Fn with the object's field
/// \p F (`timer_cancel (idle)`, `&this->idle`)?
static bool callsWithOwnField(const Stmt *S, llvm::StringRef Fn, const FieldDecl *F,
                              unsigned Depth) {
  if (!S)
    return false;
  if (const auto *Call = dyn_cast<CallExpr>(S)) {
    const FunctionDecl *Callee = Call->getDirectCallee();
    bool Named = Callee && Callee->getDeclName().isIdentifier() && Callee->getName() == Fn;
    for (const Expr *Arg : Call->arguments()) {
      const Expr *E = Arg->IgnoreParenCasts();
      if (const auto *UO = dyn_cast<UnaryOperator>(E); UO && UO->getOpcode() == UO_AddrOf)
        E = UO->getSubExpr()->IgnoreParenCasts();
      const auto *ME = dyn_cast<MemberExpr>(E);
      if (Named && ME && ME->getMemberDecl() == F &&
          isa<CXXThisExpr>(ME->getBase()->IgnoreParenImpCasts()))
        return true;
    }
    // `close_idle ()`: a member function run on the same object.
    if (const auto *MC = dyn_cast<CXXMemberCallExpr>(Call);
        MC && Depth > 0 && MC->getImplicitObjectArgument() &&
        isa<CXXThisExpr>(MC->getImplicitObjectArgument()->IgnoreParenImpCasts()))
      if (const FunctionDecl *Def = definitionOf(MC->getDirectCallee()))
        if (callsWithOwnField(Def->getBody(), Fn, F, Depth - 1))
          return true;
  }
  return llvm::any_of(S->children(), [&](const Stmt *C) {
    return callsWithOwnField(C, Fn, F, Depth);
  });
}

/// The field goals met by member function \p Def run on the value (its
/// destructor, or `v->shutdown ()`): those whose cleanup its body calls on
/// its own field, directly or through members it runs on itself (C++).
static GoalMask fieldGoalsOfOwnObject(const FunctionDecl *Def,
                                      const std::vector<CleanupGoal> &Goals) {
  GoalMask Mask = 0;
  for (size_t I = 0; I < Goals.size() && I < 63; ++I)
    if (Goals[I].Field && Goals[I].Below.empty() &&
        callsWithOwnField(Def->getBody(), Goals[I].FnName, Goals[I].Field, 2))
      Mask |= GoalMask(1) << I;
  return Mask;
}

/// The field goals `delete v` meets: those the value's destructor meets.
static GoalMask dischargedByDestructor(const CXXDeleteExpr *Del,
                                       const std::vector<CleanupGoal> &Goals) {
  const CXXRecordDecl *RD = Del->getDestroyedType()->getAsCXXRecordDecl();
  const CXXDestructorDecl *Dtor = RD ? RD->getDestructor() : nullptr;
  const FunctionDecl *Def = Dtor ? definitionOf(Dtor) : nullptr;
  if (!Def) // declared by the program, defined in another file: trusted
    return Dtor && Dtor->isUserProvided() ? allGoals(Goals.size()) : 0;
  return fieldGoalsOfOwnObject(Def, Goals);
}

GoalMask ValueUses::discharged(const Stmt *S) {
  if (!S)
    return 0;
  if (const auto *Call = dyn_cast<CallExpr>(S))
    return dischargedByCall(Call);
  if (const auto *Del = dyn_cast<CXXDeleteExpr>(S);
      Del && refersTo(Del->getArgument()).K == ValueRef::Whole)
    return dischargedByDestructor(Del, Goals);
  // `std::unique_ptr<Conn> owner (c);`: an object with a destructor of its
  // own takes the value (C++ RAII).
  if (const auto *CE = dyn_cast<CXXConstructExpr>(S)) {
    const CXXRecordDecl *RD = CE->getType()->getAsCXXRecordDecl();
    if (RD && RD->hasDefinition() && !RD->hasTrivialDestructor() &&
        llvm::any_of(CE->arguments(),
                     [&](const Expr *A) { return refersTo(A).K == ValueRef::Whole; }))
      return all();
  }
  if (const auto *Ret = dyn_cast<ReturnStmt>(S))
    return carriesValue(Ret->getRetValue()) ? all() : 0;
  if (const auto *BO = dyn_cast<BinaryOperator>(S);
      BO && BO->getOpcode() == BO_Assign &&
      refersTo(BO->getRHS()).K == ValueRef::Whole && outlivesFunction(BO->getLHS()))
    return all();
  if (const auto *DS = dyn_cast<DeclStmt>(S))
    for (const Decl *D : DS->decls())
      if (const auto *V = dyn_cast<VarDecl>(D);
          V && V->isStaticLocal() && refersTo(V->getInit()).K == ValueRef::Whole)
        return all();
  return 0;
}

bool ValueUses::isDeallocation(const Stmt *S) const {
  const auto *Call = dyn_cast_or_null<CallExpr>(S);
  const FunctionDecl *Callee = Call ? Call->getDirectCallee() : nullptr;
  if (!Callee || !Callee->getDeclName().isIdentifier() ||
      !Policy.isDeallocator(Callee->getName()))
    return false;
  return llvm::any_of(Call->arguments(), [&](const Expr *A) {
    return refersTo(A).K == ValueRef::Whole;
  });
}

GoalMask ValueUses::dischargedAnywhere(const Stmt *S) {
  if (!S)
    return 0;
  GoalMask Mask = discharged(S);
  for (const Stmt *Child : S->children()) {
    if (Mask == all())
      break;
    Mask |= dischargedAnywhere(Child);
  }
  return Mask;
}

// ===------------------------------------------------------------------=== //
// The path walk
// ===------------------------------------------------------------------=== //

/// A successor worth following, with what the path knows past the edge.
struct FollowedEdge {
  const CFGBlock *Succ;
  unsigned Index;
  CallOutcome::PathFacts Facts;
};

/// The successors of \p B worth following, for a path that knows \p Facts of
/// the removal's status: not unreachable, not a side on which the removal
/// said nothing was removed (read with the tests the path passed before, and
/// with the status locals another value reached), nor one a test of it that
/// cannot be read leads to.
static llvm::SmallVector<FollowedEdge, 4>
followedSuccessors(const CFGBlock &B, const CallOutcome &Outcome,
                   CallOutcome::PathFacts Facts) {
  llvm::SmallVector<FollowedEdge, 4> Result;
  unsigned Index = 0;
  for (const CFGBlock *S : B.succs()) {
    CallOutcome::PathFacts Next = Facts;
    Verdict V = Outcome.onEdge(B, Index, Next);
    if (S && V != Verdict::NotHappened && V != Verdict::Unknown)
      Result.push_back({S, Index, Next});
    ++Index;
  }
  return Result;
}

/// Edge \p Index of \p B leaves a test of the value's own reference count
/// on the side where references remain (`if (g_atomic_int_dec_and_test
/// (&c->refs)) conn_close (c);`, its false edge): the last holder cleans it,
/// as a release helper with that test inside would.
static bool referencesRemain(const CFGBlock &B, unsigned Index,
                             const ValueUses &Uses, ASTContext &Ctx) {
  const Expr *Cond = B.getLastCondition(); // `a && dec_and_test (&c->refs)`: its own block
  std::optional<bool> Last =
      Cond && B.succ_size() == 2 ? lastReferenceTest(Cond, Ctx) : std::nullopt;
  if (!Last || Index != (*Last ? 1U : 0U))
    return false;
  std::function<bool(const Stmt *)> Mentions = [&](const Stmt *S) {
    const auto *E = dyn_cast_or_null<Expr>(S);
    if (E && Uses.refersTo(E).K != ValueRef::None)
      return true;
    return S && llvm::any_of(S->children(), Mentions);
  };
  return Mentions(Cond);
}

/// The goals on a field that edge \p Index of \p B meets by leaving a test
/// saying the field is null or zero (`if (c->idle)`, `if (id > 0)`, `!= NULL`,
/// and GLib's g_clear_pointer / g_clear_handle_id testing their copy of it):
/// there is nothing to release on that side.
static GoalMask nullFieldGoals(const CFGBlock &B, unsigned Index,
                               const ValueUses &Uses, ASTContext &Ctx) {
  const Stmt *Cond = B.getTerminatorCondition();
  const auto *E = dyn_cast_or_null<Expr>(Cond);
  if (!E || B.succ_size() != 2)
    return 0;
  bool TrueIsZero = false;
  E = E->IgnoreParenImpCasts();
  while (const auto *UO = dyn_cast<UnaryOperator>(E)) {
    if (UO->getOpcode() != UO_LNot)
      break;
    TrueIsZero = !TrueIsZero;
    E = UO->getSubExpr()->IgnoreParenImpCasts();
  }
  auto IsZero = [&](const Expr *X) {
    return X->IgnoreParenCasts()->isNullPointerConstant(
               Ctx, Expr::NPC_ValueDependentIsNotNull) != Expr::NPCK_NotNull;
  };
  if (const auto *BO = dyn_cast<BinaryOperator>(E)) {
    BinaryOperatorKind Op = BO->getOpcode();
    if (Op != BO_EQ && Op != BO_NE && Op != BO_GT)
      return 0;
    if (IsZero(BO->getRHS()))
      E = BO->getLHS();
    else if (Op != BO_GT && IsZero(BO->getLHS()))
      E = BO->getRHS();
    else
      return 0;
    if (Op == BO_EQ)
      TrueIsZero = !TrueIsZero;
  }
  ValueRef Ref = Uses.refersTo(E);
  if (Ref.K != ValueRef::Member || Index != (TrueIsZero ? 0U : 1U))
    return 0;
  GoalMask Mask = 0;
  for (size_t I = 0; I < Uses.goals().size(); ++I)
    if (Uses.goals()[I].Field == Ref.Field)
      Mask |= GoalMask(1) << I;
  return Mask;
}

// ---- Batches: `batch[n++] = v;` then `for (i = 0; i < n; i++)` ---------------

/// A local counter: a local variable, or a field of a local struct (`n`,
/// `b.n`).
using Counter = std::pair<const VarDecl *, const FieldDecl *>;

static std::optional<Counter> counterOf(const Expr *E) {
  const FieldDecl *F = nullptr;
  E = E->IgnoreParenImpCasts();
  if (const auto *ME = dyn_cast<MemberExpr>(E); ME && !ME->isArrow()) {
    F = dyn_cast<FieldDecl>(ME->getMemberDecl());
    E = ME->getBase()->IgnoreParenImpCasts();
  }
  const auto *DRE = dyn_cast<DeclRefExpr>(E);
  const auto *V = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
  if (!V || !V->hasLocalStorage() ||
      !(F ? F->getType() : V->getType())->isIntegerType())
    return std::nullopt;
  return Counter{V, F};
}

static bool isZero(const Expr *E, ASTContext &Ctx) {
  Expr::EvalResult R;
  return E && !E->isValueDependent() && E->EvaluateAsInt(R, Ctx) &&
         R.Val.getInt().isZero();
}

/// What a path knows about the counters of a batch the value was stored in:
/// an element `arr[n]` was given the value and `n` was incremented since, so
/// `n >= 1` (`Positive`); `Pending` is such an `n` not incremented yet; `Zero`
/// a local set to 0 after that. A loop `for (i = 0; i < n; i++)` over the
/// batch then runs at least once: its first test cannot fail.
struct BatchFacts {
  std::optional<Counter> Positive, Pending, Zero;
  /// Tells paths with different facts apart.
  std::tuple<const void *, const void *, const void *> key() const {
    auto K = [](const std::optional<Counter> &C) -> const void * {
      return !C ? nullptr : C->second ? (const void *)C->second : C->first;
    };
    return {K(Positive), K(Pending), K(Zero)};
  }
  /// Updates the facts by statement \p S (its top node).
  void update(const Stmt *S, const ValueUses &Uses, ASTContext &Ctx);
  /// The removal \p Call writes the value into an element of a local array
  /// at a counter (`&dead[nd]`, then `nd++` on success; or `&dead[nd++]`).
  void received(const CallExpr *Call, const ValueUses &Uses);
  /// Edge \p Index of \p B cannot be taken under these facts.
  bool excludes(const CFGBlock &B, unsigned Index, ASTContext &Ctx) const;
};

void BatchFacts::update(const Stmt *S, const ValueUses &Uses, ASTContext &Ctx) {
  if (const auto *DS = dyn_cast<DeclStmt>(S)) {
    for (const Decl *D : DS->decls())
      if (const auto *V = dyn_cast<VarDecl>(D);
          V && V->getType()->isIntegerType() && isZero(V->getInit(), Ctx))
        Zero = Counter{V, nullptr};
    return;
  }
  const Expr *Target = nullptr;
  bool Increments = false;
  if (const auto *UO = dyn_cast<UnaryOperator>(S);
      UO && (UO->isIncrementDecrementOp() || UO->getOpcode() == UO_AddrOf)) {
    Target = UO->getSubExpr();
    Increments = UO->isIncrementOp();
  } else if (const auto *BO = dyn_cast<BinaryOperator>(S);
             BO && BO->isAssignmentOp()) {
    Target = BO->getLHS();
    // `arr[n++] = v` (n is now past the element), `arr[n] = v` (n++ follows).
    const auto *AS = dyn_cast<ArraySubscriptExpr>(Target->IgnoreParenImpCasts());
    if (AS && BO->getOpcode() == BO_Assign &&
        Uses.refersTo(BO->getRHS()).K == ValueRef::Whole &&
        ValueUses::localPlace(AS)) {
      const Expr *Idx = AS->getIdx()->IgnoreParenImpCasts();
      if (const auto *Inc = dyn_cast<UnaryOperator>(Idx);
          Inc && Inc->getOpcode() == UO_PostInc)
        Positive = counterOf(Inc->getSubExpr());
      else
        Pending = counterOf(Idx);
      return;
    }
  }
  std::optional<Counter> C = Target ? counterOf(Target) : std::nullopt;
  if (!C)
    return;
  if (C == Pending)
    Pending.reset(), Positive = Increments ? C : Positive;
  if (C == Positive && !Increments)
    Positive.reset();
  if (C == Zero)
    Zero.reset();
  if (const auto *BO = dyn_cast<BinaryOperator>(S);
      BO && BO->getOpcode() == BO_Assign && isZero(BO->getRHS(), Ctx))
    Zero = C;
}

void BatchFacts::received(const CallExpr *Call, const ValueUses &Uses) {
  for (const Expr *Arg : Call->arguments()) {
    const auto *UO = dyn_cast<UnaryOperator>(Arg->IgnoreParenCasts());
    const auto *AS = UO && UO->getOpcode() == UO_AddrOf
                         ? dyn_cast<ArraySubscriptExpr>(UO->getSubExpr()->IgnoreParenImpCasts())
                         : nullptr;
    if (!AS || !ValueUses::localPlace(AS) || !Uses.holderIndex(AS))
      continue;
    const Expr *Idx = AS->getIdx()->IgnoreParenImpCasts();
    if (const auto *Inc = dyn_cast<UnaryOperator>(Idx); Inc && Inc->getOpcode() == UO_PostInc)
      Positive = counterOf(Inc->getSubExpr());
    else
      Pending = counterOf(Idx);
  }
}

bool BatchFacts::excludes(const CFGBlock &B, unsigned Index,
                          ASTContext &Ctx) const {
  const auto *Cond = dyn_cast_or_null<Expr>(B.getTerminatorCondition());
  if (!Positive || !Cond || B.succ_size() != 2)
    return false;
  // -1: known zero, 1: known positive, 0: unknown.
  auto Sign = [&](const Expr *E) {
    std::optional<Counter> C = counterOf(E);
    return C && C == Positive ? 1 : (C && C == Zero) || isZero(E, Ctx) ? -1 : 0;
  };
  const Expr *E = Cond->IgnoreParenImpCasts();
  std::optional<bool> Holds;
  if (Sign(E) == 1) {
    Holds = true; // `if (n)`
  } else if (const auto *BO = dyn_cast<BinaryOperator>(E);
             BO && BO->isComparisonOp()) {
    int L = Sign(BO->getLHS()), R = Sign(BO->getRHS());
    if (L * R == -1) {
      BinaryOperatorKind Op = L == -1 ? BO->getOpcode()
                                      : BinaryOperator::reverseComparisonOp(BO->getOpcode());
      Holds = Op == BO_LT || Op == BO_LE || Op == BO_NE; // `0 Op n`, n >= 1
    }
  }
  return Holds && Index == (*Holds ? 1U : 0U);
}

/// Where a path leaving \p B for the exit block leaves the function, or
/// nothing when it ends the program (a noreturn call).
static std::optional<std::pair<SourceLocation, bool>>
exitOf(const CFGBlock &B, const FunctionDecl *FD) {
  if (B.hasNoReturnElement())
    return std::nullopt;
  for (auto It = B.rbegin(); It != B.rend(); ++It)
    if (auto S = It->getAs<CFGStmt>()) {
      if (const auto *Ret = dyn_cast<ReturnStmt>(S->getStmt()))
        return std::make_pair(Ret->getBeginLoc(), true);
      break;
    }
  return std::make_pair(FD->getBody()->getEndLoc(), false);
}

/// Local \p V is declared before \p At and its block encloses \p At: it
/// still exists there (a variable of an earlier loop's body does not).
static bool inScopeAt(const VarDecl *V, const Stmt *At, ASTContext &Ctx) {
  const SourceManager &SM = Ctx.getSourceManager();
  if (!SM.isBeforeInTranslationUnit(V->getLocation(), At->getBeginLoc()))
    return false;
  if (isa<ParmVarDecl>(V))
    return true;
  DynTypedNodeList Parents = Ctx.getParents(*V);
  const auto *DS = Parents.size() == 1 ? Parents[0].get<DeclStmt>() : nullptr;
  if (!DS)
    return true;
  DynTypedNodeList Blocks = Ctx.getParents(*DS);
  const auto *Block = Blocks.size() == 1 ? Blocks[0].get<CompoundStmt>() : nullptr;
  return !Block || !SM.isBeforeInTranslationUnit(Block->getEndLoc(), At->getBeginLoc());
}

/// The statement that starts the counter of loop \p Loop: a `for` loop's
/// init, or the statement right before a `while` loop in its block (`int i =
/// 0; while (i < 2) ...`); null for other statements.
static const Stmt *counterStart(const Stmt *Loop, ASTContext &Ctx) {
  if (const auto *FS = dyn_cast<ForStmt>(Loop))
    return FS->getInit();
  const auto *WS = dyn_cast<WhileStmt>(Loop);
  DynTypedNodeList Parents = Ctx.getParents(*Loop);
  const auto *Block = WS && !WS->getConditionVariable() && Parents.size() == 1
                          ? Parents[0].get<CompoundStmt>()
                          : nullptr;
  if (!Block)
    return nullptr;
  const Stmt *Before = nullptr;
  for (const Stmt *S : Block->body()) {
    if (S == Loop)
      return Before;
    Before = S;
  }
  return nullptr;
}

/// `for (int i = 0; i < 2; i++)`, `int i = 0; while (i < 2)`: a counting
/// loop (a `for` or `while` statement) whose condition holds on its first
/// test (the counter's start and bound are constants).
static bool runsAtLeastOnce(const Stmt *Loop, const Expr *Test,
                            ASTContext &Ctx) {
  const Stmt *Init = counterStart(Loop, Ctx);
  const VarDecl *Counter = nullptr;
  const Expr *Start = nullptr;
  if (const auto *DS = dyn_cast_or_null<DeclStmt>(Init);
      DS && DS->isSingleDecl())
    if ((Counter = dyn_cast<VarDecl>(DS->getSingleDecl())))
      Start = Counter->getInit();
  if (const auto *BO = dyn_cast_or_null<BinaryOperator>(Init);
      BO && BO->getOpcode() == BO_Assign)
    if (const auto *DRE = dyn_cast<DeclRefExpr>(BO->getLHS()->IgnoreParenImpCasts()))
      if ((Counter = dyn_cast<VarDecl>(DRE->getDecl())))
        Start = BO->getRHS();
  const auto *Cond = dyn_cast_or_null<BinaryOperator>(Test->IgnoreParenImpCasts());
  if (!Counter || !Start || !Cond || !Cond->isComparisonOp())
    return false;
  auto IsCounter = [&](const Expr *E) {
    const auto *DRE = dyn_cast<DeclRefExpr>(E->IgnoreParenImpCasts());
    return DRE && DRE->getDecl() == Counter;
  };
  const Expr *Bound = Cond->getRHS();
  BinaryOperatorKind Op = Cond->getOpcode();
  if (!IsCounter(Cond->getLHS())) {
    if (!IsCounter(Cond->getRHS()))
      return false;
    Bound = Cond->getLHS();
    Op = BinaryOperator::reverseComparisonOp(Op);
  }
  Expr::EvalResult A, B;
  if (!Start->EvaluateAsInt(A, Ctx) || !Bound->EvaluateAsInt(B, Ctx))
    return false;
  llvm::APSInt From = A.Val.getInt(), To = B.Val.getInt();
  int Cmp = llvm::APSInt::compareValues(From, To);
  switch (Op) {
  case BO_LT: return Cmp < 0;
  case BO_LE: return Cmp <= 0;
  case BO_GT: return Cmp > 0;
  case BO_GE: return Cmp >= 0;
  case BO_NE: return Cmp != 0;
  default: return false;
  }
}

/// Going from \p From to \p To tests a `for` or `while` loop's condition
/// for the first time (\p From ends before the condition: no back edge) and
/// the loop runs at least once.
static bool firstTestOfLoopRunOnce(const CFGBlock &From, const CFGBlock &To,
                                   ASTContext &Ctx) {
  const Stmt *Loop = To.getTerminatorStmt();
  const Expr *Test = nullptr;
  if (const auto *FS = dyn_cast_or_null<ForStmt>(Loop))
    Test = FS->getCond();
  else if (const auto *WS = dyn_cast_or_null<WhileStmt>(Loop))
    Test = WS->getCond();
  if (!Test || From.empty())
    return false;
  auto Last = From.back().getAs<CFGStmt>();
  return Last &&
         Ctx.getSourceManager().isBeforeInTranslationUnit(
             Last->getStmt()->getEndLoc(), Test->getBeginLoc()) &&
         runsAtLeastOnce(Loop, Test, Ctx);
}

std::optional<MissedCleanup> findMissedCleanup(const CFG &G,
                                               const FunctionDecl *FD,
                                               const RemovalStatus &Status,
                                               ValueUses &Uses) {
  // Find the removal.
  const CFGBlock *Start = nullptr;
  unsigned StartIndex = 0;
  for (const CFGBlock *B : G) {
    unsigned Index = 0;
    for (const CFGElement &E : *B) {
      ++Index;
      if (auto S = E.getAs<CFGStmt>(); S && S->getStmt() == Status.Call) {
        Start = B;
        StartIndex = Index;
      }
    }
  }
  if (!Start)
    return std::nullopt;
  CallOutcome Outcome(FD->getASTContext(), Status.Call,
                      Status.Replaces ? CallEvent::Replaced : CallEvent::Removed);
  if (Status.StatusVar)
    Outcome.addResultVar(Status.StatusVar);
  Outcome.findResultVars(FD->getBody()); /* also `bool removed = call == OK;` */
  Outcome.setValueHolders([&](const Expr *E) {
    return Uses.refersTo(E).K == ValueRef::Whole;
  });
  Outcome.setReading(Status.Reading);
  // Says whether a second reading of the statuses may find another answer.
  auto Done = [&](std::optional<MissedCleanup> M) {
    if (Status.ReadingUsed)
      *Status.ReadingUsed = Outcome.readingUsed();
    return M;
  };
  struct Item {
    const CFGBlock *B;
    unsigned From;
    GoalMask Owed;
    const CallExpr *Freed;
    uint64_t Live; ///< The holders that still hold the value.
    BatchFacts Batch;
    /// B tests a `for` loop's condition for the first time, and the loop
    /// runs at least once: only its body follows.
    bool FirstTest = false;
    const Stmt *Jump = nullptr; ///< The last `continue` or `break` taken.
    /// What the path knows of the removal's status (CallOutcome::PathFacts).
    uint64_t Facts = 0;
  };
  auto Miss = [&](const Item &It, SourceLocation Where, bool AtReturn,
                  decltype(MissedCleanup::How) How) {
    MissedCleanup M{It.Owed, Where, AtReturn, It.Freed};
    M.How = How;
    M.Jump = It.Jump;
    return Done(M);
  };
  // Holder H of the path's value holds it from here on, or not; whether any
  // holder still does.
  auto Hold = [&](Item &It, unsigned H, bool Holds) {
    It.Live = Holds ? It.Live | (uint64_t(1) << H) : It.Live & ~(uint64_t(1) << H);
    Uses.setLive(It.Live);
    return It.Live != 0;
  };
  BatchFacts Received;
  Received.received(Status.Call, Uses);
  llvm::SmallVector<Item, 16> Work{
      {Start, StartIndex, Uses.all(), nullptr,
       Uses.holders().empty()
           ? 0
           : Uses.live() & (~uint64_t(0) >> (64 - Uses.holders().size())),
       Received}};
  Work.back().Facts = Outcome.atCall().pack();
  // A path that knows a batch is not empty is another path.
  llvm::DenseSet<std::tuple<unsigned, GoalMask, uint64_t, const void *,
                            const void *, const void *, unsigned, uint64_t>>
      Seen;
  while (!Work.empty()) {
    Item It = Work.pop_back_val();
    Uses.setLive(It.Live);
    bool Stop = false;
    unsigned Index = 0;
    for (const CFGElement &E : *It.B) {
      if (Index++ < It.From)
        continue;
      auto S = E.getAs<CFGStmt>();
      if (!S)
        continue;
      const Stmt *St = S->getStmt();
      if (Status.Refill && St == Status.Refill) {
        // Around an iterator's loop: its next step overwrites the first
        // holder; the ones declared in the loop's body are gone.
        uint64_t Outside = 0;
        for (unsigned H = 1; H < Uses.holders().size() && H < 64; ++H)
          if (inScopeAt(Uses.holders()[H].Var, St, FD->getASTContext()))
            Outside |= uint64_t(1) << H;
        if (!(It.Live & Outside))
          return Miss(It, St->getBeginLoc(), false, MissedCleanup::NextValue);
        Stop = true;
        break;
      }
      if (St == Status.Call) {
        // Around a loop: the next removal overwrites the variable the value
        // came in (holder 0); lost, unless another variable still holds it,
        // or the counter it came in at moved past it (`&dead[nd]`, `nd++`).
        if (!(It.Live & ~uint64_t(1)) && !It.Batch.Positive)
          return Miss(It, Status.Call->getBeginLoc(), false,
                      MissedCleanup::NextRemoval);
        Stop = true;
        break;
      }
      It.Facts = Outcome.afterElement(CallOutcome::PathFacts::unpack(It.Facts), St)
                     .pack();
      // `(void)g_steal_pointer(&h);`: h is nulled and what it held dropped (an
      // autoptr's exit cleanup then gets NULL), not handed on.
      if (const Expr *Dropped = droppedBySteal(St, FD->getASTContext()))
        if (std::optional<unsigned> H = Uses.holderIndex(Dropped)) {
          if (!Hold(It, *H, false))
            return Miss(It,
                        FD->getASTContext().getSourceManager().getExpansionLoc(
                            St->getBeginLoc()),
                        false, MissedCleanup::StolenAndDropped);
          continue;
        }
      if (Uses.isDeallocation(St))
        It.Freed = cast<CallExpr>(St);
      It.Batch.update(St, Uses, FD->getASTContext());
      It.Owed = Uses.settle(It.Owed & ~Uses.discharged(St));
      if (!It.Owed) {
        Stop = true;
        break;
      }
      // A holder given another value (`s = NULL;`) no longer holds it.
      if (const auto *BO = dyn_cast<BinaryOperator>(St);
          BO && BO->getOpcode() == BO_Assign)
        if (std::optional<unsigned> H = Uses.holderIndex(BO->getLHS())) {
          bool Keeps = Uses.refersTo(BO->getRHS()).K == ValueRef::Whole ||
                       BO->getRHS()->IgnoreParenCasts() == Status.Call;
          if (!Hold(It, *H, Keeps))
            return Miss(It, BO->getBeginLoc(), false, MissedCleanup::Overwritten);
        }
    }
    if (Stop)
      continue;
    for (auto [Succ, Index, Facts] : followedSuccessors(
             *It.B, Outcome, CallOutcome::PathFacts::unpack(It.Facts))) {
      if (It.FirstTest && Index != 0)
        continue;
      if (It.Batch.excludes(*It.B, Index, FD->getASTContext()) ||
          referencesRemain(*It.B, Index, Uses, FD->getASTContext()))
        continue;
      Item Next = It;
      Next.Owed = Uses.settle(
          It.Owed & ~nullFieldGoals(*It.B, Index, Uses, FD->getASTContext()));
      if (!Next.Owed)
        continue;
      if (const Stmt *T = It.B->getTerminatorStmt(); isa_and_nonnull<ContinueStmt, BreakStmt>(T))
        Next.Jump = T;
      if (Succ == &G.getExit()) {
        Uses.setLive(It.Live);
        Next.Owed = Uses.settle(Next.Owed & ~Uses.dischargedByScopeCleanups());
        if (!Next.Owed)
          continue;
        if (auto Exit = exitOf(*It.B, FD))
          return Miss(Next, Exit->first, Exit->second, MissedCleanup::AtExit);
        continue;
      }
      auto [P, Q, Z] = It.Batch.key();
      bool First = firstTestOfLoopRunOnce(*It.B, *Succ, FD->getASTContext());
      if (Seen.insert({Succ->getBlockID(), Next.Owed, It.Live, P, Q, Z,
                       unsigned(First), Facts.pack()})
              .second)
        Work.push_back({Succ, 0, Next.Owed, It.Freed, It.Live, It.Batch, First,
                        Next.Jump, Facts.pack()});
    }
  }
  Uses.setLive(~uint64_t(0));
  return Done(std::nullopt);
}

// ===------------------------------------------------------------------=== //
// Hooks
// ===------------------------------------------------------------------=== //

static bool callsNamed(const Stmt *S, llvm::StringRef Name, unsigned Depth,
                       llvm::SmallPtrSetImpl<const FunctionDecl *> &Seen) {
  if (!S)
    return false;
  if (const auto *Call = dyn_cast<CallExpr>(S))
    if (const FunctionDecl *Callee = Call->getDirectCallee()) {
      if (Callee->getDeclName().isIdentifier() && Callee->getName() == Name)
        return true;
      const FunctionDecl *Def = definitionOf(Callee);
      if (Def && Depth > 0 && Seen.insert(Def).second &&
          callsNamed(Def->getBody(), Name, Depth - 1, Seen))
        return true;
    }
  return llvm::any_of(S->children(), [&](const Stmt *C) {
    return callsNamed(C, Name, Depth, Seen);
  });
}

bool callsFunctionNamed(const FunctionDecl *FD, llvm::StringRef Name,
                        unsigned Depth) {
  const FunctionDecl *Def = definitionOf(FD);
  if (!Def)
    return false;
  llvm::SmallPtrSet<const FunctionDecl *, 8> Seen{Def};
  return callsNamed(Def->getBody(), Name, Depth, Seen);
}

/// Whether a hook with a visible body hands the value it is given (its third
/// parameter, a tsmap hook's `value`; else its first, a GDestroyNotify's) or
/// something read from it to a call whose body the translation unit does not
/// show (a release function in another file, a function pointer), other than
/// a deallocator or a variadic logger: that callee may clean it, so the hook
/// is trusted as an invisible one is (quiet rather than noisy).
bool hookHandsValueToUnseen(const FunctionDecl *Hook, const RemovalPolicy &P) {
  unsigned Idx = Hook->getNumParams() >= 3 ? 2 : 0;
  if (Hook->getNumParams() <= Idx)
    return false;
  llvm::SmallPtrSet<const ValueDecl *, 8> Derived;
  Derived.insert(Hook->getParamDecl(Idx));
  std::function<bool(const Stmt *)> Refers = [&](const Stmt *S) {
    if (!S)
      return false;
    if (const auto *DRE = dyn_cast<DeclRefExpr>(S))
      return Derived.contains(DRE->getDecl());
    return llvm::any_of(S->children(), Refers);
  };
  // Locals initialized or assigned from the value (`struct conn *c = v;`),
  // twice over for a chain of them.
  std::function<void(const Stmt *)> Learn = [&](const Stmt *S) {
    if (!S)
      return;
    if (const auto *DS = dyn_cast<DeclStmt>(S))
      for (const Decl *D : DS->decls())
        if (const auto *V = dyn_cast<VarDecl>(D); V && Refers(V->getInit()))
          Derived.insert(V);
    if (const auto *BO = dyn_cast<BinaryOperator>(S); BO && BO->isAssignmentOp())
      if (const auto *L = dyn_cast<DeclRefExpr>(BO->getLHS()->IgnoreParenCasts());
          L && Refers(BO->getRHS()))
        Derived.insert(L->getDecl());
    for (const Stmt *C : S->children())
      Learn(C);
  };
  Learn(Hook->getBody());
  Learn(Hook->getBody());
  bool Unseen = false;
  std::function<void(const Stmt *)> Find = [&](const Stmt *S) {
    if (!S || Unseen)
      return;
    if (const auto *CE = dyn_cast<CallExpr>(S)) {
      const FunctionDecl *Callee = CE->getDirectCallee();
      const FunctionDecl *Def = Callee ? Callee->getDefinition() : nullptr;
      // Variadic ones are loggers (g_log, printf, `ops->log("%p", c)`), not
      // release functions; nor are the C library's (strlen, pthread_mutex_*).
      const auto *Proto = CE->getCallee()
                              ->getType()
                              ->getPointeeOrArrayElementType()
                              ->getAs<FunctionProtoType>();
      bool Opaque =
          Callee ? !Def && !Callee->getBuiltinID() && !Callee->isVariadic() &&
                       !(Callee->getIdentifier() &&
                         (P.isDeallocator(Callee->getName()) ||
                          isKnownQuietLibraryFunction(Callee->getName())))
                 : !(Proto && Proto->isVariadic());
      if (Opaque && llvm::any_of(CE->arguments(), [&](const Expr *A) { return Refers(A); }))
        Unseen = true;
    }
    for (const Stmt *C : S->children())
      Find(C);
  };
  Find(Hook->getBody());
  return Unseen;
}

} // namespace clang::tidy::tsmap
