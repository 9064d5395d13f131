#!/bin/sh
# A clang-tidy that crashes (SIGSEGV) on any file named crash.c, like a real crash in
# one TU, hangs on hang.c, and fails as the dynamic loader does (a plugin calling a symbol
# this clang-tidy does not export: exit 127) on nolink.c; otherwise it is $REAL_CLANG_TIDY
# (default clang-tidy-19).
for arg in "$@"; do
  case "$arg" in
    *crash.c) echo "PLEASE submit a bug report to https://github.com/llvm/llvm-project/issues/" >&2
              kill -SEGV $$ ;;
    *hang.c) exec sleep 60 ;;
    *nolink.c) echo "clang-tidy: symbol lookup error: libTsmapTidy.so: undefined symbol: _ZNK5clang4tidy14ClangTidyCheck11OptionsView3getIbEESt8optionalIT_EN4llvm9StringRefE" >&2
               exit 127 ;;
  esac
done
exec "${REAL_CLANG_TIDY:-clang-tidy-19}" "$@"
