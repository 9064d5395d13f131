# ctest's plugin-smoke test, in every build that makes the plugin (with or without
# BUILD_TESTING, whichever compiler built it): the plugin loads into the clang-tidy of its
# LLVM, constructs every check (reading each option) and reports exactly one finding on
# cmake/plugin-smoke.c. A plugin that lists its checks but cannot check a file (a GCC
# build calling a specialisation GCC mangles differently: "symbol lookup error") fails.
enable_testing()
add_test(NAME plugin-smoke
  COMMAND ${CMAKE_COMMAND}
    -DCLANG_TIDY=${TSMAP_CLANG_TIDY}
    -DPLUGIN=$<TARGET_FILE:tsmap_tidy>
    -DSOURCE=${PROJECT_SOURCE_DIR}/cmake/plugin-smoke.c
    -DINCLUDE=${PROJECT_SOURCE_DIR}/annotations/include
    -P ${PROJECT_SOURCE_DIR}/cmake/plugin-smoke.cmake)
set_tests_properties(plugin-smoke PROPERTIES TIMEOUT 300)
