// Compiled into a precompiled header by contract-gate-pch.c: the contract
// reaches the translation unit only through the PCH.
typedef int (*fill_fn)(void *ctx);
int cache_fill(fill_fn cb __attribute__((annotate("tsmap::callback"))),
               void *ctx);
