// The device scan: the path every forward on CUDA takes (Algorithm::kDevice runs it on the CPU).
#pragma once

#include <cstring>
#include <vector>

#include "cuda/device_ops.h"
#include "model.h"

namespace lstm4j {

// A forward on host data: copied to the device once, scanned there, results copied back once.
// io is the caller's layout (padded batch-first or time-major, or packed).
template <typename T>
void forward_device(Lstm::Impl& m, const StepLayout& io, const T* input, const T* h0, const T* c0,
                    T* output, T* h_n, T* c_n);

// The same with the states already on the device (h_state (L*D, B, P), c_state (L*D, B, H)),
// advanced in place: only the input and the output cross (streaming with a device state).
template <typename T>
void forward_device_states(Lstm::Impl& m, const StepLayout& io, const T* input, T* output,
                           Tensor& h_state, Tensor& c_state, bool zero_state);

// The scan itself, on device memory: the stack runner (stack.h) with the device executor and its
// states policy (device_scan.cpp). x is (rows, I) with step t's n[t] rows contiguous at row0[t]
// (time-major or packed: b_stride 1); h_state (L*D, B, P) and c_state (L*D, B, H) hold (h0, c0)
// on entry and (h_n, c_n) on return; zero_state says they are zeros (made on the device), which
// lets the first step skip h0 W_hh^T when W_hh is all finite. Returns the output, (rows, D * P),
// laid out as x.
Tensor scan_device(const Lstm::Impl& m, const StepLayout& lay, const Tensor& x, Tensor& h_state,
                   Tensor& c_state, bool zero_state);

// Host <-> device transfers of one call. On CUDA through page-locked staging (an asynchronous
// upload from pageable memory is synchronous, and a download into it is staged by the driver
// anyway); on the CPU a plain copy.
template <typename T>
class DeviceTransfers {
 public:
  DeviceTransfers(const device::Ops& ops, Device device) : ops_(ops), device_(device) {}

  // dst (on the device) <- count elements at src, seen with dst's sizes.
  void upload(const Tensor& dst, const T* src, const std::vector<int64_t>& sizes) {
    if (device_.is_cpu()) {
      ops_.copy(dst, Tensor::from_blob(const_cast<T*>(src), sizes, kHostDtype, Device{}));
      return;
    }
    Tensor staged = pinned(sizes);
    std::memcpy(staged.data_ptr(), src, bytes(sizes));
    ops_.copy(dst, staged, true);
    keep_.push_back(std::move(staged));  // until the call's downloads have synchronised
  }

  // count elements at dst <- src (on the device), seen with src's sizes.
  void download(T* dst, const Tensor& src, const std::vector<int64_t>& sizes) {
    if (device_.is_cpu()) {
      ops_.copy(Tensor::from_blob(dst, sizes, kHostDtype, Device{}), src);
      return;
    }
    Tensor staged = pinned(sizes);
    ops_.copy(staged, src);  // synchronous: the data are there when it returns
    std::memcpy(dst, staged.data_ptr(), bytes(sizes));
  }

 private:
  static constexpr Dtype kHostDtype = dtype_of<T>();
  static size_t bytes(const std::vector<int64_t>& sizes) {
    size_t n = sizeof(T);
    for (int64_t s : sizes) n *= static_cast<size_t>(s);
    return n;
  }
  Tensor pinned(const std::vector<int64_t>& sizes) const {
    std::vector<int64_t> strides(sizes.size());
    int64_t stride = 1;
    for (size_t i = sizes.size(); i-- > 0;) {
      strides[i] = stride;
      stride *= sizes[i];
    }
    AtenTensorHandle handle = nullptr;
    check(aoti_torch_empty_strided_pinned(static_cast<int64_t>(sizes.size()), sizes.data(),
                                          strides.data(), torch_dtype(kHostDtype),
                                          torch_device_type(DeviceType::kCpu), 0, &handle),
          "aoti_torch_empty_strided_pinned");
    return Tensor(handle);
  }

  const device::Ops& ops_;
  Device device_;
  std::vector<Tensor> keep_;
};


}  // namespace lstm4j
