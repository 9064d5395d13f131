//===--- ObjectOrigins.cpp - where a function's object pointers come from -===//

#include "ObjectOrigins.h"
#include "GLibTables.h"
#include "clang/AST/ASTContext.h"
#include "clang/AST/Attr.h"
#include "clang/AST/Expr.h"
#include "clang/AST/ParentMapContext.h"
#include "clang/AST/ExprCXX.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include "clang/AST/Stmt.h"
#include "clang/Lex/Lexer.h"
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

bool isAllocator(const FunctionDecl *FD) {
  if (!FD)
    return false;
  // `__attribute__((malloc))`, GLib's G_GNUC_MALLOC (wireshark's wmem_alloc,
  // bench/realworld R33): the pointer returned aliases no other object.
  if (FD->hasAttr<RestrictAttr>())
    return true;
  return FD->getIdentifier() && isAllocatorName(FD->getName());
}

static bool isClearPointer(llvm::StringRef Name) {
  return Name == "g_clear_pointer" || Name == "g_clear_object";
}

bool clearedThroughAddress(const UnaryOperator *AddrOf, ASTContext &Ctx) {
  if (!AddrOf || AddrOf->getOpcode() != UO_AddrOf)
    return false;
  // The macro: `&c->f` is one of its arguments (in `_pp = (pp)`, and in the
  // unevaluated `sizeof *(pp)` and `typeof`), perhaps through g_clear_object.
  const SourceManager &SM = Ctx.getSourceManager();
  SourceLocation L = AddrOf->getBeginLoc();
  for (unsigned Depth = 0; L.isMacroID() && Depth < 8; ++Depth) {
    if (isClearPointer(Lexer::getImmediateMacroName(L, SM, Ctx.getLangOpts())))
      return true;
    L = SM.getImmediateMacroCallerLoc(L);
  }
  // The function: `(g_clear_pointer) ((gpointer *) &c->f, destroy)`.
  DynTypedNodeList Parents = Ctx.getParents(*AddrOf);
  for (unsigned Depth = 0; Depth < 4 && !Parents.empty(); ++Depth) {
    if (const auto *Call = Parents[0].get<CallExpr>()) {
      const FunctionDecl *FD = Call->getDirectCallee();
      return FD && FD->getIdentifier() && isClearPointer(FD->getName()) &&
             Call->getNumArgs() >= 1 &&
             Call->getArg(0)->IgnoreParenCasts() == AddrOf;
    }
    const auto *E = Parents[0].get<Expr>();
    if (!E || !(isa<ParenExpr>(E) || isa<CastExpr>(E)))
      return false;
    Parents = Ctx.getParents(*E);
  }
  return false;
}

namespace {
/// The definition of \p FD in the translation unit, if any.
const FunctionDecl *definitionOf(const FunctionDecl *FD) {
  const FunctionDecl *Def = nullptr;
  return FD && FD->hasBody(Def) ? Def : nullptr;
}

/// \p E names \p V.
bool namesVar(const Expr *E, const VarDecl *V) {
  const auto *DRE = dyn_cast<DeclRefExpr>(E->IgnoreParenImpCasts());
  return DRE && DRE->getDecl() == V;
}

/// The values the returns of \p S hand back (null for `return;`).
void returnValues(const Stmt *S, llvm::SmallVectorImpl<const Expr *> &Out) {
  if (!S || isa<LambdaExpr>(S) || isa<BlockExpr>(S))
    return;
  if (const auto *R = dyn_cast<ReturnStmt>(S)) {
    Out.push_back(R->getRetValue());
    return;
  }
  for (const Stmt *C : S->children())
    returnValues(C, Out);
}

/// The origins of one root: the variables it may come from, and whether it
/// may be a new allocation. Unknown when a value cannot be traced.
struct Origins {
  llvm::SmallPtrSet<const VarDecl *, 4> Vars;
  bool Fresh = false;
  bool Unknown = false;
};

/// The local \p E hands over with GLib's `g_steal_pointer (&v)` (its value,
/// which the local then drops), or null.
const VarDecl *stolenVar(const Expr *E) {
  const auto *Call = dyn_cast_or_null<CallExpr>(E ? E->IgnoreParenCasts() : nullptr);
  const FunctionDecl *FD = Call ? Call->getDirectCallee() : nullptr;
  if (!FD || !FD->getIdentifier() || FD->getName() != "g_steal_pointer" ||
      Call->getNumArgs() != 1)
    return nullptr;
  const auto *UO = dyn_cast<UnaryOperator>(Call->getArg(0)->IgnoreParenCasts());
  const auto *DRE = UO && UO->getOpcode() == UO_AddrOf
                        ? dyn_cast<DeclRefExpr>(UO->getSubExpr()->IgnoreParenImpCasts())
                        : nullptr;
  return DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
}

/// The values \p V is given in \p Body (`v = e`), and whether its address is
/// taken (`&v`: written elsewhere).
void assignmentsTo(const VarDecl *V, const Stmt *S,
                   llvm::SmallVectorImpl<const Expr *> &Values, bool &Escapes) {
  if (!S || Escapes)
    return;
  if (const auto *E = dyn_cast<Expr>(S); E && stolenVar(E) == V)
    return; // `g_steal_pointer (&v)` hands v's value on, and keeps no alias

  if (const auto *BO = dyn_cast<BinaryOperator>(S); BO && BO->isAssignmentOp())
    if (const auto *DRE = dyn_cast<DeclRefExpr>(BO->getLHS()->IgnoreParenImpCasts());
        DRE && DRE->getDecl() == V)
      Values.push_back(BO->getRHS());
  if (const auto *UO = dyn_cast<UnaryOperator>(S); UO && UO->getOpcode() == UO_AddrOf)
    if (const auto *DRE = dyn_cast<DeclRefExpr>(UO->getSubExpr()->IgnoreParenImpCasts());
        DRE && DRE->getDecl() == V && !clearedThroughAddress(UO, V->getASTContext()))
      Escapes = true; // g_clear_pointer (&v, ...) stores only NULL
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

/// \p E is a new object: an allocation (isAllocator), or a call to a
/// function whose every return is one (returnsFresh).
bool freshValue(const Expr *E, unsigned Depth);

void addOrigins(const VarDecl *V, const FunctionDecl *Owner, const ContractModel &Model,
                Origins &O, llvm::SmallPtrSetImpl<const VarDecl *> &Seen,
                unsigned Depth) {
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
    // An allocation, or a function of the TU whose every return is one
    // (`result = changeset_new ()`, also `clone = attr_new_from (self)`).
    if (freshValue(E, 0)) {
      O.Fresh = true;
      continue;
    }
    // What a map operation hands back, unless a map (`g_hash_table_ref`), is
    // an entry of the map (`parser = g_hash_table_lookup (parsers, name)`):
    // any object.
    if (const auto *Call = dyn_cast<CallExpr>(E);
        Call && Call->getDirectCallee() && Model.isMapOperation(Call->getDirectCallee()) &&
        !Model.isMapPointer(Call->getType())) {
      O.Unknown = true;
      return;
    }
    llvm::SmallVector<const VarDecl *, 4> Named;
    namedVars(E, Named);
    if (Named.empty()) {
      O.Unknown = true; // `get_default()`: any object
      return;
    }
    for (const VarDecl *N : Named)
      addOrigins(N, Owner, Model, O, Seen, Depth + 1);
  }
}

std::optional<Origins> originsOf(const Place &P, const FunctionDecl *Owner,
                                 const ContractModel &Model) {
  const VarDecl *Root = nullptr;
  if (P.Root == Place::RootKind::Param && P.Param < Owner->getNumParams())
    Root = Owner->getParamDecl(P.Param);
  else if (P.Root == Place::RootKind::Global || P.Root == Place::RootKind::Local)
    Root = P.Var;
  if (!Root)
    return std::nullopt;
  Origins O;
  llvm::SmallPtrSet<const VarDecl *, 8> Seen;
  addOrigins(Root, Owner, Model, O, Seen, 0);
  if (O.Unknown || (O.Vars.empty() && !O.Fresh))
    return std::nullopt;
  return O;
}
} // namespace

/// The node \p S itself assigns \p V, steps it, or takes its address.
static bool assignsHere(const Stmt *S, const VarDecl *V) {
  if (const auto *BO = dyn_cast<BinaryOperator>(S);
      BO && BO->isAssignmentOp() && namesVar(BO->getLHS(), V))
    return true;
  const auto *UO = dyn_cast<UnaryOperator>(S);
  return UO && (UO->isIncrementDecrementOp() || UO->getOpcode() == UO_AddrOf) &&
         namesVar(UO->getSubExpr(), V);
}

bool assignsVar(const Stmt *S, const VarDecl *V) {
  if (!S)
    return false;
  return assignsHere(S, V) ||
         llvm::any_of(S->children(), [&](const Stmt *C) { return assignsVar(C, V); });
}

namespace {
/// \p S writes \p V: assigns it, increments it, takes its address, or
/// declares it.
bool writesVar(const Stmt *S, const VarDecl *V) {
  if (!S)
    return false;
  if (assignsHere(S, V))
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

/// Every return of \p FD hands back an allocation, directly or through a local
/// that is given nothing else.
bool returnsFresh(const FunctionDecl *FD, unsigned Depth) {
  const FunctionDecl *Def = definitionOf(FD);
  if (Depth > 2 || !Def)
    return false;
  llvm::SmallVector<const Expr *, 4> Returns;
  returnValues(Def->getBody(), Returns);
  if (Returns.empty())
    return false;
  ASTContext &Ctx = Def->getASTContext();
  for (const Expr *E : Returns) {
    if (!E)
      return false;
    E = E->IgnoreParenCasts();
    const auto *DRE = dyn_cast<DeclRefExpr>(E);
    const VarDecl *V = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : stolenVar(E);
    if (DRE || V) {
      if (!V || !V->isLocalVarDecl() || V->isStaticLocal())
        return false;
      llvm::SmallVector<const Expr *, 4> Values;
      bool Escapes = false;
      if (V->getInit())
        Values.push_back(V->getInit());
      assignmentsTo(V, Def->getBody(), Values, Escapes);
      if (Escapes || Values.empty())
        return false;
      // `p = NULL; ... p = g_object_new (...); return p;`: a null is no object.
      unsigned Objects = 0;
      for (const Expr *Val : Values) {
        if (Val->IgnoreParenCasts()->isNullPointerConstant(
                Ctx, Expr::NPC_ValueDependentIsNotNull))
          continue;
        if (!freshValue(Val, Depth + 1))
          return false;
        ++Objects;
      }
      if (Objects == 0)
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
  if (isAllocator(Callee))
    return true;
  return returnsFresh(Callee, Depth);
}
} // namespace

const Stmt *lastWriteBefore(const Stmt *Site, ASTContext &Ctx,
                            llvm::function_ref<bool(const Stmt *)> Writes,
                            bool InLoop) {
  // Up from the call to the statement of a block, then back through the block
  // (and the blocks around it) to the nearest statement that writes.
  const Stmt *Cur = Site;
  for (unsigned Up = 0; Up < 64; ++Up) {
    DynTypedNodeList Parents = Ctx.getParents(*Cur);
    if (Parents.size() != 1)
      return nullptr;
    const Stmt *Parent = Parents[0].get<Stmt>();
    if (!Parent)
      return nullptr; // a function's top
    // A loop around the call: an earlier iteration may write, unless the loop
    // never does (`p = parser_new (); while (next) fill (p->options);`).
    if (isa<ForStmt, WhileStmt, DoStmt>(Parent) && (InLoop || Writes(Parent)))
      return nullptr;
    if (const auto *CS = dyn_cast<CompoundStmt>(Parent)) {
      const Stmt *const *It = llvm::find(CS->body(), Cur);
      if (It == CS->body_end())
        return nullptr;
      while (It != CS->body_begin())
        if (const Stmt *Prev = *--It; Writes(Prev))
          return Prev;
    }
    Cur = Parent;
  }
  return nullptr;
}

bool freshAtCall(const VarDecl *V, const Stmt *Site, ASTContext &Ctx) {
  if (!V || !Site || !V->isLocalVarDecl() || V->isStaticLocal() ||
      !V->getType()->isPointerType())
    return false;
  const Stmt *Prev = lastWriteBefore(Site, Ctx, [V](const Stmt *S) {
    return writesVar(S, V);
  });
  const Expr *Value = Prev ? assignedValue(Prev, V) : nullptr;
  return Value && freshValue(Value, 0);
}

bool distinctOrigins(const Place &A, const Place &B, const FunctionDecl *Owner,
                     const ContractModel &Model) {
  if (!Owner || !Owner->getBody())
    return false;
  std::optional<Origins> OA = originsOf(A, Owner, Model),
                         OB = originsOf(B, Owner, Model);
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

/// \p Call is GObject's checked cast `FOO (obj)`,
/// `g_type_check_instance_cast (obj, type)`, which returns its argument.
static bool isInstanceCast(const CallExpr *Call) {
  const FunctionDecl *FD = Call->getDirectCallee();
  return FD && FD->getIdentifier() && FD->getName() == "g_type_check_instance_cast" &&
         Call->getNumArgs() >= 1;
}

namespace {
const ParmVarDecl *pointsIntoParam(const Expr *E, unsigned Depth);

/// The index of the parameter of \p FD whose object every return of \p FD
/// points into (GObject's generated `foo_get_instance_private (self)`,
/// `return G_STRUCT_MEMBER_P (self, Foo_private_offset);`).
std::optional<unsigned> returnsIntoParam(const FunctionDecl *FD, unsigned Depth) {
  const FunctionDecl *Def = definitionOf(FD);
  if (!Def || Depth > 2)
    return std::nullopt;
  llvm::SmallVector<const Expr *, 2> Returns;
  returnValues(Def->getBody(), Returns);
  const ParmVarDecl *Common = nullptr;
  for (const Expr *R : Returns) {
    const ParmVarDecl *P = R ? pointsIntoParam(R, Depth + 1) : nullptr;
    if (!P || (Common && P != Common))
      return std::nullopt;
    Common = P;
  }
  return Common ? std::optional<unsigned>(Common->getFunctionScopeIndex())
                : std::nullopt;
}

/// The parameter whose object pointer \p E points into: the parameter through
/// casts and pointer arithmetic, GObject's checked cast `FOO (obj)`
/// (`g_type_check_instance_cast` returns its argument), or a call of a
/// function that returns a pointer into its parameter's object
/// (returnsIntoParam) given such a pointer. Null for anything else (a field
/// load, a lookup: another object).
const ParmVarDecl *pointsIntoParam(const Expr *E, unsigned Depth) {
  for (unsigned Guard = 0; E && Guard < 16; ++Guard) {
    E = E->IgnoreParenCasts();
    if (const auto *BO = dyn_cast<BinaryOperator>(E); BO && BO->isAdditiveOp()) {
      E = BO->getLHS()->getType()->isPointerType() ? BO->getLHS() : BO->getRHS();
      continue;
    }
    if (const auto *DRE = dyn_cast<DeclRefExpr>(E))
      return dyn_cast<ParmVarDecl>(DRE->getDecl());
    const auto *Call = dyn_cast<CallExpr>(E);
    const FunctionDecl *Callee = Call ? Call->getDirectCallee() : nullptr;
    if (!Callee || Call->getNumArgs() == 0)
      return nullptr;
    std::optional<unsigned> I =
        isInstanceCast(Call) ? std::optional<unsigned>(0) : returnsIntoParam(Callee, Depth);
    if (!I || *I >= Call->getNumArgs())
      return nullptr;
    E = Call->getArg(*I);
  }
  return nullptr;
}
} // namespace

std::optional<unsigned> objectParamOf(const VarDecl *V, const FunctionDecl *Owner) {
  if (!V || isa<ParmVarDecl>(V) || !V->isLocalVarDecl() || V->isStaticLocal() ||
      !V->getType()->isPointerType() || !Owner || !Owner->getBody())
    return std::nullopt;
  llvm::SmallVector<const Expr *, 4> Values;
  bool Escapes = false;
  if (V->getInit())
    Values.push_back(V->getInit());
  assignmentsTo(V, Owner->getBody(), Values, Escapes);
  const ParmVarDecl *Common = nullptr;
  for (const Expr *E : Values) {
    if (E->IgnoreParenCasts()->isNullPointerConstant(
            Owner->getASTContext(), Expr::NPC_ValueDependentIsNotNull))
      continue;
    const ParmVarDecl *P = pointsIntoParam(E, 0);
    if (!P || (Common && P != Common))
      return std::nullopt;
    Common = P;
  }
  const auto *Fn = Common ? dyn_cast<FunctionDecl>(Common->getDeclContext()) : nullptr;
  if (Escapes || !Fn || Fn->getCanonicalDecl() != Owner->getCanonicalDecl())
    return std::nullopt;
  return Common->getFunctionScopeIndex();
}

// ===----------------------------------------------------------------------===
// Tables a function owns
// ===----------------------------------------------------------------------===

namespace {
constexpr unsigned MaxOwnDepth = 4; ///< Helpers followed for a table's source.

bool isNewTableName(llvm::StringRef N) {
  return N == "g_hash_table_new" || N == "g_hash_table_new_full" ||
         N == "g_hash_table_new_similar";
}

/// What the values a variable is given are: null, a new table, a reference
/// taken (`g_hash_table_ref`), the result of a call that proves neither, or
/// anything else (a field, a parameter: borrowed).
struct Held {
  bool New = false, Ref = false, Call = false, Other = false;
  void add(const Held &H) {
    New |= H.New, Ref |= H.Ref, Call |= H.Call, Other |= H.Other;
  }
};

Held classify(const Expr *E, const FunctionDecl *Owner, unsigned Depth);
bool returnsNewTable(const FunctionDecl *FD, unsigned Depth);
bool returnsNewReference(const FunctionDecl *FD, unsigned Depth);

/// The values \p V is given in \p S, and the calls given `&V` (\p Fills);
/// any other use of `&V`, or a compound assignment, is \p Other.
void valuesOf(const VarDecl *V, const Stmt *S,
              llvm::SmallVectorImpl<const Expr *> &Values,
              llvm::SmallVectorImpl<std::pair<const CallExpr *, unsigned>> &Fills,
              bool &Other) {
  if (!S || Other || isa<LambdaExpr>(S) || isa<BlockExpr>(S))
    return;
  if (const auto *BO = dyn_cast<BinaryOperator>(S);
      BO && BO->isAssignmentOp() && namesVar(BO->getLHS(), V)) {
    if (BO->getOpcode() != BO_Assign)
      Other = true;
    Values.push_back(BO->getRHS());
    valuesOf(V, BO->getRHS(), Values, Fills, Other);
    return;
  }
  if (const auto *CE = dyn_cast<CallExpr>(S)) {
    for (unsigned I = 0; I < CE->getNumArgs(); ++I) {
      const auto *UO = dyn_cast<UnaryOperator>(CE->getArg(I)->IgnoreParenImpCasts());
      if (UO && UO->getOpcode() == UO_AddrOf && namesVar(UO->getSubExpr(), V) &&
          !clearedThroughAddress(UO, V->getASTContext()))
        Fills.push_back({CE, I});
      else
        valuesOf(V, CE->getArg(I), Values, Fills, Other);
    }
    valuesOf(V, CE->getCallee(), Values, Fills, Other);
    return;
  }
  if (const auto *UO = dyn_cast<UnaryOperator>(S);
      UO && UO->getOpcode() == UO_AddrOf && namesVar(UO->getSubExpr(), V)) {
    // `&t` kept or handed to something that is not a call; g_clear_pointer
    // (&t, ...) stores only NULL
    Other = !clearedThroughAddress(UO, V->getASTContext());
    return;
  }
  for (const Stmt *C : S->children())
    valuesOf(V, C, Values, Fills, Other);
}

} // namespace

bool assignedValuesOf(const VarDecl *V, const FunctionDecl *Owner,
                      llvm::SmallVectorImpl<const Expr *> &Out) {
  if (!V || isa<ParmVarDecl>(V) || !V->hasLocalStorage() ||
      !V->getType()->isPointerType() || !Owner || !Owner->getBody())
    return false;
  llvm::SmallVector<const Expr *, 4> Assigned;
  llvm::SmallVector<std::pair<const CallExpr *, unsigned>, 2> Fills;
  bool Other = false;
  valuesOf(V, Owner->getBody(), Assigned, Fills, Other);
  if (Other || !Fills.empty() || Assigned.empty())
    return false;
  if (V->getInit())
    Out.push_back(V->getInit());
  Out.append(Assigned.begin(), Assigned.end());
  return true;
}

namespace {
/// The stores through parameter \p P of \p Def (`*p = x`); false when \p P
/// is used other than as `*p`.
bool storesThrough(const ParmVarDecl *P, const Stmt *S,
                   llvm::SmallVectorImpl<const BinaryOperator *> &Stores) {
  if (!S)
    return true;
  if (const auto *BO = dyn_cast<BinaryOperator>(S); BO && BO->isAssignmentOp())
    if (const auto *UO = dyn_cast<UnaryOperator>(BO->getLHS()->IgnoreParenImpCasts());
        UO && UO->getOpcode() == UO_Deref && namesVar(UO->getSubExpr(), P)) {
      Stores.push_back(BO);
      return storesThrough(P, BO->getRHS(), Stores);
    }
  if (const auto *UO = dyn_cast<UnaryOperator>(S);
      UO && UO->getOpcode() == UO_Deref && namesVar(UO->getSubExpr(), P))
    return true; // `*p` read: the table it was given
  if (const auto *DRE = dyn_cast<DeclRefExpr>(S))
    return DRE->getDecl() != P;
  for (const Stmt *C : S->children())
    if (!storesThrough(P, C, Stores))
      return false;
  return true;
}

bool leavesEarly(const Stmt *S) {
  if (!S || isa<LambdaExpr>(S) || isa<BlockExpr>(S))
    return false;
  if (isa<ReturnStmt>(S) || isa<GotoStmt>(S) || isa<IndirectGotoStmt>(S))
    return true;
  return llvm::any_of(S->children(), leavesEarly);
}

/// The function called at \p Call stores a new table through its argument
/// \p Arg on every path (a statement of its body that nothing before it can
/// return past) and nothing else through it.
bool fillsNewTable(const CallExpr *Call, unsigned Arg, unsigned Depth) {
  const FunctionDecl *Def = definitionOf(Call->getDirectCallee());
  if (!Def || Depth > MaxOwnDepth || Arg >= Def->getNumParams())
    return false;
  const ParmVarDecl *P = Def->getParamDecl(Arg);
  llvm::SmallVector<const BinaryOperator *, 2> Stores;
  if (!storesThrough(P, Def->getBody(), Stores) || Stores.empty())
    return false;
  for (const BinaryOperator *BO : Stores)
    if (BO->getOpcode() != BO_Assign) {
      return false;
    } else {
      Held H = classify(BO->getRHS(), Def, Depth + 1);
      if (H.Other || H.Call || H.Ref)
        return false;
    }
  const auto *Body = dyn_cast<CompoundStmt>(Def->getBody());
  if (!Body)
    return false;
  for (const Stmt *Child : Body->body()) {
    const auto *E = dyn_cast<Expr>(Child);
    if (E && llvm::is_contained(Stores, dyn_cast<BinaryOperator>(E->IgnoreParens())))
      return true;
    if (leavesEarly(Child))
      return false;
  }
  return false;
}

/// What \p V, a local pointer of \p Owner, is given.
Held heldBy(const VarDecl *V, const FunctionDecl *Owner, unsigned Depth) {
  Held H;
  if (!V || isa<ParmVarDecl>(V) || !V->hasLocalStorage() ||
      !V->getType()->isPointerType() || !Owner || !Owner->getBody() ||
      Depth > MaxOwnDepth) {
    H.Other = true;
    return H;
  }
  llvm::SmallVector<const Expr *, 4> Values;
  llvm::SmallVector<std::pair<const CallExpr *, unsigned>, 2> Fills;
  if (V->getInit())
    Values.push_back(V->getInit());
  valuesOf(V, Owner->getBody(), Values, Fills, H.Other);
  for (const Expr *E : Values)
    H.add(classify(E, Owner, Depth));
  for (auto &[Call, Arg] : Fills) {
    if (fillsNewTable(Call, Arg, Depth + 1))
      H.New = true;
    else
      H.Other = true;
  }
  return H;
}

Held classify(const Expr *E, const FunctionDecl *Owner, unsigned Depth) {
  Held H;
  E = E->IgnoreParenCasts();
  if (E->isNullPointerConstant(Owner->getASTContext(),
                               Expr::NPC_ValueDependentIsNotNull))
    return H;
  const auto *CE = dyn_cast<CallExpr>(E);
  const FunctionDecl *Callee = CE ? CE->getDirectCallee() : nullptr;
  if (!Callee) {
    H.Other = true;
    return H;
  }
  llvm::StringRef N = Callee->getIdentifier() ? Callee->getName() : "";
  if (isNewTableName(N))
    H.New = true;
  else if (N == "g_hash_table_ref")
    H.Ref = true;
  else if (returnsNewTable(Callee, Depth + 1))
    H.New = true;
  else if (returnsNewReference(Callee, Depth + 1))
    H.Ref = true;
  else
    H.Call = true;
  return H;
}

/// What \p FD returns, its returned locals looked through.
std::optional<Held> returned(const FunctionDecl *FD, unsigned Depth) {
  const FunctionDecl *Def = definitionOf(FD);
  if (!Def || Depth > MaxOwnDepth || !Def->getReturnType()->isPointerType())
    return std::nullopt;
  llvm::SmallVector<const Expr *, 4> Returns;
  returnValues(Def->getBody(), Returns);
  Held H;
  for (const Expr *R : Returns) {
    if (!R) {
      H.Other = true;
      continue;
    }
    const auto *DRE = dyn_cast<DeclRefExpr>(R->IgnoreParenCasts());
    const auto *V = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
    if (V && !isa<ParmVarDecl>(V) && V->hasLocalStorage())
      H.add(heldBy(V, Def, Depth + 1));
    else
      H.add(classify(R, Def, Depth));
  }
  return H;
}

bool returnsNewTable(const FunctionDecl *FD, unsigned Depth) {
  std::optional<Held> H = returned(FD, Depth);
  return H && H->New && !H->Ref && !H->Call && !H->Other;
}

bool returnsNewReference(const FunctionDecl *FD, unsigned Depth) {
  std::optional<Held> H = returned(FD, Depth);
  return H && (H->New || H->Ref) && !H->Other;
}

/// \p Owner returns \p V on some path.
bool returnsVar(const FunctionDecl *Owner, const VarDecl *V) {
  llvm::SmallVector<const Expr *, 4> Returns;
  returnValues(Owner->getBody(), Returns);
  return llvm::any_of(Returns, [V](const Expr *R) {
    return R && namesVar(R->IgnoreParenCasts(), V);
  });
}
} // namespace

bool isNewTable(const Expr *E, const FunctionDecl *Owner) {
  Held H = classify(E, Owner, 0);
  return H.New && !H.Ref && !H.Call && !H.Other;
}

bool holdsNewTable(const VarDecl *V, const FunctionDecl *Owner) {
  Held H = heldBy(V, Owner, 0);
  return H.New && !H.Ref && !H.Call && !H.Other;
}

bool holdsPrivateNewTable(const VarDecl *V, const FunctionDecl *Owner) {
  if (!V || !Owner || !Owner->getBody() || !holdsNewTable(V, Owner))
    return false;
  ASTContext &Ctx = Owner->getASTContext();
  llvm::SmallVector<const Stmt *, 64> Work{Owner->getBody()};
  while (!Work.empty()) {
    const Stmt *S = Work.pop_back_val();
    if (!S)
      continue;
    for (const Stmt *C : S->children())
      Work.push_back(C);
    if (isa<LambdaExpr>(S) || isa<BlockExpr>(S))
      return false; // a capture: another function's
    const auto *DRE = dyn_cast<DeclRefExpr>(S);
    if (!DRE || DRE->getDecl() != V)
      continue;
    // The use: climb through parentheses and implicit conversions.
    const Stmt *Use = DRE;
    DynTypedNodeList Parents = Ctx.getParents(*Use);
    const Stmt *Parent = Parents.empty() ? nullptr : Parents[0].get<Stmt>();
    while (Parent && (isa<ParenExpr>(Parent) || isa<ImplicitCastExpr>(Parent))) {
      Use = Parent;
      Parents = Ctx.getParents(*Use);
      Parent = Parents.empty() ? nullptr : Parents[0].get<Stmt>();
    }
    if (!Parent)
      return false;
    if (const auto *Call = dyn_cast<CallExpr>(Parent)) {
      const FunctionDecl *FD = Call->getDirectCallee();
      // The table argument: the first, or the second of `_iter_init (&it, t)`.
      unsigned TableArg = FD && FD->getIdentifier() &&
                                  FD->getName() == "g_hash_table_iter_init" ? 1 : 0;
      if (FD && FD->getIdentifier() && FD->getName().starts_with("g_hash_table_") &&
          FD->getName() != "g_hash_table_ref" && Call->getNumArgs() > TableArg &&
          Call->getArg(TableArg) == Use)
        continue;
      return false;
    }
    if (const auto *BO = dyn_cast<BinaryOperator>(Parent)) {
      if ((BO->isAssignmentOp() && BO->getLHS() == Use) || BO->isEqualityOp() ||
          BO->isLogicalOp())
        continue;
      return false;
    }
    if (const auto *UO = dyn_cast<UnaryOperator>(Parent)) {
      if (UO->getOpcode() == UO_LNot ||
          (UO->getOpcode() == UO_AddrOf && clearedThroughAddress(UO, Ctx)))
        continue;
      return false;
    }
    if (const auto *CO = dyn_cast<ConditionalOperator>(Parent)) {
      if (CO->getCond() == Use)
        continue;
      return false;
    }
    if (isa<IfStmt>(Parent) || isa<WhileStmt>(Parent))
      continue; // a test
    return false;
  }
  return true;
}

bool holdsOwnReference(const VarDecl *V, const FunctionDecl *Owner) {
  Held H = heldBy(V, Owner, 0);
  if (H.Other || !(H.New || H.Ref || H.Call))
    return false;
  // `graphs = get_graphs (...)` (no body), returned on one path and released
  // on another by a function that returns new references.
  return !H.Call || (returnsVar(Owner, V) && returnsNewReference(Owner, 0));
}

const Expr *throughTableRef(const Expr *E) {
  for (unsigned Guard = 0; E && Guard < 8; ++Guard) {
    const auto *Call = dyn_cast<CallExpr>(E->IgnoreParenCasts());
    const FunctionDecl *FD = Call ? Call->getDirectCallee() : nullptr;
    if (!FD || !FD->getIdentifier() || FD->getName() != "g_hash_table_ref" ||
        Call->getNumArgs() != 1)
      return E;
    E = Call->getArg(0);
  }
  return E;
}

const Expr *throughInstanceCast(const Expr *E) {
  for (unsigned Guard = 0; E && Guard < 8; ++Guard) {
    const auto *Call = dyn_cast<CallExpr>(E->IgnoreParenCasts());
    if (!Call || !isInstanceCast(Call))
      return E;
    E = Call->getArg(0);
  }
  return E;
}

namespace {
/// The values \p S assigns to \p V (`v = e`, `v = w = e`).
void assignedValues(const VarDecl *V, const Stmt *S,
                    llvm::SmallVectorImpl<const Expr *> &Out) {
  if (!S || isa<LambdaExpr>(S) || isa<BlockExpr>(S))
    return;
  if (const auto *BO = dyn_cast<BinaryOperator>(S);
      BO && BO->isAssignmentOp() && namesVar(BO->getLHS(), V))
    Out.push_back(BO->getOpcode() == BO_Assign ? BO->getRHS() : nullptr);
  for (const Stmt *C : S->children())
    assignedValues(V, C, Out);
}
} // namespace

const Expr *referencedTable(const VarDecl *V, const FunctionDecl *Owner) {
  if (!V || !V->hasLocalStorage() || isa<ParmVarDecl>(V) || !Owner ||
      !Owner->getBody())
    return nullptr;
  llvm::SmallVector<const Expr *, 4> Values;
  if (V->getInit())
    Values.push_back(V->getInit());
  assignedValues(V, Owner->getBody(), Values);
  const Expr *Table = nullptr;
  for (const Expr *E : Values) {
    if (!E)
      return nullptr; // `t += ...`
    if (E->IgnoreParenCasts()->isNullPointerConstant(
            Owner->getASTContext(), Expr::NPC_ValueDependentIsNotNull))
      continue;
    const Expr *X = throughTableRef(E);
    if (X == E || (Table && !sameExpr(Table, X, Owner->getASTContext())))
      return nullptr;
    Table = X;
  }
  return Table;
}

void markOwnTable(Effect &E, const FunctionDecl *FD) {
  const Place &M = E.Target;
  if (E.Kind != EffectKind::MapOperation || M.Root != Place::RootKind::Local ||
      !M.Var || !M.Fields.empty())
    return;
  if (holdsNewTable(M.Var, FD))
    E.NewMap = true;
  else if (E.Callee && E.Callee->getIdentifier() &&
           E.Callee->getName() == "g_hash_table_unref" &&
           holdsOwnReference(M.Var, FD))
    E.OwnReference = true;
}

// ===----------------------------------------------------------------------===
// Tables of their own: struct reachability and fields filled only fresh
// ===----------------------------------------------------------------------===

bool recordReaches(const RecordDecl *From, const RecordDecl *To) {
  if (!From || !To)
    return true;
  To = cast<RecordDecl>(To->getCanonicalDecl());
  llvm::SmallPtrSet<const RecordDecl *, 16> Seen;
  llvm::SmallVector<const RecordDecl *, 16> Work{
      cast<RecordDecl>(From->getCanonicalDecl())};
  while (!Work.empty()) {
    const RecordDecl *R = Work.pop_back_val();
    if (R == To)
      return true;
    if (!Seen.insert(R).second)
      continue;
    if (Seen.size() > 64)
      return true; // too large to say: may reach
    const RecordDecl *Def = R->getDefinition();
    if (!Def)
      continue; // opaque (`GHashTable`): holds no field of ours
    for (const FieldDecl *F : Def->fields()) {
      QualType T = F->getType();
      for (unsigned Guard = 0; Guard < 4; ++Guard) {
        if (const ArrayType *AT = T->getAsArrayTypeUnsafe())
          T = AT->getElementType();
        else if (T->isPointerType())
          T = T->getPointeeType();
        else
          break;
      }
      if (const RecordDecl *Next = T->getAsRecordDecl())
        Work.push_back(cast<RecordDecl>(Next->getCanonicalDecl()));
    }
  }
  return false;
}

class NewTableStoreVisitor : public RecursiveASTVisitor<NewTableStoreVisitor> {
public:
  explicit NewTableStoreVisitor(NewTableFields &NF) : NF(NF) {}
  bool shouldVisitImplicitCode() const { return false; }
  bool TraverseDecl(Decl *D) {
    if (D && !isa<TranslationUnitDecl>(D) &&
        NF.Ctx.getSourceManager().isInSystemHeader(D->getLocation()))
      return true;
    return RecursiveASTVisitor::TraverseDecl(D);
  }
  bool TraverseFunctionDecl(FunctionDecl *FD) {
    const FunctionDecl *Saved = Current;
    Current = FD;
    bool R = RecursiveASTVisitor::TraverseFunctionDecl(FD);
    Current = Saved;
    return R;
  }
  bool VisitBinaryOperator(BinaryOperator *BO) {
    if (BO->isAssignmentOp()) {
      const Expr *Value = BO->getOpcode() == BO_Assign ? BO->getRHS() : nullptr;
      if (const auto *ME = dyn_cast<MemberExpr>(BO->getLHS()->IgnoreParenImpCasts()))
        store(dyn_cast<FieldDecl>(ME->getMemberDecl()), Value);
      else
        storeGlobal(globalOf(BO->getLHS()), Value);
    }
    return true;
  }
  bool VisitUnaryOperator(UnaryOperator *UO) {
    if (UO->getOpcode() == UO_AddrOf && !clearedThroughAddress(UO, NF.Ctx)) {
      // `fill (&id->formats)`, `&x->f`, `&g`: anything may be stored there
      if (const auto *ME = dyn_cast<MemberExpr>(UO->getSubExpr()->IgnoreParenImpCasts()))
        store(dyn_cast<FieldDecl>(ME->getMemberDecl()), nullptr);
      else
        storeGlobal(globalOf(UO->getSubExpr()), nullptr);
    }
    return true;
  }
  bool VisitVarDecl(VarDecl *V) {
    if (V->hasGlobalStorage() && V->getInit() &&
        !V->getInit()->IgnoreParenCasts()->isNullPointerConstant(
            NF.Ctx, Expr::NPC_ValueDependentIsNotNull))
      storeGlobal(V, nullptr); // a file-scope value: not a new table
    return true;
  }
  bool VisitInitListExpr(InitListExpr *ILE) {
    const InitListExpr *Sem = ILE->getSemanticForm() ? ILE->getSemanticForm() : ILE;
    const RecordDecl *RD = Sem->getType()->getAsRecordDecl();
    if (!RD)
      return true;
    for (const FieldDecl *F : RD->fields())
      if (F->getFieldIndex() < Sem->getNumInits())
        store(F, Sem->getInit(F->getFieldIndex()));
    return true;
  }

private:
  void store(const FieldDecl *F, const Expr *Value) {
    if (!F || !F->getType()->isPointerType())
      return;
    F = F->getCanonicalDecl();
    if (Value && isa<ImplicitValueInitExpr>(Value->IgnoreParenImpCasts()))
      return; // left out of an initializer: null
    NewTableFields::Stores &S = NF.Fields[F];
    S.AllNew &= storesNewTable(Value);
    if (Value && Value->IgnoreParenCasts()->isNullPointerConstant(
                     NF.Ctx, Expr::NPC_ValueDependentIsNotNull))
      return;
    S.Given = true;
    S.OwnCalls &= Value && isa<CallExpr>(Value->IgnoreParenCasts());
  }
  /// \p Value (null: unknown), stored in this function, is a new table.
  bool storesNewTable(const Expr *Value) const {
    if (!Value || !Current)
      return false;
    Held H = classify(Value, Current, 0);
    return !H.Ref && !H.Call && !H.Other;
  }
  static const VarDecl *globalOf(const Expr *E) {
    const auto *DRE = dyn_cast<DeclRefExpr>(E->IgnoreParenImpCasts());
    const auto *V = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
    return V && V->hasGlobalStorage() && V->getType()->isPointerType() ? V : nullptr;
  }
  void storeGlobal(const VarDecl *G, const Expr *Value) {
    if (!G)
      return;
    NF.Globals[G->getCanonicalDecl()].AllNew &= storesNewTable(Value);
  }
  NewTableFields &NF;
  const FunctionDecl *Current = nullptr;
};

void NewTableFields::build() {
  Built = true;
  NewTableStoreVisitor V(*this);
  V.TraverseDecl(Ctx.getTranslationUnitDecl());
}

bool NewTableFields::globalHoldsNewTables(const VarDecl *G) {
  if (!G)
    return false;
  if (!Built)
    build();
  auto It = Globals.find(G->getCanonicalDecl());
  if (It == Globals.end()) // never given a value: null, unless another file may
    return !G->isExternallyVisible();
  return It->second.AllNew;
}

bool NewTableFields::distinctNewTableFields(const FieldDecl *A, const FieldDecl *B) {
  if (!A || !B || A->getCanonicalDecl() == B->getCanonicalDecl())
    return false;
  if (!Built)
    build();
  auto Fresh = [&](const FieldDecl *F) {
    auto It = Fields.find(F->getCanonicalDecl());
    return It != Fields.end() && It->second.AllNew && It->second.OwnCalls &&
           It->second.Given;
  };
  return Fresh(A) && Fresh(B);
}

bool NewTableFields::noOtherTables(const FieldDecl *F) {
  if (!F)
    return false;
  if (!Built)
    build();
  auto It = Fields.find(F->getCanonicalDecl());
  return It == Fields.end() || It->second.AllNew;
}

} // namespace clang::tidy::tsmap
