// Checks our own declarations of LibTorch's C ABI numerically. A float/double mismatch in a
// scalar argument links fine and returns success while writing wrong numbers, so every
// scalar-taking function is called with beta, alpha != 1 and compared with a plain loop.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "lstm4j/tensor.h"

using lstm4j::Device;
using lstm4j::Dtype;
using lstm4j::Tensor;

namespace {

// printf-style failure messages.
template <typename... A>
std::string fmt(const char* f, A... a) {
  char buf[512];
  std::snprintf(buf, sizeof buf, f, a...);
  return buf;
}

// out = beta * self + alpha * a @ b for a (2x3), b (3x2), self (2x2).
template <typename T>
std::vector<double> reference(const std::vector<T>& self, const std::vector<T>& a,
                              const std::vector<T>& b, double beta, double alpha) {
  std::vector<double> out(4);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) {
      double s = 0;
      for (int k = 0; k < 3; ++k) s += double(a[i * 3 + k]) * double(b[k * 2 + j]);
      out[i * 2 + j] = beta * double(self[i * 2 + j]) + alpha * s;
    }
  return out;
}

template <typename T>
void check_addmm(Dtype dtype, bool cpu_variant) {
  std::vector<T> self{1, 2, 3, 4}, a{1, -2, 3, 0.5, 5, -6}, b{0.25, 8, -9, 10, 11, 12}, out(4);
  const Device cpu{};
  Tensor ts = Tensor::from_blob(self.data(), {2, 2}, dtype, cpu);
  Tensor ta = Tensor::from_blob(a.data(), {2, 3}, dtype, cpu);
  Tensor tb = Tensor::from_blob(b.data(), {3, 2}, dtype, cpu);
  Tensor to = Tensor::from_blob(out.data(), {2, 2}, dtype, cpu);
  const double beta = 0.5, alpha = 2.0;
  if (cpu_variant) {
    lstm4j::check(aoti_torch_cpu_addmm_out(to.get(), ts.get(), ta.get(), tb.get(), beta, alpha),
                  "aoti_torch_cpu_addmm_out");
  } else {
    lstm4j::check(aoti_torch_addmm_out(to.get(), ts.get(), ta.get(), tb.get(), float(beta),
                                       float(alpha)),
                  "aoti_torch_addmm_out");
  }
  const std::vector<double> want = reference(self, a, b, beta, alpha);
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(std::fabs(double(out[i]) - want[i]) < 1e-5) << fmt("%s %s [%d]: got %g, want %g",
                cpu_variant ? "aoti_torch_cpu_addmm_out" : "aoti_torch_addmm_out",
                lstm4j::dtype_name(dtype), i, double(out[i]), want[i]);
  }
}

void check_mm_and_transposed_view() {
  // W (2x3) viewed as W^T (3x2) with strides {1, 3}, no copy.
  std::vector<float> x{1, 2, 3}, w{1, 0, -1, 2, 3, 4}, out(2);
  const Device cpu{};
  Tensor tx = Tensor::from_blob(x.data(), {1, 3}, Dtype::kFloat32, cpu);
  Tensor twt = Tensor::from_blob(w.data(), {3, 2}, {1, 3}, Dtype::kFloat32, cpu);
  Tensor to = Tensor::from_blob(out.data(), {1, 2}, Dtype::kFloat32, cpu);
  lstm4j::check(aoti_torch_cpu_mm_out(to.get(), tx.get(), twt.get()), "aoti_torch_cpu_mm_out");
  EXPECT_TRUE(out[0] == -2.0f && out[1] == 20.0f) << fmt("x W^T = [%g, %g], want [-2, 20]", out[0],
              out[1]);
}

void check_empty_and_copy() {
  std::vector<double> src{1.5, -2.5, 3.25};
  const Device cpu{};
  Tensor dst = Tensor::empty({3}, Dtype::kFloat64, cpu);
  Tensor from = Tensor::from_blob(src.data(), {3}, Dtype::kFloat64, cpu);
  dst.copy_from(from);
  const double* p = dst.data<double>();
  EXPECT_TRUE(p[0] == 1.5 && p[1] == -2.5 && p[2] == 3.25) << fmt("copy_ gave [%g, %g, %g]", p[0], p[1],
              p[2]);
}

TEST(Abi, CpuAddmmTakesDoubleScalars) {
  check_addmm<float>(Dtype::kFloat32, true);
  check_addmm<double>(Dtype::kFloat64, true);
}
TEST(Abi, GenericAddmmTakesFloatScalars) {
  check_addmm<float>(Dtype::kFloat32, false);
  check_addmm<double>(Dtype::kFloat64, false);
}
TEST(Abi, MmOnATransposedView) { check_mm_and_transposed_view(); }
TEST(Abi, EmptyAndCopy) { check_empty_and_copy(); }

}  // namespace

// aoti_torch__reinterpret_tensor's offset is an increment of the tensor's own storage offset: a
// view of a view starts where the outer offset says, counted from the inner view's start. (Passing
// the absolute offset there once put a view of a view at twice the inner offset: the CUDA cell's
// input gates of step t > 0, and batch_first input views with a storage offset.)
TEST(Abi, ReinterpretOffsetIsRelativeToTheView) {
  std::vector<float> data(10);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<float>(i);
  Tensor t = Tensor::empty({10}, Dtype::kFloat32, Device{});
  t.copy_from(Tensor::from_blob(data.data(), {10}, Dtype::kFloat32, Device{}));
  const Tensor inner = t.reinterpret(3, {2, 3}, {3, 1});    // elements 3..8
  const Tensor outer = inner.reinterpret(2, {2, 2}, {3, 1});  // rows at 5 and 8
  const float* p = outer.data<float>();
  EXPECT_EQ(p - t.data<float>(), 5) << "a view of a view at offset 2 of a view at offset 3";
  Tensor got = Tensor::empty({2, 2}, Dtype::kFloat32, Device{});
  got.copy_from(outer);
  const float* g = got.data<float>();
  EXPECT_TRUE(g[0] == 5 && g[1] == 6 && g[2] == 8 && g[3] == 9)
      << fmt("view of a view = [%g, %g, %g, %g], want [5, 6, 8, 9]", g[0], g[1], g[2], g[3]);
}
