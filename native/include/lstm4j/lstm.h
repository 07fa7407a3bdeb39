// lstm4j's C++ LSTM: forward passes with exactly torch.nn.LSTM / torch.nn.LSTMCell semantics,
// computed through LibTorch's stable C ABI (GEMMs) and our own GEMM and fused gate kernels. It is
// the core of Java's NATIVE backend; a C++ program gets the same bits through find_package(lstm4j).
// Every failure throws lstm4j::Error (error.h) with its ErrorKind.
//
// Data crosses this API as raw, C-contiguous host buffers in PyTorch's shapes, so that JavaCPP
// can bind it without any LibTorch type. Shapes (T = seq_len, B = batch, D = 2 if bidirectional
// else 1, P = proj_size if > 0 else hidden_size):
//   input  (T, B, input_size), or (B, T, input_size) when batch_first
//   h0/h_n (D * num_layers, B, P);  c0/c_n (D * num_layers, B, hidden_size)
//   output (T, B, D * P), or (B, T, D * P) when batch_first
// An unbatched input (T, input_size) is the batch of one: pass batch = 1.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "lstm4j/aoti_shim.h"
#include "lstm4j/codes.h"
#include "lstm4j/error.h"

namespace lstm4j {

// The element type of the first pointer argument decides a call's Real; the others follow it, so
// that nullptr can be passed for an absent h0, c0, h_n or c_n.
template <typename T>
struct NonDeduced {
  using type = T;
};
template <typename T>
using Like = typename NonDeduced<T>::type;

// Stacked, optionally bidirectional LSTM with optional projection (torch.nn.LSTM).
// Parameters are set once under their state_dict names, then laid out for the GEMMs on the first
// forward (or an explicit prepare()). After that the object is immutable and forward() may be
// called from several threads at once: every call works in its own scratch memory.
class Lstm {
 public:
  // dtype: float32 or float64 on CPU and CUDA; bfloat16 and float16 on CUDA only (their host data,
  // parameters and results are float32).
  Lstm(int64_t input_size, int64_t hidden_size, int64_t num_layers, bool bias,
       bool bidirectional, int64_t proj_size, Dtype dtype, DeviceType device_type,
       int32_t device_index);
  ~Lstm();
  Lstm(const Lstm&) = delete;
  Lstm& operator=(const Lstm&) = delete;

  // Copies one parameter given under its PyTorch name, e.g. "weight_ih_l0", "bias_hh_l1_reverse",
  // "weight_hr_l0". numel must match the parameter's size; the element type must match dtype.
  // Real is float or double (LSTM4J_FOR_EACH_REAL below); the data must be of the model's host
  // dtype (float for float32, bfloat16 and float16; double for float64).
  template <typename Real>
  void set_parameter(const char* name, const Real* data, int64_t numel);

  // Checks that every parameter is set and lays the weights out for the GEMMs. Idempotent.
  void prepare();

  // How a CPU forward runs (codes.h): kAuto (the default) is kTeam (float64 on a plain loop that,
  // unlike kScan's LibTorch GEMMs, is batch-invariant); kOneDnn needs float32 without projection
  // (otherwise kScan runs); kDevice is the device scan on LibTorch's CPU operations. A packed batch
  // runs kTeam unless kDevice is chosen. Set before prepare().
  void set_cpu_algorithm(Algorithm algorithm);

  // How many threads a CPU forward of this model uses at most, the caller included: 0 (the
  // default) for all of the process-wide team (the hardware threads, at most 16), 1 for the
  // calling thread only. The threads are shared by every model of the process and borrowed per
  // call; a call that finds them busy runs on fewer (the results are the same bits). Only the team
  // scan splits a step (kScan, kOneDnn and kDevice run LibTorch's own threads). Set before
  // prepare().
  void set_num_threads(int32_t threads);

  // The thread count set, or after prepare() the one in effect.
  int32_t num_threads() const;

  // One forward pass. h0 and c0 may be null (zeros, as in PyTorch); h_n and c_n may be null when
  // the caller does not want them.
  template <typename Real>
  void forward(const Real* input, int64_t seq_len, int64_t batch, bool batch_first,
               Like<const Real*> h0, Like<const Real*> c0, Like<Real*> output, Like<Real*> h_n,
               Like<Real*> c_n);

  // A forward pass on tensors the caller already holds (AtenTensorHandles, i.e. at::Tensor*, as
  // the JavaCPP presets' Tensor objects are): no copy to or from host memory. input is (T, B, I),
  // or (B, T, I) when batch_first; h0 and c0 are (D * num_layers, B, ...) or null for zeros. All must
  // be contiguous, on the model's device and of its dtype. The results are new tensors on that
  // device, returned as handles the caller owns.
  void forward_tensors(AtenTensorHandle input, bool batch_first, AtenTensorHandle h0,
                       AtenTensorHandle c0, AtenTensorHandle* output, AtenTensorHandle* h_n,
                       AtenTensorHandle* c_n);

  // Deletes a handle returned by forward_tensors (the tensor lives on while other references do).
  static void delete_tensor(AtenTensorHandle tensor);

  // One forward pass over a packed batch of variable-length sequences (PyTorch's PackedSequence):
  // sequences sorted by length, longest first; step t runs the first batch_sizes[t] of them
  // (non-increasing, batch_sizes[0] = B). data is (sum of batch_sizes, input_size), the rows of
  // step 0, then step 1, ...; output is packed the same way with D * real_hidden_size columns.
  // h0, c0 (may be null) and h_n, c_n are (D * num_layers, B, ...) in the sorted order; h_n and
  // c_n hold each sequence's state at its own last step.
  template <typename Real>
  void forward_packed(const Real* data, const int64_t* batch_sizes, int64_t steps,
                      Like<const Real*> h0, Like<const Real*> c0, Like<Real*> output,
                      Like<Real*> h_n, Like<Real*> c_n);

  // Streaming with the recurrent state kept on the model's device: for models that run the device
  // scan (CUDA models of full precision, or Algorithm::kDevice on the CPU; streams_on_device()),
  // so that a chunk costs only its input and output copies. A DeviceState holds (h, c) of every
  // layer, (num_layers, B, P) and (num_layers, B, hidden_size), zero when made; forward_stream
  // runs a chunk (T, B, I) (or (B, T, I) when batch_first) from it and advances it in place. A
  // state outlives its model safely; delete it with delete_device_state. Unidirectional LSTMs only.
  class DeviceState;
  bool streams_on_device();
  DeviceState* new_device_state(int64_t batch);
  static void delete_device_state(DeviceState* state);
  template <typename Real>
  void set_device_state(DeviceState* state, const Real* h, const Real* c);
  template <typename Real>
  void get_device_state(DeviceState* state, Real* h, Real* c);
  template <typename Real>
  void forward_stream(const Real* chunk, int64_t seq_len, int64_t batch, bool batch_first,
                      DeviceState* state, Real* output);

  // Number of CUDA devices this process can use (0 without a CUDA LibTorch, driver or GPU), and
  // why CUDA cannot be used (empty when it can). The first call tries to load libtorch_cuda.so.
  static int32_t cuda_device_count();
  // The float32 FMA peak of this machine with `threads` threads, measured (about 0.1 s), GFLOP/s.
  static double fma_peak_gflops(int32_t threads);
  static std::string cuda_unavailable_reason();
  // Which LSTM cell the device scan runs on CUDA device `device_index`: "kernel: ..." (lstm4j's
  // own cell kernel, 2 ops per step), "libtorch: ..." (LibTorch's fused cell plus a copy, 3 ops,
  // with every reason the kernel could not load), or "unavailable: ..." without CUDA. The first
  // call for a device loads the kernel there.
  static std::string cuda_cell_path(int32_t device_index);

  int64_t input_size() const;
  int64_t hidden_size() const;
  int64_t num_layers() const;
  int64_t num_directions() const;
  int64_t proj_size() const;
  // The element type of the model's host data: float32 (also for bfloat16 and float16) or float64.
  Dtype host_dtype() const;
  // Size of h: proj_size if > 0, else hidden_size.
  int64_t real_hidden_size() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// One LSTM step (torch.nn.LSTMCell): parameters "weight_ih", "weight_hh", "bias_ih", "bias_hh".
// input (B, input_size); h0, c0, h1, c1 (B, hidden_size). An unbatched input is B = 1.
class LstmCell {
 public:
  LstmCell(int64_t input_size, int64_t hidden_size, bool bias, Dtype dtype, DeviceType device_type,
           int32_t device_index);
  ~LstmCell();
  LstmCell(const LstmCell&) = delete;
  LstmCell& operator=(const LstmCell&) = delete;

  template <typename Real>
  void set_parameter(const char* name, const Real* data, int64_t numel);
  // As Lstm::set_num_threads; before prepare().
  void set_num_threads(int32_t threads);
  void prepare();
  Dtype host_dtype() const { return lstm_.host_dtype(); }

  template <typename Real>
  void forward(const Real* input, int64_t batch, Like<const Real*> h0, Like<const Real*> c0,
               Like<Real*> h1, Like<Real*> c1);

 private:
  Lstm lstm_;
};

// The host element types: every template above is instantiated for these two in the library.
#define LSTM4J_FOR_EACH_REAL(X) X(float) X(double)
#define LSTM4J_EXTERN_REAL(Real)                                                                  \
  extern template void Lstm::set_parameter<Real>(const char*, const Real*, int64_t);              \
  extern template void Lstm::forward<Real>(const Real*, int64_t, int64_t, bool, const Real*,      \
                                           const Real*, Real*, Real*, Real*);                     \
  extern template void Lstm::forward_packed<Real>(const Real*, const int64_t*, int64_t,          \
                                                  const Real*, const Real*, Real*, Real*, Real*); \
  extern template void Lstm::set_device_state<Real>(DeviceState*, const Real*, const Real*);      \
  extern template void Lstm::get_device_state<Real>(DeviceState*, Real*, Real*);                  \
  extern template void Lstm::forward_stream<Real>(const Real*, int64_t, int64_t, bool,           \
                                                  DeviceState*, Real*);                           \
  extern template void LstmCell::set_parameter<Real>(const char*, const Real*, int64_t);          \
  extern template void LstmCell::forward<Real>(const Real*, int64_t, const Real*, const Real*,    \
                                               Real*, Real*);
LSTM4J_FOR_EACH_REAL(LSTM4J_EXTERN_REAL)
#undef LSTM4J_EXTERN_REAL

}  // namespace lstm4j
