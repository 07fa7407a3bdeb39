// A small float32 GEMM for the recurrent products of a time step: too small and too frequent for
// LibTorch's mm (a dispatcher call plus a BLAS thread wake-up per step cost more than the
// arithmetic at B=1), and split by the caller over its own threads by column ranges.
#pragma once

#include <cstdint>

namespace lstm4j::cpu {

// out[m, j] = (bias ? bias[j] : 0) + sum_k x[m, k] * wt[k, j] for m < rows, n0 <= j < n1.
// x: row m at x + m * x_stride; wt: W^T packed (k, ldw) row-major; out: row m at
// out + m * out_stride. Each output element is one sequential FMA chain over k, so any split of
// the columns gives the same bits.
void gemm_f32(int64_t rows, int64_t k, const float* x, int64_t x_stride, const float* wt,
              int64_t ldw, int64_t n0, int64_t n1, const float* bias, float* out,
              int64_t out_stride);

// The row stride to pack a (k, n) W^T with: n, plus 16 floats when n is a multiple of 64. Rows
// a multiple of 4 KB apart alias in L1 and defeat the L2 prefetcher when a kernel walks down a
// column strip (measured 2x on the H=256 step GEMV).
// The float32 FMA throughput of `threads` threads running register-resident FMA chains on the
// selected instruction set, in GFLOP/s: the machine's practical peak, to put GEMM speeds against.
double fma_peak_gflops(int threads);

inline int64_t padded_ld(int64_t n) { return n % 64 == 0 ? n + 16 : n; }

}  // namespace lstm4j::cpu
