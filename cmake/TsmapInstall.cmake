# Install rules: headers, libraries, the plugin, a CMake package and a
# pkg-config file. find_package(tsmap CONFIG) then gives tsmap::annotations,
# tsmap::runtime, tsmap::runtime_static and TSMAP_TIDY_PLUGIN (the plugin path).
include(CMakePackageConfigHelpers)

set(TSMAP_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/tsmap")
set(TSMAP_PLUGIN_DIR "${CMAKE_INSTALL_LIBDIR}/tsmap/llvm-${TSMAP_LLVM_VERSION}")

install(DIRECTORY annotations/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
set(TSMAP_EXPORTED_TARGETS tsmap_annotations)
if(TARGET tsmap_runtime_shared)
  install(DIRECTORY runtime/include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  set_target_properties(tsmap_runtime_shared PROPERTIES EXPORT_NAME runtime)
  set_target_properties(tsmap_runtime_static PROPERTIES EXPORT_NAME runtime_static)
  list(APPEND TSMAP_EXPORTED_TARGETS tsmap_runtime_shared tsmap_runtime_static)
endif()
install(TARGETS ${TSMAP_EXPORTED_TARGETS} EXPORT tsmapTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT tsmapTargets NAMESPACE tsmap:: DESTINATION ${TSMAP_CMAKE_DIR})

if(TARGET tsmap_tidy)
  install(TARGETS tsmap_tidy LIBRARY DESTINATION ${TSMAP_PLUGIN_DIR})
  set(TSMAP_INSTALLED_PLUGIN_NAME "$<TARGET_FILE_NAME:tsmap_tidy>")
endif()
if(EXISTS "${PROJECT_SOURCE_DIR}/tools/tsmap-tidy")
  install(PROGRAMS tools/tsmap-tidy DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
# The check pages: tsmap-tidy's SARIF links to them (rules' help URIs) by default, and
# takes each rule's short and full description from them.
file(GLOB TSMAP_RULE_PAGES "${PROJECT_SOURCE_DIR}/rules/tsmap-*.md")
if(TSMAP_RULE_PAGES)
  install(FILES ${TSMAP_RULE_PAGES} DESTINATION ${CMAKE_INSTALL_DOCDIR}/rules)
endif()
file(GLOB TSMAP_DOC_PAGES "${PROJECT_SOURCE_DIR}/docs/*.md")
if(TSMAP_DOC_PAGES)
  install(FILES ${TSMAP_DOC_PAGES} DESTINATION ${CMAKE_INSTALL_DOCDIR})
endif()

configure_package_config_file(cmake/tsmapConfig.cmake.in
  "${PROJECT_BINARY_DIR}/tsmapConfig.cmake.gen"
  INSTALL_DESTINATION ${TSMAP_CMAKE_DIR}
  PATH_VARS TSMAP_PLUGIN_DIR)
file(GENERATE OUTPUT "${PROJECT_BINARY_DIR}/tsmapConfig.cmake"
  INPUT "${PROJECT_BINARY_DIR}/tsmapConfig.cmake.gen")
write_basic_package_version_file("${PROJECT_BINARY_DIR}/tsmapConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES
  "${PROJECT_BINARY_DIR}/tsmapConfig.cmake"
  "${PROJECT_BINARY_DIR}/tsmapConfigVersion.cmake"
  DESTINATION ${TSMAP_CMAKE_DIR})
if(EXISTS "${PROJECT_SOURCE_DIR}/cmake/TsmapClangTidy.cmake")
  install(FILES cmake/TsmapClangTidy.cmake DESTINATION ${TSMAP_CMAKE_DIR})
endif()

if(TARGET tsmap_runtime_shared)
  # Relocatable: the prefix is found from the .pc file's own place (${pcfiledir}), so
  # `cmake --install --prefix <dir>` and packages that move the tree give correct paths.
  set(pc_dir "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
  file(RELATIVE_PATH pc_up "/tsmap-prefix/${pc_dir}" "/tsmap-prefix")
  string(REGEX REPLACE "/$" "" pc_up "${pc_up}")
  set(TSMAP_PC_PREFIX "\${pcfiledir}/${pc_up}")
  configure_file(cmake/tsmap.pc.in "${PROJECT_BINARY_DIR}/tsmap.pc" @ONLY)
  install(FILES "${PROJECT_BINARY_DIR}/tsmap.pc"
    DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endif()
