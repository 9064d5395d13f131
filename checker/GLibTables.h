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
//     A key the insert copies (`g_strdup(path)`) is the same key as its source
//     only in a table whose equal function compares what the keys point to
//     (g_str_equal for a string copy), which is known once the creation is.
//
//===----------------------------------------------------------------------===//

#ifndef TSMAP_CHECKER_GLIBTABLES_H
#define TSMAP_CHECKER_GLIBTABLES_H

#include "clang/AST/ASTContext.h"
#include "clang/AST/Expr.h"
#include "clang/Analysis/CFG.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"
#include <optional>

namespace clang::tidy::tsmap {

/// What a GHashTable call does to the values of its table (argument 0).
enum class GLibOp {
  None,
  Create,        ///< g_hash_table_new, g_hash_table_new_full
  Remove,        ///< g_hash_table_remove: the hook runs on one value
  IterRemove,    ///< g_hash_table_iter_remove: as Remove, on the table the
                 ///< iterator was set up with
  RemoveAll,     ///< g_hash_table_remove_all, _foreach_remove, _destroy,
                 ///< _unref: on several
  Steal,         ///< g_hash_table_steal: the caller holds the value
  IterSteal,     ///< g_hash_table_iter_steal: the iterator's last value
  StealExtended, ///< g_hash_table_steal_extended (stolen_value, argument 3)
  ForeachSteal,  ///< g_hash_table_foreach_steal: its callback owns them
  Insert,        ///< g_hash_table_insert
  Replace,       ///< g_hash_table_replace
  Add,           ///< g_hash_table_add: a set, `replace (t, key, key)`
  Lookup,        ///< g_hash_table_lookup, _contains, _lookup_extended
};

/// How a table's key_equal_func compares two keys.
enum class KeyEquality {
  Unknown, ///< A function the check does not know, or several creations.
  Pointer, ///< NULL or g_direct_equal: the pointers themselves.
  String,  ///< g_str_equal: the strings they point to.
  Pointee, ///< g_int_equal, g_int64_equal, g_double_equal: the numbers.
};

/// A key passed as a fresh copy of another expression.
enum class KeyCopy {
  None,
  String, ///< g_strdup(x), strdup(x), g_strndup(x, strlen(x)), strndup(...)
  Bytes,  ///< g_memdup2(x, n), g_memdup(x, n)
};

/// The copy \p Equal compares equal to its source: a string copy under
/// g_str_equal, a byte copy under g_int_equal and its kin.
bool copyComparesEqual(KeyCopy Copy, KeyEquality Equal);

/// The expression \p Key copies, and how: `g_strdup(x)`, `strdup(x)`,
/// `g_strndup(x, strlen(x))` (a shorter length copies a prefix: another
/// key), `g_memdup2(x, n)`; {null, None} if \p Key is no such copy.
std::pair<const Expr *, KeyCopy> keyCopiedFrom(const Expr *Key,
                                               const ASTContext &Ctx);

/// The GHashTable operation \p FD is, by its name.
GLibOp glibOpOf(const FunctionDecl *FD);

/// The variable or field a table expression names: `t`, `&t`, `m->cache`,
/// `FOO(obj)->priv->cache` (the last field). A variable is named by its first
/// declaration, so that a redeclaration (`static tsmap *m;` twice, an `extern`
/// then the definition) is the same table.
const ValueDecl *tableDeclOf(const Expr *E);

/// The last `g_hash_table_iter_init (&it, table)` in \p Body before \p Use
/// (a call given the same iterator first, `g_hash_table_iter_next (&it,
/// ...)`), which says what table the iterator walks; null if none.
const CallExpr *iteratorInitOf(const CallExpr *Use, const Stmt *Body,
                               const SourceManager &SM);

/// The last `g_hash_table_iter_next (&it, ...)` in \p Body before \p Use (a
/// call given the same iterator first); null if none.
const CallExpr *iteratorNextOf(const CallExpr *Use, const Stmt *Body,
                               const SourceManager &SM);

/// The local \p Next (a g_hash_table_iter_next) writes the key into: `k` of
/// `&k`, `name` of `(gpointer *) &name`; null if it passes no local.
const VarDecl *iteratedKeyOf(const CallExpr *Next);

/// The local \p Next (a g_hash_table_iter_next) writes the value into: `v` of
/// `&v`, `w` of `(gpointer *) &w`; null if it passes no local.
const VarDecl *iteratedValueOf(const CallExpr *Next);

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
    /// How key_equal_func (argument 1) compares keys.
    KeyEquality Equal = KeyEquality::Unknown;
  };
  /// Learns from creation \p Call (g_hash_table_new or _new_full).
  void learnCreation(const CallExpr *Call, ASTContext &Ctx);
  /// Learns from every creation in the translation unit (for a check that
  /// asks after the matchers ran past them, or before they reach them).
  void learnTranslationUnit(ASTContext &Ctx);
  /// How \p Table was created, if that is visible; each side's Opaque says
  /// whether its destroy function is known.
  const Creation *creationOf(const ValueDecl *Table) const;
  void clear() { Created.clear(); }

private:
  llvm::DenseMap<const ValueDecl *, Creation> Created;
};

/// Whether, on every path from the entry of \p G to \p Insert (a
/// g_hash_table_insert in function \p FD), a lookup of the same key in the
/// same table reported the key absent, so that the insert cannot overwrite:
/// `Same` for the same key expression; for an insert of a copy of the
/// lookup's key (`insert(t, g_strdup(path), v)` after `lookup(t, path)`), the
/// kind of copy, which holds only if the table's equality compares contents
/// (copyComparesEqual); else `None`.
struct FailedLookup {
  bool Same = false;
  KeyCopy Copied = KeyCopy::None;
};
FailedLookup insertFollowsFailedLookup(const CallExpr *Insert,
                                       const FunctionDecl *FD, const CFG &G,
                                       ASTContext &Ctx);

/// A lookup of a key in a table, read off a call: `g_hash_table_lookup`,
/// `_contains` or `_lookup_extended` (argument 0 the table, 1 the key), or a
/// thin wrapper of one, a function of the translation unit that returns such
/// a lookup of two of its own parameters, never assigned, and a null (or 0)
/// only where its table parameter is null: `return lookup (t, k);`, `if (t)
/// return lookup (t, k); return NULL;` (pacemaker's pe_hash_table_lookup),
/// `if (!t) return NULL; ...`, `return t ? lookup (t, k) : NULL;` (up to
/// two wrappers deep). Its table and key are the wrapper call's arguments.
struct TableLookup {
  const Expr *Table = nullptr;
  const Expr *Key = nullptr;
};
std::optional<TableLookup> tableLookupOf(const CallExpr *Call, unsigned Depth = 0);

class FunctionFlow;

/// The keys of the lookups (tableLookupOf) in the table \p Store changes (its
/// argument 0, the same expression) each of which reported its key absent on every
/// path from the entry of \p Flow's function to \p Store (a
/// g_hash_table_insert, _replace or _add): every path to \p Store passes the
/// lookup, and then leaves a test of its result on the side where it found
/// nothing (`v == NULL`, `!v`, `!g_hash_table_contains (...)`, read by
/// CallOutcome: not a test of a local given another value since). So the
/// store runs only when the key was absent (`if (!lookup (t, a) && !lookup (t,
/// b))` gives both). Empty when there is no such lookup.
llvm::SmallVector<const Expr *, 2> failedLookupKeys(const CallExpr *Store,
                                                   const FunctionFlow &Flow);

/// The local that a g_hash_table_lookup of \p Steal's key in its table was
/// stored into earlier in \p FD, or that a g_hash_table_lookup_extended of
/// it wrote its value into (the value the steal hands over); or null.
const VarDecl *lookedUpValueOf(const CallExpr *Steal, const FunctionDecl *FD,
                               ASTContext &Ctx);

} // namespace clang::tidy::tsmap

#endif
