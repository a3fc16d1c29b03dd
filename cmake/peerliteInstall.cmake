# Installing peerlite as a library: `cmake --install build --prefix P` puts
#   P/include/peerlite/*.hpp                 the public headers
#   P/lib/libpeerlite*.a                     the engine (peerlite::peerlite) and the network
#                                            transports and hub (peerlite::net)
#   P/lib/cmake/peerlite/                    peerliteConfig.cmake, its version file, the targets
#   P/lib/pkgconfig/peerlite.pc              for pkg-config users
#   P/bin/peerlite                           the command (with PEERLITE_BUILD_TOOLS)
# and `cpack -G DEB` (in the build directory) packs the same files as peerlite_VERSION_ARCH.deb.
include(CMakePackageConfigHelpers)

set(PEERLITE_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/peerlite")
# Imported names: peerlite::peerlite (engine) and peerlite::net (hub, URL endpoints); the
# layers below them come along as peerlite::store, ::protocol and ::net_io.
set_target_properties(peerlite_store PROPERTIES EXPORT_NAME store)
set_target_properties(peerlite_protocol PROPERTIES EXPORT_NAME protocol)
set_target_properties(peerlite_net_io PROPERTIES EXPORT_NAME net_io)
set_target_properties(peerlite_adapters PROPERTIES EXPORT_NAME net)
install(TARGETS peerlite peerlite_store peerlite_protocol peerlite_net_io peerlite_adapters
  EXPORT peerliteTargets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/peerlite"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}" FILES_MATCHING PATTERN "*.hpp")
install(EXPORT peerliteTargets NAMESPACE peerlite:: DESTINATION "${PEERLITE_CMAKE_DIR}")

configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/peerliteConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/peerliteConfig.cmake" INSTALL_DESTINATION "${PEERLITE_CMAKE_DIR}")
# 0.x: a minor version may change the API, so only the same minor version is compatible.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/peerliteConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/peerliteConfig.cmake"
  "${PROJECT_BINARY_DIR}/peerliteConfigVersion.cmake"
  "${PROJECT_SOURCE_DIR}/cmake/peerliteDependencies.cmake"
  DESTINATION "${PEERLITE_CMAKE_DIR}")

# pkg-config: the prefix is found from the .pc file's own place, so the tree can move.
file(RELATIVE_PATH PEERLITE_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
string(REGEX REPLACE "/$" "" PEERLITE_PC_TO_PREFIX "${PEERLITE_PC_TO_PREFIX}")
configure_file("${PROJECT_SOURCE_DIR}/cmake/peerlite.pc.in" "${PROJECT_BINARY_DIR}/peerlite.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/peerlite.pc" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")

if(TARGET peerlite_cli)
  install(TARGETS peerlite_cli RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
endif()
# The API reference, when the build made it (Doxygen installed).
install(DIRECTORY "${PROJECT_BINARY_DIR}/docs/html/" DESTINATION "${CMAKE_INSTALL_DOCDIR}/html"
  OPTIONAL)

# The Debian package. Its dependencies are the Debian packages peerlite builds against (an app
# that links the static libraries needs their headers and libraries too), plus what
# dpkg-shlibdeps finds the command needs at run time.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME peerlite)
set(CPACK_PACKAGE_VENDOR peerlite)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DESCRIPTION
  "peerlite replicates document databases between peers with Couchbase Lite's protocol
 (BLIP 3, replication protocol v3). This package holds the headers and static libraries
 for embedding it (CMake package and pkg-config file) and the peerlite command.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "peerlite developers <peerlite@localhost>")
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_PACKAGE_DEPENDS
  "libcaf-dev (>= 0.17.6), libfmt-dev, libsqlite3-dev, libssl-dev, zlib1g-dev, libdeflate-dev, libsimdjson-dev, nlohmann-json3-dev, libpq5")
# libpq5: loaded at run time for postgresql:// databases (store/libpq.hpp), so dpkg-shlibdeps
# cannot see it.
find_program(PEERLITE_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(PEERLITE_DPKG_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
endif()
include(CPack)
