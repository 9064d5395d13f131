//===--- ObjectOrigins.h - where a function's object pointers come from ---===//
//
// For map identity by access path and type (tsmap-reentrant-callback's
// iterator loops): `clone->priv->attributes` and `mailbox->priv->attributes`
// are the same field of the same type, but `clone` was just allocated and
// `mailbox` is a parameter, so the code names two objects. Each root of a
// place in one function is traced to the variables its value comes from:
// a parameter or a global is itself; a local pointer is what its initializer
// and every assignment to it name (`gendata = _gendata_hash(src, FALSE)`
// comes from `src`), or a new object when all of them are allocations
// (`g_object_new`, `g_new0`, `malloc`...). A local whose address is taken,
// or whose value names no variable (`get_default()`), has unknown origins.
//
//===----------------------------------------------------------------------===//

#ifndef TSMAP_CHECKER_OBJECTORIGINS_H
#define TSMAP_CHECKER_OBJECTORIGINS_H

#include "EffectSummary.h"
#include "clang/AST/ASTContext.h"
#include "clang/AST/Decl.h"

namespace clang::tidy::tsmap {

/// \p A and \p B, places in the terms of \p Owner rooted at two different
/// variables, are in two different objects: their roots' origins are known
/// and share no variable (or one of them is a new allocation).
bool distinctOrigins(const Place &A, const Place &B, const FunctionDecl *Owner);

/// \p Name allocates a new object: malloc, calloc, g_malloc0, g_malloc_n
/// (what `g_new` expands to), g_slice_alloc0, g_object_new...
bool isAllocatorName(llvm::StringRef Name);

/// At \p Site, a call in \p Owner, local pointer \p V holds an object \p Owner
/// created: the last statement before the call's statement (in its block, or
/// in the blocks around it, never across a loop) that writes \p V assigns it an
/// allocation, or the result of a function of the translation unit whose every
/// return is one (`e = entry_new (stamp); process (..., e, ...);` after `e` held a
/// looked-up entry). Such an object's tables are none that existed before.
bool freshAtCall(const VarDecl *V, const Stmt *Site, ASTContext &Ctx);

} // namespace clang::tidy::tsmap

#endif
