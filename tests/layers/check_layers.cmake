# check_layers.cmake -- fail when a file includes a higher layer.
#
#   cmake -DROOT=<source tree> -P check_layers.cmake
#
# The layers, bottom up: drivers -> actors -> net -> io -> proto (the node
# layer) -> http -> examples. A file under <layer>/ (any depth) may include
# "actio/<other>/..." only when <other> is its own layer or a lower one. A
# public header (<layer>/*.hpp, installed) may not include a detail/ header
# (not installed). Run by CTest as layers.include_order; layers.catches_*
# run it on the fixtures next to this file, which must fail.
cmake_minimum_required(VERSION 3.25)

include(${CMAKE_CURRENT_LIST_DIR}/source_check.cmake)

set(layers drivers actors net io proto http examples)
set(violations "")
set(checked 0)
foreach(layer IN LISTS layers)
  list(FIND layers ${layer} rank)
  source_files(files ${layer})
  foreach(f IN LISTS files)
    math(EXPR checked "${checked} + 1")
    file(STRINGS "${ROOT}/${f}" includes
         REGEX "^[ \t]*#[ \t]*include[ \t]*\"actio/[a-z_]+/")
    string(REGEX MATCH "^${layer}/[^/]+\\.hpp$" public_header "${f}")
    foreach(line IN LISTS includes)
      string(REGEX REPLACE "^[^\"]*\"(actio/[^\"]*)\".*$" "\\1" target "${line}")
      string(REGEX REPLACE "^actio/([a-z_]+)/.*$" "\\1" to "${target}")
      list(FIND layers ${to} to_rank)
      if(to_rank GREATER rank)
        string(APPEND violations "  ${f} includes a higher layer: ${target}\n")
      elseif(public_header AND target MATCHES "/detail/")
        string(APPEND violations "  ${f} is installed but includes a detail header: ${target}\n")
      endif()
    endforeach()
  endforeach()
endforeach()

report_check(check_layers
  "include order violated (drivers -> actors -> net -> io -> proto -> http -> examples)"
  "includes point down")
