# cmake -P script of the plugin-smoke test (TsmapPluginSmokeTest.cmake): runs
# CLANG_TIDY --load PLUGIN with every tsmap-* check over SOURCE and wants one finding.
execute_process(
  COMMAND "${CLANG_TIDY}" "--load=${PLUGIN}" "--checks=-*,tsmap-*"
          "--config={CheckOptions: {tsmap-non-idempotent-callback.StrictUnknownCalls: false, tsmap-reentrant-callback.StrictMapIdentity: false}}"
          "${SOURCE}" -- "-I${INCLUDE}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REGEX MATCHALL "warning: [^\n]*\\[tsmap-[a-z-]+\\]" found "${out}")
list(LENGTH found n)
if(NOT rc EQUAL 0 OR NOT n EQUAL 1 OR err MATCHES "error")
  message(FATAL_ERROR "plugin smoke test failed: ${CLANG_TIDY} --load ${PLUGIN} exited "
    "with '${rc}' and reported ${n} tsmap finding(s) on ${SOURCE}, not 1.\n"
    "stdout:\n${out}\nstderr:\n${err}")
endif()
message(STATUS "plugin smoke test: ${found}")
