// The LibTorch operations of the device scan (Lstm's path for CUDA, also runnable on the CPU),
// per device type. The CPU's are linked; CUDA's are resolved from libtorch_cuda.so the first time a
// CUDA device is asked for, so that the library links against libtorch_cpu only and runs on a CPU
// build of LibTorch, on the presets' GPU build and on an existing CUDA LibTorch alike.
//
// Every operation that queues device work goes through Ops, which counts it (launches()): the
// tests read the count on the CPU to hold the scan to its number of operations per step.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lstm4j/tensor.h"

namespace lstm4j::device {

// Device operations issued by this thread so far (each LibTorch call through Ops counts one; on
// CUDA a call may launch more than one kernel, which the count does not see).
uint64_t launches();

// One launch of a cell kernel: the pointers and strides Ops::cell read off its tensors. gh null
// when h_{t-1} W_hh^T is zero; c (n, hidden) contiguous, updated in place; h rows h_stride apart.
struct CellArgs {
  Dtype dtype;
  int32_t device_index;
  const void* gx;
  int64_t gx_stride;
  const void* gh;
  void* c;
  void* h;
  int64_t h_stride;
  int64_t n;
  int64_t hidden;
};
// Queues the cell of `args` (on CUDA: lstm4j's kernel on LibTorch's current stream).
using CellKernel = void (*)(const CellArgs& args);

struct Ops {
  // out = beta * self + alpha * (mat1 @ mat2); out = self @ mat2.
  AOTITorchError (*addmm_out_fn)(AtenTensorHandle out, AtenTensorHandle self, AtenTensorHandle mat1,
                                 AtenTensorHandle mat2, double beta, double alpha);
  AOTITorchError (*mm_out_fn)(AtenTensorHandle out, AtenTensorHandle self, AtenTensorHandle mat2);
  // One LSTM cell: input_gates (n, 4H) with row stride ig_stride (both biases folded in),
  // hidden_gates (n, 4H) contiguous or undefined (then h_{t-1} W_hh^T is zero and skipped), and c
  // (n, H) contiguous. Writes h into h_out ((n, H), any row stride). Returns true when it updated c
  // in place (our CPU kernel); false when it replaced c by a new tensor (CUDA's
  // _thnn_fused_lstm_cell, float32 accumulation for bfloat16 and float16, which has no out variant:
  // there h_out costs one copy).
  bool (*cell_fn)(const Tensor& input_gates, int64_t ig_stride, const Tensor& hidden_gates,
                  Tensor& c, const Tensor& h_out, int64_t n, int64_t hidden, Dtype dtype);
  // Whether the cell needs defined hidden_gates (CUDA's fused cell takes no null).
  bool cell_needs_hidden_gates;
  // When set, the cell is this kernel instead of cell_fn: one operation that reads the gates,
  // updates c in place and writes h into h_out's rows (CUDA with lstm4j's kernel: 2 operations per
  // step and direction instead of 3).
  CellKernel cell_kernel = nullptr;

  void addmm_out(const Tensor& out, const Tensor& self, const Tensor& mat1, const Tensor& mat2,
                 const char* what) const;
  void mm_out(const Tensor& out, const Tensor& self, const Tensor& mat2, const char* what) const;
  // Returns true when c was updated in place.
  bool cell(const Tensor& input_gates, int64_t ig_stride, const Tensor& hidden_gates, Tensor& c,
            const Tensor& h_out, int64_t n, int64_t hidden, Dtype dtype) const;
  // dst <- src (any devices); non_blocking for copies from pinned host memory.
  void copy(const Tensor& dst, const Tensor& src, bool non_blocking = false) const;
  void zero(const Tensor& t) const;
};

// The operations for `device`. For CUDA, throws Error saying why CUDA is not available, or that
// the device index does not exist. On CUDA the table with lstm4j's cell kernel when it loaded on
// that device (cuda_cell_path says which), else LibTorch's fused cell.
const Ops& ops_for(Device device);

// `gemms` with `kernel` as the cell: the table CUDA runs with lstm4j's kernel, built the same way
// for the tests with a CPU emulation of the kernel.
Ops with_cell_kernel(const Ops& gemms, CellKernel kernel);

// For tests: while alive, ops_for(cpu) on this thread returns `ops` (e.g. with_cell_kernel on the
// CPU's GEMMs and an emulated kernel), so the device scan runs the CUDA table's op logic on CPU.
class ScopedCpuOps {
 public:
  explicit ScopedCpuOps(const Ops& ops);
  ~ScopedCpuOps();
  ScopedCpuOps(const ScopedCpuOps&) = delete;
  ScopedCpuOps& operator=(const ScopedCpuOps&) = delete;

 private:
  const Ops* previous_;
};

// Which cell the device scan runs on CUDA device `device_index`: lstm4j's kernel ("kernel: ..."),
// or LibTorch's fused cell plus a copy ("libtorch: " and every reason the kernel could not load);
// "unavailable: " and why when CUDA cannot be used. Loads the kernel on that device if not yet.
std::string cuda_cell_path(int32_t device_index);

// c_shim_cuda.h (checked against pytorch/pytorch torch/csrc/inductor/aoti_torch/generated/
// c_shim_cuda.h): aten::_cudnn_rnn. Optional tensors are pointers to handles (null for None);
// batch_sizes empty (len 0) for a padded batch. Returns output, hy, cy, reserve, weight_buf.
using CudnnRnn = AOTITorchError (*)(
    AtenTensorHandle input, const AtenTensorHandle* weight, int64_t weight_len_,
    int64_t weight_stride0, AtenTensorHandle* weight_buf, AtenTensorHandle hx, AtenTensorHandle* cx,
    int64_t mode, int64_t hidden_size, int64_t proj_size, int64_t num_layers, int32_t batch_first,
    double dropout, int32_t train, int32_t bidirectional, const int64_t* batch_sizes,
    int64_t batch_sizes_len_, AtenTensorHandle* dropout_state, AtenTensorHandle* ret0,
    AtenTensorHandle* ret1, AtenTensorHandle* ret2, AtenTensorHandle* ret3, AtenTensorHandle* ret4);
// aoti_torch_cuda__cudnn_rnn when CUDA is usable and LibTorch has it; null otherwise.
CudnnRnn cudnn_rnn_fn();

// Number of CUDA devices LibTorch can use here; 0 when CUDA cannot be loaded.
int cuda_device_count();

// Why CUDA cannot be used here (empty when it can).
std::string cuda_unavailable_reason();

// Where libtorch_cuda.so is looked for, in order: beside the libtorch_cpu.so in use (libtorch_dir
// empty: skipped), then by bare name. Exposed for the loader's test.
struct LoadAttempt {
  std::string path;
  std::string error;  // dlerror(); empty when it loaded
};
void* open_torch_cuda(const std::string& libtorch_dir, std::vector<LoadAttempt>* attempts);
// The folder of the libtorch_cpu.so this process uses ("" when unknown).
std::string libtorch_dir();

}  // namespace lstm4j::device
