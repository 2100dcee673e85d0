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
  if(GWPROBE_SANITIZE MATCHES "thread")
    # GCC 12 warns that std::atomic_thread_fence (Asio's std_fenced_block) is not instrumented
    # by TSan; with -Werror that would fail every Asio/Beast translation unit.
    add_compile_options(-Wno-tsan)
  endif()
endif()
