//===--- CheckOptions.cpp - option values every tsmap check reads --------===//

#include "CheckOptions.h"
#include "EffectSummary.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include <optional>

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
          << N << fullOptionName(Check, Option);
      continue;
    }
    Names.push_back(std::move(N));
  }
  return Names;
}

// getID() is public on the matcher callback a check is (protected on
// ClangTidyCheck).
std::string fullOptionName(ClangTidyCheck &Check, llvm::StringRef Option) {
  const ast_matchers::MatchFinder::MatchCallback &Callback = Check;
  return (Callback.getID() + "." + Option).str();
}

/// \p Value read as clang-tidy reads a bool; nothing when it is not one.
static std::optional<bool> parseBool(llvm::StringRef Value) {
  std::optional<bool> Parsed =
      llvm::StringSwitch<std::optional<bool>>(Value.trim())
          .CaseLower("true", true)
          .CaseLower("on", true)
          .CaseLower("yes", true)
          .CaseLower("false", false)
          .CaseLower("off", false)
          .CaseLower("no", false)
          .Default(std::nullopt);
  long long Number = 0;
  if (!Parsed && !Value.trim().getAsInteger(10, Number))
    Parsed = Number != 0;
  return Parsed;
}

bool readBool(ClangTidyCheck &Check, const ClangTidyCheck::OptionsView &Options,
              llvm::StringRef Option, bool Default) {
  std::optional<llvm::StringRef> Value = Options.get(Option);
  if (!Value)
    return Default;
  std::optional<bool> Parsed = parseBool(*Value);
  if (Parsed)
    return *Parsed;
  // clang-tidy's own wording, with the option's full name
  Check.configurationDiag("invalid configuration value '%0' for option '%1'; "
                          "expected a bool")
      << *Value << fullOptionName(Check, Option);
  return Default;
}

void storeBool(const ClangTidyCheck::OptionsView &Options,
               ClangTidyOptions::OptionMap &Opts, llvm::StringRef Option,
               bool Value) {
  // A value that is not a bool is stored as it was given, so that a dumped
  // configuration still shows it and tsmap-tidy, which builds the checks
  // under the dumped configuration before any file, reports it there.
  if (std::optional<llvm::StringRef> Given = Options.get(Option);
      Given && !parseBool(*Given)) {
    Options.store(Opts, Option, *Given);
    return;
  }
  Options.store(Opts, Option, Value ? llvm::StringRef("true")
                                    : llvm::StringRef("false"));
}

unsigned readMaxCallDepth(ClangTidyCheck &Check,
                          const ClangTidyCheck::OptionsView &Options) {
  std::optional<llvm::StringRef> Value = Options.get("MaxCallDepth");
  if (!Value)
    return DefaultCallDepth;
  long long Depth = 0;
  if (Value->trim().getAsInteger(10, Depth) || Depth < 0) {
    Check.configurationDiag("invalid configuration value '%0' for option "
                            "'%1'; expected an integer from 0 to %2")
        << *Value << fullOptionName(Check, "MaxCallDepth") << MaxSupportedCallDepth;
    return DefaultCallDepth;
  }
  if (Depth > MaxSupportedCallDepth) {
    // tsmap-tidy reads this wording ("which is used instead") as a warning.
    Check.configurationDiag("option '%0' is %1; the largest depth "
                            "supported is %2, which is used instead")
        << fullOptionName(Check, "MaxCallDepth") << Value->trim()
        << MaxSupportedCallDepth;
    return MaxSupportedCallDepth;
  }
  return static_cast<unsigned>(Depth);
}

void storeMaxCallDepth(const ClangTidyCheck::OptionsView &Options,
                       ClangTidyOptions::OptionMap &Opts, unsigned Used) {
  if (std::optional<llvm::StringRef> Given = Options.get("MaxCallDepth"))
    Options.store(Opts, "MaxCallDepth", *Given);
  else
    Options.store(Opts, "MaxCallDepth", Used);
}

} // namespace clang::tidy::tsmap
