// Times the float32 team scan's pieces at one shape, per phase, against the machine's FMA peak:
// the hoisted input GEMM, the per-step W_hh GEMM, the gate pass, and a step of both, split over
// the team as lstm.cpp splits them. Not a test; run by hand:
//   gemm_bench [batch] [seq_len] [input_size] [hidden_size] [threads] [layers]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cpu/gemm_f32.h"
#include "cpu/lstm_gates.h"
#include "cpu/team.h"
#include "lstm4j/lstm.h"

using Clock = std::chrono::steady_clock;
namespace cpu = lstm4j::cpu;

namespace {
template <typename F>
double best_ms(int reps, F&& fn) {
  fn();
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = Clock::now();
    fn();
    best = std::min(best, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  return best;
}

std::vector<float> random_floats(size_t n, unsigned seed) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1664525u + 1013904223u;
    v[i] = static_cast<float>(seed >> 8) / 16777216.0f - 0.5f;
  }
  return v;
}
}  // namespace

int main(int argc, char** argv) {
  const int64_t B = argc > 1 ? std::atoll(argv[1]) : 64;
  const int64_t T = argc > 2 ? std::atoll(argv[2]) : 128;
  const int64_t I = argc > 3 ? std::atoll(argv[3]) : 256;
  const int64_t H = argc > 4 ? std::atoll(argv[4]) : 256;
  const int threads = argc > 5 ? std::atoi(argv[5]) : cpu::Team::default_size();
  const int64_t G = 4 * H, rows = B * T;
  cpu::Team team(threads);
  const double peak = cpu::fma_peak_gflops(threads);
  std::printf("B=%lld T=%lld I=%lld H=%lld threads=%d, FMA peak %.1f GFLOP/s\n",
              static_cast<long long>(B), static_cast<long long>(T), static_cast<long long>(I),
              static_cast<long long>(H), threads, peak);

  std::vector<float> x = random_floats(rows * I, 1), w_ih = random_floats(cpu::packed_size(I, G, H), 2);
  std::vector<float> w_hh = random_floats(cpu::packed_size(H, G, H), 3), bias = random_floats(G, 4);
  std::vector<float> gx(rows * G), gh(B * G), c(B * H, 0.0f), h = random_floats(B * H, 5);
  auto report = [&](const char* what, double ms, double flops) {
    const double gflops = flops / ms / 1e6;
    std::printf("%-34s %10.3f ms %8.1f GFLOP/s %6.1f %% of peak\n", what, ms, gflops,
                100.0 * gflops / peak);
  };

  auto split = [&](int64_t width, int64_t align, int p, int parts) {
    return p == parts ? width : width * p / parts / align * align;
  };
  const int parts = threads;
  auto input_gemm = [&](int p) {
    cpu::gemm_f32(rows, I, x.data(), I, w_ih.data(), H, split(G, 32, p, parts),
                  split(G, 32, p + 1, parts), bias.data(), gx.data(), G);
  };
  report("input GEMM (all steps)", best_ms(5, [&] { team.run(parts, input_gemm); }),
         2.0 * rows * I * G);

  auto step_gemm = [&](int p) {
    const int64_t u0 = split(H, 16, p, parts), u1 = split(H, 16, p + 1, parts);
    for (int64_t g = 0; g < 4; ++g) {
      cpu::gemm_f32(B, H, h.data(), H, w_hh.data(), H, g * H + u0, g * H + u1, nullptr,
                    gh.data(), G);
    }
  };
  auto gates = [&](int p) {
    const int64_t u0 = split(H, 16, p, parts), u1 = split(H, 16, p + 1, parts);
    cpu::lstm_gates<float>(B, H, u0, u1, gx.data(), G, gh.data(), c.data(), h.data(), H);
  };
  auto step = [&](int p) {
    step_gemm(p);
    gates(p);
  };
  auto steps = [&](auto& body) {
    return [&] {
      for (int64_t t = 0; t < T; ++t) team.run(parts, body);
    };
  };
  const double flops_rec = 2.0 * rows * H * G;
  report("W_hh GEMMs (T steps)", best_ms(5, steps(step_gemm)), flops_rec);
  report("gate passes (T steps)", best_ms(5, steps(gates)), 0);
  report("steps: W_hh GEMM + gates", best_ms(5, steps(step)), flops_rec);
  auto one_part = [&] {
    for (int64_t t = 0; t < T; ++t) step_gemm(0);
  };
  report("W_hh GEMM of part 0, caller only", best_ms(5, one_part), flops_rec / parts);
  auto one_gates = [&] {
    for (int64_t t = 0; t < T; ++t) gates(0);
  };
  report("gate pass of part 0, caller only", best_ms(5, one_gates), 0);
  // Steps as the scan runs them: each reads its own rows of the input projection (time-major).
  int64_t t_now = 0;
  auto real_step = [&](int p) {
    const int64_t u0 = split(H, 16, p, parts), u1 = split(H, 16, p + 1, parts);
    step_gemm(p);
    cpu::lstm_gates<float>(B, H, u0, u1, gx.data() + t_now * B * G, G, gh.data(), c.data(), h.data(), H);
  };
  report("steps, gx of each step", best_ms(5, [&] {
    for (t_now = 0; t_now < T; ++t_now) team.run(parts, real_step);
  }), flops_rec);
  // The input projection per step instead, just before the step uses it (cache-hot).
  std::vector<float> gx_step(B * G);
  auto fused_step = [&](int p) {
    const int64_t u0 = split(H, 16, p, parts), u1 = split(H, 16, p + 1, parts);
    for (int64_t g = 0; g < 4; ++g) {
      cpu::gemm_f32(B, I, x.data() + t_now * B * I, I, w_ih.data(), H, g * H + u0, g * H + u1,
                    bias.data(), gx_step.data(), G);
    }
    step_gemm(p);
    cpu::lstm_gates<float>(B, H, u0, u1, gx_step.data(), G, gh.data(), c.data(), h.data(), H);
  };
  report("steps with their own input GEMM", best_ms(5, [&] {
    for (t_now = 0; t_now < T; ++t_now) team.run(parts, fused_step);
  }), 2.0 * rows * I * G + flops_rec);
  report("input GEMM, then steps", best_ms(5, [&] {
    team.run(parts, input_gemm);
    for (t_now = 0; t_now < T; ++t_now) team.run(parts, real_step);
  }), 2.0 * rows * I * G + flops_rec);
  // The same steps split by batch rows, as the team scan splits a large batch: each part runs its
  // rows through all T steps (own input GEMM, W_hh GEMM, gate pass), one hand-off in all.
  std::vector<float> gh_rows(B * G), c_rows(B * H, 0.0f), h_rows = random_floats(B * H, 5);
  auto row_part = [&](int p) {
    const int64_t r0 = split(B, 4, p, parts), r1 = split(B, 4, p + 1, parts), m = r1 - r0;
    for (int64_t t = 0; t < T; ++t) {
      cpu::gemm_f32(m, I, x.data() + (t * B + r0) * I, I, w_ih.data(), H, 0, G, bias.data(),
                    gx_step.data() + r0 * G, G);
      cpu::gemm_f32(m, H, h_rows.data() + r0 * H, H, w_hh.data(), H, 0, G, nullptr,
                    gh_rows.data() + r0 * G, G);
      cpu::lstm_gates<float>(m, H, 0, H, gx_step.data() + r0 * G, G, gh_rows.data() + r0 * G,
                             c_rows.data() + r0 * H, h_rows.data() + r0 * H, H);
    }
  };
  // Alternated with the unit split, so that a change of load hits both alike.
  for (int round = 0; round < 3; ++round) {
    report("steps with own input GEMM, by units", best_ms(5, [&] {
      for (t_now = 0; t_now < T; ++t_now) team.run(parts, fused_step);
    }), 2.0 * rows * I * G + flops_rec);
    report("steps with own input GEMM, by rows", best_ms(5, [&] { team.run(parts, row_part); }),
           2.0 * rows * I * G + flops_rec);
  }
  auto noop = [&](int) {};
  report("team hand-offs only (T steps)", best_ms(5, steps(noop)), 0);

  // The whole forward of an LSTM of these sizes (2 layers by default), batch_first, through the
  // public class.
  const int64_t L = argc > 6 ? std::atoll(argv[6]) : 2;
  lstm4j::Lstm lstm(I, H, L, true, false, 0, lstm4j::Dtype::kFloat32, lstm4j::DeviceType::kCpu, 0);
  for (int64_t l = 0; l < L; ++l) {
    const int64_t in = l == 0 ? I : H;
    const std::string s = std::to_string(l);
    lstm.set_parameter(("weight_ih_l" + s).c_str(), random_floats(G * in, 20 + l).data(), G * in);
    lstm.set_parameter(("weight_hh_l" + s).c_str(), random_floats(G * H, 30 + l).data(), G * H);
    lstm.set_parameter(("bias_ih_l" + s).c_str(), bias.data(), G);
    lstm.set_parameter(("bias_hh_l" + s).c_str(), bias.data(), G);
  }
  std::vector<float> out(rows * H), hn(L * B * H), cn(L * B * H);
  report(L == 2 ? "forward, 2 layers, batch_first" : "forward, batch_first", best_ms(5, [&] {
           lstm.forward(x.data(), T, B, true, nullptr, nullptr, out.data(), hn.data(), cn.data());
         }), 2.0 * rows * I * G + flops_rec + (L - 1) * (2.0 * rows * H * G + flops_rec));
  return 0;
}
