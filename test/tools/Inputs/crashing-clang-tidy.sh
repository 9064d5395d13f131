#!/bin/sh
# A clang-tidy that crashes (SIGSEGV) on any file named crash.c, like a real crash in
# one TU, and hangs on hang.c; otherwise it is $REAL_CLANG_TIDY (default clang-tidy-19).
for arg in "$@"; do
  case "$arg" in
    *crash.c) echo "PLEASE submit a bug report to https://github.com/llvm/llvm-project/issues/" >&2
              kill -SEGV $$ ;;
    *hang.c) exec sleep 60 ;;
  esac
done
exec "${REAL_CLANG_TIDY:-clang-tidy-19}" "$@"
