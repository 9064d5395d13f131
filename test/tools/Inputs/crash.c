/* Inputs/crashing-clang-tidy.sh crashes on this file. */
int crash_here(void) { return 0; }
