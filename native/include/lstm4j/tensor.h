// One RAII handle over LibTorch's AtenTensorHandle, and the handful of operations lstm4j needs.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "lstm4j/aoti_shim.h"
#include "lstm4j/codes.h"
#include "lstm4j/error.h"

namespace lstm4j {

inline int64_t element_size(Dtype dtype) {
  return dtype == Dtype::kFloat64 ? 8 : dtype == Dtype::kFloat32 ? 4 : 2;
}
// The Dtype of a host element type (float or double).
template <typename T>
constexpr Dtype dtype_of() {
  return sizeof(T) == 8 ? Dtype::kFloat64 : Dtype::kFloat32;
}
// The element type of a model's data on the host side.
inline Dtype host_dtype(Dtype dtype) {
  return dtype == Dtype::kFloat64 ? Dtype::kFloat64 : Dtype::kFloat32;
}
const char* dtype_name(Dtype dtype);

struct Device {
  DeviceType type = DeviceType::kCpu;
  int32_t index = 0;
  bool is_cpu() const { return type == DeviceType::kCpu; }
  std::string str() const {
    return is_cpu() ? std::string("cpu") : "cuda:" + std::to_string(index);
  }
};

// Owns one AtenTensorHandle (a reference to a LibTorch tensor, which may itself view memory
// owned elsewhere). Move-only; the handle is released in the destructor.
class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(AtenTensorHandle handle) noexcept : handle_(handle) {}
  ~Tensor() { reset(); }
  Tensor(Tensor&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  Tensor& operator=(Tensor&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }
  Tensor(const Tensor&) = delete;
  Tensor& operator=(const Tensor&) = delete;

  // A new contiguous, uninitialised tensor allocated by LibTorch on `device`. A failed allocation
  // throws Error(kOutOfMemory) saying how many bytes were asked for.
  static Tensor empty(const std::vector<int64_t>& sizes, Dtype dtype, Device device);
  // A view of memory owned by the caller (no copy; the memory must outlive the tensor).
  static Tensor from_blob(void* data, const std::vector<int64_t>& sizes,
                          const std::vector<int64_t>& strides, Dtype dtype, Device device);
  // A contiguous view of memory owned by the caller.
  static Tensor from_blob(void* data, const std::vector<int64_t>& sizes, Dtype dtype,
                          Device device);

  AtenTensorHandle get() const noexcept { return handle_; }
  bool defined() const noexcept { return handle_ != nullptr; }
  void* data_ptr() const;
  template <typename T>
  T* data() const {
    return static_cast<T*>(data_ptr());
  }
  // A view of `sizes` / `strides` (elements of `dtype`) starting `offset` elements into this
  // tensor's data; the view does not keep the data alive.
  Tensor view(int64_t offset, const std::vector<int64_t>& sizes,
              const std::vector<int64_t>& strides, Dtype dtype, Device device) const {
    return from_blob(static_cast<char*>(data_ptr()) + offset * element_size(dtype), sizes, strides,
                     dtype, device);
  }

  // A view sharing this tensor's storage (and keeping it alive): `sizes` / `strides` starting
  // `offset` elements past this tensor's own start. No pointer query, so cheap on CUDA too.
  Tensor reinterpret(int64_t offset, const std::vector<int64_t>& sizes,
                     const std::vector<int64_t>& strides) const;

  // this <- src (same shape; may cross devices).
  void copy_from(const Tensor& src);

  // Gives up ownership: the caller must delete the handle (aoti_torch_delete_tensor_object).
  AtenTensorHandle release() noexcept { return std::exchange(handle_, nullptr); }

  void reset() noexcept {
    if (handle_ != nullptr) {
      aoti_torch_delete_tensor_object(handle_);
      handle_ = nullptr;
    }
  }

 private:
  AtenTensorHandle handle_ = nullptr;
};

// LibTorch's codes for our dtypes and devices (looked up through the ABI, not hard-coded).
int32_t torch_dtype(Dtype dtype);
int32_t torch_device_type(DeviceType type);

}  // namespace lstm4j
