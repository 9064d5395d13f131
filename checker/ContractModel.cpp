//===--- ContractModel.cpp - what the code promises about its maps -------===//

#include "ContractModel.h"
#include "CheckOptions.h"
#include "Models.h"
#include "clang/AST/ASTContext.h"
#include "clang/AST/Attr.h"
#include "clang/AST/TypeLoc.h"
#include "clang/AST/DeclTemplate.h"
#include "clang-tidy/ClangTidyDiagnosticConsumer.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Config/llvm-config.h"

namespace clang::tidy::tsmap {

/// The value of option \p Name under its global key (no check prefix), or "".
/// The key is recorded as read, as OptionsView records the keys it reads, so
/// that --verify-config knows it.
static std::string globalOption(ClangTidyContext *Context, llvm::StringRef Name) {
  if (llvm::StringSet<> *Collector = Context->getOptionsCollector())
    Collector->insert(Name);
  const ClangTidyOptions::OptionMap &Map = Context->getOptions().CheckOptions;
  auto It = Map.find(Name);
  return It == Map.end() ? "" : It->getValue().Value;
}

/// The entries of \p Global and then of \p Local as one list.
/// The global entries, then the check's own, each once (an entry given in
/// both is read once, so it is written once).
static std::string joinEntries(llvm::StringRef Global, llvm::StringRef Local) {
  std::string Out;
  llvm::StringSet<> Seen;
  for (llvm::StringRef List : {Global, Local}) {
    llvm::SmallVector<llvm::StringRef> Entries;
    List.split(Entries, ';', -1, false);
    for (llvm::StringRef E : Entries) {
      if (E.trim().empty() || !Seen.insert(E.trim()).second)
        continue;
      Out += (Out.empty() ? "" : ";") + E.trim().str();
    }
  }
  return Out;
}

ContractModel::ContractModel(ClangTidyCheck &Check,
                             ClangTidyCheck::OptionsView &Options,
                             ClangTidyContext *Context)
    : Check(Check), GlobalContracts(globalOption(Context, "Contracts")),
      LocalContracts(Options.get("Contracts", "")),
      ModelsOption(Options.getLocalOrGlobal("ContractModels",
                                            DefaultContractModels)) {
  // Errors name the key the value came from: the check's own, or the global.
  std::string ModelsKey = Options.get("ContractModels")
                              ? fullOptionName(Check, "ContractModels")
                              : "ContractModels";
  llvm::SmallVector<llvm::StringRef> Models;
  llvm::StringRef(ModelsOption).split(Models, ';', -1, false);
  for (llvm::StringRef M : Models)
    addModel(M.trim(), ModelsKey);
  // Contracts are facts about the code, whichever check reads them: a check's
  // own entries add to the global ones (docs/contracts-option.md). Models are
  // a choice, so a check's own ContractModels replaces the global one.
  parseEntries(GlobalContracts, "Contracts");
  parseEntries(LocalContracts, fullOptionName(Check, "Contracts"));
}

void ContractModel::storeOptions(ClangTidyCheck::OptionsView &Options,
                                 ClangTidyOptions::OptionMap &Opts) const {
  // Every entry the check reads, under its own key: a dumped configuration
  // holds only the checks' keys (no global one), and reading it back gives
  // the same entries (one given twice is read once).
  Options.store(Opts, "Contracts",
                joinEntries(GlobalContracts, LocalContracts));
  Options.store(Opts, "ContractModels", ModelsOption);
}

void ContractModel::addModel(llvm::StringRef Name, llvm::StringRef OptionName) {
  if (Name.empty())
    return;
  std::optional<llvm::StringRef> Entries = shippedModel(Name);
  if (!Entries) {
    Check.configurationDiag("unknown model '%0' in option '%1'; known models: %2")
        << Name << OptionName << knownModelNames();
    return;
  }
  parseEntries(*Entries, OptionName);
}

/// \p S is an identifier; with \p AllowScope, a qualified C++ name too.
static bool isEntryName(llvm::StringRef S, bool AllowScope) {
  if (S.empty() || llvm::isDigit(S.front()))
    return false;
  return llvm::all_of(S, [&](char C) {
    return llvm::isAlnum(C) || C == '_' || (AllowScope && C == ':');
  });
}

/// "; did you mean 'callback'?" when the unknown contract name in \p Part is
/// close to a known one, else "".
static std::string closestContract(llvm::StringRef Part) {
  llvm::StringRef Name = Part.take_until([](char C) { return C == '('; }).trim();
  unsigned Best = std::max<unsigned>(2, Name.size() / 3) + 1;
  llvm::StringRef Found;
  for (unsigned I = 0; I < NumContractKinds; ++I) {
    llvm::StringRef Known = contractName(static_cast<ContractKind>(I));
    if (Known == Name)
      return "";
    unsigned D = Name.edit_distance(Known, true, Best);
    if (D < Best) {
      Best = D;
      Found = Known;
    }
  }
  return Found.empty() ? "" : "; did you mean '" + Found.str() + "'?";
}

// Entry grammar (documented in docs/contracts-option.md):
//   entry   := subject '=' contract (',' contract)*
//   subject := name | name '(' param ')' | record '.' field
void ContractModel::parseEntries(llvm::StringRef List,
                                 llvm::StringRef OptionName) {
  llvm::SmallVector<llvm::StringRef> Entries;
  List.split(Entries, ';', -1, false);
  for (llvm::StringRef Entry : Entries) {
    Entry = Entry.trim();
    if (Entry.empty() || !SeenEntries.insert(Entry).second)
      continue;
    auto Fail = [&](const std::string &Why) {
      Check.configurationDiag("invalid entry '%0' in option '%1': %2")
          << Entry << OptionName << Why;
    };
    auto [Subject, ContractList] = Entry.split('=');
    Subject = Subject.trim();
    if (ContractList.trim().empty()) {
      Fail("expected 'name=contract'");
      continue;
    }
    std::string Param, Field;
    llvm::StringRef Name = Subject;
    if (Subject.ends_with(")")) {
      auto [N, P] = Subject.drop_back().split('(');
      Name = N.trim();
      Param = P.trim().str();
      if (Param.empty()) {
        Fail("empty parameter in '" + Subject.str() + "'");
        continue;
      }
    } else if (Subject.contains('.')) {
      auto [R, F] = Subject.split('.');
      Name = R.trim();
      Field = F.trim().str();
      if (Field.empty()) {
        Fail("empty field in '" + Subject.str() + "'");
        continue;
      }
    }
    if (!Name.consume_front("struct "))
      Name.consume_front("union ");
    Name = Name.trim();
    if (Name.empty()) {
      Fail("missing name before '='");
      continue;
    }
    if (!isEntryName(Name, /*AllowScope=*/true) ||
        (!Field.empty() && !isEntryName(Field, false))) {
      Fail("'" + Subject.str() + "' is not a name, 'function(param)' or "
           "'record.field'");
      continue;
    }
    if (!Param.empty() && !isEntryName(Param, false)) {
      unsigned Index = 0;
      if (llvm::StringRef(Param).getAsInteger(10, Index) || Index == 0) {
        Fail("parameter '" + Param + "' is neither a name nor a 1-based index");
        continue;
      }
    }
    llvm::SmallVector<llvm::StringRef> Parts;
    ContractList.split(Parts, ',', -1, false);
    for (llvm::StringRef Part : Parts) {
      std::string Error;
      std::optional<Contract> C = parseContract(Part, Error);
      if (!C) {
        Fail(Error + closestContract(Part));
        continue;
      }
      bool IsParamKind = C->Kind == ContractKind::Callback ||
                         C->Kind == ContractKind::CallbackLocked ||
                         C->Kind == ContractKind::Out ||
                         C->Kind == ContractKind::Publishes ||
                         C->Kind == ContractKind::RemovedOut;
      if (IsParamKind != !Param.empty()) {
        Fail(IsParamKind ? "'" + contractName(C->Kind).str() +
                               "' goes on a parameter: write 'function(param)=" +
                               contractName(C->Kind).str() + "'"
                         : "'" + contractName(C->Kind).str() +
                               "' does not go on a parameter");
        continue;
      }
      if (!Field.empty()) {
        if (C->Kind != ContractKind::Cleanup && C->Kind != ContractKind::Weak &&
            C->Kind != ContractKind::EvictsWith) {
          Fail("only 'cleanup(fn)', 'weak' and 'evicts_with(fn)' go on a field");
          continue;
        }
        ByField[(Name + "." + Field).str()].push_back(*C);
        if (OptionName.ends_with("Contracts"))
          Subjects.push_back({Name.str(), Field, *C, Entry.str(), OptionName.str()});
      } else if (!Param.empty()) {
        ParamEntry E{Param, *C, Entry.str(), OptionName.ends_with("Contracts"),
                     OptionName.str()};
        ByParam[Name].push_back(std::move(E));
      } else {
        // `f=idempotent,non_idempotent`, or the two in two entries: which one
        // the user meant cannot be guessed.
        auto Opposite = C->Kind == ContractKind::Idempotent      ? ContractKind::NonIdempotent
                        : C->Kind == ContractKind::NonIdempotent ? ContractKind::Idempotent
                                                                 : C->Kind;
        if (Opposite != C->Kind &&
            llvm::any_of(ByName[Name], [&](const Contract &Had) { return Had.Kind == Opposite; })) {
          Fail("'" + Name.str() + "' is given both 'idempotent' and 'non_idempotent'; "
               "keep the one that holds");
          continue;
        }
        ByName[Name].push_back(*C);
        if (OptionName.ends_with("Contracts"))
          Subjects.push_back({Name.str(), "", *C, Entry.str(), OptionName.str()});
      }
    }
  }
}

std::vector<std::pair<Contract, SourceLocation>> ContractModel::annotationsOn(
    const Decl *D, std::vector<std::pair<std::string, SourceLocation>> *Errors) {
  std::vector<std::pair<Contract, SourceLocation>> Result;
  if (!D || !D->hasAttrs())
    return Result;
  for (const auto *A : D->specific_attrs<AnnotateAttr>()) {
    llvm::StringRef Text = A->getAnnotation();
    if (!Text.consume_front(AnnotationPrefix))
      continue;
    std::string Error;
    if (std::optional<Contract> C = parseContract(Text, Error))
      Result.push_back({*C, A->getLocation()});
    else if (Errors)
      Errors->push_back({Error, A->getLocation()});
  }
  return Result;
}

const std::vector<Contract> &
ContractModel::cachedAnnotations(const Decl *D) const {
  auto [It, Inserted] = Cache.try_emplace(D);
  if (Inserted)
    for (auto &[C, Loc] : annotationsOn(D))
      It->second.push_back(C);
  return It->second;
}

const Contract *ContractModel::annotated(const Decl *D, ContractKind K) const {
  for (const Decl *R : D->redecls())
    for (const Contract &C : cachedAnnotations(R))
      if (C.Kind == K)
        return &C;
  return nullptr;
}

std::vector<std::string> ContractModel::contractNames() const {
  std::vector<std::string> Names;
  auto Add = [&](llvm::StringRef Key) {
    size_t Scope = Key.rfind("::");
    Names.push_back(
        (Scope == llvm::StringRef::npos ? Key : Key.substr(Scope + 2)).str());
  };
  for (const auto &E : ByName)
    Add(E.getKey());
  for (const auto &E : ByParam)
    Add(E.getKey());
  for (const auto &E : ByField)
    Add(E.getKey().split('.').first);
  return Names;
}

static bool hasKind(const std::vector<Contract> &Cs, ContractKind K) {
  return llvm::any_of(Cs, [K](const Contract &C) { return C.Kind == K; });
}

/// Whether \p D has a qualified name other than its plain one. Building it
/// costs more than the lookups: every call in a translation unit asks.
static bool isScoped(const NamedDecl *D) {
  return !D->getDeclContext()->getRedeclContext()->isTranslationUnit();
}

bool ContractModel::optionHasByName(const NamedDecl *D, ContractKind K) const {
  if (ByName.empty() || !D->getDeclName().isIdentifier())
    return false;
  auto It = ByName.find(D->getName());
  if (It != ByName.end() && hasKind(It->second, K))
    return true;
  if (!isScoped(D))
    return false;
  It = ByName.find(D->getQualifiedNameAsString());
  return It != ByName.end() && hasKind(It->second, K);
}

bool ContractModel::functionHas(const FunctionDecl *FD, ContractKind K) const {
  if (!FD)
    return false;
  return annotated(FD, K) || optionHasByName(FD, K);
}

bool ContractModel::paramHas(const FunctionDecl *FD, unsigned Index,
                             ContractKind K) const {
  if (!FD)
    return false;
  for (const FunctionDecl *R : FD->redecls())
    if (Index < R->getNumParams() && annotated(R->getParamDecl(Index), K))
      return true;
  if (ByParam.empty() || !FD->getDeclName().isIdentifier())
    return false;
  auto It = ByParam.find(FD->getName());
  if (It == ByParam.end() && isScoped(FD))
    It = ByParam.find(FD->getQualifiedNameAsString());
  if (It == ByParam.end() || Index >= FD->getNumParams())
    return false;
  const ParmVarDecl *P = FD->getParamDecl(Index);
  for (const ParamEntry &E : It->second) {
    if (E.C.Kind != K)
      continue;
    unsigned N = 0;
    if (!llvm::StringRef(E.Param).getAsInteger(10, N) ? N == Index + 1
                                                      : P->getName() == E.Param)
      return true;
  }
  return false;
}

bool ContractModel::declHas(const Decl *D, ContractKind K) const {
  if (!D)
    return false;
  if (annotated(D, K))
    return true;
  if (const auto *FD = dyn_cast<FieldDecl>(D))
    return hasKind(fieldContracts(FD), K);
  const auto *ND = dyn_cast<NamedDecl>(D);
  return ND && optionHasByName(ND, K);
}

bool ContractModel::typeHas(QualType T, ContractKind K) const {
  while (!T.isNull()) {
    if (const auto *TT = T->getAs<TypedefType>()) {
      if (declHas(TT->getDecl(), K))
        return true;
      T = TT->getDecl()->getUnderlyingType();
      continue;
    }
    if (const auto *RD = T->getAsRecordDecl())
      return declHas(RD, K);
    return false;
  }
  return false;
}

SourceLocation ContractModel::contractLoc(const Decl *D, ContractKind K) const {
  for (const Decl *R : D->redecls())
    for (auto &[C, Loc] : annotationsOn(R))
      if (C.Kind == K)
        return Loc;
  return D->getLocation();
}

bool ContractModel::isMapPointer(QualType T) const {
  if (T.isNull() || !T->isPointerType())
    return false;
  // A handle declared as a pointer typedef (`typedef struct kv_s *kv_t`),
  // the typedef annotated: the typedef itself is the map pointer.
  for (QualType Cur = T; const auto *TT = Cur->getAs<TypedefType>();
       Cur = TT->getDecl()->getUnderlyingType())
    if (declHas(TT->getDecl(), ContractKind::ThreadSafeMap))
      return true;
  // `kv_t *` (a create's out-parameter) points to a handle; it is not one.
  QualType Pointee = T->getPointeeType();
  return !Pointee->isPointerType() && typeHas(Pointee, ContractKind::ThreadSafeMap);
}

bool ContractModel::isMapOperation(const FunctionDecl *FD,
                                   std::optional<unsigned> *MapParam) const {
  if (!FD)
    return false;
  for (unsigned I = 0, N = FD->getNumParams(); I < N; ++I) {
    if (isMapPointer(FD->getParamDecl(I)->getType())) {
      if (MapParam)
        *MapParam = I;
      return true;
    }
  }
  return functionHas(FD, ContractKind::MapOperation);
}

std::vector<CleanupContract> ContractModel::cleanupsOf(QualType T) const {
  std::vector<CleanupContract> Result;
  if (T.isNull())
    return Result;
  if (T->isPointerType())
    T = T->getPointeeType();
  // Record-level contracts, from typedefs and from the record.
  for (QualType Cur = T; !Cur.isNull();) {
    const Decl *D = nullptr;
    if (const auto *TT = Cur->getAs<TypedefType>()) {
      D = TT->getDecl();
      Cur = TT->getDecl()->getUnderlyingType();
    } else {
      D = Cur->getAsRecordDecl();
      Cur = QualType();
    }
    if (!D)
      break;
    for (const Decl *R : D->redecls())
      for (auto &[C, Loc] : annotationsOn(R))
        if (C.Kind == ContractKind::Cleanup)
          Result.push_back({nullptr, C.Arg, Loc});
    if (const auto *ND = dyn_cast<NamedDecl>(D); ND && !ByName.empty()) {
      auto It = ByName.find(ND->getName());
      if (It != ByName.end())
        for (const Contract &C : It->second)
          if (C.Kind == ContractKind::Cleanup)
            Result.push_back({nullptr, C.Arg, ND->getLocation()});
    }
  }
  llvm::SmallVector<const FieldDecl *, 2> Via;
  fieldCleanups(T->getAsRecordDecl(), Via, 3, Result);
  return Result;
}

void ContractModel::fieldCleanups(const RecordDecl *RD,
                                  llvm::SmallVectorImpl<const FieldDecl *> &Via,
                                  unsigned Depth,
                                  std::vector<CleanupContract> &Out) const {
  if (!RD || !(RD = RD->getDefinition()))
    return;
  llvm::SmallVector<const FieldDecl *, 1> Path(Via.begin(), Via.end());
  for (const FieldDecl *F : RD->fields()) {
    for (auto &[C, Loc] : annotationsOn(F))
      if (C.Kind == ContractKind::Cleanup)
        Out.push_back({F, C.Arg, Loc, Path});
    for (const Contract &C : fieldContracts(F))
      if (C.Kind == ContractKind::Cleanup)
        Out.push_back({F, C.Arg, F->getLocation(), Path});
    // A struct held by value leaves the map with the value: its fields'
    // cleanups are the value's.
    const RecordDecl *Inner = F->getType()->getAsRecordDecl();
    if (Depth > 0 && Inner && Inner != RD) {
      Via.push_back(F);
      fieldCleanups(Inner, Via, Depth - 1, Out);
      Via.pop_back();
    }
  }
}

std::string CleanupContract::fieldPath() const {
  std::string Path;
  for (const FieldDecl *F : Via)
    if (!F->isAnonymousStructOrUnion()) // `union { ... t; }`: reached as `.t`
      Path += F->getName().str() + ".";
  return Field ? Path + Field->getName().str() : Path;
}

std::optional<std::string>
ContractModel::evictionHookOf(const ValueDecl *D) const {
  if (!D)
    return std::nullopt;
  if (const Contract *C = annotated(D, ContractKind::EvictsWith))
    return C->Arg;
  if (!ByName.empty() && D->getDeclName().isIdentifier()) {
    auto It = ByName.find(D->getName());
    if (It != ByName.end())
      for (const Contract &C : It->second)
        if (C.Kind == ContractKind::EvictsWith)
          return C.Arg;
  }
  if (const auto *FD = dyn_cast<FieldDecl>(D))
    for (const Contract &C : fieldContracts(FD))
      if (C.Kind == ContractKind::EvictsWith)
        return C.Arg;
  return std::nullopt;
}

/// Strips typedefs, parentheses and one pointer from \p TL down to the
/// prototype of a function type, if it is written in the source.
static FunctionProtoTypeLoc prototypeOf(TypeLoc TL) {
  for (int Guard = 0; Guard < 16 && !TL.isNull(); ++Guard) {
    if (auto FTL = TL.getAs<FunctionProtoTypeLoc>())
      return FTL;
    if (auto PTL = TL.getAs<PointerTypeLoc>()) {
      TL = PTL.getPointeeLoc();
    } else if (auto Paren = TL.getAs<ParenTypeLoc>()) {
      TL = Paren.getInnerLoc();
    } else if (auto TDL = TL.getAs<TypedefTypeLoc>()) {
      const TypeSourceInfo *TSI = TDL.getTypePtr()->getDecl()->getTypeSourceInfo();
      if (!TSI)
        break;
      TL = TSI->getTypeLoc();
    } else if (auto ATL = TL.getAs<AttributedTypeLoc>()) {
      TL = ATL.getModifiedLoc();
    } else if (auto QTL = TL.getAs<QualifiedTypeLoc>()) {
      TL = QTL.getUnqualifiedLoc();
#if LLVM_VERSION_MAJOR < 22 // LLVM 22 folded ElaboratedType into the named types.
    } else if (auto ETL = TL.getAs<ElaboratedTypeLoc>()) {
      TL = ETL.getNamedTypeLoc();
#endif
    } else {
      break;
    }
  }
  return FunctionProtoTypeLoc();
}

llvm::ArrayRef<ParmVarDecl *>
ContractModel::callbackTypeParams(const DeclaratorDecl *CallbackDecl) {
  if (!CallbackDecl || !CallbackDecl->getTypeSourceInfo())
    return {};
  FunctionProtoTypeLoc FTL =
      prototypeOf(CallbackDecl->getTypeSourceInfo()->getTypeLoc());
  if (FTL.isNull())
    return {};
  return FTL.getParams();
}

//===----------------------------------------------------------------------===//
// Records named in entries: tag, qualified name or typedef
//===----------------------------------------------------------------------===//

/// Whether \p Name, a record as an entry `record.field` writes it, names
/// \p RD: by its tag, its qualified name, or a typedef of it declared in the
/// record's scope (`typedef struct { ... } Watch;`, `typedef struct w Watch;`).
static bool namesRecord(const RecordDecl *RD, llvm::StringRef Name) {
  if (RD->getIdentifier() &&
      (RD->getName() == Name ||
       (isScoped(RD) && RD->getQualifiedNameAsString() == Name)))
    return true;
  size_t Scope = Name.rfind("::");
  llvm::StringRef Last =
      Scope == llvm::StringRef::npos ? Name : Name.substr(Scope + 2);
  const ASTContext &Ctx = RD->getASTContext();
  auto Id = Ctx.Idents.find(Last);
  if (Id == Ctx.Idents.end())
    return false;
  const DeclContext *DC = RD->getDeclContext()->getRedeclContext();
  for (const NamedDecl *ND : DC->lookup(Id->getValue())) {
    const auto *TD = dyn_cast<TypedefNameDecl>(ND);
    const RecordDecl *Named =
        TD ? TD->getUnderlyingType()->getAsRecordDecl() : nullptr;
    if (Named && Named->getCanonicalDecl() == RD->getCanonicalDecl() &&
        (Last == Name || TD->getQualifiedNameAsString() == Name))
      return true;
  }
  return false;
}

std::vector<Contract> ContractModel::fieldContracts(const FieldDecl *F) const {
  std::vector<Contract> Result;
  if (ByField.empty() || !F->getDeclName().isIdentifier())
    return Result;
  for (const auto &E : ByField) {
    auto [Record, Field] = E.getKey().split('.');
    if (Field == F->getName() && namesRecord(F->getParent(), Record))
      Result.insert(Result.end(), E.getValue().begin(), E.getValue().end());
  }
  return Result;
}

//===----------------------------------------------------------------------===//
// Entries checked against a translation unit
//===----------------------------------------------------------------------===//

namespace {
/// The kinds of subject the table of docs/contracts-option.md names.
enum class SubjectKind { Function, Type, Variable, Other };
} // namespace

static SubjectKind subjectKindOf(const NamedDecl *D) {
  if (isa<FunctionDecl, FunctionTemplateDecl>(D))
    return SubjectKind::Function;
  if (isa<TypeDecl, ClassTemplateDecl, TypeAliasTemplateDecl>(D))
    return SubjectKind::Type;
  if (isa<VarDecl, VarTemplateDecl>(D))
    return SubjectKind::Variable;
  return SubjectKind::Other;
}

static llvm::StringRef subjectKindName(SubjectKind S) {
  switch (S) {
  case SubjectKind::Function:
    return "a function";
  case SubjectKind::Type:
    return "a type";
  case SubjectKind::Variable:
    return "a variable";
  case SubjectKind::Other:
    break;
  }
  return "something else";
}

/// Whether a name entry `name=K` can apply to a declaration of kind \p S, and
/// what K goes on in words (\p On), as the table of the doc gives it.
static bool goesOn(ContractKind K, SubjectKind S, llvm::StringRef &On) {
  switch (K) {
  case ContractKind::ThreadSafeMap:
  case ContractKind::Immutable:
    On = "a type";
    return S == SubjectKind::Type;
  case ContractKind::Weak:
    On = "a type, a variable or a field";
    return S == SubjectKind::Type || S == SubjectKind::Variable;
  case ContractKind::Cleanup:
    On = "a type or a field";
    return S == SubjectKind::Type;
  case ContractKind::EvictsWith:
    On = "a variable or a field";
    return S == SubjectKind::Variable;
  default: // The function contracts; parameter ones are refused when parsed.
    On = "a function";
    return S == SubjectKind::Function;
  }
}

/// The declarations named \p Name at file scope of the unit of \p Ctx; none
/// for a qualified C++ name, which is not looked up.
static llvm::SmallVector<const NamedDecl *, 4>
fileScopeDecls(ASTContext &Ctx, llvm::StringRef Name) {
  llvm::SmallVector<const NamedDecl *, 4> Result;
  if (Name.empty() || Name.contains(':'))
    return Result;
  for (const NamedDecl *ND :
       Ctx.getTranslationUnitDecl()->lookup(&Ctx.Idents.get(Name)))
    Result.push_back(ND->getUnderlyingDecl());
  return Result;
}

/// The kind of \p Found when all of it is of one kind the table names (a
/// function and its redeclarations, say); Other when mixed or unknown.
static SubjectKind soleKindOf(llvm::ArrayRef<const NamedDecl *> Found) {
  SubjectKind Kind = subjectKindOf(Found.front());
  for (const NamedDecl *ND : Found)
    if (subjectKindOf(ND) != Kind)
      return SubjectKind::Other;
  return Kind;
}

void ContractModel::reportEntry(llvm::StringRef Entry, llvm::StringRef Option,
                                const std::string &Why) const {
  Check.configurationDiag("invalid entry '%0' in option '%1': %2")
      << Entry << Option << Why;
}

void ContractModel::checkEntries(ASTContext &Ctx) const {
  for (const auto &Entry : ByParam) {
    llvm::StringRef Name = Entry.getKey();
    auto Found = fileScopeDecls(Ctx, Name);
    for (const ParamEntry &E : Entry.getValue())
      if (E.FromOption)
        checkParameterEntry(Name, Found, E);
  }
  for (const SubjectEntry &E : Subjects) {
    auto Found = fileScopeDecls(Ctx, E.Name);
    if (Found.empty())
      continue;
    if (E.Field.empty())
      checkSubjectKind(E.Name, Found, E);
    else
      checkFieldEntry(E.Name, Found, E);
  }
}

std::vector<std::pair<std::string, std::string>>
ContractModel::optionSubjects() const {
  std::vector<std::pair<std::string, std::string>> Result;
  auto Add = [&](llvm::StringRef Name, llvm::StringRef Entry) {
    if (!Name.empty() && !Name.contains(':'))
      Result.push_back({Name.str(), Entry.str()});
  };
  for (const auto &Entry : ByParam)
    for (const ParamEntry &E : Entry.getValue())
      if (E.FromOption)
        Add(Entry.getKey(), E.Entry);
  for (const SubjectEntry &E : Subjects) {
    Add(E.Name, E.Entry);
    Add(E.C.Arg, E.Entry);
  }
  return Result;
}

void ContractModel::checkSubjectKind(llvm::StringRef Name,
                                     llvm::ArrayRef<const NamedDecl *> Found,
                                     const SubjectEntry &E) const {
  llvm::StringRef On;
  for (const NamedDecl *ND : Found)
    if (subjectKindOf(ND) == SubjectKind::Other ||
        goesOn(E.C.Kind, subjectKindOf(ND), On))
      return;
  reportEntry(E.Entry, E.Option, ("'" + contractName(E.C.Kind) + "' goes on " + On +
                        "; '" + Name + "' is " +
                        subjectKindName(subjectKindOf(Found.front())))
                           .str());
}

void ContractModel::checkFieldEntry(llvm::StringRef Name,
                                    llvm::ArrayRef<const NamedDecl *> Found,
                                    const SubjectEntry &E) const {
  std::vector<const RecordDecl *> Defs; // Complete definitions it names.
  bool Record = false;
  for (const NamedDecl *ND : Found) {
    const RecordDecl *RD = dyn_cast<RecordDecl>(ND);
    if (const auto *TD = dyn_cast<TypedefNameDecl>(ND))
      RD = TD->getUnderlyingType()->getAsRecordDecl();
    Record |= RD != nullptr;
    if (RD && (RD = RD->getDefinition()) && !llvm::is_contained(Defs, RD))
      Defs.push_back(RD);
  }
  if (!Record) {
    SubjectKind Kind = soleKindOf(Found);
    if (Kind != SubjectKind::Other)
      reportEntry(E.Entry, E.Option, ("'" + Name + "' is " + subjectKindName(Kind) +
                            ", not a struct or union")
                               .str());
    return;
  }
  std::vector<std::string> Names; // Of the first definition.
  for (const RecordDecl *RD : Defs)
    for (const FieldDecl *F : RD->fields()) {
      if (F->getName() == E.Field)
        return;
      if (RD == Defs.front() && !F->getName().empty())
        Names.push_back(("'" + F->getName() + "'").str());
    }
  if (Defs.empty()) // Declared, not defined here: nothing to judge by.
    return;
  std::string Why = ("record '" + Name + "' ").str();
  Why += Names.empty() ? "has no fields"
                       : "has no field '" + E.Field + "'; its fields are " +
                             llvm::join(Names, ", ");
  reportEntry(E.Entry, E.Option, Why);
}

void ContractModel::checkParameterEntry(llvm::StringRef Name,
                                        llvm::ArrayRef<const NamedDecl *> Found,
                                        const ParamEntry &E) const {
  if (Found.empty())
    return;
  std::vector<const FunctionDecl *> Fns;
  for (const NamedDecl *ND : Found)
    if (const auto *FD = dyn_cast<FunctionDecl>(ND))
      Fns.push_back(FD);
  if (Fns.empty()) {
    SubjectKind Kind = soleKindOf(Found);
    if (Kind == SubjectKind::Type || Kind == SubjectKind::Variable)
      reportEntry(E.Entry, E.Option, ("'" + contractName(E.C.Kind) +
                            "' goes on a parameter of a function; '" + Name +
                            "' is " + subjectKindName(Kind))
                               .str());
    return;
  }
  if (Fns.size() != Found.size()) // A template, or not only functions.
    return;
  unsigned Index = 0;
  bool ByIndex = !llvm::StringRef(E.Param).getAsInteger(10, Index);
  bool Exists = false;
  unsigned MaxParams = 0;
  std::vector<std::string> Names; // Of the first declaration naming all.
  for (const FunctionDecl *FD : Fns)
    for (const FunctionDecl *R : FD->redecls()) {
      MaxParams = std::max(MaxParams, R->getNumParams());
      if (ByIndex) {
        Exists |= Index <= R->getNumParams();
        continue;
      }
      bool AllNamed = R->getNumParams() > 0;
      for (const ParmVarDecl *P : R->parameters()) {
        Exists |= P->getName() == E.Param;
        AllNamed &= !P->getName().empty();
      }
      if (Names.empty() && AllNamed)
        for (const ParmVarDecl *P : R->parameters())
          Names.push_back(("'" + P->getName() + "'").str());
    }
  if (Exists)
    return;
  std::string Why = ("function '" + Name + "' ").str();
  if (ByIndex)
    Why += MaxParams == 1 ? "has 1 parameter"
                          : "has " + std::to_string(MaxParams) + " parameters";
  else if (MaxParams == 0)
    Why += "has no parameters";
  else if (Names.empty())
    Why += "has no parameter '" + E.Param +
           "' (its declarations name none: write its 1-based index)";
  else
    Why += "has no parameter '" + E.Param + "'; its parameters are " +
           llvm::join(Names, ", ");
  reportEntry(E.Entry, E.Option, Why);
}

const FunctionDecl *ContractModel::lookupFunction(ASTContext &Ctx,
                                                  llvm::StringRef Name) {
  const FunctionDecl *Found = nullptr;
  for (const NamedDecl *ND :
       Ctx.getTranslationUnitDecl()->lookup(&Ctx.Idents.get(Name))) {
    if (const auto *FD = dyn_cast<FunctionDecl>(ND->getUnderlyingDecl())) {
      if (const FunctionDecl *Def = FD->getDefinition())
        return Def;
      Found = FD;
    }
  }
  return Found;
}

} // namespace clang::tidy::tsmap
