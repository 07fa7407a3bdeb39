#include "cpu/gemm_f32.h"

#include "cpu/isa.h"

namespace lstm4j::cpu {

void gemm_f32_avx512(int64_t, int64_t, const float*, int64_t, const float*, int64_t, int64_t,
                     int64_t, const float*, float*, int64_t);
void gemm_f32_avx2(int64_t, int64_t, const float*, int64_t, const float*, int64_t, int64_t,
                   int64_t, const float*, float*, int64_t);
void gemm_f32_base(int64_t, int64_t, const float*, int64_t, const float*, int64_t, int64_t,
                   int64_t, const float*, float*, int64_t);

namespace {
using GemmF32 = void (*)(int64_t, int64_t, const float*, int64_t, const float*, int64_t, int64_t,
                         int64_t, const float*, float*, int64_t);

GemmF32 pick() {
  switch (detect_isa()) {
    case Isa::kAvx512: return gemm_f32_avx512;
    case Isa::kAvx2: return gemm_f32_avx2;
    default: return gemm_f32_base;
  }
}

const GemmF32 kernel = pick();
}  // namespace

void gemm_f32(int64_t rows, int64_t k, const float* x, int64_t x_stride, const float* wt,
              int64_t ldw, int64_t n0, int64_t n1, const float* bias, float* out,
              int64_t out_stride) {
  kernel(rows, k, x, x_stride, wt, ldw, n0, n1, bias, out, out_stride);
}

}  // namespace lstm4j::cpu
