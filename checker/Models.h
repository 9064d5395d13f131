//===--- Models.h - contracts shipped for APIs users cannot annotate -----===//

#ifndef TSMAP_CHECKER_MODELS_H
#define TSMAP_CHECKER_MODELS_H

#include "llvm/ADT/StringRef.h"
#include <optional>
#include <string>

namespace clang::tidy::tsmap {

/// The default of option `ContractModels`: every shipped model. A model only
/// matters where its API's names appear, so having all on costs nothing.
inline constexpr llvm::StringLiteral DefaultContractModels = "glib;liburcu;libvirt";

/// The `Contracts` entries of the shipped model \p Name, or std::nullopt.
std::optional<llvm::StringRef> shippedModel(llvm::StringRef Name);

/// "glib, liburcu, libvirt": for error messages.
std::string knownModelNames();

} // namespace clang::tidy::tsmap

#endif
