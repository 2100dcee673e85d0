# ccache when present (two cores: rebuilds must be cheap); sanitizer flags from GWPROBE_SANITIZE.
find_program(GWPROBE_CCACHE ccache)
if(GWPROBE_CCACHE)
  set(CMAKE_C_COMPILER_LAUNCHER "${GWPROBE_CCACHE}")
  set(CMAKE_CXX_COMPILER_LAUNCHER "${GWPROBE_CCACHE}")
endif()

if(GWPROBE_SANITIZE)
  add_compile_options(-fsanitize=${GWPROBE_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${GWPROBE_SANITIZE})
  add_compile_definitions(GWPROBE_SANITIZED=1)
endif()
