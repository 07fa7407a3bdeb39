// The CUDA cell kernel's element function (kernels/lstm_cell.h, the source nvcc builds the kernel
// from) run on the CPU: against the CPU cell (bit for bit in float64, where the math is the same
// expression on libm; within float rounding in float32, where the CPU cell uses its own
// polynomial exp/tanh), and through the device scan with CUDA's kernel table (emulated kernel) on
// every golden LSTM case against PyTorch. The GPU itself runs libdevice's expf/tanhf: how close
// that is to PyTorch's GPU numbers is checked by scripts/gpu-check.sh on a GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "cpu/lstm_gates.h"
#include "cuda/device_ops.h"
#include "cuda/kernels/lstm_cell.h"
#include "emulated_cell_kernel.h"
#include "golden_case.h"
#include "lstm4j/lstm.h"

namespace fs = std::filesystem;

namespace {

template <typename T>
std::vector<T> values(size_t n, uint32_t seed, double scale) {
  std::vector<T> v(n);
  for (T& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = static_cast<T>((static_cast<double>(seed >> 8) / 16777216.0 - 0.5) * 2 * scale);
  }
  return v;
}

// One step of both cells on the same gates: strided input gates and h rows, with and without the
// hidden gates; pre-activations up to +-12 (saturated sigmoid and tanh included).
template <typename T>
struct Step {
  static constexpr int64_t n = 5, H = 37, gx_stride = 4 * H + 3, h_stride = H + 2;
  std::vector<T> gx = values<T>(n * gx_stride, 11, 6.0), gh = values<T>(n * 4 * H, 12, 6.0);
  std::vector<T> c0 = values<T>(n * H, 13, 3.0);

  void kernel(bool with_gh, std::vector<T>& c, std::vector<T>& h) const {
    c = c0;
    h.assign(n * h_stride, T(-7));
    lstm4j::kernels::cell_rows_host<T>(n, H, gx.data(), gx_stride, with_gh ? gh.data() : nullptr,
                                       c.data(), h.data(), h_stride);
  }
  void cpu(bool with_gh, std::vector<T>& c, std::vector<T>& h) const {
    c = c0;
    h.assign(n * h_stride, T(-7));
    lstm4j::cpu::lstm_gates<T>(n, H, 0, H, gx.data(), gx_stride, with_gh ? gh.data() : nullptr,
                               c.data(), h.data(), h_stride);
  }
};

TEST(CellKernel, ElementMatchesCpuCellBitForBitInFloat64) {
  const Step<double> s;
  for (bool with_gh : {true, false}) {
    std::vector<double> ck, hk, cc, hc;
    s.kernel(with_gh, ck, hk);
    s.cpu(with_gh, cc, hc);
    EXPECT_EQ(std::memcmp(ck.data(), cc.data(), ck.size() * sizeof(double)), 0) << with_gh;
    // Padding between h rows untouched, rows bit-equal.
    EXPECT_EQ(std::memcmp(hk.data(), hc.data(), hk.size() * sizeof(double)), 0) << with_gh;
    EXPECT_EQ(hk[Step<double>::H], -7.0);
  }
}

TEST(CellKernel, ElementMatchesCpuCellWithinFloatRoundingInFloat32) {
  const Step<float> s;
  for (bool with_gh : {true, false}) {
    std::vector<float> ck, hk, cc, hc;
    s.kernel(with_gh, ck, hk);
    s.cpu(with_gh, cc, hc);
    double worst = 0;
    for (size_t i = 0; i < ck.size(); ++i) {
      worst = std::max(worst, std::fabs(ck[i] - cc[i]) / std::max(1.0, std::fabs(double{cc[i]})));
    }
    for (size_t i = 0; i < hk.size(); ++i) worst = std::max(worst, double{std::fabs(hk[i] - hc[i])});
    std::printf("float32 element vs CPU cell (with_gh=%d): max rel diff %.3g\n", with_gh, worst);
    EXPECT_LE(worst, 1e-6) << "more than a few float32 ulps apart";
  }
}

// The float32 element stays within float rounding of the same math in float64.
TEST(CellKernel, Float32ElementWithinRoundingOfFloat64Math) {
  const Step<float> s;
  std::vector<float> c, h;
  s.kernel(true, c, h);
  double worst = 0;
  for (int64_t b = 0; b < s.n; ++b) {
    for (int64_t j = 0; j < s.H; ++j) {
      const float* x = s.gx.data() + b * s.gx_stride + j;
      const float* r = s.gh.data() + b * 4 * s.H + j;
      double pre[4];
      for (int k = 0; k < 4; ++k) pre[k] = double{float(x[k * s.H] + r[k * s.H])};
      double cy = 0, hy = 0;
      lstm4j::kernels::cell_math<double>(pre[0], pre[1], pre[2], pre[3], s.c0[b * s.H + j], &cy, &hy);
      worst = std::max(worst, std::fabs(c[b * s.H + j] - cy) / std::max(1.0, std::fabs(cy)));
      worst = std::max(worst, std::fabs(h[b * s.h_stride + j] - hy));
    }
  }
  std::printf("float32 element vs float64 math: max rel diff %.3g\n", worst);
  EXPECT_LE(worst, 1e-6);
}

// Every golden LSTM case through the device scan with CUDA's kernel table (the kernel emulated):
// PyTorch's numbers within 5e-6 (float32) / 1e-12 (float64).
TEST(CellKernel, GoldenCasesThroughTheKernelTable) {
  lstm4j::device::ScopedCpuOps kernel_table(lstm4j::test::emulated_kernel_ops());
  int cases = 0;
  for (const auto& e : fs::directory_iterator(LSTM4J_GOLDEN_DIR)) {
    const std::string stem = e.path().stem().string();
    if (e.path().extension() != ".safetensors" || stem.rfind("cell", 0) == 0) continue;
    const lstm4j::test::StFile f = lstm4j::test::read_safetensors(e.path().string());
    const uint64_t before = lstm4j::test::emulated_launches;
    const double err = lstm4j::golden::case_error(f, lstm4j::Algorithm::kDevice);
    EXPECT_GT(lstm4j::test::emulated_launches, before) << stem << ": the kernel did not run";
    EXPECT_LE(err, lstm4j::golden::tolerance(f)) << stem;
    ++cases;
  }
  EXPECT_GE(cases, 15);
}

// The kernel table gives the CPU table's bits in float64 (same GEMMs, same cell math), padded and
// packed, with a projection and both directions.
TEST(CellKernel, KernelTableMatchesCpuTableBitForBitInFloat64) {
  constexpr int64_t I = 4, H = 6, P = 3, L = 2, D = 2, B = 3, T = 7;
  lstm4j::Lstm lstm(I, H, L, true, true, P, lstm4j::Dtype::kFloat64, lstm4j::DeviceType::kCpu, 0);
  lstm.set_cpu_algorithm(lstm4j::Algorithm::kDevice);
  uint32_t seed = 100;
  for (int64_t l = 0; l < L; ++l) {
    for (int64_t d = 0; d < D; ++d) {
      const std::string s = std::to_string(l) + (d == 1 ? "_reverse" : "");
      const int64_t in = l == 0 ? I : D * P;
      auto set = [&](const std::string& name, int64_t n) {
        const std::vector<double> w = values<double>(n, ++seed, 0.8);
        lstm.set_parameter(name.c_str(), w.data(), n);
      };
      set("weight_ih_l" + s, 4 * H * in);
      set("weight_hh_l" + s, 4 * H * P);
      set("bias_ih_l" + s, 4 * H);
      set("bias_hh_l" + s, 4 * H);
      set("weight_hr_l" + s, P * H);
    }
  }
  const std::vector<double> x = values<double>(T * B * I, 1, 2.0);
  const std::vector<double> h0 = values<double>(L * D * B * P, 2, 1.0);
  const std::vector<double> c0 = values<double>(L * D * B * H, 3, 1.0);
  const std::vector<int64_t> sizes = {3, 3, 2, 2, 2, 1, 1};
  const int64_t packed_rows = 14;
  struct Out {
    std::vector<double> y, h, c, yp, hp, cp;
  };
  auto run = [&]() {
    Out o{std::vector<double>(T * B * D * P), std::vector<double>(L * D * B * P),
          std::vector<double>(L * D * B * H), std::vector<double>(packed_rows * D * P),
          std::vector<double>(L * D * B * P), std::vector<double>(L * D * B * H)};
    lstm.forward(x.data(), T, B, true, h0.data(), c0.data(), o.y.data(), o.h.data(), o.c.data());
    lstm.forward_packed(x.data(), sizes.data(), T, nullptr, nullptr, o.yp.data(), o.hp.data(),
                        o.cp.data());
    return o;
  };
  const Out cpu = run();
  Out kernel;
  {
    lstm4j::device::ScopedCpuOps kernel_table(lstm4j::test::emulated_kernel_ops());
    const uint64_t before = lstm4j::test::emulated_launches;
    kernel = run();
    EXPECT_GT(lstm4j::test::emulated_launches, before);
  }
  auto same = [](const std::vector<double>& a, const std::vector<double>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
  };
  EXPECT_TRUE(same(cpu.y, kernel.y));
  EXPECT_TRUE(same(cpu.h, kernel.h));
  EXPECT_TRUE(same(cpu.c, kernel.c));
  EXPECT_TRUE(same(cpu.yp, kernel.yp));
  EXPECT_TRUE(same(cpu.hp, kernel.hp));
  EXPECT_TRUE(same(cpu.cp, kernel.cp));
}

// On a machine without CUDA the path says so; with CUDA it names the cell that runs.
TEST(CellKernel, CudaCellPathIsReported) {
  const std::string path = lstm4j::device::cuda_cell_path(0);
  if (lstm4j::device::cuda_device_count() == 0) {
    EXPECT_EQ(path.rfind("unavailable: CUDA is not available: ", 0), 0u) << path;
  } else {
    EXPECT_TRUE(path.rfind("kernel: ", 0) == 0 || path.rfind("libtorch: ", 0) == 0) << path;
  }
}

}  // namespace
