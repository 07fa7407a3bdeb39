// float32 gate kernel for avx512; the compiler flags come from CMakeLists.txt.
#define LSTM4J_GATES_ROW_F32 gates_row_f32_avx512
#include "cpu/lstm_gates_f32.inc"
