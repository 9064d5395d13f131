//===--- ChainNotes.cpp - notes that walk from a callback to an effect ---===//

#include "ChainNotes.h"
#include "clang/AST/ExprCXX.h"
#include "clang/AST/ASTContext.h"
#include "clang/AST/DeclCXX.h"
#include "clang/Lex/Lexer.h"
#include <optional>

namespace clang::tidy::tsmap {

std::string functionName(const FunctionDecl *FD) {
  if (!FD)
    return "?";
  // A lambda has no name: its line tells several in one file apart (clang says
  // "(lambda at file:line:col)").
  if (const auto *MD = dyn_cast<CXXMethodDecl>(FD); MD && MD->getParent()->isLambda()) {
    const SourceManager &SM = FD->getASTContext().getSourceManager();
    SourceLocation Loc = SM.getExpansionLoc(MD->getParent()->getLocation());
    unsigned Line = Loc.isValid() ? SM.getPresumedLineNumber(Loc) : 0;
    return Line ? "lambda at line " + std::to_string(Line) : "lambda";
  }
  return FD->getNameAsString();
}

std::string calledName(const CallExpr *Call) {
  if (const FunctionDecl *FD = Call->getDirectCallee())
    return functionName(FD);
  const auto *ND = dyn_cast_or_null<NamedDecl>(Call->getCalleeDecl());
  return ND ? ND->getNameAsString() : "?";
}

const FunctionDecl *effectOwner(const FunctionDecl *Top, const Effect &E) {
  return E.Chain.empty() ? Top : E.Chain.back().Callee;
}

/// The text of \p S where it is written in a file: also inside one macro
/// argument (`&s->refs` of `g_atomic_int_inc(&s->refs)`); nothing when it
/// spans a macro body.
static std::optional<std::string> fileText(const Stmt *S, const ASTContext &Ctx) {
  const SourceManager &SM = Ctx.getSourceManager();
  CharSourceRange Range = Lexer::makeFileCharRange(
      CharSourceRange::getTokenRange(S->getSourceRange()), SM,
      Ctx.getLangOpts());
  if (Range.isInvalid())
    return std::nullopt;
  return Lexer::getSourceText(Range, SM, Ctx.getLangOpts()).str();
}

/// An expression that needs no parentheses before `->`, `.` or `[`.
static bool isPostfixOperand(const Expr *E) {
  E = E->IgnoreImpCasts();
  return isa<DeclRefExpr>(E) || isa<MemberExpr>(E) ||
         isa<ArraySubscriptExpr>(E) || isa<CallExpr>(E) || isa<ParenExpr>(E);
}

/// The text of \p E as the macro's user wrote it, when a macro body builds
/// \p E around its arguments: `#define COUNT_LOAD(c) ((c)->loads += 1)` used
/// as `COUNT_LOAD(ctx)` gives `ctx->loads` for `(c)->loads`; the parentheses
/// the body puts around an argument are dropped. Nothing for other shapes.
static std::optional<std::string> textAtUse(const Expr *E, const ASTContext &Ctx,
                                            unsigned Depth = 0) {
  if (!E || Depth > 8)
    return std::nullopt;
  if (std::optional<std::string> T = fileText(E, Ctx))
    return T;
  if (const auto *ICE = dyn_cast<ImplicitCastExpr>(E))
    return textAtUse(ICE->getSubExpr(), Ctx, Depth + 1);
  if (const auto *PE = dyn_cast<ParenExpr>(E)) {
    std::optional<std::string> Inner = textAtUse(PE->getSubExpr(), Ctx, Depth + 1);
    if (Inner && !isPostfixOperand(PE->getSubExpr()) &&
        !isa<UnaryOperator>(PE->getSubExpr()->IgnoreImpCasts()))
      return "(" + *Inner + ")";
    return Inner;
  }
  auto Operand = [&](const Expr *Sub) -> std::optional<std::string> {
    std::optional<std::string> T = textAtUse(Sub, Ctx, Depth + 1);
    if (T && !isPostfixOperand(Sub))
      return "(" + *T + ")";
    return T;
  };
  if (const auto *ME = dyn_cast<MemberExpr>(E)) {
    if (ME->isImplicitAccess())
      return std::nullopt;
    std::optional<std::string> Base = Operand(ME->getBase());
    if (!Base)
      return std::nullopt;
    return *Base + (ME->isArrow() ? "->" : ".") +
           ME->getMemberNameInfo().getAsString();
  }
  if (const auto *AS = dyn_cast<ArraySubscriptExpr>(E)) {
    std::optional<std::string> Base = Operand(AS->getBase());
    std::optional<std::string> Index = textAtUse(AS->getIdx(), Ctx, Depth + 1);
    if (!Base || !Index)
      return std::nullopt;
    return *Base + "[" + *Index + "]";
  }
  if (const auto *UO = dyn_cast<UnaryOperator>(E)) {
    std::optional<std::string> Sub = Operand(UO->getSubExpr());
    if (!Sub)
      return std::nullopt;
    std::string Op = UnaryOperator::getOpcodeStr(UO->getOpcode()).str();
    return UO->isPostfix() ? *Sub + Op : Op + *Sub;
  }
  return std::nullopt;
}

std::string sourceText(const Stmt *S, const ASTContext &Ctx, unsigned MaxLen) {
  if (!S)
    return "";
  const SourceManager &SM = Ctx.getSourceManager();
  CharSourceRange Range = Lexer::makeFileCharRange(
      CharSourceRange::getTokenRange(S->getSourceRange()), SM,
      Ctx.getLangOpts());
  std::optional<std::string> AtUse;
  if (Range.isInvalid())
    if (const auto *E = dyn_cast<Expr>(S))
      AtUse = textAtUse(E, Ctx);
  if (Range.isInvalid() && !AtUse) {
    // Written inside a macro body (`CHECK(x)` expanding to `checks++`): the
    // text as the macro spells it.
    SourceLocation B = SM.getSpellingLoc(S->getBeginLoc());
    SourceLocation E = SM.getSpellingLoc(S->getEndLoc());
    if (SM.getFileID(B) == SM.getFileID(E) && !SM.isBeforeInTranslationUnit(E, B))
      Range = CharSourceRange::getTokenRange(B, E);
  }
  std::string Text =
      AtUse ? *AtUse
      : Range.isValid()
          ? Lexer::getSourceText(Range, SM, Ctx.getLangOpts()).str()
          : "";
  // One line, no runs of blanks.
  std::string Flat;
  for (char C : Text) {
    bool Blank = C == ' ' || C == '\n' || C == '\t' || C == '\r';
    if (Blank && (Flat.empty() || Flat.back() == ' '))
      continue;
    Flat += Blank ? ' ' : C;
  }
  if (Flat.size() > MaxLen)
    Flat = Flat.substr(0, MaxLen - 3) + "...";
  return Flat;
}

/// The default list's functions, by what repeating them does.
static llvm::StringRef defaultListWhy(llvm::StringRef Name) {
  if (Name.starts_with("exec") || Name.starts_with("posix_spawn") ||
      Name == "fork" || Name == "vfork" || Name == "system" || Name == "popen")
    return "starts a process";
  if (Name == "kill" || Name == "killpg" || Name == "raise" ||
      Name == "pthread_kill")
    return "sends a signal";
  if (Name.starts_with("unlink") || Name.starts_with("rename") ||
      Name.starts_with("mkdir") || Name == "rmdir" || Name == "remove" ||
      Name.starts_with("link") || Name.starts_with("symlink"))
    return "changes the file system";
  if (Name == "sem_post")
    return "posts a semaphore";
  if (Name.starts_with("curl_") || Name.starts_with("redis") ||
      Name.starts_with("mysql_") || Name.starts_with("PQ") ||
      Name.starts_with("sqlite3_"))
    return "sends a request";
  if (Name.starts_with("amqp_") || Name.starts_with("rd_kafka_"))
    return "publishes a message";
  return "sends data";
}

/// \p FD is non-idempotent by an annotation on one of its declarations, not
/// only by option `Contracts`.
static bool annotatedNonIdempotent(const FunctionDecl *FD) {
  for (const FunctionDecl *R : FD->redecls())
    for (const auto &[C, Loc] : ContractModel::annotationsOn(R))
      if (C.Kind == ContractKind::NonIdempotent)
        return true;
  return false;
}

std::string nonIdempotentWhy(const FunctionDecl *Callee,
                             NonIdempotentReason R) {
  switch (R) {
  case NonIdempotentReason::Annotated:
    if (Callee && !annotatedNonIdempotent(Callee))
      return "is declared non-idempotent by option 'Contracts'";
    return "is declared TSMAP_NON_IDEMPOTENT";
  case NonIdempotentReason::Option:
    return "is listed in NonIdempotentFunctions";
  case NonIdempotentReason::DefaultList:
    return defaultListWhy(Callee && Callee->getDeclName().isIdentifier()
                              ? Callee->getName()
                              : "")
        .str();
  case NonIdempotentReason::None:
    break;
  }
  return "is not idempotent";
}

std::string effectPhrase(const Effect &E, const FunctionDecl *Top,
                         const std::string &Spelled) {
  std::string Callee = "'" + functionName(E.Callee) + "'";
  std::string Target =
      "'" + (Spelled.empty() ? E.Target.describe(Top) : Spelled) + "'";
  switch (E.Kind) {
  case EffectKind::NonIdempotentCall:
    return "calls " + Callee + ", which " + nonIdempotentWhy(E.Callee, E.Reason);
  case EffectKind::ReadModifyWrite:
    if (E.Op == '+')
      return "increments " + Target;
    if (E.Op == '-')
      return "decrements " + Target;
    return "updates " + Target + " from its old value";
  case EffectKind::Free:
    return "frees " + Target + ", which it did not allocate";
  case EffectKind::UnknownCall:
    if (!E.Callee)
      return "calls a function through a pointer, which is not known to be "
             "idempotent";
    return "calls " + Callee +
           ", whose body is not visible and which is not known to be idempotent";
  case EffectKind::MapOperation:
    return "calls map operation " + Callee;
  case EffectKind::Write:
    return "writes " + Target;
  case EffectKind::Escape:
    return "hands on " + Target;
  case EffectKind::Call:
    return "calls " + Callee + " with " + Target;
  }
  return "has an effect";
}

void emitResolutionNotes(ClangTidyCheck &Check, const ResolvedCallback &R) {
  std::string Name = functionName(R.Fn);
  for (const ResolutionStep &S : R.Steps) {
    if (S.K == ResolutionStep::Kind::Field && S.Field && S.Value) {
      Check.diag(S.Value->getBeginLoc(), "field '%0' is set to '%1' here",
                 DiagnosticIDs::Note)
          << S.Field->getName() << Name;
      continue;
    }
    if (S.K != ResolutionStep::Kind::Variable || !S.Var)
      continue;
    SourceLocation Loc =
        S.Site ? S.Site->getBeginLoc()
               : (S.Value ? S.Value->getBeginLoc() : S.Var->getLocation());
    Check.diag(Loc, "'%0' is set to '%1' here", DiagnosticIDs::Note)
        << S.Var->getName() << Name;
  }
}

void emitWrapperNotes(ClangTidyCheck &Check, const WrappedCallbackArgument &W) {
  for (const WrapperHop &H : W.Via) {
    if (H.Direct) {
      Check.diag(H.Direct->getBeginLoc(),
                 "'%0' calls '%1' here, for each entry of a loop with "
                 "'g_hash_table_iter_next'",
                 DiagnosticIDs::Note)
          << functionName(H.Wrapper) << H.Wrapper->getParamDecl(H.FnParam)->getName();
      continue;
    }
    Check.diag(H.Inner->getBeginLoc(), "'%0' passes '%1' to '%2' here",
               DiagnosticIDs::Note)
        << functionName(H.Wrapper) << H.Wrapper->getParamDecl(H.FnParam)->getName()
        << calledName(H.Inner);
  }
}

void emitHopNotes(ClangTidyCheck &Check, const FunctionDecl *Top,
                  llvm::ArrayRef<Hop> Chain, const FieldFunctions *Fields) {
  const FunctionDecl *Caller = Top;
  for (size_t I = 0; I < Chain.size(); ++I) {
    const Hop &H = Chain[I];
    // A recursion that passes one call again (a loop in `f` whose body calls
    // `f`, reaching an operation of a deeper round): one note, with how deep.
    size_t Rounds = 1;
    while (I + Rounds < Chain.size() && Chain[I + Rounds].Site == H.Site &&
           Chain[I + Rounds].Callee == H.Callee)
      ++Rounds;
    if (Rounds > 1) {
      Check.diag(H.Site->getBeginLoc(), "'%0' calls '%1' here, %2 calls deep",
                 DiagnosticIDs::Note)
          << functionName(Caller) << functionName(H.Callee)
          << static_cast<unsigned>(Rounds);
      I += Rounds - 1;
      Caller = H.Callee;
      continue;
    }
    // A call through a function pointer says which one (`g_ops.notify(m)`
    // calls 'do_notify' through field 'notify').
    const Expr *Through = H.Site->getDirectCallee()
                              ? nullptr
                              : H.Site->getCallee()->IgnoreParenImpCasts();
    if (const auto *UO = dyn_cast_or_null<UnaryOperator>(Through);
        UO && UO->getOpcode() == UO_Deref)
      Through = UO->getSubExpr()->IgnoreParenImpCasts(); // `(*fp)(m)`
    const NamedDecl *Pointer = nullptr;
    if (const auto *ME = dyn_cast_or_null<MemberExpr>(Through))
      Pointer = ME->getMemberDecl();
    else if (const auto *DRE = dyn_cast_or_null<DeclRefExpr>(Through))
      Pointer = DRE->getDecl();
    if (Pointer && Pointer->getIdentifier()) {
      Check.diag(H.Site->getBeginLoc(),
                 "'%0' calls '%1' through %select{field|pointer}2 '%3' here",
                 DiagnosticIDs::Note)
          << functionName(Caller) << functionName(H.Callee)
          << !isa<FieldDecl>(Pointer) << Pointer->getName();
      const auto *F = dyn_cast<FieldDecl>(Pointer);
      if (const Expr *Set = F && Fields ? Fields->storeOf(F, H.Callee) : nullptr)
        Check.diag(Set->getBeginLoc(), "field '%0' is set to '%1' here",
                   DiagnosticIDs::Note)
            << F->getName() << functionName(H.Callee);
    } else
      Check.diag(H.Site->getBeginLoc(), "'%0' calls '%1' here",
                 DiagnosticIDs::Note)
          << functionName(Caller) << functionName(H.Callee);
    Caller = H.Callee;
  }
}

std::string spelledTarget(const Effect &E, const ASTContext &Ctx) {
  std::string Text;
  if (!E.Where)
    return Text;
  if (const auto *UO = dyn_cast<UnaryOperator>(E.Where))
    Text = sourceText(UO->getSubExpr(), Ctx);
  else if (const auto *BO = dyn_cast<BinaryOperator>(E.Where))
    Text = sourceText(BO->getLHS(), Ctx);
  else if (const auto *MC = dyn_cast<CXXMemberCallExpr>(E.Where))
    Text = sourceText(MC->getImplicitObjectArgument(), Ctx); // `n.fetch_add(1)`
  else if (const auto *CE = dyn_cast<CallExpr>(E.Where);
           CE && CE->getNumArgs() > 0)
    Text = sourceText(CE->getArg(0), Ctx);
  else if (const auto *AE = dyn_cast<AtomicExpr>(E.Where))
    Text = sourceText(AE->getPtr(), Ctx);
  if (E.Kind != EffectKind::Free && Text.size() > 1 && Text[0] == '&')
    Text = Text.substr(1); // `atomic_fetch_add(&c->n, 1)` increments `c->n`.
  return Text;
}

void emitEffectNote(ClangTidyCheck &Check, const FunctionDecl *Top,
                    const Effect &E, const ASTContext &Ctx,
                    const ContractModel &Model) {
  if (!E.Where)
    return;
  std::string Owner = functionName(effectOwner(Top, E));
  SourceLocation Loc = E.Where->getBeginLoc();
  std::string Text = spelledTarget(E, Ctx);
  // A library macro (`atomic_fetch_add`): point at its use, not its inside.
  if (Ctx.getSourceManager().isInSystemMacro(Loc))
    Loc = Ctx.getSourceManager().getExpansionLoc(Loc);
  switch (E.Kind) {
  case EffectKind::NonIdempotentCall:
  case EffectKind::UnknownCall:
  case EffectKind::MapOperation:
    if (E.Callee)
      Check.diag(Loc, "'%0' calls '%1' here", DiagnosticIDs::Note)
          << Owner << functionName(E.Callee);
    else
      Check.diag(Loc, "'%0' calls a function through a pointer here",
                 DiagnosticIDs::Note)
          << Owner;
    break;
  case EffectKind::ReadModifyWrite:
    Check.diag(Loc, "'%0' %select{increments|decrements|updates}1 '%2' here",
               DiagnosticIDs::Note)
        << Owner << (E.Op == '+' ? 0 : E.Op == '-' ? 1 : 2) << Text;
    break;
  case EffectKind::Free:
    Check.diag(Loc, "'%0' frees '%1' here", DiagnosticIDs::Note)
        << Owner << Text;
    break;
  case EffectKind::Write:
  case EffectKind::Escape:
  case EffectKind::Call:
    Check.diag(Loc, "'%0' %1 here", DiagnosticIDs::Note)
        << Owner << effectPhrase(E, effectOwner(Top, E));
    break;
  }
  if (E.Kind == EffectKind::NonIdempotentCall &&
      E.Reason == NonIdempotentReason::Annotated && E.Callee) {
    SourceLocation At = Model.contractLoc(E.Callee, ContractKind::NonIdempotent);
    // Without an annotation, the contract comes from option Contracts: the
    // note points at the declaration and says so.
    if (At.isValid())
      Check.diag(Ctx.getSourceManager().getExpansionLoc(At),
                 annotatedNonIdempotent(E.Callee)
                     ? "'%0' is declared TSMAP_NON_IDEMPOTENT here"
                     : "'%0' is declared here; option 'Contracts' declares "
                       "it non-idempotent",
                 DiagnosticIDs::Note)
          << functionName(E.Callee);
  }
}

void emitChainNotes(ClangTidyCheck &Check, const FunctionDecl *Top,
                    const Effect &E, const ASTContext &Ctx,
                    const ContractModel &Model, const FieldFunctions *Fields) {
  emitHopNotes(Check, Top, E.Chain, Fields);
  emitEffectNote(Check, Top, E, Ctx, Model);
}

} // namespace clang::tidy::tsmap
