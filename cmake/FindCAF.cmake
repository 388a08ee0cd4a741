# FindCAF.cmake -- locate the C++ Actor Framework (CAF 0.17.x) when it ships
# without a CMake package config (e.g. Debian's libcaf-dev).
#
# Usage:
#   find_package(CAF [version] [REQUIRED] [COMPONENTS core io openssl])
#
# Components: core, io, openssl. With no COMPONENTS, all three are searched;
# core and io are then required, openssl is optional.
#
# Imported targets:
#   CAF::core     libcaf_core (+ Threads::Threads)
#   CAF::io       libcaf_io (+ CAF::core)
#   CAF::openssl  libcaf_openssl (+ CAF::io, OpenSSL::SSL); only if OpenSSL
#                 is found as well
#
# Result variables:
#   CAF_FOUND, CAF_VERSION, CAF_INCLUDE_DIRS, CAF_LIBRARIES,
#   CAF_<comp>_FOUND, CAF_<comp>_LIBRARY
#
# Hints: CAF_ROOT (CMake >= 3.12 policy CMP0074) or CMAKE_PREFIX_PATH.
#
# The include directory is attached to IMPORTED targets and additionally
# listed in INTERFACE_SYSTEM_INCLUDE_DIRECTORIES, so consumers see CAF headers
# as system headers (-isystem) and -Werror on project code is not tripped by
# warnings inside CAF.

include(FindPackageHandleStandardArgs)

set(_caf_all_components core io openssl)
if(CAF_FIND_COMPONENTS)
  set(_caf_components ${CAF_FIND_COMPONENTS})
  # Dependencies between components: openssl -> io -> core.
  if("openssl" IN_LIST _caf_components)
    list(APPEND _caf_components io core)
  elseif("io" IN_LIST _caf_components)
    list(APPEND _caf_components core)
  endif()
  list(REMOVE_DUPLICATES _caf_components)
  foreach(_caf_comp IN LISTS _caf_components)
    if(NOT _caf_comp IN_LIST _caf_all_components)
      message(FATAL_ERROR "FindCAF: unknown component '${_caf_comp}' "
                          "(known: ${_caf_all_components})")
    endif()
  endforeach()
else()
  set(_caf_components ${_caf_all_components})
  # Without explicit components: core and io required, openssl optional.
  set(CAF_FIND_REQUIRED_core TRUE)
  set(CAF_FIND_REQUIRED_io TRUE)
endif()

# --- headers + version -------------------------------------------------------
find_path(CAF_INCLUDE_DIR NAMES caf/config.hpp
          DOC "Directory containing caf/config.hpp")
mark_as_advanced(CAF_INCLUDE_DIR)

unset(CAF_VERSION)
if(CAF_INCLUDE_DIR AND EXISTS "${CAF_INCLUDE_DIR}/caf/config.hpp")
  file(STRINGS "${CAF_INCLUDE_DIR}/caf/config.hpp" _caf_version_line
       REGEX "^#[ \t]*define[ \t]+CAF_VERSION[ \t]+[0-9]+")
  if(_caf_version_line MATCHES "CAF_VERSION[ \t]+([0-9]+)")
    # CAF_VERSION = major * 10000 + minor * 100 + patch, e.g. 1706 = 0.17.6
    set(_caf_v ${CMAKE_MATCH_1})
    math(EXPR CAF_VERSION_MAJOR "${_caf_v} / 10000")
    math(EXPR CAF_VERSION_MINOR "(${_caf_v} / 100) % 100")
    math(EXPR CAF_VERSION_PATCH "${_caf_v} % 100")
    set(CAF_VERSION
        "${CAF_VERSION_MAJOR}.${CAF_VERSION_MINOR}.${CAF_VERSION_PATCH}")
  endif()
  unset(_caf_version_line)
  unset(_caf_v)
endif()

# --- libraries -----------------------------------------------------------------
foreach(_caf_comp IN LISTS _caf_components)
  find_library(CAF_${_caf_comp}_LIBRARY NAMES caf_${_caf_comp}
               DOC "Path to libcaf_${_caf_comp}")
  mark_as_advanced(CAF_${_caf_comp}_LIBRARY)
  if(CAF_${_caf_comp}_LIBRARY AND CAF_INCLUDE_DIR)
    set(CAF_${_caf_comp}_FOUND TRUE)
  else()
    set(CAF_${_caf_comp}_FOUND FALSE)
  endif()
endforeach()

# Threads for core; OpenSSL for the openssl component (quietly: a missing
# OpenSSL only means no CAF::openssl).
if(CAF_core_FOUND)
  find_package(Threads QUIET)
  if(NOT Threads_FOUND)
    set(CAF_core_FOUND FALSE)
  endif()
endif()
if(CAF_openssl_FOUND)
  find_package(OpenSSL QUIET)
  if(NOT OpenSSL_FOUND OR NOT TARGET OpenSSL::SSL)
    set(CAF_openssl_FOUND FALSE)
  endif()
endif()
# A component is unusable without the ones it depends on.
if(NOT CAF_core_FOUND)
  set(CAF_io_FOUND FALSE)
endif()
if(NOT CAF_io_FOUND)
  set(CAF_openssl_FOUND FALSE)
endif()

set(_caf_required_vars CAF_INCLUDE_DIR)
if(NOT CAF_FIND_COMPONENTS)
  list(APPEND _caf_required_vars CAF_core_LIBRARY CAF_io_LIBRARY)
endif()
find_package_handle_standard_args(CAF
  REQUIRED_VARS ${_caf_required_vars}
  VERSION_VAR CAF_VERSION
  HANDLE_COMPONENTS)

# --- imported targets -----------------------------------------------------------
if(CAF_FOUND)
  set(CAF_INCLUDE_DIRS ${CAF_INCLUDE_DIR})
  set(CAF_LIBRARIES)

  macro(_caf_add_target comp)
    if(CAF_${comp}_FOUND AND NOT TARGET CAF::${comp})
      add_library(CAF::${comp} UNKNOWN IMPORTED)
      set_target_properties(CAF::${comp} PROPERTIES
        IMPORTED_LOCATION "${CAF_${comp}_LIBRARY}"
        IMPORTED_LINK_INTERFACE_LANGUAGES CXX
        INTERFACE_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}"
        INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}"
        INTERFACE_LINK_LIBRARIES "${ARGN}")
    endif()
    if(CAF_${comp}_FOUND)
      list(APPEND CAF_LIBRARIES ${CAF_${comp}_LIBRARY})
    endif()
  endmacro()

  _caf_add_target(core Threads::Threads)
  _caf_add_target(io CAF::core)
  _caf_add_target(openssl CAF::io OpenSSL::SSL)
endif()

unset(_caf_comp)
unset(_caf_required_vars)
unset(_caf_components)
unset(_caf_all_components)
