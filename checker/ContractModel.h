//===--- ContractModel.h - what the code promises about its maps ---------===//
//
// The contract model answers "does this declaration carry contract K?" for
// every check. It reads the `tsmap::` annotations from every redeclaration
// (an annotation on a prototype in a header applies everywhere the header is
// included) and merges the contracts declared in the `Contracts` option and
// the shipped models chosen by `ContractModels` (GLib, liburcu), for APIs
// whose headers users cannot annotate.
//
//===----------------------------------------------------------------------===//

#ifndef TSMAP_CHECKER_CONTRACTMODEL_H
#define TSMAP_CHECKER_CONTRACTMODEL_H

#include "Contracts.h"
#include "clang-tidy/ClangTidyCheck.h"
#include "clang/AST/Decl.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"
#include <vector>

namespace clang::tidy::tsmap {

/// A resource-release contract on a value type: `Fn` must run on the whole
/// value (`Field` null) or on `Field` when an entry leaves the map.
struct CleanupContract {
  const FieldDecl *Field; ///< Null for a struct-level TSMAP_CLEANUP.
  std::string FnName;     ///< As written in the annotation or option.
  SourceLocation Loc;     ///< The annotation, or the field/record if from options.
  /// The struct fields held by value from the value down to Field's struct
  /// (`core` for `s->core.idle`); empty for a field of the value itself.
  llvm::SmallVector<const FieldDecl *, 1> Via = {};
  /// How the value reaches Field: "idle", "core.idle".
  std::string fieldPath() const;
};

class ContractModel {
public:
  /// Reads options `Contracts` (the global entries and the check's own,
  /// both) and `ContractModels` (the check's own, else the global one) through
  /// \p Check, whose context is \p Context; malformed entries are reported
  /// with configurationDiag.
  ContractModel(ClangTidyCheck &Check, ClangTidyCheck::OptionsView &Options,
                ClangTidyContext *Context);
  void storeOptions(ClangTidyCheck::OptionsView &Options,
                    ClangTidyOptions::OptionMap &Opts) const;

  /// Contract \p K on function \p FD (any redeclaration, or by name in options).
  bool functionHas(const FunctionDecl *FD, ContractKind K) const;
  /// Contract \p K on parameter \p Index of \p FD (any redeclaration).
  bool paramHas(const FunctionDecl *FD, unsigned Index, ContractKind K) const;
  /// Contract \p K on a declaration that is neither a function nor one of its
  /// parameters: a variable, field, typedef or record (any redeclaration).
  bool declHas(const Decl *D, ContractKind K) const;
  /// Contract \p K on type \p T itself: on any typedef in its sugar chain or
  /// on its record. Pointers are not looked through.
  bool typeHas(QualType T, ContractKind K) const;
  /// Where contract \p K is stated on \p D (for notes); invalid if nowhere.
  SourceLocation contractLoc(const Decl *D, ContractKind K) const;

  /// \p T is a pointer to a TSMAP_THREAD_SAFE_MAP type.
  bool isMapPointer(QualType T) const;
  /// \p FD is a map operation: annotated TSMAP_MAP_OPERATION, or takes a map
  /// pointer parameter. Sets \p MapParam to that parameter's index if any.
  bool isMapOperation(const FunctionDecl *FD,
                      std::optional<unsigned> *MapParam = nullptr) const;

  /// The cleanup contracts of the value type \p T (the pointee when \p T is
  /// a pointer), record-level first then field by field (also the fields of
  /// structs it holds by value, a few levels down).
  std::vector<CleanupContract> cleanupsOf(QualType T) const;
  /// The TSMAP_EVICTS_WITH hook name of map variable or field \p D, if any.
  std::optional<std::string> evictionHookOf(const ValueDecl *D) const;

  /// The declarations of the parameters written in the prototype of the
  /// function-pointer type \p CallbackDecl (a parameter, variable or field)
  /// is declared with, typedefs followed, for reading annotations in the
  /// type (TSMAP_OUT, TSMAP_CALLBACK); empty when not written in the source.
  static llvm::ArrayRef<ParmVarDecl *>
  callbackTypeParams(const DeclaratorDecl *CallbackDecl);

  /// Every `tsmap::` contract written on \p D itself (not its redeclarations),
  /// with the annotation's location; unknown names are returned with
  /// \p Errors entries instead.
  static std::vector<std::pair<Contract, SourceLocation>>
  annotationsOn(const Decl *D,
                std::vector<std::pair<std::string, SourceLocation>> *Errors =
                    nullptr);

  /// The identifiers the options and shipped models give contracts to
  /// (functions, types, variables, records; unqualified). A translation unit
  /// that spells none of them, and no annotation, holds no contract.
  std::vector<std::string> contractNames() const;

  /// Reports (configurationDiag) each entry of option `Contracts` that the
  /// translation unit of \p Ctx shows can never apply, judged against what
  /// the unit declares at file scope under the entry's name: a parameter the
  /// function lacks (`function(param)`), a field the record's definition
  /// lacks (`record.field`), or a subject of a kind its contract does not go
  /// on (`kv_update=immutable` where kv_update is a function).
  void checkEntries(ASTContext &Ctx) const;

  /// The names option `Contracts` states contracts about, each with its entry
  /// as written: functions, types, variables, records, and the functions
  /// `cleanup(fn)` and `evicts_with(fn)` name. Qualified C++ names are left
  /// out. tsmap-tidy reports those no unit of a project mentions.
  std::vector<std::pair<std::string, std::string>> optionSubjects() const;

  /// The contracts option entries `record.field` give field \p F, where the
  /// record is named by its tag, its qualified name, or a typedef of it.
  std::vector<Contract> fieldContracts(const FieldDecl *F) const;
  /// Adds the field-level cleanups of \p RD, reached through \p Via, and of
  /// the structs its fields hold by value (\p Depth levels more).
  void fieldCleanups(const RecordDecl *RD,
                     llvm::SmallVectorImpl<const FieldDecl *> &Via,
                     unsigned Depth, std::vector<CleanupContract> &Out) const;

  /// Finds the function named \p Name in the translation unit, preferring a
  /// definition; null if none is declared.
  static const FunctionDecl *lookupFunction(ASTContext &Ctx,
                                            llvm::StringRef Name);

private:
  struct ParamEntry {
    std::string Param; ///< A parameter name or a 1-based index.
    Contract C;
    std::string Entry; ///< As written, for messages.
    bool FromOption = false; ///< From option `Contracts`, not a shipped model.
    std::string Option = "Contracts"; ///< The key it was read from.
  };
  /// An entry of option `Contracts` that is not a parameter entry, kept to be
  /// checked against each translation unit (checkEntries).
  struct SubjectEntry {
    std::string Name;  ///< The function, type, variable or record.
    std::string Field; ///< Empty unless `record.field`.
    Contract C;
    std::string Entry; ///< As written, for messages.
    std::string Option = "Contracts"; ///< The key it was read from.
  };
  /// Entries read once: one given under both keys is the same fact.
  llvm::StringSet<> SeenEntries;
  void parseEntries(llvm::StringRef List, llvm::StringRef OptionName);
  void checkParameterEntry(llvm::StringRef Name,
                           llvm::ArrayRef<const NamedDecl *> Found,
                           const ParamEntry &E) const;
  void checkFieldEntry(llvm::StringRef Name,
                       llvm::ArrayRef<const NamedDecl *> Found,
                       const SubjectEntry &E) const;
  void checkSubjectKind(llvm::StringRef Name,
                        llvm::ArrayRef<const NamedDecl *> Found,
                        const SubjectEntry &E) const;
  void reportEntry(llvm::StringRef Entry, llvm::StringRef Option,
                   const std::string &Why) const;
  void addModel(llvm::StringRef Name, llvm::StringRef OptionName);
  bool optionHasByName(const NamedDecl *D, ContractKind K) const;
  const Contract *annotated(const Decl *D, ContractKind K) const;

  const std::vector<Contract> &cachedAnnotations(const Decl *D) const;

  ClangTidyCheck &Check;
  mutable llvm::DenseMap<const Decl *, std::vector<Contract>> Cache;
  std::string GlobalContracts; ///< Option `Contracts`, the global key.
  std::string LocalContracts;  ///< Option `<check>.Contracts`.
  std::string ModelsOption;
  llvm::StringMap<std::vector<Contract>> ByName;       ///< fn, type, var
  llvm::StringMap<std::vector<ParamEntry>> ByParam;    ///< fn(param)
  llvm::StringMap<std::vector<Contract>> ByField;      ///< record.field
  std::vector<SubjectEntry> Subjects; ///< Option entries other than fn(param).
};

} // namespace clang::tidy::tsmap

#endif
