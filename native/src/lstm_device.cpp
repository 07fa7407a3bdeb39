// The entry points of lstm4j::Lstm whose data stay on the model's device: forward_tensors
// (LibTorch tensors in and out, on the model's device) and the streaming device state (a stream's
// (h, c) kept on the device between chunks: DeviceState, forward_stream). Both run the device scan
// (cuda/device_scan.h) on CUDA; lstm.cpp holds the host-pointer entry points.
#include <memory>
#include <string>
#include <vector>

#include "cuda/device_ops.h"
#include "cuda/device_scan.h"
#include "lstm4j/lstm.h"
#include "model.h"

namespace lstm4j {

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

#define LSTM4J_INSTANTIATE_REAL(Real)                                                        \
  template void Lstm::set_device_state<Real>(DeviceState*, const Real*, const Real*);        \
  template void Lstm::get_device_state<Real>(DeviceState*, Real*, Real*);                    \
  template void Lstm::forward_stream<Real>(const Real*, int64_t, int64_t, bool, DeviceState*, \
                                           Real*);
LSTM4J_FOR_EACH_REAL(LSTM4J_INSTANTIATE_REAL)
#undef LSTM4J_INSTANTIATE_REAL

}  // namespace lstm4j
