// _cudnn_rnn through LibTorch's CUDA C shim. The weights are the model's device tensors, per layer
// and direction in PyTorch's order (w_ih, w_hh, b_ih, b_hh, w_hr; weight_stride0 of them, as
// nn.LSTM's _flat_weights); without a flattened weight_buf LibTorch copies them into cuDNN's layout
// on each call (aten/src/ATen/native/cudnn/RNN.cpp, _cudnn_rnn: "if (!weight_buf.defined())"), which
// costs one device copy of the weights per forward and no host work.
#include "cuda/cudnn_rnn.h"

#include <vector>

#include "cuda/device_ops.h"
#include "cuda/device_scan.h"

namespace lstm4j {

namespace {
// cudnnRNNMode_t: CUDNN_RNN_RELU = 0, CUDNN_RNN_TANH = 1, CUDNN_LSTM = 2, CUDNN_GRU = 3.
constexpr int64_t kCudnnLstm = 2;
}  // namespace

bool cudnn_available() { return device::cudnn_rnn_fn() != nullptr; }

template <typename T>
void forward_cudnn(Lstm::Impl& m, const StepLayout& io, const T* input, const T* h0, const T* c0,
                   T* output, T* h_n, T* c_n) {
  const Config& cf = m.config;
  const Device device = cf.device;
  const Dtype dtype = cf.dtype;
  const device::Ops& ops = device::ops_for(device);
  const device::CudnnRnn rnn = device::cudnn_rnn_fn();
  LSTM4J_CHECK(rnn != nullptr, "cuDNN's RNN (aoti_torch_cuda__cudnn_rnn) is not in this LibTorch");
  const int64_t H = cf.hidden_size, Pn = cf.P(), I = cf.input_size, D = cf.num_directions;
  const int64_t y_cols = D * Pn, states = cf.num_layers * D;
  const int64_t T_ = io.steps, B = io.batch, rows = io.rows;
  const bool bf = !io.packed && io.b_stride != 1;
  DeviceTransfers<T> transfers(ops, device);
  // cuDNN takes batch_first and packed input as they are: no layout change.
  const std::vector<int64_t> x_sizes =
      io.packed ? std::vector<int64_t>{rows, I} : bf ? std::vector<int64_t>{B, T_, I}
                                                      : std::vector<int64_t>{T_, B, I};
  Tensor x = Tensor::empty(x_sizes, dtype, device);
  transfers.upload(x, input, x_sizes);
  Tensor hx = Tensor::empty({states, B, Pn}, dtype, device);
  Tensor cx = Tensor::empty({states, B, H}, dtype, device);
  if (h0 == nullptr) {
    ops.zero(hx);
    ops.zero(cx);
  } else {
    transfers.upload(hx, h0, {states, B, Pn});
    transfers.upload(cx, c0, {states, B, H});
  }
  std::vector<AtenTensorHandle> weights;
  for (int64_t l = 0; l < cf.num_layers; ++l) {
    const LayerWeights& w = m.params.layer(l);
    for (int64_t d = 0; d < D; ++d) {
      weights.push_back(w.w_ih_dir[d].get());
      weights.push_back(w.w_hh[d].get());
      if (cf.bias) {
        weights.push_back(w.b_ih[d].get());
        weights.push_back(w.b_hh[d].get());
      }
      if (cf.proj_size > 0) weights.push_back(w.w_hr[d].get());
    }
  }
  const int64_t stride0 = 2 + (cf.bias ? 2 : 0) + (cf.proj_size > 0 ? 1 : 0);
  AtenTensorHandle cx_handle = cx.get();
  AtenTensorHandle r[5] = {};
  check(rnn(x.get(), weights.data(), static_cast<int64_t>(weights.size()), stride0, nullptr,
            hx.get(), &cx_handle, kCudnnLstm, H, cf.proj_size, cf.num_layers, bf ? 1 : 0, 0.0, 0,
            D == 2 ? 1 : 0, io.packed ? io.n.data() : nullptr,
            io.packed ? static_cast<int64_t>(io.n.size()) : 0, nullptr, &r[0], &r[1], &r[2], &r[3],
            &r[4]),
        "aoti_torch_cuda__cudnn_rnn");
  Tensor y(r[0]), hy(r[1]), cy(r[2]), reserve(r[3]), buf(r[4]);
  const std::vector<int64_t> y_sizes =
      io.packed ? std::vector<int64_t>{rows, y_cols} : bf ? std::vector<int64_t>{B, T_, y_cols}
                                                           : std::vector<int64_t>{T_, B, y_cols};
  transfers.download(output, y, y_sizes);
  if (h_n != nullptr) transfers.download(h_n, hy, {states, B, Pn});
  if (c_n != nullptr) transfers.download(c_n, cy, {states, B, H});
}

template void forward_cudnn<float>(Lstm::Impl&, const StepLayout&, const float*, const float*,
                                   const float*, float*, float*, float*);
template void forward_cudnn<double>(Lstm::Impl&, const StepLayout&, const double*, const double*,
                                    const double*, double*, double*, double*);

}  // namespace lstm4j
