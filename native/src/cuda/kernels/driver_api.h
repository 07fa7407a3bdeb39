// The few CUDA driver API entry points cell_module.cpp resolves from libcuda.so.1 with dlsym,
// declared here rather than by including cuda.h (the library builds without a CUDA toolkit).
// The handle types are cuda.h's own opaque structs (same names, global namespace), so that
// native/tests/driver_api_check.cpp, built wherever cuda.h is found, asserts every signature below
// equals cuda.h's. Symbol names: cuda.h maps cuCtxPushCurrent/cuCtxPopCurrent to their _v2
// symbols; cuLaunchKernel is the legacy-default-stream symbol (no _ptsz; the stream is explicit).
#pragma once

#if defined(LSTM4J_CHECK_AGAINST_CUDA_H)
#include <cuda.h>
#else
struct CUctx_st;
struct CUmod_st;
struct CUfunc_st;
struct CUstream_st;
#endif

namespace lstm4j::kernels::cu {

#if defined(LSTM4J_CHECK_AGAINST_CUDA_H)
using Result = CUresult;
#else
using Result = int;  // CUresult: an enum of int size; 0 is CUDA_SUCCESS
#endif
using Device = int;  // CUdevice
using Context = CUctx_st*;
using Module = CUmod_st*;
using Function = CUfunc_st*;
using Stream = CUstream_st*;

using InitFn = Result (*)(unsigned int flags);                                 // cuInit
using DriverGetVersionFn = Result (*)(int* version);                           // cuDriverGetVersion
using DeviceGetFn = Result (*)(Device* device, int ordinal);                   // cuDeviceGet
using DevicePrimaryCtxRetainFn = Result (*)(Context* ctx, Device device);      // (no _v2)
using CtxPushCurrentFn = Result (*)(Context ctx);                              // cuCtxPushCurrent_v2
using CtxPopCurrentFn = Result (*)(Context* ctx);                              // cuCtxPopCurrent_v2
using ModuleLoadDataFn = Result (*)(Module* module, const void* image);        // cuModuleLoadData
using ModuleGetFunctionFn = Result (*)(Function* fn, Module module, const char* name);
using LaunchKernelFn = Result (*)(Function f, unsigned int grid_x, unsigned int grid_y,
                                  unsigned int grid_z, unsigned int block_x, unsigned int block_y,
                                  unsigned int block_z, unsigned int shared_bytes, Stream stream,
                                  void** params, void** extra);  // cuLaunchKernel
using GetErrorNameFn = Result (*)(Result error, const char** name);           // cuGetErrorName

}  // namespace lstm4j::kernels::cu
