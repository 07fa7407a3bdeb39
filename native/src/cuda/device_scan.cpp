// The device scan, written with LibTorch operations only (device::Ops), so that it runs on CUDA
// and, for the tests, on the CPU. The layer x direction x time loop runs on the device without a
// host synchronisation (every operation is queued on LibTorch's current stream). Sequences are
// time-major inside, so that a step's rows are one strided block: per layer and direction one
// input GEMM over all steps, then per step one W_hh GEMM reading h_{t-1} straight from the output
// it was written to, and one cell writing h straight into the output (plus one W_hr GEMM with a
// projection). A zero initial state is made on the device, and the first step's W_hh GEMM is
// skipped when W_hh is all finite (the product is exactly zero; with NaN/Inf PyTorch's NaN must
// appear). Views are made with aoti_torch__reinterpret_tensor, which asks the driver nothing.
//
// It keeps its own layer x direction loop rather than the host stack runner's: its states and
// buffers live on the device, and (h_n, c_n) are the state tensors themselves, copied back once.
#include "cuda/device_scan.h"

#include <cstring>
#include <vector>

#include "cuda/device_ops.h"

namespace lstm4j {

namespace {
template <typename T>
constexpr Dtype dtype_of() {
  return sizeof(T) == 8 ? Dtype::kFloat64 : Dtype::kFloat32;
}
}  // namespace

Tensor scan_device(const Lstm::Impl& m, const StepLayout& lay, const Tensor& x, Tensor& h_state,
                   Tensor& c_state, bool zero_state) {
  const Config& cf = m.config;
  const Dtype dtype = cf.dtype;
  const Device device = cf.device;
  const device::Ops& ops = device::ops_for(device);
  const int64_t H = cf.hidden_size, Pn = cf.P(), D = cf.num_directions, G = cf.G();
  const int64_t B = lay.batch, rows = lay.rows, y_cols = D * Pn, T_ = lay.steps;
  const bool proj = cf.proj_size > 0;
  // With a zero initial state and finite W_hh, h0 W_hh^T is exactly zero: the first step skips it.
  const bool skip_first = zero_state && m.params.w_hh_finite();
  Tensor y_buf[2];
  y_buf[0] = Tensor::empty({rows, y_cols}, dtype, device);
  if (cf.num_layers > 1) y_buf[1] = Tensor::empty({rows, y_cols}, dtype, device);
  Tensor gx = Tensor::empty({rows, G}, dtype, device);
  Tensor gh = Tensor::empty({B, G}, dtype, device);
  Tensor h_buf = proj ? Tensor::empty({B, H}, dtype, device) : Tensor();
  Tensor zero_gates;  // CUDA's fused cell takes no null hidden gates
  if (skip_first && ops.cell_needs_hidden_gates) {
    zero_gates = Tensor::empty({B, G}, dtype, device);
    ops.zero(zero_gates);
  }
  Tensor layer_in = x.reinterpret(0, {rows, cf.input_size}, {cf.input_size, 1});
  Tensor* y = nullptr;
  for (int64_t l = 0; l < cf.num_layers; ++l) {
    const LayerWeights& w = m.params.layer(l);
    y = &y_buf[l % 2];
    for (int64_t d = 0; d < D; ++d) {
      const int64_t state = l * D + d;
      const Tensor& w_hh_t = w.w_hh_t[d];
      ops.addmm_out(gx, w.b_dir[d], layer_in, w.w_ih_dir_t[d], "addmm_out (input projection)");
      auto y_rows = [&](int64_t t, int64_t r_begin, int64_t r_end) {
        return y->reinterpret((lay.row0[static_cast<size_t>(t)] + r_begin) * y_cols + d * Pn,
                              {r_end - r_begin, Pn}, {y_cols, 1});
      };
      auto h_rows = [&](int64_t r_begin, int64_t r_end) {
        return h_state.reinterpret((state * B + r_begin) * Pn, {r_end - r_begin, Pn}, {Pn, 1});
      };
      Tensor c = c_state.reinterpret(state * B * H, {B, H}, {H, 1});
      bool c_in_place = true;  // false once the cell replaced c (CUDA): c_state is then stale
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
          ops.copy(h_rows(0, n_prev), y_rows(prev, 0, n_prev));
          if (!c_in_place) {  // the same for c: continuing rows join c0's rows in c_state
            ops.copy(c_state.reinterpret(state * B * H, {n_prev, H}, {H, 1}), c);
            c_in_place = true;
          }
          h = h_rows(0, n);
        }
        Tensor c_n = c_in_place ? c_state.reinterpret(state * B * H, {n, H}, {H, 1})
                                : c.reinterpret(0, {n, H}, {H, 1});
        Tensor gh_n;
        if (s == 0 && skip_first) {
          gh_n = zero_gates.defined() ? zero_gates.reinterpret(0, {n, G}, {G, 1}) : Tensor();
        } else {
          gh_n = gh.reinterpret(0, {n, G}, {G, 1});
          ops.mm_out(gh_n, h, w_hh_t, "mm_out (recurrent)");
        }
        const Tensor gx_t = gx.reinterpret(r0 * G, {n, G}, {G, 1});
        const Tensor y_t = y_rows(t, 0, n);
        const Tensor h_tmp = proj ? h_buf.reinterpret(0, {n, H}, {H, 1}) : Tensor();
        const Tensor& h_out = proj ? h_tmp : y_t;
        if (!ops.cell(gx_t, G, gh_n, c_n, h_out, n, H, dtype)) {
          c = std::move(c_n);
          c_in_place = false;
        } else if (!c_in_place) {
          c = std::move(c_n);
        }
        if (proj) ops.mm_out(y_t, h_out, w.w_hr_t[d], "mm_out (projection)");
        // Sequences that end here (forward direction of a packed batch): their h_n and c_n.
        const int64_t n_next = s + 1 < T_ ? lay.n_at(d == 0 ? t + 1 : t - 1) : 0;
        if (d == 0 && n_next < n) {
          ops.copy(h_rows(n_next, n), y_rows(t, n_next, n));
          if (!c_in_place) {
            ops.copy(c_state.reinterpret((state * B + n_next) * H, {n - n_next, H}, {H, 1}),
                     c.reinterpret(n_next * H, {n - n_next, H}, {H, 1}));
          }
        }
        prev = t;
      }
      if (d == 1) {  // every sequence's h_n (and c_n) is at step 0 in the reverse direction
        const int64_t n0 = lay.n_at(0);
        ops.copy(h_rows(0, n0), y_rows(0, 0, n0));
        if (!c_in_place) {
          ops.copy(c_state.reinterpret(state * B * H, {n0, H}, {H, 1}), c);
        }
      }
    }
    layer_in = y->reinterpret(0, {rows, y_cols}, {y_cols, 1});
  }
  return std::move(*y);
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
