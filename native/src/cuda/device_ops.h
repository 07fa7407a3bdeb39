// The LibTorch operations of the device scan (Lstm's path for CUDA, also runnable on the CPU),
// per device type. The CPU's are linked; CUDA's are resolved from libtorch_cuda.so the first time a
// CUDA device is asked for, so that the library links against libtorch_cpu only and runs on a CPU
// build of LibTorch, on the presets' GPU build and on an existing CUDA LibTorch alike.
#pragma once

#include <string>

#include "lstm4j/tensor.h"

namespace lstm4j::device {

struct Ops {
  // out = beta * self + alpha * (mat1 @ mat2); out = self @ mat2.
  AOTITorchError (*addmm_out)(AtenTensorHandle out, AtenTensorHandle self, AtenTensorHandle mat1,
                              AtenTensorHandle mat2, double beta, double alpha);
  AOTITorchError (*mm_out)(AtenTensorHandle out, AtenTensorHandle self, AtenTensorHandle mat2);
  // One fused LSTM cell: input_gates (B, 4H) (both biases folded in), hidden_gates (B, 4H) and cx
  // (B, H), all contiguous, give new contiguous hy and cy (B, H). On CUDA this is LibTorch's
  // _thnn_fused_lstm_cell kernel (float32 accumulation for bfloat16 and float16).
  void (*lstm_cell)(const Tensor& input_gates, const Tensor& hidden_gates, const Tensor& cx,
                    int64_t batch, int64_t hidden, Dtype dtype, Device device, Tensor* hy,
                    Tensor* cy);
};

// The operations for `device`. For CUDA, throws Error saying why CUDA is not available, or that
// the device index does not exist.
const Ops& ops_for(Device device);

// Number of CUDA devices LibTorch can use here; 0 when CUDA cannot be loaded.
int cuda_device_count();

// Why CUDA cannot be used here (empty when it can).
std::string cuda_unavailable_reason();

}  // namespace lstm4j::device
