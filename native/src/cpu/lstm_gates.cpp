#include "cpu/lstm_gates.h"

#include <cmath>
#include <cstdint>

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#define LSTM4J_X86 1
#endif

namespace lstm4j::cpu {

// One float32 kernel per instruction set (lstm_gates_<isa>.cpp, same source, other flags),
// picked once at load time: the jar runs on any x86-64. cpuid is read directly rather than
// through GCC's __builtin_cpu_supports, whose runtime lives in libgcc.a and is not linked into
// the JNI library.
void gates_row_f32_avx512(int64_t, const float*, const float*, float*, float*);
void gates_row_f32_avx2(int64_t, const float*, const float*, float*, float*);
void gates_row_f32_base(int64_t, const float*, const float*, float*, float*);

namespace {

using RowF32 = void (*)(int64_t, const float*, const float*, float*, float*);

#ifdef LSTM4J_X86
uint64_t xgetbv0() {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}
#endif

RowF32 pick_row_f32() {
#ifdef LSTM4J_X86
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return gates_row_f32_base;
  const bool osxsave = (c & (1u << 27)) != 0, fma = (c & (1u << 12)) != 0;
  if (!osxsave) return gates_row_f32_base;
  const uint64_t xcr0 = xgetbv0();
  const bool ymm_state = (xcr0 & 0x6) == 0x6, zmm_state = (xcr0 & 0xe6) == 0xe6;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return gates_row_f32_base;
  const bool avx2 = (b & (1u << 5)) != 0, avx512f = (b & (1u << 16)) != 0;
  if (avx512f && fma && zmm_state) return gates_row_f32_avx512;
  if (avx2 && fma && ymm_state) return gates_row_f32_avx2;
#endif
  return gates_row_f32_base;
}

const RowF32 gates_row_f32 = pick_row_f32();

inline double sigmoid_f64(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// float64 stays on libm for the last bit of accuracy.
void gates_row_f64(int64_t H, const double* x, const double* r, double* c, double* h) {
  for (int64_t j = 0; j < H; ++j) {
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

inline void gates_row(int64_t H, const float* x, const float* r, float* c, float* h) {
  gates_row_f32(H, x, r, c, h);
}
inline void gates_row(int64_t H, const double* x, const double* r, double* c, double* h) {
  gates_row_f64(H, x, r, c, h);
}

}  // namespace

template <typename T>
void lstm_gates(int64_t batch, int64_t hidden, const T* gx, int64_t gx_row_stride, const T* gh,
                T* c, T* h, int64_t h_row_stride) {
  for (int64_t b = 0; b < batch; ++b) {
    gates_row(hidden, gx + b * gx_row_stride, gh != nullptr ? gh + b * 4 * hidden : nullptr,
              c + b * hidden, h + b * h_row_stride);
  }
}

template void lstm_gates<float>(int64_t, int64_t, const float*, int64_t, const float*, float*,
                                float*, int64_t);
template void lstm_gates<double>(int64_t, int64_t, const double*, int64_t, const double*,
                                 double*, double*, int64_t);

}  // namespace lstm4j::cpu
