# Helpers that keep every folder's CMakeLists short and alike.

# -Wno-restrict: GCC 12.2 (Debian 12) reports false positives inside libstdc++ for any
# `"literal" + std::string` at -O2/-O3 (GCC bug 105329, fixed in 12.3); nothing in our code.
function(gwprobe_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow=local
                         $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>
                         $<$<BOOL:${GWPROBE_WERROR}>:-Werror>)
endfunction()

# gwprobe_library(NAME <target> SOURCES <files...> [PUBLIC_LIBS ...] [PRIVATE_LIBS ...])
# A static library whose headers are included as "folder/file.hpp" from the source root.
function(gwprobe_library)
  cmake_parse_arguments(ARG "" "NAME" "SOURCES;PUBLIC_LIBS;PRIVATE_LIBS" ${ARGN})
  add_library(${ARG_NAME} STATIC ${ARG_SOURCES})
  target_include_directories(${ARG_NAME} PUBLIC "${PROJECT_SOURCE_DIR}"
                             "${PROJECT_BINARY_DIR}/generated")
  target_link_libraries(${ARG_NAME} PUBLIC ${ARG_PUBLIC_LIBS} PRIVATE ${ARG_PRIVATE_LIBS})
  gwprobe_warnings(${ARG_NAME})
endfunction()

# gwprobe_opened_on_first_use(<target> <imported-target> <SONAME_MACRO> <soname>)
# <target> compiles against <imported-target>'s headers without linking it, and gets
# <SONAME_MACRO>="<soname>" to dlopen it with (core/shared_library.hpp).
function(gwprobe_opened_on_first_use target imported macro soname)
  target_include_directories(${target} SYSTEM PRIVATE
                             $<TARGET_PROPERTY:${imported},INTERFACE_INCLUDE_DIRECTORIES>)
  target_compile_definitions(${target} PRIVATE ${macro}="${soname}")
endfunction()

# gwprobe_sources(<out-var> <dir>): every .cpp under <dir> except *_test.cpp (tests sit beside
# the code) and *_bench.cpp. CONFIGURE_DEPENDS re-globs on build, so a new file needs no edit here.
function(gwprobe_sources out dir)
  file(GLOB_RECURSE all CONFIGURE_DEPENDS "${dir}/*.cpp")
  list(FILTER all EXCLUDE REGEX "_(test|bench)\\.cpp$")
  set(${out} ${all} PARENT_SCOPE)
endfunction()

# gwprobe_tests(NAME <exe> DIR <dir> LIBS <libs...> [LABELS ...] [EXTRA_SOURCES ...]
#               [INCLUDE <regex>] [EXCLUDE <regex>])
# One test executable per folder from every *_test.cpp under DIR; each GoogleTest case becomes
# a ctest test (discovered when ctest runs, so the build never executes test binaries).
# INCLUDE/EXCLUDE filter the file list, so one folder can split unit and integration binaries.
function(gwprobe_tests)
  cmake_parse_arguments(ARG "" "NAME;DIR;INCLUDE;EXCLUDE" "LIBS;LABELS;EXTRA_SOURCES" ${ARGN})
  if(NOT GWPROBE_BUILD_TESTS)
    return()
  endif()
  file(GLOB_RECURSE tests CONFIGURE_DEPENDS "${ARG_DIR}/*_test.cpp")
  if(ARG_INCLUDE)
    list(FILTER tests INCLUDE REGEX "${ARG_INCLUDE}")
  endif()
  if(ARG_EXCLUDE)
    list(FILTER tests EXCLUDE REGEX "${ARG_EXCLUDE}")
  endif()
  if(NOT tests)
    return()
  endif()
  add_executable(${ARG_NAME} ${tests} ${ARG_EXTRA_SOURCES})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_LIBS} GTest::gmock GTest::gtest_main
                        Threads::Threads)
  target_compile_definitions(${ARG_NAME} PRIVATE
    GWPROBE_SOURCE_DIR="${PROJECT_SOURCE_DIR}" GWPROBE_BINARY_DIR="${PROJECT_BINARY_DIR}")
  gwprobe_warnings(${ARG_NAME})
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  gtest_discover_tests(${ARG_NAME} DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60
                       PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT 120)
endfunction()
