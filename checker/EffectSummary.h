//===--- EffectSummary.h - what a function does, in terms of its parameters ===//
//
// The effect summary of a function lists what calling it does to memory that
// outlives the call and to the world outside the program: the non-idempotent
// functions it calls, the read-modify-writes and plain writes it performs, the
// memory it frees, the map operations it runs, the values it hands on, and the
// calls it makes with its parameters. Every effect is stated in terms of the
// summarized function's own parameters and of globals (a `Place`), so a caller
// translates a callee's summary through its arguments: `list_append(&g_pending,
// x)` inside a callback becomes a read-modify-write of `g_pending`.
//
// Summaries are computed lazily, once per function and translation unit,
// bottom-up over the strongly connected components of the call graph (Tarjan,
// started from the function asked about), so recursion is safe: the members of
// a cycle are iterated to a fixpoint. Each effect remembers the chain of call
// sites from the summarized function down to the statement that causes it, for
// diagnostics that walk the chain hop by hop (see ChainNotes.h). Effects whose
// chain is longer than `MaxCallDepth` hops are dropped.
//
// One `EffectAnalysis` per check and translation unit: create it lazily in
// `check()` and drop it in `onEndOfTranslationUnit()` (the AST it points into
// dies with the TU).
//
//===----------------------------------------------------------------------===//

#ifndef TSMAP_CHECKER_EFFECTSUMMARY_H
#define TSMAP_CHECKER_EFFECTSUMMARY_H

#include "ContractModel.h"
#include "clang/AST/Decl.h"
#include "clang/AST/Expr.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallVector.h"
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace clang::tidy::tsmap {

/// Where an effect lands, relative to the function whose summary holds it.
struct Place {
  enum class RootKind {
    Unknown, ///< Not traced (a pointer returned by an unknown call, ...).
    Param,   ///< Memory reached through parameter `Param` (a pointer), or the
             ///< value of a by-value parameter when it is passed on.
    Global,  ///< A global or static variable `Var`, or memory reached
             ///< through it.
    Local,   ///< A local variable `Var` of the function, or memory reached
             ///< through it (also fresh allocations held by `Var`).
    This,    ///< C++: the object of the method (`this`, also the one a lambda
             ///< in the method captures), or memory reached through it.
  };
  RootKind Root = RootKind::Unknown;
  unsigned Param = 0;           ///< For RootKind::Param: the 0-based index.
  const VarDecl *Var = nullptr; ///< For Global and Local.
  /// The field path below the root, outermost first: `p->a.b` is {a, b}.
  llvm::SmallVector<const FieldDecl *, 2> Fields;
  /// The expression took the address of the place (`&p->timer`).
  bool AddressOf = false;
  /// The indexes of the array elements the access path takes, outermost
  /// first (`stores[1]->items` is {`1`}); the field path does not say where
  /// they sit. sameAs ignores them: an effect on `a[i]` is one on `a`.
  llvm::SmallVector<const Expr *, 1> Indexes;
  /// At most this many (a recursion that indexes on each round would grow
  /// them without end).
  static constexpr unsigned MaxIndexes = 4;

  bool isParam(unsigned I) const {
    return Root == RootKind::Param && Param == I;
  }
  /// Traced to a variable: a parameter, a global or a local.
  bool traced() const { return Root != RootKind::Unknown; }
  /// Outlives the summarized function: a parameter's memory, a global, or
  /// the method's object.
  bool outlivesCall() const {
    return Root == RootKind::Param || Root == RootKind::Global ||
           Root == RootKind::This;
  }
  /// Same root and same field path (AddressOf is ignored).
  bool sameAs(const Place &O) const;
  /// The same array elements: equal Indexes, constants by value and other
  /// expressions as written, a constant 0 counting as none (`*p` is `p[0]`).
  /// `stores[0]` and `stores[1]` are two objects.
  bool sameElements(const Place &O, const ASTContext &Ctx) const;
  /// A short human name: "g_hits", "ctx->count", "param 2".
  std::string describe(const FunctionDecl *Owner) const;
};

/// Appends the Indexes of \p From, a place below \p To (a callee's place
/// restated in its caller's terms), to those of \p To, up to MaxIndexes.
void appendIndexes(Place &To, const Place &From);

/// One table a map argument may name (EffectAnalysis::mapArgumentPlaces):
/// where it is, and the struct field its pointer is loaded from (null when
/// none; `FieldAt` is the expression that loads it, for notes).
struct MapArgPlace {
  Place P;
  const FieldDecl *Field = nullptr;
  const Expr *FieldAt = nullptr;
};

/// The kinds of effect a summary records.
enum class EffectKind {
  /// Calls a TSMAP_NON_IDEMPOTENT function or one in NonIdempotentFunctions.
  /// `Callee` is that function; `Target` is unused.
  NonIdempotentCall,
  /// Calls a function with no body and no contract (or through a pointer,
  /// `Callee` null). Only reported by checks under StrictUnknownCalls.
  /// `Target` is unknown, or the one parameter a reader may fill
  /// (`fetch(k, out)`).
  UnknownCall,
  /// `++`, `--`, `+=`, `x = x + 1`, `strcat`, atomic fetch-add... on `Target`.
  ReadModifyWrite,
  /// An idempotent store into `Target`: `=`, `|=`, `&=`, atomic_store,
  /// atomic_fetch_or, memcpy/memset/strcpy/snprintf into it.
  Write,
  /// Frees `Target` (free, realloc, or a deallocator of the options).
  Free,
  /// Calls map operation `Callee`; `Target` is the map it operates on
  /// (Unknown when the map argument cannot be traced).
  MapOperation,
  /// Hands the value `Target` on: returns it, stores it into memory that
  /// outlives the function, or passes it to a function with no body that may
  /// keep it. `Where` is the return, the store, or the call.
  Escape,
  /// Calls `Callee` with argument `ArgIndex` being `Target` (recorded when the
  /// argument is rooted at a parameter or a global). For "does F call the
  /// cleanup function on parameter i". Only the function's own calls are in
  /// its summary (callsWithParam follows the callees on demand), so summaries
  /// do not grow with the square of a call chain.
  Call,
};

/// One hop of a chain: at `Site` (a CallExpr in the caller), `Callee` is called.
struct Hop {
  const CallExpr *Site;
  const FunctionDecl *Callee;
};

/// Why a call counts as non-idempotent, for notes.
enum class NonIdempotentReason {
  None,
  Annotated,      ///< TSMAP_NON_IDEMPOTENT on some redeclaration.
  Option,         ///< Named in option NonIdempotentFunctions by the user.
  DefaultList,    ///< In the default NonIdempotentFunctions list.
};

/// A condition on a parameter that an effect depends on: the effect happens
/// only when `(param Param == Value) == Equal`. From `if (rm)` (Equal false,
/// Value 0), `if (!rm)`, `if (mode == MODE_X)`, and `if (!rm) return;` before
/// the effect. A call with a constant argument for Param drops the effects
/// whose guard that value fails (`unref(k, FALSE)` cannot remove).
struct ParamGuard {
  unsigned Param;
  bool Equal;
  int64_t Value;
  bool operator==(const ParamGuard &O) const {
    return Param == O.Param && Equal == O.Equal && Value == O.Value;
  }
};

struct Effect {
  EffectKind Kind;
  /// The memory or value the effect is about, in the summarized function's terms.
  Place Target;
  /// The statement that causes the effect, in the last function of `Chain`
  /// (or in the summarized function when `Chain` is empty).
  const Stmt *Where = nullptr;
  /// The function called at `Where`, for call-based kinds.
  const FunctionDecl *Callee = nullptr;
  /// For Call: the argument index of `Callee` that receives `Target`.
  unsigned ArgIndex = 0;
  /// For ReadModifyWrite: how it modifies (for wording): '+', '-', or '?'.
  char Op = '?';
  NonIdempotentReason Reason = NonIdempotentReason::None;
  /// The call sites from the summarized function down to the function that
  /// contains `Where`; empty when `Where` is in the summarized function.
  std::vector<Hop> Chain;
  /// For MapOperation: the struct field the map pointer was loaded from
  /// (`e->manager->cache` gives `cache`), whatever the root of the access
  /// path; null when the map is not read from a field. Map identity by field
  /// and type (tsmap-reentrant-callback) compares it.
  const FieldDecl *MapField = nullptr;
  /// The expression that loads the map from MapField (for notes): the map
  /// argument, or the argument of the call that passed the map down.
  const Expr *MapFieldAt = nullptr;
  /// The conditions on the summarized function's parameters under which the
  /// effect happens (all must hold); empty when it happens on any call.
  llvm::SmallVector<ParamGuard, 1> Guards;
  /// The effect happens only once a reference count dropped to zero, somewhere
  /// on the chain: `if (!g_atomic_int_dec_and_test (&e->ref)) return;` before
  /// it, or inside `if (--e->ref == 0)`, and the object released is one a
  /// function on the chain holds in a local (a reference it took: `e =
  /// entry_get (dir); ... entry_unref (e);`), not one it was handed. A caller
  /// that still holds a reference to the object cannot be its last holder.
  bool LastReference = false;
  /// For MapOperation: the map is a table a function on the chain made
  /// itself and holds in a local (`t = g_hash_table_new (...)`, or
  /// `make_table (&t)` that stores a new one through `&t`): it did not exist
  /// when the caller started, so it is no map the caller iterates.
  bool NewMap = false;
  /// For MapOperation: a `g_hash_table_unref` of a local that holds only a
  /// reference the same function took (`t = g_hash_table_ref (...)`, or the
  /// result of a function that returns a new reference): the count goes back
  /// to what it was, so no table the caller reaches is changed.
  bool OwnReference = false;
  /// For MapOperation (tsmap-reentrant-callback): the map was reached through
  /// a local pointing into a parameter's object (`priv =
  /// foo_get_instance_private (self)`, objectParamOf), and Target was restated
  /// on that parameter (`self->metadata`): it names the object the table hangs
  /// off, not the struct that holds the table.
  bool IntoObject = false;

  /// An effect of function \c Fn called through function-pointer field \c
  /// Field of an object the summarized function was handed (`s->init (s)`,
  /// `s` its parameter \c Param). A caller that passes an embedded struct
  /// there (`log_pipe_init (&w->super)`) keeps the effect only when the TU
  /// may have stored \c Fn into that struct's field
  /// (FieldFunctions::mayHoldWithin; bench/realworld R32).
  struct FieldCall {
    const FieldDecl *Field;
    const FunctionDecl *Fn;
    unsigned Param;
  };
  std::optional<FieldCall> Through;

  /// A map operation that, by the facts above, changes no map a caller can be
  /// iterating unless it names that very map (identity Same).
  bool leavesCallerMaps() const { return LastReference || NewMap || OwnReference; }
};

/// Everything a function does that matters to the checks.
struct FunctionSummary {
  std::vector<Effect> Effects;
  /// Effects were dropped: a callee was deeper than MaxCallDepth, the summary
  /// hit its size cap, or the DFS hit its recursion guard. FIXME: checks that
  /// want "definitely does X" should treat this as "don't know".
  bool Truncated = false;
};

/// The knobs of the analysis; each check fills them from its own options.
struct EffectOptions {
  /// Functions whose calls are NonIdempotentCall effects (user list).
  std::vector<std::string> NonIdempotentFunctions;
  /// Whether the built-in default list of externally visible effects
  /// (defaultNonIdempotentFunctions()) applies as well.
  bool UseDefaultNonIdempotent = true;
  /// Trusted functions: no effect, analysis does not look inside (plus every
  /// TSMAP_IDEMPOTENT function).
  std::vector<std::string> IdempotentFunctions;
  /// Deallocators besides free/realloc (Free effects on their first argument).
  std::vector<std::string> Deallocators;
  /// Longest chain of call hops an effect may come through.
  unsigned MaxCallDepth = 8;
};

/// The built-in default list of functions with externally visible effects:
/// network and IPC sends, process control, file-system mutation, well-known
/// client libraries. Documented in rules/tsmap-non-idempotent-callback.md.
llvm::ArrayRef<llvm::StringRef> defaultNonIdempotentFunctions();

/// Library functions with no body that are known to have no effect beyond
/// their arguments (string, memory, math, formatting into a buffer, locking):
/// not UnknownCall effects even under StrictUnknownCalls.
bool isKnownQuietLibraryFunction(llvm::StringRef Name);

class FieldFunctions;

class EffectAnalysis {
public:
  EffectAnalysis(ASTContext &Ctx, const ContractModel &Model,
                 EffectOptions Options);
  ~EffectAnalysis();

  /// The summary of \p FD (its definition is used if it has one in the TU;
  /// a function with no body has an empty summary). Memoized.
  const FunctionSummary &summary(const FunctionDecl *FD);

  // ---- Queries for the checks (each returns the first matching effect, whose
  // ---- Chain gives the hops, or null).

  /// (a) Does \p FD (transitively) write through parameter \p I: any store
  /// into `*p`, `p->field`, `p[i]`, memcpy/strcpy/memset into it, or a
  /// read-modify-write of it.
  /// With \p Counts, the first write it accepts.
  const Effect *writesThroughParam(const FunctionDecl *FD, unsigned I,
                                   llvm::function_ref<bool(const Effect &)> Counts = nullptr);
  /// The same for a method's object: a write through `this` (`v = x` in
  /// `void set (int x)`).
  const Effect *writesThroughThis(const FunctionDecl *FD,
                                  llvm::function_ref<bool(const Effect &)> Counts = nullptr);

  /// (b) Does \p FD (transitively) call the function named \p CleanupName with
  /// parameter \p I itself (\p Field null), or with `p->Field` / `&p->Field`.
  const Effect *callsWithParam(const FunctionDecl *FD,
                               llvm::StringRef CleanupName, unsigned I,
                               const FieldDecl *Field = nullptr);

  /// (c) Does \p FD hand parameter \p I on: return it, store it into memory
  /// that outlives \p FD, or pass it to a function that keeps it or has no
  /// body (free and the Deallocators are not a hand-off).
  const Effect *handsOnParam(const FunctionDecl *FD, unsigned I);

  /// (d) Does \p FD free parameter \p I (free, realloc, Deallocators).
  const Effect *freesParam(const FunctionDecl *FD, unsigned I);

  // ---- Places of expressions, for checks that compare arguments.

  /// Where the pointer value \p E points, in the terms of the function \p E is
  /// in (\p Owner): a parameter, a global, a local, or Unknown. Follows
  /// casts, `&`, pointer arithmetic and the initializers of local pointers.
  Place placeOfPointer(const Expr *E, const FunctionDecl *Owner) const;
  /// A call of a function of the TU that returns a map (`type_table_get ()`)
  /// whose every return (NULL aside) names one global or static variable's
  /// table (`static GHashTable *t; if (!t) t = g_hash_table_new (...);
  /// return t;`): that variable's place, in any function's terms. Else
  /// Unknown. Memoized per function.
  Place placeOfGetter(const CallExpr *Call) const;
  /// The tables the map argument \p E of \p Owner names: one, its
  /// placeOfPointer and loadedFromField; or, for a local pointer given
  /// tables by plain assignments after its declaration (`GHashTable *t; if
  /// (c) t = info->a; else t = info->b;`), one per value (its initializer
  /// too), when every value but a null is traced and, for a field, is not
  /// stored anew between the assignment and \p E. A value that cannot be
  /// traced (a call's result, `&t` taken) gives the one place as before.
  llvm::SmallVector<MapArgPlace, 2> mapArgumentPlaces(const Expr *E,
                                                      const FunctionDecl *Owner) const;
  /// Where a local initialized with `?:` points (see placeOfPointer).
  Place placeOfEither(const AbstractConditionalOperator *CO,
                      const FunctionDecl *Owner) const;
  /// loadedFromField for a map argument \p E of \p Owner, except a local
  /// whose field was stored anew between its initializer and \p E (`old =
  /// r->table; r->table = fresh; walk (old)`): null there.
  const FieldDecl *fieldLoadedInto(const Expr *E, const FunctionDecl *Owner) const;
  /// The memory \p Loaded that local \p VD was initialized from is not
  /// assigned (as a field, in \p Owner's body) between \p VD's declaration
  /// and \p Use, in source order.
  /// Where local pointer \p VD points at \p Use when the function gives it
  /// values by plain assignment (assignedValuesOf) and every one of them that
  /// is not `NULL` names one traced place, not stored anew between that value
  /// and \p Use; none otherwise. Only asked when the initializer says nothing.
  std::optional<Place> placeOfAssigned(const VarDecl *VD, const Expr *Use,
                                       const FunctionDecl *Owner) const;
  /// The place of \p E, the map a walk is given: placeOfPointer, except that
  /// a local copied from a global (`tmp = pending`) that the function stores
  /// anew between the copy and \p E (`pending = NULL;`, goffice, bench/
  /// realworld R26) is the local itself: while the walk runs, the global no
  /// longer holds the walked table. Only the walk's own map is read so; in a
  /// callee, `tmp = pending` is what the global holds when the callee runs.
  Place walkedPlace(const Expr *E, const FunctionDecl *Owner) const;
  /// The field or global \p P of \p Owner holds a table \p Owner made at
  /// \p Use: the nearest statement before it that stores \p P (in its block
  /// or the blocks around it, never across a loop that stores it) is `P =
  /// g_hash_table_new (...)` (`r->table = g_hash_table_new (...);
  /// g_hash_table_insert (r->table, ...)`): no table a caller walks. With
  /// \p InLoop, the store must be in the innermost loop around \p Use (a
  /// loop's own body: a store before the loop may have made the walked table).
  /// FIXME: a call between the two that stores \p P is not seen.
  bool holdsNewTableAt(const Place &P, const Stmt *Use, const FunctionDecl *Owner,
                       bool InLoop = false) const;
  bool heldSinceInit(const VarDecl *VD, const Place &Loaded, const Expr *Use,
                     const FunctionDecl *Owner) const;
  /// The same from \p From (an assignment to the local) on.
  bool heldSince(SourceLocation From, const Place &Loaded, const Expr *Use,
                 const FunctionDecl *Owner) const;
  /// Where the lvalue \p E lives, in the terms of \p Owner.
  Place placeOfLValue(const Expr *E, const FunctionDecl *Owner) const;
  /// The place of argument \p E as a callee sees it: placeOfPointer for a
  /// pointer, else the place the value is read from (`p->fd` for an int).
  Place placeOfArgument(const Expr *E, const FunctionDecl *Owner) const;

  /// Restates the guards of \p Inner, an effect of the function called at
  /// \p Site, in the terms of \p Caller into \p Out's guards: a guard whose
  /// argument is a constant is decided (false: the effect cannot happen
  /// through this call, and the result is false), one whose argument is a
  /// parameter of \p Caller is moved onto it, any other is dropped.
  bool guardsAllow(const Effect &Inner, const CallExpr *Site,
                   const FunctionDecl *Caller, Effect &Out) const;

  /// How a call to \p FD counts: the reason it is non-idempotent, or None.
  NonIdempotentReason nonIdempotentReason(const FunctionDecl *FD) const;
  /// \p FD is trusted: TSMAP_IDEMPOTENT or in IdempotentFunctions.
  bool isTrusted(const FunctionDecl *FD) const;

  /// The functions the TU stores into function-pointer fields, for calls
  /// and callbacks read from a field (built on first use).
  FieldFunctions &fieldFunctions();

  const EffectOptions &options() const { return Opts; }
  ASTContext &context() const { return Ctx; }
  const ContractModel &model() const { return Model; }

private:
  struct Impl;
  std::unique_ptr<Impl> P;
  std::unique_ptr<FieldFunctions> Fields;
  ASTContext &Ctx;
  const ContractModel &Model;
  EffectOptions Opts;
};

/// Marks the map operation \p E of \p FD, whose map is a field or a global
/// that holds a table \p FD made there (EffectAnalysis::holdsNewTableAt), as
/// one on a new table (Effect::NewMap) with no place: the field no longer
/// names the table a caller may be walking.
void markNewInPlace(Effect &E, const FunctionDecl *FD, const EffectAnalysis &A,
                    bool InLoop = false);

/// The struct field whose load gives the pointer \p E (`FOO(obj)->priv->cache`
/// gives `cache`, through parentheses, casts and the initializer of a local
/// pointer that \p E names); null when \p E is not read from a field.
const FieldDecl *loadedFromField(const Expr *E);

/// Whether \p Cond tests a reference count's last release: true when it holds
/// exactly when the count dropped to zero (`g_atomic_int_dec_and_test (&e->ref)`,
/// `--e->ref == 0`, `atomic_fetch_sub (&e->ref, 1) == 1`), false when it holds
/// exactly when references remain (`!g_ref_count_dec (&rc)`, `--e->ref`); none
/// for any other condition.
std::optional<bool> lastReferenceTest(const Expr *Cond, ASTContext &Ctx);

/// Splits a semicolon-separated option value into trimmed, non-empty names.
std::vector<std::string> splitNameList(llvm::StringRef List);

/// The function \p Fn, a lambda's call operator, was written in (the method
/// whose `this` it captures), or null when \p Fn is no lambda's.
const FunctionDecl *lambdaOwner(const FunctionDecl *Fn);

} // namespace clang::tidy::tsmap

#endif
