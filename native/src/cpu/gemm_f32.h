// A small float32 GEMM for the team scan's products: the input projection of all steps, and per
// step the recurrent and projection products, which are too small and too frequent for LibTorch's
// mm (a dispatcher call plus a BLAS thread wake-up per step cost more than the arithmetic at B=1).
// The caller splits the columns over its own threads.
//
// W^T is packed once, in column panels (see packed_index): a register tile then walks its panel
// sequentially, one 128-byte row per k, instead of striding through a (k, n) matrix a page per row
// (measured: the strided walk missed the L1 TLB and the prefetchers on every row).
#pragma once

#include <cstdint>

#include "cpu/isa.h"

namespace lstm4j::cpu {

// Columns per panel: one AVX-512 register tile's width.
constexpr int64_t kPanel = 32;

// Where element (kk, j) of a packed W^T (k rows, columns in blocks of `block`) lies. The columns
// form blocks of `block` (an LSTM's gate blocks, so that a range of hidden units starts a panel
// in every gate); each block is cut into panels of kPanel columns, the last one zero-padded; a
// panel holds its k rows one after another.
inline int64_t panels_per_block(int64_t block) { return (block + kPanel - 1) / kPanel; }
inline int64_t packed_index(int64_t kk, int64_t j, int64_t k, int64_t block) {
  const int64_t b = j / block, c = j % block;
  return ((b * panels_per_block(block) + c / kPanel) * k + kk) * kPanel + c % kPanel;
}
// Elements of a packed W^T with n columns (n a multiple of block).
inline int64_t packed_size(int64_t k, int64_t n, int64_t block) {
  return n / block * panels_per_block(block) * kPanel * k;
}

// dst <- W^T packed, where W is (n, k) row-major (a PyTorch weight); padding is zeroed.
template <typename T>
void pack_transposed(const T* w, int64_t n, int64_t k, int64_t block, T* dst) {
  for (int64_t i = 0; i < packed_size(k, n, block); ++i) dst[i] = T(0);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t kk = 0; kk < k; ++kk) dst[packed_index(kk, j, k, block)] = w[j * k + kk];
}

// out[m, j] = (bias ? bias[j] : 0) + sum_kk x[m, kk] * W^T[kk, j] for m < rows, n0 <= j < n1,
// with W^T packed as above. x: row m at x + m * x_stride; out: row m at out + m * out_stride.
// Each output element is one sequential FMA chain over k, so any split of the rows or the columns
// gives the same bits. Fastest when n0 and n1 start panels (or n1 ends a block).
void gemm_f32(int64_t rows, int64_t k, const float* x, int64_t x_stride, const float* wt,
              int64_t block, int64_t n0, int64_t n1, const float* bias, float* out,
              int64_t out_stride);

// The kernel gemm_f32 runs, and the one of each instruction set (isa <= detect_isa()), which the
// tests check against each other on this machine.
using GemmF32Kernel = void (*)(int64_t, int64_t, const float*, int64_t, const float*, int64_t,
                               int64_t, int64_t, const float*, float*, int64_t);
GemmF32Kernel gemm_f32_kernel(Isa isa);

// The float32 FMA throughput of `threads` threads running register-resident FMA chains on the
// selected instruction set, in GFLOP/s: the machine's practical peak, to put GEMM speeds against.
double fma_peak_gflops(int threads);

}  // namespace lstm4j::cpu
