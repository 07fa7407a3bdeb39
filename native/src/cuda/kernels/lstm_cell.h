// The LSTM cell, one element (batch row b, hidden unit j) at a time: the math of PyTorch's CUDA
// lstm_cell_forward (aten/src/ATen/native/cuda/RNN.cu): 16-bit values are widened to float
// (accscalar_t), the pre-activation is input gates + hidden gates summed in that type, sigmoid is
// 1 / (1 + exp(-x)), then c' = (f * c) + (i * g) and h = o * tanh(c'), each rounded back once.
// Plain C++ usable as __host__ __device__: nvcc builds the CUDA kernel (lstm_cell.cu) from it, and
// the C++ tests run the very same function on the CPU (cell_rows_host) against the CPU cell.
//
// Differences from _thnn_fused_lstm_cell: both biases are already in the input gates (the fused
// cell adds two zero biases, which changes no value, at most the sign of a zero), a null hidden
// gates means zero (the first step of a zero state), no workspace is written, h goes straight into
// its (strided) output rows and c is updated in place.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#define LSTM4J_HD __host__ __device__
#else
#include <cmath>
#define LSTM4J_HD
#endif

namespace lstm4j::kernels {

// exp and tanh in the accumulation type: CUDA's expf/tanhf (exp/tanh for double) on the device,
// as PyTorch's ::exp/::tanh resolve there; libm on the host.
LSTM4J_HD inline float acc_exp(float x) {
#if defined(__CUDA_ARCH__)
  return ::expf(x);
#else
  return std::exp(x);
#endif
}
LSTM4J_HD inline double acc_exp(double x) {
#if defined(__CUDA_ARCH__)
  return ::exp(x);
#else
  return std::exp(x);
#endif
}
LSTM4J_HD inline float acc_tanh(float x) {
#if defined(__CUDA_ARCH__)
  return ::tanhf(x);
#else
  return std::tanh(x);
#endif
}
LSTM4J_HD inline double acc_tanh(double x) {
#if defined(__CUDA_ARCH__)
  return ::tanh(x);
#else
  return std::tanh(x);
#endif
}

// The accumulation type of a storage type (at::acc_type<scalar_t, true>): float for the 16-bit
// types and float, double for double.
template <typename S>
struct Acc {
  using type = float;
};
template <>
struct Acc<double> {
  using type = double;
};

LSTM4J_HD inline float to_acc(float v) { return v; }
LSTM4J_HD inline double to_acc(double v) { return v; }
LSTM4J_HD inline void from_acc(float v, float* out) { *out = v; }
LSTM4J_HD inline void from_acc(double v, double* out) { *out = v; }
#if defined(__CUDACC__)
__device__ inline float to_acc(__half v) { return __half2float(v); }
__device__ inline float to_acc(__nv_bfloat16 v) { return __bfloat162float(v); }
__device__ inline void from_acc(float v, __half* out) { *out = __float2half(v); }  // nearest even
__device__ inline void from_acc(float v, __nv_bfloat16* out) { *out = __float2bfloat16(v); }
#endif

template <typename A>
LSTM4J_HD inline A cell_sigmoid(A x) {
  return A(1) / (A(1) + acc_exp(-x));
}

// One element of the cell on accumulation-type pre-activations.
template <typename A>
LSTM4J_HD inline void cell_math(A pre_i, A pre_f, A pre_g, A pre_o, A c_prev, A* c_next, A* h) {
  const A ig = cell_sigmoid(pre_i), fg = cell_sigmoid(pre_f), cg = acc_tanh(pre_g),
          og = cell_sigmoid(pre_o);
  const A cy = (fg * c_prev) + (ig * cg);
  *c_next = cy;
  *h = og * acc_tanh(cy);
}

// Element (b, j): gx row b at gx + b * gx_stride (4H gate pre-activations i, f, g, o with both
// biases), gh (n, 4H) contiguous or null (h_{t-1} W_hh^T is zero), c (n, H) contiguous, updated in
// place, h row b at h + b * h_stride.
template <typename S>
LSTM4J_HD inline void cell_element(int64_t b, int64_t j, int64_t H, const S* gx, int64_t gx_stride,
                                   const S* gh, S* c, S* h, int64_t h_stride) {
  using A = typename Acc<S>::type;
  const S* x = gx + b * gx_stride + j;
  A pi = to_acc(x[0]), pf = to_acc(x[H]), pg = to_acc(x[2 * H]), po = to_acc(x[3 * H]);
  if (gh != nullptr) {
    const S* r = gh + b * 4 * H + j;
    pi = pi + to_acc(r[0]);
    pf = pf + to_acc(r[H]);
    pg = pg + to_acc(r[2 * H]);
    po = po + to_acc(r[3 * H]);
  }
  A cy, hy;
  cell_math<A>(pi, pf, pg, po, to_acc(c[b * H + j]), &cy, &hy);
  from_acc(cy, c + b * H + j);
  from_acc(hy, h + b * h_stride + j);
}

// The kernel's loop run on the host, element by element in the kernel's linear order: the CPU
// emulation of the CUDA cell that the tests run (float and double).
template <typename S>
inline void cell_rows_host(int64_t n, int64_t H, const S* gx, int64_t gx_stride, const S* gh, S* c,
                           S* h, int64_t h_stride) {
  for (int64_t k = 0; k < n * H; ++k) {
    cell_element<S>(k / H, k % H, H, gx, gx_stride, gh, c, h, h_stride);
  }
}

}  // namespace lstm4j::kernels
