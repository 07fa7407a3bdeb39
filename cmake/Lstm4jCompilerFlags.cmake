# Warnings and optimisation shared by every lstm4j target. The library ships in a jar to any
# x86-64 machine, so no -march=native here.
function(lstm4j_set_compiler_flags target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-unused-parameter
      $<$<CONFIG:Release>:-O3>)
  endif()
endfunction()
