//===--- Publication.h - where published objects live, and what follows ---===//
//
// The facts tsmap-weak-mutable-value needs about one function body:
//   - which memory a pointer expression designates (a "handle": the object a
//     pointer variable points to, or a variable's own storage), and whether
//     that memory has automatic storage, followed back through the local
//     pointers that hold it (reaching definitions on clang's CFG);
//   - which statements run after a publish on some path, on which the handle
//     was not re-pointed and the publish did not report failure.
// Everything is intraprocedural; what a callee does with its parameters comes
// from the effect summaries (EffectSummary.h).
//
//===----------------------------------------------------------------------===//

#ifndef TSMAP_CHECKER_PUBLICATION_H
#define TSMAP_CHECKER_PUBLICATION_H

#include "CallOutcome.h"
#include "clang/AST/Decl.h"
#include "clang/AST/Expr.h"
#include "clang/AST/ParentMap.h"
#include "clang/Analysis/CFG.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/SmallPtrSet.h"
#include <memory>
#include <optional>
#include <vector>

namespace clang::tidy::tsmap {

/// A piece of memory named by a variable: the object \c Var points to
/// (\c Pointee, for a pointer variable) or \c Var's own storage.
struct Handle {
  const VarDecl *Var = nullptr;
  bool Pointee = false;
  bool operator==(const Handle &O) const {
    return Var == O.Var && Pointee == O.Pointee;
  }
};

/// The handle whose memory the pointer-valued expression \p E points into:
/// `p`, `p + 1`, `&p->f`, `&x`, `x.arr` (decayed), `(char *)&x.f`.
std::optional<Handle> pointeeHandle(const Expr *E);

/// The handle whose memory the lvalue \p E designates: `x`, `x.f`, `p->f`,
/// `*p`, `p[i]`, `x.arr[i]`, `p->arr[i]`. `p->next->f` designates the object
/// `p->next` points to, which no variable names: std::nullopt.
std::optional<Handle> lvalueHandle(const Expr *E);

/// An object with automatic storage that an expression points into.
struct AutomaticObject {
  const VarDecl *Var = nullptr;                 ///< A local or a parameter,
  const CompoundLiteralExpr *Literal = nullptr; ///< or a compound literal,
  const CallExpr *Alloca = nullptr;             ///< or `alloca` memory.
  /// Var has thread storage (`_Thread_local`, `thread_local`): it dies when
  /// its thread exits, and only that thread sees it rewritten.
  bool ThreadLocal = false;
  /// The local pointers the address went through, outermost first, each
  /// with the statement that gave it that value (for notes).
  std::vector<std::pair<const VarDecl *, const Stmt *>> Through;
};

/// What a path knows as a walk of FunctionFlow follows it: a state, 0 where
/// the walk starts, that each element passed and each edge taken may change,
/// and edges on which the path ends (a side where a publish failed).
class PathTracker {
public:
  virtual ~PathTracker() = default;
  /// The state where the walk starts.
  virtual uint64_t initialState() const { return 0; }
  /// The state past element \p S.
  virtual uint64_t afterElement(uint64_t State, const Stmt *S) const {
    return State;
  }
  /// Whether the path goes on through successor \p I of \p B; may change
  /// \p State.
  virtual bool follows(const CFGBlock &B, unsigned I,
                       uint64_t &State) const = 0;
};

/// One function's CFG (every subexpression is an element) with the position
/// of each statement in it.
class FunctionFlow {
public:
  /// A statement's position: element \c Index of \c Block.
  struct Point {
    const CFGBlock *Block = nullptr;
    unsigned Index = 0;
  };

  /// Builds the flow of \p D's body; null when clang cannot build a CFG.
  static std::unique_ptr<FunctionFlow> build(const Decl *D, ASTContext &Ctx);

  /// The position of \p S, or of the nearest enclosing element.
  std::optional<Point> pointOf(const Stmt *S) const;
  const ParentMap &parents() const { return *PM; }
  const Decl *decl() const { return D; }
  const CFG &graph() const { return *Graph; }

  /// The automatic object that pointer \p E (evaluated at \p At) points
  /// into, directly or through local pointers whose reaching definitions
  /// hold its address; std::nullopt when no path gives it such an address.
  std::optional<AutomaticObject> automaticPointee(const Expr *E,
                                                  const Stmt *At) const;

  /// Calls \p Visit on every statement element, in block order.
  void forEachElement(llvm::function_ref<void(const Stmt *, Point)> Visit) const;

  /// True when \p To runs after \p From on some path that reaches no
  /// element for which \p Kills holds, and leaves no block \p B through
  /// successor \p I for which \p Blocked(B, I) holds. Back edges count, so
  /// a statement earlier in a loop body is "after" on the next iteration.
  bool reachesWithout(
      Point From, Point To, llvm::function_ref<bool(const Stmt *)> Kills,
      llvm::function_ref<bool(const CFGBlock *, unsigned)> Blocked) const;
  /// The same, with the edges a path follows (and what it knows on the
  /// way) decided by \p Paths.
  bool reachesWithout(Point From, Point To,
                      llvm::function_ref<bool(const Stmt *)> Kills,
                      const PathTracker &Paths) const;

  /// True when some path from \p From reaches the function's exit without
  /// reaching an element for which \p Kills holds, and without leaving a
  /// block \p B through successor \p I for which \p Blocked(B, I) holds
  /// (when given).
  bool reachesExitWithout(
      Point From, llvm::function_ref<bool(const Stmt *)> Kills,
      llvm::function_ref<bool(const CFGBlock *, unsigned)> Blocked = nullptr) const;
  bool reachesExitWithout(Point From,
                          llvm::function_ref<bool(const Stmt *)> Kills,
                          const PathTracker &Paths) const;

private:
  /// The walk of the four above: \p To, or the exit when it is null.
  bool reaches(Point From, const Point *To,
               llvm::function_ref<bool(const Stmt *)> Kills,
               const PathTracker &Paths) const;
  FunctionFlow() = default;
  struct Definition {
    const Expr *Value; ///< Null when the definition is opaque (`&p` taken).
    const Stmt *At;
  };
  /// The definitions of local \p V reaching \p P; \p FromEntry is set when
  /// some path reaches the function entry without one.
  std::vector<Definition> reachingDefinitions(const VarDecl *V, Point P,
                                              bool &FromEntry) const;
  bool automaticPointeeImpl(const Expr *E, const Stmt *At, unsigned Depth,
                            AutomaticObject &Out) const;

  const Decl *D = nullptr;
  std::unique_ptr<CFG> Graph;
  std::unique_ptr<ParentMap> PM;
  llvm::DenseMap<const Stmt *, Point> Positions;
};

/// If statement \p S gives local variable \p V a new value, that value
/// (null when it is not visible: `&V` passed on, `V++`, `V += n`); else
/// std::nullopt.
std::optional<const Expr *> definitionOf(const Stmt *S, const VarDecl *V);

/// The pointer variables of \p Flow's function that may point into the
/// memory of \p Root: \p Root itself, then every local pointer assigned (or
/// initialized with) a pointer into an alias. Flow-insensitive.
/// FIXME: a variable re-pointed before it is made an alias still counts.
std::vector<Handle> aliasesOf(Handle Root, const FunctionFlow &Flow);

/// The lvalue assignment or increment \p S writes (`p->f` of `p->f = v`,
/// `p->n++`), or null for any other statement.
const Expr *writtenLValue(const Stmt *S);

/// Statement \p S gives alias \p V a value that points into none of
/// \p Aliases, or one that cannot be seen (`&V` passed on): from there \p V
/// no longer names the object.
bool repointsOff(const Stmt *S, const VarDecl *V, const std::vector<Handle> &Aliases);

/// Strips parentheses and every cast, implicit or written.
const Expr *stripCasts(const Expr *E);

/// How the result of a publishing call reports failure, read by CallOutcome
/// (the reading tsmap-remove-without-cleanup uses too). As a PathTracker it
/// ends a path where the publish failed: the failure side of a test of the
/// result, a `case` whose status means failure, the `default:` of a switch
/// whose cases name the success, or a test that rules out the last success
/// status the tests before it on the path left (CallOutcome::PathFacts); a
/// test of a local given another value on the way does not read the publish.
class PublishOutcome : public PathTracker {
public:
  /// \p Call is the publishing call; variables later assigned its result
  /// are found in \p Flow.
  PublishOutcome(const CallExpr *Call, const FunctionFlow &Flow);
  /// Reads plain integer statuses with \p R from now on.
  void setReading(StatusReading R) { Outcome.setReading(R); }
  /// Some failure edge asked about since setReading depended on the reading.
  bool readingUsed() const { return Outcome.readingUsed(); }

  uint64_t initialState() const override { return Outcome.atCall().pack(); }
  uint64_t afterElement(uint64_t State, const Stmt *S) const override;
  bool follows(const CFGBlock &B, unsigned I, uint64_t &State) const override;

private:
  CallOutcome Outcome;
};

} // namespace clang::tidy::tsmap

#endif
