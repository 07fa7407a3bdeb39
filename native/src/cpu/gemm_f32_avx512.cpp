// float32 GEMM kernel for avx512; the compiler flags come from CMakeLists.txt.
#define LSTM4J_GEMM_F32 gemm_f32_avx512
#define LSTM4J_FMA_PROBE fma_probe_avx512
#define LSTM4J_VEC 16
#ifndef LSTM4J_MR
#define LSTM4J_MR 4
#endif
#include "cpu/gemm_f32.inc"
