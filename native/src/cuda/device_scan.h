// The device scan: the path every forward on CUDA takes (Algorithm::kDevice runs it on the CPU).
#pragma once

#include "model.h"

namespace lstm4j {

// A forward on host data: copied to the device once, scanned there, results copied back once.
// io is the caller's layout (padded batch-first or time-major, or packed).
template <typename T>
void forward_device(Lstm::Impl& m, const StepLayout& io, const T* input, const T* h0, const T* c0,
                    T* output, T* h_n, T* c_n);

// The scan itself, on device memory. x is (rows, I) with step t's n[t] rows contiguous at row0[t]
// (time-major or packed: b_stride 1); h_state (L*D, B, P) and c_state (L*D, B, H) hold (h0, c0)
// on entry and (h_n, c_n) on return; zero_state says they are zeros (made on the device), which
// lets the first step skip h0 W_hh^T when W_hh is all finite. Returns the output, (rows, D * P),
// laid out as x.
Tensor scan_device(const Lstm::Impl& m, const StepLayout& lay, const Tensor& x, Tensor& h_state,
                   Tensor& c_state, bool zero_state);

}  // namespace lstm4j
