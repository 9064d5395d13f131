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
#include "clang/AST/ASTContext.h"
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
    "g_hash_table_foreach;g_hash_table_find;g_hash_table_ref";

ReentrantCallbackCheck::ReentrantCallbackCheck(StringRef Name,
                                               ClangTidyContext *Context)
    : ClangTidyCheck(Name, Context), Model(*this, Options),
      StrictMapIdentity(Options.get("StrictMapIdentity", false)),
      AllowedMapOperationsOption(Options.get("AllowedMapOperations",
                                             DefaultAllowedMapOperations)),
      MaxCallDepth(Options.get("MaxCallDepth", 8U)) {
  for (const std::string &N : splitNameList(AllowedMapOperationsOption))
    AllowedMapOperations.insert(N);
  if (MaxCallDepth == 0 || MaxCallDepth > 64) {
    configurationDiag("option 'MaxCallDepth' is %0; it must be between 1 and "
                      "64, and 8 is used instead")
        << MaxCallDepth;
    MaxCallDepth = 8;
  }
  EffectOpts.MaxCallDepth = MaxCallDepth;
}

void ReentrantCallbackCheck::storeOptions(ClangTidyOptions::OptionMap &Opts) {
  Model.storeOptions(Options, Opts);
  Options.store(Opts, "StrictMapIdentity", StrictMapIdentity);
  Options.store(Opts, "AllowedMapOperations", AllowedMapOperationsOption);
  Options.store(Opts, "MaxCallDepth", MaxCallDepth);
}

void ReentrantCallbackCheck::registerMatchers(MatchFinder *Finder) {
  Finder->addMatcher(
      callExpr(callee(functionDecl()),
               optionally(forCallable(functionDecl().bind("owner"))))
          .bind("call"),
      this);
  Finder->addMatcher(annotatedDeclMatcher(), this);
}

void ReentrantCallbackCheck::onEndOfTranslationUnit() { Analysis.reset(); }

/// The parameter of \p Fn that receives the outer call's context argument: a
/// non-const `void *` parameter other than \p Output named like a context
/// (`ctx`, `user_data`, `arg`, ...), else the last such parameter. GLib's
/// `(key, value, user_data)` and `(key, value, ctx)` visitors take several
/// `void *` parameters, and the context comes last.
/// FIXME: contextParamIndex (CallbackResolution) takes the first `void *`
/// parameter, which is the key or the value for these; it should do this.
static std::optional<unsigned> contextParamOf(const FunctionDecl *Fn,
                                              std::optional<unsigned> Output) {
  static constexpr llvm::StringLiteral Names[] = {
      "ctx", "context", "user_data", "userdata", "udata", "data",
      "arg", "opaque", "cookie", "priv", "closure", "baton"};
  std::optional<unsigned> Last;
  for (unsigned I = 0, N = Fn->getNumParams(); I < N; ++I) {
    const ParmVarDecl *P = Fn->getParamDecl(I);
    QualType T = P->getType();
    if (I == Output || !T->isPointerType() ||
        !T->getPointeeType()->isVoidType() || T->getPointeeType().isConstQualified())
      continue;
    if (llvm::is_contained(Names, P->getName()))
      return I;
    Last = I;
  }
  return Last ? Last : contextParamIndex(Fn, Output);
}

ReentrantCallbackCheck::Identity
ReentrantCallbackCheck::sameMap(const Place &Outer, const Place &Inner) const {
  auto Known = [](const Place &P) {
    return P.Root == Place::RootKind::Param ||
           P.Root == Place::RootKind::Global ||
           P.Root == Place::RootKind::Local;
  };
  if (!Known(Outer) || !Known(Inner))
    return Identity::Unknown;
  // FIXME: two pointer globals (or fields) may hold the same map; they are
  // taken to be different maps.
  return Outer.sameAs(Inner) ? Identity::Same : Identity::Different;
}

/// The first map operation the callback reaches on the outer call's map (or,
/// under StrictMapIdentity, on a map that cannot be told apart from it).
const Effect *ReentrantCallbackCheck::firstReentry(
    const CallExpr *Call, const FunctionDecl *Owner,
    const CallbackArgument &Arg, const ResolvedCallback &Target) {
  const FunctionDecl *Fn = Target.Fn;
  const FunctionDecl *MapOp = Call->getDirectCallee();
  Place Outer;
  if (const Expr *M = mapArgument(Call, Model); M && Owner)
    Outer = Analysis->placeOfPointer(M, Owner);
  std::optional<unsigned> Output =
      outputParamIndex(Fn, MapOp->getParamDecl(Arg.ParamIndex), Model);
  std::optional<unsigned> CtxParam = contextParamOf(Fn, Output);
  const Expr *CtxArg = contextArgument(Call, Arg.ParamIndex);
  // The inner map, from the callback's terms into the caller's.
  auto Translate = [&](const Place &Inner) {
    if (Inner.Root == Place::RootKind::Global)
      return Inner;
    Place P;
    if (Inner.Root != Place::RootKind::Param || !CtxParam || !CtxArg ||
        Inner.Param != *CtxParam || !Owner)
      return P;
    P = Analysis->placeOfPointer(CtxArg, Owner);
    if (P.Root == Place::RootKind::Unknown)
      return P;
    P.Fields.append(Inner.Fields.begin(), Inner.Fields.end());
    return P;
  };
  const Effect *Unknown = nullptr;
  for (const Effect &E : Analysis->summary(Fn).Effects) {
    if (E.Kind != EffectKind::MapOperation || !E.Callee ||
        (E.Callee->getDeclName().isIdentifier() &&
         AllowedMapOperations.contains(E.Callee->getName())))
      continue;
    Identity I = sameMap(Outer, Translate(E.Target));
    if (I == Identity::Same)
      return &E;
    if (I == Identity::Unknown && !Unknown)
      Unknown = &E;
  }
  return StrictMapIdentity ? Unknown : nullptr;
}

void ReentrantCallbackCheck::checkTarget(const CallExpr *Call,
                                         const FunctionDecl *Owner,
                                         const CallbackArgument &Arg,
                                         const ResolvedCallback &Target,
                                         ASTContext &Ctx) {
  if (!Target.Fn || Analysis->isTrusted(Target.Fn))
    return;
  const Effect *E = firstReentry(Call, Owner, Arg, Target);
  if (!E)
    return;
  const FunctionDecl *MapOp = Call->getDirectCallee();
  const Expr *M = mapArgument(Call, Model);
  Place Outer = M && Owner ? Analysis->placeOfPointer(M, Owner) : Place();
  bool Known = Outer.Root != Place::RootKind::Unknown &&
               E->Target.Root != Place::RootKind::Unknown;
  std::string MapText = M ? sourceText(M, Ctx) : "the map";
  diag(Arg.Arg->getBeginLoc(),
       "callback '%0' passed to '%1' %select{re-enters the same map|may "
       "re-enter the same map}2: it calls '%3' on %select{|what may be }2'%4' "
       "while '%1' runs it under the map's lock")
      << functionName(Target.Fn) << functionName(MapOp) << (Known ? 0 : 1)
      << functionName(E->Callee) << MapText;
  emitResolutionNotes(*this, Target);
  if (E->Target.Root == Place::RootKind::Param &&
      E->Target.Param < Target.Fn->getNumParams())
    if (const Expr *CtxArg = contextArgument(Call, Arg.ParamIndex))
      diag(CtxArg->getBeginLoc(), "the map reaches '%0' as its parameter '%1' "
                                  "here",
           DiagnosticIDs::Note)
          << functionName(Target.Fn)
          << Target.Fn->getParamDecl(E->Target.Param)->getName();
  emitChainNotes(*this, Target.Fn, *E, Ctx, Model);
  diag(Call->getBeginLoc(),
       "'%0' holds the map's lock until it returns; collect what to change "
       "and change the map after the call",
       DiagnosticIDs::Note)
      << functionName(MapOp);
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
  const auto *Owner = Result.Nodes.getNodeAs<FunctionDecl>("owner");
  for (const CallbackArgument &Arg : callbackArguments(Call, Model)) {
    if (!Arg.Locked)
      continue; // Only TSMAP_CALLBACK: runs without the map's lock.
    if (!Analysis)
      Analysis = std::make_unique<EffectAnalysis>(*Result.Context, Model,
                                                  EffectOpts);
    llvm::SmallPtrSet<const FunctionDecl *, 4> Seen; // `c ? f : f` once
    for (const ResolvedCallback &Target : Arg.Targets)
      if (Seen.insert(Target.Fn).second)
        checkTarget(Call, Owner, Arg, Target, *Result.Context);
  }
}

} // namespace clang::tidy::tsmap
