// The cuDNN path (Algorithm::kCudnn): one call of LibTorch's _cudnn_rnn per forward, the kernel
// PyTorch's own nn.LSTM runs on a GPU, with PyTorch's default math (TF32 for float32 where the GPU
// has it; the 16-bit types as cuDNN computes them). CUDA only. NOT YET RUN ON A GPU: the GPU check
// (scripts/gpu-check.sh) exercises it first.
#pragma once

#include "model.h"

namespace lstm4j {

// Whether libtorch_cuda.so has aoti_torch_cuda__cudnn_rnn (a CUDA LibTorch built with cuDNN).
bool cudnn_available();

// A forward on host data, as forward_device: copied to the device once (through pinned staging),
// one _cudnn_rnn call, results copied back once.
template <typename T>
void forward_cudnn(Lstm::Impl& m, const StepLayout& io, const T* input, const T* h0, const T* c0,
                   T* output, T* h_n, T* c_n);

}  // namespace lstm4j
