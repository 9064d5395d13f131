//===--- Contracts.cpp - the tsmap annotation vocabulary -----------------===//

#include "Contracts.h"
#include "llvm/ADT/StringExtras.h"

namespace clang::tidy::tsmap {

namespace {
struct KindInfo {
  ContractKind Kind;
  llvm::StringLiteral Name;
  llvm::StringLiteral Macro;
};
// Keep in the order of ContractKind.
constexpr KindInfo Kinds[NumContractKinds] = {
    {ContractKind::ThreadSafeMap, "thread_safe_map", "TSMAP_THREAD_SAFE_MAP"},
    {ContractKind::MapOperation, "map_operation", "TSMAP_MAP_OPERATION"},
    {ContractKind::Callback, "callback", "TSMAP_CALLBACK"},
    {ContractKind::CallbackLocked, "callback_locked", "TSMAP_CALLBACK_LOCKED"},
    {ContractKind::Out, "out", "TSMAP_OUT"},
    {ContractKind::Publishes, "publishes", "TSMAP_PUBLISHES"},
    {ContractKind::RemovedOut, "removed_out", "TSMAP_REMOVED_OUT"},
    {ContractKind::Replaces, "replaces", "TSMAP_REPLACES"},
    {ContractKind::ReturnsRemoved, "returns_removed", "TSMAP_RETURNS_REMOVED"},
    {ContractKind::Idempotent, "idempotent", "TSMAP_IDEMPOTENT"},
    {ContractKind::NonIdempotent, "non_idempotent", "TSMAP_NON_IDEMPOTENT"},
    {ContractKind::CallbackFn, "callback_fn", "TSMAP_CALLBACK_FN"},
    {ContractKind::Immutable, "immutable", "TSMAP_IMMUTABLE"},
    {ContractKind::Weak, "weak", "TSMAP_WEAK"},
    {ContractKind::Cleanup, "cleanup", "TSMAP_CLEANUP"},
    {ContractKind::EvictsWith, "evicts_with", "TSMAP_EVICTS_WITH"},
};
} // namespace

llvm::StringRef macroName(ContractKind K) {
  return Kinds[static_cast<unsigned>(K)].Macro;
}

llvm::StringRef contractName(ContractKind K) {
  return Kinds[static_cast<unsigned>(K)].Name;
}

bool takesFunctionArg(ContractKind K) {
  return K == ContractKind::Cleanup || K == ContractKind::EvictsWith;
}

static bool isIdentifier(llvm::StringRef S) {
  if (S.empty() || llvm::isDigit(S.front()))
    return false;
  return llvm::all_of(S, [](char C) { return llvm::isAlnum(C) || C == '_'; });
}

std::optional<Contract> parseContract(llvm::StringRef Text, std::string &Error) {
  Text = Text.trim();
  llvm::StringRef Name = Text.take_until([](char C) { return C == '('; }).trim();
  llvm::StringRef Rest = Text.drop_front(Text.take_until([](char C) { return C == '('; }).size());
  const KindInfo *Info = nullptr;
  for (const KindInfo &K : Kinds)
    if (K.Name == Name)
      Info = &K;
  if (!Info) {
    Error = ("unknown contract '" + Name + "'").str();
    return std::nullopt;
  }
  Contract C{Info->Kind, ""};
  if (!takesFunctionArg(Info->Kind)) {
    if (!Rest.empty()) {
      Error = ("contract '" + Name + "' takes no argument").str();
      return std::nullopt;
    }
    return C;
  }
  if (!Rest.consume_front("(") || !Rest.consume_back(")") || !isIdentifier(Rest.trim())) {
    Error = ("contract '" + Name + "' needs a function name: " + Name + "(fn)").str();
    return std::nullopt;
  }
  C.Arg = Rest.trim().str();
  return C;
}

} // namespace clang::tidy::tsmap
