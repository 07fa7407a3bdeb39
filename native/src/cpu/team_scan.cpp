// The team scan: the CPU scan on our own kernels (the default in both dtypes, and packed
// batches'). Per layer one input GEMM for every step and both directions, per step the W_hh product
// and the gate pass split by hidden units over the team (each part owns its columns of the i, f,
// g, o blocks and then its units of the gate pass), then the W_hr product split by output columns.
// No LibTorch call inside the time loop. With a packed batch, step t runs only its n[t] sequences:
// finished ones drop out of the GEMMs, and in the reverse direction a sequence joins at its own
// last step with its initial state.
#include <algorithm>
#include <cstring>

#include "cpu/gemm_f32.h"
#include "cpu/lstm_gates.h"
#include "stack.h"

namespace lstm4j {

namespace {
// Products of a step below this many flops stay on the calling thread: splitting them saves less
// than the hand-off costs. At B=1, H=256 the 1 MB W_hh^T is above it, and split in two it fits
// the L2 caches of two cores.
constexpr int64_t kSplitFlops = int64_t{1} << 17;
// Units per part stay a multiple of one 512-bit vector of floats.
constexpr int64_t kAlign = 16;

int parts_for(int64_t flops, int64_t width, int64_t align, int team_size) {
  if (flops < kSplitFlops) return 1;
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(team_size, width / align)));
}

// Whether the team scan computes each step's input projection just before the step, instead of
// all steps' at once before the time loop. Per step it saves writing and reading back the step's
// gate pre-activations through main memory (64 MB a layer at B=64, H=256); it pays when a step's
// rows reuse each weight enough (B >= 32) and the input weights stay in the L2 caches between
// steps (a part's share <= 512 KB). Measured (gemm_bench, 2 threads): B=64, I=H=256: 4 % faster;
// B <= 16 or H >= 512: no faster or slower (at B=1 per-step GEMVs take 1.55x as long).
// max_input: the widest layer input.
bool fuse_input_projection(int64_t batch, int64_t max_input, int64_t hidden, size_t elem,
                           int team_size) {
  constexpr int64_t kL2Share = int64_t{512} << 10;
  const int64_t bytes = max_input * 4 * hidden * static_cast<int64_t>(elem);
  return batch >= 32 && bytes / std::max(team_size, 1) <= kL2Share;
}

inline int64_t part_lo(int p, int parts, int64_t width, int64_t align) {
  return p == parts ? width : width * p / parts / align * align;
}

// The team scan's GEMM: float32 on the per-ISA kernels; float64 on a plain loop with the same
// contract (one sequential sum per element), so that a row's bits depend neither on the split nor
// on the batch it is in (LibTorch's addmm/mm, in the scan, differ with the batch size).
inline void gemm(int64_t rows, int64_t k, const float* x, int64_t xs, const float* w, int64_t block,
                 int64_t n0, int64_t n1, const float* bias, float* out, int64_t os) {
  cpu::gemm_f32(rows, k, x, xs, w, block, n0, n1, bias, out, os);
}
inline void gemm(int64_t rows, int64_t k, const double* x, int64_t xs, const double* w,
                 int64_t block, int64_t n0, int64_t n1, const double* bias, double* out,
                 int64_t os) {
  for (int64_t j0 = n0; j0 < n1;) {  // one panel's share of the columns at a time
    const int64_t c = j0 % block;
    const int64_t len = std::min({cpu::kPanel - c % cpu::kPanel, block - c, n1 - j0});
    const double* wq = w + cpu::packed_index(0, j0, k, block);
    for (int64_t m = 0; m < rows; ++m) {
      double* o = out + m * os + j0;
      for (int64_t j = 0; j < len; ++j) o[j] = 0.0;
      for (int64_t kk = 0; kk < k; ++kk) {
        const double a = x[m * xs + kk];
        const double* wr = wq + kk * cpu::kPanel;
        for (int64_t j = 0; j < len; ++j) o[j] += a * wr[j];
      }
      if (bias != nullptr) {
        for (int64_t j = 0; j < len; ++j) o[j] += bias[j0 + j];
      }
    }
    j0 += len;
  }
}

template <typename T>
class TeamScan {
 public:
  TeamScan(Lstm::Impl& m, const StepLayout& io, Workspace& ws)
      : m_(m), c_(m.config), team_(*m.team), team_size_(m.threads) {
    const int64_t B = io.batch, H = c_.hidden_size, D = c_.num_directions, G = c_.G();
    fuse_ = fuse_input_projection(
        B, std::max(c_.input_size, c_.num_layers > 1 ? D * c_.P() : 0), H, sizeof(T), team_size_);
    gx_ = ws.get<T>(Workspace::kGx, fuse_ ? B * G : io.rows * D * G);
    gh_ = ws.get<T>(Workspace::kGh, B * G);
    h_full_ = c_.proj_size > 0 ? ws.get<T>(Workspace::kHFull, B * H) : nullptr;
  }

  const StepLayout& mid_layout(const StepLayout& io) const { return io; }

  // The input projection of every step and both directions at once (unless fused into the steps).
  void begin_layer(const LayerIo<T>& io) {
    if (fuse_) return;
    const LayerWeights& w = m_.params.layer(io.layer);
    const int64_t rows = io.x_lay->rows, in = io.in, width = c_.num_directions * c_.G();
    const T* w_ih = w.w_ih_p.template data<T>();
    const T* b_ih = c_.bias ? w.bias_cat.template data<T>() : nullptr;
    const int parts = parts_for(2 * rows * in * width, width, 2 * kAlign, team_size_);
    auto body = [&](int p) {
      gemm(rows, in, io.x, in, w_ih, c_.hidden_size, part_lo(p, parts, width, 2 * kAlign),
           part_lo(p + 1, parts, width, 2 * kAlign), b_ih, gx_, width);
    };
    team_.run(parts, body);
  }

  void scan(const LayerIo<T>& io, const DirIo<T>& dir) {
    const StepLayout& lay = *io.y_lay;
    const int64_t H = c_.hidden_size, Pn = c_.P(), D = c_.num_directions, G = c_.G();
    const int64_t bs = lay.b_stride, T_ = lay.steps, in = io.in, d = dir.d, y_cols = D * Pn;
    const CellParams<T> cp(c_, m_.params.layer(io.layer), in, static_cast<int>(d));
    const bool fuse = fuse_;
    T* const gx_p = gx_;
    T* const gh_p = gh_;
    T* const c_p = dir.c;
    T* const y = io.y;
    const T* const h0_s = dir.h0;
    for (int64_t s = 0; s < T_; ++s) {
      const int64_t t = d == 0 ? s : T_ - 1 - s;
      const int64_t n = lay.n_at(t);
      // Rows [0, cont) continue from the previous step; rows [cont, n) start here from h0.
      const int64_t t_prev = d == 0 ? t - 1 : t + 1;
      const int64_t cont = s == 0 ? 0 : std::min(n, lay.n_at(t_prev));
      const T* h_prev = cont > 0 ? y + lay.row0[static_cast<size_t>(t_prev)] * y_cols + d * Pn : nullptr;
      const int64_t h_prev_stride = bs * y_cols;
      T* y_t = y + lay.row0[static_cast<size_t>(t)] * y_cols + d * Pn;
      const T* x_t = io.x + lay.row0[static_cast<size_t>(t)] * in;
      const T* gx_t = fuse ? gx_p : gx_p + lay.row0[static_cast<size_t>(t)] * (D * G) + d * G;
      const int64_t gx_stride = fuse ? G : bs * D * G;
      T* h_out = cp.cell_out(y_t, h_full_);
      const int64_t h_out_stride = cp.cell_out_stride(bs * y_cols);
      const bool recurrent = cont > 0 || h0_s != nullptr;
      // A gate pass alone is not worth a hand-off.
      const int parts = recurrent || fuse ? parts_for(2 * n * (Pn + (fuse ? in : 0)) * G, H, kAlign, team_size_)
                                          : 1;
      auto step = [&](int p) {
        const int64_t u0 = part_lo(p, parts, H, kAlign), u1 = part_lo(p + 1, parts, H, kAlign);
        for (int64_t g = 0; g < 4; ++g) {
          if (fuse) {
            gemm(n, in, x_t, bs * in, cp.w_ih, H, g * H + u0, g * H + u1, cp.bias, gx_p, G);
          }
          if (!recurrent) continue;
          if (cont > 0) {
            gemm(cont, Pn, h_prev, h_prev_stride, cp.w_hh, H, g * H + u0, g * H + u1, nullptr,
                 gh_p, G);
          }
          if (cont < n && h0_s != nullptr) {
            gemm(n - cont, Pn, h0_s + cont * Pn, Pn, cp.w_hh, H, g * H + u0, g * H + u1, nullptr,
                 gh_p + cont * G, G);
          } else {
            for (int64_t r = cont; r < n; ++r) {
              std::memset(gh_p + r * G + g * H + u0, 0, sizeof(T) * static_cast<size_t>(u1 - u0));
            }
          }
        }
        cpu::lstm_gates<T>(n, H, u0, u1, gx_t, gx_stride, recurrent ? gh_p : nullptr, c_p, h_out,
                           h_out_stride);
      };
      team_.run(parts, step);
      project(cp, n, y_t, bs * y_cols);
    }
  }

 private:
  // y_t <- h_full W_hr^T, split by output columns; nothing without a projection (the cell wrote
  // y_t itself).
  void project(const CellParams<T>& cp, int64_t n, T* y_t, int64_t y_stride) {
    if (!cp.projects()) return;
    const int64_t Pn = cp.P, H = cp.H;
    const int pparts = parts_for(2 * n * H * Pn, Pn, kAlign, team_size_);
    auto body = [&](int p) {
      gemm(n, H, h_full_, H, cp.w_hr, Pn, part_lo(p, pparts, Pn, kAlign),
           part_lo(p + 1, pparts, Pn, kAlign), nullptr, y_t, y_stride);
    };
    team_.run(pparts, body);
  }

  Lstm::Impl& m_;
  const Config& c_;
  cpu::Team& team_;
  const int team_size_;
  bool fuse_ = false;
  T* gx_ = nullptr;
  T* gh_ = nullptr;
  T* h_full_ = nullptr;
};

}  // namespace

template <typename T>
void forward_team(Lstm::Impl& m, const StepLayout& io, const T* input, const T* h0, const T* c0,
                  T* output, T* h_n, T* c_n) {
  WorkspaceLease ws(m);
  TeamScan<T> exec(m, io, *ws);
  run_stack<T>(m, io, input, h0, c0, output, h_n, c_n, *ws, exec);
}

template void forward_team<float>(Lstm::Impl&, const StepLayout&, const float*, const float*,
                                  const float*, float*, float*, float*);
template void forward_team<double>(Lstm::Impl&, const StepLayout&, const double*, const double*,
                                   const double*, double*, double*, double*);

}  // namespace lstm4j
