//===--- HeldLocks.h - locks taken and held, judged by name ---------------===//
//
// Whether a write is made under an exclusive lock, for
// tsmap-weak-mutable-value: what a statement does to a lock (by the callee's
// name), and whether a lock taken at one point is still held at another.
//
//===----------------------------------------------------------------------===//

#ifndef TSMAP_RULES_HELDLOCKS_H
#define TSMAP_RULES_HELDLOCKS_H

#include "Publication.h"
#include "clang/AST/Stmt.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace clang::tidy::tsmap {

/// What a statement does to a lock, judged by name.
enum class LockAction { None, Take, TryTake, Release };

/// What statement \p S does to a lock (see HeldLocks.cpp for the names).
LockAction lockActionOf(const Stmt *S);

/// The lock taken by \p Lock (at \p LockAt) is still held at \p At on some
/// path of \p Flow that no \p Unlocks statement ends.
bool heldAt(const Stmt *Lock, FunctionFlow::Point LockAt, FunctionFlow::Point At,
            const FunctionFlow &Flow, llvm::function_ref<bool(const Stmt *)> Unlocks);

} // namespace clang::tidy::tsmap

#endif
