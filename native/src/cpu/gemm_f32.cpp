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
  threads = std::max(1, threads);
  // One round: ~15 ms of 12 independent FMA chains per thread. Rounds repeat until the best has not
  // risen by 0.5 % for kSteady rounds in a row (at most kMaxRounds, or ~2 s): the former fixed three
  // rounds of ~15 ms, right after the JVM started (its JIT threads busy), reported 117 GFLOP/s where
  // the GEMM then reached 189 -- a round in which one core is taken measures half the machine, and
  // three such rounds in a row are common on a loaded 2-core machine.
  constexpr int64_t kIterations = 4000000;
  constexpr int kSteady = 8;
  constexpr int kMaxRounds = 120;
  double best = 0;
  int since_best = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (int round = 0; round < kMaxRounds && since_best < kSteady; ++round) {
    std::atomic<int> arrived{0};
    std::atomic<bool> go{false};
    std::atomic<int64_t> flops{0};
    std::chrono::steady_clock::time_point start;
    std::vector<std::chrono::steady_clock::time_point> ends(threads);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        // A start barrier: thread creation is not timed, and no thread runs alone while the others
        // are still being created (their flops would count against a shorter time).
        if (arrived.fetch_add(1) + 1 == threads) {
          start = std::chrono::steady_clock::now();
          go.store(true, std::memory_order_release);
        }
        while (!go.load(std::memory_order_acquire)) {
        }
        flops += probe(kIterations, 1.0f + static_cast<float>(t));
        ends[t] = std::chrono::steady_clock::now();
      });
    }
    for (std::thread& th : pool) th.join();
    const double seconds =
        std::chrono::duration<double>(*std::max_element(ends.begin(), ends.end()) - start).count();
    // The first round only wakes every core up to its clock.
    const double gflops = round == 0 ? 0 : static_cast<double>(flops.load()) / seconds / 1e9;
    if (gflops > best * 1.005) {
      since_best = 0;
    } else {
      ++since_best;
    }
    best = std::max(best, gflops);
    if (std::chrono::steady_clock::now() > deadline) break;
  }
  return best;
}

void gemm_f32(int64_t rows, int64_t k, const float* x, int64_t x_stride, const float* wt,
              int64_t block, int64_t n0, int64_t n1, const float* bias, float* out,
              int64_t out_stride) {
  kernel(rows, k, x, x_stride, wt, block, n0, n1, bias, out, out_stride);
}

}  // namespace lstm4j::cpu
