#include "cuda/device_ops.h"

#include <dlfcn.h>

#include <cstring>
#include <string>
#include <vector>

#include "cpu/lstm_gates.h"
#include "cuda/kernels/cell_module.h"

namespace lstm4j::device {

namespace {

// Per thread, so that a test's count is not disturbed by other threads' calls.
thread_local uint64_t t_launches = 0;
// ScopedCpuOps: the table ops_for(cpu) returns on this thread instead of kCpuOps (tests only).
thread_local const Ops* t_cpu_ops = nullptr;

// ---- CPU: LibTorch's GEMMs and our gate kernel; lets the tests run the device scan on CPU. ----

bool cpu_cell(const Tensor& ig, int64_t ig_stride, const Tensor& hg, Tensor& c,
              const Tensor& h_out, int64_t n, int64_t H, Dtype dtype) {
  LSTM4J_CHECK(dtype == Dtype::kFloat32 || dtype == Dtype::kFloat64,
               std::string("the CPU device scan runs float32 and float64, not ") +
                   dtype_name(dtype));
  // h_out's row stride: the output's (D * P) or a contiguous buffer's (H).
  int64_t* strides = nullptr;
  check(aoti_torch_get_strides(h_out.get(), &strides), "aoti_torch_get_strides");
  const int64_t h_stride = strides[0];
  if (dtype == Dtype::kFloat64) {
    cpu::lstm_gates<double>(n, H, 0, H, ig.data<double>(), ig_stride,
                            hg.defined() ? hg.data<double>() : nullptr, c.data<double>(),
                            h_out.data<double>(), h_stride);
  } else {
    cpu::lstm_gates<float>(n, H, 0, H, ig.data<float>(), ig_stride,
                           hg.defined() ? hg.data<float>() : nullptr, c.data<float>(),
                           h_out.data<float>(), h_stride);
  }
  return true;
}

const Ops kCpuOps = {aoti_torch_cpu_addmm_out, aoti_torch_cpu_mm_out, cpu_cell, false};

// ---- CUDA: entry points of libtorch_cuda.so, resolved at first use. ----

// c_shim_cuda.h (PyTorch 2.10 and 2.11): optional tensors are pointers to handles, null for None.
using CudaFusedLstmCell = AOTITorchError (*)(AtenTensorHandle input_gates,
                                             AtenTensorHandle hidden_gates, AtenTensorHandle cx,
                                             AtenTensorHandle* input_bias,
                                             AtenTensorHandle* hidden_bias, AtenTensorHandle* ret0,
                                             AtenTensorHandle* ret1, AtenTensorHandle* ret2);
using CudaGetDeviceCount = int (*)(int*);  // cudaError_t cudaGetDeviceCount(int*)
// shim.h (USE_CUDA part, exported by libtorch_cuda.so): LibTorch's current stream of a device.
using CudaCurrentStream = AOTITorchError (*)(int32_t device_index, void** ret_stream);

struct Cuda {
  Ops ops{};         // LibTorch's fused cell plus a copy of h: 3 ops per step
  Ops kernel_ops{};  // lstm4j's cell kernel: 2 ops per step
  CudaFusedLstmCell fused_cell = nullptr;
  CudaCurrentStream current_stream = nullptr;
  CudnnRnn cudnn_rnn = nullptr;  // optional: a LibTorch without cuDNN runs the device scan
  int device_count = 0;
  std::string error;  // why CUDA is not usable; empty when it is
};

const Cuda& cuda();

bool cuda_cell(const Tensor& ig, int64_t ig_stride, const Tensor& hg, Tensor& c,
               const Tensor& h_out, int64_t n, int64_t H, Dtype) {
  // The fused kernel wants contiguous (n, 4H) input gates.
  const Tensor ig_n = ig.reinterpret(0, {n, 4 * H}, {ig_stride, 1});
  AtenTensorHandle h = nullptr, cy = nullptr, workspace = nullptr;
  check(cuda().fused_cell(ig_n.get(), hg.get(), c.get(), nullptr, nullptr, &h, &cy, &workspace),
        "aoti_torch_cuda__thnn_fused_lstm_cell");
  Tensor hy(h);
  Tensor(workspace).reset();
  c = Tensor(cy);
  ++t_launches;  // the copy of h into its place (no out variant of the fused cell)
  check(aoti_torch_copy_(h_out.get(), hy.get(), 0), "aoti_torch_copy_");
  return false;
}

static_assert(static_cast<int32_t>(Dtype::kFloat16) == static_cast<int32_t>(kernels::CellType::kF16) &&
                  static_cast<int32_t>(Dtype::kBFloat16) == static_cast<int32_t>(kernels::CellType::kBF16) &&
                  static_cast<int32_t>(Dtype::kFloat64) == static_cast<int32_t>(kernels::CellType::kF64),
              "CellType follows Dtype's order");

void cuda_cell_kernel(const CellArgs& a) {
  void* stream = nullptr;
  check(cuda().current_stream(a.device_index, &stream), "aoti_torch_get_current_cuda_stream");
  kernels::launch_cell_kernel(a.device_index, stream, static_cast<kernels::CellType>(a.dtype), a.gx,
                              a.gx_stride, a.gh, a.c, a.h, a.h_stride, a.n, a.hidden);
}

}  // namespace

uint64_t launches() { return t_launches; }

void Ops::addmm_out(const Tensor& out, const Tensor& self, const Tensor& mat1, const Tensor& mat2,
                    const char* what) const {
  ++t_launches;
  check(addmm_out_fn(out.get(), self.get(), mat1.get(), mat2.get(), 1.0, 1.0), what);
}

void Ops::mm_out(const Tensor& out, const Tensor& self, const Tensor& mat2, const char* what) const {
  ++t_launches;
  check(mm_out_fn(out.get(), self.get(), mat2.get()), what);
}

bool Ops::cell(const Tensor& ig, int64_t ig_stride, const Tensor& hg, Tensor& c,
               const Tensor& h_out, int64_t n, int64_t hidden, Dtype dtype) const {
  ++t_launches;
  if (cell_kernel == nullptr) return cell_fn(ig, ig_stride, hg, c, h_out, n, hidden, dtype);
  // Pointers and strides only: no LibTorch call queues anything here (the launch is the one op).
  int64_t* h_strides = nullptr;
  int32_t device_index = 0;
  check(aoti_torch_get_strides(h_out.get(), &h_strides), "aoti_torch_get_strides");
  check(aoti_torch_get_device_index(c.get(), &device_index), "aoti_torch_get_device_index");
  cell_kernel(CellArgs{dtype, device_index, ig.data_ptr(), ig_stride,
                       hg.defined() ? hg.data_ptr() : nullptr, c.data_ptr(), h_out.data_ptr(),
                       h_strides[0], n, hidden});
  return true;
}

Ops with_cell_kernel(const Ops& gemms, CellKernel kernel) {
  Ops o = gemms;
  o.cell_fn = nullptr;
  o.cell_needs_hidden_gates = false;  // the kernel reads a null hidden_gates as zero
  o.cell_kernel = kernel;
  return o;
}

ScopedCpuOps::ScopedCpuOps(const Ops& ops) : previous_(t_cpu_ops) { t_cpu_ops = &ops; }
ScopedCpuOps::~ScopedCpuOps() { t_cpu_ops = previous_; }

void Ops::copy(const Tensor& dst, const Tensor& src, bool non_blocking) const {
  ++t_launches;
  check(aoti_torch_copy_(dst.get(), src.get(), non_blocking ? 1 : 0), "aoti_torch_copy_");
}

void Ops::zero(const Tensor& t) const {
  ++t_launches;
  check(aoti_torch_zero_(t.get()), "aoti_torch_zero_");
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

void* open_torch_cuda(const std::string& dir, std::vector<LoadAttempt>* attempts) {
  // The LibTorch in use first: a bare name could bind another install's copy found through
  // LD_LIBRARY_PATH. RTLD_LOCAL: nothing of it needs to resolve symbols of later libraries.
  std::vector<std::string> candidates;
  if (!dir.empty()) candidates.push_back(dir + "/libtorch_cuda.so");
  candidates.emplace_back("libtorch_cuda.so");
  for (const std::string& path : candidates) {
    dlerror();
    void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    const char* err = lib == nullptr ? dlerror() : nullptr;
    if (attempts != nullptr) attempts->push_back({path, err != nullptr ? err : ""});
    if (lib != nullptr) return lib;
  }
  return nullptr;
}

namespace {

Cuda load_cuda() {
  Cuda c;
  std::vector<LoadAttempt> attempts;
  void* lib = open_torch_cuda(libtorch_dir(), &attempts);
  if (lib == nullptr) {
    std::string tried;
    for (const LoadAttempt& a : attempts) {
      tried += (tried.empty() ? "" : "; ") + a.path + ": " + a.error;
    }
    c.error = "libtorch_cuda.so is not loadable (" + tried +
              "). A CPU build of LibTorch has none; a missing CUDA or cuDNN library is named "
              "above. Use the presets' linux-x86_64-gpu binaries, or a CUDA LibTorch named by "
              "-Dlstm4j.libtorch.dir / LSTM4J_LIBTORCH_DIR";
    return c;
  }
  auto sym = [&](const char* name) {
    void* p = dlsym(lib, name);
    if (p == nullptr && c.error.empty()) {
      c.error = std::string("libtorch_cuda.so lacks ") + name + " (LibTorch too old?)";
    }
    return p;
  };
  c.ops.addmm_out_fn =
      reinterpret_cast<decltype(c.ops.addmm_out_fn)>(sym("aoti_torch_cuda_addmm_out"));
  c.ops.mm_out_fn = reinterpret_cast<decltype(c.ops.mm_out_fn)>(sym("aoti_torch_cuda_mm_out"));
  c.fused_cell = reinterpret_cast<CudaFusedLstmCell>(sym("aoti_torch_cuda__thnn_fused_lstm_cell"));
  c.ops.cell_fn = cuda_cell;
  c.cudnn_rnn = reinterpret_cast<CudnnRnn>(dlsym(lib, "aoti_torch_cuda__cudnn_rnn"));
  c.ops.cell_needs_hidden_gates = true;
  // Optional: without it the kernel cannot find LibTorch's stream, and the fused cell runs.
  c.current_stream =
      reinterpret_cast<CudaCurrentStream>(dlsym(lib, "aoti_torch_get_current_cuda_stream"));
  if (!c.error.empty()) return c;
  c.kernel_ops = with_cell_kernel(c.ops, cuda_cell_kernel);
  // libcudart is a dependency of libtorch_cuda: found through its handle (opened RTLD_LOCAL).
  auto count = reinterpret_cast<CudaGetDeviceCount>(dlsym(lib, "cudaGetDeviceCount"));
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

// Why lstm4j's cell kernel cannot run on CUDA device `index` (empty when it can).
std::string kernel_why_not(const Cuda& c, int32_t index) {
  if (c.current_stream == nullptr) return "libtorch_cuda.so lacks aoti_torch_get_current_cuda_stream";
  return kernels::load_cell_kernel(index);
}

}  // namespace

const Ops& ops_for(Device device) {
  if (device.is_cpu()) return t_cpu_ops != nullptr ? *t_cpu_ops : kCpuOps;
  const Cuda& c = cuda();
  if (!c.error.empty()) throw Error("CUDA is not available: " + c.error, ErrorKind::kUnavailable);
  LSTM4J_CHECK(device.index >= 0 && device.index < c.device_count,
               device.str() + " does not exist: " + std::to_string(c.device_count) +
                   " CUDA device(s) visible");
  // The kernel's module is loaded once per device; where it cannot be, LibTorch's fused cell runs.
  return kernel_why_not(c, device.index).empty() ? c.kernel_ops : c.ops;
}

std::string cuda_cell_path(int32_t device_index) {
  const Cuda& c = cuda();
  if (!c.error.empty()) return "unavailable: CUDA is not available: " + c.error;
  if (device_index < 0 || device_index >= c.device_count) {
    return "unavailable: cuda:" + std::to_string(device_index) + " does not exist";
  }
  const std::string why_not = kernel_why_not(c, device_index);
  if (why_not.empty()) {
    return "kernel: lstm4j's CUDA cell kernel, 2 ops per step and direction (" +
           kernels::cell_kernel_build_info() + ")";
  }
  return "libtorch: LibTorch's _thnn_fused_lstm_cell plus a copy of h, 3 ops per step and "
         "direction; the kernel did not load: " +
         why_not;
}

CudnnRnn cudnn_rnn_fn() {
  const Cuda& c = cuda();
  return c.error.empty() ? c.cudnn_rnn : nullptr;
}

int cuda_device_count() { return cuda().device_count; }

std::string cuda_unavailable_reason() { return cuda().error; }

}  // namespace lstm4j::device
