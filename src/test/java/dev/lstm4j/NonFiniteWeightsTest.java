package dev.lstm4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Issue 13 item 5: a NaN or an infinity in {@code weight_hh} reaches the results as in PyTorch even
 * without an initial state. PyTorch computes {@code W_hh h0} for a zero h0 and NaN * 0 = NaN; NATIVE
 * and JAVA skipped that product, so {@code forward(x)} was finite where PyTorch (and LIBTORCH) had
 * NaN, and differed from {@code forward(x, zeros, zeros)} on the same model. Every backend here:
 * {@code forward(x)} equals {@code forward(x, zeros, zeros)} (bit for bit, NaN where NaN), and NaN
 * stands exactly where LIBTORCH has it, the finite rest within rounding; padded, packed and LSTMCell,
 * and on each of NATIVE's CPU algorithms.
 */
class NonFiniteWeightsTest {
    private static final Backend[] BACKENDS = {Backend.LIBTORCH, Backend.NATIVE, Backend.JAVA};

    @ParameterizedTest(name = "{0} {1} layers={2} proj={3}")
    @CsvSource({"FLOAT32,NaN,1,0", "FLOAT32,Infinity,1,0", "FLOAT32,NaN,2,3", "FLOAT64,-Infinity,2,0",
        "FLOAT64,NaN,1,2"})
    void lstm(DType dtype, double bad, int layers, int proj) {
        Random rnd = new Random(17);
        LstmConfig config = LstmConfig.builder(4, 6).numLayers(layers).bidirectional(true).projSize(proj).dtype(dtype)
                .build();
        StateDict w = poisoned(config.parameterShapes(), 6, dtype, rnd, "weight_hh_l0", 7, bad);
        Tensor x = TestSupport.random(new int[] {5, 3, 4}, dtype, rnd, 1.0);
        int[] lengths = {3, 5, 2};
        Tensor h0 = Tensor.zeros(dtype, 2 * layers, 3, config.realHiddenSize());
        Tensor c0 = Tensor.zeros(dtype, 2 * layers, 3, 6);
        List<List<Tensor>> results = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (String run : new String[] {"LIBTORCH", "NATIVE", "JAVA", "NATIVE scan", "NATIVE device", "NATIVE onednn"}) {
            Backend b = Backend.valueOf(run.split(" ")[0]);
            String algorithm = run.contains(" ") ? run.split(" ")[1] : "auto";
            if (algorithm.equals("onednn") && (proj > 0 || dtype != DType.FLOAT32)) {
                continue; // oneDNN's layer runs float32 without projection only
            }
            String before = System.setProperty("lstm4j.native.cpuAlgorithm", algorithm);
            Lstm created;
            try {
                created = Lstm.create(config, w, b, Device.cpu());
            } finally {
                if (before == null) {
                    System.clearProperty("lstm4j.native.cpuAlgorithm");
                } else {
                    System.setProperty("lstm4j.native.cpuAlgorithm", before);
                }
            }
            names.add(run);
            try (Lstm lstm = created) {
                LstmOutput none = lstm.forward(x);
                LstmOutput zeros = lstm.forward(x, h0, c0);
                LstmOutput packedNone = lstm.forward(x, lengths, null, null);
                LstmOutput packedZeros = lstm.forward(x, lengths, h0, c0);
                List<Tensor> r = List.of(none.output(), none.hN(), none.cN(), packedNone.output(), packedNone.hN(),
                        packedNone.cN());
                List<Tensor> z = List.of(zeros.output(), zeros.hN(), zeros.cN(), packedZeros.output(),
                        packedZeros.hN(), packedZeros.cN());
                for (int i = 0; i < r.size(); i++) {
                    assertSame(run + " result " + i + ": forward without state vs with zeros", z.get(i), r.get(i), 0);
                }
                results.add(r);
            }
        }
        List<Tensor> torch = results.get(0);
        // The poisoned unit's NaN at step 0 of the forward direction reaches the output; the reverse
        // direction of layer 0 (its own, finite W_hh) stays finite in h_n.
        assertTrue(hasNaN(torch.get(0)), "PyTorch propagates the NaN");
        assertTrue(Double.isFinite(torch.get(1).getDouble(3 * config.realHiddenSize())), "reverse h_n is finite");
        double tol = dtype == DType.FLOAT64 ? 1e-12 : 5e-6;
        for (int k = 1; k < results.size(); k++) {
            for (int i = 0; i < torch.size(); i++) {
                assertSame(names.get(k) + " result " + i + " vs LIBTORCH", torch.get(i), results.get(k).get(i), tol);
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"FLOAT32,NaN", "FLOAT32,Infinity", "FLOAT64,NaN"})
    void lstmCell(DType dtype, double bad) {
        Random rnd = new Random(23);
        LstmCellConfig config = LstmCellConfig.builder(4, 6).dtype(dtype).build();
        StateDict w = poisoned(config.parameterShapes(), 6, dtype, rnd, "weight_hh", 13, bad);
        Tensor x = TestSupport.random(new int[] {3, 4}, dtype, rnd, 1.0);
        Tensor zeros = Tensor.zeros(dtype, 3, 6);
        List<LstmCellOutput> results = new ArrayList<>();
        for (Backend b : BACKENDS) {
            try (LstmCell cell = LstmCell.create(config, w, b, Device.cpu())) {
                LstmCellOutput none = cell.forward(x);
                LstmCellOutput z = cell.forward(x, zeros, zeros);
                assertSame(b + " h1: without state vs with zeros", z.h1(), none.h1(), 0);
                assertSame(b + " c1: without state vs with zeros", z.c1(), none.c1(), 0);
                results.add(none);
            }
        }
        // Element 13 of weight_hh (24, 6) is row 2 (gate i, unit 2): NaN there in every batch row, finite elsewhere.
        Tensor h1 = results.get(0).h1();
        for (int b = 0; b < 3; b++) {
            for (int u = 0; u < 6; u++) {
                assertEquals(u == 2, Double.isNaN(h1.getDouble(b * 6 + u)), "LIBTORCH h1[" + b + ", " + u + "]");
            }
        }
        double tol = dtype == DType.FLOAT64 ? 1e-12 : 5e-6;
        for (int k = 1; k < BACKENDS.length; k++) {
            assertSame(BACKENDS[k] + " h1 vs LIBTORCH", h1, results.get(k).h1(), tol);
            assertSame(BACKENDS[k] + " c1 vs LIBTORCH", results.get(0).c1(), results.get(k).c1(), tol);
        }
    }

    /** Random weights with {@code bad} at element {@code index} of {@code name}. */
    private static StateDict poisoned(java.util.Map<String, int[]> shapes, int hidden, DType dtype, Random rnd,
            String name, int index, double bad) {
        StateDict w = TestSupport.randomWeights(shapes, hidden, dtype, rnd);
        Tensor t = w.get(name);
        if (dtype == DType.FLOAT32) {
            t.floatData()[index] = (float) bad;
        } else {
            t.doubleData()[index] = bad;
        }
        return w;
    }

    private static boolean hasNaN(Tensor t) {
        for (int i = 0; i < t.numel(); i++) {
            if (Double.isNaN(t.getDouble(i))) {
                return true;
            }
        }
        return false;
    }

    /** NaN exactly where {@code want} has NaN; elsewhere within {@code tol} (0: equal values). */
    private static void assertSame(String what, Tensor want, Tensor got, double tol) {
        assertEquals(java.util.Arrays.toString(want.shape()), java.util.Arrays.toString(got.shape()), what + " shape");
        Function<Integer, String> at = i -> what + "[" + i + "]: " + got.getDouble(i) + " vs " + want.getDouble(i);
        for (int i = 0; i < want.numel(); i++) {
            double a = want.getDouble(i);
            double b = got.getDouble(i);
            assertEquals(Double.isNaN(a), Double.isNaN(b), at.apply(i));
            if (!Double.isNaN(a)) {
                assertTrue(a == b || Math.abs(a - b) <= tol, at.apply(i));
            }
        }
    }
}
