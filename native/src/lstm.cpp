// The front of lstm4j's C++ core: lstm4j::Lstm and LstmCell. It validates once, here, what the
// caller passes, picks the algorithm once at prepare(), and hands each forward to it: the stack
// runner (stack.h) with the team scan, the LibTorch-GEMM scan or the oneDNN layer (cpu/), or with
// the device scan (cuda/). The entry points on device tensors and streaming state: lstm_device.cpp.
#include "lstm4j/lstm.h"

#include <algorithm>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "cpu/gemm_f32.h"
#include "cuda/cudnn_rnn.h"
#include "cuda/device_ops.h"
#include "cuda/device_scan.h"
#include "model.h"
#include "stack.h"

namespace lstm4j {

namespace {

// The algorithm a prepared model runs for padded batches (packed ones: see forward_packed).
Algorithm resolve(const Config& c, Algorithm chosen) {
  if (!c.device.is_cpu()) {
    // cuDNN when asked for and present (a LibTorch without it runs the device scan).
    return chosen == Algorithm::kCudnn && cudnn_available() ? Algorithm::kCudnn : Algorithm::kDevice;
  }
  LSTM4J_CHECK(chosen != Algorithm::kCudnn, "the cudnn algorithm runs on CUDA devices only");
  if (chosen == Algorithm::kDevice) return Algorithm::kDevice;
  // float64 runs the team scan's plain loop by default: it is batch-invariant (a row's bits do not
  // depend on the batch it is in), LibTorch's addmm/mm in the scan are not (they differ for B >= 2
  // at H=256).
  if (chosen == Algorithm::kAuto || chosen == Algorithm::kTeam) return Algorithm::kTeam;
  if (c.dtype == Dtype::kFloat64) return Algorithm::kScan;
  if (chosen == Algorithm::kOneDnn && c.proj_size == 0) return Algorithm::kOneDnn;
  return Algorithm::kScan;
}

}  // namespace

Lstm::Lstm(int64_t input_size, int64_t hidden_size, int64_t num_layers, bool bias,
           bool bidirectional, int64_t proj_size, Dtype dtype, DeviceType device_type,
           int32_t device_index)
    : impl_(std::make_unique<Impl>()) {
  install_torch_message_capture();
  const auto dt = static_cast<int32_t>(dtype), dev = static_cast<int32_t>(device_type);
  LSTM4J_CHECK(input_size > 0, "input_size must be positive, got " + std::to_string(input_size));
  LSTM4J_CHECK(hidden_size > 0,
               "hidden_size must be positive, got " + std::to_string(hidden_size));
  LSTM4J_CHECK(num_layers > 0, "num_layers must be positive, got " + std::to_string(num_layers));
  LSTM4J_CHECK(proj_size >= 0 && proj_size < hidden_size,
               "proj_size must be >= 0 and < hidden_size (" + std::to_string(hidden_size) +
                   "), got " + std::to_string(proj_size));
  LSTM4J_CHECK(dt >= 0 && dt <= 3,
               "dtype must be 0 (float32), 1 (float64), 2 (bfloat16) or 3 (float16), got " +
                   std::to_string(dt));
  LSTM4J_CHECK(dev == 0 || dev == 1,
               "device_type must be 0 (cpu) or 1 (cuda), got " + std::to_string(dev));
  const Device device{device_type, device_index};
  if (!device.is_cpu()) {
    device::ops_for(device);  // throws if CUDA or the index is missing
  } else {
    LSTM4J_CHECK(dt <= 1, std::string(dtype_name(dtype)) +
                              " runs on CUDA only; on cpu use float32 or float64");
  }
  Config& c = impl_->config;
  c.input_size = input_size;
  c.hidden_size = hidden_size;
  c.num_layers = num_layers;
  c.proj_size = proj_size;
  c.num_directions = bidirectional ? 2 : 1;
  c.bias = bias;
  c.dtype = dtype;
  c.device = device;
  impl_->params.init();
}

Lstm::~Lstm() = default;

template <typename Real>
void Lstm::set_parameter(const char* name, const Real* data, int64_t numel) {
  std::lock_guard<std::mutex> lock(impl_->prepare_mutex);
  LSTM4J_CHECK(!impl_->prepared, "parameters cannot change after the LSTM is prepared");
  impl_->params.set(name, data, numel, dtype_of<Real>());
}

void Lstm::set_cpu_algorithm(Algorithm algorithm) {
  const auto a = static_cast<int32_t>(algorithm);
  LSTM4J_CHECK(a >= 0 && a <= 5, "algorithm must be 0 to 5, got " + std::to_string(a));
  std::lock_guard<std::mutex> lock(impl_->prepare_mutex);
  LSTM4J_CHECK(!impl_->prepared, "the cpu algorithm cannot change after the LSTM is prepared");
  impl_->algorithm = algorithm;
}

void Lstm::set_num_threads(int32_t threads) {
  LSTM4J_CHECK(threads >= 0, "num_threads must be >= 0 (0 for the default), got " +
                                 std::to_string(threads));
  std::lock_guard<std::mutex> lock(impl_->prepare_mutex);
  LSTM4J_CHECK(!impl_->prepared, "num_threads cannot change after the LSTM is prepared");
  impl_->threads = threads;
}

int32_t Lstm::num_threads() const {
  std::lock_guard<std::mutex> lock(impl_->prepare_mutex);
  return impl_->threads;
}

void Lstm::prepare() {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> lock(m.prepare_mutex);
  if (m.prepared) return;
  m.params.prepare();
  m.algorithm = resolve(m.config, m.algorithm);
  if (m.config.device.is_cpu()) {
    m.team = &cpu::Team::shared();
    m.threads = std::min(m.threads > 0 ? m.threads : m.team->size(), m.team->size());
  }
  m.prepared = true;
}

template <typename Real>
void Lstm::forward(const Real* input, int64_t seq_len, int64_t batch, bool batch_first,
                   Like<const Real*> h0, Like<const Real*> c0, Like<Real*> output,
                   Like<Real*> h_n, Like<Real*> c_n) {
  prepare();
  Impl& m = *impl_;
  check_call<Real>(m.config, input, output);
  LSTM4J_CHECK(seq_len > 0, "seq_len must be positive, got " + std::to_string(seq_len));
  LSTM4J_CHECK(batch > 0, "batch must be positive, got " + std::to_string(batch));
  const StepLayout io = StepLayout::padded(seq_len, batch, batch_first);
  switch (m.algorithm) {
    case Algorithm::kDevice:
      return forward_device<Real>(m, io, input, h0, c0, output, h_n, c_n);
    case Algorithm::kCudnn:
      return forward_cudnn<Real>(m, io, input, h0, c0, output, h_n, c_n);
    case Algorithm::kTeam:
      return forward_team<Real>(m, io, input, h0, c0, output, h_n, c_n);
    case Algorithm::kOneDnn:
      if constexpr (std::is_same_v<Real, float>) {
        return forward_onednn(m, io, input, h0, c0, output, h_n, c_n);
      }
      [[fallthrough]];
    default:
      return forward_scan<Real>(m, io, input, h0, c0, output, h_n, c_n);
  }
}

template <typename Real>
void Lstm::forward_packed(const Real* data, const int64_t* batch_sizes, int64_t steps,
                          Like<const Real*> h0, Like<const Real*> c0, Like<Real*> output,
                          Like<Real*> h_n, Like<Real*> c_n) {
  prepare();
  Impl& m = *impl_;
  check_call<Real>(m.config, data, output);
  const StepLayout io = StepLayout::of_packed(batch_sizes, steps);
  // Only the team scan and the device scan step a shrinking batch.
  if (m.algorithm == Algorithm::kCudnn) {
    forward_cudnn<Real>(m, io, data, h0, c0, output, h_n, c_n);
  } else if (m.algorithm == Algorithm::kDevice) {
    forward_device<Real>(m, io, data, h0, c0, output, h_n, c_n);
  } else {
    forward_team<Real>(m, io, data, h0, c0, output, h_n, c_n);
  }
}

int32_t Lstm::cuda_device_count() { return device::cuda_device_count(); }
double Lstm::fma_peak_gflops(int32_t threads) { return cpu::fma_peak_gflops(threads); }
std::string Lstm::cuda_unavailable_reason() { return device::cuda_unavailable_reason(); }

std::string Lstm::cuda_cell_path(int32_t device_index) {
  return device::cuda_cell_path(device_index);
}

int64_t Lstm::input_size() const { return impl_->config.input_size; }
int64_t Lstm::hidden_size() const { return impl_->config.hidden_size; }
int64_t Lstm::num_layers() const { return impl_->config.num_layers; }
int64_t Lstm::num_directions() const { return impl_->config.num_directions; }
int64_t Lstm::proj_size() const { return impl_->config.proj_size; }
int64_t Lstm::real_hidden_size() const { return impl_->config.P(); }
Dtype Lstm::host_dtype() const { return lstm4j::host_dtype(impl_->config.dtype); }

// ---- LstmCell: a one-step, one-layer Lstm under the cell's parameter names -----------------

namespace {
std::string cell_to_layer_name(const char* name) {
  LSTM4J_CHECK(name != nullptr, "parameter name is null");
  const std::string n(name);
  for (const char* kind : {"weight_ih", "weight_hh", "bias_ih", "bias_hh"}) {
    if (n == kind) return n + "_l0";
  }
  throw Error("unexpected parameter '" + n + "' for an LSTMCell");
}
}  // namespace

LstmCell::LstmCell(int64_t input_size, int64_t hidden_size, bool bias, Dtype dtype,
                   DeviceType device_type, int32_t device_index)
    : lstm_(input_size, hidden_size, 1, bias, false, 0, dtype, device_type, device_index) {}

LstmCell::~LstmCell() = default;

template <typename Real>
void LstmCell::set_parameter(const char* name, const Real* data, int64_t numel) {
  lstm_.set_parameter(cell_to_layer_name(name).c_str(), data, numel);
}

void LstmCell::set_num_threads(int32_t threads) { lstm_.set_num_threads(threads); }

void LstmCell::prepare() { lstm_.prepare(); }

template <typename Real>
void LstmCell::forward(const Real* input, int64_t batch, Like<const Real*> h0,
                       Like<const Real*> c0, Like<Real*> h1, Like<Real*> c1) {
  lstm_.forward(input, 1, batch, false, h0, c0, h1, nullptr, c1);
}

#define LSTM4J_INSTANTIATE_REAL(Real)                                                          \
  template void Lstm::set_parameter<Real>(const char*, const Real*, int64_t);                  \
  template void Lstm::forward<Real>(const Real*, int64_t, int64_t, bool, const Real*,          \
                                    const Real*, Real*, Real*, Real*);                         \
  template void Lstm::forward_packed<Real>(const Real*, const int64_t*, int64_t, const Real*, \
                                           const Real*, Real*, Real*, Real*);                  \
  template void LstmCell::set_parameter<Real>(const char*, const Real*, int64_t);              \
  template void LstmCell::forward<Real>(const Real*, int64_t, const Real*, const Real*, Real*, \
                                        Real*);
LSTM4J_FOR_EACH_REAL(LSTM4J_INSTANTIATE_REAL)
#undef LSTM4J_INSTANTIATE_REAL

}  // namespace lstm4j
