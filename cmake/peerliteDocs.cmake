# The API reference: Doxygen over the public headers (include/peerlite), into
# BUILD/docs/html/index.html. At the top level with Doxygen installed it is part of the
# build, rerun when a public header changes, and it warns on every undocumented public
# declaration (tests/install's api_reference case fails on one). `cmake --build build
# --target docs` makes it alone.
if(NOT PEERLITE_TOP_LEVEL)
  return()  # a parent project's own `docs` target keeps its name
endif()
find_package(Doxygen QUIET)
file(GLOB PEERLITE_PUBLIC_HEADERS CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/include/peerlite/*.hpp")
set(PEERLITE_DOXYFILE "${PROJECT_BINARY_DIR}/Doxyfile")
configure_file("${PROJECT_SOURCE_DIR}/cmake/Doxyfile.in" "${PEERLITE_DOXYFILE}" @ONLY)
if(DOXYGEN_FOUND)
  add_custom_command(OUTPUT "${PROJECT_BINARY_DIR}/docs/html/index.html"
    COMMAND Doxygen::doxygen "${PEERLITE_DOXYFILE}"
    DEPENDS ${PEERLITE_PUBLIC_HEADERS} "${PEERLITE_DOXYFILE}"
    WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
    COMMENT "API reference: ${PROJECT_BINARY_DIR}/docs/html/index.html" VERBATIM)
  if(NOT PEERLITE_PROTOCOL_ONLY)
    add_custom_target(docs ALL DEPENDS "${PROJECT_BINARY_DIR}/docs/html/index.html")
  else()
    add_custom_target(docs DEPENDS "${PROJECT_BINARY_DIR}/docs/html/index.html")
  endif()
else()
  add_custom_target(docs
    COMMAND ${CMAKE_COMMAND} -E echo "docs: Doxygen is not installed (apt-get install doxygen)"
    COMMAND ${CMAKE_COMMAND} -E false VERBATIM)
endif()
