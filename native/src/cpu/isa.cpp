#include "cpu/isa.h"

#include <cstdint>

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#define LSTM4J_X86 1
#endif

namespace lstm4j::cpu {

namespace {
#ifdef LSTM4J_X86
uint64_t xgetbv0() {
  uint32_t eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<uint64_t>(edx) << 32) | eax;
}
#endif
}  // namespace

Isa detect_isa() {
#ifdef LSTM4J_X86
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return Isa::kBase;
  const bool osxsave = (c & (1u << 27)) != 0, fma = (c & (1u << 12)) != 0;
  if (!osxsave) return Isa::kBase;
  const uint64_t xcr0 = xgetbv0();
  const bool ymm_state = (xcr0 & 0x6) == 0x6, zmm_state = (xcr0 & 0xe6) == 0xe6;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return Isa::kBase;
  const bool avx2 = (b & (1u << 5)) != 0, avx512f = (b & (1u << 16)) != 0;
  if (avx512f && fma && zmm_state) return Isa::kAvx512;
  if (avx2 && fma && ymm_state) return Isa::kAvx2;
#endif
  return Isa::kBase;
}

}  // namespace lstm4j::cpu
