#include "lstm4j/tensor.h"

#include <cstdio>
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
  const AOTITorchError status = aoti_torch_empty_strided(
      static_cast<int64_t>(sizes.size()), sizes.data(), strides.data(), torch_dtype(dtype),
      torch_device_type(device.type), device.index, &handle);
  if (status != 0) {
    // Says how much was asked for: LibTorch's text alone names neither the tensor nor the device.
    double bytes = static_cast<double>(element_size(dtype));
    std::string shape;
    for (int64_t s : sizes) {
      bytes *= static_cast<double>(s);
      shape += (shape.empty() ? "" : ", ") + std::to_string(s);
    }
    const std::string torch = take_torch_message();
    char amount[64];
    std::snprintf(amount, sizeof amount, "%.0f bytes (%.3g GiB)", bytes, bytes / (1 << 30));
    throw Error(std::string("out of memory: cannot allocate ") + amount + " for a [" + shape +
                    "] " + dtype_name(dtype) + " tensor on " + device.str() +
                    (torch.empty() ? std::string() : "; LibTorch says: " + torch),
                ErrorKind::kOutOfMemory);
  }
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

Tensor Tensor::reinterpret(int64_t offset, const std::vector<int64_t>& sizes,
                          const std::vector<int64_t>& strides) const {
  // The ABI's last argument is an increment of this tensor's storage offset (inductor's
  // _reinterpret_tensor), not the offset itself.
  AtenTensorHandle handle = nullptr;
  check(aoti_torch__reinterpret_tensor(handle_, static_cast<int64_t>(sizes.size()), sizes.data(),
                                       strides.data(), offset, &handle),
        "aoti_torch__reinterpret_tensor");
  return Tensor(handle);
}

void Tensor::copy_from(const Tensor& src) {
  check(aoti_torch_copy_(handle_, src.get(), 0), "aoti_torch_copy_");
}

}  // namespace lstm4j
