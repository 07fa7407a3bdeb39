// The codes that cross from C++ to Java (JNI) and name the core's choices. Java mirrors each enum
// (dev.lstm4j.nativ.binding.NativeCodes) and a test parses this header to check that the names and
// values agree, so values here are part of the binding's contract: append, never renumber.
#pragma once

#include <cstdint>

namespace lstm4j {

// How a forward runs on the CPU (see docs/architecture.md). kAuto picks kTeam for float32 and
// kScan for float64; a packed batch runs kTeam whatever is chosen, except with kDevice.
enum class Algorithm : int32_t {
  kAuto = 0,
  kScan = 1,    // LibTorch's GEMMs per step (through the C ABI) + our gate kernel
  kOneDnn = 2,  // oneDNN's fused LSTM layer, as LibTorch's own CPU lstm (float32, no projection)
  kTeam = 3,    // our GEMM and gate kernels, each step split over the model's threads
  kDevice = 4,  // the scan CUDA devices run, on LibTorch's operations (also on the CPU)
  kCudnn = 5,   // CUDA only: cuDNN's RNN through LibTorch's _cudnn_rnn, as PyTorch runs nn.LSTM
};

// bfloat16 and float16 are device compute types: their host data is float32, converted by
// LibTorch when it is copied to and from the device.
enum class Dtype : int32_t { kFloat32 = 0, kFloat64 = 1, kBFloat16 = 2, kFloat16 = 3 };

enum class DeviceType : int32_t { kCpu = 0, kCuda = 1 };

// What kind of failure an lstm4j::Error reports.
enum class ErrorKind : int32_t {
  kInvalidArgument = 1,  // the caller's configuration, parameters or input are wrong
  kOutOfMemory = 2,      // an allocation failed (the message says how much was asked for)
  kTorch = 3,            // a LibTorch call failed (the message carries LibTorch's own text)
  kUnavailable = 4,      // the device or library asked for cannot be used here
  kInternal = 5,         // anything else: a bug in lstm4j
};

}  // namespace lstm4j
