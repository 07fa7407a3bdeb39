// Bad configurations and parameters raise lstm4j::Error with a message that says what was
// expected and what came, and never reach LibTorch; LibTorch's own failures carry its message.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "lstm4j/lstm.h"
#include "lstm4j/tensor.h"

using lstm4j::DeviceType;
using lstm4j::Dtype;
using lstm4j::ErrorKind;

namespace {

constexpr Dtype kF32 = Dtype::kFloat32;
constexpr DeviceType kCpu = DeviceType::kCpu;

// Runs fn, expects lstm4j::Error of `kind` whose message contains `fragment`.
template <typename F>
void expect_error(F fn, const std::string& fragment, ErrorKind kind = ErrorKind::kInvalidArgument) {
  try {
    fn();
  } catch (const lstm4j::Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
        << "message '" << e.what() << "' lacks '" << fragment << "'";
    EXPECT_EQ(static_cast<int>(e.kind()), static_cast<int>(kind)) << e.what();
    return;
  }
  ADD_FAILURE() << "no lstm4j::Error thrown; expected '" << fragment << "'";
}

TEST(Errors, BadConfigurationsAndParameters) {
  // This test runs on CPU-only machines (CI); on a CUDA machine the GPU check covers cuda:N.
  if (lstm4j::Lstm::cuda_device_count() == 0) {
    expect_error([] { lstm4j::Lstm(3, 4, 1, true, false, 0, kF32, DeviceType::kCuda, 0); },
                 "CUDA is not available: ", ErrorKind::kUnavailable);
  } else {
    expect_error([] { lstm4j::Lstm(3, 4, 1, true, false, 0, kF32, DeviceType::kCuda, 1000); },
                 "cuda:1000 does not exist");
  }
  expect_error([] { lstm4j::Lstm(3, 4, 1, true, false, 0, Dtype::kBFloat16, kCpu, 0); },
                "bfloat16 runs on CUDA only");
  expect_error([] { lstm4j::Lstm(3, -1, 1, true, false, 0, kF32, kCpu, 0); },
                "hidden_size must be positive, got -1");
  expect_error([] { lstm4j::Lstm(3, 4, 1, true, false, 4, kF32, kCpu, 0); },
                "proj_size must be >= 0 and < hidden_size (4), got 4");
  expect_error([] {
    lstm4j::Lstm lstm(3, 4, 1, true, false, 0, kF32, kCpu, 0);
    std::vector<float> w(48);
    lstm.set_parameter("weight_ih_l1", w.data(), 48);
  }, "unexpected parameter 'weight_ih_l1'");
  expect_error([] {
    lstm4j::Lstm lstm(3, 4, 1, true, false, 0, kF32, kCpu, 0);
    std::vector<float> w(47);
    lstm.set_parameter("weight_ih_l0", w.data(), 47);
  }, "has 47 elements, expected 48");
  expect_error([] {
    lstm4j::Lstm lstm(3, 4, 1, true, false, 0, kF32, kCpu, 0);
    std::vector<double> w(48);
    lstm.set_parameter("weight_ih_l0", w.data(), 48);
  }, "is float64, expected float32");
  expect_error([] {
    lstm4j::Lstm lstm(3, 4, 1, false, true, 0, kF32, kCpu, 0);
    std::vector<float> w(48);
    lstm.set_parameter("weight_ih_l0", w.data(), 48);
    lstm.prepare();
  }, "missing LSTM parameters: weight_hh_l0, weight_ih_l0_reverse, weight_hh_l0_reverse");
  expect_error([] {
    lstm4j::Lstm lstm(3, 4, 1, false, false, 0, kF32, kCpu, 0);
    std::vector<float> b(16);
    lstm.set_parameter("bias_ih_l0", b.data(), 16);
  }, "unexpected parameter 'bias_ih_l0'");
  expect_error([] {
    lstm4j::LstmCell cell(3, 4, true, kF32, kCpu, 0);
    std::vector<float> w(48);
    cell.set_parameter("weight_ih_l0", w.data(), 48);
  }, "unexpected parameter 'weight_ih_l0' for an LSTMCell");
}

TEST(Errors, BadCallsAreInvalidArguments) {
  lstm4j::Lstm lstm(3, 4, 1, false, false, 0, kF32, kCpu, 0);
  std::vector<float> w(48), x(6), y(8);
  lstm.set_parameter("weight_ih_l0", w.data(), 48);
  std::vector<float> wh(64);
  lstm.set_parameter("weight_hh_l0", wh.data(), 64);
  std::vector<double> xd(6), yd(8);
  expect_error([&] { lstm.forward(xd.data(), 2, 1, false, nullptr, nullptr, yd.data(), nullptr, nullptr); },
               "input is float64, but the LSTM takes float32");
  expect_error([&] { lstm.forward(x.data(), 0, 1, false, nullptr, nullptr, y.data(), nullptr, nullptr); },
               "seq_len must be positive, got 0");
  expect_error([&] { lstm.set_cpu_algorithm(static_cast<lstm4j::Algorithm>(9)); },
               "algorithm must be 0 to 5, got 9");
}

// A failed allocation says it is memory, how much was asked for, and what LibTorch said.
TEST(Errors, FailedAllocationSaysHowMuch) {
  lstm4j::install_torch_message_capture();
  expect_error([] { lstm4j::Tensor::empty({int64_t{1} << 48}, kF32, lstm4j::Device{}); },
               "out of memory: cannot allocate 1125899906842624 bytes", ErrorKind::kOutOfMemory);
  try {
    lstm4j::Tensor::empty({int64_t{1} << 48}, kF32, lstm4j::Device{});
  } catch (const lstm4j::Error& e) {
    EXPECT_NE(std::string(e.what()).find("LibTorch says: "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("DefaultCPUAllocator"), std::string::npos) << e.what();
  }
}

// Another failed LibTorch call carries LibTorch's own message, not a pointer to stderr.
TEST(Errors, TorchFailureCarriesTorchMessage) {
  lstm4j::install_torch_message_capture();
  std::vector<float> a(6), b(6), out(4);
  const lstm4j::Device cpu{};
  lstm4j::Tensor ta = lstm4j::Tensor::from_blob(a.data(), {2, 3}, kF32, cpu);
  lstm4j::Tensor tb = lstm4j::Tensor::from_blob(b.data(), {2, 3}, kF32, cpu);  // 3 != 2: bad shapes
  lstm4j::Tensor to = lstm4j::Tensor::from_blob(out.data(), {2, 2}, kF32, cpu);
  expect_error([&] { lstm4j::check(aoti_torch_cpu_mm_out(to.get(), ta.get(), tb.get()), "mm"); },
               "LibTorch call failed: mm: ", ErrorKind::kTorch);
  try {
    lstm4j::check(aoti_torch_cpu_mm_out(to.get(), ta.get(), tb.get()), "mm");
  } catch (const lstm4j::Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot be multiplied"), std::string::npos) << e.what();
  }
}

}  // namespace
