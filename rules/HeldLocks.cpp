//===--- HeldLocks.cpp - locks taken and held, judged by name -------------===//

#include "HeldLocks.h"
#include "clang/AST/ExprCXX.h"
#include "llvm/ADT/StringExtras.h"

namespace clang::tidy::tsmap {

/// The words of identifier \p Name, lower case: `pthread_mutex_lock` ->
/// {pthread, mutex, lock}; `lockMetric` -> {lock, metric}.
static std::vector<std::string> nameWords(llvm::StringRef Name) {
  std::vector<std::string> Words;
  std::string Cur;
  for (size_t I = 0; I < Name.size(); ++I) {
    char C = Name[I];
    bool Boundary = C == '_' || C == ':' ||
                    (llvm::isUpper(C) && I > 0 && llvm::isLower(Name[I - 1]));
    if (Boundary && !Cur.empty()) {
      Words.push_back(Cur);
      Cur.clear();
    }
    if (C != '_' && C != ':')
      Cur += llvm::toLower(C);
  }
  if (!Cur.empty())
    Words.push_back(Cur);
  return Words;
}

/// What statement \p S does to a lock, judged by name: a call to
/// `pthread_mutex_lock`, `mtx_lock`, `pthread_rwlock_wrlock`,
/// `spin_lock_irqsave`, `lock_metric`, `m.lock()` or GLib's
/// `g_mutex_locker_new` (also `g_rec_mutex_locker_new`,
/// `g_rw_lock_writer_locker_new`) takes one; a `*trylock*` call takes one
/// only where its result says so; `*unlock*`, `*release*` and
/// `g_mutex_locker_free` release one. In C++ the construction of a
/// `lock_guard`, `unique_lock` or `scoped_lock` takes one. Lock guards are
/// released at the end of their scope, which this check does not track.
/// Read locks (`rcu_read_lock`, `pthread_rwlock_rdlock`,
/// `g_rw_lock_reader_lock`, `lock_shared`) do not exclude readers and do
/// not count.
LockAction lockActionOf(const Stmt *S) {
  llvm::StringRef Name;
  if (const auto *CE = dyn_cast<CallExpr>(S)) {
    const FunctionDecl *FD = CE->getDirectCallee();
    if (!FD || !FD->getIdentifier())
      return LockAction::None;
    Name = FD->getName();
  } else if (const auto *CE = dyn_cast<CXXConstructExpr>(S)) {
    const CXXRecordDecl *RD = CE->getConstructor()->getParent();
    if (!RD || !RD->getIdentifier())
      return LockAction::None;
    llvm::StringRef Type = RD->getName();
    bool Guard = Type == "lock_guard" || Type == "unique_lock" ||
                 Type == "scoped_lock";
    return Guard ? LockAction::Take : LockAction::None;
  } else {
    return LockAction::None;
  }
  std::vector<std::string> Words = nameWords(Name);
  auto Has = [&](std::initializer_list<llvm::StringRef> Set) {
    return llvm::any_of(Words, [&](const std::string &W) {
      return llvm::is_contained(Set, W);
    });
  };
  if (Has({"unlock", "release"}) || (Has({"locker"}) && Has({"free"})))
    return LockAction::Release;
  // `shared` alone is a common word in names of exclusive locks
  // (`shared_state_lock`): only a name ending in it after `lock` is a read lock.
  if (Has({"read", "reader", "rdlock"}) ||
      Name.ends_with_insensitive("lock_shared") ||
      Name.ends_with_insensitive("lockshared"))
    return LockAction::None;
  if (Has({"trylock", "trywrlock"}))
    return LockAction::TryTake;
  if (Has({"lock", "wrlock", "spinlock", "locker"}))
    return LockAction::Take;
  return LockAction::None;
}

/// The lock taken by \p Lock (at \p LockAt) is still held at \p At on some
/// path of \p Flow that no \p Unlocks statement ends. A trylock holds it
/// only past a test that reads its result as success: 0 for an `int`
/// (`pthread_mutex_trylock`, `mtx_trylock`), true for a `gboolean`
/// (`g_mutex_trylock`); a trylock whose result is not tested counts as held.
bool heldAt(const Stmt *Lock, FunctionFlow::Point LockAt,
                   FunctionFlow::Point At, const FunctionFlow &Flow,
                   llvm::function_ref<bool(const Stmt *)> Unlocks) {
  const auto *Call = dyn_cast<CallExpr>(Lock);
  if (!Call || lockActionOf(Lock) != LockAction::TryTake)
    return Flow.reachesWithout(LockAt, At, Unlocks,
                               [](const CFGBlock *, unsigned) { return false; });
  PublishOutcome Taken(Call, Flow);
  Taken.setReading(StatusReading::ZeroIsSuccess);
  return Flow.reachesWithout(LockAt, At, Unlocks, Taken);
}

} // namespace clang::tidy::tsmap
