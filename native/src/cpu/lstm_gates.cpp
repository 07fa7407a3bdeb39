#include "cpu/lstm_gates.h"

#include <cmath>
#include <cstdint>

#include "cpu/isa.h"

namespace lstm4j::cpu {

// One float32 kernel per instruction set, picked once at load time: lstm_gates_f32.inc compiled
// with the base and AVX2 flags, and AVX-512's own intrinsics (lstm_gates_avx512.cpp).
void gates_row_f32_avx512(int64_t, int64_t, const float*, const float*, float*, float*);
void gates_row_f32_avx2(int64_t, int64_t, const float*, const float*, float*, float*);
void gates_row_f32_base(int64_t, int64_t, const float*, const float*, float*, float*);

namespace {

using RowF32 = void (*)(int64_t, int64_t, const float*, const float*, float*, float*);

RowF32 pick_row_f32() {
  switch (detect_isa()) {
    case Isa::kAvx512: return gates_row_f32_avx512;
    case Isa::kAvx2: return gates_row_f32_avx2;
    default: return gates_row_f32_base;
  }
}

const RowF32 gates_row_f32 = pick_row_f32();

inline double sigmoid_f64(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// float64 stays on libm for the last bit of accuracy.
void gates_row_f64(int64_t n, int64_t H, const double* x, const double* r, double* c, double* h) {
  for (int64_t j = 0; j < n; ++j) {
    double pi = x[j], pf = x[H + j], pg = x[2 * H + j], po = x[3 * H + j];
    if (r != nullptr) {
      pi += r[j];
      pf += r[H + j];
      pg += r[2 * H + j];
      po += r[3 * H + j];
    }
    const double i = sigmoid_f64(pi), f = sigmoid_f64(pf), g = std::tanh(pg), o = sigmoid_f64(po);
    const double cn = f * c[j] + i * g;
    c[j] = cn;
    h[j] = o * std::tanh(cn);
  }
}

inline void gates_row(int64_t n, int64_t H, const float* x, const float* r, float* c, float* h) {
  gates_row_f32(n, H, x, r, c, h);
}
inline void gates_row(int64_t n, int64_t H, const double* x, const double* r, double* c,
                      double* h) {
  gates_row_f64(n, H, x, r, c, h);
}

}  // namespace

template <typename T>
void lstm_gates(int64_t batch, int64_t hidden, int64_t j0, int64_t j1, const T* gx,
                int64_t gx_row_stride, const T* gh, T* c, T* h, int64_t h_row_stride) {
  for (int64_t b = 0; b < batch; ++b) {
    gates_row(j1 - j0, hidden, gx + b * gx_row_stride + j0,
              gh != nullptr ? gh + b * 4 * hidden + j0 : nullptr, c + b * hidden + j0,
              h + b * h_row_stride + j0);
  }
}

template void lstm_gates<float>(int64_t, int64_t, int64_t, int64_t, const float*, int64_t,
                                const float*, float*, float*, int64_t);
template void lstm_gates<double>(int64_t, int64_t, int64_t, int64_t, const double*, int64_t,
                                 const double*, double*, double*, int64_t);

}  // namespace lstm4j::cpu
