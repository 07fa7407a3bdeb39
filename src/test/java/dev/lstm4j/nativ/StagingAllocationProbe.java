package dev.lstm4j.nativ;

import dev.lstm4j.Backend;
import dev.lstm4j.DType;
import dev.lstm4j.Device;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmState;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import dev.lstm4j.TestSupport;
import dev.lstm4j.spi.LstmEngine;
import java.lang.management.ManagementFactory;
import java.util.Random;

/**
 * A measurement, not a test (the JIT decides what it allocates): bytes allocated per single-step
 * forward at B=1, H=32 on NATIVE, after warm-up, (1) on the engine (NativeLstmEngine's staging loan)
 * and (2) through {@link Lstm#forwardInto}. Run with the test class path; prints three rounds each.
 */
public final class StagingAllocationProbe {
    private StagingAllocationProbe() {}

    public static void main(String[] args) throws Exception {
        final int calls = 200_000;
        LstmConfig config = LstmConfig.builder(16, 32).build();
        StateDict weights = TestSupport.randomWeights(config.parameterShapes(), 32, DType.FLOAT32, new Random(1));
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().getId();
        Tensor x = TestSupport.random(new int[] {1, 1, 16}, DType.FLOAT32, new Random(2), 1.0);
        Tensor h0 = Tensor.zeros(DType.FLOAT32, 1, 1, 32);
        Tensor c0 = Tensor.zeros(DType.FLOAT32, 1, 1, 32);
        Tensor out = Tensor.zeros(DType.FLOAT32, 1, 1, 32);
        Tensor hN = Tensor.zeros(DType.FLOAT32, 1, 1, 32);
        Tensor cN = Tensor.zeros(DType.FLOAT32, 1, 1, 32);
        try (LstmEngine engine = new NativeEngineProvider().createLstm(config, weights, Device.cpu())) {
            for (int round = 0; round < 3; round++) {
                long before = mx.getThreadAllocatedBytes(tid);
                for (int i = 0; i < calls; i++) {
                    engine.forward(x, 1, 1, false, h0, c0, out, hN, cN);
                }
                System.out.printf("engine forward, round %d: %.2f bytes/call%n", round,
                        (mx.getThreadAllocatedBytes(tid) - before) / (double) calls);
            }
        }
        try (Lstm lstm = Lstm.create(config, weights, Backend.NATIVE, Device.cpu())) {
            LstmState state = lstm.newState(1);
            for (int round = 0; round < 3; round++) {
                long before = mx.getThreadAllocatedBytes(tid);
                for (int i = 0; i < calls; i++) {
                    lstm.forwardInto(x, state, out);
                }
                System.out.printf("Lstm.forwardInto, round %d: %.2f bytes/call%n", round,
                        (mx.getThreadAllocatedBytes(tid) - before) / (double) calls);
            }
        }
    }
}
