# ActioKqueue.cmake -- where the kqueue backend gets <sys/event.h> and
# kevent() from (see ACTIO_KQUEUE / ACTIO_KQUEUE_PREFIX in the top-level
# CMakeLists.txt).
#
# actio_find_kqueue(<prefix>) sets, in the caller's scope:
#   ACTIO_KQUEUE_FOUND        TRUE when usable
#   ACTIO_KQUEUE_HOW          how it was found, for the configure message
#   ACTIO_KQUEUE_INCLUDE_DIR  directory holding sys/event.h ("" when native)
#   ACTIO_KQUEUE_LIBRARY      library to link ("" when native: in libc)
# Order: the prefix when one is given (and nothing else then), else the
# platform's own <sys/event.h> (BSD, macOS), else pkg-config `libkqueue`
# (PKG_CONFIG_PATH, CMAKE_PREFIX_PATH).
#
# actio_kqueue_target(<include_dir> <library>) creates the imported target
# actio_deps::kqueue carrying them (also used by actioConfig.cmake).

include(CheckSymbolExists)

function(actio_find_kqueue prefix)
  set(found FALSE)
  set(how "")
  set(inc "")
  set(lib "")
  if(NOT prefix STREQUAL "")
    find_path(_actio_kq_inc sys/event.h NO_CACHE NO_DEFAULT_PATH
              PATHS "${prefix}/include/kqueue" "${prefix}/include")
    find_library(_actio_kq_lib NAMES kqueue NO_CACHE NO_DEFAULT_PATH
                 PATHS "${prefix}/lib" "${prefix}/lib64"
                       "${prefix}/lib/${CMAKE_LIBRARY_ARCHITECTURE}")
    if(_actio_kq_inc AND _actio_kq_lib)
      set(found TRUE)
      set(inc "${_actio_kq_inc}")
      set(lib "${_actio_kq_lib}")
      set(how "libkqueue in ACTIO_KQUEUE_PREFIX: ${lib}")
    else()
      string(CONCAT how "ACTIO_KQUEUE_PREFIX=${prefix} holds no "
             "include/kqueue/sys/event.h (or include/sys/event.h) with lib/libkqueue")
    endif()
  else()
    check_symbol_exists(kqueue "sys/types.h;sys/event.h" ACTIO_KQUEUE_NATIVE)
    if(ACTIO_KQUEUE_NATIVE)
      set(found TRUE)
      set(how "native <sys/event.h>")
    else()
      find_package(PkgConfig QUIET)
      if(PKG_CONFIG_FOUND)
        pkg_check_modules(ACTIO_LIBKQUEUE QUIET libkqueue)
      endif()
      if(ACTIO_LIBKQUEUE_FOUND)
        find_path(_actio_kq_inc sys/event.h NO_CACHE NO_DEFAULT_PATH
                  PATHS ${ACTIO_LIBKQUEUE_INCLUDE_DIRS})
        list(GET ACTIO_LIBKQUEUE_LINK_LIBRARIES 0 _actio_kq_lib)
        if(_actio_kq_inc AND _actio_kq_lib)
          set(found TRUE)
          set(inc "${_actio_kq_inc}")
          set(lib "${_actio_kq_lib}")
          set(how "libkqueue ${ACTIO_LIBKQUEUE_VERSION} via pkg-config: ${lib}")
        endif()
      endif()
      if(NOT found)
        set(how "no <sys/event.h> / libkqueue found; set ACTIO_KQUEUE_PREFIX")
      endif()
    endif()
  endif()
  set(ACTIO_KQUEUE_FOUND ${found} PARENT_SCOPE)
  set(ACTIO_KQUEUE_HOW "${how}" PARENT_SCOPE)
  set(ACTIO_KQUEUE_INCLUDE_DIR "${inc}" PARENT_SCOPE)
  set(ACTIO_KQUEUE_LIBRARY "${lib}" PARENT_SCOPE)
endfunction()

function(actio_kqueue_target inc lib)
  if(TARGET actio_deps::kqueue)
    return()
  endif()
  add_library(actio_deps::kqueue INTERFACE IMPORTED)
  if(NOT inc STREQUAL "")
    set_target_properties(actio_deps::kqueue PROPERTIES
      INTERFACE_INCLUDE_DIRECTORIES "${inc}")
  endif()
  if(NOT lib STREQUAL "")
    set_target_properties(actio_deps::kqueue PROPERTIES
      INTERFACE_LINK_LIBRARIES "${lib}")
  endif()
endfunction()
