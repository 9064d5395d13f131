//===--- HeldLocks.cpp - locks taken and held, judged by name -------------===//

#include "HeldLocks.h"
#include "clang/AST/ExprCXX.h"
#include "llvm/ADT/StringExtras.h"
#include <optional>

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

namespace {
enum class TagKind { TryToLock, DeferLock, AdoptLock };
} // namespace

/// The tag of `std::try_to_lock`, `std::defer_lock` or `std::adopt_lock`
/// passed as \p Arg to a lock guard's constructor.
static std::optional<TagKind> lockTagOf(const Expr *Arg) {
  const CXXRecordDecl *RD = Arg->getType()->getAsCXXRecordDecl();
  if (!RD || !RD->getIdentifier() || !RD->isInStdNamespace())
    return std::nullopt;
  llvm::StringRef Name = RD->getName();
  if (Name == "try_to_lock_t")
    return TagKind::TryToLock;
  if (Name == "defer_lock_t")
    return TagKind::DeferLock;
  if (Name == "adopt_lock_t")
    return TagKind::AdoptLock;
  return std::nullopt;
}

/// Words \p Words have `try` right before `lock` (`try_lock`, `tryLock`,
/// `try_lock_for`): C++'s trylock, a `bool` true when taken.
static bool hasTryLock(const std::vector<std::string> &Words) {
  for (size_t I = 0; I + 1 < Words.size(); ++I)
    if (Words[I] == "try" && (Words[I + 1] == "lock" || Words[I + 1] == "wrlock"))
      return true;
  return false;
}

/// What statement \p S does to a lock, judged by name: a call to
/// `pthread_mutex_lock`, `mtx_lock`, `pthread_rwlock_wrlock`,
/// `spin_lock_irqsave`, `lock_metric`, `m.lock()` or GLib's
/// `g_mutex_locker_new` (also `g_rec_mutex_locker_new`,
/// `g_rw_lock_writer_locker_new`) takes one; a `*trylock*` call, and in
/// C++ a member `try_lock`, `try_lock_for` or `try_lock_until`, takes one
/// only where its result says so; `*unlock*`, `*release*` and
/// `g_mutex_locker_free` release one. In C++ the construction of a
/// `lock_guard`, `unique_lock` or `scoped_lock` takes one; given
/// `std::try_to_lock` only where `owns_lock ()` says so, given
/// `std::defer_lock` none. Lock guards are released at the end of their
/// scope, which this check does not track. Read locks (`rcu_read_lock`,
/// `pthread_rwlock_rdlock`, `g_rw_lock_reader_lock`, `lock_shared`,
/// `try_lock_shared`) do not exclude readers and do not count.
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
    if (!Guard)
      return LockAction::None;
    // `unique_lock l (m, std::try_to_lock)` takes the lock only where
    // `l.owns_lock ()` (or `l`) says so; with `std::defer_lock` it takes none
    // (a later `l.lock ()` or `l.try_lock ()` does).
    for (const Expr *Arg : CE->arguments()) {
      std::optional<TagKind> Tag = lockTagOf(Arg);
      if (Tag == TagKind::TryToLock)
        return LockAction::TryTake;
      if (Tag == TagKind::DeferLock)
        return LockAction::None;
    }
    return LockAction::Take;
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
  bool SharedAfterLock = false;
  for (size_t I = 0; I + 1 < Words.size(); ++I)
    if (Words[I] == "lock" && Words[I + 1] == "shared")
      SharedAfterLock = true; // `try_lock_shared_for`
  // `l.owns_lock ()` asks; it takes nothing.
  if (Has({"read", "reader", "rdlock", "owns"}) || SharedAfterLock ||
      Name.ends_with_insensitive("lockshared"))
    return LockAction::None;
  if (Has({"trylock", "trywrlock"}))
    return LockAction::TryTake;
  // C++'s member `m.try_lock ()`, `try_lock_for`, `try_lock_until`
  // (std::mutex, std::timed_mutex, std::shared_mutex, std::unique_lock, and
  // a class of the project's with such a member), true when taken. Not a
  // free function (the free `std::try_lock (a, b, ...)` returns -1 when it
  // took them all): read as taken, as before.
  if (hasTryLock(Words) && isa<CXXMethodDecl>(cast<CallExpr>(S)->getDirectCallee()))
    return LockAction::TryTake;
  if (Has({"lock", "wrlock", "spinlock", "locker"}))
    return LockAction::Take;
  return LockAction::None;
}

/// The local guard that construct expression \p CE initializes (`l` of
/// `std::unique_lock<std::mutex> l (m, std::try_to_lock);`), else null.
static const VarDecl *guardOf(const CXXConstructExpr *CE, const FunctionFlow &Flow) {
  const VarDecl *Found = nullptr;
  Flow.forEachElement([&](const Stmt *S, FunctionFlow::Point) {
    const auto *DS = dyn_cast<DeclStmt>(S);
    if (!DS || Found)
      return;
    for (const Decl *D : DS->decls())
      if (const auto *V = dyn_cast<VarDecl>(D);
          V && V->getInit() && V->getInit()->IgnoreImplicit() == CE)
        Found = V;
  });
  return Found;
}

/// Whether guard \p Guard owns its lock where condition \p Cond is
/// \p Truth: `l.owns_lock ()`, `l` (its `operator bool`), `!` of one;
/// nothing for a condition that tests neither.
static std::optional<bool> ownsWhen(const Expr *Cond, const VarDecl *Guard,
                                    bool Truth) {
  const Expr *E = Cond->IgnoreParenImpCasts();
  if (const auto *UO = dyn_cast<UnaryOperator>(E); UO && UO->getOpcode() == UO_LNot)
    return ownsWhen(UO->getSubExpr(), Guard, !Truth);
  const auto *MC = dyn_cast<CXXMemberCallExpr>(E);
  const CXXMethodDecl *M = MC ? MC->getMethodDecl() : nullptr;
  if (!M)
    return std::nullopt;
  bool Owns = isa<CXXConversionDecl>(M) ||
              (M->getIdentifier() && M->getName() == "owns_lock");
  const auto *Obj = MC->getImplicitObjectArgument();
  const auto *DRE = Obj ? dyn_cast<DeclRefExpr>(Obj->IgnoreParenImpCasts()) : nullptr;
  if (!Owns || !DRE || DRE->getDecl() != Guard)
    return std::nullopt;
  return Truth;
}

/// The lock taken by \p Lock (at \p LockAt) is still held at \p At on some
/// path of \p Flow that no \p Unlocks statement ends. A trylock holds it
/// only past a test that reads its result as success: 0 for an `int`
/// (`pthread_mutex_trylock`, `mtx_trylock`), true for a `gboolean`
/// (`g_mutex_trylock`); a trylock whose result is not tested counts as held.
bool heldAt(const Stmt *Lock, FunctionFlow::Point LockAt,
                   FunctionFlow::Point At, const FunctionFlow &Flow,
                   llvm::function_ref<bool(const Stmt *)> Unlocks) {
  bool Try = lockActionOf(Lock) == LockAction::TryTake;
  if (const auto *CE = dyn_cast<CXXConstructExpr>(Lock); CE && Try) {
    // `std::unique_lock<std::mutex> l (m, std::try_to_lock);`: held past a
    // test of `l.owns_lock ()` or `l` that says so; untested, it counts as
    // held, as an untested trylock does.
    const VarDecl *Guard = guardOf(CE, Flow);
    return Flow.reachesWithout(
        LockAt, At, Unlocks, [&](const CFGBlock *B, unsigned I) {
          // A `&&` or `||` block's condition is its left operand, which
          // its two edges follow.
          const auto *Cond = dyn_cast_or_null<Expr>(B->getTerminatorCondition());
          if (!Guard || !Cond || B->succ_size() != 2)
            return false;
          std::optional<bool> Owns = ownsWhen(Cond, Guard, I == 0);
          return Owns && !*Owns;
        });
  }
  const auto *Call = dyn_cast<CallExpr>(Lock);
  if (!Call || !Try)
    return Flow.reachesWithout(LockAt, At, Unlocks,
                               [](const CFGBlock *, unsigned) { return false; });
  PublishOutcome Taken(Call, Flow);
  Taken.setReading(StatusReading::ZeroIsSuccess);
  return Flow.reachesWithout(LockAt, At, Unlocks, Taken);
}

} // namespace clang::tidy::tsmap
