// Runs one golden case (src/test/resources/golden/README.md: a PyTorch LSTM or LSTMCell, its
// weights, inputs and float64 outputs in a safetensors file) through lstm4j's C++ API and returns
// the largest absolute difference from PyTorch's outputs. Shared by the example and the tests.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "lstm4j/lstm.h"
#include "safetensors_reader.h"

namespace lstm4j::golden {

using lstm4j::test::StFile;

inline double max_abs_diff(const std::vector<double>& got, const std::vector<double>& want) {
  if (got.size() != want.size()) return INFINITY;
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double d = std::fabs(got[i] - want[i]);
    if (!(d <= worst)) worst = d;  // NaN propagates as a failure
  }
  return worst;
}

template <typename T>
inline const T* opt(const std::vector<T>& v) {
  return v.empty() ? nullptr : v.data();
}

template <typename T>
std::vector<double> widen(const std::vector<T>& v) {
  return std::vector<double>(v.begin(), v.end());
}

template <typename T>
double run_lstm(const StFile& f, lstm4j::Algorithm cpu_algorithm) {
  const int64_t I = std::stoll(f.meta("input_size")), H = std::stoll(f.meta("hidden_size"));
  const int64_t L = std::stoll(f.meta("num_layers")), P0 = std::stoll(f.meta("proj_size"));
  const bool bias = f.meta("bias") == "true", bidir = f.meta("bidirectional") == "true";
  const bool batch_first = f.meta("batch_first") == "true", batched = f.meta("batched") == "true";
  const lstm4j::Dtype dtype = sizeof(T) == 8 ? lstm4j::Dtype::kFloat64 : lstm4j::Dtype::kFloat32;
  lstm4j::Lstm lstm(I, H, L, bias, bidir, P0, dtype, lstm4j::DeviceType::kCpu, 0);
  lstm.set_cpu_algorithm(cpu_algorithm);
  for (const auto& [name, t] : f.tensors) {
    if (name.rfind("weight_", 0) == 0 || name.rfind("bias_", 0) == 0) {
      std::vector<T> w = t.template as<T>();
      lstm.set_parameter(name.c_str(), w.data(), t.numel());
    }
  }
  const auto& in = f.at("input");
  const int64_t T_ = batched ? in.shape[batch_first ? 1 : 0] : in.shape[0];
  const int64_t B = batched ? in.shape[batch_first ? 0 : 1] : 1;
  const int64_t D = bidir ? 2 : 1, Pn = P0 > 0 ? P0 : H;
  std::vector<T> x = in.as<T>(), h0, c0;
  if (f.has("h0")) {
    h0 = f.at("h0").as<T>();
    c0 = f.at("c0").as<T>();
  }
  std::vector<T> out(static_cast<size_t>(T_ * B * D * Pn)), hn(static_cast<size_t>(L * D * B * Pn)),
      cn(static_cast<size_t>(L * D * B * H));
  if (f.meta_or("packed", "false") == "true") {
    // pack_padded_sequence(enforce_sorted=False): sort by length (stable), pack time-major, run,
    // and scatter the packed output and the sorted states back.
    const std::vector<double> len_d = f.at("lengths").as_double();
    std::vector<int64_t> len(len_d.begin(), len_d.end()), order(static_cast<size_t>(B));
    for (int64_t b = 0; b < B; ++b) order[static_cast<size_t>(b)] = b;
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return len[static_cast<size_t>(a)] > len[static_cast<size_t>(b)]; });
    const int64_t steps = len[static_cast<size_t>(order[0])];
    std::vector<int64_t> sizes;
    for (int64_t t = 0; t < steps; ++t) {
      int64_t n = 0;
      while (n < B && len[static_cast<size_t>(order[static_cast<size_t>(n)])] > t) ++n;
      sizes.push_back(n);
    }
    auto padded_row = [&](int64_t t, int64_t b) { return batch_first ? b * T_ + t : t * B + b; };
    std::vector<T> data, h0s(h0.size()), c0s(c0.size());
    for (int64_t t = 0; t < steps; ++t)
      for (int64_t j = 0; j < sizes[static_cast<size_t>(t)]; ++j)
        for (int64_t i = 0; i < I; ++i) data.push_back(x[static_cast<size_t>(padded_row(t, order[static_cast<size_t>(j)]) * I + i)]);
    auto permute = [&](const std::vector<T>& src, std::vector<T>& dst, int64_t F, bool to_sorted) {
      for (int64_t k = 0; k < L * D; ++k)
        for (int64_t j = 0; j < B; ++j)
          for (int64_t i = 0; i < F; ++i) {
            const size_t sorted = static_cast<size_t>((k * B + j) * F + i);
            const size_t orig = static_cast<size_t>((k * B + order[static_cast<size_t>(j)]) * F + i);
            if (to_sorted) dst[sorted] = src[orig]; else dst[orig] = src[sorted];
          }
    };
    if (!h0.empty()) {
      permute(h0, h0s, Pn, true);
      permute(c0, c0s, H, true);
    }
    const int64_t rows = static_cast<int64_t>(data.size()) / I;
    std::vector<T> packed(static_cast<size_t>(rows * D * Pn)), hns(hn.size()), cns(cn.size());
    lstm.forward_packed(data.data(), sizes.data(), steps, opt(h0s), opt(c0s), packed.data(),
                        hns.data(), cns.data());
    for (int64_t t = 0, r = 0; t < steps; ++t)
      for (int64_t j = 0; j < sizes[static_cast<size_t>(t)]; ++j, ++r)
        for (int64_t i = 0; i < D * Pn; ++i)
          out[static_cast<size_t>(padded_row(t, order[static_cast<size_t>(j)]) * D * Pn + i)] =
              packed[static_cast<size_t>(r * D * Pn + i)];
    permute(hns, hn, Pn, false);
    permute(cns, cn, H, false);
  } else {
    lstm.forward(x.data(), T_, B, batch_first && batched, opt(h0), opt(c0), out.data(), hn.data(),
                 cn.data());
  }
  return std::max({max_abs_diff(widen(out), f.at("output").as_double()),
                   max_abs_diff(widen(hn), f.at("h_n").as_double()),
                   max_abs_diff(widen(cn), f.at("c_n").as_double())});
}

template <typename T>
double run_cell(const StFile& f) {
  const int64_t I = std::stoll(f.meta("input_size")), H = std::stoll(f.meta("hidden_size"));
  const bool bias = f.meta("bias") == "true";
  lstm4j::LstmCell cell(I, H, bias, sizeof(T) == 8 ? lstm4j::Dtype::kFloat64 : lstm4j::Dtype::kFloat32,
                        lstm4j::DeviceType::kCpu, 0);
  for (const auto& [name, t] : f.tensors) {
    if (name.rfind("weight_", 0) == 0 || name.rfind("bias_", 0) == 0) {
      std::vector<T> w = t.template as<T>();
      cell.set_parameter(name.c_str(), w.data(), t.numel());
    }
  }
  const auto& in = f.at("input");
  const int64_t B = in.shape.size() == 2 ? in.shape[0] : 1;
  std::vector<T> x = in.as<T>(), h0, c0;
  if (f.has("h0")) {
    h0 = f.at("h0").as<T>();
    c0 = f.at("c0").as<T>();
  }
  std::vector<T> h1(static_cast<size_t>(B * H)), c1(static_cast<size_t>(B * H));
  cell.forward(x.data(), B, opt(h0), opt(c0), h1.data(), c1.data());
  return std::max(max_abs_diff(widen(h1), f.at("h1").as_double()),
                  max_abs_diff(widen(c1), f.at("c1").as_double()));
}


// The worst error of case f with `algorithm` (ignored for cells, which have one path).
inline double case_error(const StFile& f, lstm4j::Algorithm algorithm) {
  const bool f64 = f.meta("dtype") == "float64";
  if (f.meta("kind") == "cell") return f64 ? run_cell<double>(f) : run_cell<float>(f);
  return f64 ? run_lstm<double>(f, algorithm) : run_lstm<float>(f, algorithm);
}

// PyTorch's tolerance for the case's dtype: 5e-6 for float32, 1e-12 for float64.
inline double tolerance(const StFile& f) { return f.meta("dtype") == "float64" ? 1e-12 : 5e-6; }

}  // namespace lstm4j::golden
