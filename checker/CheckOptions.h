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

/// Stores boolean option \p Option as "true" or "false" (see readBool).
void storeBool(const ClangTidyCheck::OptionsView &Options,
               ClangTidyOptions::OptionMap &Opts, llvm::StringRef Option,
               bool Value);

/// \p Value of option MaxCallDepth (0: only the function itself is looked
/// at); above MaxSupportedCallDepth it is reported through \p Check and
/// capped.
unsigned readMaxCallDepth(ClangTidyCheck &Check, unsigned Value);

} // namespace clang::tidy::tsmap

#endif
