// The fused LSTM gate pass on CPU: one sweep over (batch, hidden) that adds the recurrent
// pre-activations to the hoisted input projection, applies the i, f, g, o nonlinearities and
// updates c and h in place. Plain loops over raw pointers: no LibTorch here.
#pragma once

#include <cstdint>

namespace lstm4j::cpu {

// gx: row b at gx + b * gx_row_stride, 4 * hidden gate pre-activations (i, f, g, o) holding
//     x W_ih^T + b_ih + b_hh for this step.
// gh: (batch, 4 * hidden) contiguous, h_{t-1} W_hh^T; nullptr means zero (h_{t-1} = 0).
// c:  (batch, hidden) contiguous, c_{t-1} in, c_t out.
// h:  row b at h + b * h_row_stride, h_t = o * tanh(c_t) out.
// Only hidden units [j0, j1) are computed: one part of a step split over threads.
template <typename T>
void lstm_gates(int64_t batch, int64_t hidden, int64_t j0, int64_t j1, const T* gx,
                int64_t gx_row_stride, const T* gh, T* c, T* h, int64_t h_row_stride);

extern template void lstm_gates<float>(int64_t, int64_t, int64_t, int64_t, const float*, int64_t,
                                       const float*, float*, float*, int64_t);
extern template void lstm_gates<double>(int64_t, int64_t, int64_t, int64_t, const double*,
                                        int64_t, const double*, double*, double*, int64_t);

}  // namespace lstm4j::cpu
