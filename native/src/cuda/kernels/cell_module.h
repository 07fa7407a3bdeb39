// The CUDA cell kernel (lstm_cell.cu), embedded in this library as a fatbin at build time and
// loaded through the CUDA driver API, which is opened with dlopen("libcuda.so.1") at the first CUDA
// use: the library keeps no link dependency on CUDA (a CPU machine never loads any of it). One
// module per device, in the device's primary context (the one LibTorch's runtime uses).
#pragma once

#include <cstdint>
#include <string>

namespace lstm4j::kernels {

// Element type of a launch: the order of lstm4j::Dtype (float32, float64, bfloat16, float16).
enum class CellType : int32_t { kF32 = 0, kF64 = 1, kBF16 = 2, kF16 = 3 };

// Whether this build embeds the kernel (nvcc was found when it was built), and for which targets
// ("sm_80 sm_86 ... + compute_80 PTX, nvcc 13.0"), or why not.
bool cell_kernel_embedded();
std::string cell_kernel_build_info();

// Loads the module on CUDA device `device` once (thread-safe); later calls return the first
// answer. Empty when the kernel can run there; otherwise why not, naming every dlerror() and
// CUresult on the way (e.g. a driver too old for the embedded PTX).
std::string load_cell_kernel(int32_t device);

// One launch on `stream` (a cudaStream_t / CUstream, LibTorch's current stream) of device `device`,
// whose module load_cell_kernel reported ready. Arguments as kernels::cell_element. Throws
// lstm4j::Error naming the CUresult when the launch fails.
void launch_cell_kernel(int32_t device, void* stream, CellType type, const void* gx,
                        int64_t gx_stride, const void* gh, void* c, void* h, int64_t h_stride,
                        int64_t n, int64_t hidden);

}  // namespace lstm4j::kernels
