// The stack runner: the one loop over layers and directions of every forward pass, host or device,
// as PyTorch composes its LSTM (RNN.cpp: cell -> layer scan -> stack). It owns what every algorithm
// shares: the buffers between layers, each layer and direction's slice of (h0, c0) and (h_n, c_n),
// and the copy-out of h_n from each sequence's last step, for padded and packed batches alike.
// Where the states live is a policy (States): HostStates below (host memory, memcpy), or the
// device scan's DeviceStates (cuda/device_scan.cpp: views of state tensors on the device).
// An algorithm is an executor with two calls:
//   begin_layer(const States::Layer&)                  once per layer (the input projection)
//   scan(const States::Layer&, const States::Dir&)     one direction's time loop: writes the
//                                                      direction's columns of io.y at every step
//                                                      and leaves c_T in dir.c
// and a choice of layout for the buffers between layers (mid_layout).
#pragma once

#include <cstring>

#include "model.h"

namespace lstm4j {

// One layer's input and output as an executor sees them. X and Y: host pointers, or device
// tensors.
template <typename X, typename Y>
struct LayerOf {
  int64_t layer, in;  // layer index and input width
  X x;                // layer input, rows laid out by *x_lay, `in` columns
  const StepLayout* x_lay;
  Y y;  // layer output, rows laid out by *y_lay, D * P columns (direction d at d * P)
  const StepLayout* y_lay;
};
template <typename T>
using LayerIo = LayerOf<const T*, T*>;

template <typename T>
struct DirIo {
  int64_t d;     // 0 forwards, 1 reverse
  const T* h0;   // (B, P), or null for zeros
  const T* c0;   // (B, H), or null for zeros (dir.c already holds it)
  T* c;          // (B, H): c0 on entry, c_T on return
};

// The runner. States provides: the types Layer and Dir; input(); layer_output(l, last, mid) (the
// buffer layer l writes); begin_dir(state, d) (the Dir of state l * D + d, c0 loaded into dir.c);
// copy_h_n(state, b0, b1, y, row, row_stride, d) (h_n of sequences b0..b1-1 from rows row +
// k * row_stride of y); end_dir(state, dir) (c_n from dir.c).
template <typename States, typename Exec>
void run_layers(const Config& c, const StepLayout& io, States& st, Exec& exec) {
  const int64_t B = io.batch, D = c.num_directions, L = c.num_layers;
  const StepLayout& mid = exec.mid_layout(io);
  typename States::Layer layer{0, c.input_size, st.input(), &io, {}, nullptr};
  for (int64_t l = 0; l < L; ++l) {
    const bool last = l == L - 1;
    layer.layer = l;
    layer.in = c.layer_input(l);
    layer.y = st.layer_output(l, last, mid);
    layer.y_lay = last ? &io : &mid;
    exec.begin_layer(layer);
    for (int64_t d = 0; d < D; ++d) {
      const int64_t state = l * D + d;
      const typename States::Dir dir = st.begin_dir(state, d);
      exec.scan(layer, dir);
      // Each sequence's h at its own last step, in runs of sequences that end at the same step
      // (one run for a padded batch).
      const StepLayout& yl = *layer.y_lay;
      for (int64_t b0 = 0; b0 < B;) {
        const int64_t t = yl.last_step(b0, d);
        int64_t b1 = b0 + 1;
        while (b1 < B && yl.last_step(b1, d) == t) ++b1;
        st.copy_h_n(state, b0, b1, layer.y, yl.row(t, b0), yl.b_stride, d);
        b0 = b1;
      }
      st.end_dir(state, dir);
    }
    layer.x = layer.y;
    layer.x_lay = layer.y_lay;
  }
}

// States in host memory: the caller's (h0, c0) and (h_n, c_n) arrays (any may be null), the cell
// state and the buffers between layers in the call's workspace.
template <typename T>
class HostStates {
 public:
  using Layer = LayerIo<T>;
  using Dir = DirIo<T>;

  HostStates(const Lstm::Impl& m, const StepLayout& io, const T* input, const T* h0, const T* c0,
             T* output, T* h_n, T* c_n, Workspace& ws)
      : input_(input), h0_(h0), c0_(c0), output_(output), h_n_(h_n), c_n_(c_n), ws_(ws),
        B_(io.batch), H_(m.config.hidden_size), P_(m.config.P()),
        y_cols_(m.config.num_directions * P_) {
    // Without h0 a scan may skip W_hh h0 (it is zero), but only when no W_hh element is NaN or
    // infinite: PyTorch computes the product, and NaN * 0 is NaN. Otherwise h0 is real zeros.
    if (h0_ == nullptr && !m.params.w_hh_finite()) {
      const int64_t n = m.config.num_layers * m.config.num_directions * B_ * P_;
      T* zeros = ws.get<T>(Workspace::kZeroH0, n);
      std::memset(zeros, 0, sizeof(T) * static_cast<size_t>(n));
      h0_ = zeros;
    }
    cell_ = ws.get<T>(Workspace::kC, B_ * H_);
  }

  const T* input() const { return input_; }

  T* layer_output(int64_t l, bool last, const StepLayout& mid) {
    if (last) return output_;
    return ws_.get<T>(l % 2 == 0 ? Workspace::kY0 : Workspace::kY1, mid.rows * y_cols_);
  }

  Dir begin_dir(int64_t state, int64_t d) {
    Dir dir{d, h0_ != nullptr ? h0_ + state * B_ * P_ : nullptr,
            c0_ != nullptr ? c0_ + state * B_ * H_ : nullptr, cell_};
    if (dir.c0 != nullptr) {
      std::memcpy(cell_, dir.c0, c_bytes());
    } else {
      std::memset(cell_, 0, c_bytes());
    }
    return dir;
  }

  void copy_h_n(int64_t state, int64_t b0, int64_t b1, const T* y, int64_t row, int64_t row_stride,
                int64_t d) {
    if (h_n_ == nullptr) return;
    for (int64_t b = b0; b < b1; ++b) {
      std::memcpy(h_n_ + (state * B_ + b) * P_, y + (row + (b - b0) * row_stride) * y_cols_ + d * P_,
                  sizeof(T) * static_cast<size_t>(P_));
    }
  }

  void end_dir(int64_t state, const Dir& dir) {
    if (c_n_ != nullptr) std::memcpy(c_n_ + state * B_ * H_, dir.c, c_bytes());
  }

 private:
  size_t c_bytes() const { return sizeof(T) * static_cast<size_t>(B_ * H_); }

  const T* input_;
  const T* h0_;
  const T* c0_;
  T* output_;
  T* h_n_;
  T* c_n_;
  Workspace& ws_;
  T* cell_;
  const int64_t B_, H_, P_, y_cols_;
};

// A host forward pass through `exec`.
template <typename T, typename Exec>
void run_stack(const Lstm::Impl& m, const StepLayout& io, const T* input, const T* h0,
               const T* c0, T* output, T* h_n, T* c_n, Workspace& ws, Exec& exec) {
  HostStates<T> states(m, io, input, h0, c0, output, h_n, c_n, ws);
  run_layers(m.config, io, states, exec);
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
