//===--- AnnotationValidation.h - annotations that mean nothing ----------===//
//
// A `tsmap::` annotation that names nothing (`TSMAP_CLEANUP(no_such_fn)`),
// that is misspelled (`annotate("tsmap::calback")`), or that sits where it
// means nothing (TSMAP_CALLBACK on an int) would otherwise be silently
// ignored, and the contract it was meant to state would go unchecked. Every
// check reports the problems of the contract kinds it owns, so each problem is
// reported once and under the check that would have used the contract:
//
//   tsmap-non-idempotent-callback  callback, out, idempotent, non_idempotent,
//                                  callback_fn, and unknown names
//
// A malformed annotation of a known kind (`TSMAP_CLEANUP(42)`) belongs to its
// kind's check, so that check alone still reports it.
//   tsmap-reentrant-callback       thread_safe_map, map_operation,
//                                  callback_locked
//   tsmap-remove-without-cleanup   removed_out, replaces, returns_removed,
//                                  cleanup, evicts_with
//   tsmap-weak-mutable-value       publishes, immutable, weak
//
// Usage in a check:
//   registerMatchers: Finder->addMatcher(annotatedDeclMatcher(), this);
//   check:  if (const auto *D = Result.Nodes.getNodeAs<Decl>(AnnotatedDeclId))
//             return reportAnnotationProblems(*this, D, *Result.Context,
//                                             {ContractKind::Cleanup, ...});
//
//===----------------------------------------------------------------------===//

#ifndef TSMAP_CHECKER_ANNOTATIONVALIDATION_H
#define TSMAP_CHECKER_ANNOTATIONVALIDATION_H

#include "Contracts.h"
#include "clang-tidy/ClangTidyCheck.h"
#include "clang/AST/Decl.h"
#include "clang/ASTMatchers/ASTMatchers.h"
#include "llvm/ADT/ArrayRef.h"
#include <optional>
#include <string>
#include <vector>

namespace clang::tidy::tsmap {

/// One misuse of an annotation.
struct AnnotationProblem {
  SourceLocation Loc;   ///< The annotation (inside the macro expansion).
  std::string Message;  ///< A diagnostic message, clang-tidy style.
  /// The contract kind at fault (also for a malformed annotation of a known
  /// kind); std::nullopt for an unknown `tsmap::` name.
  std::optional<ContractKind> Kind;
};

/// The problems of the `tsmap::` annotations written on \p D itself.
std::vector<AnnotationProblem> validateAnnotations(const Decl *D,
                                                   ASTContext &Ctx);

/// The node id annotatedDeclMatcher() binds.
inline constexpr llvm::StringLiteral AnnotatedDeclId = "tsmap-annotated-decl";

/// Matches every declaration carrying an `annotate` attribute, bound to
/// AnnotatedDeclId.
ast_matchers::DeclarationMatcher annotatedDeclMatcher();

/// Reports, through \p Check, the problems of \p D whose kind is in \p Owned;
/// unknown names too when \p OwnsUnknown.
void reportAnnotationProblems(ClangTidyCheck &Check, const Decl *D,
                              ASTContext &Ctx,
                              llvm::ArrayRef<ContractKind> Owned,
                              bool OwnsUnknown = false);

} // namespace clang::tidy::tsmap

#endif
