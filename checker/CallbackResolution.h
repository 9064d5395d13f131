//===--- CallbackResolution.h - which functions a map will call back -----===//
//
// For a call to a map operation: which arguments are callbacks (parameters
// with TSMAP_CALLBACK / TSMAP_CALLBACK_LOCKED, annotated or declared through
// the options), which argument is the map, and which functions each callback
// argument can be. Resolution follows docs/spec.md section 2: a function name or
// `&fn`, casts, a local or `static const` variable assigned once, both arms of
// `?:`, and (C++) lambdas. Anything else is left unresolved, and the checks
// stay quiet about it. Each resolved function keeps the steps that led to it,
// so a diagnostic can show where a variable got its value.
//
//===----------------------------------------------------------------------===//

#ifndef TSMAP_CHECKER_CALLBACKRESOLUTION_H
#define TSMAP_CHECKER_CALLBACKRESOLUTION_H

#include "ContractModel.h"
#include "clang/AST/Decl.h"
#include "clang/AST/Expr.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/SmallVector.h"
#include <optional>
#include <vector>

namespace clang::tidy::tsmap {

/// One step from a callback argument to the function it names.
struct ResolutionStep {
  enum class Kind {
    Variable, ///< `Var` holds the callback; it got it from `Value`: its
              ///< initializer (`Site` null) or its one assignment (`Site`).
    Arm,      ///< `Value` is one arm of the conditional `Site`.
    Field,    ///< Function-pointer field `Field` was given it at `Value`
              ///< (`ops->load = load_rule;`, an initializer list).
  };
  Kind K;
  const VarDecl *Var = nullptr;
  const Expr *Value = nullptr;
  const Stmt *Site = nullptr;
  const FieldDecl *Field = nullptr;
};

/// A function a callback argument can be.
struct ResolvedCallback {
  /// The function (its definition when the TU has one); for a lambda, its
  /// call operator.
  const FunctionDecl *Fn = nullptr;
  /// The expression that names it (a DeclRefExpr or a LambdaExpr).
  const Expr *Ref = nullptr;
  /// The variables and `?:` arms passed through, outermost first.
  std::vector<ResolutionStep> Steps;
};

/// A callback argument of a map operation call.
struct CallbackArgument {
  unsigned ParamIndex = 0; ///< Index of the parameter in the callee.
  /// The parameter's declaration: the callee's, or the one written in the
  /// prototype of the function pointer the call goes through (calleeParams).
  const ParmVarDecl *Param = nullptr;
  const Expr *Arg = nullptr;
  bool Callback = false; ///< TSMAP_CALLBACK: may run more than once.
  bool Locked = false;   ///< TSMAP_CALLBACK_LOCKED: runs under the map's lock.
  /// The functions the argument can be; empty when resolution failed.
  std::vector<ResolvedCallback> Targets;
  /// Every path resolved (false when some `?:` arm or variable did not).
  bool Complete = false;
};

/// The functions the translation unit stores into each function-pointer
/// field (`ops->load = load_rule;`, `.load = load_rule` in an initializer),
/// read once per TU on first use from the declarations outside system
/// headers. A field that is also given something that does not resolve to
/// functions (a parameter, a call's result), or more than MaxTargets
/// functions, has no known targets.
class FieldFunctions {
public:
  static constexpr unsigned MaxTargets = 4;
  explicit FieldFunctions(ASTContext &Ctx) : Ctx(Ctx) {}
  /// The functions stored into \p F, or null when not known.
  const std::vector<const FunctionDecl *> *of(const FieldDecl *F);
  /// Where \p Fn is first stored into \p F (the stored expression).
  const Expr *storeOf(const FieldDecl *F, const FunctionDecl *Fn) const;
  /// Whether \p Fn may be in \p F of the struct that field \p Within embeds
  /// (`init` of `w->super`, Within `super`; embeddedField): the TU stores it
  /// into that field's own \p F (`w->super.init = fn`, `.super = { .init = fn
  /// }`) or through an object that no embedding field names (`p->init = fn`).
  /// A store through another struct's embedded one (`d->super.init = fn` of
  /// a Driver's `super`) is not one (bench/realworld R32). With \p Within
  /// null (an opaque struct's object): only a store through a plain object.
  bool mayHoldWithin(const FieldDecl *F, const FunctionDecl *Fn,
                     const FieldDecl *Within) const;
  /// The functions call \p Call through a function-pointer field
  /// (calledMember) may reach: those stored into the field (of), less those
  /// the call's object, an embedded struct (embeddedField) or an opaque
  /// struct's (castFromOpaqueStruct), cannot hold (mayHoldWithin). Null when
  /// the field's functions are not known.
  const std::vector<const FunctionDecl *> *calledAt(const CallExpr *Call);

private:
  void build();
  ASTContext &Ctx;
  bool Built = false;
  llvm::DenseMap<const FieldDecl *, std::vector<const FunctionDecl *>> Targets;
  llvm::DenseSet<const FieldDecl *> Unknown;
  using Key = std::pair<const FieldDecl *, const FunctionDecl *>;
  llvm::DenseMap<Key, const Expr *> Stores;
  /// For each store: the embedding field it went through (null: none).
  llvm::DenseMap<Key, llvm::SmallVector<const FieldDecl *, 1>> Withins;
  /// calledAt's answers for calls on an embedded struct.
  llvm::DenseMap<const CallExpr *, std::vector<const FunctionDecl *>> AtCalls;
  friend class FieldStoreVisitor;
};

/// The struct-typed field \p Object is (`w->super`) or points to
/// (`&w->super`, or `(LogPipe *) w` when `super` is the first field of `w`'s
/// struct), through parentheses and implicit casts: the struct it names is
/// embedded in another; null for any other object (`p`, `*p`, a cast of a
/// pointer to a struct not defined in the TU, a union member).
const FieldDecl *embeddedField(const Expr *Object);

/// Whether \p Object is a cast of a pointer to a struct the TU declares but
/// does not define (`(LogPipe *) self->writer` of an opaque `LogWriter *`).
/// Such an object is none of the TU's structs, so a function the TU stores
/// into a field embedded in one of them (`d->super.init = fn`) is taken not
/// to be in it: a struct defined elsewhere that embeds one defined here is
/// not followed (bench/realworld R32, syslog-ng with SN-1 fixed).
bool castFromOpaqueStruct(const Expr *Object);

/// The function-pointer member a call goes through (`ops->load (k)`,
/// `(*s->init) (s)`); null for a call to a named function or a variable.
const MemberExpr *calledMember(const CallExpr *Call);

/// The parameters \p Call's callee is declared with: the called function's,
/// or, for a call through a function pointer (`c->ops->get_or_load(...)`,
/// `(*fp)(...)`, a variable or parameter of a typedef'd pointer type), those
/// written in the prototype of the field or variable it calls through, where
/// annotations such as TSMAP_CALLBACK are kept; empty when not written.
llvm::ArrayRef<ParmVarDecl *> calleeParams(const CallExpr *Call);

/// The callback arguments of \p Call (a call to a function, or through a
/// function pointer, with TSMAP_CALLBACK or TSMAP_CALLBACK_LOCKED parameters:
/// calleeParams), each resolved; empty for other calls.
/// Cheap for calls to functions without function-pointer parameters.
/// With \p Fields, a callback read from a function-pointer field resolves to
/// the functions the TU stores into that field.
std::vector<CallbackArgument> callbackArguments(const CallExpr *Call,
                                                const ContractModel &Model,
                                                FieldFunctions *Fields = nullptr);

/// One wrapper between a call and the map operation that runs its callback:
/// \c Wrapper passes its parameter \c FnParam, unchanged, as the callback
/// argument of \c Inner, a call in its body (`g_hash_table_foreach (r->table,
/// fn, data)` in `registry_foreach`).
struct WrapperHop {
  const FunctionDecl *Wrapper = nullptr;
  const CallExpr *Inner = nullptr;
  unsigned FnParam = 0;
  /// The wrapper calls \c FnParam itself, here, once per entry of a
  /// `while (g_hash_table_iter_next (&it, ...))` loop of its body (gnumeric's
  /// `cell_foreach_range_dep`, bench/realworld R31); \c Inner is then the
  /// loop's `g_hash_table_iter_init (&it, table)`, which names the map.
  const CallExpr *Direct = nullptr;
  /// With \c Direct: the loop's `g_hash_table_iter_next (&it, &k, &v)`.
  const CallExpr *Next = nullptr;
};

/// For a wrapper hop that calls its parameter in its own loop (\p Hop.Direct):
/// the index of the argument of that call that is the loop's value (`v` of
/// `g_hash_table_iter_next (&it, &k, &v)`, cast or not); none otherwise.
std::optional<unsigned> loopValueArgument(const WrapperHop &Hop);

/// A callback argument of a call to a wrapper (wrappedCallbackArguments):
/// \c Arg is at the call, with the contract (Callback, Locked) and the
/// parameter declaration (\c Param) of the map operation's parameter it
/// reaches; \c Via the wrappers from the called one in, the last hop's
/// \c Inner being the map operation call, whose callback parameter is
/// \c InnerParamIndex.
struct WrappedCallbackArgument {
  CallbackArgument Arg;
  std::vector<WrapperHop> Via;
  unsigned InnerParamIndex = 0;
};

/// The contracts a function of the translation unit takes on by passing one
/// of its function-pointer parameters, unchanged (never assigned, never
/// taken the address of), or a local function pointer whose one value it is
/// (`GHFunc visit = fn;`), as the callback argument of a TSMAP_CALLBACK or
/// TSMAP_CALLBACK_LOCKED parameter (callbackArguments), or by calling it in
/// the body of a GHashTableIter loop of its own (TSMAP_CALLBACK_LOCKED, the
/// map being the loop's: WrapperHop::Direct), directly or through
/// wrappers of wrappers up to MaxDepth levels. Read once per function, per
/// translation unit.
class WrapperContracts {
public:
  static constexpr unsigned MaxDepth = 3;
  explicit WrapperContracts(const ContractModel &Model) : Model(Model) {}
  /// The callback arguments \p Call passes through the wrappers it calls
  /// (its direct callee's body in the TU, outside system headers), each
  /// resolved; a parameter with a contract of its own is left to
  /// callbackArguments.
  std::vector<WrappedCallbackArgument>
  arguments(const CallExpr *Call, FieldFunctions *Fields = nullptr);

private:
  struct Passed {
    std::vector<WrapperHop> Via;
    unsigned InnerParamIndex;
    const ParmVarDecl *InnerParam;
    bool Callback, Locked;
  };
  /// What \p Def's parameter \p I reaches (empty: no contract).
  const std::vector<Passed> &of(const FunctionDecl *Def, unsigned I,
                                unsigned Depth);
  const ContractModel &Model;
  llvm::DenseMap<std::pair<const FunctionDecl *, unsigned>, std::vector<Passed>>
      Cache;
};

/// Resolves a function-pointer expression \p E to the functions it can be.
/// Sets \p Complete to whether every path resolved.
std::vector<ResolvedCallback> resolveCallback(const Expr *E,
                                              bool *Complete = nullptr,
                                              FieldFunctions *Fields = nullptr);

/// The index of the map parameter of map operation \p FD: its parameter whose
/// type is a pointer to a TSMAP_THREAD_SAFE_MAP type (the first one). None
/// for a function that is not a map operation or takes no map pointer.
std::optional<unsigned> mapParamIndex(const FunctionDecl *FD,
                                      const ContractModel &Model);

/// \p FD is an instance member function (not a constructor or destructor)
/// of a TSMAP_THREAD_SAFE_MAP class: a map operation on `*this`.
bool isMapMethod(const FunctionDecl *FD, const ContractModel &Model);

/// For a call to a map method (isMapMethod): the object it is called on
/// (`cache` in `cache.put(k, v)`, `p` in `p->put(k, v)`); else null.
const Expr *mapObject(const CallExpr *Call, const ContractModel &Model);

/// The index of the map argument of \p Call: its callee's map parameter
/// (mapParamIndex), or, through a function pointer, the first parameter of
/// its prototype whose type is a map pointer.
std::optional<unsigned> mapArgumentIndex(const CallExpr *Call,
                                         const ContractModel &Model);

/// The map argument of \p Call, if its callee is a map operation with a map
/// parameter (implicit casts stripped).
const Expr *mapArgument(const CallExpr *Call, const ContractModel &Model);

/// The parameter of callback \p Callback that is its own output: TSMAP_OUT on
/// the callback's definition or on the parameter of the callback type the map
/// operation declares (\p CallbackParam, may be null); else a non-const
/// pointer parameter named `out`, `result`, `out_*` or `*_out`.
std::optional<unsigned> outputParamIndex(const FunctionDecl *Callback,
                                         const ParmVarDecl *CallbackParam,
                                         const ContractModel &Model);

/// \p P is a non-const `void *` parameter named like a context (`ctx`,
/// `user_data`, `arg`, ...).
bool isContextNamedParam(const ParmVarDecl *P);

/// The parameter of callback \p Callback that receives the map operation's
/// context argument: a non-const `void *` parameter other than \p Output
/// named like a context (`ctx`, `user_data`, `arg`, ...), else the last such
/// parameter (GLib's `(key, value, user_data)` visitors pass it last).
std::optional<unsigned> contextParamIndex(const FunctionDecl *Callback,
                                          std::optional<unsigned> Output);

/// The argument of \p Call that the map passes to its callback as context:
/// the argument for the callee's (calleeParams) first non-const `void *`
/// parameter after the callback parameter \p CallbackParam (or before it, if
/// none follows).
const Expr *contextArgument(const CallExpr *Call, unsigned CallbackParam);

/// The function whose body contains \p S (a lambda's call operator for code
/// in a lambda), found by walking the AST's parent map; null at file scope.
/// Cheaper than a `forCallable` matcher on every call: ask only for the
/// calls that matter.
const FunctionDecl *enclosingFunction(const Stmt *S, ASTContext &Ctx);

} // namespace clang::tidy::tsmap

#endif
