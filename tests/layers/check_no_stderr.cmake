# check_no_stderr.cmake -- fail when the library writes to stderr or stdout
# itself.
#
#   cmake -DROOT=<source tree> -P check_no_stderr.cmake
#
# The library's diagnostics go through actio::log (drivers/log.hpp), which
# the program configures; a direct std::cerr, std::clog, printf to stderr
# or perror in drivers/, actors/, net/, io/, proto/ or http/ bypasses it. Standard
# output belongs to the program: std::cout, printf, puts, putchar, a
# FILE* write to stdout, CAF's aout or print_and_drop (which prints an
# unexpected message to stdout) are refused too; a program hands the
# library a stream when it wants output (serve_options::out). Comment
# lines are skipped. actors/cli/ is exempt: it is the tools' user-facing
# output (usage errors, "Try ... --help"), by the coreutils conventions.
# Run by CTest as layers.no_stderr_in_library; layers.catches_stderr runs
# it on the fixture bad_stderr/, which must fail.
cmake_minimum_required(VERSION 3.25)

include(${CMAKE_CURRENT_LIST_DIR}/source_check.cmake)

set(violations "")
set(checked 0)
foreach(layer IN ITEMS drivers actors net io proto http)
  source_files(files ${layer})
  foreach(f IN LISTS files)
    if(f MATCHES "^actors/cli/")
      continue()
    endif()
    math(EXPR checked "${checked} + 1")
    file(STRINGS "${ROOT}/${f}" hits
         REGEX "std::cerr|std::clog|[(,][ \t]*stderr[ \t]*[,)]|perror[ \t]*\\(")
    foreach(line IN LISTS hits)
      if(NOT line MATCHES "^[ \t]*//")
        string(STRIP "${line}" line)
        string(APPEND violations "  ${f} writes to stderr: ${line}\n")
      endif()
    endforeach()
    file(STRINGS "${ROOT}/${f}" hits
         REGEX "std::cout|(^|[^a-z_])(printf|puts|putchar|aout)[ \t]*\\(|[(,][ \t]*stdout[ \t]*[,)]|print_and_drop")
    foreach(line IN LISTS hits)
      if(NOT line MATCHES "^[ \t]*//")
        string(STRIP "${line}" line)
        string(APPEND violations "  ${f} writes to stdout: ${line}\n")
      endif()
    endforeach()
  endforeach()
endforeach()

report_check(check_no_stderr "use actio::log instead"
  "none writes to stderr or stdout")
