// The device scan's operations per step, counted on the CPU (the device ops table counts every
// LibTorch call it makes): per step and direction one W_hh GEMM and one cell writing h straight into
// the output, for padded and packed batches; a zero initial state skips exactly one GEMM per layer
// and direction when W_hh is finite, and none when it holds a NaN. The same for CUDA's table with
// lstm4j's cell kernel, run here with the kernel emulated on the CPU (emulated_cell_kernel.h).
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "cuda/device_ops.h"
#include "emulated_cell_kernel.h"
#include "lstm4j/lstm.h"

namespace {

constexpr int64_t I = 3, H = 4, B = 3;

std::vector<float> values(size_t n, uint32_t seed) {
  std::vector<float> v(n);
  for (float& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = static_cast<float>(seed >> 8) / 16777216.0f - 0.5f;
  }
  return v;
}

struct Model {
  int64_t layers, dirs, proj;
  lstm4j::Lstm lstm;
  Model(int64_t l, bool bidirectional, int64_t p, float bad = 0)
      : layers(l), dirs(bidirectional ? 2 : 1), proj(p),
        lstm(I, H, l, true, bidirectional, p, lstm4j::Dtype::kFloat32, lstm4j::DeviceType::kCpu, 0) {
    lstm.set_cpu_algorithm(lstm4j::Algorithm::kDevice);
    const int64_t P = p > 0 ? p : H;
    uint32_t seed = 7;
    for (int64_t k = 0; k < l; ++k) {
      for (int64_t d = 0; d < dirs; ++d) {
        const std::string s = std::to_string(k) + (d == 1 ? "_reverse" : "");
        const int64_t in = k == 0 ? I : dirs * P;
        std::vector<float> w_ih = values(4 * H * in, ++seed), w_hh = values(4 * H * P, ++seed);
        if (bad != 0) w_hh[1] = bad;
        std::vector<float> b = values(4 * H, ++seed);
        lstm.set_parameter(("weight_ih_l" + s).c_str(), w_ih.data(), 4 * H * in);
        lstm.set_parameter(("weight_hh_l" + s).c_str(), w_hh.data(), 4 * H * P);
        lstm.set_parameter(("bias_ih_l" + s).c_str(), b.data(), 4 * H);
        lstm.set_parameter(("bias_hh_l" + s).c_str(), b.data(), 4 * H);
        if (p > 0) {
          std::vector<float> w_hr = values(P * H, ++seed);
          lstm.set_parameter(("weight_hr_l" + s).c_str(), w_hr.data(), P * H);
        }
      }
    }
  }
  int64_t P() const { return proj > 0 ? proj : H; }

  // Operations one padded forward issues.
  uint64_t padded(int64_t T, bool batch_first, bool zero_state) {
    const std::vector<float> x = values(T * B * I, 1);
    std::vector<float> y(T * B * dirs * P()), h(layers * dirs * B * P()), c(layers * dirs * B * H);
    const std::vector<float> h0(h.size(), 0.0f), c0(c.size(), 0.0f);
    const uint64_t before = lstm4j::device::launches();
    lstm.forward(x.data(), T, B, batch_first, zero_state ? nullptr : h0.data(),
                 zero_state ? nullptr : c0.data(), y.data(), h.data(), c.data());
    return lstm4j::device::launches() - before;
  }

  // Operations one packed forward issues: sequences of lengths T, T - 1 and 1.
  uint64_t packed(int64_t T) {
    std::vector<int64_t> sizes(static_cast<size_t>(T), 2);
    sizes[0] = 3;
    sizes.back() = 1;
    int64_t rows = 0;
    for (int64_t n : sizes) rows += n;
    const std::vector<float> x = values(rows * I, 2);
    std::vector<float> y(rows * dirs * P()), h(layers * dirs * B * P()), c(layers * dirs * B * H);
    const uint64_t before = lstm4j::device::launches();
    lstm.forward_packed(x.data(), sizes.data(), T, nullptr, nullptr, y.data(), h.data(), c.data());
    return lstm4j::device::launches() - before;
  }
};

// Ten more steps cost exactly 10 x (GEMM + cell) per layer and direction.
TEST(DeviceLaunches, TwoOpsPerStepPadded) {
  for (bool bidirectional : {false, true}) {
    Model m(2, bidirectional, 0);
    const uint64_t a = m.padded(10, false, true), b = m.padded(20, false, true);
    std::printf("padded, %s: %llu ops at T=10, %llu at T=20 -> %.1f per step and direction\n",
                bidirectional ? "bidirectional" : "unidirectional",
                static_cast<unsigned long long>(a), static_cast<unsigned long long>(b),
                static_cast<double>(b - a) / (10.0 * static_cast<double>(m.layers * m.dirs)));
    EXPECT_EQ(b - a, static_cast<uint64_t>(10 * 2 * m.layers * m.dirs));
    // batch_first changes the layout on the device: one copy in, one copy out, per call.
    EXPECT_EQ(m.padded(10, true, true), a + 2);
  }
}

TEST(DeviceLaunches, TwoOpsPerStepPacked) {
  for (bool bidirectional : {false, true}) {
    Model m(1, bidirectional, 0);
    const uint64_t a = m.packed(10), b = m.packed(20);
    std::printf("packed, %s: %llu ops at T=10, %llu at T=20 -> %.1f per step and direction\n",
                bidirectional ? "bidirectional" : "unidirectional",
                static_cast<unsigned long long>(a), static_cast<unsigned long long>(b),
                static_cast<double>(b - a) / (10.0 * static_cast<double>(m.dirs)));
    EXPECT_EQ(b - a, static_cast<uint64_t>(10 * 2 * m.dirs));
  }
}

// A projection adds its GEMM, nothing else.
TEST(DeviceLaunches, ProjectionAddsOneGemm) {
  Model m(1, false, 2);
  EXPECT_EQ(m.padded(20, false, true) - m.padded(10, false, true), 30u);
}

// A zero state is made on the device (as many ops as uploading h0 and c0) and skips the first
// step's W_hh GEMM per layer and direction, unless W_hh holds a NaN (PyTorch's NaN must appear).
TEST(DeviceLaunches, ZeroStateSkipsFirstGemmOnlyWithFiniteWhh) {
  Model finite(2, true, 0);
  EXPECT_EQ(finite.padded(5, false, false) - finite.padded(5, false, true), 4u);
  Model nan(2, true, 0, std::nanf(""));
  EXPECT_EQ(nan.padded(5, false, false), nan.padded(5, false, true));
}

// CUDA's table with lstm4j's cell kernel: the cell is one launch that writes h into the output
// and c in place, so a step is 2 ops as on the CPU (LibTorch's fused cell needed a third, the copy
// of h). The emulated kernel must have run once per step, layer and direction.
TEST(DeviceLaunches, KernelTableTwoOpsPerStep) {
  lstm4j::device::ScopedCpuOps kernel_table(lstm4j::test::emulated_kernel_ops());
  for (bool bidirectional : {false, true}) {
    Model m(2, bidirectional, 0);
    const uint64_t k0 = lstm4j::test::emulated_launches;
    const uint64_t a = m.padded(10, false, true), b = m.padded(20, false, true);
    std::printf("kernel table, padded, %s: %.1f ops per step and direction\n",
                bidirectional ? "bidirectional" : "unidirectional",
                static_cast<double>(b - a) / (10.0 * static_cast<double>(m.layers * m.dirs)));
    EXPECT_EQ(b - a, static_cast<uint64_t>(10 * 2 * m.layers * m.dirs));
    EXPECT_EQ(lstm4j::test::emulated_launches - k0,
              static_cast<uint64_t>(30 * m.layers * m.dirs));
    EXPECT_EQ(m.padded(10, true, true), a + 2);
    Model p(1, bidirectional, 0);
    const uint64_t pa = p.packed(10), pb = p.packed(20);
    std::printf("kernel table, packed, %s: %.1f ops per step and direction\n",
                bidirectional ? "bidirectional" : "unidirectional",
                static_cast<double>(pb - pa) / (10.0 * static_cast<double>(p.dirs)));
    EXPECT_EQ(pb - pa, static_cast<uint64_t>(10 * 2 * p.dirs));
  }
  Model proj(1, false, 2);
  EXPECT_EQ(proj.padded(20, false, true) - proj.padded(10, false, true), 30u);
}

// The kernel takes a null hidden_gates as zero: a zero state skips the first GEMM without the
// zero-filled gates the fused cell needed (no extra op), and never with a NaN in W_hh.
TEST(DeviceLaunches, KernelTableZeroStateSkipsFirstGemmOnlyWithFiniteWhh) {
  lstm4j::device::ScopedCpuOps kernel_table(lstm4j::test::emulated_kernel_ops());
  Model finite(2, true, 0);
  EXPECT_EQ(finite.padded(5, false, false) - finite.padded(5, false, true), 4u);
  Model nan(2, true, 0, std::nanf(""));
  EXPECT_EQ(nan.padded(5, false, false), nan.padded(5, false, true));
}

}  // namespace
