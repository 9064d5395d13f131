//===--- WeakMutableValueCheck.cpp - tsmap-weak-mutable-value -------------===//

#include "WeakMutableValueCheck.h"
#include "AnnotationValidation.h"
#include "CallbackResolution.h"
#include "ChainNotes.h"
#include "CheckOptions.h"
#include "HeldLocks.h"
#include "clang/AST/ASTContext.h"
#include "clang/AST/DeclTemplate.h"
#include "clang/AST/ExprCXX.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "llvm/ADT/StringExtras.h"

using namespace clang::ast_matchers;

namespace clang::tidy::tsmap {

/// Library functions that write into the memory their first argument
/// points to.
static constexpr llvm::StringRef BuiltinWriteFunctions[] = {
    "memcpy",  "memmove", "memset",   "strcpy",   "strncpy", "strcat",
    "strncat", "sprintf", "snprintf", "vsprintf", "vsnprintf", "bzero",
    "explicit_bzero", "stpcpy", "stpncpy", "wmemcpy", "wmemmove", "wmemset",
    "wcscpy", "wcsncpy", "wcscat", "wcsncat", "strlcpy", "strlcat",
    // GLib's (the glib model's users write with these)
    "g_strlcpy", "g_strlcat", "g_snprintf", "g_vsnprintf"};

/// `__builtin___memcpy_chk` -> `memcpy`: the name of the library function a
/// (fortified) builtin stands for.
static llvm::StringRef libraryName(llvm::StringRef Name) {
  Name.consume_front("__builtin___");
  Name.consume_front("__builtin_");
  Name.consume_back("_chk");
  Name.consume_front("__");
  return Name;
}

WeakMutableValueCheck::WeakMutableValueCheck(StringRef Name,
                                             ClangTidyContext *Context)
    : ClangTidyCheck(Name, Context), Model(*this, Options, Context),
      Gate(Context),
      WriteFunctionsOption(Options.get("WriteFunctions", "")),
      MaxCallDepth(readMaxCallDepth(*this, Options)),
      StatusConventionOption(Options.get("StatusConvention", "unknown")) {
  Convention = readStatusConvention(*this, StatusConventionOption);
  WriteFunctions = readFunctionNames(*this, "WriteFunctions",
                                     WriteFunctionsOption);
}

void WeakMutableValueCheck::storeOptions(ClangTidyOptions::OptionMap &Opts) {
  Model.storeOptions(Options, Opts);
  Options.store(Opts, "WriteFunctions", WriteFunctionsOption);
  storeMaxCallDepth(Options, Opts, MaxCallDepth);
  Options.store(Opts, "StatusConvention", StatusConventionOption);
}

void WeakMutableValueCheck::registerMatchers(MatchFinder *TidyFinder) {
  GatedMatchPass &Shared = Gate.join(TidyFinder, this, Model);
  Shared.matchCalls(this, /*ThroughPointers=*/true);
  Shared.matchAnnotatedDecls(this);
  // RCU publication needs no contract: its own pass, run at the TU node only
  // when the preprocessor saw liburcu's macros (checkRcuWrites).
  TidyFinder->addMatcher(translationUnitDecl().bind("rcu-unit"), this);
  // C++: variables and fields whose type is an annotated map template.
  if (!getLangOpts().CPlusPlus)
    return;
  Shared.addMatcher(
      declaratorDecl(anyOf(varDecl(unless(parmVarDecl())), fieldDecl()),
                     unless(isExpansionInSystemHeader()))
          .bind("map-decl"),
      this);
}

void WeakMutableValueCheck::onEndOfTranslationUnit() {
  if (PublisherCalled)
    for (const CallExpr *Call : MaybeIndirect)
      checkCall(Call, Call->getDirectCallee(),
                Call->getDirectCallee()->getASTContext(), /*Indirect=*/true);
  MaybeIndirect.clear();
  PublisherCalled = false;
  for (const Publish &P : Pending)
    reportWritesAfter(P, P.Callee->getASTContext());
  Pending.clear();
  Callbacks.clear();
  ReportedWrites.clear();
  Flows.clear();
  LockPoints.clear();
  PublishingParams.clear();
  Effects.reset();
  Wrappers.reset();
}

const FunctionFlow *WeakMutableValueCheck::flowOf(const Decl *Owner,
                                                  ASTContext &Ctx) {
  if (!Owner)
    return nullptr;
  auto [It, New] = Flows.try_emplace(Owner);
  if (New)
    It->second = FunctionFlow::build(Owner, Ctx);
  return It->second.get();
}

void WeakMutableValueCheck::check(const MatchFinder::MatchResult &Result) {
  if (const auto *D = Result.Nodes.getNodeAs<Decl>(AnnotatedDeclId)) {
    reportAnnotationProblems(*this, D, *Result.Context,
                             {ContractKind::Publishes, ContractKind::Immutable,
                              ContractKind::Weak});
    return;
  }
  if (Result.Nodes.getNodeAs<TranslationUnitDecl>("rcu-unit")) {
    checkRcuWrites(*Result.Context);
    return;
  }
  if (const auto *D = Result.Nodes.getNodeAs<DeclaratorDecl>("map-decl")) {
    checkMapValueType(D);
    return;
  }
  const auto *Call = Result.Nodes.getNodeAs<CallExpr>("call");
  if (!Call)
    return;
  // Callbacks of map operations (also through a function pointer, or a
  // wrapper that hands its parameter to one or calls it per entry of its own
  // GHashTableIter loop): writes inside them are the map's business.
  for (const CallbackArgument &Arg : callbackArguments(Call, Model))
    addCallbacks(Arg);
  if (!Wrappers)
    Wrappers = std::make_unique<WrapperContracts>(Model);
  for (const WrappedCallbackArgument &W : Wrappers->arguments(Call))
    addCallbacks(W.Arg);
  if (const FunctionDecl *Callee = Call->getDirectCallee())
    checkCall(Call, Callee, *Result.Context, /*Indirect=*/false);
}

void WeakMutableValueCheck::addCallbacks(const CallbackArgument &Arg) {
  for (const ResolvedCallback &T : Arg.Targets)
    if (T.Fn)
      Callbacks.insert(T.Fn->getCanonicalDecl());
}

void WeakMutableValueCheck::checkCall(const CallExpr *Call,
                                      const FunctionDecl *Callee,
                                      ASTContext &Ctx, bool Indirect) {
  // A template is checked in its instantiations, where types are known.
  if (Call->isInstantiationDependent())
    return;
  // A publish into a null map (an invalid-argument test) publishes nothing.
  // Asked only of calls that publish: most calls do not.
  std::optional<bool> NullMap;
  auto IntoNullMap = [&] {
    if (!NullMap) {
      const Expr *Map = mapArgument(Call, Model);
      NullMap = Map && Map->IgnoreParenCasts()->isNullPointerConstant(
                           Ctx, Expr::NPC_ValueDependentIsNotNull);
    }
    return *NullMap;
  };
  const Decl *Owner = nullptr;
  bool OwnerKnown = false;
  // `obj(args)` / `obj[arg]` on a member operator: argument 0 is the object.
  unsigned Shift = isa<CXXOperatorCallExpr>(Call) && isa<CXXMethodDecl>(Callee) &&
                           !cast<CXXMethodDecl>(Callee)->isStatic()
                       ? 1
                       : 0;
  if (Call->getNumArgs() < Shift)
    return;
  unsigned N =
      std::min<unsigned>(Call->getNumArgs() - Shift, Callee->getNumParams());
  bool MayPublishIndirectly = false;
  for (unsigned I = 0; I < N; ++I) {
    std::vector<const CallExpr *> Via;
    bool Direct = Model.paramHas(Callee, I, ContractKind::Publishes);
    if (Direct && IntoNullMap())
      return;
    if (Direct)
      PublisherCalled = true;
    if (Direct && Indirect) // Reported when the call was matched.
      continue;
    if (!Direct) {
      // Whether a function publishes a parameter through its body is asked
      // only once the TU is known to call a publishing function at all (at
      // its end): code with no publication costs nothing more.
      if (!Indirect) {
        MayPublishIndirectly |= Callee->hasBody() &&
                                Callee->getParamDecl(I)->getType()->isPointerType();
        continue;
      }
      Via = publishesParam(Callee, I, 0);
      if (Via.empty())
        continue;
      if (IntoNullMap())
        return;
    }
    if (!OwnerKnown) {
      // Only for the calls that publish: the parent map is built once.
      OwnerKnown = true;
      Owner = enclosingFunction(Call, Ctx);
    }
    // `rec_store(m, &tmp, false)` of a wrapper that publishes only under
    // `if (share)`: this call cannot reach the publish.
    if (!Via.empty() && guardedOff(Callee, Via.front(), Call,
                                    dyn_cast_or_null<FunctionDecl>(Owner)))
      continue;
    if (Owner && cast<DeclContext>(Owner)->isDependentContext())
      return;
    const Expr *Arg = Call->getArg(I + Shift);
    if (Arg->isNullPointerConstant(Ctx, Expr::NPC_ValueDependentIsNotNull))
      continue;
    Publish P{Call, Callee, Arg, Owner, std::move(Via)};
    if (reportDangling(P, Ctx))
      continue;
    reportWeak(P);
    if (Owner)
      Pending.push_back(P);
  }
  if (MayPublishIndirectly)
    MaybeIndirect.push_back(Call);
}

// ---- Functions that publish their parameters ---

bool WeakMutableValueCheck::guardedOff(const FunctionDecl *Callee,
                                       const CallExpr *Inner,
                                       const CallExpr *Site,
                                       const FunctionDecl *Caller) {
  const FunctionDecl *Def = nullptr;
  if (!Caller || !Callee->hasBody(Def) || !Def)
    return false;
  if (!Effects) {
    EffectOptions Opts;
    Opts.MaxCallDepth = MaxCallDepth;
    Effects = std::make_unique<EffectAnalysis>(Def->getASTContext(), Model, Opts);
  }
  // The effects the wrapper's summary has at that call, with the tests of
  // its parameters around them: all ruled out by this call's constants?
  bool Seen = false;
  for (const Effect &E : Effects->summary(Def).Effects) {
    if (E.Where != Inner)
      continue;
    Seen = true;
    Effect Out = E;
    if (Effects->guardsAllow(E, Site, Caller, Out))
      return false;
  }
  return Seen;
}

const std::vector<const CallExpr *> &
WeakMutableValueCheck::publishesParam(const FunctionDecl *FD, unsigned I,
                                      unsigned Depth) {
  static const std::vector<const CallExpr *> None;
  const FunctionDecl *Def = nullptr;
  if (!FD || !FD->hasBody(Def) || !Def || I >= Def->getNumParams() ||
      !Def->getParamDecl(I)->getType()->isPointerType() || Depth > MaxCallDepth)
    return None;
  auto [It, New] = PublishingParams.try_emplace(Def);
  if (!New) // Known, or being computed (recursion): "does not" until shown.
    return I < It->second.size() ? It->second[I] : None;
  // One walk over the body for all of Def's parameters.
  std::vector<std::vector<const CallExpr *>> Found(Def->getNumParams());
  llvm::SmallPtrSet<const ParmVarDecl *, 4> Reassigned;
  auto ParamOf = [&](const Expr *E) -> std::optional<unsigned> {
    const auto *DRE = dyn_cast_or_null<DeclRefExpr>(E);
    const auto *P = DRE ? dyn_cast<ParmVarDecl>(DRE->getDecl()) : nullptr;
    if (!P || P->getDeclContext() != Def ||
        !P->getType()->isPointerType() || Reassigned.contains(P))
      return std::nullopt;
    return P->getFunctionScopeIndex();
  };
  auto Nodes =
      match(findAll(stmt(anyOf(callExpr(callee(functionDecl())).bind("c"),
                               binaryOperator(isAssignmentOperator()).bind("a"),
                               unaryOperator(hasOperatorName("&")).bind("a")))),
            *Def->getBody(), Def->getASTContext());
  // Re-pointed parameters (or ones whose address is taken) first.
  for (const BoundNodes &B : Nodes) {
    const Expr *Target = nullptr;
    if (const auto *BO = B.getNodeAs<BinaryOperator>("a"))
      Target = BO->getLHS()->IgnoreParenImpCasts();
    else if (const auto *UO = B.getNodeAs<UnaryOperator>("a"))
      Target = UO->getSubExpr()->IgnoreParenImpCasts();
    if (std::optional<unsigned> P = ParamOf(Target))
      Reassigned.insert(Def->getParamDecl(*P));
  }
  for (const BoundNodes &B : Nodes) {
    const auto *CE = B.getNodeAs<CallExpr>("c");
    const FunctionDecl *C = CE ? CE->getDirectCallee() : nullptr;
    if (!C)
      continue;
    unsigned N = std::min<unsigned>(CE->getNumArgs(), C->getNumParams());
    for (unsigned J = 0; J < N; ++J) {
      std::optional<unsigned> P = ParamOf(stripCasts(CE->getArg(J)));
      if (!P || !Found[*P].empty())
        continue;
      if (Model.paramHas(C, J, ContractKind::Publishes)) {
        Found[*P].push_back(CE);
      } else {
        const std::vector<const CallExpr *> &Inner =
            publishesParam(C, J, Depth + 1);
        if (!Inner.empty()) {
          Found[*P].push_back(CE);
          Found[*P].insert(Found[*P].end(), Inner.begin(), Inner.end());
        }
      }
    }
  }
  std::vector<std::vector<const CallExpr *>> &Slot = PublishingParams[Def];
  Slot = std::move(Found);
  return Slot[I];
}

void WeakMutableValueCheck::emitViaNotes(const Publish &P) {
  const FunctionDecl *In = P.Callee;
  for (const CallExpr *CE : P.Via) {
    const FunctionDecl *Next = CE->getDirectCallee();
    diag(CE->getBeginLoc(), "'%0' passes it to '%1' here", DiagnosticIDs::Note)
        << functionName(In) << functionName(Next);
    In = Next;
  }
}

// ---- Dangling publication ----------------------------------------------------

bool WeakMutableValueCheck::reportDangling(const Publish &P, ASTContext &Ctx) {
  const FunctionFlow *Flow = flowOf(P.Owner, Ctx);
  if (!Flow)
    return false;
  std::optional<AutomaticObject> AO = Flow->automaticPointee(P.Arg, P.Call);
  if (!AO || releasedBeforeReturn(P, *Flow, Ctx))
    return false;
  // `main`'s locals live until the program ends (`exit` does not unwind
  // them); only `alloca` memory and compound literals in a nested scope
  // could end sooner, and those are rare there.
  if (const auto *FD = dyn_cast<FunctionDecl>(P.Owner); FD && FD->isMain())
    return false;
  std::string FnName = functionName(P.Callee);
  std::string OwnerName;
  if (const auto *FD = dyn_cast<FunctionDecl>(P.Owner))
    OwnerName = functionName(FD);
  if (AO->Alloca) {
    diag(P.Arg->getBeginLoc(),
         "'%0' publishes memory from 'alloca', which is released when "
         "%select{'%2' returns|its function returns}1")
        << FnName << OwnerName.empty() << OwnerName << P.Arg->getSourceRange();
  } else if (AO->Literal) {
    diag(P.Arg->getBeginLoc(),
         "'%0' publishes a compound literal with automatic storage; the map "
         "keeps the pointer after the literal's lifetime ends")
        << FnName << P.Arg->getSourceRange();
  } else if (AO->ThreadLocal) {
    diag(P.Arg->getBeginLoc(),
         "'%0' publishes the address of thread-local variable '%1'; the map "
         "keeps the pointer after its thread exits, and other threads read it "
         "while its thread writes it")
        << FnName << AO->Var->getName() << P.Arg->getSourceRange();
  } else {
    bool Param = isa<ParmVarDecl>(AO->Var);
    if (OwnerName.empty())
      diag(P.Arg->getBeginLoc(),
           "'%0' publishes the address of %select{local variable|parameter}1 "
           "'%2', which has automatic storage; the map keeps the pointer after "
           "it goes out of scope")
          << FnName << (Param ? 1 : 0) << AO->Var->getName()
          << P.Arg->getSourceRange();
    else
      diag(P.Arg->getBeginLoc(),
           "'%0' publishes the address of %select{local variable|parameter}1 "
           "'%2', which has automatic storage; the map keeps the pointer after "
           "'%3' returns")
          << FnName << (Param ? 1 : 0) << AO->Var->getName() << OwnerName
          << P.Arg->getSourceRange();
  }
  emitViaNotes(P);
  for (const auto &[Var, At] : AO->Through) {
    const Stmt *Value = At;
    if (const auto *BO = dyn_cast<BinaryOperator>(At))
      Value = BO->getRHS();
    diag(At->getBeginLoc(), "'%0' is set to '%1' here", DiagnosticIDs::Note)
        << Var->getName() << sourceText(Value, Ctx);
  }
  if (AO->Alloca)
    diag(AO->Alloca->getBeginLoc(), "the memory is allocated here",
         DiagnosticIDs::Note);
  else if (AO->Literal)
    diag(AO->Literal->getBeginLoc(), "the compound literal is created here",
         DiagnosticIDs::Note);
  else
    diag(AO->Var->getLocation(), "'%0' is declared here", DiagnosticIDs::Note)
        << AO->Var->getName();
  return true;
}

/// \p FD's name, lower case, contains one of \p Words.
static bool nameHasAny(const FunctionDecl *FD,
                       std::initializer_list<llvm::StringRef> Words) {
  if (!FD->getIdentifier())
    return false;
  std::string Name = FD->getName().lower();
  return llvm::any_of(Words, [&](llvm::StringRef W) {
    return llvm::StringRef(Name).contains(W);
  });
}

bool WeakMutableValueCheck::releasedBeforeReturn(const Publish &P,
                                                 const FunctionFlow &Flow,
                                                 ASTContext &Ctx) {
  std::optional<unsigned> MapIndex = mapParamIndex(P.Callee, Model);
  if (!MapIndex || *MapIndex >= P.Call->getNumArgs())
    return false;
  std::string Map = sourceText(stripCasts(P.Call->getArg(*MapIndex)), Ctx, 200);
  std::string Key;
  if (*MapIndex + 1 < P.Call->getNumArgs())
    Key = sourceText(stripCasts(P.Call->getArg(*MapIndex + 1)), Ctx, 200);
  std::optional<FunctionFlow::Point> From = Flow.pointOf(P.Call);
  if (!From)
    return false;
  // A call that destroys, closes or clears the same map, or removes the same
  // key from it: the map no longer holds the pointer.
  auto Releases = [&](const Stmt *S) {
    const auto *CE = dyn_cast<CallExpr>(S);
    const FunctionDecl *FD = CE ? CE->getDirectCallee() : nullptr;
    if (!FD || CE == P.Call)
      return false;
    std::optional<unsigned> I = mapParamIndex(FD, Model);
    if (!I || *I >= CE->getNumArgs() ||
        sourceText(stripCasts(CE->getArg(*I)), Ctx, 200) != Map)
      return false;
    if (nameHasAny(FD, {"destroy", "close", "clear", "free"}))
      return true;
    return nameHasAny(FD, {"remove", "erase", "delete"}) && !Key.empty() &&
           *I + 1 < CE->getNumArgs() &&
           sourceText(stripCasts(CE->getArg(*I + 1)), Ctx, 200) == Key;
  };
  // A path where the publish reported failure left nothing in the map.
  PublishOutcome Outcome(P.Call, Flow);
  return !Flow.reachesExitWithout(*From, Releases, Outcome);
}

// ---- Weak references -----------------------------------------------------------

bool WeakMutableValueCheck::isMutableTarget(QualType Pointer) const {
  QualType Pointee = Pointer->getPointeeType();
  if (Pointee.isNull())
    return false;
  if (Pointee.isConstQualified() || Pointee->isFunctionType() ||
      Pointee->isVoidType())
    return false;
  return !Model.typeHas(Pointee, ContractKind::Immutable);
}

/// Every typedef in the sugar chain of \p T, outermost first.
static std::vector<const TypedefNameDecl *> typedefsOf(QualType T) {
  std::vector<const TypedefNameDecl *> Out;
  for (unsigned Guard = 0; !T.isNull() && Guard < 16; ++Guard) {
    if (const auto *TT = T->getAs<TypedefType>()) {
      Out.push_back(TT->getDecl());
      T = TT->getDecl()->getUnderlyingType();
      continue;
    }
    break;
  }
  return Out;
}

const Decl *WeakMutableValueCheck::weakDeclOfType(QualType T) const {
  for (const TypedefNameDecl *TD : typedefsOf(T))
    if (Model.declHas(TD, ContractKind::Weak))
      return TD;
  return nullptr;
}

/// Where contract \p K is written on \p D, or \p D's own location.
static SourceLocation stated(const ContractModel &Model, const Decl *D,
                             ContractKind K) {
  SourceLocation L = Model.contractLoc(D, K);
  if (L.isInvalid())
    return D->getLocation();
  // The macro's use, not its inside (no "expanded from macro" notes).
  return D->getASTContext().getSourceManager().getExpansionLoc(L);
}

/// The name of \p D for notes.
static std::string declName(const Decl *D) {
  if (const auto *ND = dyn_cast<NamedDecl>(D))
    return ND->getNameAsString();
  return "declaration";
}

void WeakMutableValueCheck::noteWeak(const Publish &P, const Decl *Weak) {
  emitViaNotes(P);
  diag(stated(Model, Weak, ContractKind::Weak),
       "'%0' is declared TSMAP_WEAK here", DiagnosticIDs::Note)
      << declName(Weak);
}

bool WeakMutableValueCheck::reportWeak(const Publish &P) {
  const Expr *S = stripCasts(P.Arg);
  if (!S || !S->getType()->isPointerType())
    return false;
  // The value is itself a weak reference: a weak variable, field or type.
  const Decl *Weak = nullptr;
  if (const auto *DRE = dyn_cast<DeclRefExpr>(S)) {
    if (Model.declHas(DRE->getDecl(), ContractKind::Weak))
      Weak = DRE->getDecl();
  } else if (const auto *ME = dyn_cast<MemberExpr>(S)) {
    if (Model.declHas(ME->getMemberDecl(), ContractKind::Weak))
      Weak = ME->getMemberDecl();
  }
  if (!Weak) {
    Weak = weakDeclOfType(S->getType());
    if (!Weak)
      if (const auto *DRE = dyn_cast<DeclRefExpr>(S))
        if (const auto *VD = dyn_cast<ValueDecl>(DRE->getDecl()))
          Weak = weakDeclOfType(VD->getType());
  }
  if (Weak && isMutableTarget(S->getType())) {
    diag(P.Arg->getBeginLoc(),
         "'%0' publishes '%1', a weak reference to mutable '%2': its owner may "
         "modify or free it while other threads read it through the map")
        << functionName(P.Callee)
        << sourceText(S, P.Callee->getASTContext())
        << S->getType()->getPointeeType().getUnqualifiedType().getAsString(
               P.Callee->getASTContext().getPrintingPolicy())
        << P.Arg->getSourceRange();
    noteWeak(P, Weak);
    return true;
  }
  // The value owns a struct with a weak field to mutable state.
  return reportWeakField(P, S->getType()->getPointeeType(), 0, "");
}

bool WeakMutableValueCheck::reportWeakField(const Publish &P, QualType Record,
                                            unsigned Depth, const std::string &Path) {
  if (Record.isNull() || Depth > 3)
    return false;
  const RecordDecl *RD = Record->getAsRecordDecl();
  if (!RD || !(RD = RD->getDefinition()))
    return false;
  for (const FieldDecl *F : RD->fields()) {
    QualType FT = F->getType();
    if (FT->isRecordType() && !FT->isPointerType()) {
      // A nested struct by value: its weak fields are the value's too.
      if (reportWeakField(P, FT, Depth + 1, Path + F->getName().str() + "."))
        return true;
      continue;
    }
    if (!FT->isPointerType())
      continue;
    const Decl *Weak = Model.declHas(F, ContractKind::Weak)
                           ? static_cast<const Decl *>(F)
                           : weakDeclOfType(FT);
    if (!Weak || !isMutableTarget(FT))
      continue;
    const ASTContext &Ctx = P.Callee->getASTContext();
    const Expr *S = stripCasts(P.Arg);
    diag(P.Arg->getBeginLoc(),
         "'%0' publishes '%1', whose field '%2' is a weak reference to mutable "
         "'%3': its owner may modify or free it while other threads read it "
         "through the map")
        << functionName(P.Callee) << sourceText(S, Ctx) << (Path + F->getName().str())
        << FT->getPointeeType().getUnqualifiedType().getAsString(
               Ctx.getPrintingPolicy())
        << P.Arg->getSourceRange();
    noteWeak(P, Weak);
    return true;
  }
  return false;
}

// ---- Writes after the publish --------------------------------------------------

bool WeakMutableValueCheck::isWriteFunction(const FunctionDecl *FD) const {
  llvm::StringRef Name = FD->getName();
  if (Name.empty())
    return false;
  llvm::StringRef Lib = libraryName(Name);
  if (llvm::is_contained(BuiltinWriteFunctions, Lib))
    return true;
  if (WriteFunctions.empty())
    return false;
  std::string Qualified = FD->getQualifiedNameAsString();
  return llvm::any_of(WriteFunctions, [&](const std::string &W) {
    return W == Name || W == Qualified;
  });
}

/// \p E (an lvalue that is written) has an atomic type: the store is atomic,
/// which is how concurrent writers are meant to update a shared object.
/// An atomic object, or a volatile access (`CMM_STORE_SHARED (p->x, v)`,
/// `WRITE_ONCE`): a store meant to be seen by concurrent readers.
static bool isAtomicStore(const Expr *E) {
  return E->getType()->isAtomicType() || E->getType().isVolatileQualified();
}

/// The write at \p S (an effect's statement) is atomic: a store to an
/// atomic or volatile lvalue, an operator or method of `std::atomic`, or a
/// C11/GCC atomic builtin.
static bool isAtomicWrite(const Stmt *S) {
  auto IsStdAtomic = [](const Expr *Obj) {
    QualType T = Obj->IgnoreParenBaseCasts()->getType();
    if (T->isPointerType())
      T = T->getPointeeType();
    const auto *RD = T->getAsCXXRecordDecl();
    return RD && RD->isInStdNamespace() && RD->getIdentifier() &&
           RD->getName().starts_with("atomic");
  };
  if (isa<AtomicExpr>(S)) // `__atomic_fetch_add`, C11's `atomic_fetch_add`
    return true;
  if (const auto *BO = dyn_cast<BinaryOperator>(S))
    return BO->isAssignmentOp() && isAtomicStore(BO->getLHS());
  if (const auto *UO = dyn_cast<UnaryOperator>(S))
    return UO->isIncrementDecrementOp() && isAtomicStore(UO->getSubExpr());
  if (const auto *OC = dyn_cast<CXXOperatorCallExpr>(S))
    return OC->getNumArgs() > 0 && IsStdAtomic(OC->getArg(0));
  if (const auto *MC = dyn_cast<CXXMemberCallExpr>(S))
    return MC->getImplicitObjectArgument() &&
           IsStdAtomic(MC->getImplicitObjectArgument());
  if (const auto *CE = dyn_cast<CallExpr>(S))
    if (const FunctionDecl *FD = CE->getDirectCallee(); FD && FD->getIdentifier()) {
      llvm::StringRef N = FD->getName();
      return N.starts_with("atomic_") || N.starts_with("__atomic_") ||
             N.starts_with("__c11_atomic_") || N.starts_with("__sync_");
    }
  return false;
}

bool WeakMutableValueCheck::calleeWriteCounts(const FunctionDecl *Callee,
                                              const Effect &E, bool LocksCount) {
  if (!E.Where || isAtomicWrite(E.Where))
    return false;
  if (!LocksCount)
    return true;
  // Each function of the chain and where it is on the way to the write: a
  // lock it holds there covers the write (`lock (&c->lock); c->v = x;` in a
  // setter).
  auto Unlocks = [](const Stmt *S) { return lockActionOf(S) == LockAction::Release; };
  for (size_t K = 0; K <= E.Chain.size(); ++K) {
    const FunctionDecl *Fn = K == 0 ? Callee : E.Chain[K - 1].Callee;
    const Stmt *Next = K < E.Chain.size() ? E.Chain[K].Site : E.Where;
    const FunctionDecl *Def = Fn ? Fn->getDefinition() : nullptr;
    const FunctionFlow *Flow = Def ? flowOf(Def, Def->getASTContext()) : nullptr;
    std::optional<FunctionFlow::Point> At = Flow ? Flow->pointOf(Next) : std::nullopt;
    if (!At)
      continue;
    auto Found = LockPoints.try_emplace(Flow);
    auto &Points = Found.first->second;
    if (Found.second)
      Flow->forEachElement([&](const Stmt *S, FunctionFlow::Point LockAt) {
        LockAction A = lockActionOf(S);
        if (A == LockAction::Take || A == LockAction::TryTake)
          Points.push_back({S, LockAt});
      });
    if (llvm::any_of(Points, [&](const auto &L) {
          return heldAt(L.first, L.second, *At, *Flow, Unlocks);
        }))
      return false;
  }
  return true;
}

std::optional<WeakMutableValueCheck::Write>
WeakMutableValueCheck::writeAt(const Stmt *S, const std::vector<Handle> &Aliases,
                               const CallExpr *Publisher) {
  auto Alias = [&](std::optional<Handle> H) -> const VarDecl * {
    if (H && llvm::is_contained(Aliases, *H))
      return H->Var;
    return nullptr;
  };
  auto Store = [&](const Expr *LHS) -> std::optional<Write> {
    if (isAtomicStore(LHS))
      return std::nullopt;
    // Re-pointing the alias itself (`p = q`) writes no published memory.
    const VarDecl *V = Alias(lvalueHandle(LHS));
    if (!V)
      return std::nullopt;
    Write W;
    W.Where = S;
    W.Through = V;
    return W;
  };
  if (const auto *BO = dyn_cast<BinaryOperator>(S)) {
    if (BO->isAssignmentOp())
      return Store(BO->getLHS());
    return std::nullopt;
  }
  if (const auto *UO = dyn_cast<UnaryOperator>(S)) {
    if (UO->isIncrementDecrementOp())
      return Store(UO->getSubExpr());
    return std::nullopt;
  }
  const auto *CE = dyn_cast<CallExpr>(S);
  if (!CE || CE == Publisher)
    return std::nullopt;
  const FunctionDecl *FD = CE->getDirectCallee();
  if (!FD || Model.isMapOperation(FD))
    return std::nullopt;
  if (isWriteFunction(FD)) {
    if (CE->getNumArgs() == 0)
      return std::nullopt;
    const VarDecl *V = Alias(pointeeHandle(CE->getArg(0)));
    if (!V)
      return std::nullopt;
    Write W;
    W.Where = S;
    W.Through = V;
    W.Callee = FD;
    return W;
  }
  // A library's inline primitive from a system header (liburcu's
  // `urcu_ref_get_unless_zero`, `urcu_ref_put`: atomic reference counts, made
  // for concurrent use) writes nothing readers can see torn.
  if (FD->getASTContext().getSourceManager().isInSystemHeader(FD->getLocation()))
    return std::nullopt;
  if (!Effects) {
    EffectOptions Opts;
    Opts.MaxCallDepth = MaxCallDepth;
    Effects = std::make_unique<EffectAnalysis>(FD->getASTContext(), Model, Opts);
  }
  // RCU readers take no lock: an updater's lock in a callee keeps none out
  // (a lock of the object itself is judged in the function, not here).
  auto Counts = [&](const Effect &E) {
    return calleeWriteCounts(FD, E, /*LocksCount=*/Publisher != nullptr);
  };
  auto ByCallee = [&](const VarDecl *V, const Effect *E) {
    Write W;
    W.Where = S;
    W.Through = V;
    W.Callee = FD;
    W.Chain = E;
    return W;
  };
  // A method called on the object (`o->set (3)`, `(*o).set (3)`) whose body
  // writes its members.
  if (const auto *MC = dyn_cast<CXXMemberCallExpr>(CE))
    if (const Expr *Obj = MC->getImplicitObjectArgument()) {
      const VarDecl *V = Alias(Obj->getType()->isPointerType() ? pointeeHandle(Obj)
                                                               : lvalueHandle(Obj));
      if (const Effect *E = V ? Effects->writesThroughThis(FD, Counts) : nullptr)
        return ByCallee(V, E);
    }
  unsigned N = std::min<unsigned>(CE->getNumArgs(), FD->getNumParams());
  for (unsigned I = 0; I < N; ++I)
    if (const VarDecl *V = Alias(pointeeHandle(CE->getArg(I))))
      if (const Effect *E = Effects->writesThroughParam(FD, I, Counts))
        return ByCallee(V, E);
  return std::nullopt;
}

/// The local integer variable that indexes the element \p E names or points
/// into (`&arr[i]`, `arr + i`, `arr[i].port`), or null.
static const VarDecl *elementIndexVar(const Expr *E) {
  for (unsigned Guard = 0; E && Guard < 8; ++Guard) {
    E = E->IgnoreParenCasts();
    const Expr *Index = nullptr;
    if (const auto *ASE = dyn_cast<ArraySubscriptExpr>(E))
      Index = ASE->getIdx();
    else if (const auto *BO = dyn_cast<BinaryOperator>(E); BO && BO->isAdditiveOp())
      Index = BO->getRHS()->getType()->isIntegerType() ? BO->getRHS() : BO->getLHS();
    if (Index) {
      const auto *DRE = dyn_cast<DeclRefExpr>(Index->IgnoreParenImpCasts());
      const auto *V = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
      return V && V->hasLocalStorage() && V->getType()->isIntegerType() ? V : nullptr;
    }
    if (const auto *UO = dyn_cast<UnaryOperator>(E);
        UO && (UO->getOpcode() == UO_AddrOf || UO->getOpcode() == UO_Deref))
      E = UO->getSubExpr();
    else if (const auto *ME = dyn_cast<MemberExpr>(E))
      E = ME->getBase();
    else
      return nullptr;
  }
  return nullptr;
}

void WeakMutableValueCheck::reportWritesAfter(const Publish &P,
                                              ASTContext &Ctx) {
  if (P.Owner && Callbacks.contains(P.Owner->getCanonicalDecl()))
    return;
  const FunctionFlow *Flow = flowOf(P.Owner, Ctx);
  if (!Flow)
    return;
  std::optional<Handle> Root = pointeeHandle(P.Arg);
  std::optional<FunctionFlow::Point> From = Flow->pointOf(P.Call);
  if (!Root || !From)
    return;
  std::vector<Handle> Aliases = aliasesOf(*Root, *Flow);
  // Paths on which the publish failed end there (PublishOutcome).
  PublishOutcome Outcome(P.Call, *Flow);
  std::vector<std::pair<const Stmt *, FunctionFlow::Point>> Locks, Writes;
  std::vector<Write> Found;
  Flow->forEachElement([&](const Stmt *S, FunctionFlow::Point At) {
    LockAction A = lockActionOf(S);
    if (A == LockAction::Take || A == LockAction::TryTake)
      Locks.push_back({S, At});
    if (std::optional<Write> W = writeAt(S, Aliases, P.Call)) {
      Found.push_back(*W);
      Writes.push_back({S, At});
    }
  });
  auto NoKill = [](const Stmt *) { return false; };
  auto Unlocks = [](const Stmt *S) {
    return lockActionOf(S) == LockAction::Release;
  };
  auto NoBlock = [](const CFGBlock *, unsigned) { return false; };
  for (size_t K = 0; K < Found.size(); ++K) {
    const Write &W = Found[K];
    FunctionFlow::Point At = Writes[K].second;
    if (ReportedWrites.contains(W.Where))
      continue;
    // Re-pointing the alias written through, to something that is not an
    // alias, ends its relation to the published object.
    // An element published by its index (`&arr[i]`) and written by the same
    // index (`arr[i].port`): a change of the index moves to another element.
    const VarDecl *Index = elementIndexVar(P.Arg);
    if (Index) {
      const auto *WE = dyn_cast<Expr>(W.Where);
      const auto *WB = WE ? dyn_cast<BinaryOperator>(WE->IgnoreParenImpCasts()) : nullptr;
      if (!WB || elementIndexVar(WB->getLHS()) != Index)
        Index = nullptr;
    }
    auto Kills = [&](const Stmt *S) {
      if (Index && definitionOf(S, Index)) // `i++`, `i = j`: another element
        return true;
      return repointsOff(S, W.Through, Aliases);
    };
    // After a successful publish under every reading of the statuses
    // tested on the way (or the one option StatusConvention names).
    bool Reached = true;
    for (StatusReading R : readingsOf(Convention)) {
      Outcome.setReading(R);
      Reached = Flow->reachesWithout(*From, At, Kills, Outcome);
      if (!Reached || !Outcome.readingUsed())
        break;
    }
    if (!Reached)
      continue;
    // Under a lock taken after the publish: synchronized with readers.
    if (llvm::any_of(Locks, [&](const auto &L) {
          return Flow->reachesWithout(*From, L.second, NoKill, NoBlock) &&
                 heldAt(L.first, L.second, At, *Flow, Unlocks);
        }))
      continue;
    ReportedWrites.insert(W.Where);
    const Expr *Value = stripCasts(P.Arg);
    if (const auto *UO = dyn_cast<UnaryOperator>(Value);
        UO && UO->getOpcode() == UO_AddrOf)
      Value = UO->getSubExpr();
    std::string Published = sourceText(Value, Ctx);
    std::string Publisher = functionName(P.Callee);
    SourceLocation Loc = W.Where->getBeginLoc();
    if (Ctx.getSourceManager().isInSystemMacro(Loc))
      Loc = Ctx.getSourceManager().getExpansionLoc(Loc);
    if (W.Callee && W.Chain) {
      diag(Loc, "'%0' writes through '%1' after '%2' was published by '%3'; "
                "other threads may be reading it through the map")
          << functionName(W.Callee) << W.Through->getName() << Published
          << Publisher
          << W.Where->getSourceRange();
    } else if (W.Callee) {
      const auto *CE = cast<CallExpr>(W.Where);
      diag(Loc, "'%0' writes into '%1' after '%2' was published by '%3'; "
                "other threads may be reading it through the map")
          << functionName(W.Callee) << sourceText(stripCasts(CE->getArg(0)), Ctx)
          << Published << Publisher
          << W.Where->getSourceRange();
    } else {
      const Expr *Target = writtenLValue(W.Where);
      diag(Loc, "write to '%0' after '%1' was published by '%2'; other "
                "threads may be reading it through the map")
          << sourceText(Target, Ctx) << Published << Publisher
          << W.Where->getSourceRange();
    }
    diag(P.Call->getBeginLoc(), "'%0' is published to the map here",
         DiagnosticIDs::Note)
        << Published;
    emitViaNotes(P);
    // Written through another local: where it became an alias.
    if (!(Root->Var == W.Through && Root->Pointee)) {
      const Stmt *AliasAt = nullptr;
      const Expr *AliasValue = nullptr;
      Flow->forEachElement([&](const Stmt *S, FunctionFlow::Point) {
        if (AliasAt)
          return;
        std::optional<const Expr *> Def = definitionOf(S, W.Through);
        if (!Def || !*Def)
          return;
        std::optional<Handle> H = pointeeHandle(*Def);
        if (H && llvm::is_contained(Aliases, *H)) {
          AliasAt = isa<DeclStmt>(S) ? *Def : S;
          AliasValue = *Def;
        }
      });
      if (AliasAt)
        diag(AliasAt->getBeginLoc(), "'%0' is set to '%1' here",
             DiagnosticIDs::Note)
            << W.Through->getName() << sourceText(AliasValue, Ctx);
    }
    if (W.Chain)
      emitChainNotes(*this, W.Callee, *W.Chain, Ctx, Model);
  }
}

// ---- C++ map wrappers ------------------------------------------------------------

/// \p T is `std::weak_ptr<X>`: sets \p Target to X.
static bool isStdWeakPtr(QualType T, QualType &Target) {
  const auto *RD = dyn_cast_or_null<ClassTemplateSpecializationDecl>(
      T->getAsCXXRecordDecl());
  if (!RD || !RD->isInStdNamespace() || RD->getName() != "weak_ptr")
    return false;
  const TemplateArgumentList &Args = RD->getTemplateArgs();
  if (Args.size() < 1 || Args[0].getKind() != TemplateArgument::Type)
    return false;
  Target = Args[0].getAsType();
  return true;
}

void WeakMutableValueCheck::checkMapValueType(const DeclaratorDecl *D) {
  QualType T = D->getType();
  if (T.isNull() || T->isDependentType() || T->isReferenceType())
    return;
  while (const ArrayType *AT = T->getAsArrayTypeUnsafe())
    T = AT->getElementType();
  const auto *Spec = dyn_cast_or_null<ClassTemplateSpecializationDecl>(
      T->getAsCXXRecordDecl());
  if (!Spec)
    return;
  const ClassTemplateDecl *Template = Spec->getSpecializedTemplate();
  const Decl *Annotated = nullptr;
  if (Model.declHas(Spec, ContractKind::ThreadSafeMap))
    Annotated = Spec;
  else if (Template &&
           Model.declHas(Template->getTemplatedDecl(), ContractKind::ThreadSafeMap))
    Annotated = Template->getTemplatedDecl();
  if (!Annotated)
    return;
  // The key is the first type argument; the values are the type arguments
  // after it (or the only one).
  const TemplateArgumentList &Args = Spec->getTemplateArgs();
  std::vector<QualType> Types;
  for (unsigned I = 0; I < Args.size(); ++I)
    if (Args[I].getKind() == TemplateArgument::Type)
      Types.push_back(Args[I].getAsType());
  if (Types.size() > 1)
    Types.erase(Types.begin());
  const ASTContext &Ctx = D->getASTContext();
  for (QualType V : Types) {
    QualType Target;
    bool Weak = isStdWeakPtr(V, Target);
    if (!Weak) {
      if (!V->isPointerType() || V->isFunctionPointerType())
        continue;
      Target = V->getPointeeType();
    }
    if (Target.isConstQualified() || Target->isVoidType() ||
        Target->isFunctionType() ||
        Model.typeHas(Target, ContractKind::Immutable))
      continue;
    diag(D->getLocation(),
         "map '%0' holds values of type '%1', %select{a weak reference|a raw "
         "pointer}2 to mutable '%3' that the map neither owns nor protects: "
         "other threads may see it modified or freed")
        << D->getName() << V.getAsString(Ctx.getPrintingPolicy())
        << (Weak ? 0 : 1)
        << Target.getUnqualifiedType().getAsString(Ctx.getPrintingPolicy());
    diag(stated(Model, Annotated, ContractKind::ThreadSafeMap),
         "'%0' is declared TSMAP_THREAD_SAFE_MAP here", DiagnosticIDs::Note)
        << declName(Annotated);
    return;
  }
}

} // namespace clang::tidy::tsmap
