// The float32 GEMM kernels of every instruction set this machine runs, on panel-packed weights:
// each output element must be one sequential FMA chain over k (for the FMA instruction sets, the
// bits of std::fma applied in order), whatever the rows, the column range and its split; columns
// outside the range must stay untouched; and every kernel must agree with a float64 product.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "cpu/gemm_f32.h"
#include "cpu/host_buffer.h"
#include "cpu/isa.h"

namespace cpu = lstm4j::cpu;

namespace {

// printf-style failure messages.
template <typename... A>
std::string fmt(const char* f, A... a) {
  char buf[512];
  std::snprintf(buf, sizeof buf, f, a...);
  return buf;
}

struct Case {
  int64_t rows, k, block, blocks;
};

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1664525u + 1013904223u;
    v[i] = static_cast<float>(seed >> 8) / 16777216.0f - 0.5f;
  }
  return v;
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

const char* isa_name(cpu::Isa isa) {
  return isa == cpu::Isa::kAvx512 ? "avx512" : isa == cpu::Isa::kAvx2 ? "avx2" : "base";
}

void run_case(const Case& c, cpu::Isa isa, int64_t n0, int64_t n1, bool with_bias) {
  const int64_t n = c.block * c.blocks, xs = c.k + 3, os = n + 5;
  const std::vector<float> x = random_floats(static_cast<size_t>(c.rows * xs), 7);
  const std::vector<float> w = random_floats(static_cast<size_t>(n * c.k), 11);  // (n, k)
  const std::vector<float> bias = random_floats(static_cast<size_t>(n), 13);
  std::vector<float> packed(static_cast<size_t>(cpu::packed_size(c.k, n, c.block)));
  cpu::pack_transposed(w.data(), n, c.k, c.block, packed.data());
  const float* b = with_bias ? bias.data() : nullptr;
  const cpu::GemmF32Kernel gemm = cpu::gemm_f32_kernel(isa);
  const float sentinel = -12345.0f;
  const std::string label = std::string(isa_name(isa)) + " rows=" + std::to_string(c.rows) +
                            " k=" + std::to_string(c.k) + " block=" + std::to_string(c.block) +
                            "x" + std::to_string(c.blocks) + " cols=[" + std::to_string(n0) + "," +
                            std::to_string(n1) + ")" + (with_bias ? " bias" : "");

  std::vector<float> whole(static_cast<size_t>(c.rows * os), sentinel);
  gemm(c.rows, c.k, x.data(), xs, packed.data(), c.block, n0, n1, b, whole.data(), os);

  // The same columns in two pieces, and row by row: the same bits.
  std::vector<float> split(static_cast<size_t>(c.rows * os), sentinel);
  const int64_t mid = n0 + (n1 - n0) * 3 / 7;
  gemm(c.rows, c.k, x.data(), xs, packed.data(), c.block, n0, mid, b, split.data(), os);
  gemm(c.rows, c.k, x.data(), xs, packed.data(), c.block, mid, n1, b, split.data(), os);
  std::vector<float> by_row(static_cast<size_t>(c.rows * os), sentinel);
  for (int64_t m = 0; m < c.rows; ++m) {
    gemm(1, c.k, x.data() + m * xs, xs, packed.data(), c.block, n0, n1, b, by_row.data() + m * os,
         os);
  }

  int bad = 0;
  double worst = 0;
  for (int64_t m = 0; m < c.rows; ++m) {
    for (int64_t j = 0; j < os; ++j) {
      const size_t i = static_cast<size_t>(m * os + j);
      if (j < n0 || j >= n1) {
        bad += !same_bits(whole[i], sentinel) || !same_bits(split[i], sentinel) ||
               !same_bits(by_row[i], sentinel);
        continue;
      }
      bad += !same_bits(whole[i], split[i]) || !same_bits(whole[i], by_row[i]);
      double ref = 0, scale = 0;
      float chain = 0.0f;
      for (int64_t kk = 0; kk < c.k; ++kk) {
        const float xv = x[static_cast<size_t>(m * xs + kk)], wv = w[static_cast<size_t>(j * c.k + kk)];
        ref += static_cast<double>(xv) * wv;
        scale += std::fabs(static_cast<double>(xv) * wv);
        chain = std::fma(xv, wv, chain);
      }
      if (b != nullptr) {
        ref += b[j];
        scale += std::fabs(b[j]);
        chain += b[j];
      }
      if (isa != cpu::Isa::kBase && !same_bits(whole[i], chain)) {  // FMA chain, in order
        if (bad == 0) {
          std::fprintf(stderr, "  row %ld column %ld: %.9g, but one FMA chain gives %.9g\n",
                       static_cast<long>(m), static_cast<long>(j), whole[i], chain);
        }
        ++bad;
      }
      const double err = std::fabs(whole[i] - ref);
      worst = std::max(worst, err);
      bad += !(err <= 1e-6 * (scale + 1) * std::sqrt(static_cast<double>(c.k)));
    }
  }
  EXPECT_TRUE(bad == 0) << fmt("%s: %d elements wrong (worst error vs float64 %.3g)", label.c_str(), bad,
              worst);
}

TEST(GemmF32, EveryKernelIsOneFmaChainPerElement) {
  std::vector<cpu::Isa> isas = {cpu::Isa::kBase};
  if (cpu::detect_isa() >= cpu::Isa::kAvx2) isas.push_back(cpu::Isa::kAvx2);
  if (cpu::detect_isa() >= cpu::Isa::kAvx512) isas.push_back(cpu::Isa::kAvx512);
  const Case cases[] = {{1, 1, 1, 1},   {1, 17, 5, 4},    {3, 64, 32, 4},  {4, 9, 40, 4},
                        {5, 256, 64, 4}, {7, 33, 100, 2}, {9, 8, 96, 1},   {13, 5, 16, 8},
                        {64, 256, 256, 4}, {67, 31, 48, 4}, {2, 129, 200, 1}, {8, 3, 1, 7}};
  int runs = 0;
  for (cpu::Isa isa : isas) {
    for (const Case& c : cases) {
      const int64_t n = c.block * c.blocks;
      // The whole width; a range that starts and ends inside panels; one starting a panel in a
      // later gate; a single column.
      const int64_t ranges[][2] = {{0, n}, {n / 5, n - n / 7}, {c.block / 2 / 16 * 16, n}, {n - 1, n}};
      for (const auto& r : ranges) {
        if (r[0] >= r[1]) continue;
        run_case(c, isa, r[0], r[1], true);
        run_case(c, isa, r[0], r[1], false);
        runs += 2;
      }
    }
  }
  // Kernels of different FMA instruction sets give the same bits (checked above against one
  // std::fma chain each); say which ran.
  std::printf("gemm_test: %d cases on", runs);
  for (cpu::Isa isa : isas) std::printf(" %s", isa_name(isa));
  std::printf("\n");
}

}  // namespace

// The packed weights' memory (cpu/host_buffer.h): large buffers 2 MB-aligned in their own mapping,
// small ones 64-byte aligned, every byte writable and readable back, moves hand the memory over.
TEST(HostBuffer, AlignmentAndOwnership) {
  for (size_t bytes : {size_t{1}, size_t{4096}, size_t{1} << 20, (size_t{3} << 20) + 12}) {
    cpu::HostBuffer b(bytes);
    const uintptr_t at = reinterpret_cast<uintptr_t>(b.data<unsigned char>());
    ASSERT_NE(at, 0u) << bytes;
    EXPECT_EQ(at % 64, 0u) << bytes;
    if (bytes >= cpu::HostBuffer::kHugeMin) {
      EXPECT_TRUE(b.huge()) << bytes;
      EXPECT_EQ(at % cpu::HostBuffer::kHugePage, 0u) << bytes;
    } else {
      EXPECT_FALSE(b.huge()) << bytes;
    }
    unsigned char* p = b.data<unsigned char>();
    for (size_t i = 0; i < bytes; ++i) p[i] = static_cast<unsigned char>(i * 7);
    cpu::HostBuffer moved(std::move(b));
    EXPECT_EQ(b.data<unsigned char>(), nullptr);
    EXPECT_EQ(moved.data<unsigned char>(), p);
    EXPECT_EQ(moved.bytes(), bytes);
    for (size_t i = 0; i < bytes; i += 4093) ASSERT_EQ(p[i], static_cast<unsigned char>(i * 7)) << i;
    cpu::HostBuffer other(64);
    other = std::move(moved);  // frees other's memory, takes moved's
    EXPECT_EQ(other.data<unsigned char>(), p);
  }
}
