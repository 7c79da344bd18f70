# Shared per-target settings: warnings, sanitizers, and the unit-test registry.

add_custom_target(berth_unit_tests)

function(berth_target_defaults target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wno-missing-field-initializers
    # GCC 12 reports false -Wrestrict positives inside libstdc++ string code (GCC bug 105329).
    $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>)
  if(BERTH_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(BERTH_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
endfunction()

# berth_add_unit_test(name SOURCES ... LIBS ...): a GoogleTest binary labelled `unit`.
function(berth_add_unit_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  berth_target_defaults(${name})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main GTest::gmock)
  gtest_discover_tests(${name} PROPERTIES LABELS "unit;${ARG_LABELS}" DISCOVERY_TIMEOUT 60)
  add_dependencies(berth_unit_tests ${name})
endfunction()

# berth_add_integration_test(name SOURCES ... LIBS ... [LABELS ...]): labelled `integration`.
# Integration tests run real containers; they need root and skip themselves otherwise.
function(berth_add_integration_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  berth_target_defaults(${name})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main GTest::gmock)
  gtest_discover_tests(${name}
    PROPERTIES LABELS integration TIMEOUT ${ARG_TIMEOUT}
    DISCOVERY_TIMEOUT 60)
  # gtest_discover_tests can't carry a list-valued LABELS property, so a second include file,
  # read by CTest after the discovered tests, labels each of them "integration;root".
  set(labeler ${CMAKE_CURRENT_BINARY_DIR}/${name}_labels.cmake)
  file(WRITE ${labeler}
    "file(GLOB berth_files \"${CMAKE_CURRENT_BINARY_DIR}/${name}*_tests.cmake\")\n"
    "foreach(berth_file \${berth_files})\n"
    "  file(STRINGS \${berth_file} berth_lines REGEX \"^add_test\")\n"
    "  foreach(berth_line \${berth_lines})\n"
    "    if(berth_line MATCHES \"^add_test\\\\(\\\\[=\\\\[([^]]+)\\\\]=\\\\]\")\n"
    "      set_tests_properties(\"\${CMAKE_MATCH_1}\" PROPERTIES LABELS \"integration;root\")\n"
    "    endif()\n"
    "  endforeach()\n"
    "endforeach()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${labeler})
endfunction()
