# install_test.cmake -- prove that an installed actio can be consumed with
# find_package(actio) by an unrelated project.
#
#   cmake -DACTIO_BUILD_DIR=<actio build tree>
#         -DCONSUMER_SRC=<.../tests/install/consumer>
#         -DWORK_DIR=<scratch dir, wiped first>
#         [-DBUILD_CONFIG=Release|Debug|...]   build type / config
#         [-DCONSUMER_CXX_FLAGS=...]           e.g. sanitizer flags
#         [-DCONSUMER_LINKER_FLAGS=...]
#         [-DCONSUMER_CXX_COMPILER=...]        same compiler as actio
#         -P install_test.cmake
#
# Steps: install into WORK_DIR/prefix, configure + build the consumer with
# CMAKE_PREFIX_PATH=WORK_DIR/prefix, run it, check its output.
cmake_minimum_required(VERSION 3.25)

foreach(var ACTIO_BUILD_DIR CONSUMER_SRC WORK_DIR)
  if(NOT ${var})
    message(FATAL_ERROR "install_test: -D${var}=... is required")
  endif()
endforeach()

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

set(config_args)
if(BUILD_CONFIG)
  set(config_args --config "${BUILD_CONFIG}")
endif()

# 1. install
run("install" 300
    "${CMAKE_COMMAND}" --install "${ACTIO_BUILD_DIR}" --prefix "${prefix}"
    ${config_args})

# 2. configure the consumer
set(configure_args
    -S "${CONSUMER_SRC}" -B "${consumer_build}"
    "-DCMAKE_PREFIX_PATH=${prefix}")
if(BUILD_CONFIG)
  list(APPEND configure_args "-DCMAKE_BUILD_TYPE=${BUILD_CONFIG}")
endif()
if(CONSUMER_CXX_COMPILER)
  list(APPEND configure_args "-DCMAKE_CXX_COMPILER=${CONSUMER_CXX_COMPILER}")
endif()
if(DEFINED CONSUMER_CXX_FLAGS)
  list(APPEND configure_args "-DCMAKE_CXX_FLAGS=${CONSUMER_CXX_FLAGS}")
endif()
if(DEFINED CONSUMER_LINKER_FLAGS)
  list(APPEND configure_args "-DCMAKE_EXE_LINKER_FLAGS=${CONSUMER_LINKER_FLAGS}")
endif()
run("configure consumer" 300 "${CMAKE_COMMAND}" ${configure_args})

# 3. build it
run("build consumer" 600
    "${CMAKE_COMMAND}" --build "${consumer_build}" ${config_args})

# 4. run it (single-config generators put it at the top of the build tree,
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
