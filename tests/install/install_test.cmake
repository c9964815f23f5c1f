# Registers the install test with CTest; included from tests/CMakeLists.txt.
#
# The test (run_install_test.cmake) installs this build tree into a scratch prefix and
# builds tests/install/main.cc against it through find_package(upager) and through
# pkg-config. Sanitizer builds skip it: their library needs the sanitizer runtime, which a
# plain consumer does not link.
if(UPAGER_SANITIZE STREQUAL "")
  add_test(NAME install_consumer
           COMMAND ${CMAKE_COMMAND} -DUPAGER_BUILD_DIR=${PROJECT_BINARY_DIR}
                   -DWORK_DIR=${CMAKE_CURRENT_BINARY_DIR}/install_test
                   -DCXX=${CMAKE_CXX_COMPILER}
                   -P ${CMAKE_CURRENT_LIST_DIR}/run_install_test.cmake)
  set_tests_properties(install_consumer PROPERTIES
                       LABELS install TIMEOUT 600
                       SKIP_REGULAR_EXPRESSION "install test: SKIPPED")
endif()
