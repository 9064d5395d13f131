//===--- CheckOptions.h - option values every tsmap check reads ----------===//
//
// The options the checks share (lists of function names, MaxCallDepth) are
// read and validated here, so a malformed value gets the same clear
// configuration warning whichever check reads it, and is never fatal.
//
//===----------------------------------------------------------------------===//

#ifndef TSMAP_CHECKER_CHECKOPTIONS_H
#define TSMAP_CHECKER_CHECKOPTIONS_H

#include "clang-tidy/ClangTidyCheck.h"
#include "llvm/ADT/StringRef.h"
#include <string>
#include <vector>

namespace clang::tidy::tsmap {

/// Option \p Option of \p Check by its full name, as clang-tidy's own
/// configuration messages give it (`tsmap-weak-mutable-value.MaxCallDepth`).
std::string fullOptionName(ClangTidyCheck &Check, llvm::StringRef Option);

/// The largest MaxCallDepth any check accepts.
inline constexpr unsigned MaxSupportedCallDepth = 64;

/// The function names in the semicolon-separated \p Value of option
/// \p Option. A malformed name (not an identifier or a qualified C++ name) is
/// reported through \p Check and left out.
std::vector<std::string> readFunctionNames(ClangTidyCheck &Check,
                                           llvm::StringRef Option,
                                           llvm::StringRef Value);

/// Boolean option \p Option (true/false, on/off, yes/no or an integer, as
/// clang-tidy accepts them), \p Default when it is not set; a value that is
/// none of those is reported through \p Check and \p Default is used.
///
/// Read through the string accessor: OptionsView::get<bool> is an explicit
/// specialisation that GCC and Clang mangle differently, so a plugin built
/// with GCC that called it would fail to load into clang-tidy (symbol lookup
/// error). The same holds for OptionsView::store<bool>: use storeBool.
bool readBool(ClangTidyCheck &Check, const ClangTidyCheck::OptionsView &Options,
              llvm::StringRef Option, bool Default);

/// Stores boolean option \p Option as "true" or "false" (see readBool); a
/// value given that is not a bool is stored as given (see storeMaxCallDepth).
void storeBool(const ClangTidyCheck::OptionsView &Options,
               ClangTidyOptions::OptionMap &Opts, llvm::StringRef Option,
               bool Value);

/// The MaxCallDepth a check uses when the option is not set.
inline constexpr unsigned DefaultCallDepth = 8;

/// Option MaxCallDepth of the check \p Check reads through \p Options (0:
/// only the function itself is looked at), DefaultCallDepth when it is not
/// set. A value that is not an integer from 0 to MaxSupportedCallDepth is
/// reported through \p Check: above the range it is capped, otherwise the
/// default is used.
unsigned readMaxCallDepth(ClangTidyCheck &Check,
                          const ClangTidyCheck::OptionsView &Options);

/// Stores option MaxCallDepth as it was given (so that a dumped configuration
/// still shows, and tsmap-tidy still reports, a value that was replaced), or
/// \p Used when it was not set.
void storeMaxCallDepth(const ClangTidyCheck::OptionsView &Options,
                       ClangTidyOptions::OptionMap &Opts, unsigned Used);

} // namespace clang::tidy::tsmap

#endif
