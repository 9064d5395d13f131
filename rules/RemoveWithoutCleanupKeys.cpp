//===--- RemoveWithoutCleanupKeys.cpp - a GLib table's keys ---------------===//
//
// tsmap-remove-without-cleanup on the keys of a GHashTable: the key destroy
// function of g_hash_table_new_full is the keys' eviction hook. Quiet by
// default: a table created with no key destroy function does not own its
// keys (they belong to the values or to the caller), so only a table that
// owns its keys is checked:
//   - a removal, an overwrite (insert with the key present drops the key
//     passed in, replace the old one), or destroying the table hands keys to
//     the key destroy function, which must clean the key type's
//     TSMAP_CLEANUP contracts when its body (or a deallocator) is visible;
//   - g_hash_table_steal_extended with a NULL stolen_key drops the stored
//     key, which no destroy function cleans.
//
//===----------------------------------------------------------------------===//

#include "RemoveWithoutCleanupCheck.h"

namespace clang::tidy::tsmap {

void RemoveWithoutCleanupCheck::learnKey(const CallExpr *Call,
                                         const ValueDecl *MapDecl) {
  if (!MapDecl || Call->getNumArgs() < 3)
    return;
  const Expr *Key = Call->getArg(1);
  if (sameExpr(Key, Call->getArg(2), *Ctx)) {
    KeysAreValues.insert(MapDecl);
    return;
  }
  const Expr *E = Key->IgnoreParenCasts();
  QualType T = E->getType();
  if (T->isPointerType() && !T->isVoidPointerType() &&
      !Model.cleanupsOf(T).empty())
    MapKeyTypes.try_emplace(MapDecl, T);
}

void RemoveWithoutCleanupCheck::checkKeyDiscard(const Discard &D) {
  if (!D.MapDecl || KeysAreValues.contains(D.MapDecl))
    return;
  auto It = MapKeyTypes.find(D.MapDecl);
  if (It == MapKeyTypes.end())
    return;
  QualType T = It->second;
  std::vector<CleanupContract> Cs = Model.cleanupsOf(T);
  const FunctionDecl *Hook = nullptr;
  const CallExpr *Creation = nullptr;
  // A table created out of sight, or with a key destroy function that is not
  // a function name, or with none (it does not own its keys): quiet.
  if (Cs.empty() || !glibHookOf(D, Hook, Creation) || !Hook)
    return;
  const CleanupContract *Missed = &Cs.front();
  std::string HookName = Hook->getNameAsString();
  if (D.K != Discard::Stolen && !(Missed = missedByHook(Hook, HookName, Cs)))
    return;
  const CleanupContract &C = *Missed;
  const char *Message = nullptr;
  switch (D.K) {
  case Discard::Stolen:
    Message = "key stolen by %0 is discarded; the table owns its keys (key "
              "destroy function '%4'), a steal runs no destroy function, and "
              "%select{the key keeps|the key's field '%2' keeps}1 a resource "
              "that '%3' must release";
    break;
  case Discard::Replace:
    Message = "%0 may find its key present and drop a key to key destroy "
              "function '%4', which does not call '%3'; %select{the key "
              "keeps|the key's field '%2' keeps}1 a resource that is never "
              "released";
    break;
  default:
    Message = "key removed by %0 is discarded to key destroy function '%4', "
              "which does not call '%3'; %select{the key keeps|the key's field "
              "'%2' keeps}1 a resource that is never released";
    break;
  }
  diag(D.Call->getBeginLoc(), Message)
      << D.Callee << (C.Field != nullptr) << C.fieldPath()
      << C.FnName << HookName << D.Call->getSourceRange();
  if (D.K == Discard::Stolen)
    diag(Creation->getBeginLoc(),
         "the table is created here with key destroy function '%0'",
         DiagnosticIDs::Note)
        << HookName;
  else if (!Hook->hasBody())
    diag(Creation->getBeginLoc(), // no body to show: where it is installed
         "key destroy function '%0' is installed here and does not call '%1'",
         DiagnosticIDs::Note)
        << Hook->getName() << C.FnName;
  else
    diag(Hook->getLocation(), "key destroy function '%0' does not call '%1'",
         DiagnosticIDs::Note)
        << Hook->getName() << C.FnName;
  noteContract(C, T);
}

} // namespace clang::tidy::tsmap
