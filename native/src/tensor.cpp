#include "lstm4j/tensor.h"

#include <string>

namespace lstm4j {

const char* dtype_name(Dtype dtype) {
  switch (dtype) {
    case Dtype::kFloat64: return "float64";
    case Dtype::kBFloat16: return "bfloat16";
    case Dtype::kFloat16: return "float16";
    default: return "float32";
  }
}

int32_t torch_dtype(Dtype dtype) {
  static const int32_t f32 = aoti_torch_dtype_float32();
  static const int32_t f64 = aoti_torch_dtype_float64();
  static const int32_t bf16 = aoti_torch_dtype_bfloat16();
  static const int32_t f16 = aoti_torch_dtype_float16();
  switch (dtype) {
    case Dtype::kFloat64: return f64;
    case Dtype::kBFloat16: return bf16;
    case Dtype::kFloat16: return f16;
    default: return f32;
  }
}

int32_t torch_device_type(DeviceType type) {
  static const int32_t cpu = aoti_torch_device_type_cpu();
  static const int32_t cuda = aoti_torch_device_type_cuda();
  return type == DeviceType::kCuda ? cuda : cpu;
}

namespace {
std::vector<int64_t> contiguous_strides(const std::vector<int64_t>& sizes) {
  std::vector<int64_t> strides(sizes.size());
  int64_t stride = 1;
  for (size_t i = sizes.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= sizes[i] > 0 ? sizes[i] : 1;
  }
  return strides;
}
}  // namespace

Tensor Tensor::empty(const std::vector<int64_t>& sizes, Dtype dtype, Device device) {
  const std::vector<int64_t> strides = contiguous_strides(sizes);
  AtenTensorHandle handle = nullptr;
  check(aoti_torch_empty_strided(static_cast<int64_t>(sizes.size()), sizes.data(), strides.data(),
                                 torch_dtype(dtype), torch_device_type(device.type), device.index,
                                 &handle),
        "aoti_torch_empty_strided");
  return Tensor(handle);
}

Tensor Tensor::from_blob(void* data, const std::vector<int64_t>& sizes,
                         const std::vector<int64_t>& strides, Dtype dtype, Device device) {
  AtenTensorHandle handle = nullptr;
  check(aoti_torch_create_tensor_from_blob(data, static_cast<int64_t>(sizes.size()), sizes.data(),
                                           strides.data(), 0, torch_dtype(dtype),
                                           torch_device_type(device.type), device.index, &handle),
        "aoti_torch_create_tensor_from_blob");
  return Tensor(handle);
}

Tensor Tensor::from_blob(void* data, const std::vector<int64_t>& sizes, Dtype dtype,
                         Device device) {
  return from_blob(data, sizes, contiguous_strides(sizes), dtype, device);
}

void* Tensor::data_ptr() const {
  void* ptr = nullptr;
  check(aoti_torch_get_data_ptr(handle_, &ptr), "aoti_torch_get_data_ptr");
  return ptr;
}

void Tensor::copy_from(const Tensor& src) {
  check(aoti_torch_copy_(handle_, src.get(), 0), "aoti_torch_copy_");
}

namespace ops {
void linear_out(const Tensor& out, const Tensor& mat1, const Tensor& mat2, const Tensor* bias,
                Device device) {
  LSTM4J_CHECK(device.is_cpu(), "lstm4j: this build computes on CPU only");
  if (bias != nullptr && bias->defined()) {
    check(aoti_torch_cpu_addmm_out(out.get(), bias->get(), mat1.get(), mat2.get(), 1.0, 1.0),
          "aoti_torch_cpu_addmm_out");
  } else {
    check(aoti_torch_cpu_mm_out(out.get(), mat1.get(), mat2.get()), "aoti_torch_cpu_mm_out");
  }
}
}  // namespace ops

}  // namespace lstm4j
