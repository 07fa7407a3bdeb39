// The CUDA cell kernel's table on the CPU, for tests: LibTorch's CPU GEMMs and, as the "kernel",
// kernels::cell_rows_host, which runs the very element function (kernels/lstm_cell.h) that nvcc
// builds the CUDA kernel from, in the kernel's element order. Installed with device::ScopedCpuOps,
// it makes the device scan take the CUDA-with-kernel code path (Ops::cell with a cell kernel).
#pragma once

#include <gtest/gtest.h>

#include "cuda/device_ops.h"
#include "cuda/kernels/lstm_cell.h"

namespace lstm4j::test {

// Launches of the emulated kernel on this thread (that the kernel, not the CPU cell, ran).
inline thread_local uint64_t emulated_launches = 0;

inline void emulated_cell_kernel(const device::CellArgs& a) {
  ++emulated_launches;
  if (a.dtype == Dtype::kFloat64) {
    kernels::cell_rows_host<double>(a.n, a.hidden, static_cast<const double*>(a.gx), a.gx_stride,
                                    static_cast<const double*>(a.gh), static_cast<double*>(a.c),
                                    static_cast<double*>(a.h), a.h_stride);
  } else {
    ASSERT_EQ(a.dtype, Dtype::kFloat32);
    kernels::cell_rows_host<float>(a.n, a.hidden, static_cast<const float*>(a.gx), a.gx_stride,
                                   static_cast<const float*>(a.gh), static_cast<float*>(a.c),
                                   static_cast<float*>(a.h), a.h_stride);
  }
}

// The CPU table (kCpuOps) with the emulated kernel as its cell.
inline const device::Ops& emulated_kernel_ops() {
  static const device::Ops ops =
      device::with_cell_kernel(device::ops_for(Device{}), emulated_cell_kernel);
  return ops;
}

}  // namespace lstm4j::test
