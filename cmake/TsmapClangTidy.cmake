# TsmapClangTidy.cmake - turn the tsmap-* clang-tidy checks on for a target.
#
# Installed with the tsmap CMake package and included by tsmapConfig.cmake, so after
#
#   find_package(tsmap CONFIG REQUIRED)
#   tsmap_enable_checks(my_server)
#
# `cmake --build` runs clang-tidy with the tsmap plugin loaded on every C and C++ source of
# my_server as it compiles it, and prints the findings in the build log. It uses CMake's
# own <LANG>_CLANG_TIDY target property, so it works with every generator that supports it
# (Makefiles and Ninja).
#
#   tsmap_enable_checks(<target>
#       [CHECKS <glob>...]          clang-tidy check globs; default -* tsmap-*
#       [WARNINGS_AS_ERRORS]        a finding fails the build (--warnings-as-errors=<checks>)
#       [HEADER_FILTER <regex>]     also report findings in headers matching <regex>
#       [LANGUAGES <C|CXX>...]      default: C and CXX
#       [PLUGIN <path>]             default: TSMAP_TIDY_PLUGIN from the package
#       [EXTRA_ARGS <arg>...])      more clang-tidy arguments, passed as they are
#
# clang-tidy must be of the LLVM major version the plugin was built for
# (TSMAP_LLVM_VERSION): a plugin loaded into another version fails to load, crashes or,
# worst, silently registers nothing. The function looks for clang-tidy-<ver> (or
# /usr/lib/llvm-<ver>/bin/clang-tidy), or takes the cache variable
# TSMAP_CLANG_TIDY_EXECUTABLE, and stops the configure step with an error naming both
# versions when they differ.

# _tsmap_clang_tidy_version(<exe> <out-var>): the LLVM major version of a clang-tidy
# executable, from `clang-tidy --version`; empty when it cannot be run or read.
function(_tsmap_clang_tidy_version exe out_var)
  execute_process(COMMAND "${exe}" --version
    OUTPUT_VARIABLE out ERROR_VARIABLE out RESULT_VARIABLE rc)
  set(major "")
  if(rc EQUAL 0 AND out MATCHES "LLVM version ([0-9]+)\\.")
    set(major "${CMAKE_MATCH_1}")
  endif()
  set(${out_var} "${major}" PARENT_SCOPE)
endfunction()

# _tsmap_find_clang_tidy(<version> <out-var>): a clang-tidy of LLVM <version>, checked.
function(_tsmap_find_clang_tidy version out_var)
  find_program(TSMAP_CLANG_TIDY_EXECUTABLE
    NAMES clang-tidy-${version} clang-tidy
    HINTS "/usr/lib/llvm-${version}/bin"
    DOC "clang-tidy of the LLVM version the tsmap plugin was built for")
  set(exe "${TSMAP_CLANG_TIDY_EXECUTABLE}")
  if(NOT exe)
    message(FATAL_ERROR "tsmap_enable_checks: no clang-tidy found; the tsmap plugin was "
      "built for LLVM ${version}: install clang-tidy-${version} or set "
      "TSMAP_CLANG_TIDY_EXECUTABLE")
  endif()
  # Check each executable once per build tree.
  if(NOT "${_TSMAP_CLANG_TIDY_CHECKED}" STREQUAL "${exe}")
    _tsmap_clang_tidy_version("${exe}" found)
    if(NOT found STREQUAL version)
      if(found STREQUAL "")
        set(found "an unknown version (`${exe} --version` failed)")
      else()
        set(found "LLVM ${found}")
      endif()
      message(FATAL_ERROR "tsmap_enable_checks: the tsmap plugin was built for LLVM "
        "${version}, but ${exe} is ${found}. A plugin only loads into the clang-tidy "
        "it was built for: install clang-tidy-${version} and set "
        "TSMAP_CLANG_TIDY_EXECUTABLE to it, or install tsmap built for that version.")
    endif()
    set(_TSMAP_CLANG_TIDY_CHECKED "${exe}" CACHE INTERNAL "clang-tidy checked by tsmap")
  endif()
  set(${out_var} "${exe}" PARENT_SCOPE)
endfunction()

# tsmap_enable_checks(<target> ...): see the top of this file.
function(tsmap_enable_checks target)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "WARNINGS_AS_ERRORS"
    "HEADER_FILTER;PLUGIN" "CHECKS;LANGUAGES;EXTRA_ARGS")
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "tsmap_enable_checks: unknown arguments: ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT TARGET ${target})
    message(FATAL_ERROR "tsmap_enable_checks: ${target} is not a target")
  endif()
  if(NOT ARG_PLUGIN)
    set(ARG_PLUGIN "${TSMAP_TIDY_PLUGIN}")
  endif()
  if(NOT ARG_PLUGIN OR NOT EXISTS "${ARG_PLUGIN}")
    message(FATAL_ERROR "tsmap_enable_checks: the tsmap clang-tidy plugin is not installed "
      "('${ARG_PLUGIN}'); install tsmap with its plugin, or pass PLUGIN <path>")
  endif()
  if(NOT TSMAP_LLVM_VERSION)
    message(FATAL_ERROR "tsmap_enable_checks: TSMAP_LLVM_VERSION is not set; "
      "call find_package(tsmap CONFIG) first")
  endif()
  _tsmap_find_clang_tidy("${TSMAP_LLVM_VERSION}" exe)

  if(NOT ARG_CHECKS)
    set(ARG_CHECKS "-*" "tsmap-*")
  endif()
  list(JOIN ARG_CHECKS "," checks)
  set(command "${exe}" "--load=${ARG_PLUGIN}" "--checks=${checks}")
  if(ARG_WARNINGS_AS_ERRORS)
    list(APPEND command "--warnings-as-errors=${checks}")
  endif()
  if(DEFINED ARG_HEADER_FILTER)
    list(APPEND command "--header-filter=${ARG_HEADER_FILTER}")
  endif()
  list(APPEND command ${ARG_EXTRA_ARGS})

  if(NOT ARG_LANGUAGES)
    set(ARG_LANGUAGES C CXX)
  endif()
  foreach(lang IN LISTS ARG_LANGUAGES)
    if(NOT lang MATCHES "^(C|CXX)$")
      message(FATAL_ERROR "tsmap_enable_checks: LANGUAGES takes C and CXX, not ${lang}")
    endif()
    set_property(TARGET ${target} PROPERTY ${lang}_CLANG_TIDY "${command}")
  endforeach()
endfunction()
