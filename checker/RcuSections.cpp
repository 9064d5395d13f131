//===--- RcuSections.cpp - liburcu read-side sections and grace periods ---===//

#include "RcuSections.h"
#include "ContractModel.h"
#include "clang/AST/Expr.h"
#include "clang/AST/RecursiveASTVisitor.h"
#include <climits>

namespace clang::tidy::tsmap {

namespace {

/// The depth of a block no path reaches yet (the top of the must-lattice).
constexpr int Unreached = INT_MAX;
/// Depths are kept in [-DepthCap, DepthCap], so a loop that locks on each
/// turn, or unlocks the caller's lock, still settles.
constexpr int DepthCap = 8;
/// The questions the recursion guard tells apart.
enum Question : unsigned { AskDepths, AskWaits, AskMentionsLock, AskMentionsGrace };

/// `rcu_X`, `urcu_<flavor>_X`, `rcu_X_<flavor>`, with leading underscores.
bool urcuName(llvm::StringRef N, llvm::StringRef What) {
  N = N.ltrim('_');
  return N == ("rcu_" + What).str() ||
         (N.starts_with("urcu_") && N.ends_with(("_" + What).str())) ||
         N.starts_with(("rcu_" + What + "_").str());
}

int clampDepth(long D) {
  return static_cast<int>(std::max<long>(-DepthCap, std::min<long>(DepthCap, D)));
}

/// The call element \p E of a CFG block, or null.
const CallExpr *callAt(const CFGElement &E) {
  std::optional<CFGStmt> S = E.getAs<CFGStmt>();
  return S ? dyn_cast<CallExpr>(S->getStmt()) : nullptr;
}

} // namespace

llvm::StringRef calleeName(const CallExpr *C) {
  const FunctionDecl *FD = C->getDirectCallee();
  return FD && FD->getDeclName().isIdentifier() ? FD->getName() : "";
}

void collectCalls(const Stmt *S, llvm::SmallVectorImpl<const CallExpr *> &Out) {
  if (!S || isa<LambdaExpr>(S) || isa<BlockExpr>(S))
    return;
  if (const auto *C = dyn_cast<CallExpr>(S))
    Out.push_back(C);
  for (const Stmt *Child : S->children())
    collectCalls(Child, Out);
}

bool isRcuReadLockName(llvm::StringRef N) { return urcuName(N, "read_lock"); }
bool isRcuReadUnlockName(llvm::StringRef N) { return urcuName(N, "read_unlock"); }
bool isGracePeriodName(llvm::StringRef N) {
  return N.contains("synchronize_rcu") || urcuName(N, "barrier");
}

bool usesQsbrFlavor(ASTContext &Ctx) {
  // urcu/urcu-qsbr.h declares urcu_qsbr_synchronize_rcu and
  // urcu_qsbr_register_thread in both modes; the quiescent state is
  // urcu_qsbr_quiescent_state, or the inline _urcu_qsbr_quiescent_state
  // under _LGPL_SOURCE. liburcu < 0.11: rcu_quiescent_state_qsbr,
  // synchronize_rcu_qsbr, and _rcu_quiescent_state (static, QSBR only).
  for (llvm::StringRef N :
       {"urcu_qsbr_quiescent_state", "_urcu_qsbr_quiescent_state",
        "urcu_qsbr_synchronize_rcu", "urcu_qsbr_register_thread",
        "rcu_quiescent_state_qsbr", "synchronize_rcu_qsbr",
        "_rcu_quiescent_state"})
    if (ContractModel::lookupFunction(Ctx, N))
      return true;
  return false;
}

const FunctionFlow *RcuSections::flowOf(const FunctionDecl *Fn) {
  auto [It, New] = Flows.try_emplace(Fn);
  if (New)
    It->second = FunctionFlow::build(Fn, Ctx);
  return It->second.get();
}

bool RcuSections::mentions(const FunctionDecl *Fn, unsigned Budget, bool Grace) {
  std::pair<Key, unsigned> K{{Fn, Budget}, Grace ? AskMentionsGrace : AskMentionsLock};
  if (auto It = Mentions.find(K); It != Mentions.end())
    return It->second;
  if (!InProgress.insert(K).second)
    return false;
  llvm::SmallVector<const CallExpr *, 32> Calls;
  collectCalls(Fn->getBody(), Calls);
  bool Found = false;
  for (const CallExpr *C : Calls) {
    llvm::StringRef N = calleeName(C);
    if (Grace ? isGracePeriodName(N)
              : isRcuReadLockName(N) || isRcuReadUnlockName(N)) {
      Found = true;
      break;
    }
    const FunctionDecl *Def = nullptr;
    if (Budget > 0 && C->getDirectCallee() && C->getDirectCallee()->hasBody(Def) &&
        mentions(Def, Budget - 1, Grace)) {
      Found = true;
      break;
    }
  }
  InProgress.erase(K);
  return Mentions[K] = Found;
}

int RcuSections::callDelta(const CallExpr *Call, unsigned Budget) {
  llvm::StringRef N = calleeName(Call);
  if (isRcuReadLockName(N))
    return 1;
  if (isRcuReadUnlockName(N))
    return -1;
  const FunctionDecl *Def = nullptr;
  if (Budget == 0 || !Call->getDirectCallee() ||
      !Call->getDirectCallee()->hasBody(Def) || !mentions(Def, Budget - 1, false))
    return 0;
  return exitDelta(Def, Budget - 1);
}

int RcuSections::exitDelta(const FunctionDecl *Fn, unsigned Budget) {
  const std::vector<int> *In = entryDepths(Fn, Budget);
  const FunctionFlow *F = flowOf(Fn);
  if (!In || !F)
    return 0; // undecided, or recursive: neutral
  int D = (*In)[F->graph().getExit().getBlockID()];
  return D == Unreached ? 0 : D;
}

const std::vector<int> *RcuSections::entryDepths(const FunctionDecl *Fn,
                                                 unsigned Budget) {
  Key K{Fn, Budget};
  if (auto It = Depths.find(K); It != Depths.end())
    return It->second.get();
  if (!InProgress.insert({K, AskDepths}).second)
    return nullptr;
  std::unique_ptr<std::vector<int>> Result;
  if (const FunctionFlow *F = flowOf(Fn)) {
    const CFG &G = F->graph();
    auto In = std::make_unique<std::vector<int>>(G.getNumBlockIDs(), Unreached);
    (*In)[G.getEntry().getBlockID()] = 0;
    llvm::SmallVector<const CFGBlock *, 32> Work{&G.getEntry()};
    // Each block's depth only falls, at most 2 * DepthCap + 1 times.
    size_t Steps = 0, Limit = (2 * DepthCap + 2) * size_t(G.getNumBlockIDs());
    bool Settled = true;
    while (!Work.empty() && Settled) {
      const CFGBlock *B = Work.pop_back_val();
      Settled = ++Steps <= Limit;
      long D = (*In)[B->getBlockID()];
      for (const CFGElement &E : *B)
        if (const CallExpr *C = callAt(E))
          D = clampDepth(D + callDelta(C, Budget));
      for (const CFGBlock *Succ : B->succs())
        if (Succ && D < (*In)[Succ->getBlockID()]) {
          (*In)[Succ->getBlockID()] = static_cast<int>(D);
          Work.push_back(Succ);
        }
    }
    if (Settled)
      Result = std::move(In);
  }
  InProgress.erase({K, AskDepths});
  return (Depths[K] = std::move(Result)).get();
}

std::optional<bool> RcuSections::holdsReadLock(const Stmt *Site,
                                               const FunctionDecl *Fn) {
  const FunctionFlow *F = flowOf(Fn);
  std::optional<FunctionFlow::Point> P = F ? F->pointOf(Site) : std::nullopt;
  const std::vector<int> *In = P ? entryDepths(Fn, MaxCallDepth) : nullptr;
  if (!In || (*In)[P->Block->getBlockID()] == Unreached)
    return std::nullopt;
  long D = (*In)[P->Block->getBlockID()];
  for (unsigned I = 0; I < P->Index; ++I)
    if (const CallExpr *C = callAt((*P->Block)[I]))
      D = clampDepth(D + callDelta(C, MaxCallDepth));
  return D >= 1;
}

bool RcuSections::waitsForGracePeriod(const CallExpr *Call) {
  return waits(Call, MaxCallDepth);
}

bool RcuSections::waits(const CallExpr *Call, unsigned Budget) {
  if (isGracePeriodName(calleeName(Call)))
    return true;
  const FunctionDecl *Def = nullptr;
  return Budget > 0 && Call->getDirectCallee() &&
         Call->getDirectCallee()->hasBody(Def) && mentions(Def, Budget - 1, true) &&
         alwaysWaits(Def, Budget - 1);
}

bool RcuSections::alwaysWaits(const FunctionDecl *Fn, unsigned Budget) {
  Key K{Fn, Budget};
  if (auto It = Waits.find(K); It != Waits.end())
    return It->second;
  const FunctionFlow *F = flowOf(Fn);
  if (!F || !InProgress.insert({K, AskWaits}).second)
    return false;
  FunctionFlow::Point Entry{&F->graph().getEntry(), 0};
  bool Always = !F->reachesExitWithout(Entry, [&](const Stmt *S) {
    const auto *C = dyn_cast<CallExpr>(S);
    return C && waits(C, Budget);
  });
  InProgress.erase({K, AskWaits});
  return Waits[K] = Always;
}

namespace {
/// Every direct call of the TU, by canonical callee, with its caller.
class CallerIndex : public RecursiveASTVisitor<CallerIndex> {
public:
  bool TraverseFunctionDecl(FunctionDecl *FD) {
    const FunctionDecl *Saved = Current;
    Current = FD;
    bool R = RecursiveASTVisitor::TraverseFunctionDecl(FD);
    Current = Saved;
    return R;
  }
  bool VisitCallExpr(CallExpr *C) {
    if (const FunctionDecl *FD = C->getDirectCallee(); FD && Current)
      Sites[FD->getCanonicalDecl()].push_back({C, Current});
    return true;
  }
  const FunctionDecl *Current = nullptr;
  llvm::DenseMap<const FunctionDecl *, std::vector<RcuSections::CallSite>> Sites;
};
} // namespace

llvm::ArrayRef<RcuSections::CallSite> RcuSections::callersOf(const FunctionDecl *Fn) {
  if (!Callers) {
    CallerIndex Index;
    Index.TraverseDecl(Ctx.getTranslationUnitDecl());
    Callers = std::move(Index.Sites);
  }
  auto It = Callers->find(Fn->getCanonicalDecl());
  return It == Callers->end() ? llvm::ArrayRef<CallSite>() : llvm::ArrayRef<CallSite>(It->second);
}

} // namespace clang::tidy::tsmap
