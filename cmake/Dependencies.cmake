# Every external dependency, found once. The README's dependency table says why each is here.
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(OpenSSL 3 REQUIRED)           # TLS probe, relay TLS, SAS HMAC, credential encryption
find_package(CURL REQUIRED)                # proxy traversal with Basic/NTLM/Negotiate (opened on use)
find_package(fmt REQUIRED)                 # formatting in reports and messages
find_package(nlohmann_json 3.10 REQUIRED)  # JSON report, relay protocol messages
find_package(CLI11 REQUIRED)               # command line
find_package(tomlplusplus REQUIRED)        # profiles
find_package(Boost 1.74 REQUIRED)          # Asio/Beast: relay, agent, WebSocket probe
find_package(SQLite3 REQUIRED)             # embedded data source
pkg_check_modules(CARES REQUIRED IMPORTED_TARGET libcares)   # DNS probe
pkg_check_modules(PCAP REQUIRED IMPORTED_TARGET libpcap)     # capture on failure (opened on use)
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)      # PostgreSQL source (opened on use)

# libcurl, libpq and libpcap are opened on first use (core/shared_library.hpp), not linked: the
# code compiles against their headers, and dlopen asks for the soname of the very library found
# here (Debian's libpcap is libpcap.so.0.8, upstream's libpcap.so.1), read from its ELF header.
find_program(GWPROBE_OBJDUMP NAMES objdump HINTS "${CMAKE_OBJDUMP}" REQUIRED)
function(gwprobe_find_soname out name)
  find_library(GWPROBE_LIB_${name} NAMES ${name} REQUIRED)
  execute_process(COMMAND "${GWPROBE_OBJDUMP}" -p "${GWPROBE_LIB_${name}}"
                  OUTPUT_VARIABLE dump RESULT_VARIABLE rc ERROR_QUIET)
  string(REGEX MATCH "SONAME +([^ \n]+)" found "${dump}")
  if(NOT rc EQUAL 0 OR NOT CMAKE_MATCH_1)
    message(FATAL_ERROR "cannot read the soname of ${GWPROBE_LIB_${name}} (objdump -p)")
  endif()
  set(${out} "${CMAKE_MATCH_1}" PARENT_SCOPE)
  message(STATUS "lib${name}: ${CMAKE_MATCH_1}, opened on first use")
endfunction()
gwprobe_find_soname(GWPROBE_LIBCURL_SONAME curl)
gwprobe_find_soname(GWPROBE_LIBPQ_SONAME pq)
gwprobe_find_soname(GWPROBE_LIBPCAP_SONAME pcap)

if(GWPROBE_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
