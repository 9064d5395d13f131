//===--- GatedMatchPass.h - one matcher pass for all tsmap checks --------===//
//
// clang-tidy runs every check's matchers over every node of a translation
// unit. Most translation units of a project never touch a map with a
// contract, and on them the tsmap checks can have nothing to say. So the
// checks do not register on clang-tidy's finder: they register on one finder
// shared by all tsmap checks of the translation unit, which runs (one
// traversal for all of them) only if the translation unit can hold a
// contract: it spells an `annotate` attribute, or uses a name the options or
// the shipped models give a contract to (a function only declared, as a
// library's header declares its whole API, does not count). Elsewhere the
// checks cost one match of the translation unit node. Where it runs, the
// matchers every check needs (every call, every annotated declaration) are
// registered once and their matches handed to each check that asked.
//
//===----------------------------------------------------------------------===//

#ifndef TSMAP_CHECKER_GATEDMATCHPASS_H
#define TSMAP_CHECKER_GATEDMATCHPASS_H

#include "ContractModel.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringSet.h"
#include <map>
#include <memory>
#include <vector>

namespace clang::tidy {
class ClangTidyContext;
} // namespace clang::tidy

namespace clang::tidy::tsmap {

class GatedMatchPass {
public:
  /// What a check keeps of the pass of its translation unit: the pass itself
  /// (it lives as long as its checks do) and clang-tidy's SystemHeaders option,
  /// which only a check's constructor can read: where clang-tidy's own finder
  /// skips system headers without it (LLVM 20 and later), so does the pass.
  class Membership {
  public:
    explicit Membership(ClangTidyContext *Context);
    /// For \p Check's registerMatchers: joins \p Check to the pass of the
    /// translation unit whose checks register on \p TidyFinder (clang-tidy
    /// makes one finder per translation unit), with the names \p Model gives
    /// contracts to, and returns the pass to add the check's matchers to.
    GatedMatchPass &join(ast_matchers::MatchFinder *TidyFinder,
                         ast_matchers::MatchFinder::MatchCallback *Check,
                         const ContractModel &Model);

  private:
    bool SystemHeaders;
    std::shared_ptr<GatedMatchPass> Pass;
  };

  /// Runs \p Check on each match of \p Matcher. The pass, not the finder,
  /// calls the check's onStartOfTranslationUnit / onEndOfTranslationUnit, once
  /// each, around the traversal.
  template <typename MatcherT>
  void addMatcher(const MatcherT &Matcher,
                  ast_matchers::MatchFinder::MatchCallback *Check) {
    Finder.addMatcher(Matcher, &forwarderOf(Check));
  }

  /// Runs \p Check on every call to a named function, bound as "call", and
  /// with \p ThroughPointers also on every call through a function-pointer
  /// variable or field (`ops->load(...)`: no direct callee). The checks that
  /// ask share one matcher: evaluating the same matcher once per check at
  /// every call cost as much as a check's own work.
  void matchCalls(ast_matchers::MatchFinder::MatchCallback *Check,
                  bool ThroughPointers = false);

  /// Runs \p Check on every declaration with an annotate attribute, bound as
  /// AnnotatedDeclId; one matcher for all the checks, as above.
  void matchAnnotatedDecls(ast_matchers::MatchFinder::MatchCallback *Check);

private:
  /// Matches the translation unit node on clang-tidy's finder and runs the
  /// shared pass from there.
  class Trigger : public ast_matchers::MatchFinder::MatchCallback {
  public:
    explicit Trigger(GatedMatchPass &Pass) : Pass(Pass) {}
    void run(const ast_matchers::MatchFinder::MatchResult &Result) override;
    /// What --enable-check-profile shows the shared pass as.
    llvm::StringRef getID() const override { return "tsmap-*"; }

  private:
    GatedMatchPass &Pass;
  };

  /// Hands each match of one shared matcher to every check that asked.
  class Fanout : public ast_matchers::MatchFinder::MatchCallback {
  public:
    /// Whether this was the first check to ask (the matcher is then added).
    bool add(ast_matchers::MatchFinder::MatchCallback *Check);
    void run(const ast_matchers::MatchFinder::MatchResult &Result) override;

  protected:
    std::vector<ast_matchers::MatchFinder::MatchCallback *> Checks;
  };

  /// Hands each call to every check that asked for calls, and a call through
  /// a function pointer only to those that asked for these too.
  class CallFanout : public Fanout {
  public:
    bool add(ast_matchers::MatchFinder::MatchCallback *Check,
             bool ThroughPointers);
    void run(const ast_matchers::MatchFinder::MatchResult &Result) override;

  private:
    std::vector<ast_matchers::MatchFinder::MatchCallback *> PointerChecks;
  };

  explicit GatedMatchPass(bool SystemHeaders);

  /// The pass of the translation unit whose checks register on \p TidyFinder.
  static std::shared_ptr<GatedMatchPass>
  forFinder(ast_matchers::MatchFinder *TidyFinder, bool SystemHeaders);

  /// Names (unqualified identifiers) that give a translation unit contracts.
  void addContractNames(llvm::ArrayRef<std::string> Names);

  /// Whether the translation unit of \p Ctx can hold a contract.
  bool mayHoldContracts(const ASTContext &Ctx) const;
  /// Whether \p Name, which the unit spells, may name something the unit
  /// uses: not a function it only declares.
  static bool usedInUnit(IdentifierInfo &Name, const ASTContext &Ctx);
  /// The top-level declarations the pass traverses: in C, those that can hold
  /// a call or an annotation (the main file's, function and variable
  /// definitions, annotated ones), not the headers' prototypes and types.
  static std::vector<Decl *> matchScope(ASTContext &Ctx);

  /// The callback that hands the matches of \p Check's own matchers to it.
  Fanout &forwarderOf(ast_matchers::MatchFinder::MatchCallback *Check);

  /// Runs the shared traversal, with the joined checks' start and end hooks.
  void run(ASTContext &Ctx);

  /// For tsmap-tidy, when its environment variable TSMAP_TIDY_SUBJECTS names
  /// a file: appends the subjects of the joined checks' option `Contracts`
  /// and which of them the unit of \p Ctx mentions, and whether the unit can
  /// hold a contract (\p Open: the pass runs in it). Run before the pass, whose
  /// lookups add names to the unit's identifiers.
  void reportSubjects(const ASTContext &Ctx, bool Open) const;

  ast_matchers::MatchFinder Finder;
  Trigger Start;
  CallFanout Calls;
  Fanout AnnotatedDecls;
  std::vector<ast_matchers::MatchFinder::MatchCallback *> Checks;
  std::map<ast_matchers::MatchFinder::MatchCallback *, std::unique_ptr<Fanout>>
      Forwarders;
  llvm::StringSet<> ContractNames;
  /// The joined checks' contract models, whose option entries each unit
  /// is checked against (ContractModel::checkEntries).
  std::vector<const ContractModel *> Models;
};

} // namespace clang::tidy::tsmap

#endif
