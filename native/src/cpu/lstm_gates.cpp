#include "cpu/lstm_gates.h"

#include <cmath>

namespace lstm4j::cpu {

namespace {
template <typename T>
inline T sigmoid(T x) {
  return T(1) / (T(1) + std::exp(-x));
}
}  // namespace

template <typename T>
void lstm_gates(int64_t batch, int64_t hidden, const T* gx, int64_t gx_row_stride, const T* gh,
                T* c, T* h, int64_t h_row_stride) {
  const int64_t H = hidden;
  for (int64_t b = 0; b < batch; ++b) {
    const T* x = gx + b * gx_row_stride;
    const T* r = gh != nullptr ? gh + b * 4 * H : nullptr;
    T* cb = c + b * H;
    T* hb = h + b * h_row_stride;
    for (int64_t j = 0; j < H; ++j) {
      T pi = x[j], pf = x[H + j], pg = x[2 * H + j], po = x[3 * H + j];
      if (r != nullptr) {
        pi += r[j];
        pf += r[H + j];
        pg += r[2 * H + j];
        po += r[3 * H + j];
      }
      const T i = sigmoid(pi), f = sigmoid(pf), g = std::tanh(pg), o = sigmoid(po);
      const T cn = f * cb[j] + i * g;
      cb[j] = cn;
      hb[j] = o * std::tanh(cn);
    }
  }
}

template void lstm_gates<float>(int64_t, int64_t, const float*, int64_t, const float*, float*,
                                float*, int64_t);
template void lstm_gates<double>(int64_t, int64_t, const double*, int64_t, const double*,
                                 double*, double*, int64_t);

}  // namespace lstm4j::cpu
