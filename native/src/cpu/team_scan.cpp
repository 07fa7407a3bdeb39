// The team scan: the CPU scan on our own kernels (the default in both dtypes, and packed
// batches'). Per layer one input GEMM for every step and both directions (or each step's own, see
// fuse_input_projection), then the time loop, split over the team by batch rows (each part runs
// its rows through every step) or, for small batches, by hidden units at every step (each part
// owns its columns of the i, f, g, o blocks and then its units of the gate pass, then the W_hr
// product split by output columns); row_split_parts chooses. No LibTorch call inside the time
// loop. With a packed batch, step t runs only its n[t] sequences: finished ones drop out of the
// GEMMs, and in the reverse direction a sequence joins at its own last step with its initial state.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

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

// A step whose weights exceed this per thread streams them from L3 or memory at every step whatever
// the split, so it is cut into kStreamParts parts per thread: parts are claimed, so a thread that
// loses its core for a while (to a stream pool's clients, say) holds up only a small part, which
// the others take over, instead of half the step. Smaller weights keep one part per thread, so
// that each core finds its share in its own L2 at the next step.
constexpr int64_t kStreamBytes = int64_t{1} << 20;
constexpr int kStreamParts = 4;

int parts_for(int64_t flops, int64_t width, int64_t align, int team_size,
              int64_t weight_bytes = 0) {
  if (flops < kSplitFlops) return 1;
  const int64_t per_thread = team_size > 1 && weight_bytes / team_size > kStreamBytes
                                 ? kStreamParts * team_size
                                 : team_size;
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(per_thread, width / align)));
}

// How a step is split over the team: the one place that chooses, per shape.
// - By batch rows (ORT's batch_parallel) when every part gets at least kRowsPerPart rows: each
//   part runs its rows through all steps of a direction, with all columns of its rows, and the
//   threads meet once per direction instead of at every step. A thread that loses its core for a
//   while delays only its rows, where a step split by units waits for the slower core at every
//   step (and the waiting caller spins on a core the other thread could use).
// - Else by hidden units at every step (parts_for): a small batch has too few rows to share, and
//   each core keeps its share of W_hh in its L2 (B=1: a GEMV streaming 512 KB per core).
// A single step (a stream pool's, or a streaming forward's) has no hand-offs to save, and split by
// units each core reads only its share of the weights: one step always splits by units.
// Rows per part stay a multiple of the 4-row register tile; the bits are the same either way
// (each output element is one FMA chain in k order). Returns the row parts, or 1 for the unit split.
constexpr int64_t kRowsPerPart = 16;
constexpr int64_t kRowAlign = 4;
// LSTM4J_CPU_SPLIT=rows or units forces one split wherever it can run (an A/B switch for
// measurements, read by the JAVA engine too); unset, the shape chooses.
// Read once per process (it is set before the process starts): not a getenv scan per forward.
const std::string& split_override() {
  static const std::string value = [] {
    const char* v = std::getenv("LSTM4J_CPU_SPLIT");
    return std::string(v != nullptr ? v : "");
  }();
  return value;
}

int row_split_parts(int64_t batch, int64_t steps, int team_size) {
  const std::string& force = split_override();
  const bool rows = force == "rows";
  if (team_size <= 1 || force == "units") return 1;
  if (steps <= 1 && !rows) return 1;
  const int64_t parts = std::min<int64_t>(team_size, batch / (rows ? kRowAlign : kRowsPerPart));
  return parts >= 2 ? static_cast<int>(parts) : 1;
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
    row_parts_ = row_split_parts(B, io.steps, team_size_);
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
    const int64_t H = c_.hidden_size, Pn = c_.P(), G = c_.G(), T_ = lay.steps;
    const CellParams<T> cp(c_, m_.params.layer(io.layer), io.in, static_cast<int>(dir.d));
    const int row_parts = row_parts_;
    if (row_parts > 1) {
      // Each part carries its own rows through every step: no hand-off inside the time loop, and
      // a core taken away for a while delays only its rows.
      auto rows = [&](int p) {
        const int64_t r0 = part_lo(p, row_parts, lay.batch, kRowAlign);
        const int64_t r1 = part_lo(p + 1, row_parts, lay.batch, kRowAlign);
        for (int64_t s = 0; s < T_; ++s) step(io, dir, cp, s, r0, r1, 0, H, true);
      };
      team_.run(row_parts, rows);
      return;
    }
    for (int64_t s = 0; s < T_; ++s) {
      const int64_t n = lay.n_at(d_time(dir.d, s, T_));
      const bool recurrent = s > 0 || dir.h0 != nullptr;
      // The step's GEMM depth: W_hh's rows, and W_ih's when the step projects its own input.
      const int64_t k = Pn + (fuse_ ? io.in : 0);
      // A gate pass alone is not worth a hand-off.
      const int parts = recurrent || fuse_
                            ? parts_for(2 * n * k * G, H, kAlign, team_size_,
                                        k * G * static_cast<int64_t>(sizeof(T)))
                            : 1;
      auto body = [&](int p) {
        step(io, dir, cp, s, 0, n, part_lo(p, parts, H, kAlign), part_lo(p + 1, parts, H, kAlign),
             false);
      };
      team_.run(parts, body);
      if (cp.projects()) {
        const int64_t bs = lay.b_stride, y_cols = c_.num_directions * Pn;
        T* y_t = io.y + lay.row0[static_cast<size_t>(d_time(dir.d, s, T_))] * y_cols + dir.d * Pn;
        const int pparts = parts_for(2 * n * H * Pn, Pn, kAlign, team_size_);
        auto proj = [&](int p) {
          project(cp, 0, n, part_lo(p, pparts, Pn, kAlign), part_lo(p + 1, pparts, Pn, kAlign), y_t,
                  bs * y_cols);
        };
        team_.run(pparts, proj);
      }
    }
  }

 private:
  static int64_t d_time(int64_t d, int64_t s, int64_t steps) { return d == 0 ? s : steps - 1 - s; }

  // Step s of one direction for batch rows [r0, r1) (clipped to the rows the step runs) and hidden
  // units [u0, u1): the input projection if fused, the W_hh product, the gate pass, and with
  // `whole_rows` (a row part, which owns all columns of its rows) the projection. Every output
  // element is computed as on one thread, so the bits do not depend on the split.
  void step(const LayerIo<T>& io, const DirIo<T>& dir, const CellParams<T>& cp, int64_t s,
            int64_t r0, int64_t r1, int64_t u0, int64_t u1, bool whole_rows) {
    const StepLayout& lay = *io.y_lay;
    const int64_t H = c_.hidden_size, Pn = c_.P(), D = c_.num_directions, G = c_.G();
    const int64_t bs = lay.b_stride, T_ = lay.steps, in = io.in, d = dir.d, y_cols = D * Pn;
    const int64_t t = d_time(d, s, T_);
    const int64_t n = lay.n_at(t);
    // Rows [0, cont) continue from the previous step; rows [cont, n) start here from h0.
    const int64_t t_prev = d == 0 ? t - 1 : t + 1;
    const int64_t cont = s == 0 ? 0 : std::min(n, lay.n_at(t_prev));
    r1 = std::min(r1, n);
    if (r0 >= r1) return;
    const int64_t c0 = std::clamp(cont, r0, r1);  // this part's continuing rows: [r0, c0)
    const T* h_prev = cont > 0 ? io.y + lay.row0[static_cast<size_t>(t_prev)] * y_cols + d * Pn : nullptr;
    const int64_t h_prev_stride = bs * y_cols;
    T* y_t = io.y + lay.row0[static_cast<size_t>(t)] * y_cols + d * Pn;
    const T* x_t = io.x + lay.row0[static_cast<size_t>(t)] * in;
    const int64_t gx_stride = fuse_ ? G : bs * D * G;
    const T* gx_t = fuse_ ? gx_ : gx_ + lay.row0[static_cast<size_t>(t)] * (D * G) + d * G;
    T* h_out = cp.cell_out(y_t, h_full_);
    const int64_t h_out_stride = cp.cell_out_stride(bs * y_cols);
    const bool recurrent = cont > 0 || dir.h0 != nullptr;
    const int64_t m = r1 - r0;
    // One call per gate block of a unit range, or one for all columns of whole rows.
    const int64_t blocks = whole_rows ? 1 : 4, j0 = whole_rows ? 0 : u0, j1 = whole_rows ? G : u1;
    for (int64_t g = 0; g < blocks; ++g) {
      const int64_t n0 = g * H + j0, n1 = whole_rows ? j1 : g * H + j1;
      if (fuse_) gemm(m, in, x_t + r0 * bs * in, bs * in, cp.w_ih, H, n0, n1, cp.bias, gx_ + r0 * G, G);
      if (!recurrent) continue;
      if (c0 > r0) {
        gemm(c0 - r0, Pn, h_prev + r0 * h_prev_stride, h_prev_stride, cp.w_hh, H, n0, n1, nullptr,
             gh_ + r0 * G, G);
      }
      if (c0 < r1 && dir.h0 != nullptr) {
        gemm(r1 - c0, Pn, dir.h0 + c0 * Pn, Pn, cp.w_hh, H, n0, n1, nullptr, gh_ + c0 * G, G);
      } else {
        for (int64_t r = c0; r < r1; ++r) {
          std::memset(gh_ + r * G + n0, 0, sizeof(T) * static_cast<size_t>(n1 - n0));
        }
      }
    }
    cpu::lstm_gates<T>(m, H, u0, u1, gx_t + r0 * gx_stride, gx_stride,
                       recurrent ? gh_ + r0 * G : nullptr, dir.c + r0 * H, h_out + r0 * h_out_stride,
                       h_out_stride);
    if (whole_rows && cp.projects()) project(cp, r0, r1, 0, Pn, y_t, bs * y_cols);
  }

  // Rows [r0, r1), columns [p0, p1) of y_t <- h_full W_hr^T (the cell wrote h_full).
  void project(const CellParams<T>& cp, int64_t r0, int64_t r1, int64_t p0, int64_t p1, T* y_t,
               int64_t y_stride) {
    gemm(r1 - r0, cp.H, h_full_ + r0 * cp.H, cp.H, cp.w_hr, cp.P, p0, p1, nullptr,
         y_t + r0 * y_stride, y_stride);
  }

  Lstm::Impl& m_;
  const Config& c_;
  cpu::Team& team_;
  const int team_size_;
  bool fuse_ = false;
  int row_parts_ = 1;
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
