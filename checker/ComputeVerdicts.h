//===--- ComputeVerdicts.h - what a compute callback decides -------------===//
//
// A libtsmap compute callback returns a tsmap_verdict; with TSMAP_KEEP the
// map stays as it is. A callback that keeps every value it finds
// (`if (old) return TSMAP_KEEP;` before anything else returns) only ever
// inserts: its tsmap_compute replaces nothing, and no eviction hook runs.
//
//===----------------------------------------------------------------------===//

#ifndef TSMAP_CHECKER_COMPUTEVERDICTS_H
#define TSMAP_CHECKER_COMPUTEVERDICTS_H

#include "clang/AST/Decl.h"

namespace clang::tidy::tsmap {

/// Whether every return of compute callback \p Fn (a tsmap_compute_fn with a
/// body) that can run with a non-null old value (its third parameter)
/// returns TSMAP_KEEP, itself or in a local that every statement that can run
/// with an old value leaves alone or gives TSMAP_KEEP. Branches on the old
/// value itself (`if (old)`, `!old`, `old == NULL`, `old != NULL`) are read;
/// anything else may go either way. False when \p Fn assigns its old-value
/// parameter.
bool keepsEveryPresentValue(const FunctionDecl *Fn);

} // namespace clang::tidy::tsmap

#endif
