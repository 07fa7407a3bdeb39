// The oneDNN layer (Algorithm::kOneDnn): each layer and direction is one call of oneDNN's fused
// LSTM through LibTorch's C ABI, as LibTorch's own CPU lstm runs it. float32, padded batches, no
// projection (the front falls back to the scan otherwise). oneDNN works time-major, so a
// batch-first input is transposed once and the layers in between are time-major.
#include <cstring>

#include "stack.h"

namespace lstm4j {

namespace {

class OneDnnLayer {
 public:
  OneDnnLayer(Lstm::Impl& m, const StepLayout& io, Workspace& ws)
      : m_(m), c_(m.config), ws_(ws),
        time_major_(StepLayout::padded(io.steps, io.batch, false)) {
    const int64_t B = io.batch, H = c_.hidden_size;
    zero_state_ = Tensor::empty({B, H}, Dtype::kFloat32, host_);
    std::memset(zero_state_.data_ptr(), 0, sizeof(float) * static_cast<size_t>(B * H));
  }

  const StepLayout& mid_layout(const StepLayout&) const { return time_major_; }

  void begin_layer(const LayerIo<float>& io) {
    const int64_t T_ = io.x_lay->steps, B = io.x_lay->batch, in = io.in;
    if (io.x_lay->b_stride != 1 && B > 1) {  // batch-first: one time-major copy
      float* buf = ws_.get<float>(Workspace::kIn, T_ * B * in);
      layer_in_ = Tensor::from_blob(buf, {T_, B, in}, Dtype::kFloat32, host_);
      layer_in_.copy_from(Tensor::from_blob(const_cast<float*>(io.x), {T_, B, in},
                                            {in, T_ * in, 1}, Dtype::kFloat32, host_));
    } else {
      layer_in_ = Tensor::from_blob(const_cast<float*>(io.x), {T_, B, in}, Dtype::kFloat32, host_);
    }
  }

  void scan(const LayerIo<float>& io, const DirIo<float>& dir) {
    const LayerWeights& w = m_.params.layer(io.layer);
    const StepLayout& out_lay = *io.y_lay;
    const int64_t T_ = out_lay.steps, B = out_lay.batch, H = c_.hidden_size;
    const int64_t D = c_.num_directions, d = dir.d, y_cols = D * H;
    const Dtype f32 = Dtype::kFloat32;
    Tensor hx = dir.h0 != nullptr ? Tensor::from_blob(const_cast<float*>(dir.h0), {B, H}, f32, host_)
                                  : Tensor();
    Tensor cx = dir.c0 != nullptr ? Tensor::from_blob(const_cast<float*>(dir.c0), {B, H}, f32, host_)
                                  : Tensor();
    AtenTensorHandle r0 = nullptr, r1 = nullptr, r2 = nullptr, r3 = nullptr;
    constexpr int64_t kModeLstm = 2;
    check(aoti_torch_cpu_mkldnn_rnn_layer(
              layer_in_.get(), w.w_ih_dir[d].get(), w.w_hh[d].get(), w.b_dir[d].get(),
              w.zeros_g.get(), hx.defined() ? hx.get() : zero_state_.get(),
              cx.defined() ? cx.get() : zero_state_.get(), static_cast<int32_t>(d), nullptr, 0,
              kModeLstm, H, c_.num_layers, 1, D == 2 ? 1 : 0, 0, 0, &r0, &r1, &r2, &r3),
          "aoti_torch_cpu_mkldnn_rnn_layer");
    Tensor out(r0), hy(r1), cy(r2), workspace(r3);
    // Scatter this direction's (T, B, H) into its columns of the layer output, in its layout.
    const bool bf = out_lay.b_stride != 1;
    Tensor dst = Tensor::from_blob(io.y + d * H, {T_, B, H},
                                   bf ? std::vector<int64_t>{y_cols, T_ * y_cols, 1}
                                      : std::vector<int64_t>{B * y_cols, y_cols, 1},
                                   f32, host_);
    dst.copy_from(out);
    int64_t n_c = 0;
    check(aoti_torch_get_numel(cy.get(), &n_c), "aoti_torch_get_numel");
    if (n_c != B * H) throw Error("oneDNN LSTM returned unexpected state sizes", ErrorKind::kInternal);
    std::memcpy(dir.c, cy.data_ptr(), sizeof(float) * static_cast<size_t>(B * H));
  }

 private:
  Lstm::Impl& m_;
  const Config& c_;
  Workspace& ws_;
  const Device host_{};
  const StepLayout time_major_;
  Tensor zero_state_, layer_in_;
};

}  // namespace

void forward_onednn(Lstm::Impl& m, const StepLayout& io, const float* input, const float* h0,
                    const float* c0, float* output, float* h_n, float* c_n) {
  WorkspaceLease ws(m);
  OneDnnLayer exec(m, io, *ws);
  run_stack<float>(m, io, input, h0, c0, output, h_n, c_n, *ws, exec);
}

}  // namespace lstm4j
