#include "cpu/host_buffer.h"

#include <cstdlib>
#include <new>
#include <utility>
#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace lstm4j::cpu {

HostBuffer::HostBuffer(size_t bytes) : bytes_(bytes) {
  if (bytes == 0) return;
#if defined(__linux__)
  if (bytes >= kHugeMin) {
    const size_t size = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    // Map one huge page more than needed and trim both ends to a 2 MB boundary.
    void* raw = mmap(nullptr, size + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    if (raw == MAP_FAILED) throw std::bad_alloc();
    const uintptr_t base = reinterpret_cast<uintptr_t>(raw);
    const uintptr_t start = (base + kHugePage - 1) / kHugePage * kHugePage;
    if (start > base) munmap(raw, start - base);
    const uintptr_t end = base + size + kHugePage;
    if (end > start + size) munmap(reinterpret_cast<void*>(start + size), end - start - size);
    ptr_ = reinterpret_cast<void*>(start);
    mapped_ = size;
    // Before the first touch, so that the page faults map huge pages. Advice only: where THP is
    // off ("never") the buffer still works, on 4 KB pages.
    (void)madvise(ptr_, size, MADV_HUGEPAGE);
    return;
  }
#endif
  ptr_ = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
  if (ptr_ == nullptr) throw std::bad_alloc();
}

HostBuffer::~HostBuffer() { release(); }

HostBuffer::HostBuffer(HostBuffer&& other) noexcept
    : ptr_(std::exchange(other.ptr_, nullptr)),
      bytes_(std::exchange(other.bytes_, 0)),
      mapped_(std::exchange(other.mapped_, 0)) {}

HostBuffer& HostBuffer::operator=(HostBuffer&& other) noexcept {
  if (this != &other) {
    release();
    ptr_ = std::exchange(other.ptr_, nullptr);
    bytes_ = std::exchange(other.bytes_, 0);
    mapped_ = std::exchange(other.mapped_, 0);
  }
  return *this;
}

void HostBuffer::release() noexcept {
  if (ptr_ == nullptr) return;
#if defined(__linux__)
  if (mapped_ != 0) {
    munmap(ptr_, mapped_);
    ptr_ = nullptr;
    return;
  }
#endif
  std::free(ptr_);
  ptr_ = nullptr;
}

}  // namespace lstm4j::cpu
