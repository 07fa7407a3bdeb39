package dev.lstm4j;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/** Shared helpers of the tests: golden case files and seeded random weights. */
public final class TestSupport {
    private TestSupport() {
    }

    /** The golden case folder among the test resources. */
    public static Path goldenDir() {
        try {
            return Path.of(TestSupport.class.getResource("/golden").toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The golden cases, by name: the folder must hold exactly these (and its README.md), so a case that
     * goes missing, or one added without being listed here, fails every test that runs the cases.
     */
    public static final List<String> GOLDEN_CASES = List.of("bilstm_l1_b2_t32_i64_h128_hx", "bilstm_l2_b8_t32_i64_h128",
            "bilstm_l3_b2_t32_i64_h128_hx", "cell_b3_i5_h7_hx", "cell_b8_i64_h128", "cell_nobias_b4_i6_h9",
            "cell_unbatched_i4_h6", "f64_proj_bilstm_l2_b3_t12_i7_h11_p5_hx", "lstm_l1_b2_t32_i64_h128_hx",
            "lstm_l2_b8_t32_i64_h128", "lstm_l3_b2_t32_i64_h128_hx", "nobias_bilstm_l2_b3_t6_i5_h8",
            "packed_bilstm_l2_b5_t12_i6_h10", "packed_l1_b4_t9_i5_h7_hx", "packed_proj_bilstm_l2_b3_t8_i4_h9_p5_hx_seqfirst",
            "proj_bilstm_l2_b4_t10_i8_h16_p6_hx", "proj_l1_b2_t3_i4_h5_p3_hx", "saturated_l1_b2_t500_i8_h32",
            "seqfirst_l2_b5_t7_i3_h9_hx", "tiny_l1_b1_t1_i1_h1_hx", "unbatched_proj_bilstm_l2_t9_i6_h10_p4_hx");

    /**
     * Every golden case file, packed ones included, sorted.
     *
     * @throws IllegalStateException if the folder does not hold exactly {@link #GOLDEN_CASES}
     */
    public static List<Path> goldenFiles() throws IOException {
        List<String> names;
        try (Stream<Path> s = Files.list(goldenDir())) {
            names = s.map(p -> p.getFileName().toString()).filter(n -> !n.equals("README.md")).sorted()
                    .collect(Collectors.toList());
        }
        List<String> expected = GOLDEN_CASES.stream().map(n -> n + ".safetensors").sorted().collect(Collectors.toList());
        if (!names.equals(expected)) {
            throw new IllegalStateException("the golden folder " + goldenDir() + " holds " + names + ", expected "
                    + expected);
        }
        return names.stream().map(goldenDir()::resolve).collect(Collectors.toList());
    }

    /** Uniform(-k, k) weights with k = 1/sqrt(hidden_size), as PyTorch initialises them. */
    public static StateDict randomWeights(java.util.Map<String, int[]> shapes, int hiddenSize, DType dtype, Random rnd) {
        java.util.Map<String, Tensor> m = new java.util.LinkedHashMap<>();
        double k = 1.0 / Math.sqrt(hiddenSize);
        shapes.forEach((name, shape) -> m.put(name, random(shape, dtype, rnd, k)));
        return StateDict.of(m);
    }

    /** A tensor of Uniform(-scale, scale) values. */
    public static Tensor random(int[] shape, DType dtype, Random rnd, double scale) {
        Tensor t = Tensor.zeros(dtype, shape);
        for (int i = 0; i < t.numel(); i++) {
            double v = (rnd.nextDouble() * 2 - 1) * scale;
            if (dtype == DType.FLOAT32) {
                t.floatData()[i] = (float) v;
            } else {
                t.doubleData()[i] = v;
            }
        }
        return t;
    }
}
