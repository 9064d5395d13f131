//===--- Models.cpp - contracts shipped for APIs users cannot annotate ---===//
//
// Each model is a `Contracts` option value (grammar in docs/contracts-option.md).

#include "Models.h"

namespace clang::tidy::tsmap {

namespace {
struct ShippedModel {
  llvm::StringLiteral Name;
  llvm::StringLiteral Entries;
};

// GLib's GHashTable is not thread-safe, but its iteration callbacks run while
// the table must not be modified: TSMAP_CALLBACK_LOCKED semantics. Inserting
// or removing from inside g_hash_table_foreach corrupts the iteration.
// g_hash_table_insert/replace overwrite an existing value (its destroy
// notifier, if any, is the eviction hook). What the other removals do to the
// value, and which destroy function a table was created with, is not a
// contract: tsmap-remove-without-cleanup reads it in checker/GLibTables.
constexpr llvm::StringLiteral GLib =
    "GHashTable=thread_safe_map;"
    "g_hash_table_foreach(func)=callback_locked;"
    "g_hash_table_foreach_remove(func)=callback_locked;"
    "g_hash_table_foreach_steal(func)=callback_locked;"
    "g_hash_table_find(predicate)=callback_locked;"
    "g_hash_table_insert=replaces;"
    "g_hash_table_replace=replaces;"
    "g_hash_table_add=replaces;"
    "g_hash_table_steal_extended(stolen_value)=removed_out";

// liburcu's lock-free hash table runs `match` any number of times, from any
// thread, while it probes: it must be a pure comparison. cds_lfht_add_replace
// returns the node it replaced; the caller owns it (and must defer its free).
constexpr llvm::StringLiteral LibUrcu =
    "cds_lfht=thread_safe_map;"
    "cds_lfht_lookup(match)=callback;"
    "cds_lfht_add_unique(match)=callback;"
    "cds_lfht_add_replace(match)=callback;"
    "cds_lfht_add_replace=returns_removed";

// libvirt's util/virhash wraps GHashTable (its maps are GHashTable, a map by the
// glib model): virHashForEach walks the table with an iterator, virHashRemoveSet
// is g_hash_table_foreach_remove and virHashSearch g_hash_table_find, so their
// callbacks run mid-iteration. virHashForEachSafe and virHashForEachSorted walk a
// copy of the items and may change the table. Their bodies are in another file,
// so without this a callback handed to them is not followed (bench/realworld
// R25: a real re-entry in libvirt's nwfilter, LV-1). The readers are in
// tsmap-reentrant-callback's AllowedMapOperations. Before libvirt 7.0 the
// tables were its own `struct _virHashTable` (virHashTablePtr), which refuses
// changes during a walk the same way: a map too.
constexpr llvm::StringLiteral LibVirt =
    "virHashTable=thread_safe_map;"
    "virHashForEach(iter)=callback_locked;"
    "virHashRemoveSet(iter)=callback_locked;"
    "virHashSearch(iter)=callback_locked";

constexpr ShippedModel Models[] = {
    {"glib", GLib}, {"liburcu", LibUrcu}, {"libvirt", LibVirt}};
} // namespace

std::optional<llvm::StringRef> shippedModel(llvm::StringRef Name) {
  for (const ShippedModel &M : Models)
    if (M.Name == Name)
      return llvm::StringRef(M.Entries);
  return std::nullopt;
}

std::string knownModelNames() {
  std::string Names;
  for (const ShippedModel &M : Models)
    Names += (Names.empty() ? "" : ", ") + M.Name.str();
  return Names;
}

} // namespace clang::tidy::tsmap
