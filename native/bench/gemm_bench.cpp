// Times the float32 team scan's pieces at one shape, per phase, against the machine's FMA peak:
// the hoisted input GEMM, the per-step W_hh GEMM, the gate pass, and a step of both, split over
// the team as lstm.cpp splits them. Not a test; run by hand:
//   gemm_bench [batch] [seq_len] [input_size] [hidden_size] [threads]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "cpu/gemm_f32.h"
#include "cpu/lstm_gates.h"
#include "cpu/team.h"

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
  const int64_t G = 4 * H, rows = B * T, ld_ih = cpu::padded_ld(G), ld_hh = cpu::padded_ld(G);
  cpu::Team team(threads);
  const double peak = cpu::fma_peak_gflops(threads);
  std::printf("B=%lld T=%lld I=%lld H=%lld threads=%d, FMA peak %.1f GFLOP/s\n",
              static_cast<long long>(B), static_cast<long long>(T), static_cast<long long>(I),
              static_cast<long long>(H), threads, peak);

  std::vector<float> x = random_floats(rows * I, 1), w_ih = random_floats(I * ld_ih, 2);
  std::vector<float> w_hh = random_floats(H * ld_hh, 3), bias = random_floats(G, 4);
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
    cpu::gemm_f32(rows, I, x.data(), I, w_ih.data(), ld_ih, split(G, 32, p, parts),
                  split(G, 32, p + 1, parts), bias.data(), gx.data(), G);
  };
  report("input GEMM (all steps)", best_ms(5, [&] { team.run(parts, input_gemm); }),
         2.0 * rows * I * G);

  auto step_gemm = [&](int p) {
    const int64_t u0 = split(H, 16, p, parts), u1 = split(H, 16, p + 1, parts);
    for (int64_t g = 0; g < 4; ++g) {
      cpu::gemm_f32(B, H, h.data(), H, w_hh.data(), ld_hh, g * H + u0, g * H + u1, nullptr,
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
  auto noop = [&](int) {};
  report("team hand-offs only (T steps)", best_ms(5, steps(noop)), 0);
  return 0;
}
