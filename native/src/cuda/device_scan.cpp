// The device scan, written with LibTorch operations only (device::Ops), so that it runs on CUDA
// and, for the tests, on the CPU. It is an executor of the stack runner (stack.h), like the host
// algorithms; its states policy, DeviceStates, keeps (h0, c0) -> (h_n, c_n) in the state tensors on
// the device. The layer x direction x time loop runs on the device without a host synchronisation
// (every operation is queued on LibTorch's current stream). Sequences are time-major inside, so
// that a step's rows are one strided block: per layer and direction one input GEMM over all steps,
// then per step one W_hh GEMM reading h_{t-1} straight from the output it was written to, and one
// cell writing h straight into the output (plus one W_hr GEMM with a projection). A zero initial
// state is made on the device, and the first step's W_hh GEMM is skipped when W_hh is all finite
// (the product is exactly zero; with NaN/Inf PyTorch's NaN must appear). Views are made with
// aoti_torch__reinterpret_tensor, which asks the driver nothing.
#include "cuda/device_scan.h"

#include <cstring>
#include <vector>

#include "cuda/device_ops.h"
#include "stack.h"

namespace lstm4j {

namespace {

// A (rows, cols) view of t's rows r_begin.. r_end - 1, row stride `stride`, from column `col`.
Tensor rows_of(const Tensor& t, int64_t r_begin, int64_t r_end, int64_t cols, int64_t stride,
               int64_t col = 0) {
  return t.reinterpret(r_begin * stride + col, {r_end - r_begin, cols}, {stride, 1});
}

// States on the device: h_state (L*D, B, P) and c_state (L*D, B, H) hold (h0, c0) on entry and are
// advanced in place to (h_n, c_n); the layer buffers are device tensors.
class DeviceStates {
 public:
  using Layer = LayerOf<const Tensor*, const Tensor*>;
  struct Dir {
    int64_t d;
    Tensor h;      // (B, P): h0; the runner writes h_n
    Tensor c;      // (B, H): c0 on entry, c_T on return
    bool zero_h0;  // h0 is zero and W_hh finite: the first step may skip h0 W_hh^T
  };

  DeviceStates(const Lstm::Impl& m, const StepLayout& lay, const Tensor& x, Tensor& h_state,
               Tensor& c_state, bool zero_state)
      : ops_(device::ops_for(m.config.device)), cf_(m.config), h_state_(h_state),
        c_state_(c_state), x_(x.reinterpret(0, {lay.rows, cf_.input_size}, {cf_.input_size, 1})),
        skip_first_(zero_state && m.params.w_hh_finite()), B_(lay.batch), H_(cf_.hidden_size),
        P_(cf_.P()), y_cols_(cf_.num_directions * P_) {}

  bool skips_first() const { return skip_first_; }
  const Tensor* input() const { return &x_; }

  // Two buffers, alternating; the last layer's is the output.
  const Tensor* layer_output(int64_t l, bool, const StepLayout& mid) {
    Tensor& y = y_[l % 2];
    if (!y.defined()) y = Tensor::empty({mid.rows, y_cols_}, cf_.dtype, cf_.device);
    return &y;
  }
  Tensor take_output() { return std::move(y_[(cf_.num_layers - 1) % 2]); }

  Dir begin_dir(int64_t state, int64_t d) const {
    return {d, h_state_.reinterpret(state * B_ * P_, {B_, P_}, {P_, 1}),
            c_state_.reinterpret(state * B_ * H_, {B_, H_}, {H_, 1}), skip_first_};
  }

  void copy_h_n(int64_t state, int64_t b0, int64_t b1, const Tensor* y, int64_t row,
                int64_t row_stride, int64_t d) const {
    ops_.copy(rows_of(h_state_, state * B_ + b0, state * B_ + b1, P_, P_),
              y->reinterpret(row * y_cols_ + d * P_, {b1 - b0, P_}, {row_stride * y_cols_, 1}));
  }

  void end_dir(int64_t, const Dir&) const {}  // c_T is in c_state already

 private:
  const device::Ops& ops_;
  const Config& cf_;
  Tensor& h_state_;
  Tensor& c_state_;
  Tensor x_, y_[2];
  const bool skip_first_;
  const int64_t B_, H_, P_, y_cols_;
};

class DeviceScan {
 public:
  using Layer = DeviceStates::Layer;
  using Dir = DeviceStates::Dir;

  DeviceScan(const Lstm::Impl& m, const StepLayout& lay, bool skip_first)
      : m_(m), cf_(m.config), ops_(device::ops_for(cf_.device)), H_(cf_.hidden_size), P_(cf_.P()),
        G_(cf_.G()), y_cols_(cf_.num_directions * P_) {
    const Dtype dtype = cf_.dtype;
    const Device device = cf_.device;
    // One input-gate buffer per direction, each its own allocation (a view at an odd offset could
    // change cuBLAS's kernel, and with it the bits, for 16-bit dtypes).
    for (int64_t d = 0; d < cf_.num_directions; ++d) gx_[d] = Tensor::empty({lay.rows, G_}, dtype, device);
    gh_ = Tensor::empty({lay.batch, G_}, dtype, device);
    if (cf_.proj_size > 0) h_buf_ = Tensor::empty({lay.batch, H_}, dtype, device);
    if (skip_first && ops_.cell_needs_hidden_gates) {  // CUDA's fused cell takes no null gates
      zero_gates_ = Tensor::empty({lay.batch, G_}, dtype, device);
      ops_.zero(zero_gates_);
    }
  }

  const StepLayout& mid_layout(const StepLayout& io) const { return io; }

  // The input projection of every step, per direction.
  void begin_layer(const Layer& io) {
    const LayerWeights& w = m_.params.layer(io.layer);
    for (int64_t d = 0; d < cf_.num_directions; ++d) {
      ops_.addmm_out(gx_[d], w.b_dir[d], *io.x, w.w_ih_dir_t[d], "addmm_out (input projection)");
    }
  }

  void scan(const Layer& io, const Dir& dir) {
    const StepLayout& lay = *io.y_lay;
    const LayerWeights& w = m_.params.layer(io.layer);
    const int64_t d = dir.d, H = H_, G = G_, T_ = lay.steps;
    const bool proj = cf_.proj_size > 0;
    const Tensor& w_hh_t = w.w_hh_t[d];
    auto y_rows = [&](int64_t t, int64_t r_begin, int64_t r_end) {
      const int64_t r0 = lay.row0[static_cast<size_t>(t)];
      return rows_of(*io.y, r0 + r_begin, r0 + r_end, P_, y_cols_, d * P_);
    };
    auto h_rows = [&](int64_t r_begin, int64_t r_end) { return rows_of(dir.h, r_begin, r_end, P_, P_); };
    auto c_rows = [&](int64_t r_begin, int64_t r_end) { return rows_of(dir.c, r_begin, r_end, H, H); };
    Tensor c;                // the cell's c once it replaced c_state's rows (CUDA)
    bool c_in_place = true;  // false once the cell replaced c: c_state's rows are then stale
    int64_t prev = -1;       // the step processed before this one
    for (int64_t s = 0; s < T_; ++s) {
      const int64_t t = d == 0 ? s : T_ - 1 - s;
      const int64_t n = lay.n_at(t), r0 = lay.row0[static_cast<size_t>(t)];
      const int64_t n_prev = prev < 0 ? 0 : lay.n_at(prev);
      // h_{t-1}: the previous step's output rows; rows starting now (reverse direction of a
      // packed batch) take h0, so at such steps the continuing rows join them in h_state first.
      Tensor h;
      if (prev < 0) {
        h = h_rows(0, n);
      } else if (n <= n_prev) {
        h = y_rows(prev, 0, n);
      } else {
        ops_.copy(h_rows(0, n_prev), y_rows(prev, 0, n_prev));
        if (!c_in_place) {  // the same for c: continuing rows join c0's rows in c_state
          ops_.copy(c_rows(0, n_prev), c);
          c_in_place = true;
        }
        h = h_rows(0, n);
      }
      Tensor c_n = c_in_place ? c_rows(0, n) : rows_of(c, 0, n, H, H);
      Tensor gh_n;
      if (s == 0 && dir.zero_h0) {
        gh_n = zero_gates_.defined() ? rows_of(zero_gates_, 0, n, G, G) : Tensor();
      } else {
        gh_n = rows_of(gh_, 0, n, G, G);
        ops_.mm_out(gh_n, h, w_hh_t, "mm_out (recurrent)");
      }
      const Tensor gx_t = rows_of(gx_[d], r0, r0 + n, G, G);
      const Tensor y_t = y_rows(t, 0, n);
      const Tensor h_tmp = proj ? rows_of(h_buf_, 0, n, H, H) : Tensor();
      const Tensor& h_out = proj ? h_tmp : y_t;
      if (!ops_.cell(gx_t, G, gh_n, c_n, h_out, n, H, cf_.dtype)) {
        c = std::move(c_n);
        c_in_place = false;
      } else if (!c_in_place) {
        c = std::move(c_n);
      }
      if (proj) ops_.mm_out(y_t, h_out, w.w_hr_t[d], "mm_out (projection)");
      // Sequences that end here (forward direction of a packed batch): their c_n, before the
      // next step drops their rows (the runner copies h_n from the output).
      const int64_t n_next = s + 1 < T_ ? lay.n_at(d == 0 ? t + 1 : t - 1) : 0;
      if (d == 0 && n_next < n && !c_in_place) ops_.copy(c_rows(n_next, n), rows_of(c, n_next, n, H, H));
      prev = t;
    }
    // Every sequence's c_n is at step 0 in the reverse direction.
    if (d == 1 && !c_in_place) ops_.copy(c_rows(0, lay.n_at(0)), c);
  }

 private:
  const Lstm::Impl& m_;
  const Config& cf_;
  const device::Ops& ops_;
  const int64_t H_, P_, G_, y_cols_;
  Tensor gx_[2], gh_, h_buf_, zero_gates_;
};

}  // namespace

Tensor scan_device(const Lstm::Impl& m, const StepLayout& lay, const Tensor& x, Tensor& h_state,
                   Tensor& c_state, bool zero_state) {
  DeviceStates states(m, lay, x, h_state, c_state, zero_state);
  DeviceScan exec(m, lay, states.skips_first());
  run_layers(m.config, lay, states, exec);
  return states.take_output();
}

template <typename T>
void forward_device_states(Lstm::Impl& m, const StepLayout& io, const T* input, T* output,
                           Tensor& h_state, Tensor& c_state, bool zero_state) {
  const Config& cf = m.config;
  const Device device = cf.device;
  const Dtype dtype = cf.dtype;
  const device::Ops& ops = device::ops_for(device);
  const int64_t I = cf.input_size, y_cols = cf.num_directions * cf.P();
  const int64_t T_ = io.steps, B = io.batch, rows = io.rows;
  // Host data are copied as they are (contiguous); a batch-first layout is changed on the device.
  const bool bf = !io.packed && io.b_stride != 1;
  DeviceTransfers<T> transfers(ops, device);
  const StepLayout lay = io.packed ? io : StepLayout::padded(T_, B, false);
  Tensor x = Tensor::empty({rows, I}, dtype, device);
  if (bf) {
    Tensor x_bf = Tensor::empty({B, T_, I}, dtype, device);
    transfers.upload(x_bf, input, {B, T_, I});
    ops.copy(x.reinterpret(0, {B, T_, I}, {I, B * I, 1}), x_bf);  // (T, B, I) seen as (B, T, I)
  } else {
    transfers.upload(x, input, {rows, I});
  }
  Tensor y = scan_device(m, lay, x, h_state, c_state, zero_state);
  if (bf) {
    Tensor y_bf = Tensor::empty({B, T_, y_cols}, dtype, device);
    ops.copy(y_bf, y.reinterpret(0, {B, T_, y_cols}, {y_cols, B * y_cols, 1}));
    transfers.download(output, y_bf, {B, T_, y_cols});
  } else {
    transfers.download(output, y, {rows, y_cols});
  }
}

template <typename T>
void forward_device(Lstm::Impl& m, const StepLayout& io, const T* input, const T* h0, const T* c0,
                    T* output, T* h_n, T* c_n) {
  const Config& cf = m.config;
  const Device device = cf.device;
  const Dtype dtype = cf.dtype;
  const device::Ops& ops = device::ops_for(device);
  const int64_t H = cf.hidden_size, Pn = cf.P();
  const int64_t states = cf.num_layers * cf.num_directions, B = io.batch;
  DeviceTransfers<T> transfers(ops, device);
  Tensor h_state = Tensor::empty({states, B, Pn}, dtype, device);
  Tensor c_state = Tensor::empty({states, B, H}, dtype, device);
  const bool zero_state = h0 == nullptr;
  if (zero_state) {
    ops.zero(h_state);
    ops.zero(c_state);
  } else {
    transfers.upload(h_state, h0, {states, B, Pn});
    transfers.upload(c_state, c0, {states, B, H});
  }
  forward_device_states(m, io, input, output, h_state, c_state, zero_state);
  if (h_n != nullptr) transfers.download(h_n, h_state, {states, B, Pn});
  if (c_n != nullptr) transfers.download(c_n, c_state, {states, B, H});
}

template void forward_device<float>(Lstm::Impl&, const StepLayout&, const float*, const float*,
                                    const float*, float*, float*, float*);
template void forward_device<double>(Lstm::Impl&, const StepLayout&, const double*, const double*,
                                     const double*, double*, double*, double*);
template void forward_device_states<float>(Lstm::Impl&, const StepLayout&, const float*, float*,
                                           Tensor&, Tensor&, bool);
template void forward_device_states<double>(Lstm::Impl&, const StepLayout&, const double*, double*,
                                            Tensor&, Tensor&, bool);

}  // namespace lstm4j
