# The libraries peerlite links, as imported targets. The build includes this file, and so does
# the installed package (peerliteConfig.cmake), so an app's find_package(peerlite) finds exactly
# what peerlite was built with. Where Debian ships no CMake config (CAF 0.17.6, libdeflate 1.14,
# sometimes simdjson), the targets are made here from the plain library and header.
include(CMakeFindDependencyMacro)
# In the installed package a missing dependency makes find_package(peerlite) fail politely
# (find_dependency); in peerlite's own build it stops the configure with CMake's message.
macro(_peerlite_dependency)
  if(CMAKE_FIND_PACKAGE_NAME STREQUAL "peerlite")
    find_dependency(${ARGV})
  else()
    find_package(${ARGV} REQUIRED)
  endif()
endmacro()
set(THREADS_PREFER_PTHREAD_FLAG ON)
_peerlite_dependency(Threads)
_peerlite_dependency(fmt)
_peerlite_dependency(SQLite3)
# libpq (stores shared by several hubs, store/pg.hpp): its header for peerlite's own build; the
# library is loaded at run time (store/libpq.hpp), so an app linking peerlite needs neither.
if(NOT CMAKE_FIND_PACKAGE_NAME STREQUAL "peerlite")
  find_package(PostgreSQL REQUIRED)
endif()
_peerlite_dependency(ZLIB)
_peerlite_dependency(OpenSSL COMPONENTS Crypto SSL)
_peerlite_dependency(nlohmann_json 3)

# GLOBAL: a parent project that adds peerlite with add_subdirectory links these through
# peerlite's targets, from directories outside this one.
if(NOT TARGET CAF::core)
  find_path(CAF_INCLUDE_DIR caf/all.hpp)
  find_library(CAF_CORE_LIBRARY NAMES caf_core)
  find_library(CAF_IO_LIBRARY NAMES caf_io)
  if(NOT CAF_INCLUDE_DIR OR NOT CAF_CORE_LIBRARY OR NOT CAF_IO_LIBRARY)
    message(FATAL_ERROR "peerlite needs the C++ Actor Framework 0.17 (Debian: apt-get install libcaf-dev)")
  endif()
  add_library(CAF::core SHARED IMPORTED GLOBAL)
  set_target_properties(CAF::core PROPERTIES IMPORTED_LOCATION "${CAF_CORE_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}" INTERFACE_LINK_LIBRARIES Threads::Threads)
  add_library(CAF::io SHARED IMPORTED GLOBAL)
  set_target_properties(CAF::io PROPERTIES IMPORTED_LOCATION "${CAF_IO_LIBRARY}"
    INTERFACE_LINK_LIBRARIES CAF::core)
endif()

# libdeflate: the BLIP running CRC32.
if(NOT TARGET libdeflate::libdeflate)
  find_path(LIBDEFLATE_INCLUDE_DIR libdeflate.h)
  find_library(LIBDEFLATE_LIBRARY NAMES deflate)
  if(NOT LIBDEFLATE_INCLUDE_DIR OR NOT LIBDEFLATE_LIBRARY)
    message(FATAL_ERROR "peerlite needs libdeflate (Debian: apt-get install libdeflate-dev)")
  endif()
  add_library(libdeflate::libdeflate SHARED IMPORTED GLOBAL)
  set_target_properties(libdeflate::libdeflate PROPERTIES IMPORTED_LOCATION "${LIBDEFLATE_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${LIBDEFLATE_INCLUDE_DIR}")
endif()

# simdjson: Debian ships a CMake config; fall back to the plain library.
if(NOT TARGET simdjson::simdjson)
  find_package(simdjson QUIET)
endif()
if(NOT TARGET simdjson::simdjson)
  find_library(SIMDJSON_LIBRARY NAMES simdjson)
  if(NOT SIMDJSON_LIBRARY)
    message(FATAL_ERROR "peerlite needs simdjson (Debian: apt-get install libsimdjson-dev)")
  endif()
  add_library(simdjson::simdjson SHARED IMPORTED GLOBAL)
  set_target_properties(simdjson::simdjson PROPERTIES IMPORTED_LOCATION "${SIMDJSON_LIBRARY}")
endif()
