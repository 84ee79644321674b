# folio_layer(NAME DIR [DEPS ...]): a static library from every .cpp in DIR (not recursive),
# so adding a file to a layer needs no CMake edit. EXCLUDE names files of DIR that another
# library builds (e.g. the pure text files of folio_text_core).
function(folio_layer name dir)
  cmake_parse_arguments(L "" "" "DEPS;SOURCES_EXTRA;EXCLUDE" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${dir}/*.cpp)
  foreach(f ${L_EXCLUDE})
    list(REMOVE_ITEM srcs ${CMAKE_CURRENT_SOURCE_DIR}/${dir}/${f})
  endforeach()
  list(APPEND srcs ${L_SOURCES_EXTRA})
  if(NOT srcs)  # a layer whose files have not been written yet still links
    set(srcs ${PROJECT_SOURCE_DIR}/cmake/empty.cpp)
  endif()
  add_library(${name} STATIC ${srcs})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${L_DEPS})
  target_compile_options(${name} PRIVATE -Wall -Wextra -Wno-unused-parameter)
endfunction()
