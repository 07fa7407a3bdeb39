// Declarations of the few functions of LibTorch's stable C ABI ("AOTI shim") that lstm4j uses.
//
// LibTorch's C++ headers are not shipped with the JavaCPP presets, and its C++ API has no ABI
// guarantee anyway. The aoti_torch_* functions are exported by libtorch_cpu.so / libtorch_cuda.so
// and PyTorch keeps them ABI-stable across releases, so one binary works with LibTorch 2.10 from
// Maven and with newer LibTorch builds. Each declaration below was checked against PyTorch's
// torch/csrc/inductor/aoti_torch/c/shim.h and the generated c_shim_cpu.h / c_shim_cuda.h, and
// against `nm -D --defined-only libtorch_cpu.so`.
//
// Danger: a float/double mismatch in a scalar argument still links and returns 0 while computing
// wrong numbers. aoti_torch_cpu_addmm_out takes doubles; the device-generic aoti_torch_addmm_out
// takes floats. tests/abi_test.cpp checks both with beta, alpha != 1.
#pragma once

#include <cstdint>

extern "C" {

struct AtenTensorOpaque;
using AtenTensorHandle = AtenTensorOpaque*;
using AOTITorchError = int32_t;  // 0 on success

// Constants are functions so that their values are not part of the ABI.
int32_t aoti_torch_device_type_cpu();
int32_t aoti_torch_device_type_cuda();
int32_t aoti_torch_dtype_float32();
int32_t aoti_torch_dtype_float64();
int32_t aoti_torch_dtype_float16();
int32_t aoti_torch_dtype_bfloat16();

AOTITorchError aoti_torch_delete_tensor_object(AtenTensorHandle tensor);
AOTITorchError aoti_torch_get_data_ptr(AtenTensorHandle tensor, void** ret_data_ptr);

AOTITorchError aoti_torch_empty_strided(int64_t ndim, const int64_t* sizes_ptr,
                                        const int64_t* strides_ptr, int32_t dtype,
                                        int32_t device_type, int32_t device_index,
                                        AtenTensorHandle* ret_new_tensor);

AOTITorchError aoti_torch_create_tensor_from_blob(void* data, int64_t ndim,
                                                  const int64_t* sizes_ptr,
                                                  const int64_t* strides_ptr,
                                                  int64_t storage_offset, int32_t dtype,
                                                  int32_t device_type, int32_t device_index,
                                                  AtenTensorHandle* ret_new_tensor);

AOTITorchError aoti_torch_copy_(AtenTensorHandle self, AtenTensorHandle src, int32_t non_blocking);

// shim.h (checked against pytorch/pytorch torch/csrc/inductor/aoti_torch/c/shim.h and
// `nm -D libtorch_cpu.so` of LibTorch 2.10): a new tensor over self's storage with the given sizes,
// strides and storage_offset (elements, absolute in the storage), as at::_reinterpret_tensor. It
// keeps the storage alive and, unlike create_tensor_from_blob, asks the driver nothing about the
// pointer (from_blob on CUDA calls cudaPointerGetAttributes).
AOTITorchError aoti_torch__reinterpret_tensor(AtenTensorHandle self, int64_t ndim,
                                              const int64_t* sizes_ptr, const int64_t* strides_ptr,
                                              int64_t storage_offset,
                                              AtenTensorHandle* ret_new_tensor);
// shim.h: a new handle on the same tensor (released separately).
AOTITorchError aoti_torch_new_tensor_handle(AtenTensorHandle orig_handle,
                                            AtenTensorHandle* new_handle);
AOTITorchError aoti_torch_get_storage_offset(AtenTensorHandle tensor, int64_t* ret_storage_offset);
// shim.h: a page-locked host tensor (device_type cpu) for asynchronous host<->device copies.
AOTITorchError aoti_torch_empty_strided_pinned(int64_t ndim, const int64_t* sizes_ptr,
                                               const int64_t* strides_ptr, int32_t dtype,
                                               int32_t device_type, int32_t device_index,
                                               AtenTensorHandle* ret_new_tensor);
// shim.h: self <- 0, on self's device.
AOTITorchError aoti_torch_zero_(AtenTensorHandle self);

// c_shim_cpu.h: out = beta * self + alpha * (mat1 @ mat2). Scalars are double.
AOTITorchError aoti_torch_cpu_addmm_out(AtenTensorHandle out, AtenTensorHandle self,
                                        AtenTensorHandle mat1, AtenTensorHandle mat2,
                                        double beta, double alpha);
// c_shim_cpu.h: out = self @ mat2.
AOTITorchError aoti_torch_cpu_mm_out(AtenTensorHandle out, AtenTensorHandle self,
                                     AtenTensorHandle mat2);

// shim_mkldnn.h (exported when LibTorch is built with oneDNN): one layer and direction of oneDNN's
// fused LSTM, as LibTorch's own CPU lstm uses it. weight0..3 = w_ih, w_hh, b_ih, b_hh; hx_, cx_ are
// (B, H); mode is the RNN kind (2 = LSTM). Returns output (T, B, H), hy, cy and a workspace.
AOTITorchError aoti_torch_cpu_mkldnn_rnn_layer(
    AtenTensorHandle input, AtenTensorHandle weight0, AtenTensorHandle weight1,
    AtenTensorHandle weight2, AtenTensorHandle weight3, AtenTensorHandle hx_, AtenTensorHandle cx_,
    int32_t reverse, const int64_t* batch_sizes, int64_t batch_sizes_len_, int64_t mode,
    int64_t hidden_size, int64_t num_layers, int32_t has_biases, int32_t bidirectional,
    int32_t batch_first, int32_t train, AtenTensorHandle* ret0, AtenTensorHandle* ret1,
    AtenTensorHandle* ret2, AtenTensorHandle* ret3);

AOTITorchError aoti_torch_get_numel(AtenTensorHandle tensor, int64_t* ret_numel);
// shim.h: a tensor's metadata (sizes point into the tensor; valid while it lives).
AOTITorchError aoti_torch_get_dim(AtenTensorHandle tensor, int64_t* ret_dim);
AOTITorchError aoti_torch_get_sizes(AtenTensorHandle tensor, int64_t** ret_sizes);
AOTITorchError aoti_torch_get_strides(AtenTensorHandle tensor, int64_t** ret_strides);
AOTITorchError aoti_torch_get_dtype(AtenTensorHandle tensor, int32_t* ret_dtype);
AOTITorchError aoti_torch_get_device_type(AtenTensorHandle tensor, int32_t* ret_device_type);
AOTITorchError aoti_torch_get_device_index(AtenTensorHandle tensor, int32_t* ret_device_index);
AOTITorchError aoti_torch_is_contiguous(AtenTensorHandle tensor, bool* ret_is_contiguous);

// shim.h (device-generic, kept for the ABI test): scalars are float here.
AOTITorchError aoti_torch_addmm_out(AtenTensorHandle out, AtenTensorHandle self,
                                    AtenTensorHandle mat1, AtenTensorHandle mat2, float beta,
                                    float alpha);

}  // extern "C"
