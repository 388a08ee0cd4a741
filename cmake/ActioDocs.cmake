# API reference from the public headers' comments, built by Doxygen.
#
#   target `docs`            cmake --build build --target docs (./actio docs)
#                            -> build/docs/html/index.html
#   actio_docs_test()        CTest docs.doxygen: the same run; any Doxygen
#                            warning fails it (WARN_AS_ERROR). Without doxygen
#                            the test is skipped and says why.
#
# Needs ACTIO_FOLDERS and ACTIO_INTERNAL_HEADERS (top-level CMakeLists.txt):
# the reference covers exactly the installed headers.

find_program(ACTIO_DOXYGEN doxygen DOC "Doxygen, for the API reference (./actio docs)")

set(ACTIO_DOCS_DIR ${CMAKE_BINARY_DIR}/docs)
set(ACTIO_DOCS_INPUT)
foreach(dir IN LISTS ACTIO_FOLDERS ITEMS actors/cli)
  string(APPEND ACTIO_DOCS_INPUT " \"${PROJECT_SOURCE_DIR}/${dir}\"")
endforeach()
set(ACTIO_DOCS_EXCLUDE)
foreach(header IN LISTS ACTIO_INTERNAL_HEADERS)
  string(APPEND ACTIO_DOCS_EXCLUDE " \"${PROJECT_SOURCE_DIR}/${header}\"")
endforeach()
set(ACTIO_DOXYFILE ${ACTIO_DOCS_DIR}/Doxyfile)
configure_file(${CMAKE_CURRENT_LIST_DIR}/Doxyfile.in ${ACTIO_DOXYFILE} @ONLY)

if(ACTIO_DOXYGEN)
  add_custom_target(docs
    COMMAND ${ACTIO_DOXYGEN} ${ACTIO_DOXYFILE}
    COMMAND ${CMAKE_COMMAND} -E echo "API reference: ${ACTIO_DOCS_DIR}/html/index.html"
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    COMMENT "Doxygen: API reference of the public headers"
    VERBATIM)
else()
  add_custom_target(docs
    COMMAND ${CMAKE_COMMAND} -E echo
            "actio: doxygen not found; install it (apt-get install doxygen, or ./actio docs)"
    COMMAND ${CMAKE_COMMAND} -E false
    VERBATIM)
endif()

function(actio_docs_test)
  if(ACTIO_DOXYGEN)
    add_test(NAME docs.doxygen
             COMMAND ${ACTIO_DOXYGEN} ${ACTIO_DOXYFILE}
             WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  else()
    add_test(NAME docs.doxygen
             COMMAND sh -c "echo 'docs.doxygen: SKIPPED: doxygen not found (apt-get install doxygen; ./actio test installs it)'; exit 77")
    set_tests_properties(docs.doxygen PROPERTIES SKIP_RETURN_CODE 77)
  endif()
  set_tests_properties(docs.doxygen PROPERTIES TIMEOUT 300 LABELS docs)
endfunction()
