# Locates LibTorch's shared libraries (no headers: we only use its stable C ABI) and defines
#   lstm4j::libtorch  - imported target linking libtorch_cpu and libc10
#   LSTM4J_RUNTIME_LIBRARY_PATH - folders an executable needs on LD_LIBRARY_PATH
# Inputs: LSTM4J_LIBTORCH_LIB_DIR (folder with libtorch_cpu.so, e.g. the unpacked
# org/bytedeco/pytorch/linux-x86_64 of the presets' natives jar, or a pip torch's torch/lib),
# LSTM4J_OPENBLAS_LIB_DIR (optional: libopenblas.so.0 that the presets' libtorch_cpu needs).
# Used by lstm4j's own build and, installed, by lstm4jConfig.cmake.
set(LSTM4J_LIBTORCH_LIB_DIR "" CACHE PATH "Folder holding libtorch_cpu.so and libc10.so")
set(LSTM4J_OPENBLAS_LIB_DIR "" CACHE PATH "Folder holding libopenblas.so.0 (presets build)")

find_library(LSTM4J_TORCH_CPU_LIBRARY NAMES torch_cpu PATHS "${LSTM4J_LIBTORCH_LIB_DIR}"
  NO_DEFAULT_PATH)
find_library(LSTM4J_C10_LIBRARY NAMES c10 PATHS "${LSTM4J_LIBTORCH_LIB_DIR}" NO_DEFAULT_PATH)
if(NOT LSTM4J_TORCH_CPU_LIBRARY OR NOT LSTM4J_C10_LIBRARY)
  message(FATAL_ERROR "libtorch_cpu.so / libc10.so not found in LSTM4J_LIBTORCH_LIB_DIR="
    "'${LSTM4J_LIBTORCH_LIB_DIR}'. Build through Maven (it unpacks the presets' natives) or "
    "point it at a LibTorch lib folder.")
endif()

if(NOT TARGET lstm4j::libtorch)
  add_library(lstm4j::libtorch INTERFACE IMPORTED)
  set_property(TARGET lstm4j::libtorch PROPERTY INTERFACE_LINK_LIBRARIES
    "${LSTM4J_TORCH_CPU_LIBRARY}" "${LSTM4J_C10_LIBRARY}")
  if(LSTM4J_OPENBLAS_LIB_DIR)
    # libtorch_cpu from the presets needs libopenblas.so.0 from another jar: resolve it at link
    # time for our executables, and at run time through LD_LIBRARY_PATH or the rpath below.
    set_property(TARGET lstm4j::libtorch APPEND PROPERTY INTERFACE_LINK_OPTIONS
      "-Wl,-rpath-link,${LSTM4J_OPENBLAS_LIB_DIR}")
  endif()
endif()

set(LSTM4J_RUNTIME_LIBRARY_PATH "${LSTM4J_LIBTORCH_LIB_DIR}")
if(LSTM4J_OPENBLAS_LIB_DIR)
  list(APPEND LSTM4J_RUNTIME_LIBRARY_PATH "${LSTM4J_OPENBLAS_LIB_DIR}")
endif()
string(REPLACE ";" ":" LSTM4J_RUNTIME_LIBRARY_PATH "${LSTM4J_RUNTIME_LIBRARY_PATH}")
