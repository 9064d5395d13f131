//===--- NonIdempotentCallbackCheck.cpp - tsmap-non-idempotent-callback --===//

#include "NonIdempotentCallbackCheck.h"
#include "AnnotationValidation.h"
#include "CallbackResolution.h"
#include "ChainNotes.h"
#include "CheckOptions.h"
#include "clang/AST/ASTContext.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/StringExtras.h"

using namespace clang::ast_matchers;

namespace clang::tidy::tsmap {

NonIdempotentCallbackCheck::NonIdempotentCallbackCheck(
    StringRef Name, ClangTidyContext *Context)
    : ClangTidyCheck(Name, Context), Model(*this, Options, Context),
      Gate(Context),
      NonIdempotentFunctionsOption(Options.get("NonIdempotentFunctions", "")),
      IdempotentFunctionsOption(Options.get("IdempotentFunctions", "")),
      DeallocatorsOption(Options.get("Deallocators", "g_free;g_slice_free1")),
      StrictUnknownCalls(readBool(*this, Options, "StrictUnknownCalls", false)),
      MaxCallDepth(readMaxCallDepth(*this, Options)) {
  EffectOpts.NonIdempotentFunctions = readFunctionNames(
      *this, "NonIdempotentFunctions", NonIdempotentFunctionsOption);
  EffectOpts.IdempotentFunctions = readFunctionNames(
      *this, "IdempotentFunctions", IdempotentFunctionsOption);
  EffectOpts.Deallocators =
      readFunctionNames(*this, "Deallocators", DeallocatorsOption);
  EffectOpts.MaxCallDepth = MaxCallDepth;
}

void NonIdempotentCallbackCheck::storeOptions(
    ClangTidyOptions::OptionMap &Opts) {
  Model.storeOptions(Options, Opts);
  Options.store(Opts, "NonIdempotentFunctions", NonIdempotentFunctionsOption);
  Options.store(Opts, "IdempotentFunctions", IdempotentFunctionsOption);
  Options.store(Opts, "Deallocators", DeallocatorsOption);
  storeBool(Options, Opts, "StrictUnknownCalls", StrictUnknownCalls);
  storeMaxCallDepth(Options, Opts, MaxCallDepth);
}

void NonIdempotentCallbackCheck::registerMatchers(MatchFinder *TidyFinder) {
  GatedMatchPass &Shared = Gate.join(TidyFinder, this, Model);
  Shared.matchCalls(this, /*ThroughPointers=*/true);
  Shared.matchAnnotatedDecls(this);
}

void NonIdempotentCallbackCheck::onEndOfTranslationUnit() {
  Analysis.reset();
  Wrappers.reset();
}

/// The first effect of \p S that is wrong to repeat, or null: a definite one
/// first, then (under StrictUnknownCalls) a call nothing is known about.
/// Effects on the callback's own output (\p Output) are its product.
const Effect *NonIdempotentCallbackCheck::firstOffence(
    const FunctionSummary &S, std::optional<unsigned> Output) const {
  for (const Effect &E : S.Effects) {
    if (E.Kind == EffectKind::NonIdempotentCall)
      return &E;
    if ((E.Kind == EffectKind::ReadModifyWrite || E.Kind == EffectKind::Free) &&
        E.Target.outlivesCall() && !(Output && E.Target.isParam(*Output)))
      return &E;
  }
  if (StrictUnknownCalls)
    for (const Effect &E : S.Effects)
      if (E.Kind == EffectKind::UnknownCall &&
          !(Output && E.Target.isParam(*Output)))
        return &E;
  return nullptr;
}

void NonIdempotentCallbackCheck::checkTarget(const CallExpr *Call,
                                             const CallbackArgument &Arg,
                                             const ResolvedCallback &Target,
                                             ASTContext &Ctx,
                                             const WrappedCallbackArgument *Wrapped) {
  const FunctionDecl *Fn = Target.Fn;
  std::string MapOp = calledName(Call);
  if (!Fn || Analysis->isTrusted(Fn))
    return;
  SourceLocation Loc = Arg.Arg->getBeginLoc();
  std::string Name = functionName(Fn);
  if (NonIdempotentReason R = Analysis->nonIdempotentReason(Fn);
      R != NonIdempotentReason::None) {
    diag(Loc, "callback '%0' passed to '%1' is not idempotent: it may run "
              "more than once, and it %2")
        << Name << MapOp << nonIdempotentWhy(Fn, R)
        << Arg.Arg->getSourceRange();
    if (Wrapped)
      emitWrapperNotes(*this, *Wrapped);
    emitResolutionNotes(*this, Target);
    return;
  }
  std::optional<unsigned> Output = outputParamIndex(Fn, Arg.Param, Model);
  const Effect *E = firstOffence(Analysis->summary(Fn), Output);
  if (!E)
    return;
  // An effect in the callback itself is named as its code spells it when that
  // is a plain access path (`c->hits`, not `old->hits` of a `const void *`
  // parameter cast and dereferenced); a cast (`((struct counter *)ctx)->n`)
  // reads better as the parameter's path (`ctx->n`), and so does a local
  // holding what is freed (`old`, from `ctx->tmp`).
  std::string Spelled;
  if (E->Chain.empty() &&
      (E->Kind == EffectKind::ReadModifyWrite || E->Kind == EffectKind::Free))
    Spelled = spelledTarget(*E, Ctx);
  llvm::StringRef Path(Spelled);
  bool FieldPath = (Path.contains('.') || Path.contains("->")) &&
                   llvm::all_of(Path, [](char C) {
                     return llvm::isAlnum(C) || C == '_' || C == '.' || C == '-' ||
                            C == '>';
                   });
  if (!FieldPath)
    Spelled.clear(); // a bare local (`old`) says less than its origin
  diag(Loc, "callback '%0' passed to '%1' is not idempotent: it may run more "
            "than once, and each run %2")
      << Name << MapOp << effectPhrase(*E, Fn, Spelled)
      << Arg.Arg->getSourceRange();
  if (Wrapped)
    emitWrapperNotes(*this, *Wrapped);
  emitResolutionNotes(*this, Target);
  emitChainNotes(*this, Fn, *E, Ctx, Model, &Analysis->fieldFunctions());
  diag(Fn->getLocation(),
       "if running '%0' twice is harmless, declare it TSMAP_IDEMPOTENT",
       DiagnosticIDs::Note)
      << Name;
}

void NonIdempotentCallbackCheck::check(const MatchFinder::MatchResult &Result) {
  if (const auto *D = Result.Nodes.getNodeAs<Decl>(AnnotatedDeclId))
    return reportAnnotationProblems(
        *this, D, *Result.Context,
        {ContractKind::Callback, ContractKind::Out, ContractKind::Idempotent,
         ContractKind::NonIdempotent, ContractKind::CallbackFn},
        /*OwnsUnknown=*/true);
  const auto *Call = Result.Nodes.getNodeAs<CallExpr>("call");
  if (!Call)
    return;
  if (!Analysis)
    Analysis = std::make_unique<EffectAnalysis>(*Result.Context, Model,
                                                EffectOpts);
  std::vector<CallbackArgument> Args =
      callbackArguments(Call, Model, &Analysis->fieldFunctions());
  for (const CallbackArgument &Arg : Args) {
    if (!Arg.Callback)
      continue; // Only TSMAP_CALLBACK_LOCKED: runs once, under the lock.
    llvm::SmallPtrSet<const FunctionDecl *, 4> Seen; // `c ? f : f` once
    for (const ResolvedCallback &Target : Arg.Targets)
      if (Seen.insert(Target.Fn).second)
        checkTarget(Call, Arg, Target, *Result.Context);
  }
  // A wrapper that hands its function-pointer parameter on to a
  // TSMAP_CALLBACK parameter.
  if (!Wrappers)
    Wrappers = std::make_unique<WrapperContracts>(Model);
  for (const WrappedCallbackArgument &W :
       Wrappers->arguments(Call, &Analysis->fieldFunctions())) {
    if (!W.Arg.Callback)
      continue;
    llvm::SmallPtrSet<const FunctionDecl *, 4> Seen;
    for (const ResolvedCallback &Target : W.Arg.Targets)
      if (Seen.insert(Target.Fn).second)
        checkTarget(Call, W.Arg, Target, *Result.Context, &W);
  }
}

} // namespace clang::tidy::tsmap
