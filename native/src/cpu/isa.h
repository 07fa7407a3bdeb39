// The instruction set the per-ISA kernels (lstm_gates_<isa>.cpp, gemm_f32_<isa>.cpp) are picked
// for, read once with cpuid: the jar runs on any x86-64.
#pragma once

namespace lstm4j::cpu {

enum class Isa { kBase, kAvx2, kAvx512 };

// cpuid is read directly rather than through GCC's __builtin_cpu_supports, whose runtime lives in
// libgcc.a and is not linked into the JNI library.
Isa detect_isa();

}  // namespace lstm4j::cpu
