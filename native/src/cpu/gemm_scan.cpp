// The LibTorch-GEMM scan (Algorithm::kScan; float64's default): per layer one input GEMM for
// every step and both directions through LibTorch's addmm, then per step LibTorch's mm for W_hh h
// (and W_hr h with a projection) and our fused gate kernel. Padded batches only: the front runs
// packed ones on the team scan.
#include "cpu/lstm_gates.h"
#include "stack.h"

namespace lstm4j {

namespace {

// out = mat1 @ mat2 (+ bias broadcast over rows when given), on LibTorch's CPU GEMM.
void linear_out(const Tensor& out, const Tensor& mat1, const Tensor& mat2, const Tensor* bias) {
  if (bias != nullptr && bias->defined()) {
    check(aoti_torch_cpu_addmm_out(out.get(), bias->get(), mat1.get(), mat2.get(), 1.0, 1.0),
          "aoti_torch_cpu_addmm_out");
  } else {
    check(aoti_torch_cpu_mm_out(out.get(), mat1.get(), mat2.get()), "aoti_torch_cpu_mm_out");
  }
}

template <typename T>
class GemmScan {
 public:
  GemmScan(Lstm::Impl& m, const StepLayout& io, Workspace& ws) : m_(m), c_(m.config) {
    const int64_t B = io.batch, H = c_.hidden_size, G = c_.G(), D = c_.num_directions;
    const Dtype dt = dtype_of<T>();
    gx_ = Tensor::from_blob(ws.get<T>(Workspace::kGx, io.rows * D * G), {io.rows, D * G}, dt, host_);
    gh_ = Tensor::from_blob(ws.get<T>(Workspace::kGh, B * G), {B, G}, dt, host_);
    if (c_.proj_size > 0) {
      h_full_ = Tensor::from_blob(ws.get<T>(Workspace::kHFull, B * H), {B, H}, dt, host_);
    }
  }

  const StepLayout& mid_layout(const StepLayout& io) const { return io; }

  // Input projection of every time step and both directions: one GEMM.
  void begin_layer(const LayerIo<T>& io) {
    const LayerWeights& w = m_.params.layer(io.layer);
    Tensor x = Tensor::from_blob(const_cast<T*>(io.x), {io.x_lay->rows, io.in}, dtype_of<T>(), host_);
    linear_out(gx_, x, w.w_ih_cat_t, c_.bias ? &w.bias_cat : nullptr);
  }

  void scan(const LayerIo<T>& io, const DirIo<T>& dir) {
    const StepLayout& lay = *io.y_lay;
    const LayerWeights& w = m_.params.layer(io.layer);
    const int64_t H = c_.hidden_size, Pn = c_.P(), D = c_.num_directions, G = c_.G();
    const int64_t B = lay.batch, T_ = lay.steps, bs = lay.b_stride, d = dir.d, y_cols = D * Pn;
    const Dtype dt = dtype_of<T>();
    T* const y = io.y;
    T* const gx_p = gx_.template data<T>();
    T* const gh_p = gh_.template data<T>();
    T* const h_full_p = c_.proj_size > 0 ? h_full_.template data<T>() : nullptr;
    int64_t t_prev = -1;
    for (int64_t s = 0; s < T_; ++s) {
      const int64_t t = d == 0 ? s : T_ - 1 - s;
      const T* gh_step = nullptr;
      if (t_prev >= 0 || dir.h0 != nullptr) {
        const T* h_prev = t_prev >= 0 ? y + lay.row0[static_cast<size_t>(t_prev)] * y_cols + d * Pn
                                      : dir.h0;
        const int64_t h_prev_stride = t_prev >= 0 ? bs * y_cols : Pn;
        Tensor hp = Tensor::from_blob(const_cast<T*>(h_prev), {B, Pn}, {h_prev_stride, 1}, dt, host_);
        linear_out(gh_, hp, w.w_hh_t[d], nullptr);
        gh_step = gh_p;
      }
      T* y_t = y + lay.row0[static_cast<size_t>(t)] * y_cols + d * Pn;
      const T* gx_t = gx_p + lay.row0[static_cast<size_t>(t)] * (D * G) + d * G;
      // With a projection the cell writes h_full, which project() multiplies into y_t.
      T* h_out = h_full_p != nullptr ? h_full_p : y_t;
      cpu::lstm_gates<T>(B, H, 0, H, gx_t, bs * D * G, gh_step, dir.c, h_out,
                         h_full_p != nullptr ? H : bs * y_cols);
      project(w, d, y_t, B, bs * y_cols);
      t_prev = t;
    }
  }

 private:
  void project(const LayerWeights& w, int64_t d, T* y_t, int64_t B, int64_t y_stride) {
    if (!h_full_.defined()) return;
    Tensor out = Tensor::from_blob(y_t, {B, c_.P()}, {y_stride, 1}, dtype_of<T>(), host_);
    linear_out(out, h_full_, w.w_hr_t[d], nullptr);
  }

  Lstm::Impl& m_;
  const Config& c_;
  const Device host_{};
  Tensor gx_, gh_, h_full_;
};

}  // namespace

template <typename T>
void forward_scan(Lstm::Impl& m, const StepLayout& io, const T* input, const T* h0, const T* c0,
                  T* output, T* h_n, T* c_n) {
  WorkspaceLease ws(m);
  GemmScan<T> exec(m, io, *ws);
  run_stack<T>(m, io, input, h0, c0, output, h_n, c_n, *ws, exec);
}

template void forward_scan<float>(Lstm::Impl&, const StepLayout&, const float*, const float*,
                                  const float*, float*, float*, float*);
template void forward_scan<double>(Lstm::Impl&, const StepLayout&, const double*, const double*,
                                   const double*, double*, double*, double*);

}  // namespace lstm4j
