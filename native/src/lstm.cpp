// The front of lstm4j's C++ core: lstm4j::Lstm and LstmCell. It validates once, here, what the
// caller passes, picks the algorithm once at prepare(), and hands each forward to it: the host
// stack runner (stack.h) with the team scan, the LibTorch-GEMM scan or the oneDNN layer (cpu/), or
// the device scan (cuda/).
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

template <typename T>
constexpr Dtype dtype_of() {
  return sizeof(T) == 8 ? Dtype::kFloat64 : Dtype::kFloat32;
}

// The algorithm a prepared model runs for padded batches (packed ones: see run_packed).
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

template <typename T>
void check_call(const Config& c, const void* input, const void* output) {
  LSTM4J_CHECK(host_dtype(c.dtype) == dtype_of<T>(),
               std::string("input is ") + dtype_name(dtype_of<T>()) + ", but the LSTM takes " +
                   dtype_name(host_dtype(c.dtype)));
  LSTM4J_CHECK(input != nullptr && output != nullptr, "input and output must not be null");
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

namespace {
// The sizes of a caller's tensor, checked for dtype, device and contiguity; names it in errors.
std::vector<int64_t> checked_sizes(AtenTensorHandle t, const char* name, Dtype dtype, Device device) {
  LSTM4J_CHECK(t != nullptr, std::string(name) + " is null");
  int64_t dim = 0;
  int64_t* sizes = nullptr;
  int32_t dt = 0, dev_type = 0, dev_index = 0;
  bool contiguous = false;
  check(aoti_torch_get_dim(t, &dim), "aoti_torch_get_dim");
  check(aoti_torch_get_sizes(t, &sizes), "aoti_torch_get_sizes");
  check(aoti_torch_get_dtype(t, &dt), "aoti_torch_get_dtype");
  check(aoti_torch_get_device_type(t, &dev_type), "aoti_torch_get_device_type");
  check(aoti_torch_get_device_index(t, &dev_index), "aoti_torch_get_device_index");
  check(aoti_torch_is_contiguous(t, &contiguous), "aoti_torch_is_contiguous");
  LSTM4J_CHECK(dt == torch_dtype(dtype), std::string(name) + ": expected dtype " + dtype_name(dtype));
  const bool same_device = dev_type == torch_device_type(device.type) &&
                           (device.is_cpu() || dev_index == device.index);
  LSTM4J_CHECK(same_device, std::string(name) + ": expected a tensor on " + device.str());
  LSTM4J_CHECK(contiguous, std::string(name) + ": expected a contiguous tensor");
  return std::vector<int64_t>(sizes, sizes + dim);
}

std::string shape_str(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

void* data_of(AtenTensorHandle t) {
  void* p = nullptr;
  if (t != nullptr) check(aoti_torch_get_data_ptr(t, &p), "aoti_torch_get_data_ptr");
  return p;
}
}  // namespace

namespace {
// A second handle on a caller's tensor, released with ours (the caller keeps its own).
Tensor alias(AtenTensorHandle t) {
  AtenTensorHandle handle = nullptr;
  check(aoti_torch_new_tensor_handle(t, &handle), "aoti_torch_new_tensor_handle");
  return Tensor(handle);
}
}  // namespace

void Lstm::forward_tensors(AtenTensorHandle input, bool batch_first, AtenTensorHandle h0,
                           AtenTensorHandle c0, AtenTensorHandle* output, AtenTensorHandle* h_n,
                           AtenTensorHandle* c_n) {
  prepare();
  Impl& m = *impl_;
  const Config& cf = m.config;
  LSTM4J_CHECK(output != nullptr && h_n != nullptr && c_n != nullptr, "result slots must not be null");
  const std::vector<int64_t> in = checked_sizes(input, "input", cf.dtype, cf.device);
  LSTM4J_CHECK(in.size() == 3 && in[2] == cf.input_size,
               "input: expected (seq_len, batch, " + std::to_string(cf.input_size) +
                   ") or its batch_first form, got " + shape_str(in));
  const int64_t T_ = batch_first ? in[1] : in[0], B = batch_first ? in[0] : in[1];
  LSTM4J_CHECK(T_ > 0 && B > 0, "input: expected a non-empty sequence and batch, got " + shape_str(in));
  const int64_t H = cf.hidden_size, Pn = cf.P(), D = cf.num_directions, I = cf.input_size;
  const int64_t states = cf.num_layers * D;
  LSTM4J_CHECK((h0 == nullptr) == (c0 == nullptr), "(h0, c0): pass both or neither");
  if (h0 != nullptr) {
    const std::vector<int64_t> hs = checked_sizes(h0, "h0", cf.dtype, cf.device);
    const std::vector<int64_t> cs = checked_sizes(c0, "c0", cf.dtype, cf.device);
    LSTM4J_CHECK(hs == std::vector<int64_t>({states, B, Pn}),
                 "h0: expected shape " + shape_str({states, B, Pn}) + ", got " + shape_str(hs));
    LSTM4J_CHECK(cs == std::vector<int64_t>({states, B, H}),
                 "c0: expected shape " + shape_str({states, B, H}) + ", got " + shape_str(cs));
  }
  const std::vector<int64_t> out_sizes =
      batch_first ? std::vector<int64_t>{B, T_, D * Pn} : std::vector<int64_t>{T_, B, D * Pn};
  Tensor out = Tensor::empty(out_sizes, cf.dtype, cf.device);
  Tensor hn = Tensor::empty({states, B, Pn}, cf.dtype, cf.device);
  Tensor cn = Tensor::empty({states, B, H}, cf.dtype, cf.device);
  if (cf.device.is_cpu()) {
    // CPU tensors are host memory: the usual paths run on their data in place.
    auto run = [&](auto zero) {
      using T = decltype(zero);
      forward(static_cast<const T*>(data_of(input)), T_, B, batch_first,
              static_cast<const T*>(data_of(h0)), static_cast<const T*>(data_of(c0)), out.data<T>(),
              hn.data<T>(), cn.data<T>());
    };
    if (cf.dtype == Dtype::kFloat64) {
      run(0.0);
    } else {
      run(0.0f);
    }
  } else {
    // On the device: a time-major copy of a batch_first input, the states copied (the scan
    // advances them in place) or zeroed there, the output written back in the caller's layout.
    const device::Ops& ops = device::ops_for(cf.device);
    Tensor x = Tensor::empty({T_, B, I}, cf.dtype, cf.device);
    const Tensor x_in = alias(input);
    if (batch_first) {
      ops.copy(x, x_in.reinterpret(0, {T_, B, I}, {I, T_ * I, 1}));
    } else {
      ops.copy(x, x_in);
    }
    if (h0 != nullptr) {
      ops.copy(hn, alias(h0));
      ops.copy(cn, alias(c0));
    } else {
      ops.zero(hn);
      ops.zero(cn);
    }
    Tensor y = scan_device(m, StepLayout::padded(T_, B, false), x, hn, cn, h0 == nullptr);
    if (batch_first) {
      ops.copy(out.reinterpret(0, {T_, B, D * Pn}, {D * Pn, T_ * D * Pn, 1}),
               y.reinterpret(0, {T_, B, D * Pn}, {B * D * Pn, D * Pn, 1}));
    } else {
      out = std::move(y);
    }
  }
  *output = out.release();
  *h_n = hn.release();
  *c_n = cn.release();
}

void Lstm::delete_tensor(AtenTensorHandle tensor) {
  if (tensor != nullptr) aoti_torch_delete_tensor_object(tensor);
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

// (h, c) of a stream, on the model's device. The tensors own their memory (LibTorch frees it), so a
// state outlives its model safely.
class Lstm::DeviceState {
 public:
  Tensor h, c;
  int64_t batch = 0;
  bool zero = true;  // still the zero state it was made as (lets the first step skip W_hh h0)
};

bool Lstm::streams_on_device() {
  prepare();
  return impl_->algorithm == Algorithm::kDevice && impl_->config.num_directions == 1;
}

Lstm::DeviceState* Lstm::new_device_state(int64_t batch) {
  LSTM4J_CHECK(streams_on_device(),
               "a device state needs a unidirectional LSTM that runs the device scan");
  LSTM4J_CHECK(batch > 0, "batch must be positive, got " + std::to_string(batch));
  const Config& cf = impl_->config;
  const device::Ops& ops = device::ops_for(cf.device);
  auto state = std::make_unique<DeviceState>();
  state->batch = batch;
  state->h = Tensor::empty({cf.num_layers, batch, cf.P()}, cf.dtype, cf.device);
  state->c = Tensor::empty({cf.num_layers, batch, cf.hidden_size}, cf.dtype, cf.device);
  ops.zero(state->h);
  ops.zero(state->c);
  return state.release();
}

void Lstm::delete_device_state(DeviceState* state) { delete state; }

template <typename Real>
void Lstm::set_device_state(DeviceState* state, const Real* h, const Real* c) {
  LSTM4J_CHECK(state != nullptr && h != nullptr && c != nullptr, "state, h and c must not be null");
  const Config& cf = impl_->config;
  check_call<Real>(cf, h, c);
  const device::Ops& ops = device::ops_for(cf.device);
  DeviceTransfers<Real> transfers(ops, cf.device);
  transfers.upload(state->h, h, {cf.num_layers, state->batch, cf.P()});
  transfers.upload(state->c, c, {cf.num_layers, state->batch, cf.hidden_size});
  state->zero = false;
}

template <typename Real>
void Lstm::get_device_state(DeviceState* state, Real* h, Real* c) {
  LSTM4J_CHECK(state != nullptr && h != nullptr && c != nullptr, "state, h and c must not be null");
  const Config& cf = impl_->config;
  check_call<Real>(cf, h, c);
  const device::Ops& ops = device::ops_for(cf.device);
  DeviceTransfers<Real> transfers(ops, cf.device);
  transfers.download(h, state->h, {cf.num_layers, state->batch, cf.P()});
  transfers.download(c, state->c, {cf.num_layers, state->batch, cf.hidden_size});
}

template <typename Real>
void Lstm::forward_stream(const Real* chunk, int64_t seq_len, int64_t batch, bool batch_first,
                          DeviceState* state, Real* output) {
  LSTM4J_CHECK(state != nullptr, "state must not be null");
  LSTM4J_CHECK(streams_on_device(),
               "a device state needs a unidirectional LSTM that runs the device scan");
  Impl& m = *impl_;
  check_call<Real>(m.config, chunk, output);
  LSTM4J_CHECK(seq_len > 0, "seq_len must be positive, got " + std::to_string(seq_len));
  LSTM4J_CHECK(batch == state->batch, "chunk: expected batch " + std::to_string(state->batch) +
                                          " (the state's), got " + std::to_string(batch));
  forward_device_states<Real>(m, StepLayout::padded(seq_len, batch, batch_first), chunk, output,
                              state->h, state->c, state->zero);
  state->zero = false;
}

#define LSTM4J_INSTANTIATE_REAL(Real)                                                          \
  template void Lstm::set_parameter<Real>(const char*, const Real*, int64_t);                  \
  template void Lstm::forward<Real>(const Real*, int64_t, int64_t, bool, const Real*,          \
                                    const Real*, Real*, Real*, Real*);                         \
  template void Lstm::forward_packed<Real>(const Real*, const int64_t*, int64_t, const Real*, \
                                           const Real*, Real*, Real*, Real*);                  \
  template void Lstm::set_device_state<Real>(DeviceState*, const Real*, const Real*);          \
  template void Lstm::get_device_state<Real>(DeviceState*, Real*, Real*);                      \
  template void Lstm::forward_stream<Real>(const Real*, int64_t, int64_t, bool, DeviceState*,   \
                                           Real*);                                              \
  template void LstmCell::set_parameter<Real>(const char*, const Real*, int64_t);              \
  template void LstmCell::forward<Real>(const Real*, int64_t, const Real*, const Real*, Real*, \
                                        Real*);
LSTM4J_FOR_EACH_REAL(LSTM4J_INSTANTIATE_REAL)
#undef LSTM4J_INSTANTIATE_REAL

}  // namespace lstm4j
