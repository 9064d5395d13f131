//===--- GLibTables.h - GLib's GHashTable value lifecycle -----------------===//
//
// What GLib's GHashTable calls do to the values of a table, for
// tsmap-remove-without-cleanup (with the shipped `glib` model on):
//   - g_hash_table_new_full(hash, equal, key_destroy, value_destroy) gives
//     the table its eviction hooks: value_destroy for values, key_destroy
//     for keys (NULL: none); g_hash_table_new gives it none. The hooks are
//     tracked to the variable or field the new table is stored in, within
//     one translation unit;
//   - g_hash_table_remove, _remove_all and _foreach_remove run the hook, and
//     so do g_hash_table_destroy and _unref (the last reference), on every
//     value;
//   - g_hash_table_steal hands the value to the caller, who holds it from a
//     lookup (or lookup_extended) of the same key; _steal_extended hands it back through
//     stolen_value (NULL drops it with no hook); _foreach_steal hands each
//     value to its callback;
//   - g_hash_table_insert overwrites unless a lookup of the same key in the
//     same table failed on every path to it; g_hash_table_replace always may.
//
//===----------------------------------------------------------------------===//

#ifndef TSMAP_CHECKER_GLIBTABLES_H
#define TSMAP_CHECKER_GLIBTABLES_H

#include "clang/AST/ASTContext.h"
#include "clang/AST/Expr.h"
#include "clang/Analysis/CFG.h"
#include "llvm/ADT/DenseMap.h"

namespace clang::tidy::tsmap {

/// What a GHashTable call does to the values of its table (argument 0).
enum class GLibOp {
  None,
  Create,        ///< g_hash_table_new, g_hash_table_new_full
  Remove,        ///< g_hash_table_remove: the hook runs on one value
  RemoveAll,     ///< g_hash_table_remove_all, _foreach_remove, _destroy,
                 ///< _unref: on several
  Steal,         ///< g_hash_table_steal: the caller holds the value
  StealExtended, ///< g_hash_table_steal_extended (stolen_value, argument 3)
  ForeachSteal,  ///< g_hash_table_foreach_steal: its callback owns them
  Insert,        ///< g_hash_table_insert
  Replace,       ///< g_hash_table_replace
  Lookup,        ///< g_hash_table_lookup, _contains, _lookup_extended
};

/// The GHashTable operation \p FD is, by its name.
GLibOp glibOpOf(const FunctionDecl *FD);

/// The variable or field a table expression names: `t`, `&t`, `m->cache`,
/// `FOO(obj)->priv->cache` (the last field).
const ValueDecl *tableDeclOf(const Expr *E);

/// \p A and \p B are the same expression (casts and parentheses aside).
bool sameExpr(const Expr *A, const Expr *B, const ASTContext &Ctx);

/// The variable or field the result of \p Call is stored into, through
/// casts: `T *v = call(...)`, `v = call(...)`, `m->f = call(...)`.
const ValueDecl *assignedFrom(const CallExpr *Call, ASTContext &Ctx);

/// The tables of one translation unit, with how each was created.
class GLibTables {
public:
  /// One destroy function of a table.
  struct Destroy {
    /// The function; null when the table has none.
    const FunctionDecl *Fn = nullptr;
    /// Not a function name (a variable), or different creations disagree:
    /// unknown.
    bool Opaque = false;
  };
  struct Creation {
    const CallExpr *Call = nullptr;
    Destroy Value; ///< value_destroy_func (argument 3)
    Destroy Key;   ///< key_destroy_func (argument 2)
  };
  /// Learns from creation \p Call (g_hash_table_new or _new_full).
  void learnCreation(const CallExpr *Call, ASTContext &Ctx);
  /// How \p Table was created, if that is visible; each side's Opaque says
  /// whether its destroy function is known.
  const Creation *creationOf(const ValueDecl *Table) const;
  void clear() { Created.clear(); }

private:
  llvm::DenseMap<const ValueDecl *, Creation> Created;
};

/// On every path from the entry of \p G to \p Insert (a g_hash_table_insert
/// in function \p FD), a lookup of the same key in the same table reported
/// the key absent: the insert cannot overwrite.
bool insertFollowsFailedLookup(const CallExpr *Insert, const FunctionDecl *FD,
                               const CFG &G, ASTContext &Ctx);

/// The local that a g_hash_table_lookup of \p Steal's key in its table was
/// stored into earlier in \p FD, or that a g_hash_table_lookup_extended of
/// it wrote its value into (the value the steal hands over); or null.
const VarDecl *lookedUpValueOf(const CallExpr *Steal, const FunctionDecl *FD,
                               ASTContext &Ctx);

} // namespace clang::tidy::tsmap

#endif
