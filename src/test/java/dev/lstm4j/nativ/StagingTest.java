package dev.lstm4j.nativ;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.lstm4j.Backend;
import dev.lstm4j.DType;
import dev.lstm4j.Device;
import dev.lstm4j.Lstm;
import dev.lstm4j.LstmConfig;
import dev.lstm4j.LstmOutput;
import dev.lstm4j.StateDict;
import dev.lstm4j.Tensor;
import dev.lstm4j.TestSupport;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * NATIVE passes large inputs and outputs through native staging buffers that it keeps between calls
 * (small ones go as arrays): one model called with growing, shrinking and concurrent inputs on both
 * paths must match LIBTORCH every time, and concurrent calls must give the bits of a lone call.
 */
class StagingTest {
    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void stagedCallsMatchLibTorch(DType dtype) throws Exception {
        Random rnd = new Random(dtype.ordinal() + 99);
        LstmConfig config = LstmConfig.builder(24, 40).numLayers(2).bidirectional(true).batchFirst(true)
                .dtype(dtype).build();
        StateDict weights = TestSupport.randomWeights(config.parameterShapes(), 40, dtype, rnd);
        // Batch sizes whose input + output elements are below, above, far above and again above the
        // staging threshold (65,536), so that the buffers are created, grown and reused.
        int[] batches = {2, 40, 96, 48, 1};
        double tol = dtype == DType.FLOAT64 ? 1e-12 : 1e-5;
        try (Lstm ref = Lstm.create(config, weights, Backend.LIBTORCH, Device.cpu());
                Lstm lstm = Lstm.create(config, weights, Backend.NATIVE, Device.cpu())) {
            for (int batch : batches) {
                Tensor x = TestSupport.random(new int[] {batch, 20, 24}, dtype, rnd, 1.0);
                Tensor h0 = TestSupport.random(new int[] {4, batch, 40}, dtype, rnd, 1.0);
                Tensor c0 = TestSupport.random(new int[] {4, batch, 40}, dtype, rnd, 1.0);
                LstmOutput want = ref.forward(x, h0, c0);
                LstmOutput got = lstm.forward(x, h0, c0);
                double diff = Math.max(got.output().maxAbsDiff(want.output()),
                        Math.max(got.hN().maxAbsDiff(want.hN()), got.cN().maxAbsDiff(want.cN())));
                assertTrue(diff <= tol, "B=" + batch + ": differs from LIBTORCH by " + diff);
            }
            Tensor x = TestSupport.random(new int[] {64, 20, 24}, dtype, rnd, 1.0);
            LstmOutput alone = lstm.forward(x);
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<LstmOutput>> runs = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    runs.add(pool.submit(() -> lstm.forward(x)));
                }
                for (Future<LstmOutput> run : runs) {
                    LstmOutput c = run.get();
                    assertEquals(0.0, c.output().maxAbsDiff(alone.output()), "a concurrent call differs");
                    assertEquals(0.0, c.hN().maxAbsDiff(alone.hN()), "a concurrent call differs");
                }
            } finally {
                pool.shutdown();
            }
        }
    }
}
