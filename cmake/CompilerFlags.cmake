# Warnings, hardening and sanitizers, in one place (after Falco's CompilerFlags.cmake).
add_library(scangate_flags INTERFACE)
target_compile_options(scangate_flags INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow=local -Wnon-virtual-dtor -Wcast-align
  -Wno-missing-field-initializers
  -fstack-protector-strong -D_GLIBCXX_ASSERTIONS)
if(NOT CMAKE_BUILD_TYPE STREQUAL "Debug")
  target_compile_definitions(scangate_flags INTERFACE _FORTIFY_SOURCE=2)
endif()
target_link_options(scangate_flags INTERFACE -Wl,-z,relro,-z,now)
if(SCANGATE_WERROR)
  target_compile_options(scangate_flags INTERFACE -Werror)
endif()
if(SCANGATE_SANITIZE)
  # GCC 12 reports false maybe-uninitialized warnings inside <regex> under ASan.
  target_compile_options(scangate_flags INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
    -fno-sanitize-recover=undefined -Wno-maybe-uninitialized)
  target_link_options(scangate_flags INTERFACE -fsanitize=address,undefined)
endif()
