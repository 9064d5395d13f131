//===--- EffectSummary.cpp - what a function does, in terms of its parameters =//
//
// How a summary is built (see EffectSummary.h for what it means):
//   1. The body of each function is walked once (`scanBody`): its own effects
//      go into `Local`, and every call to a function with a body that the
//      analysis looks into goes into `Calls`.
//   2. `summary()` runs Tarjan's algorithm from the function asked about over
//      the `Calls` edges. When a strongly connected component is complete, the
//      summaries of its members start from their `Local` effects and take in
//      the effects of their callees, translated through the call's arguments,
//      until nothing changes (a fixpoint; effects are a set, so it ends).
//   3. Summaries are capped (MaxEffectsPerKind, so a function that calls a
//      hundred library functions still keeps its counters) and effects deeper
//      than MaxCallDepth
//      are dropped, so the cost stays linear in the size of the TU.
//
//===----------------------------------------------------------------------===//

#include "EffectSummary.h"
#include "CallbackResolution.h"
#include "GLibTables.h"
#include "ObjectOrigins.h"
#include "clang/AST/ASTContext.h"
#include "clang/AST/ExprCXX.h"
#include "clang/AST/StmtVisitor.h"
#include "clang/Lex/Lexer.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/Hashing.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/StringSwitch.h"
#include <map>
#include <tuple>

namespace clang::tidy::tsmap {

// ===----------------------------------------------------------------------===
// Name lists
// ===----------------------------------------------------------------------===

// Keep in step with rules/tsmap-non-idempotent-callback.md ("Default list").
static constexpr llvm::StringLiteral DefaultNonIdempotent[] = {
    // Network and IPC sends: the peer sees every copy.
    "send", "sendto", "sendmsg", "sendmmsg", "write", "writev", "mq_send",
    "mq_timedsend", "msgsnd", "eventfd_write", "sem_post", "SSL_write",
    "zmq_send", "zmq_msg_send", "nng_send", "g_socket_send",
    // Process control: a second child, a second signal.
    "kill", "killpg", "raise", "pthread_kill", "fork", "vfork", "system",
    "popen", "execl", "execlp", "execle", "execv", "execvp", "execvpe",
    "execve", "fexecve", "posix_spawn", "posix_spawnp",
    // File-system mutation: the second call fails or does it again.
    "unlink", "unlinkat", "rename", "renameat", "renameat2", "mkdir",
    "mkdirat", "rmdir", "remove", "link", "linkat", "symlink", "symlinkat",
    // Client libraries: each call is a request to another system.
    "curl_easy_perform", "curl_multi_perform", "redisCommand",
    "redisCommandArgv", "redisAppendCommand", "redisAsyncCommand",
    "mysql_query", "mysql_real_query", "PQexec", "PQexecParams",
    "PQexecPrepared", "PQsendQuery", "sqlite3_exec", "amqp_basic_publish",
    "rd_kafka_produce", "rd_kafka_producev",
};

llvm::ArrayRef<llvm::StringRef> defaultNonIdempotentFunctions() {
  static const std::vector<llvm::StringRef> Names(std::begin(DefaultNonIdempotent),
                                                  std::end(DefaultNonIdempotent));
  return Names;
}

static const llvm::StringSet<> &defaultNonIdempotentSet() {
  static const llvm::StringSet<> Set = [] {
    llvm::StringSet<> S;
    for (llvm::StringRef N : DefaultNonIdempotent)
      S.insert(N);
    return S;
  }();
  return Set;
}

static constexpr llvm::StringLiteral QuietLibrary[] = {
    "memcpy", "memmove", "memset", "memcmp", "memchr", "strlen", "strnlen",
    "strcmp", "strncmp", "strcasecmp", "strncasecmp", "strcpy", "strncpy",
    "strcat", "strncat", "strchr", "strrchr", "strstr", "strspn", "strcspn",
    "strpbrk", "strtok_r", "strdup", "strndup", "strerror", "strerror_r",
    "snprintf", "sprintf", "vsnprintf", "vsprintf", "sscanf", "atoi", "atol",
    "atoll", "strtol", "strtoul", "strtoll", "strtoull", "strtod", "strtof",
    "abs", "labs", "llabs", "malloc", "calloc", "aligned_alloc",
    "posix_memalign", "free", "realloc", "qsort", "bsearch", "isalpha",
    "isdigit", "isalnum", "isspace", "isupper", "islower", "isxdigit",
    "toupper", "tolower", "sqrt", "pow", "floor", "ceil", "fabs", "log",
    "exp", "fmin", "fmax", "time", "clock_gettime", "gettimeofday",
    "getpid", "pthread_self", "pthread_mutex_lock", "pthread_mutex_unlock",
    "pthread_mutex_trylock", "pthread_rwlock_rdlock", "pthread_rwlock_wrlock",
    "pthread_rwlock_unlock", "pthread_spin_lock", "pthread_spin_unlock",
    "pthread_once", "__assert_fail", "__assert", "abort", "getenv",
    "memccpy", "stpcpy", "stpncpy", "strlcpy", "strlcat", "htons", "htonl",
    "ntohs", "ntohl", "puts", "fputs", "pthread_mutex_init", "pthread_mutex_destroy",
    "pthread_rwlock_destroy", "pthread_spin_destroy", "pthread_cond_destroy",
    "pthread_cond_signal", "pthread_cond_broadcast",
};

bool isKnownQuietLibraryFunction(llvm::StringRef Name) {
  static const llvm::StringSet<> Set = [] {
    llvm::StringSet<> S;
    for (llvm::StringRef N : QuietLibrary)
      S.insert(N);
    return S;
  }();
  Name.consume_front("__builtin_");
  return Set.contains(Name);
}

const FieldDecl *loadedFromField(const Expr *E) {
  for (unsigned Guard = 0; E && Guard < 16; ++Guard) {
    E = E->IgnoreParenCasts();
    if (const auto *ME = dyn_cast<MemberExpr>(E)) {
      const auto *F = dyn_cast<FieldDecl>(ME->getMemberDecl());
      return F ? F->getCanonicalDecl() : nullptr;
    }
    const auto *DRE = dyn_cast<DeclRefExpr>(E);
    const auto *VD = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
    // A local pointer: where its initializer loaded it from.
    // FIXME: like placeOfPointer, later assignments are not followed.
    if (!VD || VD->hasGlobalStorage() || isa<ParmVarDecl>(VD))
      return nullptr;
    E = throughTableRef(VD->getInit()); // `t = g_hash_table_ref (m->cache)`
  }
  return nullptr;
}

std::vector<std::string> splitNameList(llvm::StringRef List) {
  std::vector<std::string> Names;
  llvm::SmallVector<llvm::StringRef> Parts;
  List.split(Parts, ';', -1, false);
  for (llvm::StringRef P : Parts)
    if (!(P = P.trim()).empty())
      Names.push_back(P.str());
  return Names;
}

// ===----------------------------------------------------------------------===
// Place
// ===----------------------------------------------------------------------===

bool Place::sameAs(const Place &O) const {
  if (Root != O.Root || Fields != O.Fields)
    return false;
  switch (Root) {
  case RootKind::Param:
    return Param == O.Param;
  case RootKind::Global: // `extern T *m;` and the definition are one variable
  case RootKind::Local:
    return Var == O.Var ||
           (Var && O.Var && Var->getCanonicalDecl() == O.Var->getCanonicalDecl());
  case RootKind::This:
    return true;
  case RootKind::Unknown:
    return false;
  }
  return false;
}

void appendIndexes(Place &To, const Place &From) {
  for (const Expr *I : From.Indexes)
    if (To.Indexes.size() < Place::MaxIndexes)
      To.Indexes.push_back(I);
}

/// The indexes of \p P other than a constant 0.
static llvm::SmallVector<const Expr *, 2> elementIndexes(const Place &P,
                                                       const ASTContext &Ctx) {
  llvm::SmallVector<const Expr *, 2> Out;
  for (const Expr *I : P.Indexes) {
    std::optional<llvm::APSInt> C =
        I->isValueDependent() ? std::nullopt : I->getIntegerConstantExpr(Ctx);
    if (!C || !C->isZero())
      Out.push_back(I);
  }
  return Out;
}

bool Place::sameElements(const Place &O, const ASTContext &Ctx) const {
  llvm::SmallVector<const Expr *, 2> A = elementIndexes(*this, Ctx),
                                     B = elementIndexes(O, Ctx);
  if (A.size() != B.size())
    return false;
  for (size_t K = 0; K < A.size(); ++K) {
    std::optional<llvm::APSInt> CA, CB;
    if (!A[K]->isValueDependent() && !B[K]->isValueDependent())
      CA = A[K]->getIntegerConstantExpr(Ctx), CB = B[K]->getIntegerConstantExpr(Ctx);
    if (CA && CB ? llvm::APSInt::compareValues(*CA, *CB) != 0
                 : !sameExpr(A[K], B[K], Ctx))
      return false;
  }
  return true;
}

std::string Place::describe(const FunctionDecl *Owner) const {
  std::string Base;
  bool Pointer = false;
  switch (Root) {
  case RootKind::Unknown:
    return "memory";
  case RootKind::Param:
    if (Owner && Param < Owner->getNumParams() &&
        !Owner->getParamDecl(Param)->getName().empty()) {
      Base = Owner->getParamDecl(Param)->getName().str();
      Pointer = Owner->getParamDecl(Param)->getType()->isPointerType();
    } else {
      Base = "param " + std::to_string(Param + 1);
    }
    break;
  case RootKind::Global:
  case RootKind::Local:
    Base = Var ? Var->getName().str() : "?";
    Pointer = Var && Var->getType()->isPointerType();
    break;
  case RootKind::This:
    Base = "this";
    Pointer = true;
    break;
  }
  if (Fields.empty())
    return (Pointer && (Root == RootKind::Param || Root == RootKind::This) &&
            !AddressOf)
               ? "*" + Base
               : Base;
  std::string S = Base;
  bool Arrow = Pointer;
  for (const FieldDecl *F : Fields) {
    if (F->getName().empty())
      continue; // an anonymous struct or union: its members read as ours
    S += (Arrow ? "->" : ".") + F->getName().str();
    Arrow = F->getType()->isPointerType();
  }
  return S;
}

// ===----------------------------------------------------------------------===
// Classifying calls
// ===----------------------------------------------------------------------===

namespace {

enum class LibKind { None, Free, RMW, Write, WriteSecond };

/// What a library call (or builtin) does to its first argument.
LibKind libraryEffect(llvm::StringRef Name) {
  Name.consume_front("__builtin_");
  if (Name == "free" || Name == "realloc" || Name == "reallocarray")
    return LibKind::Free;
  if (Name == "strcat" || Name == "strncat" || Name == "strlcat")
    return LibKind::RMW;
  if (Name.starts_with("__sync_fetch_and_") ||
      Name.starts_with("__sync_add_and_fetch") ||
      Name.starts_with("__sync_sub_and_fetch") ||
      Name.starts_with("__sync_xor_and_fetch") ||
      Name.starts_with("__sync_nand_and_fetch")) {
    if (Name.contains("_or") || Name.contains("_and_fetch_and") ||
        Name.starts_with("__sync_fetch_and_and"))
      return LibKind::Write;
    return LibKind::RMW;
  }
  // liburcu's uatomic_* on x86 (urcu/uatomic/x86.h): static inline functions
  // around a locked instruction in asm, which no body reading can see (other
  // targets spell them with the __sync builtins above).
  if (Name == "__uatomic_inc" || Name == "__uatomic_dec" || Name == "__uatomic_add" ||
      Name == "__uatomic_add_return")
    return LibKind::RMW;
  if (Name == "__uatomic_or" || Name == "__uatomic_and" ||
      Name == "__uatomic_exchange" || Name == "__uatomic_cmpxchg")
    return LibKind::Write;
  if (Name.starts_with("__sync_lock_test_and_set") ||
      Name.starts_with("__sync_bool_compare_and_swap") ||
      Name.starts_with("__sync_val_compare_and_swap"))
    return LibKind::Write;
  if (Name == "memcpy" || Name == "memmove" || Name == "memset" ||
      Name == "strcpy" || Name == "strncpy" || Name == "snprintf" ||
      Name == "sprintf" || Name == "vsnprintf" || Name == "vsprintf" ||
      Name == "stpcpy" || Name == "stpncpy" || Name == "strlcpy" ||
      Name == "memccpy" || Name == "bzero" || Name == "explicit_bzero")
    return LibKind::Write;
  return LibKind::None;
}

/// Read-modify-write or idempotent store for an atomic builtin.
std::optional<std::pair<bool, char>> atomicEffect(AtomicExpr::AtomicOp Op) {
  switch (Op) {
  case AtomicExpr::AO__c11_atomic_fetch_add:
  case AtomicExpr::AO__atomic_fetch_add:
  case AtomicExpr::AO__atomic_add_fetch:
    return std::make_pair(true, '+');
  case AtomicExpr::AO__c11_atomic_fetch_sub:
  case AtomicExpr::AO__atomic_fetch_sub:
  case AtomicExpr::AO__atomic_sub_fetch:
    return std::make_pair(true, '-');
  case AtomicExpr::AO__c11_atomic_fetch_xor:
  case AtomicExpr::AO__atomic_fetch_xor:
  case AtomicExpr::AO__atomic_xor_fetch:
  case AtomicExpr::AO__c11_atomic_fetch_nand:
  case AtomicExpr::AO__atomic_fetch_nand:
  case AtomicExpr::AO__atomic_nand_fetch:
    return std::make_pair(true, '?');
  case AtomicExpr::AO__c11_atomic_store:
  case AtomicExpr::AO__atomic_store:
  case AtomicExpr::AO__atomic_store_n:
  case AtomicExpr::AO__c11_atomic_exchange:
  case AtomicExpr::AO__atomic_exchange:
  case AtomicExpr::AO__atomic_exchange_n:
  case AtomicExpr::AO__c11_atomic_fetch_or:
  case AtomicExpr::AO__atomic_fetch_or:
  case AtomicExpr::AO__atomic_or_fetch:
  case AtomicExpr::AO__c11_atomic_fetch_and:
  case AtomicExpr::AO__atomic_fetch_and:
  case AtomicExpr::AO__atomic_and_fetch:
  case AtomicExpr::AO__c11_atomic_fetch_max:
  case AtomicExpr::AO__c11_atomic_fetch_min:
  case AtomicExpr::AO__atomic_fetch_max:
  case AtomicExpr::AO__atomic_fetch_min:
  // FIXME: a compare-and-swap may implement an increment; counted as a store
  // because `cas(&slot, NULL, v)` (set once) is the common use in callbacks.
  case AtomicExpr::AO__c11_atomic_compare_exchange_strong:
  case AtomicExpr::AO__c11_atomic_compare_exchange_weak:
  case AtomicExpr::AO__atomic_compare_exchange:
  case AtomicExpr::AO__atomic_compare_exchange_n:
    return std::make_pair(false, '=');
  default:
    return std::nullopt;
  }
}

Effect makeEffect(EffectKind K, Place Target, const Stmt *Where,
                  const FunctionDecl *Callee = nullptr) {
  Effect E;
  E.Kind = K;
  E.Target = std::move(Target);
  E.Where = Where;
  E.Callee = Callee;
  return E;
}

/// A hash identifying an effect up to its chain and location.
uint64_t effectKey(const Effect &E) {
  llvm::hash_code H = llvm::hash_combine(
      static_cast<int>(E.Kind), static_cast<int>(E.Target.Root),
      E.Target.Param, E.Target.Var, E.Callee, E.ArgIndex, E.Target.AddressOf,
      E.MapField);
  for (const FieldDecl *F : E.Target.Fields)
    H = llvm::hash_combine(H, F);
  for (const Expr *I : E.Target.Indexes) // `a[0]` and `a[1]`: two effects
    if (const auto *Lit = dyn_cast<IntegerLiteral>(I->IgnoreParenImpCasts()))
      H = llvm::hash_combine(H, Lit->getValue().getLimitedValue());
    else
      H = llvm::hash_combine(H, I);
  for (const ParamGuard &G : E.Guards)
    H = llvm::hash_combine(H, G.Param, G.Equal, G.Value);
  H = llvm::hash_combine(H, E.LastReference, E.NewMap, E.OwnReference);
  if (E.Through) // one per function the field may hold: each may be dropped
    H = llvm::hash_combine(H, E.Through->Fn, E.Through->Param);
  return static_cast<uint64_t>(H);
}

/// Effects that matter to a caller: those on memory that outlives the
/// summarized function, and the calls themselves.
bool keepsForCaller(const Effect &E) {
  switch (E.Kind) {
  case EffectKind::NonIdempotentCall:
  case EffectKind::UnknownCall:
  case EffectKind::MapOperation:
    return true;
  case EffectKind::ReadModifyWrite:
  case EffectKind::Write:
  case EffectKind::Free:
  case EffectKind::Escape:
  case EffectKind::Call:
    return E.Target.outlivesCall();
  }
  return false;
}

constexpr unsigned MaxEffectsPerKind = 96; ///< Per summary and EffectKind.
constexpr unsigned NumEffectKinds = 8;
static_assert(static_cast<unsigned>(EffectKind::Call) + 1 == NumEffectKinds,
              "EffectKind::Call is the last kind");
constexpr unsigned MaxDfsDepth = 400;  ///< Recursion guard of the DFS.
constexpr unsigned MaxFixpointRounds = 32;

} // namespace

// ===----------------------------------------------------------------------===
// The analysis
// ===----------------------------------------------------------------------===

struct EffectAnalysis::Impl {
  struct FnInfo {
    const FunctionDecl *Fn = nullptr; ///< The definition summarized.
    std::vector<Effect> Local;
    std::vector<std::pair<const CallExpr *, const FunctionDecl *>> Calls;
    /// The guards of the calls in `Calls` made under a parameter test.
    llvm::DenseMap<const CallExpr *, llvm::SmallVector<ParamGuard, 1>> CallGuards;
    /// The calls in `Calls` made only once a reference count dropped to zero.
    llvm::SmallPtrSet<const CallExpr *, 2> LastReferenceCalls;
    FunctionSummary Summary;
    llvm::DenseMap<uint64_t, unsigned> Keys; ///< Effect key -> index.
    unsigned KindCount[NumEffectKinds] = {};
    int Index = -1, Low = -1;
    bool OnStack = false, Done = false, Scanned = false;
  };

  EffectAnalysis &A;
  llvm::DenseMap<const FunctionDecl *, std::unique_ptr<FnInfo>> Infos;
  /// The assignments to struct fields in each function's body (`r->table =
  /// ...`), for heldSinceInit; collected on first use.
  llvm::DenseMap<const FunctionDecl *, std::vector<const BinaryOperator *>> FieldStores;
  /// What a call of each table getter returns (placeOfGetter): the one
  /// global or static every return names, else Unknown. An entry is made
  /// (Unknown) before the returns are read, so a cycle of getters ends.
  llvm::DenseMap<const FunctionDecl *, Place> GetterPlaces;
  /// The values each local a map operation is given (mapArgumentPlaces):
  /// assignedValuesOf, empty when it is false. Collected on first use.
  llvm::DenseMap<const VarDecl *, llvm::SmallVector<const Expr *, 2>> AssignedValues;
  /// The locals placeOfAssigned is reading, so `p = p->next` ends.
  llvm::SmallPtrSet<const VarDecl *, 4> PlacesInProgress;
  std::vector<const FunctionDecl *> Stack;
  int Counter = 0;
  llvm::StringSet<> NonIdempotentNames, IdempotentNames, DeallocatorNames;
  FunctionSummary Empty;
  std::map<std::tuple<const FunctionDecl *, std::string, const FieldDecl *>,
           std::unique_ptr<Effect>>
      CallMemo;

  /// callsWithParam's search: a Call effect of \p FD itself, or one reached
  /// through a call that passes parameter \p I (or its field \p Field) on.
  std::unique_ptr<Effect> findCall(const FunctionDecl *FD, llvm::StringRef Name,
                                   unsigned I, const FieldDecl *Field,
                                   unsigned DepthLeft);

  explicit Impl(EffectAnalysis &A) : A(A) {
    for (const std::string &N : A.Opts.NonIdempotentFunctions)
      NonIdempotentNames.insert(N);
    for (const std::string &N : A.Opts.IdempotentFunctions)
      IdempotentNames.insert(N);
    for (const std::string &N : A.Opts.Deallocators)
      DeallocatorNames.insert(N);
  }

  /// \p FD's plain name, or its qualified name or a tail of it at a `::`
  /// (`Billing::charge` for `billing::Billing::charge`, `billing::charge_card`).
  static bool nameIn(const llvm::StringSet<> &Set, const FunctionDecl *FD) {
    if (Set.empty() || !FD->getDeclName().isIdentifier())
      return false;
    if (Set.contains(FD->getName()))
      return true;
    if (FD->getDeclContext()->getRedeclContext()->isTranslationUnit())
      return false;
    std::string Qualified = FD->getQualifiedNameAsString();
    for (llvm::StringRef Tail = Qualified;;) {
      if (Set.contains(Tail))
        return true;
      size_t Sep = Tail.find("::");
      if (Sep == llvm::StringRef::npos)
        return false;
      Tail = Tail.drop_front(Sep + 2);
    }
  }

  FnInfo &info(const FunctionDecl *FD) {
    auto &Slot = Infos[FD];
    if (!Slot) {
      Slot = std::make_unique<FnInfo>();
      Slot->Fn = FD;
    }
    return *Slot;
  }

  /// Adds \p E unless the summary has it; a shorter chain to the same
  /// effect replaces a longer one (so callers further up keep it within
  /// MaxCallDepth). Returns whether the summary changed.
  bool addEffect(FnInfo &I, Effect E) {
    auto [It, Inserted] =
        I.Keys.try_emplace(effectKey(E), I.Summary.Effects.size());
    if (!Inserted) {
      Effect &Old = I.Summary.Effects[It->second];
      if (E.Chain.size() >= Old.Chain.size())
        return false;
      Old = std::move(E);
      return true;
    }
    if (I.KindCount[static_cast<unsigned>(E.Kind)]++ >= MaxEffectsPerKind) {
      I.Keys.erase(It);
      I.Summary.Truncated = true;
      return false;
    }
    I.Summary.Effects.push_back(std::move(E));
    return true;
  }

  // ---- Walking a body ----

  /// The parameter tests that enclose the statement being scanned.
  llvm::SmallVector<ParamGuard, 2> CurGuards;
  /// How many enclosing tests say a reference count dropped to zero.
  unsigned CurLastReference = 0;
  void pushLocal(FnInfo &I, Effect E) {
    E.Guards.append(CurGuards.begin(), CurGuards.end());
    // Only an object the function was handed or holds in a local: a global's
    // release says nothing of who else holds it.
    E.LastReference |= CurLastReference > 0 && (E.Target.Root == Place::RootKind::Param ||
                                                E.Target.Root == Place::RootKind::Local);
    I.Local.push_back(std::move(E));
  }
  /// The guards that hold when \p Cond is true (\p Negate: false): each
  /// conjunct of an `&&` that tests a parameter of \p FD against a constant.
  void guardsOf(const Expr *Cond, const FunctionDecl *FD, bool Negate,
                llvm::SmallVectorImpl<ParamGuard> &Out) const;
  void scanIf(const IfStmt *If, const FunctionDecl *FD, FnInfo &I);
  void scanCompound(const CompoundStmt *CS, const FunctionDecl *FD, FnInfo &I);

  void scanBody(const FunctionDecl *FD, FnInfo &I);

  // ---- Frees that a retry cannot repeat ----

  /// Frees whose field is given a new value on every path before the
  /// function returns (`free(c->tmp); c->tmp = NULL;`, `nb = realloc(s->buf,
  /// n); if (!nb) return -1; s->buf = nb;`): a retry frees that new value
  /// (null, or a block the previous run allocated), never the old one twice.
  llvm::DenseSet<const CallExpr *> RefilledFrees;
  /// A free, realloc or Deallocators call.
  bool isFreeCall(const CallExpr *CE) const;
  /// The free that statement \p S makes, as `free(p);`, `T *v = realloc(p,
  /// n);`, `v = realloc(p, n);` or `p = realloc(p, n);` (\p Result: the local
  /// given realloc's result; \p Refilled: stored straight back into `p`),
  /// also under an `if` with no else. Null when \p S is none of these.
  const CallExpr *freeIn(const Stmt *S, const VarDecl *&Result,
                         bool &Refilled) const;
  /// \p S stores into \p Freed null, a fresh allocation, or \p Result.
  bool refills(const Stmt *S, const Expr *Freed, const VarDecl *Result) const;
  /// Records in RefilledFrees the frees among the statements of \p CS that a
  /// later statement of \p CS refills before anything can leave the block.
  void findRefilledFrees(const CompoundStmt *CS);
  /// The local \p Freed was copied from a field that a statement of \p CS
  /// before \p At (and after the copy) clears: `p = c->tmp; c->tmp = NULL;
  /// free(p);`, as g_clear_pointer expands. A retry finds the field clear.
  bool stolenBefore(const CompoundStmt *CS, CompoundStmt::const_body_iterator At,
                    const Expr *Freed) const;
  void findRefilledFreesIn(const Stmt *S);
  void scanStmt(const Stmt *S, const FunctionDecl *FD, FnInfo &I);
  void scanCall(const CallExpr *CE, const FunctionDecl *FD, FnInfo &I);
  void scanCallTo(const CallExpr *CE, const FunctionDecl *Callee,
                  const FunctionDecl *FD, FnInfo &I);
  bool scanAtomicMember(const CallExpr *CE, const FunctionDecl *Callee,
                        const FunctionDecl *FD, FnInfo &I);
  /// Places an earlier statement of an enclosing block set without reading
  /// them (`pc->tokens = 0;`): an update after it reads this run's own write.
  llvm::SmallVector<Place, 2> CurResets;
  void addPlaceEffect(FnInfo &I, EffectKind K, const Place &P, const Stmt *Where,
                      char Op = '?') {
    if (!P.outlivesCall())
      return; // Locals and untraced memory: not an effect a caller can see.
    if (K == EffectKind::ReadModifyWrite &&
        llvm::any_of(CurResets, [&](const Place &R) { return R.sameAs(P); }))
      K = EffectKind::Write, Op = '=';
    Effect E = makeEffect(K, P, Where);
    E.Op = Op;
    pushLocal(I, std::move(E));
  }

  /// The local variable \p E names, if \p FD gives it its value only at its
  /// declaration (never assigned, incremented or passed by address after).
  const VarDecl *localCopy(const Expr *E, const FunctionDecl *FD) const {
    const auto *DRE = dyn_cast<DeclRefExpr>(E);
    const auto *V = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
    if (!V || !V->hasLocalStorage() || isa<ParmVarDecl>(V) || !V->getInit() ||
        !V->getType()->isScalarType() || !FD->getBody())
      return nullptr;
    auto [It, New] = WrittenLocals.try_emplace(V, false);
    if (New)
      It->second = assignsVar(FD->getBody(), V);
    return It->second ? nullptr : V;
  }
  mutable llvm::DenseMap<const VarDecl *, bool> WrittenLocals;

  /// How the value \p E is computed from the old value of place \p P: '+'
  /// (`P + n`), '-' (`P - n`), '?' (another arithmetic use: `P * 2 + 4`), or
  /// '=' (not from it, or only through `|` / `&`, which are idempotent);
  /// below the top (\p Depth > 0) also 'o', the old value itself.
  char derivedFrom(const Expr *E, const Place &P, const FunctionDecl *FD,
                   unsigned Depth) const {
    char D = derivedAt(E, P, FD, Depth);
    return D == 'o' && Depth == 0 ? '?' : D; // `P = P`: from the old value
  }
  char derivedAt(const Expr *E, const Place &P, const FunctionDecl *FD,
                 unsigned Depth) const {
    E = E->IgnoreParenImpCasts();
    if (Depth > 6)
      return '=';
    // `n = p->len; ... p->len = n + 1;`: a local copy of the place, never
    // written again, is the place's old value.
    if (const VarDecl *Copy = localCopy(E, FD)) {
      char C = derivedAt(Copy->getInit(), P, FD, Depth + 1);
      return C == '=' || C == 'o' ? C : '?';
    }
    if (E->isGLValue())
      return A.placeOfLValue(E, FD).sameAs(P) ? 'o' : '=';
    if (const auto *UO = dyn_cast<UnaryOperator>(E)) {
      UnaryOperatorKind K = UO->getOpcode();
      if (K == UO_Minus || K == UO_Not || K == UO_LNot)
        return derivedAt(UO->getSubExpr(), P, FD, Depth + 1) == '=' ? '=' : '?';
      return '=';
    }
    const auto *B = dyn_cast<BinaryOperator>(E);
    if (!B || !(B->isAdditiveOp() || B->isMultiplicativeOp() || B->isShiftOp() ||
                B->getOpcode() == BO_Xor ||
                (Depth > 0 && (B->getOpcode() == BO_Or || B->getOpcode() == BO_And))))
      return '=';
    char L = derivedAt(B->getLHS(), P, FD, Depth + 1);
    char R = derivedAt(B->getRHS(), P, FD, Depth + 1);
    if (L == '=' && R == '=')
      return '=';
    // Steps of the old value itself: `P + n`, `n + P`, `P - n`.
    if (Depth == 0 && B->getOpcode() == BO_Add && (L == '=' || R == '=') &&
        (L == 'o' || R == 'o'))
      return '+';
    if (Depth == 0 && B->getOpcode() == BO_Sub && L == 'o' && R == '=')
      return '-';
    return '?';
  }

  // ---- Tarjan and translation ----

  void strongConnect(const FunctionDecl *FD, unsigned Depth);
  bool absorbCallees(FnInfo &I);
  bool translate(const Effect &CalleeEffect, const CallExpr *Site,
                 const FunctionDecl *Callee, const FunctionDecl *Caller,
                 Effect &Out);
  Place placeOfThisAt(const Place &T, const CallExpr *Site, const FunctionDecl *Callee,
                      const FunctionDecl *Caller) const;
  /// The table the map argument \p Arg of \p FD names when it is a local
  /// copied from a field of a parameter (`old = r->table`) that \p FD stores
  /// anew before the use (`r->table = g_hash_table_new (...)`): the one the
  /// field held when \p FD was called, if \p FD stores nothing into it
  /// before the copy. A caller walking `r->table` walks that table. None
  /// otherwise (placeOfPointer gives the local itself).
  std::optional<Place> copiedBeforeSwap(const Expr *Arg, const FunctionDecl *FD) const {
    const auto *DRE = dyn_cast<DeclRefExpr>(Arg->IgnoreParenCasts());
    const auto *VD = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
    if (!VD || !VD->hasLocalStorage() || isa<ParmVarDecl>(VD) || !VD->getInit() ||
        VD->getParentFunctionOrMethod() != FD || assignsVar(FD->getBody(), VD))
      return std::nullopt;
    Place Q = A.placeOfPointer(VD->getInit(), FD);
    if ((Q.Root != Place::RootKind::Param && Q.Root != Place::RootKind::This) ||
        Q.Fields.empty() || A.heldSinceInit(VD, Q, DRE, FD) ||
        !A.heldSince(FD->getBody()->getBeginLoc(), Q, VD->getInit(), FD))
      return std::nullopt;
    return Q;
  }
  /// For \p Callee called at \p Site through a function-pointer field of
  /// \p Caller's parameter (`s->init (s)`): that call (Effect::Through).
  std::optional<Effect::FieldCall> fieldCallOnParam(const CallExpr *Site,
                                                    const FunctionDecl *Callee,
                                                    const FunctionDecl *Caller) const;
  /// Restates \p CE's Effect::Through in \p Caller's terms into \p Out:
  /// false when \p Site passes an embedded struct (`&w->super`) whose field
  /// cannot hold the function; dropped when the object is no parameter.
  bool restateFieldCall(const Effect &CE, const CallExpr *Site,
                        const FunctionDecl *Caller, Effect &Out) const;
  /// Whether calls to \p FD are summarized by looking into its body.
  /// Functions defined in system headers count as library functions.
  bool descendsInto(const FunctionDecl *FD) const {
    return FD->hasBody() && !A.isTrusted(FD) &&
           !A.Ctx.getSourceManager().isInSystemHeader(FD->getLocation()) &&
           A.nonIdempotentReason(FD) == NonIdempotentReason::None &&
           !A.Model.isMapOperation(FD) &&
           libraryEffect(FD->getDeclName().isIdentifier() ? FD->getName()
                                                          : "") == LibKind::None &&
           !nameIn(DeallocatorNames, FD);
  }
};

static const FunctionDecl *definitionOf(const FunctionDecl *FD) {
  const FunctionDecl *Def = nullptr;
  if (FD && FD->hasBody(Def) && Def)
    return Def;
  return nullptr;
}

bool EffectAnalysis::Impl::isFreeCall(const CallExpr *CE) const {
  const FunctionDecl *Callee = CE ? CE->getDirectCallee() : nullptr;
  if (!Callee || !Callee->getDeclName().isIdentifier() || CE->getNumArgs() == 0)
    return false;
  return nameIn(DeallocatorNames, Callee) ||
         libraryEffect(Callee->getName()) == LibKind::Free;
}

/// \p A and \p B name the same memory: the same side-effect-free lvalue
/// expression (`c->tmp` twice).
static bool sameLValue(const Expr *A, const Expr *B, const ASTContext &Ctx) {
  return !A->HasSideEffects(Ctx) && !B->HasSideEffects(Ctx) && sameExpr(A, B, Ctx);
}

/// \p E tests that \p V is null: `!v`, `v == NULL`, `NULL == v`.
static bool testsNull(const Expr *E, const VarDecl *V, ASTContext &Ctx) {
  auto IsV = [V](const Expr *X) {
    const auto *DRE = dyn_cast<DeclRefExpr>(X->IgnoreParenImpCasts());
    return DRE && DRE->getDecl() == V;
  };
  auto IsNull = [&Ctx](const Expr *X) {
    return X->isNullPointerConstant(Ctx, Expr::NPC_ValueDependentIsNotNull);
  };
  E = E->IgnoreParenImpCasts();
  if (const auto *UO = dyn_cast<UnaryOperator>(E))
    return UO->getOpcode() == UO_LNot && IsV(UO->getSubExpr());
  const auto *BO = dyn_cast<BinaryOperator>(E);
  return BO && BO->getOpcode() == BO_EQ &&
         ((IsV(BO->getLHS()) && IsNull(BO->getRHS())) ||
          (IsV(BO->getRHS()) && IsNull(BO->getLHS())));
}

static bool onlyLeaves(const Stmt *S);

/// \p S may leave the enclosing block other than at its end.
static bool mayLeave(const Stmt *S) {
  if (!S || isa<LambdaExpr>(S) || isa<BlockExpr>(S))
    return false;
  if (isa<ReturnStmt>(S) || isa<GotoStmt>(S) || isa<IndirectGotoStmt>(S) ||
      isa<BreakStmt>(S) || isa<ContinueStmt>(S) || isa<CXXThrowExpr>(S))
    return true;
  return llvm::any_of(S->children(), mayLeave);
}

const CallExpr *EffectAnalysis::Impl::freeIn(const Stmt *S,
                                             const VarDecl *&Result,
                                             bool &Refilled) const {
  Result = nullptr;
  Refilled = false;
  if (const auto *If = dyn_cast<IfStmt>(S)) {
    // `if (c->tmp) free(c->tmp);`
    const Stmt *Then = If->getThen();
    if (const auto *CS = dyn_cast<CompoundStmt>(Then); CS && CS->size() == 1)
      Then = CS->body_front();
    if (If->getElse() || If->getInit() || If->getConditionVariable() ||
        isa<IfStmt>(Then))
      return nullptr;
    return freeIn(Then, Result, Refilled);
  }
  if (const auto *DS = dyn_cast<DeclStmt>(S)) {
    const auto *VD = DS->isSingleDecl() ? dyn_cast<VarDecl>(DS->getSingleDecl())
                                        : nullptr;
    const auto *CE = VD && VD->getInit()
                         ? dyn_cast<CallExpr>(VD->getInit()->IgnoreParenCasts())
                         : nullptr;
    if (!isFreeCall(CE))
      return nullptr;
    Result = VD;
    return CE;
  }
  const auto *E = dyn_cast<Expr>(S);
  if (!E)
    return nullptr;
  E = E->IgnoreParenCasts();
  if (const auto *BO = dyn_cast<BinaryOperator>(E);
      BO && BO->getOpcode() == BO_Assign) {
    const auto *CE = dyn_cast<CallExpr>(BO->getRHS()->IgnoreParenCasts());
    if (!isFreeCall(CE))
      return nullptr;
    const auto *DRE = dyn_cast<DeclRefExpr>(BO->getLHS()->IgnoreParenImpCasts());
    const auto *VD = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
    if (VD && VD->hasLocalStorage() && !isa<ParmVarDecl>(VD))
      Result = VD;
    else
      Refilled = sameLValue(BO->getLHS(), CE->getArg(0), A.Ctx);
    return CE;
  }
  const auto *CE = dyn_cast<CallExpr>(E);
  return isFreeCall(CE) ? CE : nullptr;
}

bool EffectAnalysis::Impl::refills(const Stmt *S, const Expr *Freed,
                                   const VarDecl *Result) const {
  const auto *E = dyn_cast<Expr>(S);
  const auto *BO = E ? dyn_cast<BinaryOperator>(E->IgnoreParens()) : nullptr;
  if (!BO || BO->getOpcode() != BO_Assign ||
      !sameLValue(BO->getLHS(), Freed, A.Ctx))
    return false;
  const Expr *V = BO->getRHS()->IgnoreParenCasts();
  if (V->isNullPointerConstant(A.Ctx, Expr::NPC_ValueDependentIsNotNull))
    return true;
  if (const auto *DRE = dyn_cast<DeclRefExpr>(V))
    return Result && DRE->getDecl() == Result;
  const auto *CE = dyn_cast<CallExpr>(V);
  const FunctionDecl *Callee = CE ? CE->getDirectCallee() : nullptr;
  if (!Callee || !Callee->getIdentifier())
    return false;
  static const llvm::StringSet<> Copies = {"strdup", "strndup", "g_strdup",
                                           "g_strndup", "g_strdup_printf",
                                           "g_memdup2"};
  return isAllocator(Callee) || Copies.contains(Callee->getName());
}

bool EffectAnalysis::Impl::stolenBefore(const CompoundStmt *CS,
                                        CompoundStmt::const_body_iterator At,
                                        const Expr *Freed) const {
  const auto *DRE = dyn_cast<DeclRefExpr>(Freed->IgnoreParenCasts());
  const auto *V = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
  if (!V || !V->hasLocalStorage() || isa<ParmVarDecl>(V) || !V->getInit())
    return false;
  const Expr *From = V->getInit()->IgnoreParenImpCasts();
  if (!From->isGLValue())
    return false;
  for (auto Prev = At; Prev != CS->body_begin();) {
    --Prev;
    if (const auto *DS = dyn_cast<DeclStmt>(*Prev);
        DS && llvm::is_contained(DS->decls(), V))
      return false;
    if (refills(*Prev, From, nullptr))
      return true;
  }
  return false;
}

// FIXME: only a store that is itself a statement of the same block counts; a
// refill on every arm of an `if`, or in a helper, keeps the free reported.
void EffectAnalysis::Impl::findRefilledFrees(const CompoundStmt *CS) {
  for (auto It = CS->body_begin(), End = CS->body_end(); It != End; ++It) {
    const VarDecl *Result = nullptr;
    bool Refilled = false;
    const CallExpr *Free = freeIn(*It, Result, Refilled);
    if (!Free)
      continue;
    if (Refilled) { // `s->buf = realloc(s->buf, n);`
      RefilledFrees.insert(Free);
      continue;
    }
    const Expr *Freed = Free->getArg(0);
    if (stolenBefore(CS, It, Freed)) {
      RefilledFrees.insert(Free);
      continue;
    }
    for (auto Next = std::next(It); Next != End; ++Next) {
      if (refills(*Next, Freed, Result)) {
        RefilledFrees.insert(Free);
        break;
      }
      // `if (!nb) return -1;`: realloc failed and freed nothing.
      const auto *If = dyn_cast<IfStmt>(*Next);
      if (Result && If && !If->getElse() && !If->getInit() &&
          onlyLeaves(If->getThen()) && testsNull(If->getCond(), Result, A.Ctx))
        continue;
      if (mayLeave(*Next))
        break;
    }
  }
}

void EffectAnalysis::Impl::findRefilledFreesIn(const Stmt *S) {
  if (!S)
    return;
  if (const auto *CS = dyn_cast<CompoundStmt>(S))
    findRefilledFrees(CS);
  for (const Stmt *Child : S->children())
    findRefilledFreesIn(Child);
}

void EffectAnalysis::Impl::scanBody(const FunctionDecl *FD, FnInfo &I) {
  I.Scanned = true;
  findRefilledFreesIn(FD->getBody());
  scanStmt(FD->getBody(), FD, I);
}

void EffectAnalysis::Impl::scanStmt(const Stmt *S, const FunctionDecl *FD,
                                    FnInfo &I) {
  if (!S)
    return;
  if (isa<LambdaExpr>(S) || isa<BlockExpr>(S))
    return; // Their bodies run when called, not here.
  if (const auto *If = dyn_cast<IfStmt>(S))
    return scanIf(If, FD, I);
  if (const auto *CS = dyn_cast<CompoundStmt>(S))
    return scanCompound(CS, FD, I);
  if (const auto *UO = dyn_cast<UnaryOperator>(S); UO && UO->isIncrementDecrementOp()) {
    addPlaceEffect(I, EffectKind::ReadModifyWrite,
                   A.placeOfLValue(UO->getSubExpr(), FD), UO,
                   UO->isIncrementOp() ? '+' : '-');
  } else if (const auto *CAO = dyn_cast<CompoundAssignOperator>(S)) {
    BinaryOperatorKind Op = CAO->getOpcode();
    Place P = A.placeOfLValue(CAO->getLHS(), FD);
    if (Op == BO_OrAssign || Op == BO_AndAssign)
      addPlaceEffect(I, EffectKind::Write, P, CAO, '=');
    else
      addPlaceEffect(I, EffectKind::ReadModifyWrite, P, CAO,
                     Op == BO_AddAssign ? '+' : Op == BO_SubAssign ? '-' : '?');
  } else if (const auto *BO = dyn_cast<BinaryOperator>(S);
             BO && BO->getOpcode() == BO_Assign) {
    Place P = A.placeOfLValue(BO->getLHS(), FD);
    // `x = x + 1`: the new value is computed from the old one.
    // `x = x + 1`, `x = (x + 1) % n`, `x = !x`: the new value is computed
    // from the old one. `x = x | m` and `x = x & m` are idempotent.
    char Op = '=';
    if (P.outlivesCall())
      Op = derivedFrom(BO->getRHS(), P, FD, 0);
    bool FromOld = Op != '=';
    addPlaceEffect(I, FromOld ? EffectKind::ReadModifyWrite : EffectKind::Write,
                   P, BO, Op);
    if (P.outlivesCall() && BO->getRHS()->getType()->isPointerType()) {
      Place V = A.placeOfPointer(BO->getRHS(), FD);
      if (V.outlivesCall())
        addPlaceEffect(I, EffectKind::Escape, V, BO);
    }
  } else if (const auto *RS = dyn_cast<ReturnStmt>(S)) {
    if (const Expr *RV = RS->getRetValue())
      if (RV->getType()->isPointerType())
        addPlaceEffect(I, EffectKind::Escape, A.placeOfPointer(RV, FD), RS);
  } else if (const auto *AE = dyn_cast<AtomicExpr>(S)) {
    if (auto Kind = atomicEffect(AE->getOp()))
      addPlaceEffect(I, Kind->first ? EffectKind::ReadModifyWrite : EffectKind::Write,
                     A.placeOfPointer(AE->getPtr(), FD), AE, Kind->second);
  } else if (const auto *CE = dyn_cast<CallExpr>(S)) {
    scanCall(CE, FD, I);
  }
  for (const Stmt *Child : S->children())
    scanStmt(Child, FD, I);
}

/// The integer value of \p E if it is a constant (a literal, `!1`, an enum
/// constant, a macro such as FALSE, a null pointer constant).
static std::optional<int64_t> constantValue(const Expr *E,
                                            const ASTContext &Ctx) {
  if (!E || E->isValueDependent() || E->isTypeDependent())
    return std::nullopt;
  Expr::EvalResult R;
  if (E->getType()->isIntegralOrEnumerationType() ||
      E->getType()->isBooleanType()) {
    if (E->EvaluateAsInt(R, Ctx) && R.Val.isInt())
      return R.Val.getInt().getExtValue();
    return std::nullopt;
  }
  if (E->getType()->isPointerType() &&
      E->isNullPointerConstant(const_cast<ASTContext &>(Ctx),
                               Expr::NPC_ValueDependentIsNotNull))
    return 0;
  return std::nullopt;
}

/// The index of the scalar or pointer parameter of \p FD that \p E reads.
static std::optional<unsigned> testedParam(const Expr *E,
                                           const FunctionDecl *FD) {
  const auto *DRE = dyn_cast<DeclRefExpr>(E->IgnoreParenImpCasts());
  const auto *PVD = DRE ? dyn_cast<ParmVarDecl>(DRE->getDecl()) : nullptr;
  if (!PVD || !(PVD->getType()->isScalarType()) || !FD)
    return std::nullopt;
  unsigned Index = PVD->getFunctionScopeIndex();
  if (Index >= FD->getNumParams() ||
      FD->getParamDecl(Index)->getCanonicalDecl() != PVD->getCanonicalDecl())
    return std::nullopt;
  return Index;
}

void EffectAnalysis::Impl::guardsOf(const Expr *Cond, const FunctionDecl *FD,
                                    bool Negate,
                                    llvm::SmallVectorImpl<ParamGuard> &Out) const {
  Cond = Cond->IgnoreParenImpCasts();
  if (const auto *UO = dyn_cast<UnaryOperator>(Cond);
      UO && UO->getOpcode() == UO_LNot)
    return guardsOf(UO->getSubExpr(), FD, !Negate, Out);
  if (const auto *BO = dyn_cast<BinaryOperator>(Cond)) {
    // `a && b` true: both hold; `a || b` false: neither holds.
    if ((BO->getOpcode() == BO_LAnd && !Negate) ||
        (BO->getOpcode() == BO_LOr && Negate)) {
      guardsOf(BO->getLHS(), FD, Negate, Out);
      guardsOf(BO->getRHS(), FD, Negate, Out);
      return;
    }
    if (BO->getOpcode() != BO_EQ && BO->getOpcode() != BO_NE)
      return;
    const Expr *L = BO->getLHS(), *R = BO->getRHS();
    std::optional<unsigned> P = testedParam(L, FD);
    if (!P)
      std::swap(L, R), P = testedParam(L, FD);
    std::optional<int64_t> V = P ? constantValue(R, A.Ctx) : std::nullopt;
    if (V)
      Out.push_back({*P, (BO->getOpcode() == BO_EQ) != Negate, *V});
    return;
  }
  if (std::optional<unsigned> P = testedParam(Cond, FD))
    Out.push_back({*P, Negate, 0});
}

namespace {
/// What a reference-count decrement yields: a test of the last reference
/// (`g_atomic_int_dec_and_test`), the count after it (`--e->ref`,
/// `__atomic_sub_fetch`), or the count before it (`atomic_fetch_sub`, `e->ref--`).
enum class Decrement { None, Test, NewCount, OldCount };
} // namespace

static Decrement decrementNamed(llvm::StringRef Name) {
  return llvm::StringSwitch<Decrement>(Name)
      .Case("g_atomic_int_dec_and_test", Decrement::Test)
      .Case("g_atomic_ref_count_dec", Decrement::Test)
      .Case("g_ref_count_dec", Decrement::Test)
      .Case("atomic_dec_and_test", Decrement::Test)
      .Case("refcount_dec_and_test", Decrement::Test)
      .Case("__sync_sub_and_fetch", Decrement::NewCount)
      .Case("uatomic_sub_return", Decrement::NewCount)
      .Case("__sync_fetch_and_sub", Decrement::OldCount)
      .Default(Decrement::None);
}

static Decrement decrementOf(const Expr *E, const ASTContext &Ctx) {
  E = E->IgnoreParenCasts();
  if (const auto *UO = dyn_cast<UnaryOperator>(E))
    return UO->getOpcode() == UO_PreDec    ? Decrement::NewCount
           : UO->getOpcode() == UO_PostDec ? Decrement::OldCount
                                           : Decrement::None;
  // GLib spells g_atomic_int_dec_and_test, g_ref_count_dec and
  // g_atomic_ref_count_dec as macros around a statement expression.
  if (isa<StmtExpr>(E) && E->getBeginLoc().isMacroID())
    return decrementNamed(Lexer::getImmediateMacroName(
        E->getBeginLoc(), Ctx.getSourceManager(), Ctx.getLangOpts()));
  if (const auto *AE = dyn_cast<AtomicExpr>(E)) // `__atomic_sub_fetch`, C11's
    switch (AE->getOp()) {
    case AtomicExpr::AO__atomic_sub_fetch:
      return Decrement::NewCount;
    case AtomicExpr::AO__atomic_fetch_sub:
    case AtomicExpr::AO__c11_atomic_fetch_sub:
      return Decrement::OldCount;
    default:
      return Decrement::None;
    }
  const auto *CE = dyn_cast<CallExpr>(E);
  const FunctionDecl *FD = CE ? CE->getDirectCallee() : nullptr;
  if (!FD || !FD->getDeclName().isIdentifier())
    return Decrement::None;
  return decrementNamed(FD->getName());
}

/// Whether \p Cond tests a reference count's last release: true when it holds
/// exactly when the count dropped to zero (`g_atomic_int_dec_and_test (&e->ref)`,
/// `--e->ref == 0`, `atomic_fetch_sub (&e->ref, 1) == 1`), false when it holds
/// exactly when references remain (`!g_ref_count_dec (&rc)`, `--e->ref`,
/// `__atomic_sub_fetch (&e->ref, 1, ...) > 0`); none for any other condition.
std::optional<bool> lastReferenceTest(const Expr *Cond, ASTContext &Ctx) {
  Cond = Cond->IgnoreParenCasts();
  if (const auto *UO = dyn_cast<UnaryOperator>(Cond); UO && UO->getOpcode() == UO_LNot) {
    std::optional<bool> T = lastReferenceTest(UO->getSubExpr(), Ctx);
    return T ? std::optional<bool>(!*T) : std::nullopt;
  }
  switch (decrementOf(Cond, Ctx)) {
  case Decrement::Test:
    return true;
  case Decrement::NewCount: // `if (--e->ref)`: references remain
    return false;
  default:
    break;
  }
  const auto *BO = dyn_cast<BinaryOperator>(Cond);
  if (!BO || !BO->isComparisonOp())
    return std::nullopt;
  BinaryOperatorKind Op = BO->getOpcode();
  const Expr *D = BO->getLHS(), *C = BO->getRHS();
  Decrement K = decrementOf(D, Ctx);
  if (K == Decrement::None) { // `0 == --e->ref`: mirror the comparison
    std::swap(D, C);
    K = decrementOf(D, Ctx);
    Op = BinaryOperator::reverseComparisonOp(Op);
  }
  std::optional<int64_t> V = K == Decrement::None ? std::nullopt : constantValue(C, Ctx);
  if (!V)
    return std::nullopt;
  // The count that means "no reference left": 0 after, 1 before the decrement;
  // a test's result is true (any nonzero) on the last release.
  int64_t Zero = K == Decrement::OldCount ? 1 : 0;
  if (K == Decrement::Test) {
    if (Op != BO_EQ && Op != BO_NE)
      return std::nullopt;
    return (Op == BO_EQ) == (*V != 0);
  }
  switch (Op) {
  case BO_EQ: // `--e->ref == 0`
    return *V == Zero ? std::optional<bool>(true) : std::nullopt;
  case BO_NE: // `--e->ref != 0`
    return *V == Zero ? std::optional<bool>(false) : std::nullopt;
  case BO_GT: // `--e->ref > 0`
    return *V == Zero ? std::optional<bool>(false) : std::nullopt;
  case BO_GE: // `--e->ref >= 1`
    return *V == Zero + 1 ? std::optional<bool>(false) : std::nullopt;
  case BO_LE: // `--e->ref <= 0`
    return *V == Zero ? std::optional<bool>(true) : std::nullopt;
  case BO_LT: // `--e->ref < 1`
    return *V == Zero + 1 ? std::optional<bool>(true) : std::nullopt;
  default:
    return std::nullopt;
  }
}

void EffectAnalysis::Impl::scanIf(const IfStmt *If, const FunctionDecl *FD,
                                  FnInfo &I) {
  if (If->getInit())
    scanStmt(If->getInit(), FD, I);
  if (If->getConditionVariableDeclStmt())
    scanStmt(If->getConditionVariableDeclStmt(), FD, I);
  scanStmt(If->getCond(), FD, I);
  size_t Depth = CurGuards.size();
  std::optional<bool> Last = lastReferenceTest(If->getCond(), A.Ctx);
  guardsOf(If->getCond(), FD, false, CurGuards);
  CurLastReference += Last == true;
  scanStmt(If->getThen(), FD, I);
  CurLastReference -= Last == true;
  CurGuards.resize(Depth);
  if (If->getElse()) {
    llvm::SmallVector<ParamGuard, 2> Else;
    guardsOf(If->getCond(), FD, true, Else);
    if (Else.size() == 1) // `!(a && b)` is no conjunction of guards.
      CurGuards.push_back(Else.front());
    CurLastReference += Last == false;
    scanStmt(If->getElse(), FD, I);
    CurLastReference -= Last == false;
    CurGuards.resize(Depth);
  }
}

/// \p S jumps: `break`, `continue` or `goto`, anywhere in it.
static bool jumps(const Stmt *S) {
  if (!S)
    return false;
  if (isa<BreakStmt>(S) || isa<ContinueStmt>(S) || isa<GotoStmt>(S) ||
      isa<IndirectGotoStmt>(S))
    return true;
  return llvm::any_of(S->children(), jumps);
}

/// \p S always ends by leaving the function: `return;`, `{ return x; }`, or a
/// block that ends in a return and jumps nowhere else (`{ g_hash_table_iter_remove
/// (it); return; }`).
static bool onlyLeaves(const Stmt *S) {
  if (const auto *CS = dyn_cast_or_null<CompoundStmt>(S))
    return CS->size() > 0 && isa<ReturnStmt>(CS->body_back()) && !jumps(CS);
  return isa_and_nonnull<ReturnStmt>(S);
}

void EffectAnalysis::Impl::scanCompound(const CompoundStmt *CS,
                                        const FunctionDecl *FD, FnInfo &I) {
  size_t Depth = CurGuards.size(), ResetDepth = CurResets.size();
  unsigned LastDepth = CurLastReference;
  for (const Stmt *Child : CS->body()) {
    scanStmt(Child, FD, I);
    // `pc->tokens = 0;`: the statements after it in this block see it set.
    if (const auto *BO = dyn_cast<BinaryOperator>(Child);
        BO && BO->getOpcode() == BO_Assign) {
      Place P = A.placeOfLValue(BO->getLHS(), FD);
      if (P.outlivesCall() && derivedFrom(BO->getRHS(), P, FD, 0) == '=')
        CurResets.push_back(P);
    }
    // `if (!rm) return;`: what follows runs only when the test is false.
    // FIXME: a return value computed from effects before it is not a guard
    // of those effects; only the statements after the test get it.
    const auto *If = dyn_cast<IfStmt>(Child);
    if (If && !If->getElse() && !If->getInit() && onlyLeaves(If->getThen())) {
      llvm::SmallVector<ParamGuard, 2> After;
      guardsOf(If->getCond(), FD, true, After);
      if (After.size() == 1)
        CurGuards.push_back(After.front());
      // `if (!g_atomic_int_dec_and_test (&e->ref)) return;`
      CurLastReference += lastReferenceTest(If->getCond(), A.Ctx) == false;
    }
  }
  CurGuards.resize(Depth);
  CurResets.resize(ResetDepth);
  CurLastReference = LastDepth;
}

/// A call to a function with no body that can only read what it is given
/// and answer: the function returns a value and every parameter is a scalar,
/// a pointer to const, or a pointer whose argument here is the address of a
/// local of the caller (`get_name(t, &name)`: an out-parameter into the
/// caller's own variable). An equality or hash function, a getter, a lookup
/// in a table it is handed: not an unknown effect under StrictUnknownCalls.
/// A pointer argument that is a parameter of the caller is collected into
/// \p Filled: the reader may fill it (`return fetch(k, out)`), which is an
/// effect on that parameter only (a callback's own output is its product).
/// Variadic and unprototyped functions stay unknown. FIXME: a function of
/// scalars alone (`charge(account, cents)`) or of a descriptor and a const
/// buffer (`send_line(fd, text)`) looks like a reader too.
static bool looksLikeReader(const CallExpr *CE, const FunctionDecl *FD,
                            llvm::SmallVectorImpl<const Expr *> &Filled,
                            ASTContext &Ctx) {
  const auto *FPT = FD->getType()->getAs<FunctionProtoType>();
  if (!FPT || FPT->isVariadic() || FD->getReturnType()->isVoidType())
    return false;
  for (unsigned I = 0, N = FPT->getNumParams(); I < N; ++I) {
    QualType T = FPT->getParamType(I);
    if (T->isPointerType() || T->isReferenceType()) {
      QualType Pointee = T->getPointeeType();
      if (Pointee->isFunctionType())
        return false;
      if (Pointee.isConstQualified())
        continue;
      const Expr *Arg = I < CE->getNumArgs() ? CE->getArg(I)->IgnoreParenImpCasts()
                                             : nullptr;
      const auto *UO = dyn_cast_or_null<UnaryOperator>(Arg);
      const auto *DRE = UO && UO->getOpcode() == UO_AddrOf
                            ? dyn_cast<DeclRefExpr>(UO->getSubExpr()->IgnoreParenImpCasts())
                            : nullptr;
      const auto *VD = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
      if (VD && VD->hasLocalStorage() && !isa<ParmVarDecl>(VD))
        continue;
      const auto *PRef = Arg ? dyn_cast<DeclRefExpr>(Arg->IgnoreParenCasts()) : nullptr;
      // A block this function just allocated (`r = calloc(...); parse(.., r)`)
      // is its own, as a local is.
      if (const auto *Own = PRef ? dyn_cast<VarDecl>(PRef->getDecl()) : nullptr;
          Own && !isa<ParmVarDecl>(Own) && Own->hasLocalStorage() &&
          Own->getType()->isPointerType() && freshAtCall(Own, CE, Ctx))
        continue;
      // A local alias of a parameter (`struct rule *r = value_out;`) is that
      // parameter, as placeOfPointer follows it.
      if (const auto *Alias = PRef ? dyn_cast<VarDecl>(PRef->getDecl()) : nullptr;
          Alias && !isa<ParmVarDecl>(Alias) && Alias->hasLocalStorage() && Alias->getInit())
        if (const auto *Init =
                dyn_cast<DeclRefExpr>(Alias->getInit()->IgnoreParenCasts());
            Init && isa<ParmVarDecl>(Init->getDecl()))
          PRef = Init;
      if (!PRef || !isa<ParmVarDecl>(PRef->getDecl()) || !T->isPointerType())
        return false;
      Filled.push_back(CE->getArg(I));
    } else if (!T->isScalarType()) {
      return false;
    }
  }
  return true;
}

void EffectAnalysis::Impl::scanCall(const CallExpr *CE, const FunctionDecl *FD,
                                    FnInfo &I) {
  const FunctionDecl *Callee = CE->getDirectCallee();
  if (Callee)
    return scanCallTo(CE, Callee, FD, I);
  if (isa<CXXPseudoDestructorExpr>(CE->getCallee()->IgnoreParenImpCasts()))
    return;
  // `ops->load(key)`: the functions the TU stores into the field; those it
  // may have stored into this embedded struct's (`w->super.init (...)`).
  if (const std::vector<const FunctionDecl *> *Fns = A.fieldFunctions().calledAt(CE)) {
    for (const FunctionDecl *Fn : *Fns)
      scanCallTo(CE, Fn, FD, I);
    return;
  }
  pushLocal(I, makeEffect(EffectKind::UnknownCall, Place(), CE));
}

/// \p E without the implicit conversions to a base class (and no-op ones)
/// that a member call puts on its object.
static const Expr *withoutBaseCasts(const Expr *E) {
  while (const auto *ICE = dyn_cast<ImplicitCastExpr>(E->IgnoreParens())) {
    CastKind K = ICE->getCastKind();
    if (K != CK_DerivedToBase && K != CK_UncheckedDerivedToBase && K != CK_NoOp)
      break;
    E = ICE->getSubExpr();
  }
  return E;
}

/// `hits.fetch_add(1)`, `hits++`, `hits += n` on a `std::atomic`: a
/// read-modify-write of the object (`store`, `exchange`, `fetch_or`,
/// `fetch_and` and `compare_exchange_*` are idempotent stores).
bool EffectAnalysis::Impl::scanAtomicMember(const CallExpr *CE,
                                            const FunctionDecl *Callee,
                                            const FunctionDecl *FD, FnInfo &I) {
  const auto *MD = dyn_cast<CXXMethodDecl>(Callee);
  if (!MD || !MD->getParent()->isInStdNamespace())
    return false;
  llvm::StringRef Class = MD->getParent()->getName();
  if (Class != "atomic" && Class != "__atomic_base" &&
      Class != "__atomic_float" && Class != "atomic_ref")
    return false;
  const Expr *Obj = nullptr;
  if (const auto *MC = dyn_cast<CXXMemberCallExpr>(CE))
    Obj = MC->getImplicitObjectArgument();
  else if (isa<CXXOperatorCallExpr>(CE) && CE->getNumArgs() > 0)
    Obj = CE->getArg(0);
  if (!Obj)
    return false;
  Obj = withoutBaseCasts(Obj);
  std::string Name = MD->getNameAsString();
  char Op = Name == "fetch_add" || Name == "operator++" || Name == "operator+="
                ? '+'
            : Name == "fetch_sub" || Name == "operator--" || Name == "operator-="
                ? '-'
            : Name == "fetch_xor" || Name == "operator^=" ? '?'
                                                           : '=';
  if (Op == '=' && Name != "store" && Name != "exchange" &&
      Name != "fetch_or" && Name != "fetch_and" && Name != "operator=" &&
      !llvm::StringRef(Name).starts_with("compare_exchange"))
    return true; // load, is_lock_free, ...: no effect
  Place P = Obj->getType()->isPointerType() ? A.placeOfPointer(Obj, FD)
                                            : A.placeOfLValue(Obj, FD);
  addPlaceEffect(I, Op == '=' ? EffectKind::Write : EffectKind::ReadModifyWrite,
                 P, CE, Op);
  return true;
}

void EffectAnalysis::Impl::scanCallTo(const CallExpr *CE,
                                      const FunctionDecl *Callee,
                                      const FunctionDecl *FD, FnInfo &I) {
  if (A.isTrusted(Callee))
    return;
  // Calls with arguments rooted at a parameter or a global, for callsWithParam.
  for (unsigned J = 0, N = CE->getNumArgs(); J < N; ++J) {
    Place P = A.placeOfArgument(CE->getArg(J), FD);
    if (!P.outlivesCall())
      continue;
    Effect E = makeEffect(EffectKind::Call, P, CE, Callee);
    E.ArgIndex = J;
    pushLocal(I, std::move(E));
  }
  if (NonIdempotentReason R = A.nonIdempotentReason(Callee);
      R != NonIdempotentReason::None) {
    Effect E = makeEffect(EffectKind::NonIdempotentCall, Place(), CE, Callee);
    E.Reason = R;
    pushLocal(I, std::move(E));
    return;
  }
  // C++: a member function of a map class operates on its object.
  if (const Expr *Obj = mapObject(CE, A.Model)) {
    Obj = withoutBaseCasts(Obj);
    Place M = Obj->getType()->isPointerType() ? A.placeOfPointer(Obj, FD)
                                              : A.placeOfLValue(Obj, FD);
    Effect E = makeEffect(EffectKind::MapOperation, M, CE, Callee);
    E.MapField = loadedFromField(Obj);
    E.MapFieldAt = E.MapField ? Obj : nullptr;
    pushLocal(I, std::move(E));
    return;
  }
  if (scanAtomicMember(CE, Callee, FD, I))
    return;
  std::optional<unsigned> MapParam;
  if (A.Model.isMapOperation(Callee, &MapParam)) {
    // `nm_connection_normalize (c, NULL, ...)`: a null map is no map (a
    // helper with a body may pick a map of its own when given none).
    if (!Callee->hasBody() && MapParam && *MapParam < CE->getNumArgs() &&
        CE->getArg(*MapParam)->IgnoreParenCasts()->isNullPointerConstant(
            FD->getASTContext(), Expr::NPC_ValueDependentIsNotNull))
      return;
    llvm::SmallVector<MapArgPlace, 2> Maps(1);
    bool AtEntry = false; // the table a field held when FD was called
    if (MapParam && *MapParam < CE->getNumArgs()) {
      Maps = A.mapArgumentPlaces(CE->getArg(*MapParam), FD);
      if (std::optional<Place> Q = copiedBeforeSwap(CE->getArg(*MapParam), FD)) {
        Maps = {{std::move(*Q), Maps.front().Field, Maps.front().FieldAt}};
        AtEntry = true;
      }
    }
    for (MapArgPlace &M : Maps) {
      // A table of an object made just before (`e = entry_new (); insert
      // (e->files, ...)`): no caller's map (as in translate).
      if (M.P.Root == Place::RootKind::Local && !M.P.Fields.empty() &&
          freshAtCall(M.P.Var, CE, A.Ctx))
        continue;
      Effect E = makeEffect(EffectKind::MapOperation, std::move(M.P), CE, Callee);
      E.MapField = M.Field;
      E.MapFieldAt = M.FieldAt;
      if (!AtEntry)
        markNewInPlace(E, FD, A);
      markOwnTable(E, FD);
      pushLocal(I, std::move(E));
    }
    return;
  }
  llvm::StringRef Name =
      Callee->getDeclName().isIdentifier() ? Callee->getName() : "";
  LibKind L = nameIn(DeallocatorNames, Callee) ? LibKind::Free
                                                : libraryEffect(Name);
  if (L != LibKind::None) {
    if (L == LibKind::Free && RefilledFrees.contains(CE))
      return; // Given a new value before returning: a retry frees that.
    if (CE->getNumArgs() > 0) {
      Place P = A.placeOfPointer(CE->getArg(0), FD);
      EffectKind K = L == LibKind::Free  ? EffectKind::Free
                     : L == LibKind::RMW ? EffectKind::ReadModifyWrite
                                         : EffectKind::Write;
      char Op = L == LibKind::Write                            ? '='
                : Name.contains("_add") || Name.ends_with("_inc") ? '+'
                : Name.contains("_sub") || Name.ends_with("_dec") ? '-'
                                                                 : '?';
      addPlaceEffect(I, K, P, CE, Op);
    }
    return;
  }
  if (const FunctionDecl *Def = definitionOf(Callee); Def && descendsInto(Def)) {
    I.Calls.push_back({CE, Def});
    if (!CurGuards.empty())
      I.CallGuards[CE].assign(CurGuards.begin(), CurGuards.end());
    if (CurLastReference)
      I.LastReferenceCalls.insert(CE);
    return;
  }
  if (Callee->getBuiltinID() || isKnownQuietLibraryFunction(Name))
    return;
  // No body and no contract: it may keep any pointer it is given.
  // A reader that may fill one parameter of this function is an unknown
  // call on that parameter (a callback's own output is its product).
  llvm::SmallVector<const Expr *, 2> Filled;
  if (!looksLikeReader(CE, Callee, Filled, A.Ctx)) {
    pushLocal(I, makeEffect(EffectKind::UnknownCall, Place(), CE, Callee));
  } else if (!Filled.empty()) {
    Place P = A.placeOfPointer(Filled.front(), FD);
    bool OneParam = P.Root == Place::RootKind::Param &&
                    llvm::all_of(Filled, [&](const Expr *E) {
                      return A.placeOfPointer(E, FD).sameAs(P);
                    });
    pushLocal(I, makeEffect(EffectKind::UnknownCall, OneParam ? P : Place(), CE,
                            Callee));
  }
  for (unsigned J = 0, N = CE->getNumArgs(); J < N; ++J)
    if (CE->getArg(J)->getType()->isPointerType())
      addPlaceEffect(I, EffectKind::Escape, A.placeOfPointer(CE->getArg(J), FD),
                     CE);
}

const FunctionDecl *lambdaOwner(const FunctionDecl *Fn) {
  const auto *MD = dyn_cast_or_null<CXXMethodDecl>(Fn);
  if (!MD || !MD->getParent()->isLambda())
    return nullptr;
  return dyn_cast_or_null<FunctionDecl>(MD->getParent()->getDeclContext());
}

/// \p T, a place of callee \p Callee rooted at its `this`, in the terms of
/// \p Caller at call \p Site: a method's object is the call's object
/// (`obj->drop ()`, `this->drop ()`); a lambda's is the `this` of the method it
/// was written in, when that method calls it. Unknown otherwise.
Place EffectAnalysis::Impl::placeOfThisAt(const Place &T, const CallExpr *Site,
                                          const FunctionDecl *Callee,
                                          const FunctionDecl *Caller) const {
  Place P;
  if (const FunctionDecl *Made = lambdaOwner(Callee)) {
    if (Caller && Made->getCanonicalDecl() == Caller->getCanonicalDecl())
      P = T;
    return P;
  }
  const auto *MCE = dyn_cast<CXXMemberCallExpr>(Site);
  const auto *ME = MCE ? dyn_cast<MemberExpr>(MCE->getCallee()->IgnoreParens()) : nullptr;
  if (!ME)
    return P;
  P = ME->isArrow() ? A.placeOfPointer(ME->getBase(), Caller)
                    : A.placeOfLValue(ME->getBase(), Caller);
  if (P.Root == Place::RootKind::Unknown)
    return P;
  P.AddressOf = T.AddressOf;
  P.Fields.append(T.Fields.begin(), T.Fields.end());
  appendIndexes(P, T);
  return P;
}

bool EffectAnalysis::Impl::translate(const Effect &CE, const CallExpr *Site,
                                     const FunctionDecl *Callee,
                                     const FunctionDecl *Caller, Effect &Out) {
  // Call effects stay in the function that makes the call (callsWithParam
  // follows the call graph on demand): propagating every call to every
  // caller would make summaries grow with the square of the chain length.
  if (CE.Kind == EffectKind::Call || CE.Chain.size() + 1 > A.Opts.MaxCallDepth)
    return false;
  Out = CE;
  if (!A.guardsAllow(CE, Site, Caller, Out))
    return false;
  if (CE.Target.Root == Place::RootKind::Param) {
    if (CE.Target.Param >= Site->getNumArgs()) {
      Out.Target = Place();
    } else {
      Place P = A.placeOfArgument(Site->getArg(CE.Target.Param), Caller);
      // A map of an object this function just created (`e = entry_new ();
      // fill (e);`) is none its callers can hold (bench/realworld R20, gvfs).
      if (CE.Kind == EffectKind::MapOperation && P.Root == Place::RootKind::Local &&
          freshAtCall(P.Var, Site, A.Ctx))
        return false;
      // `drop(e->manager->cache)` and `drop` operates on its parameter.
      if (CE.Kind == EffectKind::MapOperation && !CE.MapField &&
          CE.Target.Fields.empty()) {
        Out.MapField = loadedFromField(Site->getArg(CE.Target.Param));
        Out.MapFieldAt = Out.MapField ? Site->getArg(CE.Target.Param) : nullptr;
      }
      // A release on the last reference counts as one (Effect::LastReference)
      // only where the released object is a local of the caller: a reference
      // it took. Released through a parameter (a foreach callback's `unref
      // (value)`), it may be the reference the table itself holds.
      Out.LastReference &= P.Root == Place::RootKind::Local;
      // `f(&g)` and the callee writes `*p`: the place is `g` itself.
      P.AddressOf = CE.Target.AddressOf;
      P.Fields.append(CE.Target.Fields.begin(), CE.Target.Fields.end());
      appendIndexes(P, CE.Target);
      Out.Target = std::move(P);
      if (CE.Kind == EffectKind::MapOperation)
        markOwnTable(Out, Caller); // `fill (&t)`, `drop (t)` of its own `t`
    }
  } else if (CE.Target.Root == Place::RootKind::This) {
    Out.Target = placeOfThisAt(CE.Target, Site, Callee, Caller);
  } else if (CE.Target.Root == Place::RootKind::Local) {
    Out.Target = Place();
  }
  if (!restateFieldCall(CE, Site, Caller, Out))
    return false;
  if (std::optional<Effect::FieldCall> T = fieldCallOnParam(Site, Callee, Caller))
    Out.Through = T;
  Out.Chain.insert(Out.Chain.begin(), Hop{Site, Callee});
  return keepsForCaller(Out);
}

std::optional<Effect::FieldCall>
EffectAnalysis::Impl::fieldCallOnParam(const CallExpr *Site,
                                       const FunctionDecl *Callee,
                                       const FunctionDecl *Caller) const {
  const MemberExpr *ME = calledMember(Site);
  const auto *F = ME && ME->isArrow() ? dyn_cast<FieldDecl>(ME->getMemberDecl()) : nullptr;
  if (!F)
    return std::nullopt;
  Place Base = A.placeOfPointer(ME->getBase(), Caller);
  if (Base.Root != Place::RootKind::Param || !Base.Fields.empty() || Base.AddressOf)
    return std::nullopt;
  return Effect::FieldCall{F, Callee, Base.Param};
}

bool EffectAnalysis::Impl::restateFieldCall(const Effect &CE, const CallExpr *Site,
                                            const FunctionDecl *Caller,
                                            Effect &Out) const {
  if (!CE.Through)
    return true;
  Out.Through.reset();
  if (CE.Through->Param >= Site->getNumArgs())
    return true;
  // FIXME: a callback's parameter (the walk's value or context) is not
  // followed to the walk's arguments: it keeps every function stored into
  // the field.
  const Expr *Arg = Site->getArg(CE.Through->Param);
  if (const FieldDecl *Within = embeddedField(Arg))
    return A.fieldFunctions().mayHoldWithin(CE.Through->Field, CE.Through->Fn, Within);
  if (castFromOpaqueStruct(Arg)) // no struct of this TU: plain stores only
    return A.fieldFunctions().mayHoldWithin(CE.Through->Field, CE.Through->Fn, nullptr);
  Place P = A.placeOfPointer(Arg, Caller);
  if (P.Root == Place::RootKind::Param && P.Fields.empty() && !P.AddressOf) {
    Out.Through = CE.Through;
    Out.Through->Param = P.Param;
  }
  return true;
}

bool EffectAnalysis::Impl::absorbCallees(FnInfo &I) {
  bool Changed = false;
  for (auto &[Site, Callee] : I.Calls) {
    FnInfo &C = info(Callee);
    if (C.Summary.Truncated)
      I.Summary.Truncated = true;
    // Index: the callee's vector may grow while we add to ours (self-calls).
    for (size_t K = 0; K < C.Summary.Effects.size(); ++K) {
      Effect Out;
      if (!translate(C.Summary.Effects[K], Site, Callee, I.Fn, Out)) {
        if (C.Summary.Effects[K].Kind != EffectKind::Call &&
            C.Summary.Effects[K].Chain.size() + 1 > A.Opts.MaxCallDepth)
          I.Summary.Truncated = true;
        continue;
      }
      if (auto G = I.CallGuards.find(Site); G != I.CallGuards.end())
        Out.Guards.append(G->second.begin(), G->second.end());
      Out.LastReference |= I.LastReferenceCalls.contains(Site);
      Changed |= addEffect(I, std::move(Out));
    }
  }
  return Changed;
}

void EffectAnalysis::Impl::strongConnect(const FunctionDecl *FD,
                                         unsigned Depth) {
  FnInfo &I = info(FD);
  if (!I.Scanned)
    scanBody(FD, I);
  I.Index = I.Low = Counter++;
  Stack.push_back(FD);
  I.OnStack = true;
  for (auto &[Site, Callee] : I.Calls) {
    FnInfo &C = info(Callee);
    if (C.Done)
      continue;
    if (C.Index < 0) {
      if (Depth >= MaxDfsDepth) {
        I.Summary.Truncated = true; // FIXME: precision lost on deep chains.
        continue;
      }
      strongConnect(Callee, Depth + 1);
      I.Low = std::min(I.Low, C.Low);
    } else if (C.OnStack) {
      I.Low = std::min(I.Low, C.Index);
    }
  }
  if (I.Low != I.Index)
    return;
  // FD is the root of a component: pop it and solve it.
  std::vector<FnInfo *> Members;
  const FunctionDecl *Member = nullptr;
  do {
    Member = Stack.back();
    Stack.pop_back();
    FnInfo &M = info(Member);
    M.OnStack = false;
    for (const Effect &E : M.Local)
      addEffect(M, E);
    Members.push_back(&M);
  } while (Member != FD);
  for (unsigned Round = 0; Round < MaxFixpointRounds; ++Round) {
    bool Changed = false;
    for (FnInfo *M : Members)
      Changed |= absorbCallees(*M);
    if (!Changed)
      break;
    if (Round + 1 == MaxFixpointRounds)
      for (FnInfo *M : Members)
        M->Summary.Truncated = true;
  }
  for (FnInfo *M : Members) {
    M->Done = true;
    M->Local.clear();
    M->Local.shrink_to_fit();
    M->Keys.clear();
    M->CallGuards.clear();
    M->LastReferenceCalls.clear();
  }
}

static bool callMatches(const Effect &E, llvm::StringRef Name, unsigned I,
                        const FieldDecl *Field) {
  if (E.Kind != EffectKind::Call || !E.Target.isParam(I) || !E.Callee ||
      !E.Callee->getDeclName().isIdentifier() || E.Callee->getName() != Name)
    return false;
  return !Field ? E.Target.Fields.empty()
                : (E.Target.Fields.size() == 1 && E.Target.Fields[0] == Field);
}

std::unique_ptr<Effect>
EffectAnalysis::Impl::findCall(const FunctionDecl *FD, llvm::StringRef Name,
                               unsigned I, const FieldDecl *Field,
                               unsigned DepthLeft) {
  FnInfo &Info = info(FD);
  for (const Effect &E : Info.Summary.Effects)
    if (E.Chain.empty() && callMatches(E, Name, I, Field))
      return std::make_unique<Effect>(E);
  if (DepthLeft == 0)
    return nullptr;
  for (auto &[Site, Callee] : Info.Calls) {
    for (unsigned J = 0, N = Site->getNumArgs(); J < N; ++J) {
      Place P = A.placeOfArgument(Site->getArg(J), FD);
      if (!P.isParam(I))
        continue;
      const FieldDecl *Rest = Field;
      if (!P.Fields.empty()) {
        // `helper(&p->timer)` continues the search for `p->timer` as the
        // helper's parameter itself.
        if (!Field || P.Fields.size() != 1 || P.Fields[0] != Field)
          continue;
        Rest = nullptr;
      }
      const Effect *Below = A.callsWithParam(Callee, Name, J, Rest);
      if (!Below || Below->Chain.size() + 1 > DepthLeft)
        continue;
      auto Out = std::make_unique<Effect>(*Below);
      Out->Target = P;
      Out->Chain.insert(Out->Chain.begin(), Hop{Site, Callee});
      return Out;
    }
  }
  return nullptr;
}

// ===----------------------------------------------------------------------===
// EffectAnalysis
// ===----------------------------------------------------------------------===

EffectAnalysis::EffectAnalysis(ASTContext &Ctx, const ContractModel &Model,
                               EffectOptions Options)
    : Ctx(Ctx), Model(Model), Opts(std::move(Options)) {
  P = std::make_unique<Impl>(*this);
}

EffectAnalysis::~EffectAnalysis() = default;

FieldFunctions &EffectAnalysis::fieldFunctions() {
  if (!Fields)
    Fields = std::make_unique<FieldFunctions>(Ctx);
  return *Fields;
}

const FunctionSummary &EffectAnalysis::summary(const FunctionDecl *FD) {
  const FunctionDecl *Def = definitionOf(FD);
  if (!Def || isTrusted(Def))
    return P->Empty;
  Impl::FnInfo &I = P->info(Def);
  if (!I.Done && I.Index < 0)
    P->strongConnect(Def, 0);
  return I.Summary;
}

bool EffectAnalysis::guardsAllow(const Effect &Inner, const CallExpr *Site,
                                 const FunctionDecl *Caller,
                                 Effect &Out) const {
  Out.Guards.clear();
  for (const ParamGuard &G : Inner.Guards) {
    if (G.Param >= Site->getNumArgs())
      continue;
    const Expr *Arg = Site->getArg(G.Param);
    std::optional<int64_t> V = constantValue(Arg, Ctx);
    // `drop(s, id, &it)`: an address is not null.
    if (!V && G.Value == 0 && Arg->getType()->isPointerType())
      if (const auto *UO = dyn_cast<UnaryOperator>(Arg->IgnoreParenImpCasts());
          UO && UO->getOpcode() == UO_AddrOf)
        V = 1;
    if (V) {
      if ((*V == G.Value) != G.Equal)
        return false;
      continue;
    }
    if (std::optional<unsigned> P = testedParam(Arg, Caller))
      Out.Guards.push_back({*P, G.Equal, G.Value});
  }
  return true;
}

NonIdempotentReason
EffectAnalysis::nonIdempotentReason(const FunctionDecl *FD) const {
  if (!FD)
    return NonIdempotentReason::None;
  if (Model.functionHas(FD, ContractKind::NonIdempotent))
    return NonIdempotentReason::Annotated;
  if (Impl::nameIn(P->NonIdempotentNames, FD))
    return NonIdempotentReason::Option;
  // The default list names C library functions: not the program's own function
  // of the same name (a `static void link(...)` with its body here, or
  // `std::remove`, a function in a namespace), whose body is looked at instead.
  const FunctionDecl *Def = nullptr;
  bool OwnDefinition = FD->hasBody(Def) &&
                       !Ctx.getSourceManager().isInSystemHeader(Def->getLocation());
  if (Opts.UseDefaultNonIdempotent && FD->getDeclName().isIdentifier() &&
      !FD->isCXXClassMember() && !OwnDefinition &&
      FD->getDeclContext()->getRedeclContext()->isTranslationUnit() &&
      defaultNonIdempotentSet().contains(FD->getName()))
    return NonIdempotentReason::DefaultList;
  return NonIdempotentReason::None;
}

bool EffectAnalysis::isTrusted(const FunctionDecl *FD) const {
  return FD && (Model.functionHas(FD, ContractKind::Idempotent) ||
                Impl::nameIn(P->IdempotentNames, FD));
}

// ---- Places ----

static std::optional<unsigned> paramIndex(const ParmVarDecl *PVD,
                                          const FunctionDecl *Owner) {
  if (!Owner)
    return std::nullopt;
  for (unsigned I = 0, N = Owner->getNumParams(); I < N; ++I)
    if (Owner->getParamDecl(I) == PVD)
      return I;
  // The parameter may belong to another redeclaration of Owner.
  unsigned Index = PVD->getFunctionScopeIndex();
  if (Index < Owner->getNumParams())
    return Index;
  return std::nullopt;
}

/// Memory reached through parameter \p PVD of \p Owner (Unknown if it is not
/// one of Owner's parameters).
static Place placeOfParam(const ParmVarDecl *PVD, const FunctionDecl *Owner) {
  Place P;
  if (auto Idx = paramIndex(PVD, Owner)) {
    P.Root = Place::RootKind::Param;
    P.Param = *Idx;
  }
  return P;
}

/// \p Owner is the call operator of a lambda that captures `*this` by copy
/// (C++17 `[*this]`): its `this` is its own copy, not the method's object.
static bool copiesThis(const FunctionDecl *Owner) {
  const auto *MD = dyn_cast_or_null<CXXMethodDecl>(Owner);
  if (!MD || !MD->getParent()->isLambda())
    return false;
  return llvm::any_of(MD->getParent()->captures(), [](const LambdaCapture &C) {
    return C.capturesThis() && C.getCaptureKind() == LCK_StarThis;
  });
}

/// How the lambda whose call operator is \p Owner captures the variable
/// \p DRE names, if \p DRE names a variable of an enclosing function.
static std::optional<LambdaCaptureKind> captureOf(const DeclRefExpr *DRE,
                                                  const FunctionDecl *Owner) {
  const auto *MD = dyn_cast_or_null<CXXMethodDecl>(Owner);
  if (!DRE->refersToEnclosingVariableOrCapture() || !MD ||
      !MD->getParent()->isLambda())
    return std::nullopt;
  for (const LambdaCapture &C : MD->getParent()->captures())
    if (C.capturesVariable() && C.getCapturedVar() == DRE->getDecl())
      return C.getCaptureKind();
  return std::nullopt;
}

/// A variable of the function that made the lambda \p Owner, shared with
/// it: captured by reference, or (\p ThroughPointer) a pointer captured by
/// copy whose target is shared. It outlives each call of the lambda, like a
/// global (Root Global, `Var` the enclosing function's variable).
static std::optional<Place> placeOfCapture(const DeclRefExpr *DRE,
                                           const FunctionDecl *Owner,
                                           bool ThroughPointer) {
  std::optional<LambdaCaptureKind> K = captureOf(DRE, Owner);
  const auto *VD = dyn_cast<VarDecl>(DRE->getDecl());
  if (!K || !VD || (*K != LCK_ByRef && !ThroughPointer))
    return std::nullopt;
  Place P;
  P.Root = Place::RootKind::Global;
  P.Var = VD;
  return P;
}

/// The place of the variable \p VD itself.
static Place placeOfVar(const VarDecl *VD) {
  Place P;
  P.Var = VD;
  P.Root = VD->hasGlobalStorage() ? Place::RootKind::Global
                                  : Place::RootKind::Local;
  return P;
}

Place EffectAnalysis::placeOfLValue(const Expr *E,
                                    const FunctionDecl *Owner) const {
  for (unsigned Guard = 0; E && Guard < 64; ++Guard) {
    E = E->IgnoreParens();
    if (const auto *ICE = dyn_cast<ImplicitCastExpr>(E);
        ICE && ICE->getCastKind() == CK_NoOp) {
      E = ICE->getSubExpr();
      continue;
    }
    if (const auto *DRE = dyn_cast<DeclRefExpr>(E)) {
      if (std::optional<Place> C = placeOfCapture(DRE, Owner, false))
        return *C;
      if (const auto *VD = dyn_cast<VarDecl>(DRE->getDecl())) {
        // C++ references: the place is what the reference was bound to.
        if (VD->getType()->isReferenceType()) {
          if (const auto *PVD = dyn_cast<ParmVarDecl>(VD))
            return placeOfParam(PVD, Owner);
          if (VD->getInit() && !VD->hasGlobalStorage()) {
            E = VD->getInit();
            continue;
          }
        }
        return placeOfVar(VD);
      }
      return Place();
    }
    if (const auto *ME = dyn_cast<MemberExpr>(E)) {
      const auto *FDecl = dyn_cast<FieldDecl>(ME->getMemberDecl());
      if (!FDecl)
        return Place();
      Place P = ME->isArrow() ? placeOfPointer(ME->getBase(), Owner)
                              : placeOfLValue(ME->getBase(), Owner);
      if (P.Root == Place::RootKind::Unknown)
        return P;
      P.AddressOf = false;
      if (P.Fields.size() < 8)
        P.Fields.push_back(FDecl);
      return P;
    }
    if (const auto *UO = dyn_cast<UnaryOperator>(E);
        UO && UO->getOpcode() == UO_Deref) {
      Place P = placeOfPointer(UO->getSubExpr(), Owner);
      P.AddressOf = false;
      return P;
    }
    if (const auto *ASE = dyn_cast<ArraySubscriptExpr>(E)) {
      Place P = placeOfPointer(ASE->getBase(), Owner);
      P.AddressOf = false;
      if (P.Indexes.size() < Place::MaxIndexes)
        P.Indexes.push_back(ASE->getIdx());
      return P;
    }
    if (const auto *CO = dyn_cast<CXXOperatorCallExpr>(E);
        CO && CO->getNumArgs() > 0)
      return Place(); // FIXME: C++ overloaded operators.
    return Place();
  }
  return Place();
}

namespace {
/// The assignments to struct fields under \p S, in source order.
void collectFieldStores(const Stmt *S, std::vector<const BinaryOperator *> &Out) {
  if (!S || isa<LambdaExpr>(S) || isa<BlockExpr>(S))
    return;
  const auto *BO = dyn_cast<BinaryOperator>(S);
  const Expr *LHS = BO && BO->getOpcode() == BO_Assign ? BO->getLHS()->IgnoreParenImpCasts()
                                                       : nullptr;
  const auto *DRE = dyn_cast_or_null<DeclRefExpr>(LHS);
  const auto *VD = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
  // A field, or a global (`pending = NULL` after `tmp = pending`, R26).
  if (isa_and_nonnull<MemberExpr>(LHS) || (VD && VD->hasGlobalStorage()))
    Out.push_back(BO);
  for (const Stmt *Child : S->children())
    collectFieldStores(Child, Out);
}

} // namespace

bool EffectAnalysis::heldSinceInit(const VarDecl *VD, const Place &Loaded,
                                   const Expr *Use, const FunctionDecl *Owner) const {
  return heldSince(VD->getLocation(), Loaded, Use, Owner);
}

bool EffectAnalysis::heldSince(SourceLocation Start, const Place &Loaded,
                               const Expr *Use, const FunctionDecl *Owner) const {
  const Stmt *Body = Owner ? Owner->getBody() : nullptr;
  if (!Body)
    return true;
  auto [It, New] = P->FieldStores.try_emplace(Owner);
  if (New)
    collectFieldStores(Body, It->second);
  const SourceManager &SM = Ctx.getSourceManager();
  SourceLocation From = SM.getExpansionLoc(Start);
  SourceLocation To = SM.getExpansionLoc(Use->getBeginLoc());
  for (const BinaryOperator *BO : It->second) {
    SourceLocation At = SM.getExpansionLoc(BO->getBeginLoc());
    if (SM.isBeforeInTranslationUnit(From, At) && SM.isBeforeInTranslationUnit(At, To) &&
        placeOfLValue(BO->getLHS(), Owner).sameAs(Loaded))
      return false;
  }
  return true;
}

std::optional<Place> EffectAnalysis::placeOfAssigned(const VarDecl *VD, const Expr *Use,
                                                     const FunctionDecl *Owner) const {
  if (!Owner || VD->getParentFunctionOrMethod() != Owner ||
      !P->PlacesInProgress.insert(VD).second)
    return std::nullopt;
  auto [It, New] = P->AssignedValues.try_emplace(VD);
  if (New && !assignedValuesOf(VD, Owner, It->second))
    It->second.clear();
  std::optional<Place> One;
  for (const Expr *V : It->second) {
    if (V->IgnoreParenCasts()->isNullPointerConstant(Ctx, Expr::NPC_ValueDependentIsNotNull))
      continue;
    Place Q = placeOfPointer(V, Owner);
    if (!Q.traced() || (Q.Root == Place::RootKind::Local && Q.Var == VD) ||
        (One && !(One->sameAs(Q) && One->sameElements(Q, Ctx))) ||
        (!Q.Fields.empty() && !heldSince(V->getBeginLoc(), Q, Use, Owner))) {
      One.reset();
      break;
    }
    One = std::move(Q);
  }
  P->PlacesInProgress.erase(VD);
  return One;
}

Place EffectAnalysis::walkedPlace(const Expr *E, const FunctionDecl *Owner) const {
  Place P = placeOfPointer(E, Owner);
  const auto *DRE = dyn_cast<DeclRefExpr>(E->IgnoreParenImpCasts());
  const auto *VD = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
  if (!VD || !VD->hasLocalStorage() || isa<ParmVarDecl>(VD) ||
      P.Root != Place::RootKind::Global || !P.Fields.empty() || P.Var == VD ||
      heldSince(VD->getLocation(), P, E, Owner))
    return P;
  return placeOfVar(VD);
}

namespace {
/// \p S (anywhere in it) assigns the field or global \p P of \p Owner, or
/// takes its address.
bool storesPlace(const Stmt *S, const Place &P, const FunctionDecl *Owner,
                 const EffectAnalysis &A) {
  if (!S || isa<LambdaExpr>(S) || isa<BlockExpr>(S))
    return false;
  const Expr *Target = nullptr;
  if (const auto *BO = dyn_cast<BinaryOperator>(S); BO && BO->isAssignmentOp())
    Target = BO->getLHS();
  else if (const auto *UO = dyn_cast<UnaryOperator>(S); UO && UO->getOpcode() == UO_AddrOf)
    Target = UO->getSubExpr();
  if (Target && A.placeOfLValue(Target, Owner).sameAs(P))
    return true;
  return llvm::any_of(S->children(), [&](const Stmt *C) {
    return storesPlace(C, P, Owner, A);
  });
}
} // namespace

void markNewInPlace(Effect &E, const FunctionDecl *FD, const EffectAnalysis &A,
                    bool InLoop) {
  if (E.Kind != EffectKind::MapOperation ||
      !A.holdsNewTableAt(E.Target, E.Where, FD, InLoop))
    return;
  E.Target = Place();
  E.NewMap = true;
}

bool EffectAnalysis::holdsNewTableAt(const Place &P, const Stmt *Use,
                                     const FunctionDecl *Owner, bool InLoop) const {
  if (!P.outlivesCall() || (P.Fields.empty() && P.Root != Place::RootKind::Global))
    return false;
  const Stmt *Prev = lastWriteBefore(
      Use, Ctx, [&](const Stmt *S) { return storesPlace(S, P, Owner, *this); }, InLoop);
  const auto *E = dyn_cast_or_null<Expr>(Prev);
  const auto *BO = E ? dyn_cast<BinaryOperator>(E->IgnoreParenImpCasts()) : nullptr;
  return BO && BO->getOpcode() == BO_Assign &&
         placeOfLValue(BO->getLHS(), Owner).sameAs(P) && isNewTable(BO->getRHS(), Owner);
}

const FieldDecl *EffectAnalysis::fieldLoadedInto(const Expr *E,
                                                 const FunctionDecl *Owner) const {
  const FieldDecl *F = loadedFromField(E);
  const auto *DRE = F ? dyn_cast<DeclRefExpr>(E->IgnoreParenCasts()) : nullptr;
  const auto *VD = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
  if (!VD || VD->hasGlobalStorage() || isa<ParmVarDecl>(VD) || !VD->getInit())
    return F;
  Place Loaded = placeOfPointer(throughTableRef(VD->getInit()), Owner);
  return Loaded.Fields.empty() || heldSinceInit(VD, Loaded, DRE, Owner) ? F : nullptr;
}

namespace {
/// The values of the return statements under \p S (not in a lambda or a
/// block); false when a return has none.
bool collectReturnValues(const Stmt *S, llvm::SmallVectorImpl<const Expr *> &Out) {
  if (!S || isa<LambdaExpr>(S) || isa<BlockExpr>(S))
    return true;
  if (const auto *R = dyn_cast<ReturnStmt>(S)) {
    if (!R->getRetValue())
      return false;
    Out.push_back(R->getRetValue());
    return true;
  }
  for (const Stmt *Child : S->children())
    if (!collectReturnValues(Child, Out))
      return false;
  return true;
}
} // namespace

Place EffectAnalysis::placeOfGetter(const CallExpr *Call) const {
  // Only a call that hands back a map: `foo_get_default ()` returning an
  // object stays untraced, which compareMaps may take to be the walked one.
  const FunctionDecl *Callee = Call->getDirectCallee();
  if (!Callee || !Model.isMapPointer(Call->getType()))
    return Place();
  const FunctionDecl *Def = nullptr;
  if (!Callee->hasBody(Def) || !Def || isa<CXXMethodDecl>(Def))
    return Place();
  auto [It, New] = P->GetterPlaces.try_emplace(Def);
  if (!New)
    return It->second;
  llvm::SmallVector<const Expr *, 4> Returns;
  if (!collectReturnValues(Def->getBody(), Returns) || Returns.empty())
    return Place();
  std::optional<Place> One;
  for (const Expr *R : Returns) {
    // `if (!ready) return NULL;`: no table, not another one.
    if (R->IgnoreParenCasts()->isNullPointerConstant(
            Ctx, Expr::NPC_ValueDependentIsNotNull))
      continue;
    // The variable itself holds the table: `return g_state->table` may be a
    // table of the walked object, and stays untraced.
    Place Q = placeOfPointer(R, Def);
    if (Q.Root != Place::RootKind::Global || !Q.Fields.empty())
      return Place();
    if (One && !(One->sameAs(Q) && One->sameElements(Q, Ctx)))
      return Place();
    One = std::move(Q);
  }
  if (!One)
    return Place();
  P->GetterPlaces[Def] = *One;
  return *One;
}

Place EffectAnalysis::placeOfPointer(const Expr *E,
                                     const FunctionDecl *Owner) const {
  for (unsigned Guard = 0; E && Guard < 64; ++Guard) {
    E = E->IgnoreParens();
    // A GNU statement expression's value is its last expression: liburcu's
    // `caa_container_of (node, T, m)`, `({ const ... *__ptr = (node); (T *)
    // ((char *)__ptr - offsetof (T, m)); })`, points into `node`'s object
    // (bench/realworld R42).
    if (const auto *SE = dyn_cast<StmtExpr>(E)) {
      const CompoundStmt *CS = SE->getSubStmt();
      E = CS->body_empty() ? nullptr : dyn_cast<Expr>(CS->body_back());
      continue;
    }
    if (const auto *CE = dyn_cast<CastExpr>(E)) {
      switch (CE->getCastKind()) {
      case CK_ArrayToPointerDecay:
      case CK_FunctionToPointerDecay: {
        Place P = placeOfLValue(CE->getSubExpr(), Owner);
        P.AddressOf = true;
        return P;
      }
      case CK_LValueToRValue: {
        const Expr *Sub = CE->getSubExpr()->IgnoreParens();
        if (const auto *DRE = dyn_cast<DeclRefExpr>(Sub)) {
          if (std::optional<Place> C = placeOfCapture(DRE, Owner, true))
            return *C;
          const auto *VD = dyn_cast<VarDecl>(DRE->getDecl());
          if (!VD)
            return Place();
          if (const auto *PVD = dyn_cast<ParmVarDecl>(VD))
            return placeOfParam(PVD, Owner);
          if (VD->hasGlobalStorage())
            return placeOfVar(VD);
          // A local pointer: where its initializer points, while that memory
          // still holds it (`old = r->table; r->table = fresh;`: `old` is no
          // longer `r->table`). FIXME: later assignments to the local are
          // not followed.
          if (const Expr *Init = VD->getInit()) {
            // `s = old ? *(T *const *)old : NULL` (a null guard).
            const auto *CO =
                dyn_cast<AbstractConditionalOperator>(Init->IgnoreParenCasts());
            Place P = CO ? placeOfEither(CO, Owner) : placeOfPointer(Init, Owner);
            if (P.Root != Place::RootKind::Unknown &&
                (P.Fields.empty() || heldSinceInit(VD, P, DRE, Owner)))
              return P;
          }
          // `priv = props->priv;` after `StylePriv *priv;` (R28): where
          // every value the function gives the local points.
          if (std::optional<Place> A = placeOfAssigned(VD, DRE, Owner))
            return *A;
          return placeOfVar(VD);
        }
        // A pointer loaded from memory: rooted where that memory is.
        Place P = placeOfLValue(Sub, Owner);
        P.AddressOf = false;
        return P;
      }
      default:
        E = CE->getSubExpr();
        continue;
      }
    }
    if (const auto *UO = dyn_cast<UnaryOperator>(E)) {
      if (UO->getOpcode() == UO_AddrOf) {
        Place P = placeOfLValue(UO->getSubExpr(), Owner);
        P.AddressOf = true;
        return P;
      }
      if (UO->isIncrementDecrementOp()) {
        E = UO->getSubExpr(); // `p++` still points into the same object.
        continue;
      }
      return Place();
    }
    if (const auto *BO = dyn_cast<BinaryOperator>(E)) {
      if (BO->isAdditiveOp()) {
        E = BO->getLHS()->getType()->isPointerType() ? BO->getLHS()
                                                     : BO->getRHS();
        continue;
      }
      if (BO->isAssignmentOp() || BO->getOpcode() == BO_Comma) {
        E = BO->getRHS();
        continue;
      }
      return Place();
    }
    if (const auto *DRE = dyn_cast<DeclRefExpr>(E)) {
      // A reference or an array used as a pointer without a decay node.
      return placeOfLValue(DRE, Owner);
    }
    if (isa<CXXThisExpr>(E)) {
      Place P;
      P.Root = copiesThis(Owner) ? Place::RootKind::Local : Place::RootKind::This;
      return P;
    }
    // `type_table_get ()`, a getter of the TU whose every return names one
    // static table: that table.
    if (const auto *Call = dyn_cast<CallExpr>(E))
      return placeOfGetter(Call);
    return Place();
  }
  return Place();
}

llvm::SmallVector<MapArgPlace, 2>
EffectAnalysis::mapArgumentPlaces(const Expr *E, const FunctionDecl *Owner) const {
  llvm::SmallVector<MapArgPlace, 2> Out;
  const auto *DRE = dyn_cast<DeclRefExpr>(E->IgnoreParenCasts());
  const auto *VD = DRE ? dyn_cast<VarDecl>(DRE->getDecl()) : nullptr;
  const llvm::SmallVector<const Expr *, 2> *Values = nullptr;
  // A local of \p Owner itself (not one a lambda captured).
  if (VD && VD->hasLocalStorage() && !isa<ParmVarDecl>(VD) &&
      VD->getParentFunctionOrMethod() == Owner) {
    auto [It, New] = P->AssignedValues.try_emplace(VD);
    if (New && !assignedValuesOf(VD, Owner, It->second))
      It->second.clear();
    Values = &It->second;
  }
  if (Values && !Values->empty()) {
    for (const Expr *V : *Values) {
      if (V->IgnoreParenCasts()->isNullPointerConstant(
              Ctx, Expr::NPC_ValueDependentIsNotNull))
        continue;
      const Expr *T = throughTableRef(V); // `t = g_hash_table_ref (r->a)`
      Place Q = placeOfPointer(T, Owner);
      if (!Q.traced() || (Q.Root == Place::RootKind::Local && Q.Var == VD) ||
          (!Q.Fields.empty() && !heldSince(V->getBeginLoc(), Q, E, Owner))) {
        Out.clear();
        break;
      }
      if (llvm::any_of(Out, [&](const MapArgPlace &M) {
            return M.P.sameAs(Q) && M.P.sameElements(Q, Ctx);
          }))
        continue;
      const FieldDecl *F = loadedFromField(T);
      Out.push_back({std::move(Q), F, F ? T : nullptr});
    }
    if (!Out.empty())
      return Out;
  }
  const FieldDecl *F = loadedFromField(E);
  Out.push_back({placeOfPointer(E, Owner), F, F ? E : nullptr});
  return Out;
}

/// A local initialized with `c ? p : NULL` points where `p` does. With two
/// places, the one whose writes matter most to a caller: a global, then a
/// parameter (unless it is the callback's own output, the other arm may be
/// taken), then a local.
Place EffectAnalysis::placeOfEither(const AbstractConditionalOperator *CO,
                                    const FunctionDecl *Owner) const {
  auto IsNull = [&](const Expr *E) {
    return E->isNullPointerConstant(Ctx, Expr::NPC_ValueDependentIsNull) !=
           Expr::NPCK_NotNull;
  };
  const Expr *T = CO->getTrueExpr(), *F = CO->getFalseExpr();
  if (IsNull(F))
    return placeOfPointer(T, Owner);
  if (IsNull(T))
    return placeOfPointer(F, Owner);
  auto Rank = [](const Place &P) {
    switch (P.Root) {
    case Place::RootKind::Global:
      return 3;
    case Place::RootKind::Param:
    case Place::RootKind::This:
      return 2;
    case Place::RootKind::Local:
      return 1;
    case Place::RootKind::Unknown:
      break;
    }
    return 0;
  };
  Place A = placeOfPointer(T, Owner), B = placeOfPointer(F, Owner);
  return Rank(B) > Rank(A) ? B : A;
}

Place EffectAnalysis::placeOfArgument(const Expr *E,
                                      const FunctionDecl *Owner) const {
  if (!E)
    return Place();
  QualType T = E->getType();
  if (T->isPointerType() || T->isArrayType())
    return placeOfPointer(E, Owner);
  if (T->isReferenceType() || E->isGLValue()) // C++ reference parameters
    return placeOfLValue(E, Owner);
  const Expr *Inner = E->IgnoreParenImpCasts();
  if (const auto *DRE = dyn_cast<DeclRefExpr>(Inner))
    if (const auto *PVD = dyn_cast<ParmVarDecl>(DRE->getDecl()))
      return placeOfParam(PVD, Owner);
  if (Inner->isGLValue())
    return placeOfLValue(Inner, Owner);
  return Place();
}

// ---- Queries ----

const Effect *EffectAnalysis::writesThroughParam(
    const FunctionDecl *FD, unsigned I,
    llvm::function_ref<bool(const Effect &)> Counts) {
  for (const Effect &E : summary(FD).Effects)
    if ((E.Kind == EffectKind::Write || E.Kind == EffectKind::ReadModifyWrite) &&
        E.Target.isParam(I) && (!Counts || Counts(E)))
      return &E;
  return nullptr;
}

const Effect *EffectAnalysis::writesThroughThis(
    const FunctionDecl *FD, llvm::function_ref<bool(const Effect &)> Counts) {
  for (const Effect &E : summary(FD).Effects)
    if ((E.Kind == EffectKind::Write || E.Kind == EffectKind::ReadModifyWrite) &&
        E.Target.Root == Place::RootKind::This && (!Counts || Counts(E)))
      return &E;
  return nullptr;
}

const Effect *EffectAnalysis::callsWithParam(const FunctionDecl *FD,
                                             llvm::StringRef CleanupName,
                                             unsigned I,
                                             const FieldDecl *Field) {
  const FunctionDecl *Def = definitionOf(FD);
  if (!Def)
    return nullptr;
  summary(Def); // scans the bodies below Def
  std::string Key = (CleanupName + "/" + llvm::Twine(I)).str();
  auto MemoKey = std::make_tuple(Def, Key, Field);
  auto It = P->CallMemo.find(MemoKey);
  if (It != P->CallMemo.end())
    return It->second.get();
  P->CallMemo[MemoKey] = nullptr; // recursion guard
  std::unique_ptr<Effect> Found =
      P->findCall(Def, CleanupName, I, Field, Opts.MaxCallDepth);
  const Effect *Result = Found.get();
  P->CallMemo[MemoKey] = std::move(Found);
  return Result;
}

/// The first effect of kind \p K in \p S on parameter \p I itself.
static const Effect *onWholeParam(const FunctionSummary &S, EffectKind K,
                                  unsigned I) {
  for (const Effect &E : S.Effects)
    if (E.Kind == K && E.Target.isParam(I) && E.Target.Fields.empty())
      return &E;
  return nullptr;
}

const Effect *EffectAnalysis::handsOnParam(const FunctionDecl *FD, unsigned I) {
  return onWholeParam(summary(FD), EffectKind::Escape, I);
}

const Effect *EffectAnalysis::freesParam(const FunctionDecl *FD, unsigned I) {
  return onWholeParam(summary(FD), EffectKind::Free, I);
}

} // namespace clang::tidy::tsmap
