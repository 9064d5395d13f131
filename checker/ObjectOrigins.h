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
// (`g_object_new`, `g_new0`, `malloc`...) or results of a function of the
// translation unit whose every return is one (`changeset_new ()`), nulls
// aside. A local whose address is taken,
// or whose value names no variable (`get_default()`), has unknown origins.
//
// The tables a function owns (tsmap-reentrant-callback under
// StrictMapIdentity, where a local's table is otherwise "any table"): a
// local that only ever holds a table the function made (`g_hash_table_new`,
// a helper that returns one, or a helper that stores one through the
// local's address, `make_table (&t)`) is a new object; a local that only
// ever holds a reference the function took (`g_hash_table_ref`, a helper
// that returns one) is released by `g_hash_table_unref` with no change to
// the table. And a table field the translation unit only ever fills with a
// new table is a table of its own, not one reached through another object.
//
//===----------------------------------------------------------------------===//

#ifndef TSMAP_CHECKER_OBJECTORIGINS_H
#define TSMAP_CHECKER_OBJECTORIGINS_H

#include "EffectSummary.h"
#include "clang/AST/ASTContext.h"
#include "clang/AST/Decl.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"

namespace clang::tidy::tsmap {

/// \p A and \p B, places in the terms of \p Owner rooted at two different
/// variables, are in two different objects: their roots' origins are known
/// and share no variable (or one of them is a new allocation). A value a
/// map operation of \p Model returns (a lookup) may be any object.
bool distinctOrigins(const Place &A, const Place &B, const FunctionDecl *Owner,
                     const ContractModel &Model);

/// The parameter of \p Owner whose object local pointer \p V points into:
/// every value \p V is given (nulls aside) is that parameter through casts
/// and pointer arithmetic, or what a function of the translation unit
/// returns that points into its own parameter's object, given that one
/// (GObject's `priv = foo_get_instance_private (self)`, also through the cast
/// `FOO (self)`). None when \p V's address is taken or a value is anything
/// else (a field, a lookup: another object).
std::optional<unsigned> objectParamOf(const VarDecl *V, const FunctionDecl *Owner);

/// \p S (anywhere in it) assigns \p V, steps it (`++`, `--`) or takes its
/// address; its declaration aside.
bool assignsVar(const Stmt *S, const VarDecl *V);

/// The values local pointer \p V of \p Owner is given, into \p Out: its
/// initializer, if any, then each plain assignment `V = e` in source order.
/// False, \p Out unchanged, when \p V is assigned nowhere after its
/// declaration (its initializer says it all), or when it is written other
/// than by `=` (a compound assignment, `&V` taken: a helper may store any
/// table through it).
bool assignedValuesOf(const VarDecl *V, const FunctionDecl *Owner,
                      llvm::SmallVectorImpl<const Expr *> &Out);

/// \p Name allocates a new object: malloc, calloc, g_malloc0, g_malloc_n
/// (what `g_new` expands to), g_slice_alloc0, g_object_new...
bool isAllocatorName(llvm::StringRef Name);

/// \p FD allocates a new object: its name is one isAllocatorName knows, or
/// it is declared `__attribute__((malloc))` (GLib's `G_GNUC_MALLOC`), which
/// promises that the pointer it returns aliases no other live object.
bool isAllocator(const FunctionDecl *FD);

/// At \p Site, a call in \p Owner, local pointer \p V holds an object \p Owner
/// created: the last statement before the call's statement (in its block, or
/// in the blocks around it, never across a loop) that writes \p V assigns it an
/// allocation, or the result of a function of the translation unit whose every
/// return is one (`e = entry_new (stamp); process (..., e, ...);` after `e` held a
/// looked-up entry). Such an object's tables are none that existed before.
bool freshAtCall(const VarDecl *V, const Stmt *Site, ASTContext &Ctx);

/// The nearest statement before \p Site's statement, in its block or in the
/// blocks around it, for which \p Writes holds; null when there is none, or
/// when a loop around \p Site writes (an earlier iteration may have). With
/// \p InLoop, only inside the innermost loop around \p Site.
const Stmt *lastWriteBefore(const Stmt *Site, ASTContext &Ctx,
                            llvm::function_ref<bool(const Stmt *)> Writes,
                            bool InLoop = false);

/// \p E, a value in \p Owner, is a new table: `g_hash_table_new*`, or a call
/// to a function with a body whose every return is one.
bool isNewTable(const Expr *E, const FunctionDecl *Owner);

/// \p V, a local pointer of \p Owner, holds only tables \p Owner made:
/// every value it is given is null, a new table (`g_hash_table_new*`, or a
/// call to a function with a body whose every return is one), and every
/// `&V` is an argument to a function with a body that stores a new table
/// through that parameter before anything can return (`*out =
/// g_hash_table_new (...)`) and stores nothing else there.
bool holdsNewTable(const VarDecl *V, const FunctionDecl *Owner);

/// \p V, a local pointer of \p Owner, holds only tables \p Owner made
/// (holdsNewTable) and gives them to nobody: every use of it is the table of
/// a GLib table call (`g_hash_table_insert (t, ...)`, `_foreach (t, ...)`,
/// `_iter_init (&it, t)`, `_unref (t)`; not `g_hash_table_ref`), a test, an
/// assignment to it, or
/// `g_clear_pointer (&t, ...)`. No other object can reach such a table
/// (bench/realworld R47).
bool holdsPrivateNewTable(const VarDecl *V, const FunctionDecl *Owner);

/// \p V, a local pointer of \p Owner, holds only references \p Owner took:
/// every value is null, a new table, `g_hash_table_ref (...)`, or a call to a
/// function that returns new references. A function returns new references
/// when some return is provably one and none is borrowed (a field, a
/// parameter, a global): a function that hands out a new reference on one
/// path hands out one on every path (GLib's transfer is per function). So a
/// local given the result of a function with no body counts too when
/// \p Owner returns it and returns new references (tracker's
/// `tracker_sparql_get_effective_graphs`).
bool holdsOwnReference(const VarDecl *V, const FunctionDecl *Owner);

/// \p AddrOf (`&c->f`, `&t`) is the address GLib's `g_clear_pointer (pp,
/// destroy)` is given (the macro or the function of that name; also through
/// `g_clear_object`): only NULL is stored through it.
bool clearedThroughAddress(const UnaryOperator *AddrOf, ASTContext &Ctx);

/// \p E through GLib's `g_hash_table_ref (x)`, which returns its argument:
/// `x` (nested calls too); \p E itself when it is no such call.
const Expr *throughTableRef(const Expr *E);

/// \p E through GObject's checked cast `FOO (obj)`, whose
/// `g_type_check_instance_cast (obj, type)` returns its argument: `obj`
/// (nested casts too); \p E itself when it is no such call.
const Expr *throughInstanceCast(const Expr *E);

/// The table local \p V of \p Owner stands for when every value it is given
/// (its initializer and its assignments, nulls aside) is `g_hash_table_ref
/// (x)` of one expression `x`: `t = g_hash_table_ref (self->items)` is
/// `self->items`, the count aside. Null otherwise.
/// FIXME: as for a local initialized with `x` (placeOfPointer), a store
/// through `&V` (`g_clear_pointer (&t, ...)`, or a helper's) is not read.
const Expr *referencedTable(const VarDecl *V, const FunctionDecl *Owner);

/// Marks the map operation \p E, whose map is in \p FD's terms, as one on a
/// table \p FD made (Effect::NewMap) or as the `g_hash_table_unref` of a
/// reference \p FD took (Effect::OwnReference), when its map is a local of
/// \p FD that holds only those.
void markOwnTable(Effect &E, const FunctionDecl *FD);

/// Struct \p From can reach struct \p To through its fields: itself, an
/// embedded struct or a pointer to a struct, transitively (`Entry` reaches
/// `Manager` through `Entry.manager`). `void *` fields reach nothing; a
/// search that grows too large answers true.
bool recordReaches(const RecordDecl *From, const RecordDecl *To);

/// The pointer fields the translation unit stores nothing but new tables
/// (or null) into: `id->formats = g_hash_table_new (...)`, in assignments
/// and initializer lists, or no store at all. A field whose address is
/// taken, or that is given any other value (`item->container = ix->ids`),
/// is not one. Built on first use, one walk of the TU.
/// The same for global variables (`payloads = g_hash_table_new (...)`); a
/// global of another file's reach (not `static`) must be given a value here.
/// FIXME: stores in other files are not seen.
class NewTableFields {
public:
  explicit NewTableFields(ASTContext &Ctx) : Ctx(Ctx) {}
  bool noOtherTables(const FieldDecl *F);
  bool globalHoldsNewTables(const VarDecl *G);
  /// \p A and \p B are two fields the TU gives values, each only the
  /// result of its own call that makes a new table (`f->a = g_hash_table_new
  /// (...)`, never a variable that could also go to the other) or null: they
  /// never hold the same table (bench/realworld R39).
  bool distinctNewTableFields(const FieldDecl *A, const FieldDecl *B);

private:
  void build();
  ASTContext &Ctx;
  bool Built = false;
  struct Stores {
    bool AllNew = true; ///< Every store so far is a new table or null.
    bool OwnCalls = true; ///< ... and each new table a call's result.
    bool Given = false;   ///< Some store gives it a table.
  };
  llvm::DenseMap<const FieldDecl *, Stores> Fields;
  llvm::DenseMap<const VarDecl *, Stores> Globals;
  friend class NewTableStoreVisitor;
};

} // namespace clang::tidy::tsmap

#endif
