# install_test.cmake -- prove that an installed actio can be consumed with
# find_package(actio) by an unrelated project, and that it installs only the
# public headers, self-contained.
#
#   cmake -DCONSUMER_SRC=<.../tests/install/consumer>
#         -DWORK_DIR=<scratch dir, wiped first>
#         -DACTIO_BUILD_DIR=<actio build tree>      install this tree, or
#         -DACTIO_SOURCE_DIR=<actio source tree>    library-only mode: configure
#                                                   and build just the library
#         [-DBUILD_CONFIG=Release|Debug|...]   build type / config
#         [-DGENERATOR=...]                    library-only: CMake generator
#         [-DACTIO_SANITIZE=ON|OFF] [-DACTIO_KQUEUE=...] [-DACTIO_KQUEUE_PREFIX=...]
#                                              library-only: as the caller's build
#         [-DCONSUMER_CXX_FLAGS=...]           e.g. sanitizer flags
#         [-DCONSUMER_LINKER_FLAGS=...]
#         [-DCONSUMER_CXX_COMPILER=...]        same compiler as actio
#         [-DCOMPILER_LAUNCHER=...]            e.g. ccache
#         -P install_test.cmake
#
# Build-tree mode: install the tree into WORK_DIR/prefix; the tools are there.
# Library-only mode: configure actio with tests and benchmarks off, build only
# the target actio and `cmake --install` it (the tools are not built: they
# must be skipped, not fail the install); then reconfigure without examples and
# install the components lib and dev alone into WORK_DIR/prefix.
# Both: no internal header is installed; a consumer that includes every
# installed header builds against WORK_DIR/prefix and runs.
cmake_minimum_required(VERSION 3.25)

foreach(var CONSUMER_SRC WORK_DIR)
  if(NOT ${var})
    message(FATAL_ERROR "install_test: -D${var}=... is required")
  endif()
endforeach()
if(NOT ACTIO_BUILD_DIR AND NOT ACTIO_SOURCE_DIR)
  message(FATAL_ERROR "install_test: -DACTIO_BUILD_DIR or -DACTIO_SOURCE_DIR is required")
endif()

set(prefix "${WORK_DIR}/prefix")
set(consumer_build "${WORK_DIR}/consumer-build")

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

# run(<step> <timeout> <command...>): run a command, fail with its output.
# Leaves the combined output in run_output.
function(run step timeout)
  list(JOIN ARGN " " cmdline)
  message(STATUS "install_test: ${step}: ${cmdline}")
  execute_process(COMMAND ${ARGN}
                  RESULT_VARIABLE rc
                  OUTPUT_VARIABLE out
                  ERROR_VARIABLE out
                  TIMEOUT ${timeout})
  if(NOT rc STREQUAL "0")
    message(FATAL_ERROR
      "install_test: ${step} failed (${rc})\n"
      "command: ${cmdline}\n"
      "---- output ----\n${out}\n----------------")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

# expect(<exists|absent> <path>...): fail unless each path is (not) there.
function(expect what)
  foreach(path IN LISTS ARGN)
    if(what STREQUAL "exists" AND NOT EXISTS "${path}")
      message(FATAL_ERROR "install_test: ${path} was not installed")
    elseif(what STREQUAL "absent" AND EXISTS "${path}")
      message(FATAL_ERROR "install_test: ${path} must not be installed")
    endif()
  endforeach()
endfunction()

set(config_args)
if(BUILD_CONFIG)
  set(config_args --config "${BUILD_CONFIG}")
endif()

# Whatever GNUInstallDirs chose (lib, lib64, lib/<multiarch>): find it.
function(find_config root out)
  file(GLOB_RECURSE found "${root}/*/actioConfig.cmake")
  set(${out} "${found}" PARENT_SCOPE)
endfunction()

if(ACTIO_SOURCE_DIR)
  # 1. a library-only build: configure, build the target actio, install all
  set(lib_build "${WORK_DIR}/actio-build")
  set(cfg_args -S "${ACTIO_SOURCE_DIR}" -B "${lib_build}"
      -DACTIO_BUILD_TESTS=OFF -DACTIO_BUILD_BENCH=OFF -DACTIO_BUILD_EXAMPLES=ON)
  foreach(var ACTIO_SANITIZE ACTIO_KQUEUE ACTIO_KQUEUE_PREFIX)
    if(DEFINED ${var})
      list(APPEND cfg_args "-D${var}=${${var}}")
    endif()
  endforeach()
  if(GENERATOR)
    list(APPEND cfg_args -G "${GENERATOR}")
  endif()
  if(BUILD_CONFIG)
    list(APPEND cfg_args "-DCMAKE_BUILD_TYPE=${BUILD_CONFIG}")
  endif()
  if(CONSUMER_CXX_COMPILER)
    list(APPEND cfg_args "-DCMAKE_CXX_COMPILER=${CONSUMER_CXX_COMPILER}")
  endif()
  if(COMPILER_LAUNCHER)
    list(APPEND cfg_args "-DCMAKE_CXX_COMPILER_LAUNCHER=${COMPILER_LAUNCHER}")
  endif()
  run("configure actio" 300 "${CMAKE_COMMAND}" ${cfg_args})
  run("build actio" 3000 "${CMAKE_COMMAND}" --build "${lib_build}"
      --target actio --parallel 2 ${config_args})
  set(all_prefix "${WORK_DIR}/prefix-all")
  run("install a tree without tools built" 300
      "${CMAKE_COMMAND}" --install "${lib_build}" --prefix "${all_prefix}"
      ${config_args})
  find_config("${all_prefix}" all_config)
  if(NOT all_config)
    message(FATAL_ERROR "install_test: no actioConfig.cmake under ${all_prefix}")
  endif()
  expect(absent "${all_prefix}/bin/actio-echo")

  # 2. without examples: the components lib and dev, one at a time
  run("reconfigure without examples" 300
      "${CMAKE_COMMAND}" -S "${ACTIO_SOURCE_DIR}" -B "${lib_build}"
      -DACTIO_BUILD_EXAMPLES=OFF)
  run("build actio again" 3000 "${CMAKE_COMMAND}" --build "${lib_build}"
      --target actio --parallel 2 ${config_args})
  run("install component dev" 300
      "${CMAKE_COMMAND}" --install "${lib_build}" --prefix "${prefix}"
      --component dev ${config_args})
  file(GLOB_RECURSE libs "${prefix}/*.a" "${prefix}/*.so")
  if(libs)
    message(FATAL_ERROR "install_test: component dev installed ${libs}")
  endif()
  expect(exists "${prefix}/include/actio/actors/runtime.hpp")
  run("install component lib" 300
      "${CMAKE_COMMAND}" --install "${lib_build}" --prefix "${prefix}"
      --component lib ${config_args})
  expect(absent "${prefix}/bin")
else()
  # 1. install a whole build tree (tools included)
  run("install" 300
      "${CMAKE_COMMAND}" --install "${ACTIO_BUILD_DIR}" --prefix "${prefix}"
      ${config_args})
  expect(exists "${prefix}/bin/actio-echo" "${prefix}/bin/actio-udp-echo")
endif()

# 2. public headers only (drivers/driver.hpp is the backend interface,
#    the backends' insides and the layers' detail/ folders are not)
find_config("${prefix}" config)
if(NOT config)
  message(FATAL_ERROR "install_test: no actioConfig.cmake under ${prefix}")
endif()
expect(exists "${prefix}/include/actio/drivers/driver.hpp"
              "${prefix}/include/actio/net/connection.hpp")
expect(absent "${prefix}/include/actio/drivers/uring"
              "${prefix}/include/actio/drivers/epoll"
              "${prefix}/include/actio/drivers/readiness"
              "${prefix}/include/actio/drivers/kqueue"
              "${prefix}/include/actio/drivers/aio"
              "${prefix}/include/actio/drivers/detail"
              "${prefix}/include/actio/drivers/slot_table.hpp"
              "${prefix}/include/actio/drivers/file_pool.hpp"
              "${prefix}/include/actio/drivers/blocking_pool.hpp"
              "${prefix}/include/actio/actors/detail"
              "${prefix}/include/actio/net/detail"
              "${prefix}/include/actio/io/detail"
              "${prefix}/include/actio/proto/detail")
file(GLOB_RECURSE headers RELATIVE "${prefix}/include"
     "${prefix}/include/actio/*.hpp" "${prefix}/include/actio/*.h")
list(SORT headers)
set(all_headers "// Generated by install_test.cmake: every installed header.\n")
foreach(h IN LISTS headers)
  string(APPEND all_headers "#include \"${h}\"\n")
endforeach()
file(WRITE "${WORK_DIR}/all_headers.cpp" "${all_headers}")
list(LENGTH headers header_count)
message(STATUS "install_test: ${header_count} installed headers")

# 3. configure the consumer
set(configure_args
    -S "${CONSUMER_SRC}" -B "${consumer_build}"
    "-DCMAKE_PREFIX_PATH=${prefix}"
    "-DACTIO_CONSUMER_EXTRA_SOURCES=${WORK_DIR}/all_headers.cpp")
if(BUILD_CONFIG)
  list(APPEND configure_args "-DCMAKE_BUILD_TYPE=${BUILD_CONFIG}")
endif()
if(CONSUMER_CXX_COMPILER)
  list(APPEND configure_args "-DCMAKE_CXX_COMPILER=${CONSUMER_CXX_COMPILER}")
endif()
if(COMPILER_LAUNCHER)
  list(APPEND configure_args "-DCMAKE_CXX_COMPILER_LAUNCHER=${COMPILER_LAUNCHER}")
endif()
if(DEFINED CONSUMER_CXX_FLAGS)
  list(APPEND configure_args "-DCMAKE_CXX_FLAGS=${CONSUMER_CXX_FLAGS}")
endif()
if(DEFINED CONSUMER_LINKER_FLAGS)
  list(APPEND configure_args "-DCMAKE_EXE_LINKER_FLAGS=${CONSUMER_LINKER_FLAGS}")
endif()
run("configure consumer" 300 "${CMAKE_COMMAND}" ${configure_args})

# 4. build it
run("build consumer" 600
    "${CMAKE_COMMAND}" --build "${consumer_build}" ${config_args})

# 5. run it (single-config generators put it at the top of the build tree,
#    multi-config ones in a per-config subdirectory)
set(exe "")
foreach(candidate "${consumer_build}/actio-consumer"
                  "${consumer_build}/${BUILD_CONFIG}/actio-consumer")
  if(EXISTS "${candidate}" AND NOT IS_DIRECTORY "${candidate}")
    set(exe "${candidate}")
    break()
  endif()
endforeach()
if(NOT exe)
  message(FATAL_ERROR "install_test: consumer executable not found under "
                      "${consumer_build}")
endif()
run("run consumer" 60 "${exe}")

if(NOT run_output MATCHES "consumer: backend")
  message(FATAL_ERROR
    "install_test: consumer output lacks 'consumer: backend'\n"
    "---- output ----\n${run_output}\n----------------")
endif()
message(STATUS "install_test: OK -- ${run_output}")
