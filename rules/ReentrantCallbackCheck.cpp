//===--- ReentrantCallbackCheck.cpp - tsmap-reentrant-callback -----------===//
//
// For each call to a map operation with a TSMAP_CALLBACK_LOCKED argument:
//   1. resolve the callback argument to functions (CallbackResolution);
//   2. take each function's effect summary and its MapOperation effects,
//      each stating the inner map in the callback's terms (a global, or
//      memory reached through one of its parameters);
//   3. translate the inner map into the caller's terms: a global stays
//      itself, the callback's context parameter becomes the context argument
//      of the outer call; anything else is unknown;
//   4. compare with the outer call's map argument. Same place: report.
//      Unknown: report only under StrictMapIdentity.
//
//===----------------------------------------------------------------------===//

#include "ReentrantCallbackCheck.h"
#include "AnnotationValidation.h"
#include "CallbackResolution.h"
#include "ChainNotes.h"
#include "ObjectOrigins.h"
#include "CheckOptions.h"
#include "clang/AST/ASTContext.h"
#include "clang/AST/ExprCXX.h"
#include "clang/AST/ParentMapContext.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "llvm/ADT/SmallPtrSet.h"

using namespace clang::ast_matchers;

namespace clang::tidy::tsmap {

/// GLib allows reads of a GHashTable while it iterates over it; only
/// modifications corrupt the iteration. A map whose lock is not recursive
/// deadlocks on any call, so the default list names GLib readers only.
static constexpr llvm::StringLiteral DefaultAllowedMapOperations =
    "g_hash_table_lookup;g_hash_table_lookup_extended;g_hash_table_contains;"
    "g_hash_table_size;g_hash_table_get_keys;g_hash_table_get_values;"
    "g_hash_table_foreach;g_hash_table_find;g_hash_table_ref;"
    "g_hash_table_iter_init;g_hash_table_get_keys_as_array;"
    "g_hash_table_get_keys_as_ptr_array;g_hash_table_get_values_as_ptr_array;"
    // libvirt's readers (the libvirt model; ForEachSafe/Sorted walk a copy)
    "virHashLookup;virHashHasEntry;virHashSize;virHashGetItems;virHashEqual;"
    "virHashForEach;virHashForEachSafe;virHashForEachSorted;virHashSearch";

ReentrantCallbackCheck::ReentrantCallbackCheck(StringRef Name,
                                               ClangTidyContext *Context)
    : ClangTidyCheck(Name, Context), Model(*this, Options, Context),
      Gate(Context),
      StrictMapIdentity(readBool(*this, Options, "StrictMapIdentity", false)),
      AllowedMapOperationsOption(Options.get("AllowedMapOperations",
                                             DefaultAllowedMapOperations)),
      MaxCallDepth(readMaxCallDepth(*this, Options)) {
  for (const std::string &N : readFunctionNames(*this, "AllowedMapOperations",
                                                AllowedMapOperationsOption))
    AllowedMapOperations.insert(N);
  EffectOpts.MaxCallDepth = MaxCallDepth;
}

void ReentrantCallbackCheck::storeOptions(ClangTidyOptions::OptionMap &Opts) {
  Model.storeOptions(Options, Opts);
  storeBool(Options, Opts, "StrictMapIdentity", StrictMapIdentity);
  Options.store(Opts, "AllowedMapOperations", AllowedMapOperationsOption);
  storeMaxCallDepth(Options, Opts, MaxCallDepth);
}

void ReentrantCallbackCheck::registerMatchers(MatchFinder *TidyFinder) {
  GatedMatchPass &Shared = Gate.join(TidyFinder, this, Model);
  // The enclosing function is looked up only for calls with a locked callback
  // (enclosingFunction): forCallable() here would build the parent map of
  // every TU, which costs as much as a tenth of parsing a large one.
  Shared.matchCalls(this, /*ThroughPointers=*/true);
  Shared.matchAnnotatedDecls(this);
}

void ReentrantCallbackCheck::onEndOfTranslationUnit() {
  Analysis.reset();
  NewFields.reset();
  PrivateTables.clear();
  Rcu.reset();
  Tables.reset();
  KeyedTables.clear();
  Flows.clear();
  ReturnsTrueAfterChange.clear();
  Wrappers.reset();
}

/// The parameter of callback \p Fn that receives the outer call's context
/// argument. A callback cast to the map's type may declare the context with
/// its own type (`GHashTable *t`), so the parameter list of the callback type
/// the map operation declares (\p TypeParams) is asked first for a `void *`
/// parameter named like a context; then contextParamIndex() on \p Fn itself.
static std::optional<unsigned>
contextParamOf(const FunctionDecl *Fn, std::optional<unsigned> Output,
               llvm::ArrayRef<ParmVarDecl *> TypeParams) {
  for (unsigned I = 0; I < TypeParams.size(); ++I)
    if (I != Output && I < Fn->getNumParams() &&
        isContextNamedParam(TypeParams[I]))
      return I;
  return contextParamIndex(Fn, Output);
}

/// The argument of \p Call whose stripped form is \p Stripped, as written
/// (placeOfPointer needs the load of a pointer lvalue that
/// contextArgument() strips).
static const Expr *unstrippedArg(const CallExpr *Call, const Expr *Stripped) {
  for (const Expr *A : Call->arguments())
    if (A->IgnoreParenImpCasts() == Stripped)
      return A;
  return nullptr;
}

/// The value stored into field \p F of the object local \p V holds or
/// points to, when \p Owner stores into it exactly once (`rc.aliases = t`,
/// `pc->aliases = t`); null otherwise.
static const Expr *singleFieldStore(const VarDecl *V, const FieldDecl *F,
                                    const Stmt *S, unsigned &Count) {
  if (!S || Count > 1)
    return nullptr;
  const Expr *Found = nullptr;
  if (const auto *BO = dyn_cast<BinaryOperator>(S); BO && BO->isAssignmentOp())
    if (const auto *ME = dyn_cast<MemberExpr>(BO->getLHS()->IgnoreParenImpCasts());
        ME && ME->getMemberDecl() == F)
      if (const auto *DRE =
              dyn_cast<DeclRefExpr>(ME->getBase()->IgnoreParenImpCasts());
          DRE && DRE->getDecl() == V) {
        ++Count;
        Found = BO->getOpcode() == BO_Assign ? BO->getRHS() : nullptr;
      }
  for (const Stmt *Child : S->children())
    if (const Expr *E = singleFieldStore(V, F, Child, Count))
      Found = E;
  return Count == 1 ? Found : nullptr;
}

/// `struct sweep sw = {t, cutoff}; foreach(map, cb, &sw)`: a context struct
/// built on the stack, by an initializer (designated or not) or by one
/// store per field (`rc.aliases = t;`, also through a local pointer to it,
/// `pc->aliases = t;`). When \p P is a field path into such a local, the
/// place the field's value points to stands for it (`sw.table->by_user` is
/// `t->by_user`).
/// FIXME: a field stored more than once is not followed.
Place ReentrantCallbackCheck::throughLocalStruct(Place P,
                                                 const FunctionDecl *Owner) const {
  for (unsigned Guard = 0; Guard < 8; ++Guard) {
    if (P.Root != Place::RootKind::Local || !P.Var || P.Fields.empty())
      return P;
    const Expr *Value = nullptr;
    if (const auto *Init = dyn_cast_or_null<InitListExpr>(
            P.Var->getInit() ? P.Var->getInit()->IgnoreParenImpCasts() : nullptr)) {
      if (const InitListExpr *Syn = Init->getSyntacticForm())
        Init = Init->isSemanticForm() ? Init : Syn;
      unsigned Index = P.Fields.front()->getFieldIndex();
      if (Index < Init->getNumInits())
        Value = Init->getInit(Index);
    } else if (Owner && Owner->getBody()) {
      unsigned Count = 0;
      Value = singleFieldStore(P.Var, P.Fields.front(), Owner->getBody(), Count);
    }
    if (!Value || !Value->getType()->isPointerType())
      return P;
    Place Q = Analysis->placeOfPointer(Value, Owner);
    if (Q.Root == Place::RootKind::Unknown)
      return P;
    Q.Fields.append(P.Fields.begin() + 1, P.Fields.end());
    appendIndexes(Q, P);
    P = std::move(Q);
  }
  return P;
}

/// The table \p P, in the terms of \p Owner, stands for at \p Use when it is
/// a local every value of which is a reference to one table (`t =
/// g_hash_table_ref (self->items)`: `self->items`, as a local initialized
/// with `self->items` is until the field is stored anew); Unknown otherwise.
Place ReentrantCallbackCheck::heldTable(const Place &P, const Expr *Use,
                                        const FunctionDecl *Owner) const {
  const Expr *Table = P.Root == Place::RootKind::Local && P.Fields.empty() && Use
                          ? referencedTable(P.Var, Owner)
                          : nullptr;
  if (!Table)
    return Place();
  Place Q = Analysis->placeOfPointer(Table, Owner);
  if (!Q.Fields.empty() && !Analysis->heldSinceInit(P.Var, Q, Use, Owner))
    return Place();
  return Q;
}

/// \p P, a place of \p Fn rooted at a local with fields, restated on the
/// parameter whose object that local points into (`priv =
/// foo_get_instance_private (self)`, objectParamOf): `self` and the same
/// fields. False, \p P unchanged, for any other place.
static bool restatedOnObject(Place &P, const FunctionDecl *Fn) {
  if (P.Root != Place::RootKind::Local || P.Fields.empty())
    return false;
  std::optional<unsigned> I = objectParamOf(P.Var, Fn);
  if (!I)
    return false;
  P.Root = Place::RootKind::Param;
  P.Param = *I;
  P.Var = nullptr;
  return true;
}

/// Restates the map of \p E, a place in the terms of the last callee of
/// \p Chain, in the terms of \p Top, the function the chain starts in; the
/// field the map is loaded from is taken from the argument that passes it
/// (`drop(e->manager->cache)`) when the callee got the map as a parameter.
/// A callee's local that points into its parameter's object (`priv =
/// foo_get_instance_private (self)`, restatedOnObject) stands for that
/// parameter, so the table is restated on the object the call passes
/// (`set_meta (clone, ...)` changes a table of `clone`; `set_meta (FOO (ud),
/// ...)`, a table of `ud`), and \p E is marked Effect::IntoObject.
void ReentrantCallbackCheck::toTopTerms(Effect &E, llvm::ArrayRef<Hop> Chain,
                                        const FunctionDecl *Top) const {
  Place P = std::move(E.Target);
  for (size_t K = Chain.size(); K-- > 0;) {
    if (P.Root == Place::RootKind::Global)
      break;
    E.IntoObject |= restatedOnObject(P, Chain[K].Callee);
    if (P.Root != Place::RootKind::Param ||
        P.Param >= Chain[K].Site->getNumArgs()) {
      P = Place();
      break;
    }
    const FunctionDecl *Caller = K == 0 ? Top : Chain[K - 1].Callee;
    const Expr *Arg = Chain[K].Site->getArg(P.Param);
    if (E.IntoObject)
      Arg = throughInstanceCast(Arg); // `set_meta (FOO (ud), ...)`
    if (!E.MapField && P.Fields.empty()) {
      E.MapField = loadedFromField(Arg);
      E.MapFieldAt = E.MapField ? Arg : nullptr;
    }
    Place Q = Analysis->placeOfArgument(Arg, Caller);
    Q.Fields.append(P.Fields.begin(), P.Fields.end());
    appendIndexes(Q, P);
    P = std::move(Q);
  }
  E.Target = std::move(P);
}

/// \p E, in the terms of \p Top, lost its map on the way up its chain (a
/// summary keeps no callee's local): when the chain's last function holds the
/// map through a pointer into its parameter's object (`priv =
/// foo_get_instance_private (self)`), the map is restated from that
/// function's own effect at the same call through every hop (toTopTerms), so
/// `add_twice (clone, k)`, whose `attr_add_metadata (self, k, k)` takes the
/// private struct, changes a table of `clone` (Effect::IntoObject).
void ReentrantCallbackCheck::restateLostMap(Effect &E,
                                            const FunctionDecl *Top) const {
  if (E.Target.Root != Place::RootKind::Unknown || E.Chain.empty() ||
      !E.Chain.back().Callee)
    return;
  for (const Effect &Own : Analysis->summary(E.Chain.back().Callee).Effects) {
    if (Own.Kind != E.Kind || Own.Where != E.Where || !Own.Chain.empty())
      continue;
    Effect Restated = E;
    Restated.Target = Own.Target;
    toTopTerms(Restated, E.Chain, Top);
    if (Restated.IntoObject && Restated.Target.Root != Place::RootKind::Unknown) {
      E.Target = std::move(Restated.Target);
      E.IntoObject = true;
    }
    return;
  }
}

/// For a map restated on an object (Effect::IntoObject), whose place names
/// the object the table hangs off (a setter's private struct), not the struct
/// that holds the table: true when the origins of the walked table's object
/// and \p Inner's tell two objects apart (a clone, another parameter); else
/// \p Inner loses its place, to be compared by field and type as a table not
/// traced.
bool ReentrantCallbackCheck::anotherObjectsTable(const MapRef &Outer, MapRef &Inner,
                                                 const FunctionDecl *Owner) const {
  if (Outer.P.traced() && Inner.P.traced() &&
      distinctOrigins(Outer.P, Inner.P, Owner, Model))
    return true;
  Inner.P = Place();
  return false;
}

/// \p E, an effect in the terms of the function at the top of its chain,
/// reaches its map operation through a second call to one function (a deeper
/// round of a recursion: `node_clear (v)` inside `node_clear`, the loop body's
/// call to the function itself included), and its map is not traced to that
/// top function: a table of the deeper call's own locals (a subtree's). The
/// deeper call's own walk is compared with it where it is made; the first
/// round, mapped through the call's arguments to the callee's parameters,
/// is the one compared here.
static bool deeperRoundOfRecursion(const Effect &E) {
  if (E.Target.Root != Place::RootKind::Unknown)
    return false;
  llvm::SmallPtrSet<const FunctionDecl *, 8> Called;
  return llvm::any_of(E.Chain, [&](const Hop &H) {
    return H.Callee && !Called.insert(H.Callee->getCanonicalDecl()).second;
  });
}

/// The map operations \p Fn reaches, with their maps in \p Fn's terms. A
/// function that takes a map pointer counts as a map operation; when its body
/// is in the TU and it is not declared TSMAP_MAP_OPERATION, the operations it
/// runs are looked at instead (a helper that only reads the map is fine).
void ReentrantCallbackCheck::mapOperations(const FunctionDecl *Fn,
                                           const Effect &E, unsigned Depth,
                                           std::vector<Effect> &Out) {
  const FunctionDecl *Def = nullptr;
  const auto *Call = dyn_cast_or_null<CallExpr>(E.Where);
  bool OwnHelper = Call && E.Callee && E.Callee->hasBody(Def) && Def &&
                   !Model.functionHas(E.Callee, ContractKind::MapOperation) &&
                   !isMapMethod(E.Callee, Model) &&
                   !Def->getASTContext().getSourceManager().isInSystemHeader(
                       Def->getLocation());
  if (OwnHelper) {
    // A helper already being looked into on this path (recursion: what it does
    // is found there), or one past MaxCallDepth or the walk's budget (not
    // known: quiet rather than reported as a map operation itself).
    bool OnPath = llvm::any_of(E.Chain, [&](const Hop &H) {
      return H.Callee && H.Callee->getCanonicalDecl() == Def->getCanonicalDecl();
    });
    if (OnPath || E.Chain.size() + 1 >= MaxCallDepth || Depth >= MaxCallDepth ||
        ++ExpansionSteps > MaxExpansionSteps)
      return;
  }
  if (!OwnHelper) {
    if (E.Callee && !(E.Callee->getDeclName().isIdentifier() &&
                      AllowedMapOperations.contains(E.Callee->getName())) &&
        !deeperRoundOfRecursion(E)) {
      Out.push_back(E);
      restateLostMap(Out.back(), Fn);
    }
    return;
  }
  std::vector<Hop> Prefix = E.Chain;
  Prefix.push_back({Call, Def});
  // The helper's map in the terms of its caller, for a table the caller
  // made or holds its own reference to (`drop_ref (t)` of its own `t`).
  const FunctionDecl *At = effectOwner(Fn, E);
  std::optional<unsigned> MI = mapParamIndex(E.Callee, Model);
  Place Given;
  if (MI && *MI < Call->getNumArgs() && At)
    Given = Analysis->placeOfPointer(Call->getArg(*MI), At);
  for (const Effect &Inner : Analysis->summary(Def).Effects) {
    if (Inner.Kind != EffectKind::MapOperation)
      continue;
    Effect Joined = Inner;
    // `unref(k, FALSE)`: the helper's removal under `if (rm)` cannot happen.
    if (!Analysis->guardsAllow(Inner, Call, At, Joined))
      continue;
    if (MI && Inner.Target.isParam(*MI) && Inner.Target.Fields.empty()) {
      Effect Probe = Inner;
      Probe.Target = Given;
      markOwnTable(Probe, At);
      Joined.NewMap |= Probe.NewMap;
      Joined.OwnReference |= Probe.OwnReference;
    }
    Joined.Chain = Prefix;
    Joined.Chain.insert(Joined.Chain.end(), Inner.Chain.begin(),
                        Inner.Chain.end());
    toTopTerms(Joined, Prefix, Fn);
    mapOperations(Fn, Joined, Depth + 1, Out);
  }
}

/// \p P names one object: a global, a parameter of the function making the
/// outer call, or a local struct (not memory behind a local pointer).
static bool namesObject(const Place &P) {
  return P.Root == Place::RootKind::Global ||
         P.Root == Place::RootKind::Param || P.Root == Place::RootKind::This ||
         (P.Root == Place::RootKind::Local && P.Var &&
          !P.Var->getType()->isPointerType());
}

/// \p P (a map read from one field, in the callback's or loop's own terms)
/// is a table held by an entry itself, `((struct node *)value)->children`:
/// the field of an entry, of a local struct, or of a pointer the code got
/// from an out-parameter; another map than the one iterated, even when the
/// entry has the iterated map's type (a tree). A context parameter, or a
/// local pointer initialized from a call (`priv = foo_get_instance_private
/// (obj)`), may be the iterated map's owner.
static bool entryTable(const Place &P, std::optional<unsigned> CtxParam,
                       bool InLoop) {
  if (P.Fields.size() != 1)
    return false;
  if (P.Root == Place::RootKind::Param)
    return !InLoop && (!CtxParam || P.Param != *CtxParam);
  if (P.Root == Place::RootKind::Local)
    return !P.Var || !P.Var->getType()->isPointerType() || !P.Var->getInit();
  return false;
}

ReentrantCallbackCheck::Identity
ReentrantCallbackCheck::compareMaps(const MapRef &Outer, const MapRef &Inner,
                                    const Place &InnerOwn,
                                    std::optional<unsigned> CtxParam,
                                    bool InLoop,
                                    const FunctionDecl *Owner) const {
  auto Known = [](const Place &P) {
    return P.Root == Place::RootKind::Param ||
           P.Root == Place::RootKind::Global ||
           P.Root == Place::RootKind::Local || P.Root == Place::RootKind::This;
  };
  bool BothKnown = Known(Outer.P) && Known(Inner.P);
  // Two elements of one array (`foreach (stores[0]->items, put, stores[1])`)
  // are two objects.
  if (BothKnown && Outer.P.sameAs(Inner.P))
    return Outer.P.sameElements(Inner.P, Analysis->context()) ? Identity::Same
                                                              : Identity::Different;
  // A reference to the table is the table (`t = g_hash_table_ref (self->items)`).
  const Place &OuterTable = Known(Outer.Held) ? Outer.Held : Outer.P;
  const Place &InnerTable = Known(Inner.Held) ? Inner.Held : Inner.P;
  if (Known(OuterTable) && Known(InnerTable) && OuterTable.sameAs(InnerTable) &&
      OuterTable.sameElements(InnerTable, Analysis->context()))
    return Identity::Same;
  // A table the walking function made and gives to nobody: no map reached
  // any other way can be it (bench/realworld R47).
  if (Owner && Outer.P.Root == Place::RootKind::Local && Outer.P.Fields.empty() &&
      Outer.P.Var) {
    auto [It, New] = PrivateTables.try_emplace(Outer.P.Var);
    if (New)
      It->second = holdsPrivateNewTable(Outer.P.Var, Owner);
    if (It->second)
      return Identity::Different;
  }
  // A callback's map traced to a global, or through the context argument to
  // a variable of the caller, other than the iterated one: the code shows
  // another object (`foreach(op->meta, copy_meta, n)` fills `n->meta`).
  if (BothKnown && !InLoop)
    return Identity::Different;
  // By access path and type: the same field of the same struct type is the
  // same map, unless the code names two objects or the inner map is an
  // entry's own table.
  if (!StrictMapIdentity && Outer.Field && Inner.Field) {
    if (Outer.Field != Inner.Field)
      return Identity::Different;
    if ((namesObject(Outer.P) && namesObject(Inner.P)) ||
        entryTable(InnerOwn, CtxParam, InLoop))
      return Identity::Different;
    // In a loop, both in the function's own terms: `clone->priv->attributes`
    // of a `clone` just allocated, `h` from `_gendata_hash(dst, ...)` against
    // the iterated table of `src`.
    if (InLoop && BothKnown && distinctOrigins(Outer.P, Inner.P, Owner, Model))
      return Identity::Different;
    return Identity::SameField;
  }
  // FIXME: two pointer globals (or fields) may hold the same map; they are
  // taken to be different maps.
  return BothKnown ? Identity::Different : Identity::Unknown;
}

/// \p P, a map's place in a callback's or loop's terms, is reached through
/// an object the function got by itself: a local pointer of its own (an
/// entry it looked up) or one of a callee's, lost in the translation (Unknown).
static bool ofUntracedObject(const Place &P) {
  return P.Root == Place::RootKind::Unknown ||
         (P.Root == Place::RootKind::Local && P.Var && P.Var->getType()->isPointerType() &&
          !P.Fields.empty());
}

/// Under StrictMapIdentity, for a map it cannot trace: \p Own, a table
/// reached from an entry of the iterated table (the callback's key or value)
/// through fields, is the entry's own table (bench/realworld R19, `((Id *)value)->formats` while iterating
/// `ix->ids`) when the entry's struct cannot reach the struct that holds the
/// iterated table (\p OuterField's) and the translation unit stores nothing
/// but new tables into the field. A table an entry shares with its owner
/// (`item->container = ix->ids`) has another store and stays reported.
/// With no fields in \p Own (a callee's local, lost in the caller's terms:
/// `info = g_hash_table_lookup (...); add_row (self, info)`), the field the
/// map is loaded from, \p Loaded, stands for the path.
bool ReentrantCallbackCheck::entryOwnTable(const Place &Own,
                                           const FieldDecl *OuterField,
                                           ASTContext &Ctx,
                                           const FieldDecl *Loaded,
                                           const Place *OuterGlobal) {
  const FieldDecl *First = Own.Fields.empty() ? Loaded : Own.Fields.front();
  const FieldDecl *Last = Own.Fields.empty() ? Loaded : Own.Fields.back();
  const bool Global = !OuterField && OuterGlobal &&
                      OuterGlobal->Root == Place::RootKind::Global &&
                      OuterGlobal->Fields.empty() && OuterGlobal->Var;
  if (!StrictMapIdentity || (!OuterField && !Global) || !First)
    return false;
  if (!NewFields)
    NewFields = std::make_unique<NewTableFields>(Ctx);
  // Another field, each given only its own new tables: even reached back
  // through the owner (`frame->frames->style_variants`; R39).
  if (NewFields->distinctNewTableFields(Last, OuterField))
    return true;
  if (OuterField && recordReaches(First->getParent(), OuterField->getParent()))
    return false;
  return NewFields->noOtherTables(Last) &&
         (!Global || NewFields->globalHoldsNewTables(OuterGlobal->Var));
}

/// \p E, an operation of the GLib walk \p MapOp's callback \p Fn itself,
/// stores under the key the walk handed it (`g_hash_table_insert (t, k, v2)`
/// with `k` its first parameter): GLib invalidates a walk only when a key
/// is added, so that replaces a value, as in a loop over the iterator's own
/// key (ReentrantLoops).
/// \p MapOp is a GLib walk whose callback gets the key first:
/// g_hash_table_foreach*, g_hash_table_find.
static bool walksGLibTable(const FunctionDecl *MapOp) {
  if (!MapOp || !MapOp->getIdentifier())
    return false;
  llvm::StringRef Walk = MapOp->getName();
  return Walk.starts_with("g_hash_table_foreach") || Walk == "g_hash_table_find";
}

/// \p E is a store of \p Fn, a GLib walk's callback, under its key (\p
/// IsKey tells it: the parameter, or a local copy of it).
static bool storesWalkedKey(const Effect &E, const FunctionDecl *Fn,
                            const FunctionDecl *MapOp,
                            llvm::function_ref<bool(const Expr *)> IsKey) {
  const auto *Inner = dyn_cast_or_null<CallExpr>(E.Where);
  if (!E.Chain.empty() || !Inner || Inner->getNumArgs() < 2 || !storesEntry(Inner) ||
      !walksGLibTable(MapOp) || Fn->getNumParams() < 1)
    return false;
  return IsKey(Inner->getArg(1));
}

/// \p E, an expression of the last wrapper of \p W, restated in the terms of
/// \p Call's caller while it names a parameter of the wrapper it is in: the
/// argument passed for that parameter, wrapper by wrapper outwards. \p Whole:
/// it got to \p Call's own argument; else the last expression it got to.
static const Expr *throughWrapperParams(const Expr *E, const CallExpr *Call,
                                        const WrappedCallbackArgument &W, bool &Whole) {
  Whole = false;
  for (size_t K = W.Via.size(); K-- > 0;) {
    const auto *Ref = E ? dyn_cast<DeclRefExpr>(E->IgnoreParenCasts()) : nullptr;
    const auto *PVD = Ref ? dyn_cast<ParmVarDecl>(Ref->getDecl()) : nullptr;
    const CallExpr *Site = K == 0 ? Call : W.Via[K - 1].Inner;
    // A parameter the wrapper moves (`control = control->parent`) is not
    // the caller's argument any more.
    if (!PVD || PVD->getDeclContext() != W.Via[K].Wrapper ||
        PVD->getFunctionScopeIndex() >= Site->getNumArgs() ||
        assignsVar(W.Via[K].Wrapper->getBody(), PVD))
      return E;
    E = Site->getArg(PVD->getFunctionScopeIndex())->IgnoreParenImpCasts();
  }
  Whole = true;
  return E;
}

/// The argument of \p Call the map passes its callback as context: through
/// wrappers (\p Wrapped), the argument for the wrapper's parameter the map
/// operation's context comes from, unchanged through each; else
/// contextArgument().
static const Expr *wrappedContext(const CallExpr *Call, const CallbackArgument &Arg,
                                  const WrappedCallbackArgument *Wrapped,
                                  std::optional<unsigned> CtxParam) {
  if (!Wrapped)
    return contextArgument(Call, Arg.ParamIndex);
  // A wrapper that calls the callback itself (`fn (k, user)` in its loop):
  // what that call passes for the callback's context parameter.
  const CallExpr *Direct = Wrapped->Via.back().Direct;
  if (Direct && (!CtxParam || *CtxParam >= Direct->getNumArgs()))
    return nullptr;
  bool Whole;
  const Expr *Ctx = throughWrapperParams(
      Direct ? Direct->getArg(*CtxParam)->IgnoreParenImpCasts()
             : contextArgument(Wrapped->Via.back().Inner, Wrapped->InnerParamIndex),
      Call, *Wrapped, Whole);
  return Whole ? Ctx : nullptr;
}

/// The name of the map operation that runs the callback: the call's, the last
/// wrapper's inner call's, or the loop's `g_hash_table_iter_next`.
static std::string runnerName(const CallExpr *MapCall, const WrappedCallbackArgument *Wrapped) {
  return Wrapped && Wrapped->Via.back().Direct ? "g_hash_table_iter_next"
                                               : calledName(MapCall);
}

/// For \p Call, in \p Owner, to a wrapper (\p W: `registry_foreach (r, drop,
/// r)` whose body calls `g_hash_table_foreach (r->table, fn, data)`): the
/// map the last wrapper walks, restated hop by hop in \p Owner's terms
/// through the parameters it comes from (`r->table` of the wrapper's `r` is
/// `r->table` of the argument `r`), into \p Outer. False when the map cannot
/// be stated in \p Owner's terms and is not read from a field either (a
/// wrapper's own table), or is the object of a map method: no map to compare
/// with.
bool ReentrantCallbackCheck::throughWrappers(const CallExpr *Call,
                                             const FunctionDecl *Owner,
                                             const WrappedCallbackArgument &W,
                                             MapRef &Outer) const {
  const WrapperHop &Last = W.Via.back();
  std::optional<unsigned> MI = mapArgumentIndex(Last.Inner, Model);
  if (!MI || *MI >= Last.Inner->getNumArgs())
    return false;
  const Expr *MapArg = Last.Inner->getArg(*MI);
  Place P = Analysis->placeOfPointer(MapArg, Last.Wrapper);
  Outer.Field = Analysis->fieldLoadedInto(MapArg, Last.Wrapper);
  const Expr *TopArg = nullptr; // the argument of Call that is the map itself
  for (size_t K = W.Via.size(); K-- > 0;) {
    const CallExpr *Site = K == 0 ? Call : W.Via[K - 1].Inner;
    const FunctionDecl *Caller = K == 0 ? Owner : W.Via[K - 1].Wrapper;
    if (P.Root == Place::RootKind::Global)
      continue;
    if (P.Root != Place::RootKind::Param || P.Param >= Site->getNumArgs()) {
      P = Place(); // a wrapper's own local: compared by its field alone
      continue;
    }
    const Expr *A = Site->getArg(P.Param);
    if (!Outer.Field && P.Fields.empty())
      Outer.Field = loadedFromField(A);
    TopArg = K == 0 && P.Fields.empty() ? A : nullptr;
    Place Q = Analysis->placeOfArgument(A, Caller);
    Q.Fields.append(P.Fields.begin(), P.Fields.end());
    appendIndexes(Q, P);
    P = std::move(Q);
  }
  if (P.Root == Place::RootKind::Unknown && !Outer.Field)
    return false;
  Outer.P = std::move(P);
  if (TopArg)
    Outer.Held = heldTable(Outer.P, TopArg, Owner);
  return true;
}

/// The first map operation the callback reaches on the outer call's map (or,
/// under StrictMapIdentity, on a map that cannot be told apart from it).
std::optional<ReentrantCallbackCheck::Reentry>
ReentrantCallbackCheck::firstReentry(const CallExpr *Call,
                                     const FunctionDecl *Owner,
                                     const CallbackArgument &Arg,
                                     const ResolvedCallback &Target,
                                     const WrappedCallbackArgument *Wrapped) {
  const FunctionDecl *Fn = Target.Fn;
  // Through wrappers, the map operation is the last wrapper's inner call.
  const CallExpr *MapCall = Wrapped ? Wrapped->Via.back().Inner : Call;
  const FunctionDecl *MapOp = MapCall->getDirectCallee(); // null through a pointer
  const ParmVarDecl *CallbackParam = Arg.Param;
  // The argument itself: mapArgument() strips the load of a pointer lvalue,
  // which placeOfPointer needs.
  MapRef Outer;
  if (Wrapped) {
    if (!Owner || !throughWrappers(Call, Owner, *Wrapped, Outer))
      return std::nullopt;
  } else if (std::optional<unsigned> MI = mapArgumentIndex(Call, Model);
      MI && *MI < Call->getNumArgs() && Owner) {
    Outer.P = Analysis->walkedPlace(Call->getArg(*MI), Owner);
    Outer.Field = Analysis->fieldLoadedInto(Call->getArg(*MI), Owner);
    Outer.Held = heldTable(Outer.P, Call->getArg(*MI), Owner);
  } else if (const Expr *Obj = mapObject(Call, Model); Obj && Owner) {
    Obj = Obj->IgnoreParenBaseCasts();
    Outer.P = Obj->getType()->isPointerType()
                  ? Analysis->placeOfPointer(Obj, Owner)
                  : Analysis->placeOfLValue(Obj, Owner);
    Outer.Field = loadedFromField(Obj);
  }
  std::optional<unsigned> Output = outputParamIndex(Fn, CallbackParam, Model);
  std::optional<unsigned> CtxParam = contextParamOf(
      Fn, Output, ContractModel::callbackTypeParams(CallbackParam));
  const Expr *CtxArg = unstrippedArg(Call, wrappedContext(Call, Arg, Wrapped, CtxParam));
  // The inner map, from the callback's terms into the caller's; \p IntoObject:
  // a place that names an object (Effect::IntoObject), also through the
  // caller's cast of the context (`FOO (clone)`).
  auto Translate = [&](const Place &Inner, bool IntoObject) {
    // A lambda's capture: a variable of the function that made the lambda,
    // in that function's terms when it is the one making the outer call.
    if (Inner.Root == Place::RootKind::Global && Inner.Var &&
        !Inner.Var->hasGlobalStorage() && Owner) {
      Place P;
      if (const auto *PVD = dyn_cast<ParmVarDecl>(Inner.Var)) {
        if (cast<FunctionDecl>(PVD->getDeclContext())->getCanonicalDecl() !=
                Owner->getCanonicalDecl() ||
            PVD->getFunctionScopeIndex() >= Owner->getNumParams())
          return P;
        P.Root = Place::RootKind::Param;
        P.Param = PVD->getFunctionScopeIndex();
      } else {
        P.Root = Place::RootKind::Local;
        P.Var = Inner.Var;
      }
      P.Fields = Inner.Fields;
      P.Indexes = Inner.Indexes;
      return P;
    }
    if (Inner.Root == Place::RootKind::Global)
      return Inner;
    Place P;
    // A lambda's `this` is the object of the method it was written in.
    if (Inner.Root == Place::RootKind::This) {
      const FunctionDecl *Made = lambdaOwner(Fn);
      return Made && Owner && Made->getCanonicalDecl() == Owner->getCanonicalDecl() ? Inner
                                                                                     : P;
    }
    if (Inner.Root != Place::RootKind::Param || !Owner)
      return P;
    // The context; or, for a wrapper that calls the callback itself, what it
    // passes for any parameter, when that is the caller's argument unchanged
    // (`remove_item (control, k)` of `walk (control, control->sinks, ...)`:
    // bench/realworld R46).
    const Expr *A = CtxParam && Inner.Param == *CtxParam ? CtxArg : nullptr;
    if (!A && Wrapped && Wrapped->Via.back().Direct)
      A = unstrippedArg(Call, wrappedContext(Call, Arg, Wrapped, Inner.Param));
    if (!A)
      return P;
    P = Analysis->placeOfPointer(IntoObject ? throughInstanceCast(A) : A, Owner);
    if (P.Root == Place::RootKind::Unknown)
      return P;
    P.Fields.append(Inner.Fields.begin(), Inner.Fields.end());
    appendIndexes(P, Inner);
    return throughLocalStruct(std::move(P), Owner);
  };
  std::vector<Effect> Ops;
  ExpansionSteps = 0;
  for (const Effect &E : Analysis->summary(Fn).Effects)
    if (E.Kind == EffectKind::MapOperation)
      mapOperations(Fn, E, 0, Ops);
  // The key the walk hands the callback: its first parameter, or a local
  // whose only value it is.
  auto IsWalkKey = [&](const Expr *K) {
    return Fn->getNumParams() > 0 && namesKey(K, Fn->getParamDecl(0), Fn);
  };
  std::optional<Reentry> ByField, Unknown;
  for (Effect &E : Ops) {
    if (storesWalkedKey(E, Fn, MapOp, IsWalkKey))
      continue;
    // `g_hash_table_replace (t, g_strdup (key), v)` in a g_str_equal table.
    if (const auto *Store = dyn_cast_or_null<CallExpr>(E.Where);
        Store && E.Chain.empty() && walksGLibTable(MapOp) && Fn->getNumParams() > 0 &&
        storesVisitedKeyCopy(
            Store, MapCall->getNumArgs() > 0 ? MapCall->getArg(0) : nullptr,
            IsWalkKey, Fn->getASTContext()))
      continue;
    // `add_rfkill (rfkill->index, ...)` whose insert is keyed by the entry's
    // own field: the key is in the table (ReentrantLoops).
    if (walksGLibTable(MapOp) && Fn->getNumParams() > 1 &&
        storesUnderEntryKey(
            E,
            [&](const VarDecl *V) {
              return namesValue(V, Fn->getParamDecl(1), Fn);
            },
            Fn->getASTContext()))
      continue;
    // The callback's own pointer into its context's object (`priv =
    // foo_get_instance_private (FOO (user_data))`): a table of that object.
    if (restatedOnObject(E.Target, Fn))
      E.IntoObject = true;
    MapRef Inner{Translate(E.Target, E.IntoObject), E.MapField};
    if (!Inner.Field && !Inner.P.Fields.empty())
      Inner.Field = Inner.P.Fields.back();
    if (E.IntoObject && anotherObjectsTable(Outer, Inner, Owner))
      continue;
    Identity I = compareMaps(Outer, Inner, E.IntoObject ? Place() : E.Target, CtxParam,
                             /*InLoop=*/false, Owner);
    // A helper's store under the key the walk handed the callback, or one
    // that runs only when a lookup of that key found nothing (lookup-or-
    // create): no key is added. A removal that could take the key out first
    // is a re-entry of its own, found here too. Asked only of a change that
    // would count: it reads the flow of the store's function.
    bool Counts = I == Identity::Same || I == Identity::SameField ||
                  (I == Identity::Unknown && StrictMapIdentity);
    if (Counts && walksGLibTable(MapOp) && Fn->getNumParams() > 0 &&
        Fn->hasBody() && !assignsVar(Fn->getBody(), Fn->getParamDecl(0)) &&
        storesOnlyVisitedKey(E, Fn, IsWalkKey))
      continue;
    if (I == Identity::Same)
      return Reentry{std::move(E), I};
    // A release on the last reference of an object the code took a reference
    // to, a table the callee made, or a reference it took and drops (R16-R18):
    // no map the caller iterates, unless named as that very map.
    if (E.leavesCallerMaps())
      continue;
    if (I == Identity::Unknown && CtxParam && !E.IntoObject &&
        E.Target.Root == Place::RootKind::Param && E.Target.Param != *CtxParam &&
        entryOwnTable(E.Target, Outer.Field, Fn->getASTContext(), nullptr, &Outer.P))
      continue;
    // The same for an entry the callback or a callee looked up itself (a
    // local: `info = g_hash_table_lookup (self->locales, key)`).
    if (I == Identity::Unknown && !E.IntoObject && ofUntracedObject(E.Target) &&
        entryOwnTable(E.Target, Outer.Field, Fn->getASTContext(), E.MapField, &Outer.P))
      continue;
    if (I == Identity::SameField && !ByField)
      ByField = Reentry{std::move(E), I};
    else if (I == Identity::Unknown && !Unknown)
      Unknown = Reentry{std::move(E), I};
  }
  if (ByField)
    return ByField;
  return StrictMapIdentity ? Unknown : std::nullopt;
}

/// For a re-entry found by field and type: where the inner call names the
/// map, and why it is taken to be the outer one.
void ReentrantCallbackCheck::fieldIdentityNote(const Effect &E,
                                               const FieldDecl *Field,
                                               const ASTContext &Ctx) {
  const Expr *M = E.MapFieldAt;
  if (const auto *Inner = dyn_cast_or_null<CallExpr>(E.Where); !M && Inner) {
    std::optional<unsigned> MI = mapParamIndex(Inner->getDirectCallee(), Model);
    if (MI && *MI < Inner->getNumArgs())
      M = Inner->getArg(*MI);
  }
  if (!M || !Field)
    return;
  M = M->IgnoreParenImpCasts();
  const RecordDecl *Owner = Field->getParent();
  diag(M->getBeginLoc(),
       "'%0' is taken to be the same map: both are field '%1' of '%2'",
       DiagnosticIDs::Note)
      << sourceText(M, Ctx) << Field->getName()
      << (Owner && Owner->getTypedefNameForAnonDecl()
              ? Owner->getTypedefNameForAnonDecl()->getName()
              : Owner ? Owner->getName() : "");
}

void ReentrantCallbackCheck::checkTarget(const CallExpr *Call,
                                         const FunctionDecl *Owner,
                                         const CallbackArgument &Arg,
                                         const ResolvedCallback &Target,
                                         ASTContext &Ctx,
                                         const WrappedCallbackArgument *Wrapped) {
  // A TSMAP_IDEMPOTENT callback is still looked into: being safe to repeat
  // says nothing about re-entering the map.
  if (!Target.Fn)
    return;
  std::optional<Reentry> R = firstReentry(Call, Owner, Arg, Target, Wrapped);
  if (!R)
    return;
  bool Known = R->How != Identity::Unknown;
  const Effect *E = &R->E;
  // Through wrappers the map operation is the last wrapper's inner call; the
  // map is named as the call passes it when it passes the map itself
  // (`table_foreach (r->table, ...)`), else as that inner call does.
  const CallExpr *MapCall = Wrapped ? Wrapped->Via.back().Inner : Call;
  std::string MapOp = runnerName(MapCall, Wrapped);
  const Expr *M = mapArgument(MapCall, Model);
  if (!M)
    M = mapObject(MapCall, Model);
  if (Wrapped && M) {
    bool Whole; // named as far out as it is passed unchanged
    M = throughWrapperParams(M, Call, *Wrapped, Whole);
  }
  std::string MapText = M ? sourceText(M, Ctx) : "the map";
  diag(Arg.Arg->getBeginLoc(),
       "callback '%0' passed to '%5' %select{re-enters the same map|may "
       "re-enter the same map}2: it calls '%3' on %select{|what may be }2'%4' "
       "while '%1' runs it with the map locked or mid-iteration")
      << functionName(Target.Fn) << MapOp << (Known ? 0 : 1)
      << functionName(E->Callee) << MapText << calledName(Call)
      << Arg.Arg->getSourceRange();
  if (Wrapped)
    emitWrapperNotes(*this, *Wrapped);
  emitResolutionNotes(*this, Target);
  if (R->How == Identity::Same && E->Target.Root == Place::RootKind::Param &&
      E->Target.Param < Target.Fn->getNumParams())
    if (const Expr *CtxArg = wrappedContext(Call, Arg, Wrapped, E->Target.Param))
      // `u` itself, or a context struct behind it that holds the map.
      diag(CtxArg->getBeginLoc(), "the map reaches '%0' %select{as|through}1 its "
                                  "parameter '%2' here%select{|, as '%3'}1",
           DiagnosticIDs::Note)
          << functionName(Target.Fn) << (E->Target.Fields.empty() ? 0 : 1)
          << Target.Fn->getParamDecl(E->Target.Param)->getName()
          << E->Target.describe(Target.Fn);
  emitChainNotes(*this, Target.Fn, *E, Ctx, Model, &Analysis->fieldFunctions());
  if (R->How == Identity::SameField)
    fieldIdentityNote(*E, E->MapField ? E->MapField
                                      : E->Target.Fields.empty()
                                            ? nullptr
                                            : E->Target.Fields.back(),
                      Ctx);
  if (Wrapped && Wrapped->Via.back().Direct) {
    const WrapperHop &Last = Wrapped->Via.back();
    diag(MapCall->getBeginLoc(),
         "'%0' iterates the map with this iterator while it calls '%1'; collect "
         "what to change and change the map after the call",
         DiagnosticIDs::Note)
        << functionName(Last.Wrapper) << Last.Wrapper->getParamDecl(Last.FnParam)->getName();
    return;
  }
  diag(MapCall->getBeginLoc(),
       "'%0' locks or iterates the map until it returns; collect what to "
       "change and change the map after the call",
       DiagnosticIDs::Note)
      << MapOp;
}

void ReentrantCallbackCheck::check(const MatchFinder::MatchResult &Result) {
  if (const auto *D = Result.Nodes.getNodeAs<Decl>(AnnotatedDeclId))
    return reportAnnotationProblems(*this, D, *Result.Context,
                                    {ContractKind::ThreadSafeMap,
                                     ContractKind::MapOperation,
                                     ContractKind::CallbackLocked});
  const auto *Call = Result.Nodes.getNodeAs<CallExpr>("call");
  if (!Call)
    return;
  if (const IdentifierInfo *II = Call->getDirectCallee()
                                     ? Call->getDirectCallee()->getIdentifier()
                                     : nullptr) {
    llvm::StringRef N = II->getName();
    if (N == "g_hash_table_iter_next")
      return checkIteratorLoop(Call, *Result.Context);
    // The walks start with cds_lfht_first, the _duplicate walks with a lookup.
    if (N == "cds_lfht_first" || N == "cds_lfht_lookup")
      return checkLfhtLoop(Call, *Result.Context);
    if (removesLfhtNode(N))
      return checkLfhtDelete(Call, *Result.Context);
  }
  const FunctionDecl *Owner = nullptr;
  bool OwnerKnown = false;
  if (!Analysis)
    Analysis = std::make_unique<EffectAnalysis>(*Result.Context, Model,
                                                EffectOpts);
  for (const CallbackArgument &Arg :
       callbackArguments(Call, Model, &Analysis->fieldFunctions())) {
    if (!Arg.Locked)
      continue; // Only TSMAP_CALLBACK: runs without the map's lock.
    if (!OwnerKnown) {
      Owner = enclosingFunction(Call, *Result.Context);
      OwnerKnown = true;
    }
    llvm::SmallPtrSet<const FunctionDecl *, 4> Seen; // `c ? f : f` once
    for (const ResolvedCallback &Target : Arg.Targets)
      if (Seen.insert(Target.Fn).second)
        checkTarget(Call, Owner, Arg, Target, *Result.Context);
  }
  // A wrapper that hands its function-pointer parameter on to a locked
  // callback parameter (`registry_foreach (r, drop, r)`).
  if (!Wrappers)
    Wrappers = std::make_unique<WrapperContracts>(Model);
  for (const WrappedCallbackArgument &W :
       Wrappers->arguments(Call, &Analysis->fieldFunctions())) {
    if (!W.Arg.Locked || restartsAfterCallback(W.Via.back(), *Result.Context))
      continue;
    if (!OwnerKnown) {
      Owner = enclosingFunction(Call, *Result.Context);
      OwnerKnown = true;
    }
    llvm::SmallPtrSet<const FunctionDecl *, 4> Seen;
    for (const ResolvedCallback &Target : W.Arg.Targets)
      if (Seen.insert(Target.Fn).second)
        checkTarget(Call, Owner, W.Arg, Target, *Result.Context, &W);
  }
}

} // namespace clang::tidy::tsmap
