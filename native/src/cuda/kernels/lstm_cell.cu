// The CUDA LSTM cell of the device scan: one thread per (row, hidden unit), grid-stride. Built by
// nvcc into a fatbin (cubins per architecture + PTX of the lowest) that CMake embeds in the C++
// library; cell_module.cpp loads it with the driver API. extern "C": the names are looked up by
// cuModuleGetFunction. The parameter list is the same for every type (cell_module.cpp passes it).
#include "lstm_cell.h"

namespace {

template <typename S>
__device__ void cell_loop(const S* gx, long long gx_stride, const S* gh, S* c, S* h,
                          long long h_stride, long long n, long long H) {
  const long long total = n * H;
  for (long long k = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; k < total;
       k += static_cast<long long>(gridDim.x) * blockDim.x) {
    lstm4j::kernels::cell_element<S>(k / H, k % H, H, gx, gx_stride, gh, c, h, h_stride);
  }
}

}  // namespace

#define LSTM4J_CELL_KERNEL(name, S)                                                              \
  extern "C" __global__ void __launch_bounds__(256)                                              \
      name(const S* gx, long long gx_stride, const S* gh, S* c, S* h, long long h_stride,         \
           long long n, long long H) {                                                           \
    cell_loop<S>(gx, gx_stride, gh, c, h, h_stride, n, H);                                       \
  }

LSTM4J_CELL_KERNEL(lstm4j_cell_f32, float)
LSTM4J_CELL_KERNEL(lstm4j_cell_f64, double)
LSTM4J_CELL_KERNEL(lstm4j_cell_bf16, __nv_bfloat16)
LSTM4J_CELL_KERNEL(lstm4j_cell_f16, __half)
