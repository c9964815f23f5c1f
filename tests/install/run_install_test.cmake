# Install test: installs a built upager into a scratch prefix and builds consumers of it:
# tests/install/main.cc through find_package(upager) and through pkg-config, and the zx pager
# examples (examples/zx: C and lib/zx) through upager::zx, the C one also through
# upager-zx.pc; then runs them. Script mode:
#
#   cmake -DUPAGER_BUILD_DIR=<configured and built upager tree> -DWORK_DIR=<scratch dir>
#         [-DCXX=<c++ compiler>] -P tests/install/run_install_test.cmake
#
# WORK_DIR is wiped first. Prints "install test: SKIPPED ..." (and succeeds) if pkg-config is
# missing and UPAGER_REQUIRE_PKG_CONFIG is not set.
cmake_minimum_required(VERSION 3.16)

foreach(var UPAGER_BUILD_DIR WORK_DIR)
  if(NOT ${var})
    message(FATAL_ERROR "run_install_test.cmake: -D${var}=... is required")
  endif()
endforeach()
get_filename_component(UPAGER_BUILD_DIR "${UPAGER_BUILD_DIR}" ABSOLUTE)
get_filename_component(WORK_DIR "${WORK_DIR}" ABSOLUTE)
if(NOT CXX)
  set(CXX c++)
endif()
set(consumer_src "${CMAKE_CURRENT_LIST_DIR}")
set(prefix "${WORK_DIR}/prefix")

# Runs a command; on failure prints its output and stops the script.
function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "install test: ${what} failed (${rc}):\n  ${ARGN}\n${out}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

# 1. Install, as a user would, into a prefix chosen at install time.
run("cmake --install" ${CMAKE_COMMAND} --install "${UPAGER_BUILD_DIR}" --prefix "${prefix}")
message(STATUS "install test: installed into ${prefix}")

# 2. find_package(upager CONFIG REQUIRED) + target_link_libraries(... upager::upager).
set(generator_args)
find_program(NINJA ninja)
if(NINJA)
  set(generator_args -G Ninja)
endif()
run("configuring the CMake consumer" ${CMAKE_COMMAND} -S "${consumer_src}"
    -B "${WORK_DIR}/cmake-consumer" ${generator_args} "-DCMAKE_CXX_COMPILER=${CXX}"
    "-DCMAKE_PREFIX_PATH=${prefix}" -DCMAKE_BUILD_TYPE=Release)
file(STRINGS "${WORK_DIR}/cmake-consumer/CMakeCache.txt" upager_dir REGEX "^upager_DIR:")
string(FIND "${upager_dir}" "${prefix}/" at)
if(NOT at GREATER -1)
  message(FATAL_ERROR "install test: the consumer found another upager: ${upager_dir}")
endif()
run("building the CMake consumer" ${CMAKE_COMMAND} --build "${WORK_DIR}/cmake-consumer")
run("running the CMake consumer" "${WORK_DIR}/cmake-consumer/consumer")
if(EXISTS "${WORK_DIR}/cmake-consumer/provider_consumer")
  run("running the providers consumer" "${WORK_DIR}/cmake-consumer/provider_consumer")
  message(STATUS "install test: upager::providers consumer ran")
endif()
message(STATUS "install test: find_package consumer: ${run_output}")
run("running the upager::zx C pager" "${WORK_DIR}/cmake-consumer/zx_c_pager")
message(STATUS "install test: upager::zx C pager: ${run_output}")
run("running the upager::zx lib/zx pager" "${WORK_DIR}/cmake-consumer/zx_libzx_pager")
message(STATUS "install test: upager::zx lib/zx pager: ${run_output}")

# 3. pkg-config --cflags --libs upager, with PKG_CONFIG_PATH pointing into the prefix.
find_program(PKG_CONFIG pkg-config)
if(NOT PKG_CONFIG)
  if(UPAGER_REQUIRE_PKG_CONFIG)
    message(FATAL_ERROR "install test: pkg-config not found")
  endif()
  message(STATUS "install test: SKIPPED the pkg-config consumer: pkg-config not found")
  return()
endif()
file(GLOB_RECURSE pc_files "${prefix}/*/upager.pc")
list(LENGTH pc_files n)
if(NOT n EQUAL 1)
  message(FATAL_ERROR "install test: expected one upager.pc under ${prefix}, found: ${pc_files}")
endif()
get_filename_component(pc_dir "${pc_files}" DIRECTORY)
run("pkg-config --cflags --libs upager" ${CMAKE_COMMAND} -E env "PKG_CONFIG_PATH=${pc_dir}"
    ${PKG_CONFIG} --cflags --libs upager)
string(STRIP "${run_output}" pc_flags)
message(STATUS "install test: pkg-config --cflags --libs upager: ${pc_flags}")
string(FIND "${pc_flags}" "${prefix}/" at)
if(NOT at GREATER -1)
  message(FATAL_ERROR "install test: upager.pc does not point into ${prefix}: ${pc_flags}")
endif()
separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
run("building the pkg-config consumer" ${CXX} "${consumer_src}/main.cc"
    -o "${WORK_DIR}/pkgconfig-consumer" ${pc_flags})
run("running the pkg-config consumer" "${WORK_DIR}/pkgconfig-consumer")
message(STATUS "install test: pkg-config consumer: ${run_output}")

# 4. pkg-config --cflags --libs upager-zx: a C file compiled as C, linked by the C++ driver.
run("pkg-config --cflags --libs upager-zx" ${CMAKE_COMMAND} -E env "PKG_CONFIG_PATH=${pc_dir}"
    ${PKG_CONFIG} --cflags --libs upager-zx)
string(STRIP "${run_output}" zx_flags)
message(STATUS "install test: pkg-config --cflags --libs upager-zx: ${zx_flags}")
separate_arguments(zx_flags UNIX_COMMAND "${zx_flags}")
run("building the upager-zx pkg-config consumer" ${CXX} -x c
    "${consumer_src}/../../examples/zx/c_pager.c" -x none -o "${WORK_DIR}/pkgconfig-zx-consumer"
    ${zx_flags} -pthread)
run("running the upager-zx pkg-config consumer" "${WORK_DIR}/pkgconfig-zx-consumer")
message(STATUS "install test: upager-zx pkg-config consumer: ${run_output}")
message(STATUS "install test: PASSED")
