//===--- Contracts.h - the tsmap annotation vocabulary -------------------===//
//
// The contract kinds of docs/spec.md section 1, how each is spelled in an
// `annotate("tsmap::...")` string, in a macro, and in the `Contracts` option.
//
//===----------------------------------------------------------------------===//

#ifndef TSMAP_CHECKER_CONTRACTS_H
#define TSMAP_CHECKER_CONTRACTS_H

#include "llvm/ADT/StringRef.h"
#include <optional>
#include <string>

namespace clang::tidy::tsmap {

/// One contract of the vocabulary. The order is the order of docs/spec.md section 1.
enum class ContractKind {
  ThreadSafeMap,
  MapOperation,
  Callback,
  CallbackLocked,
  Out,
  Publishes,
  RemovedOut,
  Replaces,
  ReturnsRemoved,
  Idempotent,
  NonIdempotent,
  CallbackFn,
  Immutable,
  Weak,
  Cleanup,
  EvictsWith,
};
inline constexpr unsigned NumContractKinds = 16;

/// A contract with its argument: the function named by `cleanup(fn)` and
/// `evicts_with(fn)`, empty for the others.
struct Contract {
  ContractKind Kind;
  std::string Arg;
};

/// The macro that states \p K, e.g. "TSMAP_CALLBACK".
llvm::StringRef macroName(ContractKind K);

/// The name of \p K in annotate strings and in the `Contracts` option,
/// e.g. "callback" (written `tsmap::callback` in an annotation).
llvm::StringRef contractName(ContractKind K);

/// True for the kinds that take a function name argument.
bool takesFunctionArg(ContractKind K);

/// Parses one contract as written in the `Contracts` option or after the
/// `tsmap::` prefix of an annotation: `callback`, `cleanup(timer_cancel)`.
/// On failure returns std::nullopt and sets \p Error to a sentence that
/// names the problem.
std::optional<Contract> parseContract(llvm::StringRef Text, std::string &Error);

/// The prefix that marks an annotate string as ours.
inline constexpr llvm::StringLiteral AnnotationPrefix = "tsmap::";

} // namespace clang::tidy::tsmap

#endif
