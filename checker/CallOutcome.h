//===--- CallOutcome.h - did the call happen, read off a branch -----------===//
//
// One reading, shared by the checks, of what a branch on a call's result
// says about the call: a removal removed (or not), a publish published, a
// lookup found. tsmap-remove-without-cleanup follows only the paths on which
// a value came back; tsmap-weak-mutable-value ignores the paths on which the
// publish failed; the GLib model needs the paths on which a lookup failed.
//
// What is read:
//   - the result itself, a local or a field (`r.st`, `op->status`) it was
//     stored in or copied to (`int rc = st;`), while it still holds it on the
//     path (PathFacts), or (for a value the call hands back) a local holding
//     that value: `if (s)`, `s == NULL`;
//   - `==`, `!=`, `<`, `>=`, `>`, `<=` against constants, `!`, `&&`, `||`,
//     `switch` cases and `default:`, read as the success statuses they leave
//     (`st != OK && st != NO_MEMORY`) with those the path ruled out before;
//   - a predicate of the project given the result (one `return` of a test,
//     or a `switch` returning constants); any other call given it is a test
//     that cannot be read;
//   - along a path, a flag local given only constants (`removed = true;` on
//     the success side): the side of its test the path cannot take;
//   - constants by their names: enumerators, object-like `#define`s, and an
//     integer matched to the enumerator of that value of the callee's enum
//     return type (`*_OK`, `*_NOT_FOUND`, `*_ERR*`...);
//   - bool-like and pointer results: true (non-null) is success; negative
//     integers are failures;
//   - a plain integer compared with 0 or another unnamed constant has two
//     readings (zero is success, or non-zero is), the StatusReading. A callee
//     whose visible body returns only 0 and negative constants says which.
//
//===----------------------------------------------------------------------===//

#ifndef TSMAP_CHECKER_CALLOUTCOME_H
#define TSMAP_CHECKER_CALLOUTCOME_H

#include "clang-tidy/ClangTidyCheck.h"
#include "clang/AST/Expr.h"
#include "clang/Analysis/CFG.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/ADT/SmallVector.h"
#include <cstdint>
#include <functional>
#include <optional>

namespace clang::tidy::tsmap {

/// Option `StatusConvention`: how a plain integer status is read.
enum class StatusConvention { Unknown, ZeroIsSuccess, NonzeroIsSuccess };
/// One reading of a plain integer status.
enum class StatusReading { ZeroIsSuccess, NonzeroIsSuccess };

/// Parses option `StatusConvention` (`zero-is-success`, `nonzero-is-success`,
/// `unknown`); a bad value is reported through \p Check and read as unknown.
StatusConvention readStatusConvention(ClangTidyCheck &Check,
                                      llvm::StringRef Value);
llvm::StringRef statusConventionName(StatusConvention C);
/// The readings a check must try under \p C: both when it is unknown.
llvm::SmallVector<StatusReading, 2> readingsOf(StatusConvention C);

/// What a check asks of a call's report.
enum class CallEvent {
  Removed,   ///< A removal handed a value back.
  Replaced,  ///< A replacing put overwrote (and handed back) a value.
  Published, ///< A publish stored the value.
  Found,     ///< A lookup found the key.
};

/// What the path past a branch knows about the event.
enum class Verdict {
  Unrelated,   ///< The branch does not test the call.
  Happened,    ///< It tests the call, and on this side the event happened.
  NotHappened, ///< ... and on this side it did not.
  Unknown,     ///< It tests the call in a way that cannot be read.
};

class CallOutcome {
public:
  CallOutcome(ASTContext &Ctx, const CallExpr *Call, CallEvent Event);

  /// A place that may hold the call's result: a local or parameter, a field
  /// reached from one (`r.st`, `op->status`), or an element of a local array
  /// at a local index (`sts[i]`, `res[i].st`).
  struct Place {
    const VarDecl *Var = nullptr;
    llvm::SmallVector<const FieldDecl *, 2> Fields = {};
    const VarDecl *Index = nullptr; ///< `Var[Index]`, then Fields.
    bool operator==(const Place &O) const {
      return Var == O.Var && Fields == O.Fields && Index == O.Index;
    }
  };
  /// The place lvalue \p E names through `.`, `->` and a subscript at a
  /// local index from a variable with local storage; nothing for any other
  /// expression.
  static std::optional<Place> placeOf(const Expr *E);

  /// A local that holds the call's result (before findResultVars).
  void addResultVar(const VarDecl *V) { addResultPlace({V, {}}, false); }
  /// Finds the places \p Body assigns (or initializes with) the call's
  /// result, then those given a copy of it from such a place (`int rc = st;`,
  /// `r.st = st;`). Also the locals given one test of the result (`bool ok =
  /// call (...) == OK;`): a branch on one reads the test while the local
  /// holds it.
  void findResultVars(const Stmt *Body);
  /// Which expressions (a local, `op.reg`) hold the value the call hands
  /// back, non-null when the event happened; asked on every test, so the
  /// answer may change along a path.
  void setValueHolders(std::function<bool(const Expr *)> IsValue) {
    IsValueHolder = std::move(IsValue);
  }
  void setReading(StatusReading R) {
    Reading = R;
    ReadingUsed = false;
  }
  /// A verdict since setReading depended on the reading of a plain integer.
  bool readingUsed() const { return ReadingUsed; }

  /// The verdict on the side of condition \p Cond that holds when it is true.
  Verdict whenTrue(const Expr *Cond) const;
  /// The verdict on the path leaving \p B through its successor \p I (a two
  /// way branch, or a `switch` on the result).
  Verdict onEdge(const CFGBlock &B, unsigned I) const;

  /// What a path past the call has learned on its way, for a walk that
  /// follows one path at a time:
  ///   - which of the call's success statuses the tests it passed ruled out:
  ///     once all are, the call failed (`if (st == TSMAP_REPLACED) ... else
  ///     if (st != TSMAP_OK)`, nested `if`s, an early `return` on each);
  ///   - which places holding the result, or a test of it, were given
  ///     another value on the way (`st = tsmap_put (...)`): a test of one
  ///     no longer reads this call; and which places given a copy of it
  ///     (`rc = st;`) got it on the way: only then does a test of one read it.
  ///   - the constant each flag local was last given on the way (`bool
  ///     removed = false; ... removed = true;`, `int rc = -1; ... rc = 0;`:
  ///     a local given only constants): a test of it (`if (removed)`) that
  ///     the path cannot take ends the path.
  /// Packed into 64 bits (a walk's state): at most 16 success statuses,
  /// holders and flags are tracked; all zero where the call returns.
  struct PathFacts {
    uint16_t RuledOut = 0; ///< Bit i: success status i is not the result.
    /// Bit i: holder i does not hold this call's result (for a holder
    /// given a copy of it: does).
    uint16_t Stale = 0;
    uint16_t FlagSet = 0;  ///< Bit i: flag i was given a constant on the way,
    uint16_t FlagTrue = 0; ///< and it is not zero.
    uint64_t pack() const {
      return uint64_t(FlagTrue) << 48 | uint64_t(FlagSet) << 32 |
             uint64_t(Stale) << 16 | RuledOut;
    }
    static PathFacts unpack(uint64_t State) {
      return {uint16_t(State), uint16_t(State >> 16), uint16_t(State >> 32),
              uint16_t(State >> 48)};
    }
  };
  /// The facts where the call returns: the constant of each flag declared
  /// with one before the call and given its other constants only after it,
  /// outside any loop around the call (`int err = 0; switch (remove (...))
  /// { case OK: break; default: err = 5; } if (err) ...`).
  PathFacts atCall() const;
  /// The facts past statement \p S: a holder assigned (stale, or fresh
  /// again when given this call's result), the call run again.
  PathFacts afterElement(PathFacts Facts, const Stmt *S) const;
  /// onEdge, read with \p Facts (stale holders are not the result; success
  /// statuses ruled out before count); adds what the edge rules out.
  Verdict onEdge(const CFGBlock &B, unsigned I, PathFacts &Facts) const;

private:
  bool isResult(const Expr *E) const;
  bool isValue(const Expr *E) const;
  Verdict whenEquals(const Expr *C) const;
  Verdict whenCompared(BinaryOperatorKind Op, const Expr *C) const;
  std::optional<bool> successOfName(llvm::StringRef Name) const;
  std::optional<llvm::StringRef> nameOf(const Expr *C) const;
  Verdict success(bool Succeeded) const;
  bool zeroIsSuccess() const;
  Verdict onSwitchEdge(const SwitchStmt *Switch, const CFGBlock *Succ,
                       PathFacts &Facts) const;
  /// The success statuses (bit i for successStatuses()[i]; bit 0 for every
  /// success when it has at most one) the result may have where \p E is
  /// \p Truth: what `==`, `!=`, `!`, `&&`, `||` of named statuses leave,
  /// all of them for a condition that does not test the result; nothing for
  /// one that tests it in a way not read here.
  std::optional<uint32_t> possibleWhere(const Expr *E, bool Truth) const;
  /// The success statuses equal to constant \p C: its bit, none for a
  /// failure (or a status the API's list leaves out), every one for a
  /// success the list cannot tell; nothing when it cannot be read.
  std::optional<uint32_t> successesEqualTo(const Expr *C) const;
  uint32_t allSuccesses() const;
  /// Edge verdict \p V read again with possibleWhere and \p Facts.
  Verdict narrowed(const Expr *Cond, bool Truth, Verdict V,
                   PathFacts &Facts) const;
  /// The enumerators with which the call reports the event: the API's list
  /// (libtsmap's calls, as tsmap.h lists them per call), else, for a publish
  /// into an enum status, every one whose name means success; other calls
  /// have one success, whatever its name.
  llvm::SmallVector<llvm::StringRef, 4> successStatuses() const;
  /// Adds to \p Facts the success statuses not in \p Possible: true when
  /// every success status is then ruled out.
  bool ruleOut(uint32_t Possible, PathFacts &Facts) const;
  void addResultPlace(const Place &P, bool Copy);
  /// Finds the flag locals of \p Body (PathFacts).
  void findFlags(const Stmt *Body);
  /// The truth of \p Cond when it tests a flag whose constant \p Facts knows
  /// (`removed`, `!removed`, `rc == 0`); nothing otherwise.
  std::optional<bool> flagTruth(const Expr *Cond, const PathFacts &Facts) const;
  std::optional<unsigned> flagIndex(const Expr *E) const;
  bool isResultPlace(const Place &P) const;
  /// Whether holder \p P holds this call's result on a path whose holders'
  /// bits are \p Stale (PathFacts::Stale); true for a place not tracked.
  bool holds(const Place &P, uint32_t Stale) const;
  bool readsStale(const Stmt *E, uint32_t Stale) const;

  ASTContext &Ctx;
  const CallExpr *Call;
  CallEvent Event;
  QualType ResultType;
  bool BoolLike; ///< bool, gboolean or a pointer: true is success.
  std::optional<StatusReading> Inferred; ///< From the callee's body.
  StatusReading Reading = StatusReading::ZeroIsSuccess;
  mutable bool ReadingUsed = false;
  bool testsResult(const Expr *E) const;
  /// The parameter of a predicate being read (`ts_ok (st)`'s `s`): the
  /// result, inside the predicate's body.
  mutable llvm::SmallPtrSet<const VarDecl *, 2> PredicateParams;
  /// A call of a predicate of the project given the result (`ts_ok (st)`,
  /// whose body is `return s == OK || s == REPLACED;`, or a `switch` on `s`
  /// whose cases return constants): its test, read in its body; nothing when
  /// \p E is no such call.
  std::optional<Verdict> whenPredicateTrue(const Expr *E) const;
  /// When \p E is such a call, calls \p Read with its body's `return` value
  /// (null for a `switch` body) and the body, the predicate's parameter read
  /// as the result meanwhile; false for another expression.
  bool readPredicate(
      const Expr *E,
      llvm::function_ref<void(const Expr *, const CompoundStmt *)> Read) const;
  bool passesResultOn(const Expr *E) const;
  /// Where predicate body \p Body, a `switch` on the result whose cases each
  /// return a constant (`case TSMAP_OK: return true; default: return false;`),
  /// then maybe a `return` of one, returns true; nothing for another body.
  std::optional<Verdict> whenSwitchReturnsTrue(const CompoundStmt *Body) const;
  /// Locals given one test of the result (`bool removed = tsmap_remove (...)
  /// == TSMAP_OK;`, `rc = st == TSMAP_OK ? 0 : -1;`): a branch on one reads
  /// the test where the path gave it (PathFacts).
  llvm::DenseMap<const VarDecl *, const Expr *> TestVars;
  std::function<bool(const Expr *)> IsValueHolder;
  llvm::SmallVector<llvm::StringRef, 4> SuccessStatuses;
  /// The places a PathFacts tracks (at most 16): the ResultPlaces places
  /// that hold the result (bit i of Copies set: a copy of it), then the test
  /// locals.
  llvm::SmallVector<Place, 4> Holders;
  unsigned ResultPlaces = 0;
  uint32_t Copies = 0;
  /// Locals given only integer constants (at most 16).
  llvm::SmallVector<const VarDecl *, 4> Flags;
  /// The stale holders of the path an edge is read for (0 outside onEdge).
  mutable uint32_t StaleNow = 0;
};

} // namespace clang::tidy::tsmap

#endif
