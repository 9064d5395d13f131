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
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include <vector>

namespace clang::tidy::tsmap {

/// A resource-release contract on a value type: `Fn` must run on the whole
/// value (`Field` null) or on `Field` when an entry leaves the map.
struct CleanupContract {
  const FieldDecl *Field; ///< Null for a struct-level TSMAP_CLEANUP.
  std::string FnName;     ///< As written in the annotation or option.
  SourceLocation Loc;     ///< The annotation, or the field/record if from options.
};

class ContractModel {
public:
  /// Reads options `Contracts` and `ContractModels` (local or global) through
  /// \p Check; malformed entries are reported with configurationDiag.
  explicit ContractModel(ClangTidyCheck &Check,
                         ClangTidyCheck::OptionsView &Options);
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
  /// a pointer), record-level first then field by field.
  std::vector<CleanupContract> cleanupsOf(QualType T) const;
  /// The TSMAP_EVICTS_WITH hook name of map variable or field \p D, if any.
  std::optional<std::string> evictionHookOf(const ValueDecl *D) const;

  /// The declarations of the parameters a callback of type \p CallbackType
  /// (a function pointer, possibly through typedefs) is declared with, for
  /// reading TSMAP_OUT in the type; empty when not visible.
  static std::vector<const ParmVarDecl *>
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

  /// Reports (configurationDiag) each `function(param)` entry of option
  /// `Contracts` whose function the translation unit of \p Ctx declares, at
  /// file scope, with no such parameter in any declaration: a misspelt name
  /// or an index past the last parameter would otherwise never apply.
  void checkParameterEntries(ASTContext &Ctx) const;

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
  };
  void parseEntries(llvm::StringRef List, llvm::StringRef OptionName);
  void addModel(llvm::StringRef Name);
  bool optionHasByName(const NamedDecl *D, ContractKind K) const;
  const Contract *annotated(const Decl *D, ContractKind K) const;

  const std::vector<Contract> &cachedAnnotations(const Decl *D) const;

  ClangTidyCheck &Check;
  mutable llvm::DenseMap<const Decl *, std::vector<Contract>> Cache;
  std::string ContractsOption;
  std::string ModelsOption;
  llvm::StringMap<std::vector<Contract>> ByName;       ///< fn, type, var
  llvm::StringMap<std::vector<ParamEntry>> ByParam;    ///< fn(param)
  llvm::StringMap<std::vector<Contract>> ByField;      ///< record.field
};

} // namespace clang::tidy::tsmap

#endif
