//===--- SelfEvictingMaps.h - maps that evict entries on their own --------===//
//
// A libtsmap map created with a time-to-live (`expiry`, `default_ttl_ns`) or a
// bound (`max_entries`, `max_weight`) in its tsmap_config evicts entries with
// no removal call in the program: each one leaves through the config's
// on_entry_evicted hook. For tsmap-remove-without-cleanup, such a map is a
// discarded removal that happens on its own: if its values owe a cleanup, the
// hook must perform it, or there must be one at all.
//
// selfEvictingMapOf() reads the config a `tsmap_create(&cfg, &map)` call is
// given from the assignments to `cfg`'s fields (and its initializer) in the
// function that makes the call. A config built elsewhere (a parameter, a
// pointer we cannot follow) is not judged.
//
//===----------------------------------------------------------------------===//

#ifndef TSMAP_CHECKER_SELFEVICTINGMAPS_H
#define TSMAP_CHECKER_SELFEVICTINGMAPS_H

#include "ContractModel.h"
#include "RemovalPaths.h"
#include "clang-tidy/ClangTidyCheck.h"
#include "clang/AST/ASTContext.h"
#include "clang/AST/Expr.h"
#include <optional>
#include <string>
#include <vector>

namespace clang::tidy::tsmap {

/// A map whose config makes it evict on its own.
struct SelfEvictingMap {
  const CallExpr *Create = nullptr; ///< The tsmap_create call.
  const ValueDecl *Map = nullptr;   ///< The variable or field it creates into.
  const Expr *Setting = nullptr;    ///< Where the TTL or bound is set.
  std::string SettingName;          ///< The config field set ("default_ttl_ns").
  const FunctionDecl *Hook = nullptr; ///< on_entry_evicted, if the config sets one.
  const Expr *HookSetting = nullptr;  ///< Where it is set.
};

/// If \p Call creates a libtsmap map from a config, read in the body of the
/// function around the call, that sets an expiry or a bound (and does not set
/// on_entry_evicted to something other than a named function or null),
/// describes it. Any other call costs a name comparison.
std::optional<SelfEvictingMap> selfEvictingMapOf(const CallExpr *Call,
                                                 ASTContext &Ctx);

/// The map variable or field that a `tsmap_close(map)` or
/// `tsmap_destroy(map)` call of libtsmap closes: every value still in it
/// leaves through its eviction hook (TSMAP_EVICT_CLOSED). Null for any other
/// call.
const ValueDecl *closedMapOf(const CallExpr *Call);

/// The eviction hook a `tsmap_create(&cfg, &map)` call's config gives the
/// map (read as for selfEvictingMapOf, whatever else the config sets): a
/// named function (Hook), set to null (Set, no Hook), left unset (neither:
/// the map's annotation then says), or something else (Unknown: a variable,
/// a call).
struct ConfigHook {
  const ValueDecl *Map = nullptr;
  const FunctionDecl *Hook = nullptr;
  bool Set = false;
  bool Unknown = false;
};
std::optional<ConfigHook> configHookOf(const CallExpr *Call, ASTContext &Ctx);

/// Reports \p M on \p Check when its values (type \p ValueType, cleanups
/// \p Cs) owe a cleanup its eviction hook never performs: no hook (in the
/// config, or TSMAP_EVICTS_WITH on the map through \p Model), or one whose
/// body (followed \p Policy.MaxCallDepth calls deep) never calls it and
/// does not hand the value to a function it cannot see. Returns the
/// contract it reported, for the caller's note on where it is declared.
const CleanupContract *reportSelfEviction(ClangTidyCheck &Check,
                                          const SelfEvictingMap &M,
                                          const std::vector<CleanupContract> &Cs,
                                          const ContractModel &Model,
                                          ASTContext &Ctx, const RemovalPolicy &Policy);

} // namespace clang::tidy::tsmap

#endif
