// Times the pieces of one LSTM step on CPU (recurrent GEMM through the C ABI, gate pass) so that
// changes to the native path can be measured piece by piece. Not a test; run by hand:
//   step_bench [batch] [hidden] [steps]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cpu/lstm_gates.h"
#include "lstm4j/lstm.h"
#include "lstm4j/tensor.h"

using Clock = std::chrono::steady_clock;
using lstm4j::Device;
using lstm4j::Dtype;
using lstm4j::Tensor;

int main(int argc, char** argv) {
  const int64_t B = argc > 1 ? std::atoll(argv[1]) : 8;
  const int64_t H = argc > 2 ? std::atoll(argv[2]) : 128;
  const int steps = argc > 3 ? std::atoi(argv[3]) : 2000;
  const int64_t G = 4 * H;
  std::vector<float> h(B * H, 0.1f), w(G * H, 0.01f), gh(B * G), gx(B * G, 0.2f), c(B * H), y(B * H);
  const Device cpu{};
  Tensor th = Tensor::from_blob(h.data(), {B, H}, Dtype::kFloat32, cpu);
  Tensor twt = Tensor::from_blob(w.data(), {H, G}, {1, H}, Dtype::kFloat32, cpu);
  Tensor tg = Tensor::from_blob(gh.data(), {B, G}, Dtype::kFloat32, cpu);
  auto time = [&](const char* what, auto&& fn) {
    for (int i = 0; i < 50; ++i) fn();
    auto t0 = Clock::now();
    for (int i = 0; i < steps; ++i) fn();
    double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / steps;
    std::printf("%-40s %9.2f us\n", what, us);
  };
  time("mm_out h W_hh^T (handles reused)", [&] {
    lstm4j::check(aoti_torch_cpu_mm_out(tg.get(), th.get(), twt.get()), "mm");
  });
  time("mm_out + 3 from_blob handles", [&] {
    Tensor a = Tensor::from_blob(h.data(), {B, H}, Dtype::kFloat32, cpu);
    Tensor b = Tensor::from_blob(w.data(), {H, G}, {1, H}, Dtype::kFloat32, cpu);
    Tensor o = Tensor::from_blob(gh.data(), {B, G}, Dtype::kFloat32, cpu);
    lstm4j::check(aoti_torch_cpu_mm_out(o.get(), a.get(), b.get()), "mm");
  });
  time("from_blob + delete", [&] { Tensor a = Tensor::from_blob(h.data(), {B, H}, Dtype::kFloat32, cpu); });
  time("gate pass", [&] {
    lstm4j::cpu::lstm_gates<float>(B, H, 0, H, gx.data(), G, gh.data(), c.data(), y.data(), H);
  });
  // Whole forward of a 2-layer LSTM, batch_first (the demo's shape when called with 8 128).
  const int64_t T = 32, I = 64, L = 2;
  lstm4j::Lstm lstm(I, H, L, true, false, 0, lstm4j::Dtype::kFloat32, lstm4j::DeviceType::kCpu, 0);
  for (int64_t l = 0; l < L; ++l) {
    const int64_t in = l == 0 ? I : H;
    std::vector<float> wih(G * in, 0.01f), whh(G * H, 0.01f), b(G, 0.1f);
    const std::string s = std::to_string(l);
    lstm.set_parameter(("weight_ih_l" + s).c_str(), wih.data(), G * in);
    lstm.set_parameter(("weight_hh_l" + s).c_str(), whh.data(), G * H);
    lstm.set_parameter(("bias_ih_l" + s).c_str(), b.data(), G);
    lstm.set_parameter(("bias_hh_l" + s).c_str(), b.data(), G);
  }
  std::vector<float> x(B * T * I, 0.5f), out(B * T * H), hn(L * B * H), cn(L * B * H);
  const int saved = steps;
  (void)saved;
  auto t0 = Clock::now();
  const int reps = 50;
  for (int i = 0; i < reps; ++i) {
    lstm.forward(x.data(), T, B, true, nullptr, nullptr, out.data(), hn.data(), cn.data());
  }
  std::printf("%-40s %9.2f us\n", "forward T=32 L=2 (mean of 50)",
              std::chrono::duration<double, std::micro>(Clock::now() - t0).count() / reps);
  return 0;
}
