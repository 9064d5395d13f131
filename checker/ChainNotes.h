//===--- ChainNotes.h - notes that walk from a callback to an effect -----===//
//
// A tsmap diagnostic sits at the contract boundary (the callback argument)
// and its notes walk the user to the cause, one hop per note, in the manner
// of clang-tidy's SignalHandlerCheck::reportHandlerChain:
//
//   note: 'handler' is set to 'load_rule' here        (resolution)
//   note: 'load_rule' calls 'audit_post' here          (one per hop)
//   note: 'audit_post' calls 'send' here               (the effect itself)
//   note: 'send' is declared TSMAP_NON_IDEMPOTENT here (where it is stated)
//
//===----------------------------------------------------------------------===//

#ifndef TSMAP_CHECKER_CHAINNOTES_H
#define TSMAP_CHECKER_CHAINNOTES_H

#include "CallbackResolution.h"
#include "EffectSummary.h"
#include "clang-tidy/ClangTidyCheck.h"
#include <string>

namespace clang::tidy::tsmap {

/// A name for \p FD in diagnostics: its name, or "lambda" for a lambda's
/// call operator.
std::string functionName(const FunctionDecl *FD);

/// A name for what \p Call calls: its function (functionName), or the field
/// or variable it calls a function pointer through (`get_or_load` of
/// `c->ops->get_or_load(...)`).
std::string calledName(const CallExpr *Call);

/// The function that contains \p E.Where: the last callee of its chain, or
/// \p Top when the chain is empty.
const FunctionDecl *effectOwner(const FunctionDecl *Top, const Effect &E);

/// The source text of \p S, shortened to \p MaxLen characters.
std::string sourceText(const Stmt *S, const ASTContext &Ctx,
                       unsigned MaxLen = 40);

/// What a non-idempotent call does, for messages: "sends data", "starts a
/// process", "changes the file system", ... for the default list; "is
/// declared TSMAP_NON_IDEMPOTENT" or "is listed in NonIdempotentFunctions"
/// otherwise.
std::string nonIdempotentWhy(const FunctionDecl *Callee, NonIdempotentReason R);

/// Describes effect \p E of function \p Top as a verb phrase for a message:
/// "calls 'send', which sends data", "increments 'g_hits'",
/// "frees 'ctx->buf'". \p Spelled, when not empty, names the target instead
/// of \p Top's access path (see spelledTarget).
std::string effectPhrase(const Effect &E, const FunctionDecl *Top,
                         const std::string &Spelled = std::string());

/// The memory effect \p E changes or frees as the code at E.Where spells it
/// (`c->hits` of `c->hits++`), or "" when E.Where does not name it.
std::string spelledTarget(const Effect &E, const ASTContext &Ctx);

/// Notes where the variables between a callback argument and \p R.Fn got
/// their value: "'cb' is set to 'load_rule' here".
void emitResolutionNotes(ClangTidyCheck &Check, const ResolvedCallback &R);

/// One note per wrapper a callback argument passes through (\p W.Via,
/// outermost first): "'registry_foreach' passes 'fn' to
/// 'g_hash_table_foreach' here".
void emitWrapperNotes(ClangTidyCheck &Check, const WrappedCallbackArgument &W);

/// One note per hop of \p Chain, starting in \p Top: "'A' calls 'B' here"
/// ("... through field 'f' here" for a call through a function-pointer field,
/// followed, with \p Fields, by where the field is set to 'B').
void emitHopNotes(ClangTidyCheck &Check, const FunctionDecl *Top,
                  llvm::ArrayRef<Hop> Chain, const FieldFunctions *Fields = nullptr);

/// The note at the effect itself ("'audit_post' calls 'send' here",
/// "'bump' increments 'c->hits' here"), and for an annotated callee the note
/// where its contract is written.
void emitEffectNote(ClangTidyCheck &Check, const FunctionDecl *Top,
                    const Effect &E, const ASTContext &Ctx,
                    const ContractModel &Model);

/// emitHopNotes then emitEffectNote.
void emitChainNotes(ClangTidyCheck &Check, const FunctionDecl *Top,
                    const Effect &E, const ASTContext &Ctx,
                    const ContractModel &Model,
                    const FieldFunctions *Fields = nullptr);

} // namespace clang::tidy::tsmap

#endif
