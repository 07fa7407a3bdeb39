// Host memory for the CPU kernels' large, long-lived buffers (the packed weights), placed alike in
// every process. From malloc, a 1 MB buffer lands on whatever 4 KB pages the process's history
// left, and which of them share L2 sets (the L2 is indexed by physical address) differed from
// process to process: the B=1 step, which keeps each core's half of W_hh^T in its L2, ran at two
// speeds in fresh processes (docs/benchmarks.md, "What made processes differ"). A buffer of at
// least kHugeMin bytes is mapped 2 MB-aligned and advised to transparent huge pages
// (MADV_HUGEPAGE: /sys/kernel/mm/transparent_hugepage/enabled is often "madvise"), so that its
// physical layout is contiguous per 2 MB; smaller ones are 64-byte aligned from the heap.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lstm4j::cpu {

class HostBuffer {
 public:
  // Buffers of this size and above get their own 2 MB-aligned mapping (the rest of the last 2 MB
  // is reserved too: at most 2x for a 1 MB buffer, a fraction for larger ones).
  static constexpr size_t kHugeMin = size_t{1} << 20;
  static constexpr size_t kHugePage = size_t{2} << 20;

  HostBuffer() = default;
  // Uninitialised memory for `bytes` bytes; throws std::bad_alloc when there is none.
  explicit HostBuffer(size_t bytes);
  ~HostBuffer();
  HostBuffer(HostBuffer&& other) noexcept;
  HostBuffer& operator=(HostBuffer&& other) noexcept;
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;

  template <typename T>
  T* data() const {
    return static_cast<T*>(ptr_);
  }
  size_t bytes() const { return bytes_; }
  // Whether it has its own 2 MB-aligned mapping advised to huge pages (tests).
  bool huge() const { return mapped_ != 0; }

 private:
  void release() noexcept;
  void* ptr_ = nullptr;
  size_t bytes_ = 0;
  size_t mapped_ = 0;  // bytes of the mapping, 0 for heap memory
};

}  // namespace lstm4j::cpu
