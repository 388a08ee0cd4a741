# source_check.cmake -- what the source checkers (check_layers.cmake,
# check_no_stderr.cmake) share; included by them, with ROOT set.

if(NOT ROOT)
  message(FATAL_ERROR "${CMAKE_CURRENT_LIST_FILE}: -DROOT=<source tree> is required")
endif()

# source_files(<var> <folder>): the C++ files under ROOT/<folder>/ (any
# depth), relative to ROOT.
function(source_files var folder)
  file(GLOB_RECURSE files RELATIVE "${ROOT}"
       "${ROOT}/${folder}/*.hpp" "${ROOT}/${folder}/*.cpp" "${ROOT}/${folder}/*.h")
  set(${var} "${files}" PARENT_SCOPE)
endfunction()

# report_check(<name> <headline> <ok>): ends a check that counted the files
# it read in `checked` and collected its findings in `violations`: fails
# when it read none, or with "<name>: <headline>:" and the findings;
# otherwise prints "<name>: N files, <ok>".
function(report_check name headline ok)
  if(checked EQUAL 0)
    message(FATAL_ERROR "${name}: no source files under ${ROOT}")
  endif()
  if(violations)
    message(FATAL_ERROR "${name}: ${headline}:\n${violations}")
  endif()
  message(STATUS "${name}: ${checked} files, ${ok}")
endfunction()
