// Without h0 a scan may skip W_hh h0, but PyTorch computes it, and NaN * 0 = NaN: a NaN or an
// infinity in W_hh must reach the output exactly as with explicit zero states, on every algorithm,
// padded and packed, and in the cell. With finite weights the skip must not change a bit either.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "lstm4j/lstm.h"

using lstm4j::Algorithm;

namespace {

constexpr int64_t I = 5, H = 6, L = 2, D = 2, B = 3, T = 4;

std::vector<float> values(size_t n, uint32_t seed) {
  std::vector<float> v(n);
  for (float& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = static_cast<float>(seed >> 8) / 16777216.0f - 0.5f;
  }
  return v;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

int count_nan(const std::vector<float>& v) {
  int n = 0;
  for (float x : v) n += std::isnan(x);
  return n;
}

struct Result {
  std::vector<float> y, h, c;
};

// A bidirectional 2-layer LSTM whose weight_hh_l0 holds `bad` at one element (nothing if 0).
Result run(Algorithm algorithm, float bad, bool zero_states, bool packed) {
  lstm4j::Lstm lstm(I, H, L, true, true, 0, lstm4j::Dtype::kFloat32, lstm4j::DeviceType::kCpu, 0);
  lstm.set_cpu_algorithm(algorithm);
  uint32_t seed = 1;
  for (int64_t l = 0; l < L; ++l) {
    for (const char* dir : {"", "_reverse"}) {
      const std::string s = std::to_string(l) + dir;
      const int64_t in = l == 0 ? I : D * H;
      std::vector<float> w_ih = values(4 * H * in, ++seed), w_hh = values(4 * H * H, ++seed);
      if (l == 0 && bad != 0) w_hh[7] = bad;
      lstm.set_parameter(("weight_ih_l" + s).c_str(), w_ih.data(), 4 * H * in);
      lstm.set_parameter(("weight_hh_l" + s).c_str(), w_hh.data(), 4 * H * H);
      std::vector<float> b = values(4 * H, ++seed);
      lstm.set_parameter(("bias_ih_l" + s).c_str(), b.data(), 4 * H);
      lstm.set_parameter(("bias_hh_l" + s).c_str(), b.data(), 4 * H);
    }
  }
  std::vector<float> zeros(L * D * B * H, 0.0f);
  const float* h0 = zero_states ? zeros.data() : nullptr;
  Result r{{}, std::vector<float>(L * D * B * H), std::vector<float>(L * D * B * H)};
  if (packed) {
    const std::vector<int64_t> sizes = {3, 2, 2, 1};
    const std::vector<float> x = values(8 * I, 99);
    r.y.resize(8 * D * H);
    lstm.forward_packed(x.data(), sizes.data(), T, h0, h0, r.y.data(), r.h.data(), r.c.data());
  } else {
    const std::vector<float> x = values(T * B * I, 99);
    r.y.resize(T * B * D * H);
    lstm.forward(x.data(), T, B, false, h0, h0, r.y.data(), r.h.data(), r.c.data());
  }
  return r;
}

class NonFiniteTest : public testing::TestWithParam<std::tuple<Algorithm, bool>> {};

TEST_P(NonFiniteTest, AbsentStateIsZeroState) {
  const auto [algorithm, packed] = GetParam();
  for (float bad : {0.0f, std::numeric_limits<float>::quiet_NaN(),
                    std::numeric_limits<float>::infinity()}) {
    const Result absent = run(algorithm, bad, false, packed);
    const Result zeros = run(algorithm, bad, true, packed);
    EXPECT_TRUE(same_bits(absent.y, zeros.y)) << "output, W_hh element " << bad;
    EXPECT_TRUE(same_bits(absent.h, zeros.h)) << "h_n, W_hh element " << bad;
    EXPECT_TRUE(same_bits(absent.c, zeros.c)) << "c_n, W_hh element " << bad;
    if (bad != 0) {
      EXPECT_GT(count_nan(absent.y), 0) << "W_hh element " << bad << " must reach the output";
    } else {
      EXPECT_EQ(count_nan(absent.y), 0);
    }
  }
}

std::string run_name(const testing::TestParamInfo<std::tuple<Algorithm, bool>>& info) {
  static const char* const names[] = {"auto", "scan", "onednn", "team", "device"};
  return std::string(names[static_cast<int>(std::get<0>(info.param))]) +
         (std::get<1>(info.param) ? "_packed" : "_padded");
}

INSTANTIATE_TEST_SUITE_P(
    Algorithms, NonFiniteTest,
    testing::Combine(testing::Values(Algorithm::kScan, Algorithm::kOneDnn, Algorithm::kTeam,
                                     Algorithm::kDevice),
                     testing::Bool()),
    run_name);

TEST(NonFiniteCell, AbsentStateIsZeroState) {
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    lstm4j::LstmCell cell(I, H, false, lstm4j::Dtype::kFloat32, lstm4j::DeviceType::kCpu, 0);
    std::vector<float> w_ih = values(4 * H * I, 3), w_hh = values(4 * H * H, 4);
    w_hh[0] = bad;
    cell.set_parameter("weight_ih", w_ih.data(), 4 * H * I);
    cell.set_parameter("weight_hh", w_hh.data(), 4 * H * H);
    const std::vector<float> x = values(B * I, 5), zeros(B * H, 0.0f);
    std::vector<float> h1(B * H), c1(B * H), h1z(B * H), c1z(B * H);
    cell.forward(x.data(), B, nullptr, nullptr, h1.data(), c1.data());
    cell.forward(x.data(), B, zeros.data(), zeros.data(), h1z.data(), c1z.data());
    EXPECT_TRUE(same_bits(h1, h1z) && same_bits(c1, c1z)) << "W_hh element " << bad;
    EXPECT_GT(count_nan(h1), 0) << "W_hh element " << bad;
  }
}

}  // namespace
