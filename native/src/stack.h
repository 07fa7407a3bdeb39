// The stack runner: the one loop over layers and directions of a host forward pass, as PyTorch
// composes its LSTM (RNN.cpp: cell -> layer scan -> stack). It owns what every algorithm shares:
// the rule for an absent h0, the buffers between layers, each layer and direction's slice of
// (h0, c0), the cell state c, and the copy-out of (h_n, c_n) for padded and packed batches alike.
// An algorithm is an executor with two calls:
//   begin_layer(const LayerIo<T>&)          once per layer (e.g. the input projection of all steps)
//   scan(const LayerIo<T>&, const DirIo<T>&) one direction's time loop: writes the direction's
//                                            columns of io.y at every step and leaves c_T in dir.c
// and a choice of layout for the buffers between layers (mid_layout).
#pragma once

#include <cstring>

#include "model.h"

namespace lstm4j {

template <typename T>
struct LayerIo {
  int64_t layer, in;  // layer index and input width
  const T* x;         // layer input, rows laid out by *x_lay, `in` columns
  const StepLayout* x_lay;
  T* y;  // layer output, rows laid out by *y_lay, D * P columns (direction d at d * P)
  const StepLayout* y_lay;
};

template <typename T>
struct DirIo {
  int64_t d;     // 0 forwards, 1 reverse
  const T* h0;   // (B, P), or null for zeros
  const T* c0;   // (B, H), or null for zeros (dir.c already holds it)
  T* c;          // (B, H): c0 on entry, c_T on return
};

template <typename T, typename Exec>
void run_stack(const Lstm::Impl& m, const StepLayout& io, const T* input, const T* h0,
               const T* c0, T* output, T* h_n, T* c_n, Workspace& ws, Exec& exec) {
  const Config& c = m.config;
  const int64_t B = io.batch, H = c.hidden_size, Pn = c.P(), D = c.num_directions;
  const int64_t L = c.num_layers, y_cols = D * Pn;
  const size_t h_bytes = sizeof(T) * static_cast<size_t>(Pn);
  const size_t c_bytes = sizeof(T) * static_cast<size_t>(B * H);
  // Without h0 a scan may skip W_hh h0 (it is zero), but only when no W_hh element is NaN or
  // infinite: PyTorch computes the product, and NaN * 0 is NaN. Otherwise h0 is real zeros.
  if (h0 == nullptr && !m.params.w_hh_finite()) {
    T* zeros = ws.get<T>(Workspace::kZeroH0, L * D * B * Pn);
    std::memset(zeros, 0, sizeof(T) * static_cast<size_t>(L * D * B * Pn));
    h0 = zeros;
  }
  const StepLayout& mid = exec.mid_layout(io);
  T* mids[2] = {L > 1 ? ws.get<T>(Workspace::kY0, mid.rows * y_cols) : nullptr,
                L > 2 ? ws.get<T>(Workspace::kY1, mid.rows * y_cols) : nullptr};
  T* cell = ws.get<T>(Workspace::kC, B * H);
  LayerIo<T> layer{0, c.input_size, input, &io, nullptr, nullptr};
  for (int64_t l = 0; l < L; ++l) {
    const bool last = l == L - 1;
    layer.layer = l;
    layer.in = c.layer_input(l);
    layer.y = last ? output : mids[l % 2];
    layer.y_lay = last ? &io : &mid;
    exec.begin_layer(layer);
    for (int64_t d = 0; d < D; ++d) {
      const int64_t state = l * D + d;
      DirIo<T> dir{d, h0 != nullptr ? h0 + state * B * Pn : nullptr,
                   c0 != nullptr ? c0 + state * B * H : nullptr, cell};
      if (dir.c0 != nullptr) {
        std::memcpy(cell, dir.c0, c_bytes);
      } else {
        std::memset(cell, 0, c_bytes);
      }
      exec.scan(layer, dir);
      if (h_n != nullptr) {  // each sequence's h at its own last step
        const StepLayout& yl = *layer.y_lay;
        for (int64_t b = 0; b < B; ++b) {
          std::memcpy(h_n + (state * B + b) * Pn, layer.y + yl.row(yl.last_step(b, d), b) * y_cols + d * Pn,
                      h_bytes);
        }
      }
      if (c_n != nullptr) std::memcpy(c_n + state * B * H, cell, c_bytes);
    }
    layer.x = layer.y;
    layer.x_lay = layer.y_lay;
  }
}

// The host executors (cpu/): float32 and float64 unless said otherwise.
template <typename T>
void forward_team(Lstm::Impl& m, const StepLayout& io, const T* input, const T* h0, const T* c0,
                  T* output, T* h_n, T* c_n);
template <typename T>
void forward_scan(Lstm::Impl& m, const StepLayout& io, const T* input, const T* h0, const T* c0,
                  T* output, T* h_n, T* c_n);
// float32, padded, no projection.
void forward_onednn(Lstm::Impl& m, const StepLayout& io, const float* input, const float* h0,
                    const float* c0, float* output, float* h_n, float* c_n);

}  // namespace lstm4j
