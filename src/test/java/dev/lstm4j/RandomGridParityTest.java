package dev.lstm4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A seeded grid of every combination of layers 1-3, bidirectional, proj_size, bias, batch_first,
 * unbatched input and (h0, c0), in float32 and float64: NATIVE and JAVA against LIBTORCH.
 */
class RandomGridParityTest {
    private static final double[] WORST = new double[4];

    static Stream<Arguments> grid() {
        List<Arguments> args = new ArrayList<>();
        for (int layers = 1; layers <= 3; layers++) {
            for (int bits = 0; bits < 64; bits++) {
                for (DType dtype : DType.values()) {
                    args.add(Arguments.of(layers, (bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0, (bits & 8) != 0,
                            (bits & 16) != 0, (bits & 32) != 0, dtype));
                }
            }
        }
        return args.stream();
    }

    @ParameterizedTest(name = "layers={0} bidir={1} proj={2} bias={3} batch_first={4} unbatched={5} hx={6} {7}")
    @MethodSource("grid")
    void nativeAndJavaMatchLibTorch(int layers, boolean bidir, boolean proj, boolean bias, boolean batchFirst,
            boolean unbatched, boolean hx, DType dtype) {
        long seed = 1000L * layers + (bidir ? 1 : 0) + (proj ? 2 : 0) + (bias ? 4 : 0) + (batchFirst ? 8 : 0)
                + (unbatched ? 16 : 0) + (hx ? 32 : 0) + (dtype == DType.FLOAT64 ? 64 : 0);
        Random rnd = new Random(seed);
        int inputSize = 5;
        int hidden = 8;
        int seqLen = 6;
        int batch = 3;
        LstmConfig config = LstmConfig.builder(inputSize, hidden).numLayers(layers).bidirectional(bidir)
                .projSize(proj ? 3 : 0).bias(bias).batchFirst(batchFirst).dtype(dtype).build();
        StateDict weights = TestSupport.randomWeights(config.parameterShapes(), hidden, dtype, rnd);
        int[] inShape = unbatched ? new int[] {seqLen, inputSize}
                : batchFirst ? new int[] {batch, seqLen, inputSize} : new int[] {seqLen, batch, inputSize};
        Tensor input = TestSupport.random(inShape, dtype, rnd, 1.0);
        int states = config.numDirections() * layers;
        Tensor h0 = null;
        Tensor c0 = null;
        if (hx) {
            h0 = TestSupport.random(unbatched ? new int[] {states, config.realHiddenSize()}
                    : new int[] {states, batch, config.realHiddenSize()}, dtype, rnd, 1.0);
            c0 = TestSupport.random(unbatched ? new int[] {states, hidden} : new int[] {states, batch, hidden}, dtype,
                    rnd, 1.0);
        }
        LstmOutput b;
        try (Lstm ref = Lstm.create(config, weights, Backend.LIBTORCH, Device.cpu())) {
            b = ref.forward(input, h0, c0);
        }
        for (Backend backend : new Backend[] {Backend.NATIVE, Backend.JAVA}) {
            LstmOutput a;
            try (Lstm lstm = Lstm.create(config, weights, backend, Device.cpu())) {
                a = lstm.forward(input, h0, c0);
            }
            check(backend, a, b, config, unbatched, hx, dtype);
        }
    }

    /**
     * Models wide enough that the NATIVE and JAVA engines split the input GEMM and every step over
     * their thread teams (uneven unit counts included), against LIBTORCH; then the same model called
     * from four threads at once, where all but one caller run their steps alone, gives the same bits.
     */
    @ParameterizedTest(name = "B={0} I={1} H={2} layers={3} bidir={4} proj={5} {6}")
    @org.junit.jupiter.params.provider.CsvSource({"1,256,256,1,false,0,FLOAT32", "1,256,256,1,true,0,FLOAT64",
            "2,64,200,2,true,96,FLOAT32", "5,40,264,1,false,0,FLOAT32", "3,48,192,2,false,128,FLOAT64",
            // B >= 32 with small weights: NATIVE computes each step's input projection in the step.
            "40,24,48,2,true,0,FLOAT32", "33,16,40,3,false,24,FLOAT32", "64,32,64,1,true,0,FLOAT64"})
    void wideModelsSplitOverThreads(int batch, int inputSize, int hidden, int layers, boolean bidir, int proj,
            DType dtype) throws Exception {
        Random rnd = new Random(batch * 7919L + hidden);
        LstmConfig config = LstmConfig.builder(inputSize, hidden).numLayers(layers).bidirectional(bidir)
                .projSize(proj).batchFirst(true).dtype(dtype).build();
        StateDict weights = TestSupport.randomWeights(config.parameterShapes(), hidden, dtype, rnd);
        int seqLen = 5;
        int states = config.numDirections() * layers;
        Tensor input = TestSupport.random(new int[] {batch, seqLen, inputSize}, dtype, rnd, 1.0);
        Tensor h0 = TestSupport.random(new int[] {states, batch, config.realHiddenSize()}, dtype, rnd, 1.0);
        Tensor c0 = TestSupport.random(new int[] {states, batch, hidden}, dtype, rnd, 1.0);
        LstmOutput b;
        try (Lstm ref = Lstm.create(config, weights, Backend.LIBTORCH, Device.cpu())) {
            b = ref.forward(input, h0, c0);
        }
        for (Backend backend : new Backend[] {Backend.NATIVE, Backend.JAVA}) {
            try (Lstm lstm = Lstm.create(config, weights, backend, Device.cpu())) {
                LstmOutput a = lstm.forward(input, h0, c0);
                check(backend, a, b, config, false, true, dtype);
                java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
                try {
                    List<java.util.concurrent.Future<LstmOutput>> runs = new ArrayList<>();
                    for (int i = 0; i < 8; i++) {
                        runs.add(pool.submit(() -> lstm.forward(input, h0, c0)));
                    }
                    for (java.util.concurrent.Future<LstmOutput> run : runs) {
                        LstmOutput c = run.get();
                        assertTrue(c.output().maxAbsDiff(a.output()) == 0 && c.hN().maxAbsDiff(a.hN()) == 0
                                && c.cN().maxAbsDiff(a.cN()) == 0, backend + ": a concurrent call differs from the first");
                    }
                } finally {
                    pool.shutdown();
                }
            }
        }
    }

    static Stream<Arguments> packedGrid() {
        List<Arguments> args = new ArrayList<>();
        for (int layers = 1; layers <= 2; layers++) {
            for (int bits = 0; bits < 16; bits++) {
                for (DType dtype : DType.values()) {
                    args.add(Arguments.of(layers, (bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0, (bits & 8) != 0,
                            dtype, 8));
                }
            }
        }
        // Wide enough for the thread teams to split every step.
        args.add(Arguments.of(2, true, false, true, true, DType.FLOAT32, 256));
        args.add(Arguments.of(1, false, true, false, true, DType.FLOAT64, 200));
        return args.stream();
    }

    /**
     * A large variable-length batch (B = 40: NATIVE computes each step's input projection within the
     * step, with sequences dropping out of the GEMMs), both directions, two layers, (h0, c0) given.
     */
    @ParameterizedTest(name = "packed B=40 {0}")
    @org.junit.jupiter.params.provider.EnumSource(DType.class)
    void largePackedBatchMatchesLibTorch(DType dtype) {
        Random rnd = new Random(4040);
        int batch = 40;
        int seqLen = 9;
        LstmConfig config = LstmConfig.builder(12, 32).numLayers(2).bidirectional(true).batchFirst(true)
                .dtype(dtype).build();
        StateDict weights = TestSupport.randomWeights(config.parameterShapes(), 32, dtype, rnd);
        Tensor input = TestSupport.random(new int[] {batch, seqLen, 12}, dtype, rnd, 1.0);
        int[] lengths = new int[batch];
        for (int b = 0; b < batch; b++) {
            lengths[b] = b % 7 == 0 ? seqLen : 1 + rnd.nextInt(seqLen);
        }
        Tensor h0 = TestSupport.random(new int[] {4, batch, 32}, dtype, rnd, 1.0);
        Tensor c0 = TestSupport.random(new int[] {4, batch, 32}, dtype, rnd, 1.0);
        LstmOutput ref;
        try (Lstm lstm = Lstm.create(config, weights, Backend.LIBTORCH, Device.cpu())) {
            ref = lstm.forward(input, lengths, h0, c0);
        }
        for (Backend backend : new Backend[] {Backend.NATIVE, Backend.JAVA}) {
            try (Lstm lstm = Lstm.create(config, weights, backend, Device.cpu())) {
                check(backend, lstm.forward(input, lengths, h0, c0), ref, config, false, true, dtype);
            }
        }
    }

    /**
     * Variable-length batches (random lengths, ties and full-length sequences included) on NATIVE and
     * JAVA against LIBTORCH's PackedSequence LSTM; and one sequence of the batch run alone over its
     * length gives the same rows.
     */
    @ParameterizedTest(name = "packed layers={0} bidir={1} proj={2} batch_first={3} hx={4} {5} hidden={6}")
    @MethodSource("packedGrid")
    void packedBatchesMatchLibTorch(int layers, boolean bidir, boolean proj, boolean batchFirst, boolean hx,
            DType dtype, int hidden) {
        Random rnd = new Random(77L * layers + (bidir ? 1 : 0) + (proj ? 2 : 0) + (batchFirst ? 4 : 0) + (hx ? 8 : 0)
                + (dtype == DType.FLOAT64 ? 16 : 0));
        int inputSize = 5;
        int seqLen = 7;
        int batch = 6;
        LstmConfig config = LstmConfig.builder(inputSize, hidden).numLayers(layers).bidirectional(bidir)
                .projSize(proj ? 3 : 0).batchFirst(batchFirst).dtype(dtype).build();
        StateDict weights = TestSupport.randomWeights(config.parameterShapes(), hidden, dtype, rnd);
        Tensor input = TestSupport.random(batchFirst ? new int[] {batch, seqLen, inputSize}
                : new int[] {seqLen, batch, inputSize}, dtype, rnd, 1.0);
        int[] lengths = {3, seqLen, 1, 3, 6, seqLen};
        int states = config.numDirections() * layers;
        Tensor h0 = hx ? TestSupport.random(new int[] {states, batch, config.realHiddenSize()}, dtype, rnd, 1.0) : null;
        Tensor c0 = hx ? TestSupport.random(new int[] {states, batch, hidden}, dtype, rnd, 1.0) : null;
        LstmOutput ref;
        try (Lstm lstm = Lstm.create(config, weights, Backend.LIBTORCH, Device.cpu())) {
            ref = lstm.forward(input, lengths, h0, c0);
        }
        for (Backend backend : new Backend[] {Backend.NATIVE, Backend.JAVA}) {
            try (Lstm lstm = Lstm.create(config, weights, backend, Device.cpu())) {
                check(backend, lstm.forward(input, lengths, h0, c0), ref, config, false, hx, dtype);
            }
        }
        // Sequence 4 (length 6) alone, its padding cut off: the same output rows and final state.
        int b = 4;
        int len = lengths[b];
        Tensor alone = Tensor.zeros(dtype, batchFirst ? new int[] {1, len, inputSize} : new int[] {len, 1, inputSize});
        for (int t = 0; t < len; t++) {
            for (int i = 0; i < inputSize; i++) {
                int src = (batchFirst ? b * seqLen + t : t * batch + b) * inputSize + i;
                set(alone, t * inputSize + i, input.getDouble(src));
            }
        }
        Tensor h0b = hx ? slice(h0, b, batch) : null;
        Tensor c0b = hx ? slice(c0, b, batch) : null;
        try (Lstm lstm = Lstm.create(config, weights, Backend.JAVA, Device.cpu())) {
            LstmOutput one = lstm.forward(alone, h0b, c0b);
            int f = config.numDirections() * config.realHiddenSize();
            double worst = 0;
            for (int t = 0; t < seqLen; t++) {
                for (int k = 0; k < f; k++) {
                    double got = ref.output().getDouble((batchFirst ? b * seqLen + t : t * batch + b) * f + k);
                    double want = t < len ? one.output().getDouble(t * f + k) : 0.0;
                    worst = Math.max(worst, Math.abs(got - want));
                }
            }
            double tol = dtype == DType.FLOAT64 ? 1e-12 : hidden > 32 ? 1e-5 : 2e-6;
            assertTrue(worst <= tol, "sequence alone vs packed: " + worst);
            assertTrue(slice(ref.hN(), b, batch).maxAbsDiff(one.hN()) <= tol);
        }
    }

    private static void set(Tensor t, int i, double v) {
        if (t.dtype() == DType.FLOAT32) {
            t.floatData()[i] = (float) v;
        } else {
            t.doubleData()[i] = v;
        }
    }

    /** Batch element b of a (S, B, F) state, as (S, 1, F). */
    private static Tensor slice(Tensor s, int b, int batch) {
        int states = s.size(0);
        int f = s.size(2);
        Tensor out = Tensor.zeros(s.dtype(), states, 1, f);
        for (int k = 0; k < states; k++) {
            for (int i = 0; i < f; i++) {
                set(out, k * f + i, s.getDouble((k * batch + b) * f + i));
            }
        }
        return out;
    }

    private static void check(Backend backend, LstmOutput a, LstmOutput b, LstmConfig config, boolean unbatched,
            boolean hx, DType dtype) {
        assertArrayEquals(b.output().shape(), a.output().shape(), "output shape");
        assertArrayEquals(b.hN().shape(), a.hN().shape(), "h_n shape");
        assertArrayEquals(b.cN().shape(), a.cN().shape(), "c_n shape");
        double err = Math.max(a.output().maxAbsDiff(b.output()), Math.max(a.hN().maxAbsDiff(b.hN()),
                a.cN().maxAbsDiff(b.cN())));
        // Sums over up to 256 products: a float32 result can be a few ulps of its magnitude off.
        double tol = dtype == DType.FLOAT64 ? 1e-12 : config.hiddenSize() > 32 ? 1e-5 : 2e-6;
        synchronized (WORST) {
            int slot = (backend == Backend.JAVA ? 2 : 0) + (dtype == DType.FLOAT64 ? 1 : 0);
            WORST[slot] = Math.max(WORST[slot], err);
        }
        assertTrue(err <= tol, config + (unbatched ? " unbatched" : "") + (hx ? " with (h0, c0)" : "")
                + ": " + backend + " vs LIBTORCH max_abs_err " + err + " > " + tol);
    }

    @AfterAll
    static void report() {
        System.out.printf("random grid, NATIVE vs LIBTORCH: worst float32 %.3e, worst float64 %.3e%n", WORST[0],
                WORST[1]);
        System.out.printf("random grid, JAVA vs LIBTORCH: worst float32 %.3e, worst float64 %.3e%n", WORST[2],
                WORST[3]);
    }
}
