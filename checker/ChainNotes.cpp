//===--- ChainNotes.cpp - notes that walk from a callback to an effect ---===//

#include "ChainNotes.h"
#include "clang/AST/ExprCXX.h"
#include "clang/AST/ASTContext.h"
#include "clang/AST/DeclCXX.h"
#include "clang/Lex/Lexer.h"

namespace clang::tidy::tsmap {

std::string functionName(const FunctionDecl *FD) {
  if (!FD)
    return "?";
  if (const auto *MD = dyn_cast<CXXMethodDecl>(FD); MD && MD->getParent()->isLambda())
    return "lambda";
  return FD->getNameAsString();
}

const FunctionDecl *effectOwner(const FunctionDecl *Top, const Effect &E) {
  return E.Chain.empty() ? Top : E.Chain.back().Callee;
}

std::string sourceText(const Stmt *S, const ASTContext &Ctx, unsigned MaxLen) {
  if (!S)
    return "";
  const SourceManager &SM = Ctx.getSourceManager();
  CharSourceRange Range = Lexer::makeFileCharRange(
      CharSourceRange::getTokenRange(S->getSourceRange()), SM,
      Ctx.getLangOpts());
  if (Range.isInvalid()) {
    // Written inside a macro body (`CHECK(x)` expanding to `checks++`): the
    // text as the macro spells it.
    SourceLocation B = SM.getSpellingLoc(S->getBeginLoc());
    SourceLocation E = SM.getSpellingLoc(S->getEndLoc());
    if (SM.getFileID(B) == SM.getFileID(E) && !SM.isBeforeInTranslationUnit(E, B))
      Range = CharSourceRange::getTokenRange(B, E);
  }
  std::string Text =
      Range.isValid()
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

std::string nonIdempotentWhy(const FunctionDecl *Callee,
                             NonIdempotentReason R) {
  switch (R) {
  case NonIdempotentReason::Annotated:
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

std::string effectPhrase(const Effect &E, const FunctionDecl *Top) {
  std::string Callee = "'" + functionName(E.Callee) + "'";
  std::string Target = "'" + E.Target.describe(Top) + "'";
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
    if (S.K != ResolutionStep::Kind::Variable || !S.Var)
      continue;
    SourceLocation Loc =
        S.Site ? S.Site->getBeginLoc()
               : (S.Value ? S.Value->getBeginLoc() : S.Var->getLocation());
    Check.diag(Loc, "'%0' is set to '%1' here", DiagnosticIDs::Note)
        << S.Var->getName() << Name;
  }
}

void emitHopNotes(ClangTidyCheck &Check, const FunctionDecl *Top,
                  llvm::ArrayRef<Hop> Chain) {
  const FunctionDecl *Caller = Top;
  for (const Hop &H : Chain) {
    Check.diag(H.Site->getBeginLoc(), "'%0' calls '%1' here",
               DiagnosticIDs::Note)
        << functionName(Caller) << functionName(H.Callee);
    Caller = H.Callee;
  }
}

void emitEffectNote(ClangTidyCheck &Check, const FunctionDecl *Top,
                    const Effect &E, const ASTContext &Ctx,
                    const ContractModel &Model) {
  if (!E.Where)
    return;
  std::string Owner = functionName(effectOwner(Top, E));
  SourceLocation Loc = E.Where->getBeginLoc();
  std::string Text;
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
    if (At.isValid())
      Check.diag(Ctx.getSourceManager().getExpansionLoc(At), "'%0' is declared TSMAP_NON_IDEMPOTENT here",
                 DiagnosticIDs::Note)
          << functionName(E.Callee);
  }
}

void emitChainNotes(ClangTidyCheck &Check, const FunctionDecl *Top,
                    const Effect &E, const ASTContext &Ctx,
                    const ContractModel &Model) {
  emitHopNotes(Check, Top, E.Chain);
  emitEffectNote(Check, Top, E, Ctx, Model);
}

} // namespace clang::tidy::tsmap
