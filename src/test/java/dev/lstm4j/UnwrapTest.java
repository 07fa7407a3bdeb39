package dev.lstm4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.nativ.TorchTensors;
import dev.lstm4j.spi.LstmEngine;
import java.util.List;
import java.util.Random;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Issue 13 item 1: {@code unwrap} answered {@code type.isInstance(engine)}, so {@code Object},
 * {@code AutoCloseable} or {@code LstmEngine} handed out the engine, whose {@code forward} skips
 * validation (SIGSEGV on inconsistent sizes) and whose {@code close()} skips the lifecycle (a
 * use-after-free under a concurrent forward). Only documented extensions come out now, as guards
 * that run under the model's lifecycle and are nothing but that interface.
 */
class UnwrapTest {
    @ParameterizedTest
    @EnumSource(Backend.class)
    void onlyDocumentedExtensionsComeOut(Backend backend) {
        LstmConfig config = LstmConfig.builder(3, 4).build();
        StateDict w = TestSupport.randomWeights(config.parameterShapes(), 4, DType.FLOAT32, new Random(3));
        try (Lstm lstm = Lstm.create(config, w, backend, Device.cpu())) {
            for (Class<?> type : List.of(Object.class, AutoCloseable.class, LstmEngine.class, Runnable.class)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> lstm.unwrap(type));
                assertTrue(e.getMessage().startsWith("type: the " + backend + " backend offers no " + type.getName()),
                        e.getMessage());
            }
            if (backend != Backend.NATIVE) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> lstm.unwrap(TorchTensors.class));
                assertTrue(e.getMessage().endsWith("(it has no extensions)"), e.getMessage());
            }
        }
    }

    @org.junit.jupiter.api.Test
    void torchTensorsIsAGuardUnderTheLifecycle() {
        LstmConfig config = LstmConfig.builder(3, 4).build();
        StateDict w = TestSupport.randomWeights(config.parameterShapes(), 4, DType.FLOAT32, new Random(3));
        Tensor x = TestSupport.random(new int[] {2, 1, 3}, DType.FLOAT32, new Random(4), 1.0);
        Lstm lstm = Lstm.create(config, w, Backend.NATIVE, Device.cpu());
        TorchTensors tt = lstm.unwrap(TorchTensors.class);
        assertFalse(tt instanceof LstmEngine, "the engine came out");
        assertFalse(tt instanceof AutoCloseable, "something closeable came out");
        assertEquals(List.of(TorchTensors.class), List.of(tt.getClass().getInterfaces()));
        assertEquals("TorchTensors of " + lstm, tt.toString());
        float[] want = lstm.forward(x).output().floatData();
        try (FloatPointer data = new FloatPointer(x.floatData());
                TensorOptions options = new TensorOptions(torch.ScalarType.Float);
                org.bytedeco.pytorch.Tensor tx = torch.from_blob(data, new long[] {2, 1, 3}, options)) {
            try (TorchTensors.Output out = tt.forward(tx, null, null)) {
                float[] got = new float[want.length];
                out.output().data_ptr_float().get(got);
                assertEquals(java.util.Arrays.toString(want), java.util.Arrays.toString(got));
            }
            // The engine's own exceptions come through unchanged.
            NullPointerException e = assertThrows(NullPointerException.class, () -> tt.forward(null, null, null));
            assertEquals("input", e.getMessage());
            lstm.close();
            IllegalStateException closed = assertThrows(IllegalStateException.class, () -> tt.forward(tx, null, null));
            assertEquals("Lstm is closed", closed.getMessage());
        }
    }
}
