//===--- AnnotationValidation.cpp - annotations that mean nothing --------===//
//
// Three kinds of problem, each found on the declaration that carries the
// annotation (inherited copies on redeclarations are skipped, so each written
// annotation is judged once):
//   1. the `tsmap::` name is unknown or malformed ("did you mean" when close);
//      a malformed annotation of a known kind (`cleanup(42)`) is that kind's
//      problem, an unknown name nobody's but OwnsUnknown's;
//   2. `cleanup(fn)` / `evicts_with(fn)` names no function of the TU (the
//      matchers run on the complete AST, so a function declared after the
//      annotation is found);
//   3. the annotation sits on a declaration where it means nothing.
//
//===----------------------------------------------------------------------===//

#include "AnnotationValidation.h"
#include "ContractModel.h"
#include "clang/AST/ASTContext.h"
#include "clang/AST/Attr.h"
#include "clang/AST/DeclTemplate.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "llvm/ADT/STLExtras.h"

namespace clang::tidy::tsmap {

using namespace ast_matchers;

namespace {

/// What a declaration is, for messages: "a parameter of type 'int'".
std::string describeDecl(const Decl *D) {
  auto Typed = [](llvm::StringRef What, QualType T) {
    return (What + " of type '" + T.getAsString() + "'").str();
  };
  if (const auto *P = dyn_cast<ParmVarDecl>(D))
    return Typed("a parameter", P->getType());
  if (const auto *FD = dyn_cast<FunctionDecl>(D))
    return "a function returning '" + FD->getReturnType().getAsString() + "'";
  if (const auto *F = dyn_cast<FieldDecl>(D))
    return Typed("a field", F->getType());
  if (const auto *V = dyn_cast<VarDecl>(D))
    return Typed("a variable", V->getType());
  if (const auto *T = dyn_cast<TypedefNameDecl>(D))
    return Typed("a typedef", T->getUnderlyingType());
  if (isa<RecordDecl>(D))
    return "a struct";
  if (const auto *ND = dyn_cast<NamedDecl>(D))
    return ("a declaration of kind '" + llvm::StringRef(ND->getDeclKindName()) +
            "'")
        .str();
  return "this declaration";
}

/// The type a value declaration holds; for a typedef its underlying type.
QualType declType(const Decl *D) {
  if (const auto *VD = dyn_cast<ValueDecl>(D))
    return VD->getType();
  if (const auto *TD = dyn_cast<TypedefNameDecl>(D))
    return TD->getUnderlyingType();
  return QualType();
}

/// A C++ class that may be called: one with an `operator()` (its own or a
/// base's) or a conversion (to a function pointer), or one not defined here.
/// A C struct never is.
bool isCallableClass(const RecordDecl *R) {
  const auto *RD = dyn_cast_or_null<CXXRecordDecl>(R);
  if (!RD)
    return false;
  if (!RD->hasDefinition())
    return true;
  RD = RD->getDefinition();
  if (RD->isLambda() || RD->isDependentContext())
    return true;
  DeclarationName Call =
      RD->getASTContext().DeclarationNames.getCXXOperatorName(OO_Call);
  auto Calls = [&](const CXXRecordDecl *C) {
    return !C->lookup(Call).empty() || C->conversion_begin() != C->conversion_end();
  };
  if (Calls(RD))
    return true;
  bool Found = false;
  RD->forallBases([&](const CXXRecordDecl *Base) {
    Found |= Calls(Base);
    return true;
  });
  return Found;
}

/// A callable parameter type: a function or block pointer, or (C++) a class
/// or template parameter that may be a callable object.
bool isCallableType(QualType T) {
  if (T.isNull())
    return false;
  T = T.getCanonicalType();
  return T->isFunctionPointerType() || T->isBlockPointerType() ||
         T->isFunctionType() || T->isDependentType() ||
         (T->isRecordType() && isCallableClass(T->getAsRecordDecl())) ||
         T->isMemberFunctionPointerType() ||
         (T->isReferenceType() && isCallableType(T.getNonReferenceType()));
}

bool isPointerLike(QualType T) {
  return !T.isNull() && (T->isAnyPointerType() || T->isDependentType());
}

/// Where contract \p K means something, as a phrase for the message, and
/// whether \p D is such a place.
std::pair<bool, const char *> placement(ContractKind K, const Decl *D) {
  bool IsParam = isa<ParmVarDecl>(D);
  bool IsFunction = isa<FunctionDecl>(D);
  bool IsType = isa<RecordDecl, TypedefNameDecl>(D);
  QualType T = declType(D);
  switch (K) {
  case ContractKind::ThreadSafeMap:
    return {IsType, "goes on the struct or typedef of a map handle"};
  case ContractKind::MapOperation:
  case ContractKind::Replaces:
  case ContractKind::Idempotent:
  case ContractKind::NonIdempotent:
  case ContractKind::CallbackFn:
    return {IsFunction, "goes on a function"};
  case ContractKind::ReturnsRemoved: {
    const auto *FD = dyn_cast<FunctionDecl>(D);
    return {FD && !FD->getReturnType()->isVoidType(),
            "goes on a function that returns the removed value"};
  }
  case ContractKind::Callback:
  case ContractKind::CallbackLocked:
    return {IsParam && isCallableType(T), "goes on a function-pointer parameter"};
  case ContractKind::Out:
    return {IsParam && isPointerLike(T),
            "goes on a pointer parameter of a callback"};
  case ContractKind::Publishes:
    return {IsParam && isPointerLike(T), "goes on a pointer value parameter"};
  case ContractKind::RemovedOut:
    return {IsParam && isPointerLike(T), "goes on a pointer out-parameter"};
  case ContractKind::Immutable:
    return {IsType, "goes on a struct or typedef"};
  case ContractKind::Weak:
    return {isa<FieldDecl, VarDecl, TypedefNameDecl>(D) && isPointerLike(T),
            "goes on a pointer field, typedef or variable"};
  case ContractKind::Cleanup:
    return {isa<FieldDecl, RecordDecl, TypedefNameDecl>(D),
            "goes on a field or a struct"};
  case ContractKind::EvictsWith:
    return {isa<FieldDecl, VarDecl>(D) && !IsParam,
            "goes on a map variable or field"};
  }
  return {true, ""};
}

/// The known name closest to \p Name within a small edit distance, or "".
template <typename Range>
std::string closestName(llvm::StringRef Name, const Range &Candidates) {
  unsigned Best = std::max<unsigned>(2, Name.size() / 3) + 1;
  std::string Found;
  for (llvm::StringRef C : Candidates) {
    unsigned D = Name.edit_distance(C, /*AllowReplacements=*/true, Best);
    if (D < Best) {
      Best = D;
      Found = C.str();
    }
  }
  return Found;
}

std::vector<llvm::StringRef> contractNames() {
  std::vector<llvm::StringRef> Names;
  for (unsigned I = 0; I < NumContractKinds; ++I)
    Names.push_back(contractName(static_cast<ContractKind>(I)));
  return Names;
}

/// The contract kind called \p Name (`cleanup`), if any: a malformed
/// annotation of a known kind (`cleanup(42)`) belongs to the check that would
/// have used the contract, so that check alone still reports it.
std::optional<ContractKind> kindNamed(llvm::StringRef Name) {
  for (unsigned I = 0; I < NumContractKinds; ++I)
    if (contractName(static_cast<ContractKind>(I)) == Name)
      return static_cast<ContractKind>(I);
  return std::nullopt;
}

/// The names of the functions declared at file scope of the TU.
std::vector<llvm::StringRef> functionNames(ASTContext &Ctx) {
  std::vector<llvm::StringRef> Names;
  for (const Decl *D : Ctx.getTranslationUnitDecl()->decls())
    if (const auto *FD = dyn_cast<FunctionDecl>(D))
      if (FD->getDeclName().isIdentifier())
        Names.push_back(FD->getName());
  return Names;
}

/// The problem with the function \p Name that `cleanup(fn)`/`evicts_with(fn)`
/// names, or "" when it names a function (or a function pointer variable).
std::string functionArgProblem(ContractKind K, llvm::StringRef Name,
                               ASTContext &Ctx) {
  if (Name.contains(':'))
    return ""; // FIXME: qualified C++ names are not looked up.
  if (ContractModel::lookupFunction(Ctx, Name))
    return "";
  std::string Macro = macroName(K).str();
  for (const NamedDecl *ND :
       Ctx.getTranslationUnitDecl()->lookup(&Ctx.Idents.get(Name))) {
    if (const auto *VD = dyn_cast<VarDecl>(ND);
        VD && VD->getType()->isFunctionPointerType())
      return "";
    return Macro + "(" + Name.str() + ") names '" + Name.str() +
           "', which is not a function";
  }
  std::string Msg = Macro + "(" + Name.str() + ") names no function declared "
                    "in this translation unit, so the contract cannot be "
                    "checked";
  std::string Close = closestName(Name, functionNames(Ctx));
  if (!Close.empty())
    Msg += "; did you mean '" + Close + "'?";
  return Msg;
}

/// \p D is part of a template instantiation (a member, or a parameter of a
/// function, of an instantiated class or function template).
static bool isInInstantiation(const Decl *D) {
  for (const DeclContext *DC = isa<DeclContext>(D) ? cast<DeclContext>(D)
                                                   : D->getDeclContext();
       DC; DC = DC->getParent()) {
    if (const auto *FD = dyn_cast<FunctionDecl>(DC);
        FD && FD->isTemplateInstantiation())
      return true;
    if (const auto *CS = dyn_cast<ClassTemplateSpecializationDecl>(DC);
        CS && CS->getSpecializationKind() != TSK_ExplicitSpecialization)
      return true;
  }
  if (const auto *P = dyn_cast<ParmVarDecl>(D))
    if (const auto *FD =
            dyn_cast_or_null<FunctionDecl>(P->getParentFunctionOrMethod()))
      return isInInstantiation(FD);
  return false;
}

} // namespace

std::vector<AnnotationProblem> validateAnnotations(const Decl *D,
                                                   ASTContext &Ctx) {
  std::vector<AnnotationProblem> Problems;
  // An instantiation repeats its template's annotations with the template
  // arguments substituted (`TSMAP_PUBLISHES V value` with V a struct); the
  // template itself is what the user wrote, and is checked once.
  if (!D || !D->hasAttrs() || isInInstantiation(D))
    return Problems;
  // A member of an anonymous struct or union: Clang repeats its attributes on
  // the implicit name in the enclosing record; the field itself is checked.
  if (isa<IndirectFieldDecl>(D))
    return Problems;
  const SourceManager &SM = Ctx.getSourceManager();
  for (const auto *A : D->specific_attrs<AnnotateAttr>()) {
    llvm::StringRef Text = A->getAnnotation();
    if (A->isInherited() || !Text.consume_front(AnnotationPrefix))
      continue;
    SourceLocation Loc = SM.getExpansionLoc(A->getLocation());
    std::string Error;
    std::optional<Contract> C = parseContract(Text, Error);
    if (!C) {
      llvm::StringRef Name =
          Text.take_until([](char Ch) { return Ch == '('; }).trim();
      std::string Close = closestName(Name, contractNames());
      std::string Msg;
      if (Error.rfind("unknown", 0) == 0) {
        Msg = "unknown tsmap annotation 'tsmap::" + Text.str() +
              "' is ignored";
        if (!Close.empty())
          Msg += "; did you mean 'tsmap::" + Close + "' (" +
                 macroName(parseContract(Close, Error)->Kind).str() + ")?";
      } else {
        Msg = "malformed tsmap annotation 'tsmap::" + Text.str() + "': " + Error;
      }
      Problems.push_back({Loc, Msg, kindNamed(Name)});
      continue;
    }
    auto [Fits, Where] = placement(C->Kind, D);
    if (!Fits) {
      Problems.push_back({Loc,
                          (macroName(C->Kind) + " " + Where + "; on " +
                           describeDecl(D) + " it means nothing")
                              .str(),
                          C->Kind});
      continue;
    }
    if (takesFunctionArg(C->Kind)) {
      std::string Msg = functionArgProblem(C->Kind, C->Arg, Ctx);
      if (!Msg.empty())
        Problems.push_back({Loc, Msg, C->Kind});
    }
  }
  return Problems;
}

DeclarationMatcher annotatedDeclMatcher() {
  return decl(hasAttr(attr::Annotate)).bind(AnnotatedDeclId);
}

void reportAnnotationProblems(ClangTidyCheck &Check, const Decl *D,
                              ASTContext &Ctx,
                              llvm::ArrayRef<ContractKind> Owned,
                              bool OwnsUnknown) {
  for (const AnnotationProblem &P : validateAnnotations(D, Ctx)) {
    bool Mine = P.Kind ? llvm::is_contained(Owned, *P.Kind) : OwnsUnknown;
    if (Mine && P.Loc.isValid())
      Check.diag(P.Loc, "%0") << P.Message;
  }
}

} // namespace clang::tidy::tsmap
