// Whether the placement of the packed weights changes the speed of a process: the team scan's
// steps split by hidden units (as at B=1: each core keeps its share of W_hh^T in its L2) over
// W_hh^T in heap memory (malloc's 4 KB pages, as the process's history left them) and in a
// cpu::HostBuffer (2 MB-aligned, advised to huge pages), alternating in one process. Run it in
// several fresh processes and compare (docs/benchmarks.md, "What made processes differ"):
//   placement_bench [batch] [hidden_size] [threads] [rounds]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <sched.h>

#include "cpu/gemm_f32.h"
#include "cpu/host_buffer.h"
#include "cpu/lstm_gates.h"
#include "cpu/team.h"

namespace cpu = lstm4j::cpu;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  const int64_t B = argc > 1 ? std::atoll(argv[1]) : 1;
  const int64_t H = argc > 2 ? std::atoll(argv[2]) : 256;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 2;
  const int rounds = argc > 4 ? std::atoi(argv[4]) : 5;
  const int64_t G = 4 * H, T = 128, n = cpu::packed_size(H, G, H);
  cpu::Team team(threads);
  std::vector<float> src(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) src[static_cast<size_t>(i)] = static_cast<float>(i % 97) * 1e-4f;
  // Heap memory: a few other allocations first, as a process's history would leave them.
  std::vector<std::vector<float>> clutter;
  for (int i = 0; i < 7; ++i) clutter.emplace_back(static_cast<size_t>(1000 + 37000 * i), 1.0f);
  float* heap = static_cast<float*>(std::malloc(sizeof(float) * static_cast<size_t>(n)));
  cpu::HostBuffer huge(sizeof(float) * static_cast<size_t>(n));
  std::memcpy(heap, src.data(), sizeof(float) * static_cast<size_t>(n));
  std::memcpy(huge.data<float>(), src.data(), sizeof(float) * static_cast<size_t>(n));
  std::vector<float> h(static_cast<size_t>(B * H), 0.01f), c(static_cast<size_t>(B * H), 0.0f);
  std::vector<float> gx(static_cast<size_t>(B * G), 0.1f), gh(static_cast<size_t>(B * G));
  const int parts = threads;
  auto lo = [&](int p) { return p == parts ? H : H * p / parts / 16 * 16; };
  // Per part of a step, the CPU it ran on and whether the caller ran it: a step whose parts all ran
  // on the caller had no second core (the worker was descheduled or asleep).
  const std::thread::id caller = std::this_thread::get_id();
  std::vector<int> by_caller(static_cast<size_t>(parts));
  int64_t alone = 0, same_cpu = 0, steps_run = 0;
  std::vector<int> cpu_of(static_cast<size_t>(parts));
  auto time = [&](const float* w) {
    auto step = [&](int p) {
      by_caller[static_cast<size_t>(p)] = std::this_thread::get_id() == caller;
      cpu_of[static_cast<size_t>(p)] = sched_getcpu();
      for (int64_t g = 0; g < 4; ++g) {
        cpu::gemm_f32(B, H, h.data(), H, w, H, g * H + lo(p), g * H + lo(p + 1), nullptr, gh.data(), G);
      }
      cpu::lstm_gates<float>(B, H, lo(p), lo(p + 1), gx.data(), G, gh.data(), c.data(), h.data(), H);
    };
    double best = 1e30;
    for (int r = 0; r < 6; ++r) {
      const auto t0 = Clock::now();
      for (int64_t t = 0; t < T; ++t) {
        team.run(parts, step);
        int mine = 0;
        for (int p = 0; p < parts; ++p) mine += by_caller[static_cast<size_t>(p)];
        alone += mine == parts;
        same_cpu += parts > 1 && cpu_of[0] == cpu_of[1];
        ++steps_run;
      }
      if (r > 0) best = std::min(best, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    return best;
  };
  std::printf("B=%lld H=%lld threads=%d, W_hh^T %lld KB; heap at %p (offset %lld in its 2 MB), huge page "
              "buffer %s\n", static_cast<long long>(B), static_cast<long long>(H), threads,
              static_cast<long long>(n * 4 / 1024), static_cast<void*>(heap),
              static_cast<long long>(reinterpret_cast<uintptr_t>(heap) % (2 << 20)),
              huge.huge() ? "mapped" : "on the heap");
  double best_heap = 1e30, best_huge = 1e30;
  for (int r = 0; r < rounds; ++r) {
    const double a = time(heap), b = time(huge.data<float>());
    best_heap = std::min(best_heap, a);
    best_huge = std::min(best_huge, b);
    std::printf("round %d: %lld steps, heap %.3f ms, huge pages %.3f ms\n", r, static_cast<long long>(T), a, b);
  }
  std::printf("best: heap %.3f ms, huge pages %.3f ms; steps whose parts all ran on the caller: %.1f %%, "
              "parts 0 and 1 on one CPU: %.1f %%\n", best_heap, best_huge, 100.0 * alone / steps_run,
              100.0 * same_cpu / steps_run);
  std::ifstream smaps("/proc/self/smaps_rollup");
  for (std::string line; std::getline(smaps, line);) {
    if (line.rfind("AnonHugePages:", 0) == 0) std::printf("%s\n", line.c_str());
  }
  std::free(heap);
  return 0;
}
