// Bad configurations and parameters raise lstm4j::Error with a message that says what was
// expected and what came, and never reach LibTorch.
#include <vector>

#include "lstm4j/lstm.h"
#include "test_util.h"

using lstm4j::test::expect_throws;

int main() {
  // This test runs on CPU-only machines (CI); on a CUDA machine the GPU check covers cuda:N.
  if (lstm4j::Lstm::cuda_device_count() == 0) {
    expect_throws("cuda without CUDA", [] { lstm4j::Lstm(3, 4, 1, true, false, 0, 0, 1, 0); },
                  "CUDA is not available: ");
  } else {
    expect_throws("cuda index out of range",
                  [] { lstm4j::Lstm(3, 4, 1, true, false, 0, 0, 1, 1000); },
                  "cuda:1000 does not exist");
  }
  expect_throws("bfloat16 on cpu", [] { lstm4j::Lstm(3, 4, 1, true, false, 0, 2, 0, 0); },
                "bfloat16 runs on CUDA only");
  expect_throws("negative hidden_size", [] { lstm4j::Lstm(3, -1, 1, true, false, 0, 0, 0, 0); },
                "hidden_size must be positive, got -1");
  expect_throws("proj_size >= hidden_size", [] { lstm4j::Lstm(3, 4, 1, true, false, 4, 0, 0, 0); },
                "proj_size must be >= 0 and < hidden_size (4), got 4");
  expect_throws("unknown parameter", [] {
    lstm4j::Lstm lstm(3, 4, 1, true, false, 0, 0, 0, 0);
    std::vector<float> w(48);
    lstm.set_parameter("weight_ih_l1", w.data(), 48);
  }, "unexpected parameter 'weight_ih_l1'");
  expect_throws("wrong numel", [] {
    lstm4j::Lstm lstm(3, 4, 1, true, false, 0, 0, 0, 0);
    std::vector<float> w(47);
    lstm.set_parameter("weight_ih_l0", w.data(), 47);
  }, "has 47 elements, expected 48");
  expect_throws("wrong dtype", [] {
    lstm4j::Lstm lstm(3, 4, 1, true, false, 0, 0, 0, 0);
    std::vector<double> w(48);
    lstm.set_parameter("weight_ih_l0", w.data(), 48);
  }, "is float64, expected float32");
  expect_throws("missing parameters", [] {
    lstm4j::Lstm lstm(3, 4, 1, false, true, 0, 0, 0, 0);
    std::vector<float> w(48);
    lstm.set_parameter("weight_ih_l0", w.data(), 48);
    lstm.prepare();
  }, "missing LSTM parameters: weight_hh_l0, weight_ih_l0_reverse, weight_hh_l0_reverse");
  expect_throws("bias given to a bias-free LSTM", [] {
    lstm4j::Lstm lstm(3, 4, 1, false, false, 0, 0, 0, 0);
    std::vector<float> b(16);
    lstm.set_parameter("bias_ih_l0", b.data(), 16);
  }, "unexpected parameter 'bias_ih_l0'");
  expect_throws("cell parameter name", [] {
    lstm4j::LstmCell cell(3, 4, true, 0, 0, 0);
    std::vector<float> w(48);
    cell.set_parameter("weight_ih_l0", w.data(), 48);
  }, "unexpected parameter 'weight_ih_l0' for an LSTMCell");
  return lstm4j::test::finish("errors_test");
}
