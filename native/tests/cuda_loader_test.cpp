// Loading libtorch_cuda.so (checked on a CPU machine, where it fails): the folder of the LibTorch in
// use is tried first, then the bare name, and every attempt's dlerror() reaches the reason CUDA is
// unavailable (a broken copy beside libtorch_cpu, e.g. one missing libcudnn, was once reported as
// "this LibTorch is a CPU build").
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <unistd.h>
#include <string>
#include <vector>

#include "cuda/device_ops.h"
#include "lstm4j/error.h"
#include "lstm4j/lstm.h"

namespace {

TEST(CudaLoader, TriesLibTorchsFolderFirstThenTheBareName) {
  char dir_template[] = "/tmp/lstm4j_cuda_loader_XXXXXX";
  const char* dir = mkdtemp(dir_template);
  ASSERT_NE(dir, nullptr);
  const std::string fake = std::string(dir) + "/libtorch_cuda.so";
  { std::ofstream(fake) << "not an ELF file"; }
  std::vector<lstm4j::device::LoadAttempt> attempts;
  void* lib = lstm4j::device::open_torch_cuda(dir, &attempts);
  std::remove(fake.c_str());
  rmdir(dir);
  if (lib != nullptr) GTEST_SKIP() << "a libtorch_cuda.so is loadable by its bare name here";
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[0].path, fake);
  // The folder's broken copy says why it failed (not just "not found").
  EXPECT_NE(attempts[0].error.find("libtorch_cuda.so"), std::string::npos) << attempts[0].error;
  EXPECT_FALSE(attempts[0].error.empty());
  EXPECT_EQ(attempts[1].path, "libtorch_cuda.so");
  EXPECT_FALSE(attempts[1].error.empty());
}

TEST(CudaLoader, ReasonListsEveryAttempt) {
  const std::string reason = lstm4j::device::cuda_unavailable_reason();
  if (reason.empty()) GTEST_SKIP() << "CUDA is usable here";
  const std::string dir = lstm4j::device::libtorch_dir();
  ASSERT_FALSE(dir.empty());
  EXPECT_NE(reason.find(dir + "/libtorch_cuda.so: "), std::string::npos) << reason;
  EXPECT_NE(reason.find("; libtorch_cuda.so: "), std::string::npos) << reason;
}

TEST(CudaLoader, CudnnAlgorithmIsRefusedOnCpu) {
  lstm4j::Lstm lstm(2, 3, 1, true, false, 0, lstm4j::Dtype::kFloat32, lstm4j::DeviceType::kCpu, 0);
  const std::vector<float> w(12 * 3, 0.1f), b(12, 0.0f);
  lstm.set_parameter("weight_ih_l0", w.data(), 12 * 2);
  lstm.set_parameter("weight_hh_l0", w.data(), 12 * 3);
  lstm.set_parameter("bias_ih_l0", b.data(), 12);
  lstm.set_parameter("bias_hh_l0", b.data(), 12);
  lstm.set_cpu_algorithm(lstm4j::Algorithm::kCudnn);
  try {
    lstm.prepare();
    FAIL() << "prepare() accepted the cudnn algorithm on the CPU";
  } catch (const lstm4j::Error& e) {
    EXPECT_NE(std::string(e.what()).find("runs on CUDA devices only"), std::string::npos) << e.what();
  }
}

}  // namespace
