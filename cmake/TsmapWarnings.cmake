# Warnings for the project's own code. TSMAP_WERROR (on in CI) turns them into errors.
option(TSMAP_WERROR "Treat warnings as errors" OFF)
if(DEFINED ENV{CI} AND "$ENV{CI}" STREQUAL "true")
  set(TSMAP_WERROR ON CACHE BOOL "Treat warnings as errors" FORCE)
endif()

# tsmap_enable_warnings(<target>): -Wall -Wextra (and -Werror under TSMAP_WERROR).
function(tsmap_enable_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra $<$<BOOL:${TSMAP_WERROR}>:-Werror>)
endfunction()

# tsmap_enable_plugin_warnings(<target>): the same for C++ that includes LLVM's
# headers. GCC reports -Wnonnull inside LLVM's inline functions after inlining
# (LazyOffsetPtr::get in ExternalASTSource.h), which -isystem cannot silence.
function(tsmap_enable_plugin_warnings target)
  tsmap_enable_warnings(${target})
  target_compile_options(${target} PRIVATE -Wno-unused-parameter
    $<$<CXX_COMPILER_ID:GNU>:-Wno-nonnull>)
endfunction()
