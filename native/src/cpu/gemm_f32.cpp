#include "cpu/gemm_f32.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "cpu/isa.h"

namespace lstm4j::cpu {

void gemm_f32_avx512(int64_t, int64_t, const float*, int64_t, const float*, int64_t, int64_t,
                     int64_t, const float*, float*, int64_t);
void gemm_f32_avx2(int64_t, int64_t, const float*, int64_t, const float*, int64_t, int64_t,
                   int64_t, const float*, float*, int64_t);
void gemm_f32_base(int64_t, int64_t, const float*, int64_t, const float*, int64_t, int64_t,
                   int64_t, const float*, float*, int64_t);

int64_t fma_probe_avx512(int64_t, float);
int64_t fma_probe_avx2(int64_t, float);
int64_t fma_probe_base(int64_t, float);

namespace {
GemmF32Kernel pick() { return gemm_f32_kernel(detect_isa()); }

const GemmF32Kernel kernel = pick();

using Probe = int64_t (*)(int64_t, float);
Probe pick_probe() {
  switch (detect_isa()) {
    case Isa::kAvx512: return fma_probe_avx512;
    case Isa::kAvx2: return fma_probe_avx2;
    default: return fma_probe_base;
  }
}
}  // namespace

GemmF32Kernel gemm_f32_kernel(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return gemm_f32_avx512;
    case Isa::kAvx2: return gemm_f32_avx2;
    default: return gemm_f32_base;
  }
}

double fma_peak_gflops(int threads) {
  const Probe probe = pick_probe();
  probe(2000000, 1.0f);  // wake the core up to its clock
  constexpr int64_t kIterations = 8000000;
  double best = 0;
  // The best of three: a shared machine's other tenants can only make a run slower.
  for (int round = 0; round < 3; ++round) {
    std::atomic<int64_t> flops{0};
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] { flops += probe(kIterations, 1.0f + static_cast<float>(t)); });
    }
    for (std::thread& th : pool) th.join();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, static_cast<double>(flops.load()) / seconds / 1e9);
  }
  return best;
}

void gemm_f32(int64_t rows, int64_t k, const float* x, int64_t x_stride, const float* wt,
              int64_t block, int64_t n0, int64_t n1, const float* bias, float* out,
              int64_t out_stride) {
  kernel(rows, k, x, x_stride, wt, block, n0, n1, bias, out, out_stride);
}

}  // namespace lstm4j::cpu
