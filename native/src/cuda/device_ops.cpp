#include "cuda/device_ops.h"

#include <dlfcn.h>

#include <cstring>
#include <string>

#include "cpu/lstm_gates.h"

namespace lstm4j::device {

namespace {

// ---- CPU: LibTorch's GEMMs and our gate kernel; lets the tests run the device scan on CPU. ----

template <typename T>
void cpu_cell_typed(const Tensor& ig, const Tensor& hg, const Tensor& cx, int64_t B, int64_t H,
                    Tensor* hy, Tensor* cy) {
  std::memcpy(cy->data<T>(), cx.data<T>(), sizeof(T) * static_cast<size_t>(B * H));
  cpu::lstm_gates<T>(B, H, 0, H, ig.data<T>(), 4 * H, hg.data<T>(), cy->data<T>(), hy->data<T>(),
                     H);
}

void cpu_lstm_cell(const Tensor& input_gates, const Tensor& hidden_gates, const Tensor& cx,
                   int64_t batch, int64_t hidden, Dtype dtype, Device device, Tensor* hy,
                   Tensor* cy) {
  LSTM4J_CHECK(dtype == Dtype::kFloat32 || dtype == Dtype::kFloat64,
               std::string("the CPU device scan runs float32 and float64, not ") +
                   dtype_name(dtype));
  *hy = Tensor::empty({batch, hidden}, dtype, device);
  *cy = Tensor::empty({batch, hidden}, dtype, device);
  if (dtype == Dtype::kFloat64) {
    cpu_cell_typed<double>(input_gates, hidden_gates, cx, batch, hidden, hy, cy);
  } else {
    cpu_cell_typed<float>(input_gates, hidden_gates, cx, batch, hidden, hy, cy);
  }
}

const Ops kCpuOps = {aoti_torch_cpu_addmm_out, aoti_torch_cpu_mm_out, cpu_lstm_cell};

// ---- CUDA: entry points of libtorch_cuda.so, resolved at first use. ----

// c_shim_cuda.h (PyTorch 2.10 and 2.11): optional tensors are pointers to handles, null for None.
using CudaFusedLstmCell = AOTITorchError (*)(AtenTensorHandle input_gates,
                                             AtenTensorHandle hidden_gates, AtenTensorHandle cx,
                                             AtenTensorHandle* input_bias,
                                             AtenTensorHandle* hidden_bias, AtenTensorHandle* ret0,
                                             AtenTensorHandle* ret1, AtenTensorHandle* ret2);
using CudaGetDeviceCount = int (*)(int*);  // cudaError_t cudaGetDeviceCount(int*)

struct Cuda {
  Ops ops{};
  CudaFusedLstmCell fused_cell = nullptr;
  int device_count = 0;
  std::string error;  // why CUDA is not usable; empty when it is
};

const Cuda& cuda();

void cuda_lstm_cell(const Tensor& input_gates, const Tensor& hidden_gates, const Tensor& cx,
                    int64_t, int64_t, Dtype, Device, Tensor* hy, Tensor* cy) {
  AtenTensorHandle h = nullptr, c = nullptr, workspace = nullptr;
  check(cuda().fused_cell(input_gates.get(), hidden_gates.get(), cx.get(), nullptr, nullptr, &h, &c,
                          &workspace),
        "aoti_torch_cuda__thnn_fused_lstm_cell");
  *hy = Tensor(h);
  *cy = Tensor(c);
  Tensor(workspace).reset();
}

// The folder of the libtorch_cpu.so this process uses: libtorch_cuda.so sits beside it in every
// LibTorch layout (presets cache, libtorch/lib, a pip torch's torch/lib).
std::string libtorch_dir() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&aoti_torch_empty_strided), &info) == 0 ||
      info.dli_fname == nullptr) {
    return {};
  }
  std::string path = info.dli_fname;
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

Cuda load_cuda() {
  Cuda c;
  void* lib = dlopen("libtorch_cuda.so", RTLD_NOW | RTLD_GLOBAL);
  std::string first_error = lib == nullptr ? dlerror() : "";
  if (lib == nullptr) {
    const std::string dir = libtorch_dir();
    if (!dir.empty()) lib = dlopen((dir + "/libtorch_cuda.so").c_str(), RTLD_NOW | RTLD_GLOBAL);
  }
  if (lib == nullptr) {
    c.error = "libtorch_cuda.so is not loadable (" + first_error +
              "): this LibTorch is a CPU build. Use the presets' linux-x86_64-gpu binaries, or a "
              "CUDA LibTorch named by -Dlstm4j.libtorch.dir / LSTM4J_LIBTORCH_DIR";
    return c;
  }
  auto sym = [&](const char* name) {
    void* p = dlsym(lib, name);
    if (p == nullptr && c.error.empty()) {
      c.error = std::string("libtorch_cuda.so lacks ") + name + " (LibTorch too old?)";
    }
    return p;
  };
  c.ops.addmm_out = reinterpret_cast<decltype(c.ops.addmm_out)>(sym("aoti_torch_cuda_addmm_out"));
  c.ops.mm_out = reinterpret_cast<decltype(c.ops.mm_out)>(sym("aoti_torch_cuda_mm_out"));
  c.fused_cell = reinterpret_cast<CudaFusedLstmCell>(sym("aoti_torch_cuda__thnn_fused_lstm_cell"));
  c.ops.lstm_cell = cuda_lstm_cell;
  if (!c.error.empty()) return c;
  // libcudart is a dependency of libtorch_cuda, loaded with it into the global scope.
  auto count = reinterpret_cast<CudaGetDeviceCount>(dlsym(RTLD_DEFAULT, "cudaGetDeviceCount"));
  if (count == nullptr) {
    c.error = "the CUDA runtime (cudaGetDeviceCount) was not found beside libtorch_cuda.so";
    return c;
  }
  int n = 0;
  const int status = count(&n);
  if (status != 0 || n <= 0) {
    c.error = status != 0 ? "cudaGetDeviceCount failed with CUDA error " +
                                std::to_string(status) + " (no NVIDIA driver or GPU?)"
                          : "no CUDA device is visible";
    return c;
  }
  c.device_count = n;
  return c;
}

const Cuda& cuda() {
  static const Cuda c = load_cuda();
  return c;
}

}  // namespace

const Ops& ops_for(Device device) {
  if (device.is_cpu()) return kCpuOps;
  const Cuda& c = cuda();
  if (!c.error.empty()) throw Error("CUDA is not available: " + c.error, ErrorKind::kUnavailable);
  LSTM4J_CHECK(device.index >= 0 && device.index < c.device_count,
               device.str() + " does not exist: " + std::to_string(c.device_count) +
                   " CUDA device(s) visible");
  return c.ops;
}

int cuda_device_count() { return cuda().device_count; }

std::string cuda_unavailable_reason() { return cuda().error; }

}  // namespace lstm4j::device
