# Finds the LLVM and Clang CMake packages of major version TSMAP_LLVM_VERSION, as Debian
# installs them under /usr/lib/llvm-<ver>, and describes how the plugin must be compiled
# to match the installed clang-tidy (RTTI, exceptions, definitions).
set(TSMAP_LLVM_ROOT "/usr/lib/llvm-${TSMAP_LLVM_VERSION}" CACHE PATH
  "Prefix of the LLVM/Clang installation the plugin is built against")

# No version in find_package: LLVM's version file insists on major.minor.
find_package(LLVM CONFIG PATHS "${TSMAP_LLVM_ROOT}/lib/cmake/llvm" NO_DEFAULT_PATH)
if(LLVM_FOUND AND NOT LLVM_VERSION_MAJOR STREQUAL TSMAP_LLVM_VERSION)
  message(FATAL_ERROR "tsmap: ${TSMAP_LLVM_ROOT} holds LLVM ${LLVM_PACKAGE_VERSION}, "
    "not ${TSMAP_LLVM_VERSION}; set TSMAP_LLVM_ROOT or TSMAP_LLVM_VERSION to agree")
endif()
if(NOT LLVM_FOUND)
  message(FATAL_ERROR "tsmap: LLVM ${TSMAP_LLVM_VERSION} not found under ${TSMAP_LLVM_ROOT}; "
    "install llvm-${TSMAP_LLVM_VERSION}-dev libclang-${TSMAP_LLVM_VERSION}-dev "
    "(or set TSMAP_BUILD_PLUGIN=OFF)")
endif()
find_package(Clang CONFIG PATHS "${TSMAP_LLVM_ROOT}/lib/cmake/clang" NO_DEFAULT_PATH)
if(NOT Clang_FOUND)
  message(FATAL_ERROR "tsmap: Clang CMake package not found under ${TSMAP_LLVM_ROOT}; "
    "install libclang-${TSMAP_LLVM_VERSION}-dev")
endif()
if(NOT EXISTS "${CLANG_INCLUDE_DIRS}/clang-tidy/ClangTidyCheck.h"
   AND NOT EXISTS "${TSMAP_LLVM_ROOT}/include/clang-tidy/ClangTidyCheck.h")
  message(FATAL_ERROR "tsmap: clang-tidy headers missing; install clang-tidy-${TSMAP_LLVM_VERSION}")
endif()

find_program(TSMAP_CLANG_TIDY NAMES clang-tidy PATHS "${TSMAP_LLVM_ROOT}/bin" NO_DEFAULT_PATH)
find_program(TSMAP_CLANG NAMES clang PATHS "${TSMAP_LLVM_ROOT}/bin" NO_DEFAULT_PATH)
find_program(TSMAP_CLANGD NAMES clangd PATHS "${TSMAP_LLVM_ROOT}/bin" NO_DEFAULT_PATH)
find_program(TSMAP_FILECHECK NAMES FileCheck PATHS "${TSMAP_LLVM_ROOT}/bin" NO_DEFAULT_PATH)
find_program(TSMAP_NOT NAMES not PATHS "${TSMAP_LLVM_ROOT}/bin" NO_DEFAULT_PATH)
find_file(TSMAP_LIT lit.py PATHS "${TSMAP_LLVM_ROOT}/build/utils/lit" NO_DEFAULT_PATH)
message(STATUS "tsmap: plugin for LLVM ${LLVM_PACKAGE_VERSION} (${TSMAP_LLVM_ROOT}), "
  "clang-tidy: ${TSMAP_CLANG_TIDY}")
