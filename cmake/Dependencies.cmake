# Every external dependency, found once. The README's dependency table says why each is here.
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(OpenSSL 3 REQUIRED)           # TLS probe, relay TLS, SAS HMAC, credential encryption
find_package(CURL REQUIRED)                # proxy traversal with Basic/NTLM/Negotiate
find_package(fmt REQUIRED)                 # formatting in reports and messages
find_package(nlohmann_json 3.10 REQUIRED)  # JSON report, relay protocol messages
find_package(CLI11 REQUIRED)               # command line
find_package(tomlplusplus REQUIRED)        # profiles
find_package(Boost 1.74 REQUIRED)          # Asio/Beast: relay, agent, WebSocket probe
find_package(SQLite3 REQUIRED)             # embedded data source
pkg_check_modules(CARES REQUIRED IMPORTED_TARGET libcares)   # DNS probe
pkg_check_modules(PCAP REQUIRED IMPORTED_TARGET libpcap)     # capture on failure
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)      # PostgreSQL data source
if(GWPROBE_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
