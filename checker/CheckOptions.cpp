//===--- CheckOptions.cpp - option values every tsmap check reads --------===//

#include "CheckOptions.h"
#include "EffectSummary.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"

namespace clang::tidy::tsmap {

/// An identifier, or a qualified C++ name (`ns::send`).
static bool isFunctionName(llvm::StringRef Name) {
  if (Name.empty() || llvm::isDigit(Name.front()))
    return false;
  return llvm::all_of(Name, [](char C) {
    return llvm::isAlnum(C) || C == '_' || C == ':';
  });
}

std::vector<std::string> readFunctionNames(ClangTidyCheck &Check,
                                           llvm::StringRef Option,
                                           llvm::StringRef Value) {
  std::vector<std::string> Names;
  for (std::string &N : splitNameList(Value)) {
    if (!isFunctionName(N)) {
      Check.configurationDiag("invalid function name '%0' in option '%1'; "
                              "expected a semicolon-separated list of names")
          << N << Option;
      continue;
    }
    Names.push_back(std::move(N));
  }
  return Names;
}

unsigned readMaxCallDepth(ClangTidyCheck &Check, unsigned Value) {
  if (Value > MaxSupportedCallDepth) {
    Check.configurationDiag("option 'MaxCallDepth' is %0; the largest depth "
                            "supported is %1, which is used instead")
        << Value << MaxSupportedCallDepth;
    return MaxSupportedCallDepth;
  }
  return Value;
}

} // namespace clang::tidy::tsmap
