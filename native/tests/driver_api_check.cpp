// Compile-time check, built only where cuda.h is found: the driver API signatures cell_module.cpp
// declares itself (kernels/driver_api.h) are exactly cuda.h's, under the symbol names it resolves.
#define LSTM4J_CHECK_AGAINST_CUDA_H 1
#include "cuda/kernels/driver_api.h"

#include <type_traits>

namespace cu = lstm4j::kernels::cu;

static_assert(sizeof(CUresult) == sizeof(int), "CUresult is read as an int without cuda.h");
static_assert(std::is_same_v<cu::Device, CUdevice>);
static_assert(std::is_same_v<cu::Context, CUcontext>);
static_assert(std::is_same_v<cu::Module, CUmodule>);
static_assert(std::is_same_v<cu::Function, CUfunction>);
static_assert(std::is_same_v<cu::Stream, CUstream>);
static_assert(std::is_same_v<cu::InitFn, decltype(&cuInit)>);
static_assert(std::is_same_v<cu::DriverGetVersionFn, decltype(&cuDriverGetVersion)>);
static_assert(std::is_same_v<cu::DeviceGetFn, decltype(&cuDeviceGet)>);
static_assert(std::is_same_v<cu::DevicePrimaryCtxRetainFn, decltype(&cuDevicePrimaryCtxRetain)>);
static_assert(std::is_same_v<cu::CtxPushCurrentFn, decltype(&cuCtxPushCurrent_v2)>);
static_assert(std::is_same_v<cu::CtxPopCurrentFn, decltype(&cuCtxPopCurrent_v2)>);
static_assert(std::is_same_v<cu::ModuleLoadDataFn, decltype(&cuModuleLoadData)>);
static_assert(std::is_same_v<cu::ModuleGetFunctionFn, decltype(&cuModuleGetFunction)>);
static_assert(std::is_same_v<cu::LaunchKernelFn, decltype(&cuLaunchKernel)>);
static_assert(std::is_same_v<cu::GetErrorNameFn, decltype(&cuGetErrorName)>);
// The names dlsym looks up are the ones cuda.h's macros select.
#define LSTM4J_STR2(x) #x
#define LSTM4J_STR(x) LSTM4J_STR2(x)
static_assert(sizeof(LSTM4J_STR(cuCtxPushCurrent)) == sizeof("cuCtxPushCurrent_v2"));
static_assert(sizeof(LSTM4J_STR(cuCtxPopCurrent)) == sizeof("cuCtxPopCurrent_v2"));
static_assert(sizeof(LSTM4J_STR(cuLaunchKernel)) == sizeof("cuLaunchKernel"));
static_assert(sizeof(LSTM4J_STR(cuModuleLoadData)) == sizeof("cuModuleLoadData"));
static_assert(sizeof(LSTM4J_STR(cuDevicePrimaryCtxRetain)) == sizeof("cuDevicePrimaryCtxRetain"));
