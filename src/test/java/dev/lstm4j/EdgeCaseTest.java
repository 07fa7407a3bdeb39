package dev.lstm4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Non-finite inputs and saturation behave as in PyTorch; one model serves eight threads with the same bits. */
class EdgeCaseTest {
    private static final double[] SPECIAL = {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 1e30,
        -1e30, 50, -50};

    /** NaN where PyTorch has NaN, infinities where it has them, the rest within rounding. */
    @ParameterizedTest
    @EnumSource(DType.class)
    void nonFiniteInputsPropagateAsInPyTorch(DType dtype) {
        Random rnd = new Random(5);
        LstmConfig config = LstmConfig.builder(4, 6).numLayers(2).bidirectional(true).dtype(dtype).build();
        StateDict w = TestSupport.randomWeights(config.parameterShapes(), 6, dtype, rnd);
        Tensor x = TestSupport.random(new int[] {7, 3, 4}, dtype, rnd, 1.0);
        // Sequence 0 gets a NaN at step 2, sequence 1 an infinity at step 4, sequence 2 huge values.
        set(x, (2 * 3) * 4 + 1, Double.NaN);
        set(x, (4 * 3 + 1) * 4 + 2, Double.POSITIVE_INFINITY);
        for (int t = 0; t < 7; t++) {
            set(x, (t * 3 + 2) * 4, SPECIAL[3 + t % 4]);
        }
        LstmOutput ref;
        try (Lstm lstm = Lstm.create(config, w, Backend.LIBTORCH, Device.cpu())) {
            ref = lstm.forward(x);
        }
        assertTrue(Double.isNaN(ref.output().getDouble(0 + (2 * 3) * 12)), "PyTorch propagates the NaN");
        for (Backend b : new Backend[] {Backend.NATIVE, Backend.JAVA}) {
            try (Lstm lstm = Lstm.create(config, w, b, Device.cpu())) {
                LstmOutput out = lstm.forward(x);
                assertSame(b + " output", ref.output(), out.output(), dtype);
                assertSame(b + " h_n", ref.hN(), out.hN(), dtype);
                assertSame(b + " c_n", ref.cN(), out.cN(), dtype);
            }
        }
    }

    private static void assertSame(String what, Tensor want, Tensor got, DType dtype) {
        assertEquals(want.dtype(), got.dtype(), what + " dtype");
        double tol = dtype == DType.FLOAT64 ? 1e-12 : 2e-6;
        int finite = 0;
        for (int i = 0; i < want.numel(); i++) {
            double a = want.getDouble(i);
            double b = got.getDouble(i);
            if (Double.isNaN(a) || Double.isInfinite(a)) {
                assertEquals(Double.valueOf(a), Double.valueOf(b), what + "[" + i + "]");
            } else {
                finite++;
                assertTrue(Math.abs(a - b) <= tol, what + "[" + i + "]: " + b + " vs PyTorch " + a);
            }
        }
        assertTrue(finite > 0, what + ": nothing finite left to compare");
    }

    private static void set(Tensor t, int i, double v) {
        if (t.dtype() == DType.FLOAT32) {
            t.floatData()[i] = (float) v;
        } else {
            t.doubleData()[i] = v;
        }
    }

    /**
     * Eight threads share one model (small and wide, padded and packed): every result equals, bit for
     * bit, the one computed alone before.
     */
    @ParameterizedTest
    @EnumSource(Backend.class)
    void eightThreadsGetTheSequentialBits(Backend backend) throws Exception {
        for (int hidden : new int[] {8, 256}) {
            Random rnd = new Random(hidden);
            LstmConfig config = LstmConfig.builder(16, hidden).numLayers(2).batchFirst(true).build();
            StateDict w = TestSupport.randomWeights(config.parameterShapes(), hidden, DType.FLOAT32, rnd);
            Tensor[] inputs = new Tensor[8];
            for (int i = 0; i < inputs.length; i++) {
                inputs[i] = TestSupport.random(new int[] {1 + i % 3, 6, 16}, DType.FLOAT32, rnd, 1.0);
            }
            try (Lstm lstm = Lstm.create(config, w, backend, Device.cpu())) {
                LstmOutput[] alone = new LstmOutput[inputs.length];
                for (int i = 0; i < inputs.length; i++) {
                    alone[i] = i % 2 == 0 ? lstm.forward(inputs[i]) : lstm.forward(inputs[i], lengths(inputs[i]), null, null);
                }
                ExecutorService pool = Executors.newFixedThreadPool(8);
                try {
                    List<Future<Boolean>> runs = new ArrayList<>();
                    for (int rep = 0; rep < 4; rep++) {
                        for (int i = 0; i < inputs.length; i++) {
                            int k = i;
                            runs.add(pool.submit(() -> {
                                LstmOutput o = k % 2 == 0 ? lstm.forward(inputs[k])
                                        : lstm.forward(inputs[k], lengths(inputs[k]), null, null);
                                return o.output().maxAbsDiff(alone[k].output()) == 0
                                        && o.hN().maxAbsDiff(alone[k].hN()) == 0 && o.cN().maxAbsDiff(alone[k].cN()) == 0;
                            }));
                        }
                    }
                    for (Future<Boolean> f : runs) {
                        assertTrue(f.get(), backend + " hidden " + hidden + ": a concurrent call got other bits");
                    }
                } finally {
                    pool.shutdown();
                }
            }
        }
    }

    private static int[] lengths(Tensor batchFirst) {
        int[] l = new int[batchFirst.size(0)];
        for (int b = 0; b < l.length; b++) {
            l[b] = 6 - b;
        }
        return l;
    }
}
