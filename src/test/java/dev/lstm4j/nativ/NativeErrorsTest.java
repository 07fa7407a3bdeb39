package dev.lstm4j.nativ;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.NativeException;
import dev.lstm4j.nativ.binding.Lstm4jNative;
import dev.lstm4j.nativ.binding.NativeCalls;
import dev.lstm4j.nativ.binding.NativeCodes;
import dev.lstm4j.nativ.binding.NativeErrors;
import dev.lstm4j.nativ.binding.NativeLstm;
import org.bytedeco.javacpp.DoublePointer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The JNI contract: a native failure reaches Java through NativeErrors as an
 * IllegalArgumentException (invalid input) or a NativeException of the right kind whose message is
 * the native side's own, LibTorch's included; a failed allocation says how much was asked for.
 */
class NativeErrorsTest {
    @BeforeAll
    static void load() {
        Lstm4jNative.load();
    }

    private static RuntimeException nativeFailure(Runnable call) {
        RuntimeException raw = assertThrows(RuntimeException.class, call::run);
        return NativeErrors.translate(raw);
    }

    @Test
    void invalidConfigurationIsIllegalArgument() {
        RuntimeException e = nativeFailure(() -> new NativeLstm(3, -1, 1, true, false, 0, NativeCodes.Dtype.FLOAT32,
                NativeCodes.DeviceType.CPU, 0));
        assertEquals(IllegalArgumentException.class, e.getClass());
        assertEquals("hidden_size must be positive, got -1", e.getMessage());
    }

    @Test
    void failedAllocationSaysItIsMemoryAndHowMuch() {
        NativeLstm lstm = new NativeLstm(2, 3, 1, false, false, 0, NativeCodes.Dtype.FLOAT64,
                NativeCodes.DeviceType.CPU, 0);
        try (DoublePointer w = new DoublePointer(24); DoublePointer x = new DoublePointer(8)) {
            // The LibTorch-GEMM scan, which asks for all steps' gates at once (float64's default, the
            // team scan, projects a batch this large step by step and would read the 8-element input).
            lstm.setCpuAlgorithm(NativeCodes.Algorithm.SCAN);
            NativeCalls.set_parameter(lstm, "weight_ih_l0", w, 24);
            NativeCalls.set_parameter(lstm, "weight_hh_l0", w, 36);
            lstm.prepare();
            // 2^20 steps of 2^20 sequences: the scan's first buffer (2^40 rows of 12 gates) cannot
            // exist; it is asked for before any input is read.
            long huge = 1L << 20;
            RuntimeException e = nativeFailure(() -> NativeCalls.forward(lstm, x, huge, huge, false, null, null, x,
                    null, null));
            assertEquals(NativeException.class, e.getClass(), e.toString());
            assertEquals(NativeException.Kind.OUT_OF_MEMORY, ((NativeException) e).kind());
            String bytes = Long.toString((1L << 40) * 12 * Double.BYTES);
            assertTrue(e.getMessage().startsWith("out of memory: cannot allocate " + bytes + " bytes"), e.getMessage());
            assertTrue(e.getMessage().contains("LibTorch says: ") && e.getMessage().contains("DefaultCPUAllocator"),
                    "LibTorch's own message: " + e.getMessage());
        } finally {
            NativeCalls.destroy(lstm);
        }
    }

    @Test
    void unprefixedFailureIsInternal() {
        RuntimeException e = NativeErrors.translate(new RuntimeException("Unknown exception."));
        assertEquals(NativeException.Kind.INTERNAL, ((NativeException) e).kind());
        assertEquals("Unknown exception.", e.getMessage());
    }
}
