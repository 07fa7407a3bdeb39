package dev.lstm4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Thread control: per-model thread counts give the same bits, threads=1 stays on the caller, and
 * live models share the process-wide teams instead of owning threads (fresh JVMs: {@link ThreadsProbe}).
 */
class ThreadsTest {
    private static List<String> probe(List<String> env, String mode) throws Exception {
        List<String> cmd = new ArrayList<>();
        if (!env.isEmpty()) {
            cmd.add("env");
            cmd.addAll(env);
        }
        cmd.addAll(ForkedJvm.command(List.of("-Xss4m", "--add-modules", "jdk.incubator.vector"), ThreadsProbe.class,
                mode));
        ForkedJvm.Result r = ForkedJvm.run(cmd, null, 300);
        System.out.println(r.out());
        assertEquals(0, r.code(), r.out());
        return r.out().lines().toList();
    }

    @Test
    void threeHundredLiveModelsKeepTheThreadCountBounded() throws Exception {
        assertTrue(probe(List.of(), "many").contains("OK"));
    }

    @Test
    void oneThreadRunsOnTheCallerOnly() throws Exception {
        assertTrue(probe(List.of(), "caller").contains("OK"));
    }

    @Test
    void defaultHonoursOmpNumThreadsThenTheProperty() throws Exception {
        assertTrue(probe(List.of("OMP_NUM_THREADS=3"), "default").contains("defaultThreads=3"));
        assertTrue(probe(List.of("OMP_NUM_THREADS=5,2"), "default").contains("defaultThreads=5"));
        // Malformed: ignored, as OpenMP ignores it.
        assertTrue(probe(List.of("OMP_NUM_THREADS=lots"), "default")
                .contains("defaultThreads=" + Runtime.getRuntime().availableProcessors()));
    }

    @Test
    void propertyAndBuilder() {
        String old = System.getProperty(ModelOptions.THREADS_PROPERTY);
        try {
            System.setProperty(ModelOptions.THREADS_PROPERTY, "7");
            assertEquals(7, ModelOptions.defaultThreads());
            assertEquals(7, ModelOptions.defaults().threads());
            assertFalse(ModelOptions.defaults().threadsSet());
            assertEquals(2, ModelOptions.builder().threads(2).build().threads());
            System.setProperty(ModelOptions.THREADS_PROPERTY, "0");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, ModelOptions::defaultThreads);
            assertEquals("lstm4j.threads: expected a positive integer, got '0'", e.getMessage());
        } finally {
            if (old == null) {
                System.clearProperty(ModelOptions.THREADS_PROPERTY);
            } else {
                System.setProperty(ModelOptions.THREADS_PROPERTY, old);
            }
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ModelOptions.builder().threads(0));
        assertEquals("threads: expected a positive count, got 0", e.getMessage());
    }

    /**
     * Outputs, states, packed batches and cells with 1, 2, 3 and 4 threads are bit-identical (each
     * output element is one FMA chain in k order, whatever the split). The teams have at most the
     * machine's hardware threads: on a 2-core machine 3 and 4 run as 2.
     */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"NATIVE, FLOAT32", "NATIVE, FLOAT64", "JAVA, FLOAT32", "JAVA, FLOAT64"})
    void sameBitsForOneToFourThreads(Backend backend, DType dtype) {
        Random rnd = new Random(backend.ordinal() * 10 + dtype.ordinal());
        // H=256, B=5: above both engines' split thresholds; 2 layers, bidirectional, projected.
        LstmConfig config = LstmConfig.builder(24, 256).numLayers(2).bidirectional(true).projSize(96).dtype(dtype)
                .build();
        StateDict w = TestSupport.randomWeights(config.parameterShapes(), 256, dtype, rnd);
        Tensor x = TestSupport.random(new int[] {12, 5, 24}, dtype, rnd, 1.0);
        int[] lengths = {12, 3, 9, 12, 1};
        LstmCellConfig cellConfig = LstmCellConfig.builder(24, 256).dtype(dtype).build();
        StateDict cw = TestSupport.randomWeights(cellConfig.parameterShapes(), 256, dtype, rnd);
        Tensor cx = TestSupport.random(new int[] {5, 24}, dtype, rnd, 1.0);
        LstmOutput want = null;
        LstmOutput wantPacked = null;
        LstmCellOutput wantCell = null;
        for (int threads = 1; threads <= 4; threads++) {
            ModelOptions o = ModelOptions.builder().threads(threads).build();
            try (Lstm lstm = Lstm.create(config, w, backend, Device.cpu(), o);
                    LstmCell cell = LstmCell.create(cellConfig, cw, backend, Device.cpu(), o)) {
                assertEquals(threads, lstm.threads());
                assertEquals(threads, cell.threads());
                LstmOutput got = lstm.forward(x);
                LstmOutput gotPacked = lstm.forward(x, lengths, null, null);
                LstmCellOutput gotCell = cell.forward(cx);
                if (want == null) {
                    want = got;
                    wantPacked = gotPacked;
                    wantCell = gotCell;
                    continue;
                }
                String at = backend + " " + dtype + " threads=" + threads;
                assertBits(want.output(), got.output(), at + " output");
                assertBits(want.hN(), got.hN(), at + " h_n");
                assertBits(want.cN(), got.cN(), at + " c_n");
                assertBits(wantPacked.output(), gotPacked.output(), at + " packed output");
                assertBits(wantPacked.hN(), gotPacked.hN(), at + " packed h_n");
                assertBits(wantCell.h1(), gotCell.h1(), at + " cell h1");
                assertBits(wantCell.c1(), gotCell.c1(), at + " cell c1");
            }
        }
    }

    /**
     * Large batches are split by batch rows (each thread carries its rows through every step) where
     * small ones are split by hidden units: at B=40 two threads take 20 rows each. The row split must
     * give the bits of one thread, with packed lengths (rows dropping out at different steps, joining
     * late in the reverse direction), given states, projections, and the input projection computed
     * per step (fused, {@code fused=true}: small input weights) or for all steps before the loop.
     */
    @ParameterizedTest(name = "{0} {1} fused={2}")
    @CsvSource({"NATIVE, FLOAT32, true", "NATIVE, FLOAT32, false", "NATIVE, FLOAT64, true",
            "NATIVE, FLOAT64, false", "JAVA, FLOAT32, true", "JAVA, FLOAT32, false", "JAVA, FLOAT64, true",
            "JAVA, FLOAT64, false"})
    void rowSplitGivesTheBitsOfOneThread(Backend backend, DType dtype, boolean fused) {
        Random rnd = new Random(31L * backend.ordinal() + 7L * dtype.ordinal() + (fused ? 1 : 0));
        int batch = 40;
        LstmConfig config = fused
                ? LstmConfig.builder(24, 64).numLayers(2).projSize(48).dtype(dtype).build()
                : LstmConfig.builder(96, 256).numLayers(2).bidirectional(true).dtype(dtype).build();
        int layersDirs = config.numLayers() * (config.bidirectional() ? 2 : 1);
        int hOut = config.projSize() > 0 ? config.projSize() : config.hiddenSize();
        StateDict w = TestSupport.randomWeights(config.parameterShapes(), config.hiddenSize(), dtype, rnd);
        Tensor x = TestSupport.random(new int[] {9, batch, config.inputSize()}, dtype, rnd, 1.0);
        Tensor h0 = TestSupport.random(new int[] {layersDirs, batch, hOut}, dtype, rnd, 0.5);
        Tensor c0 = TestSupport.random(new int[] {layersDirs, batch, config.hiddenSize()}, dtype, rnd, 0.5);
        int[] lengths = new int[batch];
        for (int b = 0; b < batch; b++) {
            lengths[b] = 1 + rnd.nextInt(9);
        }
        LstmOutput[] want = new LstmOutput[3];
        for (int threads = 1; threads <= 2; threads++) {
            try (Lstm lstm = Lstm.create(config, w, backend, Device.cpu(),
                    ModelOptions.builder().threads(threads).build())) {
                LstmOutput[] got = {lstm.forward(x), lstm.forward(x, h0, c0), lstm.forward(x, lengths, h0, c0)};
                if (threads == 1) {
                    System.arraycopy(got, 0, want, 0, got.length);
                    continue;
                }
                String[] cases = {"zero state", "given state", "packed, given state"};
                for (int i = 0; i < got.length; i++) {
                    String at = backend + " " + dtype + " fused=" + fused + " " + cases[i] + " threads=2";
                    assertBits(want[i].output(), got[i].output(), at + " output");
                    assertBits(want[i].hN(), got[i].hN(), at + " h_n");
                    assertBits(want[i].cN(), got[i].cN(), at + " c_n");
                }
            }
        }
    }

    /**
     * A single step of a large batch splits by hidden units (no row split at T=1), and a step whose
     * weights exceed 1 MB per thread is cut into four parts per thread, claimed by whichever thread is
     * free: both must give the bits of one thread, as a stream pool's steps do (H=512, I=64: 4.7 MB of
     * float32 weights; B=40 and B=3; one step and several).
     */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"NATIVE, FLOAT32", "NATIVE, FLOAT64", "JAVA, FLOAT32", "JAVA, FLOAT64"})
    void singleStepsAndStreamedWeightsGiveTheBitsOfOneThread(Backend backend, DType dtype) {
        Random rnd = new Random(101L * backend.ordinal() + dtype.ordinal());
        LstmConfig config = LstmConfig.builder(64, 512).dtype(dtype).build();
        StateDict w = TestSupport.randomWeights(config.parameterShapes(), config.hiddenSize(), dtype, rnd);
        for (int[] shape : new int[][] {{1, 40}, {1, 3}, {4, 3}}) {
            Tensor x = TestSupport.random(new int[] {shape[0], shape[1], 64}, dtype, rnd, 1.0);
            Tensor h0 = TestSupport.random(new int[] {1, shape[1], 512}, dtype, rnd, 0.5);
            Tensor c0 = TestSupport.random(new int[] {1, shape[1], 512}, dtype, rnd, 0.5);
            LstmOutput want = null;
            for (int threads = 1; threads <= 2; threads++) {
                try (Lstm lstm = Lstm.create(config, w, backend, Device.cpu(),
                        ModelOptions.builder().threads(threads).build())) {
                    LstmOutput got = lstm.forward(x, h0, c0);
                    if (threads == 1) {
                        want = got;
                        continue;
                    }
                    String at = backend + " " + dtype + " T=" + shape[0] + " B=" + shape[1] + " threads=2";
                    assertBits(want.output(), got.output(), at + " output");
                    assertBits(want.hN(), got.hN(), at + " h_n");
                    assertBits(want.cN(), got.cN(), at + " c_n");
                }
            }
        }
    }

    private static void assertBits(Tensor want, Tensor got, String what) {
        if (want.dtype() == DType.FLOAT32) {
            assertArrayEquals(want.floatData(), got.floatData(), what); // compared by floatToIntBits: bits
        } else {
            assertArrayEquals(want.doubleData(), got.doubleData(), what);
        }
    }
}
