package dev.lstm4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Issue 13 item 9: sizes near Java's limits. {@code 4 * hidden_size} must fit an int (it wrapped to
 * 0-size weights that "fit"); the JAVA engine counts its buffers in long and runs a pass whose input
 * projections of all steps exceed one Java array (H=1e6, proj_size=1, T=600 gave
 * NegativeArraySizeException, T=1074 IndexOutOfBoundsException) step by step.
 */
class LargeSizeTest {
    @Test
    void hiddenSizeWhoseGateCountOverflowsIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LstmConfig.builder(3, 1 << 29).build());
        assertTrue(e.getMessage().startsWith("hidden_size: expected at most 536870911"), e.getMessage());
        assertTrue(e.getMessage().contains("got 536870912"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LstmCellConfig.builder(3, Integer.MAX_VALUE).build());
        assertTrue(e.getMessage().startsWith("hidden_size: expected at most 536870911"), e.getMessage());
        assertEquals(536870911, LstmConfig.builder(3, 536870911).build().hiddenSize());
        assertEquals(536870911, LstmCellConfig.builder(3, 536870911).build().hiddenSize());
    }

    @Test
    void javaRefusesAPassWhoseStepBuffersExceedAnArray() {
        int h = 1_000_000;
        LstmConfig config = LstmConfig.builder(1, h).projSize(1).build();
        StateDict w = TestSupport.randomWeights(config.parameterShapes(), h, DType.FLOAT32, new Random(9));
        try (Lstm lstm = Lstm.create(config, w, Backend.JAVA, Device.cpu())) {
            // 600 sequences of one step: the gate pre-activations of that one step are 600 x 4e6.
            Tensor x = TestSupport.random(new int[] {1, 600, 1}, DType.FLOAT32, new Random(10), 1.0);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> lstm.forward(x));
            assertTrue(e.getMessage().startsWith("input: the JAVA backend would need 2400000000 elements for the gate "
                    + "pre-activations of a step"), e.getMessage());
            // The model is still usable.
            assertEquals(1, lstm.forward(Tensor.of(new float[] {0.5f}, 1, 1, 1)).output().numel());
        }
    }

    @Test
    @EnabledIfSystemProperty(named = "lstm4j.test.large", matches = "true")
    void javaRunsAPassWhoseInputProjectionsExceedAnArray() {
        int h = 1_000_000;
        LstmConfig config = LstmConfig.builder(1, h).projSize(1).build();
        StateDict w = TestSupport.randomWeights(config.parameterShapes(), h, DType.FLOAT32, new Random(9));
        int steps = 600; // 600 x 4e6 gate pre-activations: more than a Java array holds
        Tensor x = TestSupport.random(new int[] {steps, 1, 1}, DType.FLOAT32, new Random(10), 1.0);
        try (Lstm lstm = Lstm.create(config, w, Backend.JAVA, Device.cpu())) {
            long t0 = System.nanoTime();
            LstmOutput whole = lstm.forward(x);
            System.out.printf("LargeSizeTest: H=1e6 proj_size=1 T=%d on JAVA in %.1f s%n", steps,
                    (System.nanoTime() - t0) / 1e9);
            // The same steps streamed one by one (each fits): the same bits.
            LstmState state = lstm.newState(1);
            float[] streamed = new float[steps];
            for (int t = 0; t < steps; t++) {
                Tensor chunk = Tensor.of(new float[] {x.floatData()[t]}, 1, 1, 1);
                streamed[t] = lstm.forward(chunk, state).floatData()[0];
            }
            assertArrayEquals(streamed, whole.output().floatData());
            assertArrayEquals(state.h().floatData(), whole.hN().floatData());
        }
    }
}
