//===--- GatedMatchPass.h - one matcher pass for all tsmap checks --------===//
//
// clang-tidy runs every check's matchers over every node of a translation
// unit. Most translation units of a project never touch a map with a
// contract, and on them the tsmap checks can have nothing to say. So the
// checks do not register on clang-tidy's finder: they register on one finder
// shared by all tsmap checks of the translation unit, which runs (one
// traversal for all of them) only if the translation unit can hold a
// contract: it spells an `annotate` attribute, or a name the options or the
// shipped models give a contract to. Elsewhere the checks cost one match of
// the translation unit node.
//
//===----------------------------------------------------------------------===//

#ifndef TSMAP_CHECKER_GATEDMATCHPASS_H
#define TSMAP_CHECKER_GATEDMATCHPASS_H

#include "ContractModel.h"
#include "clang/ASTMatchers/ASTMatchFinder.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringSet.h"
#include <memory>

namespace clang::tidy::tsmap {

class GatedMatchPass {
public:
  /// For a check's registerMatchers: joins the pass of the translation unit
  /// whose checks register on \p TidyFinder (clang-tidy makes one finder per
  /// translation unit), with the names \p Model gives contracts to, and
  /// returns the finder to add the check's matchers to. The check keeps
  /// \p Pass: the pass lives as long as the checks do.
  /// \p SystemHeaders is clang-tidy's option of that name: where clang-tidy's
  /// own finder skips system headers without it (LLVM 20 and later), so does
  /// the shared one.
  static ast_matchers::MatchFinder &
  join(ast_matchers::MatchFinder *TidyFinder, const ContractModel &Model,
       bool SystemHeaders, std::shared_ptr<GatedMatchPass> &Pass);

  /// The pass of the translation unit whose checks register on \p TidyFinder.
  static std::shared_ptr<GatedMatchPass>
  forFinder(ast_matchers::MatchFinder *TidyFinder, bool SystemHeaders);

  /// Where the checks add their matchers.
  ast_matchers::MatchFinder &finder() { return Finder; }

  /// Names (unqualified identifiers) that give a translation unit contracts.
  void addContractNames(llvm::ArrayRef<std::string> Names);

  /// Whether the translation unit of \p Ctx can hold a contract.
  bool mayHoldContracts(const ASTContext &Ctx) const;

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

  explicit GatedMatchPass(bool SystemHeaders);

  ast_matchers::MatchFinder Finder;
  Trigger Start;
  llvm::StringSet<> ContractNames;
};

} // namespace clang::tidy::tsmap

#endif
