// The device scan, written with LibTorch operations only (device::Ops), so that it runs on CUDA
// and, for the tests, on the CPU. The layer x direction x time loop runs on the device without a
// host synchronisation (every operation is queued on LibTorch's current stream). Sequences are
// time-major inside, so that a step's gate rows are contiguous for the fused cell: per layer and
// direction one input GEMM over all steps, then per step one W_hh GEMM and one fused cell, plus
// one W_hr GEMM with a projection.
//
// It keeps its own layer x direction loop rather than the host stack runner's: its states and
// buffers live on the device, and (h_n, c_n) are the state tensors themselves, copied back once.
#include "cuda/device_scan.h"

#include <vector>

#include "cuda/device_ops.h"

namespace lstm4j {

namespace {
template <typename T>
constexpr Dtype dtype_of() {
  return sizeof(T) == 8 ? Dtype::kFloat64 : Dtype::kFloat32;
}
}  // namespace

template <typename T>
void upload_states(Tensor& dst, const T* src, int64_t states, int64_t batch, int64_t features) {
  std::vector<T> zeros;
  if (src == nullptr) zeros.assign(static_cast<size_t>(states * batch * features), T(0));
  dst.copy_from(Tensor::from_blob(const_cast<T*>(src != nullptr ? src : zeros.data()),
                                  {states, batch, features}, dtype_of<T>(), Device{}));
}
template void upload_states<float>(Tensor&, const float*, int64_t, int64_t, int64_t);
template void upload_states<double>(Tensor&, const double*, int64_t, int64_t, int64_t);

Tensor scan_device(const Lstm::Impl& m, const StepLayout& lay, const Tensor& x, Tensor& h_state,
                   Tensor& c_state) {
  const Config& cf = m.config;
  const Dtype dtype = cf.dtype;
  const Device device = cf.device;
  const device::Ops& ops = device::ops_for(device);
  const int64_t H = cf.hidden_size, Pn = cf.P(), D = cf.num_directions, G = cf.G();
  const int64_t B = lay.batch, rows = lay.rows, y_cols = D * Pn;
  // A padded batch carries each step's (h, c) tensors to the next step; a packed one keeps its
  // states in h_state / c_state, whose first n[t] rows step t advances (a finished sequence keeps
  // its last state, which is its h_n and c_n).
  const bool carry = !lay.packed;
  Tensor y_buf[2];
  y_buf[0] = Tensor::empty({rows, y_cols}, dtype, device);
  if (cf.num_layers > 1) y_buf[1] = Tensor::empty({rows, y_cols}, dtype, device);
  Tensor gx = Tensor::empty({rows, G}, dtype, device);
  Tensor gh = Tensor::empty({B, G}, dtype, device);
  Tensor layer_in = x.view(0, {rows, cf.input_size}, {cf.input_size, 1}, dtype, device);
  Tensor* y = nullptr;
  for (int64_t l = 0; l < cf.num_layers; ++l) {
    const LayerWeights& w = m.params.layer(l);
    y = &y_buf[l % 2];
    for (int64_t d = 0; d < D; ++d) {
      const int64_t state = l * D + d;
      check(ops.addmm_out(gx.get(), w.b_dir[d].get(), layer_in.get(), w.w_ih_dir_t[d].get(), 1.0,
                          1.0),
            "addmm_out (input projection)");
      Tensor h_carry, c_carry, h_owned;
      for (int64_t s = 0; s < lay.steps; ++s) {
        const int64_t t = d == 0 ? s : lay.steps - 1 - s;
        const int64_t n = lay.n_at(t), r0 = lay.row0[static_cast<size_t>(t)];
        Tensor h = h_carry.defined() ? std::move(h_carry)
                                     : h_state.view(state * B * Pn, {n, Pn}, {Pn, 1}, dtype, device);
        Tensor c = c_state.view(state * B * H, {n, H}, {H, 1}, dtype, device);
        Tensor gh_n = gh.view(0, {n, G}, {G, 1}, dtype, device);
        check(ops.mm_out(gh_n.get(), h.get(), w.w_hh_t[d].get()), "mm_out (recurrent)");
        Tensor gx_t = gx.view(r0 * G, {n, G}, {G, 1}, dtype, device);
        Tensor hy, cy;
        ops.lstm_cell(gx_t, gh_n, c_carry.defined() ? c_carry : c, n, H, dtype, device, &hy, &cy);
        Tensor y_t = y->view(r0 * y_cols + d * Pn, {n, Pn}, {y_cols, 1}, dtype, device);
        if (cf.proj_size > 0) {
          check(ops.mm_out(y_t.get(), hy.get(), w.w_hr_t[d].get()), "mm_out (projection)");
        } else {
          y_t.copy_from(hy);
        }
        if (!carry) {
          h.copy_from(y_t);
          c.copy_from(cy);
        } else if (cf.proj_size > 0) {
          h_carry = std::move(y_t);
          c_carry = std::move(cy);
        } else {
          h_owned = std::move(hy);
          h_carry = h_owned.view(0, {B, Pn}, {Pn, 1}, dtype, device);
          c_carry = std::move(cy);
        }
      }
      if (carry) {  // h_n, c_n of this layer and direction (h0, c0 are no longer needed)
        h_state.view(state * B * Pn, {B, Pn}, {Pn, 1}, dtype, device).copy_from(h_carry);
        c_state.view(state * B * H, {B, H}, {H, 1}, dtype, device).copy_from(c_carry);
      }
    }
    layer_in = y->view(0, {rows, y_cols}, {y_cols, 1}, dtype, device);
  }
  return std::move(*y);
}

template <typename T>
void forward_device(Lstm::Impl& m, const StepLayout& io, const T* input, const T* h0, const T* c0,
                    T* output, T* h_n, T* c_n) {
  const Config& cf = m.config;
  const Device host{}, device = cf.device;
  const Dtype hd = dtype_of<T>(), dtype = cf.dtype;
  const int64_t H = cf.hidden_size, Pn = cf.P(), I = cf.input_size;
  const int64_t y_cols = cf.num_directions * Pn, states = cf.num_layers * cf.num_directions;
  const int64_t T_ = io.steps, B = io.batch, rows = io.rows;
  // Host data seen in the device's order: a padded batch as time-major (T, B, F) (a batch-first
  // one through strides), a packed one as it is.
  const bool bf = !io.packed && io.b_stride != 1;
  auto host_view = [&](const T* p, int64_t F) {
    if (io.packed) return Tensor::from_blob(const_cast<T*>(p), {rows, F}, hd, host);
    return bf ? Tensor::from_blob(const_cast<T*>(p), {T_, B, F}, {F, T_ * F, 1}, hd, host)
              : Tensor::from_blob(const_cast<T*>(p), {T_, B, F}, hd, host);
  };
  const StepLayout lay = io.packed ? io : StepLayout::padded(T_, B, false);
  Tensor x = io.packed ? Tensor::empty({rows, I}, dtype, device) : Tensor::empty({T_, B, I}, dtype, device);
  x.copy_from(host_view(input, I));
  Tensor h_state = Tensor::empty({states, B, Pn}, dtype, device);
  Tensor c_state = Tensor::empty({states, B, H}, dtype, device);
  upload_states(h_state, h0, states, B, Pn);
  upload_states(c_state, c0, states, B, H);
  Tensor y = scan_device(m, lay, x, h_state, c_state);
  if (io.packed) {
    host_view(output, y_cols).copy_from(y);
  } else {
    host_view(output, y_cols).copy_from(y.view(0, {T_, B, y_cols}, {B * y_cols, y_cols, 1}, dtype, device));
  }
  if (h_n != nullptr) Tensor::from_blob(h_n, {states, B, Pn}, hd, host).copy_from(h_state);
  if (c_n != nullptr) Tensor::from_blob(c_n, {states, B, H}, hd, host).copy_from(c_state);
}

template void forward_device<float>(Lstm::Impl&, const StepLayout&, const float*, const float*,
                                    const float*, float*, float*, float*);
template void forward_device<double>(Lstm::Impl&, const StepLayout&, const double*, const double*,
                                     const double*, double*, double*, double*);

}  // namespace lstm4j
